// mysql://user:password@host:port[/db] URLs for the source and target servers. Pure.
import { UsageError } from './errors.js';

export interface MysqlUrl {
  host: string;
  port: number;
  user: string;
  password: string;
  database?: string;
}

export function parseMysqlUrl(url: string, what = 'server URL'): MysqlUrl {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`${what} is not a URL like mysql://user:password@host:port.`);
  }
  if (u.protocol !== 'mysql:' && u.protocol !== 'mariadb:') {
    throw new UsageError(`${what} must start with mysql:// or mariadb:// (got ${u.protocol.replace(/[^a-z0-9+.-:]/gi, '')}//).`);
  }
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username || 'root'),
    password: decodeURIComponent(u.password || ''),
    database: u.pathname && u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : undefined,
  };
}

/** host:port, for messages (never the password). */
export function describeMysqlUrl(u: MysqlUrl): string {
  return `${u.user}@${u.host}:${u.port}`;
}
