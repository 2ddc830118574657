// Adapter over mysql2 for the source and target servers: connections with exact value handling
// and one-sentence errors. Capture, restore and tests go through here rather than mysql2 directly.
import mysql, { type Connection, type FieldPacket } from 'mysql2/promise';
import type { Readable } from 'node:stream';
import type { MysqlUrl } from './mysql-url.js';
import { describeMysqlUrl } from './mysql-url.js';
import { ConnectionError, PitrError } from './errors.js';

export type { Connection, FieldPacket };

export interface ConnectOptions {
  database?: string;
  /** Stream factory for LOAD DATA LOCAL INFILE. */
  infile?: (path: string) => Readable;
  multipleStatements?: boolean;
}

export async function connectMysql(url: MysqlUrl, what: string, opts: ConnectOptions = {}): Promise<Connection> {
  try {
    const conn = await mysql.createConnection({
      host: url.host,
      port: url.port,
      user: url.user,
      password: url.password,
      database: opts.database ?? url.database,
      charset: 'utf8mb4_general_ci',
      timezone: 'Z',
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      decimalNumbers: false,
      multipleStatements: opts.multipleStatements ?? false,
      connectTimeout: 10000,
      infileStreamFactory: opts.infile,
      flags: opts.infile ? ['+LOCAL_FILES'] : undefined,
    });
    // Exact temporal values: TIMESTAMP in UTC regardless of the server's zone.
    await conn.query("SET time_zone = '+00:00'");
    return conn;
  } catch (err) {
    throw mysqlError(err, `cannot connect to the ${what} server at ${describeMysqlUrl(url)}`);
  }
}

export function mysqlError(err: unknown, what: string): PitrError {
  if (err instanceof PitrError) return err;
  const e = err as { code?: string; errno?: number; sqlMessage?: string; message?: string };
  const msg = e.sqlMessage ?? e.message ?? String(err);
  if (e.code === 'ECONNREFUSED' || e.code === 'ETIMEDOUT' || e.code === 'EHOSTUNREACH' || e.code === 'PROTOCOL_CONNECTION_LOST') {
    return new ConnectionError(`${what}: ${e.code === 'ECONNREFUSED' ? 'connection refused' : msg}`, { cause: err });
  }
  if (e.errno === 1045) return new PitrError(`${what}: access denied (wrong user or password)`, { cause: err });
  return new PitrError(`${what}: ${msg}`, { cause: err });
}

/** Backtick-quotes an identifier (doubling backticks inside). */
export function qid(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}

export function qualified(db: string, table: string): string {
  return `${qid(db)}.${qid(table)}`;
}
