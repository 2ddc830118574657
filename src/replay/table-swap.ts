// The end of a restore: the finished scratch tables move into place with one RENAME TABLE, so a
// multi-table restore appears at once (tables they replace are renamed aside and dropped with the
// scratch schemas). Also the refusal to overwrite without --replace.
import { qid, qualified, type Connection } from '../core/mysql-conn.js';
import { createTableStatement, returnsRows, rowCount, rows, schemaExists, tableExists } from '../core/catalog.js';
import { rewriteCreateTable } from '../schema/ddl-rewriter.js';
import { TargetExistsError } from '../core/errors.js';
import { formatQualifiedName, type QualifiedName } from '../core/table-name.js';

export interface RestoredTable {
  database: string;
  table: string;
  into: string;
  rows: number;
}

export interface SwapInput {
  tables: QualifiedName[];
  /** Scratch schema of a source database. */
  scratchFor: (db: string) => string;
  /** Destination database (default: each table's own). */
  intoDatabase?: string;
  /** The restore's tag: replaced tables are parked under it until the scratch schemas are dropped. */
  tag: string;
  /** Databases this restore created: a failure after this point drops them if empty. */
  createdDatabases: Set<string>;
}

export async function refuseExisting(conn: Connection, db: string, table: string, replace?: boolean): Promise<void> {
  if (replace) return;
  if (await tableExists(conn, db, table)) {
    throw new TargetExistsError(`target table ${formatQualifiedName(db, table)} already exists on the recovery server; pass --replace or choose --into-database.`);
  }
}

/**
 * Tables restored on their own whose foreign keys reference other tables: in scratch those point at
 * scratch tables (which the restore needed for the cascades), and would still point there once moved.
 * Each is recreated in scratch from its own definition with the references aimed where the source
 * meant them: a table of its own database in the destination database, another database's table in
 * that database. Its rows are copied over inside the server from a holding schema (`hold`, a scratch
 * schema: foreign key names are unique per database, so the old table must leave first).
 */
export async function pointReferencesAtTarget(conn: Connection, s: SwapInput & { hold: string; sourceFor: (scratchDb: string) => string | undefined }): Promise<void> {
  const rebuild: { db: string; table: string; sql: string }[] = [];
  for (const t of s.tables) {
    const db = s.scratchFor(t.database);
    const references = await returnsRows(
      conn,
      'SELECT 1 FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ? AND (UNIQUE_CONSTRAINT_SCHEMA <> ? OR REFERENCED_TABLE_NAME <> ?) LIMIT 1',
      [db, t.table, db, t.table],
    );
    if (!references) continue;
    const into = s.intoDatabase ?? t.database;
    const create = await createTableStatement(conn, db, t.table);
    // Definitions first: moving a table aside re-points the scratch tables that reference it.
    const sql = rewriteCreateTable(create, t.table, (refDb, refTable) => {
      if (refDb === null) return refTable === t.table ? null : qualified(into, refTable);
      const src = s.sourceFor(refDb);
      if (src === undefined) return null;
      return qualified(src === t.database ? into : src, refTable);
    });
    rebuild.push({ db, table: t.table, sql });
  }
  if (!rebuild.length) return;
  await conn.query(`CREATE DATABASE IF NOT EXISTS ${qid(s.hold)}`);
  for (const r of rebuild) {
    const cols = await rows<{ c: string }>(
      conn,
      "SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND EXTRA NOT LIKE '%GENERATED%' ORDER BY ORDINAL_POSITION",
      [r.db, r.table],
    );
    const list = cols.map((x) => qid(x.c)).join(', ');
    await conn.query(`RENAME TABLE ${qualified(r.db, r.table)} TO ${qualified(s.hold, r.table)}`);
    await conn.query(`USE ${qid(r.db)}`);
    await conn.query(r.sql);
    await conn.query(`INSERT INTO ${qualified(r.db, r.table)} (${list}) SELECT ${list} FROM ${qualified(s.hold, r.table)}`);
    await conn.query(`DROP TABLE ${qualified(s.hold, r.table)}`);
  }
}

/** Moves the scratch tables into place atomically and returns their row counts. */
export async function swapIntoPlace(conn: Connection, s: SwapInput): Promise<RestoredTable[]> {
  const result: RestoredTable[] = [];
  const renames: string[] = [];
  const dropTriggers: string[] = [];
  for (const t of s.tables) {
    const into = s.intoDatabase ?? t.database;
    if (!(await schemaExists(conn, into))) {
      await conn.query(`CREATE DATABASE IF NOT EXISTS ${qid(into)}`);
      s.createdDatabases.add(into);
    }
    const scratchTable = qualified(s.scratchFor(t.database), t.table);
    const count = await rowCount(conn, s.scratchFor(t.database), t.table);
    if (await tableExists(conn, into, t.table)) {
      // MariaDB refuses to move a table with triggers to another database (the scratch schema it is
      // parked in): the replaced table's triggers go first (the restore recreates those of the cut).
      const triggers = await rows<{ n: string }>(conn, 'SELECT TRIGGER_NAME AS n FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = ? AND EVENT_OBJECT_TABLE = ?', [into, t.table]);
      for (const { n } of triggers) dropTriggers.push(`DROP TRIGGER IF EXISTS ${qualified(into, n)}`);
      renames.push(`${qualified(into, t.table)} TO ${qualified(s.scratchFor(t.database), `${t.table}__old_${s.tag}`.slice(0, 64))}`);
    }
    renames.push(`${scratchTable} TO ${qualified(into, t.table)}`);
    result.push({ database: t.database, table: t.table, into: formatQualifiedName(into, t.table), rows: count });
  }
  for (const d of dropTriggers) await conn.query(d);
  if (renames.length) await conn.query(`RENAME TABLE ${renames.join(', ')}`);
  s.createdDatabases.clear();
  return result;
}
