// Who a MySQL-family server is, asked of the server itself rather than read off a URL: a URL may
// say localhost, 127.0.0.1, a DNS alias or a proxy port and still reach the same server. The log
// records the source's identity as text ("server_id=1 host=db1:3306 uuid=..."; logs written before
// this module hold only "server_id=1"), so parsing and comparing are pure.
import type { Connection } from './mysql-conn.js';
import { rows } from './catalog.js';

export interface ServerIdentity {
  serverId: number;
  /** @@hostname as the server reports it (absent in identities recorded by older versions). */
  host?: string;
  /** @@port the server listens on. */
  port?: number;
  /** @@server_uuid (MySQL; MariaDB has none). */
  uuid?: string;
}

export function formatIdentity(id: ServerIdentity): string {
  let s = `server_id=${id.serverId}`;
  if (id.host !== undefined) s += ` host=${id.host}:${id.port ?? 0}`;
  if (id.uuid) s += ` uuid=${id.uuid}`;
  return s;
}

/** Parses a recorded identity; undefined for text that holds no server_id (e.g. empty). */
export function parseIdentity(text: string): ServerIdentity | undefined {
  const sid = /(?:^|\s)server_id=(\d+)/.exec(text);
  if (!sid) return undefined;
  const id: ServerIdentity = { serverId: Number(sid[1]) };
  const host = /(?:^|\s)host=(\S+):(\d+)(?=\s|$)/.exec(text);
  if (host) {
    id.host = host[1];
    id.port = Number(host[2]);
  }
  const uuid = /(?:^|\s)uuid=(\S+)/.exec(text);
  if (uuid) id.uuid = uuid[1];
  return id;
}

/**
 * Whether two identities name the same server. A UUID is decisive when both have one; otherwise
 * server_id, hostname and port must all agree. An identity without a host (an older log) can only
 * be matched on server_id: `loose` says whether that is enough (callers without a better witness).
 */
export function sameServer(a: ServerIdentity, b: ServerIdentity, loose = false): boolean {
  if (a.uuid && b.uuid) return a.uuid === b.uuid;
  if (a.serverId !== b.serverId) return false;
  if (a.host !== undefined && b.host !== undefined) return a.host.toLowerCase() === b.host.toLowerCase() && a.port === b.port;
  return loose;
}

/** The identity of the server behind a connection (works on MariaDB and MySQL alike). */
export async function serverIdentity(conn: Connection): Promise<ServerIdentity> {
  // SHOW VARIABLES rather than SELECT @@server_uuid: MariaDB has no such variable and would fail.
  const vars = await rows<{ Variable_name: string; Value: string }>(conn, "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('server_id', 'hostname', 'port', 'server_uuid')");
  const v = new Map(vars.map((r) => [r.Variable_name.toLowerCase(), r.Value]));
  const id: ServerIdentity = { serverId: Number(v.get('server_id') ?? 0), host: v.get('hostname') ?? '', port: Number(v.get('port') ?? 0) };
  if (v.get('server_uuid')) id.uuid = v.get('server_uuid');
  return id;
}

/**
 * Whether two recorded identities are one binlog history for capture's failover check: the same
 * server_id (and UUID where both have one). Host and port are left out on purpose: a source
 * restarted on another port or moved with its datadir keeps its binlog offsets, so it must not
 * count as a failover; and logs of older versions record only server_id.
 */
export function sameBinlogServer(a: string, b: string): boolean {
  const x = parseIdentity(a);
  const y = parseIdentity(b);
  if (!x || !y) return a === b;
  if (x.uuid && y.uuid) return x.uuid === y.uuid;
  return x.serverId === y.serverId;
}
