// Foreign key names are unique per database in InnoDB, and a copy keeps its table's named keys: a
// second incident on the same table (say a second DELETE FROM customers that cascades) would bring
// `fk_orders_customer` into the recovery database again and its RENAME would fail ("table already
// exists"). Before moving the copies in, a key whose name is taken there is renamed with the cut as
// suffix; a first copy keeps its names as the source had them. (Generated names, `<table>_ibfk_<n>`,
// follow the table's new name on their own.)
import { qid, qualified, type Connection } from '../core/mysql-conn.js';
import { rows } from '../core/catalog.js';
import type { Gtid } from '../core/gtid.js';

interface KeyRow {
  t: string;
  name: string;
  upd: string;
  del: string;
}

interface ColRow {
  col: string;
  refDb: string;
  refTable: string;
  refCol: string;
}

/** `fk_orders_customer__0_1_1234`, kept within 64 characters. */
export function keyNameAt(name: string, g: Gtid): string {
  const cut = `__${g.domain}_${g.serverId}_${g.seq}`;
  return `${name.slice(0, 64 - cut.length)}${cut}`;
}

/** Renames the keys of `tables` in `scratch` whose names `into` already holds. */
export async function makeKeyNamesUnique(db: Connection, scratch: string, into: string, tables: string[], g: Gtid): Promise<void> {
  const taken = await rows<{ name: string }>(db, 'SELECT LOWER(CONSTRAINT_NAME) AS name FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ?', [into]);
  const used = new Set(taken.map((r) => r.name));
  if (!used.size) return;
  const keys = await rows<KeyRow>(
    db,
    'SELECT TABLE_NAME AS t, CONSTRAINT_NAME AS name, UPDATE_RULE AS upd, DELETE_RULE AS del FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ?',
    [scratch],
  );
  const mine = new Set(tables);
  const clash = keys.filter((k) => mine.has(k.t) && used.has(k.name.toLowerCase()));
  if (!clash.length) return;
  // The rows are already checked: re-adding a key must not scan them again.
  await db.query('SET SESSION foreign_key_checks = 0');
  try {
    for (const k of clash) {
      const c = await rows<ColRow>(
        db,
        `SELECT COLUMN_NAME AS col, REFERENCED_TABLE_SCHEMA AS refDb, REFERENCED_TABLE_NAME AS refTable, REFERENCED_COLUMN_NAME AS refCol
           FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = ? ORDER BY ORDINAL_POSITION`,
        [scratch, k.t, k.name],
      );
      if (!c.length) continue;
      const rule = (what: string, r: string) => (r === 'RESTRICT' ? '' : ` ON ${what} ${r}`);
      await db.query(
        `ALTER TABLE ${qualified(scratch, k.t)} DROP FOREIGN KEY ${qid(k.name)}, ADD CONSTRAINT ${qid(keyNameAt(k.name, g))} FOREIGN KEY (${c.map((x) => qid(x.col)).join(', ')})
           REFERENCES ${qualified(c[0]!.refDb, c[0]!.refTable)} (${c.map((x) => qid(x.refCol)).join(', ')})${rule('DELETE', k.del)}${rule('UPDATE', k.upd)}`,
      );
    }
  } finally {
    await db.query('SET SESSION foreign_key_checks = 1');
  }
}
