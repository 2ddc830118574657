// SQL statements that apply one logged row change to a table, for the restore's ordered replay of
// tables under referential actions (the server then cascades as the source did). Pure.
import { qid } from '../core/mysql-conn.js';
import { Op, type RowChangeMsg, type Value } from '../log/record-types.js';
import { sqlLiteral } from './sql-values.js';
import { CorruptLogError } from '../core/errors.js';

/** INSERT of one row image. */
export function insertStatement(table: string, columns: string[], values: Value[]): string {
  return `INSERT INTO ${table} (${columns.map(qid).join(', ')}) VALUES (${values.map(sqlLiteral).join(', ')})`;
}

/** Matches the row a before image names: by its key columns, or by every column for a keyless table. */
function matchImage(columns: string[], values: Value[], keyColumns: string[] | null): string {
  const picks = keyColumns ? keyColumns.map((c) => columns.indexOf(c)) : columns.map((_, i) => i);
  if (picks.some((i) => i < 0)) throw new CorruptLogError(`row image lacks key column(s) ${keyColumns!.join(', ')}`);
  return picks.map((i) => `${qid(columns[i]!)} <=> ${sqlLiteral(values[i]!)}`).join(' AND ');
}

/** The statement that applies a row change (INSERT, UPDATE or DELETE of one row). */
export function changeStatement(table: string, keyColumns: string[] | null, columns: string[], ch: RowChangeMsg): string {
  if (ch.op === Op.INSERT) return insertStatement(table, columns, ch.after!.values);
  const where = matchImage(columns, ch.before!.values, keyColumns);
  if (ch.op === Op.DELETE) return `DELETE FROM ${table} WHERE ${where} LIMIT 1`;
  const sets = columns.map((c, i) => `${qid(c)} = ${sqlLiteral(ch.after!.values[i]!)}`).join(', ');
  return `UPDATE ${table} SET ${sets} WHERE ${where} LIMIT 1`;
}
