// The end of a restore: the finished scratch tables move into place with one RENAME TABLE, so a
// multi-table restore appears at once (tables they replace are renamed aside and dropped with the
// scratch schemas). Also the refusal to overwrite without --replace.
import { qid, qualified, type Connection } from '../core/mysql-conn.js';
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

async function exists(conn: Connection, sql: string, args: string[]): Promise<boolean> {
  const [r] = await conn.query(sql, args);
  return (r as unknown[]).length > 0;
}

export async function refuseExisting(conn: Connection, db: string, table: string, replace?: boolean): Promise<void> {
  if (replace) return;
  if (await exists(conn, 'SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [db, table])) {
    throw new TargetExistsError(`target table ${formatQualifiedName(db, table)} already exists on the recovery server; pass --replace or choose --into-database.`);
  }
}

/** Moves the scratch tables into place atomically and returns their row counts. */
export async function swapIntoPlace(conn: Connection, s: SwapInput): Promise<RestoredTable[]> {
  const result: RestoredTable[] = [];
  const renames: string[] = [];
  for (const t of s.tables) {
    const into = s.intoDatabase ?? t.database;
    if (!(await exists(conn, 'SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [into]))) {
      await conn.query(`CREATE DATABASE IF NOT EXISTS ${qid(into)}`);
      s.createdDatabases.add(into);
    }
    const scratchTable = qualified(s.scratchFor(t.database), t.table);
    const [c] = await conn.query(`SELECT COUNT(*) AS n FROM ${scratchTable}`);
    const rows = Number((c as { n: number }[])[0]!.n);
    if (await exists(conn, 'SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [into, t.table])) {
      renames.push(`${qualified(into, t.table)} TO ${qualified(s.scratchFor(t.database), `${t.table}__old_${s.tag}`.slice(0, 64))}`);
    }
    renames.push(`${scratchTable} TO ${qualified(into, t.table)}`);
    result.push({ database: t.database, table: t.table, into: formatQualifiedName(into, t.table), rows });
  }
  if (renames.length) await conn.query(`RENAME TABLE ${renames.join(', ')}`);
  s.createdDatabases.clear();
  return result;
}
