// Row count and CHECKSUM TABLE of each table of a database, and their comparison: how the demo
// shows that a restore equals the source's state at the cut.
import { qid, type Connection } from '../core/mysql-conn.js';
import { firstRow, rowCount } from '../core/catalog.js';

export interface TableSum {
  rows: number;
  checksum: string;
}

export type TableSums = Record<string, TableSum>;

export interface TableComparison {
  table: string;
  before: TableSum;
  restored: TableSum;
  equal: boolean;
}

export async function tableChecksums(conn: Connection, db: string, tables: readonly string[]): Promise<TableSums> {
  const out: TableSums = {};
  for (const t of tables) {
    const s = await firstRow<{ Checksum: string }>(conn, `CHECKSUM TABLE ${qid(db)}.${qid(t)} EXTENDED`);
    out[t] = { rows: await rowCount(conn, db, t), checksum: String(s!.Checksum) };
  }
  return out;
}

/** Each table's sums before and after, equal when both its row count and its checksum are. */
export function compareChecksums(tables: readonly string[], before: TableSums, restored: TableSums): TableComparison[] {
  return tables.map((table) => {
    const b = before[table]!;
    const r = restored[table]!;
    return { table, before: b, restored: r, equal: b.rows === r.rows && b.checksum === r.checksum };
  });
}
