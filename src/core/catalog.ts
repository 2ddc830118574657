// Catalog lookups over a mysql2 connection (the boundary in mysql-conn.ts): whether a schema or table exists,
// how many rows a table holds, and query results as typed rows, so callers neither write information_schema
// lookups out again nor cast what a query returns.
import { qualified, type Connection } from './mysql-conn.js';

/** The rows a SELECT returns, typed by the caller: one field per selected column or alias. */
export async function rows<T>(conn: Connection, sql: string, params?: unknown[]): Promise<T[]> {
  const [r] = await conn.query(sql, params);
  return r as T[];
}

/** The first row a SELECT returns, if any. */
export async function firstRow<T>(conn: Connection, sql: string, params?: unknown[]): Promise<T | undefined> {
  return (await rows<T>(conn, sql, params))[0];
}

/** Whether a SELECT returns any row. */
export async function returnsRows(conn: Connection, sql: string, params?: unknown[]): Promise<boolean> {
  return (await rows<unknown>(conn, sql, params)).length > 0;
}

/** Whether a table or view `db`.`table` exists. */
export function tableExists(conn: Connection, db: string, table: string): Promise<boolean> {
  return returnsRows(conn, 'SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [db, table]);
}

/** Whether a database (schema) exists. */
export function schemaExists(conn: Connection, db: string): Promise<boolean> {
  return returnsRows(conn, 'SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [db]);
}

/** Whether a database holds any table or view. */
export function schemaHasTables(conn: Connection, db: string): Promise<boolean> {
  return returnsRows(conn, 'SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? LIMIT 1', [db]);
}

/** The number of rows in `db`.`table` (an exact COUNT(*)). */
export async function rowCount(conn: Connection, db: string, table: string): Promise<number> {
  const r = await firstRow<{ n: number | string }>(conn, `SELECT COUNT(*) AS n FROM ${qualified(db, table)}`);
  return Number(r!.n);
}

/** Whether `db`.`table` holds any row (cheaper than a count). */
export function tableHasRows(conn: Connection, db: string, table: string): Promise<boolean> {
  return returnsRows(conn, `SELECT 1 FROM ${qualified(db, table)} LIMIT 1`);
}

/** SHOW CREATE TABLE's statement for `db`.`table`. */
export async function createTableStatement(conn: Connection, db: string, table: string): Promise<string> {
  const r = await firstRow<{ 'Create Table': string }>(conn, `SHOW CREATE TABLE ${qualified(db, table)}`);
  return r!['Create Table'];
}

/** A SELECT's rows as arrays in column order, with the column names. */
export async function arrayRows(conn: Connection, sql: string): Promise<{ columns: string[]; rows: unknown[][] }> {
  const [r, f] = await conn.query({ sql, rowsAsArray: true });
  return { columns: ((f ?? []) as { name: string }[]).map((x) => x.name), rows: r as unknown[][] };
}

/** A column of rawRows: its name, mysql2's type name (e.g. 'VAR_STRING') and character set number (63: binary). */
export interface RawColumn {
  name: string;
  type: string;
  characterSet?: number;
}

/**
 * A SELECT's rows as arrays of the server's text-protocol bytes, never converted (for exact comparison with the
 * log's values), with each column's type ('' when no row came back to tell it) and character set.
 */
export async function rawRows(conn: Connection, sql: string): Promise<{ columns: RawColumn[]; rows: (Buffer | null)[][] }> {
  const types = new Map<string, string>();
  const [r, f] = await conn.query({
    sql,
    rowsAsArray: true,
    typeCast: (field: { name: string; type: string; buffer(): Buffer | null }) => {
      types.set(field.name, field.type);
      return field.buffer();
    },
  } as never);
  // The character set is on the column definitions only: typeCast's field does not carry it.
  const columns = ((f ?? []) as { name: string; characterSet?: number }[]).map(({ name, characterSet }) => ({ name, type: types.get(name) ?? '', characterSet }));
  return { columns, rows: r as (Buffer | null)[][] };
}
