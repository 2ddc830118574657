// Refuses targets a restore must never write to: the source server itself (recognised by what the
// server says it is, compared with the identity the log recorded and with the live source when its
// URL is known) and the system schemas. Runs before the restore's first write.
import type { MetaState } from '../log/meta-state.js';
import { connectMysql, type Connection } from '../core/mysql-conn.js';
import type { MysqlUrl } from '../core/mysql-url.js';
import { UsageError } from '../core/errors.js';
import { formatIdentity, parseIdentity, sameServer, serverIdentity, type ServerIdentity } from '../core/server-identity.js';
import { logger } from '../core/logger.js';

const SYSTEM_SCHEMAS = new Set(['mysql', 'performance_schema', 'sys', 'information_schema']);

/** Whether a database name is one of the server's own schemas (names compare case-insensitively). */
export function isSystemSchema(name: string): boolean {
  return SYSTEM_SCHEMAS.has(name.toLowerCase());
}

/** Refuses a destination database that is a system schema; `subject` says what would write there. */
export function refuseSystemSchema(name: string, subject: string): void {
  if (isSystemSchema(name)) {
    throw new UsageError(`${subject} would write into ${name}, a system schema; restore never writes there, so choose another --into-database.`);
  }
}

/** Every identity of the source the log recorded (the newest first: after a failover there are several). */
export function recordedSourceIdentities(meta: MetaState): ServerIdentity[] {
  return identitiesOf(recordedSourceTexts(meta));
}

/** The identity texts the log recorded, as stored (newest first). */
export function recordedSourceTexts(meta: MetaState): string[] {
  return [meta.resume?.sourceServer ?? '', ...meta.snapshots.map((s) => s.begin.sourceServer ?? '').reverse()].filter(Boolean);
}

/** Distinct identities of stored identity texts (unparsable ones left out). */
export function identitiesOf(texts: string[]): ServerIdentity[] {
  const out: ServerIdentity[] = [];
  const seen = new Set<string>();
  for (const t of texts) {
    const id = parseIdentity(t);
    if (!id || seen.has(formatIdentity(id))) continue;
    seen.add(formatIdentity(id));
    out.push(id);
  }
  return out;
}

/**
 * Whether the target is the source: the live source (when its URL is known) is the best witness;
 * the identities in the log decide too. An identity recorded without host and port (older logs)
 * matches on server_id alone only when there is no live source to ask, erring on the safe side.
 */
export function targetIsSource(target: ServerIdentity, recorded: ServerIdentity[], liveSource: ServerIdentity | undefined): boolean {
  if (liveSource && sameServer(target, liveSource)) return true;
  return recorded.some((r) => sameServer(target, r, liveSource === undefined));
}

export interface SourceWitness {
  meta?: MetaState;
  /** Identity texts the log recorded, known without reading it (guard's saved state); with `meta`, both count. */
  recorded?: string[];
  /** The source's URL, when configured (PITR_SOURCE, --source, the local stack). */
  source?: MysqlUrl;
}

/**
 * Throws when the connection's server is the source. `what` names the command's target for the
 * message ("restore target", "guard's recovery server").
 */
export async function refuseSourceAsTarget(conn: Connection, witness: SourceWitness, what = 'the restore target'): Promise<void> {
  const target = await serverIdentity(conn);
  let live: ServerIdentity | undefined;
  if (witness.source) {
    // An unreachable source is no proof either way: the log's record still decides.
    const sc = await connectMysql(witness.source, 'source').catch(() => undefined);
    if (sc) {
      try {
        live = await serverIdentity(sc);
      } catch (err) {
        logger().child({ component: 'target-guard' }).debug({ err: (err as Error).message }, 'could not read the source identity');
      } finally {
        await sc.end().catch(() => undefined);
      }
    }
  }
  const recorded = identitiesOf([...(witness.meta ? recordedSourceTexts(witness.meta) : []), ...(witness.recorded ?? [])]);
  if (targetIsSource(target, recorded, live)) {
    throw new UsageError(
      `${what} (${target.host}:${target.port}, server_id ${target.serverId}) is the source server this log captures; restore writes only to a recovery server, so pass another --target.`,
    );
  }
}
