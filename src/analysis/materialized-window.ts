// A window's net effect on a table whose rows foreign-key actions change: MariaDB does not log the
// rows InnoDB cascades, so the table's own changes miss them. Instead the table is materialized at
// both ends of the window on the recovery server (restore replays the actions, through the as-of
// cache) and the two states are compared by key.
import { connectMysql, qualified, type Connection } from '../core/mysql-conn.js';
import { rawRows } from '../core/catalog.js';
import type { MysqlUrl } from '../core/mysql-url.js';
import { UsageError } from '../core/errors.js';
import { formatQualifiedName, fromTableId, tableId } from '../core/table-name.js';
import type { Value } from '../log/record-types.js';
import type { TableRef } from '../log/table-history-reader.js';
import { comparePositions } from '../core/position.js';
import { cascadeDescendants, cascadeVictims } from '../replay/cascade-scope.js';
import { valuesKey } from '../replay/sql-values.js';
import { AsOfCache } from './as-of-cache.js';
import { WindowFolder } from './window-fold.js';
import type { Image } from './row-image.js';
import type { OpenLog, Window } from './log-window.js';

/** The definitions and schema statements from the window's snapshot to its end. */
function schemaStatements(log: OpenLog, w: Window): { sql: string; defaultDb: string }[] {
  return [
    ...w.snapshot.begin.tables.map((t) => ({ sql: t.createSql, defaultDb: t.database })),
    ...log.meta.ddl.filter((d) => comparePositions(d.position, w.snapshot.position) > 0 && comparePositions(d.position, w.to.at) <= 0).map((d) => ({ sql: d.ddl.statement, defaultDb: d.ddl.defaultDatabase })),
  ];
}

/** Whether the table's rows are changed by referential actions somewhere up to the window's end. */
export function changedByCascades(log: OpenLog, table: TableRef, w: Window): boolean {
  return cascadeVictims(schemaStatements(log, w)).has(tableId(table.database, table.table));
}

/** The tables the table's deletes and key updates reach through referential actions, nearest first. */
export function cascadeReach(log: OpenLog, table: TableRef, w: Window): TableRef[] {
  return cascadeDescendants(schemaStatements(log, w), tableId(table.database, table.table)).map(fromTableId);
}

/** Binary strings and BIT come back as bytes; everything else as the server's text. */
function valueOf(raw: Buffer | null, binary: boolean): Value {
  if (raw === null) return { null: true };
  return binary ? { bytes: raw } : { text: raw.toString('utf8') };
}

async function readImages(conn: Connection, db: string, table: string, keyColumns: string[]): Promise<Map<string, { key: Value[]; img: Image }>> {
  const res = await rawRows(conn, `SELECT * FROM ${qualified(db, table)}`);
  const columns = res.columns.map((c) => c.name);
  const binary = res.columns.map((f) => f.type === 'BIT' || (['BLOB', 'STRING', 'VAR_STRING', 'GEOMETRY', 'TINY_BLOB', 'MEDIUM_BLOB', 'LONG_BLOB'].includes(f.type) && f.characterSet === 63));
  const idx = keyColumns.map((k) => columns.indexOf(k));
  const out = new Map<string, { key: Value[]; img: Image }>();
  for (const r of res.rows) {
    const values = r.map((raw, i) => valueOf(raw, binary[i]!));
    const key = idx.map((i) => values[i]!);
    out.set(valuesKey(key), { key, img: { columns, values } });
  }
  return out;
}

function sameImage(a: Image, b: Image): boolean {
  return a.columns.length === b.columns.length && a.columns.every((c, i) => c === b.columns[i] && valuesKey([a.values[i]!]) === valuesKey([b.values[i]!]));
}

/** The window's net effect, from the table materialized at both ends (keyed tables only). */
export async function materializedWindow(
  log: OpenLog,
  table: TableRef,
  w: Window,
  times: { from: number; to: number },
  keyColumns: string[] | null,
  ctx: { kafka: Parameters<AsOfCache['materialize']>[3]['kafka']; recovery: () => Promise<MysqlUrl> },
): Promise<WindowFolder> {
  const name = formatQualifiedName(table.database, table.table);
  if (!keyColumns) throw new UsageError(`${name} is changed by foreign-key actions and has no key the log knows of; compare two restores of it instead.`);
  const target = await ctx.recovery();
  const conn = await connectMysql(target, 'target');
  try {
    const cache = new AsOfCache(conn, 4 * 2 ** 30);
    await cache.open();
    const mctx = { kafka: ctx.kafka, sourceId: log.sourceId, target };
    const a = await cache.materialize(table, w.from, times.from, mctx);
    const b = await cache.materialize(table, w.to, times.to, mctx);
    const [adb, at] = splitInto(a.into);
    const [bdb, bt] = splitInto(b.into);
    const start = await readImages(conn, adb, at, keyColumns);
    const end = await readImages(conn, bdb, bt, keyColumns);
    const folder = new WindowFolder(keyColumns);
    for (const [k, s] of start) {
      const e = end.get(k);
      if (e && sameImage(s.img, e.img)) continue;
      folder.keyed.set(k, { key: s.key, keyColumns, start: s.img, end: e?.img ?? null, changes: 1 });
    }
    for (const [k, e] of end) if (!start.has(k)) folder.keyed.set(k, { key: e.key, keyColumns, start: null, end: e.img, changes: 1 });
    folder.changes = folder.keyed.size;
    return folder;
  } finally {
    await conn.end().catch(() => undefined);
  }
}

function splitInto(into: string): [string, string] {
  const i = into.indexOf('.');
  return [into.slice(0, i), into.slice(i + 1)];
}
