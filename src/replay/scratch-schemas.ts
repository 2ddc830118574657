// Scratch schemas of a restore on the target server, and who owns them. Every restore has a tag;
// its schemas are `pitr_tmp_<tag>` (the owner marker: a one-row table naming pid, host and start
// time, for the DBA who finds them) and `pitr_tmp_<tag>_<n>` (the replayed databases). The restore's
// connection holds the server lock `pitr_restore_<tag>` for its whole life: the server drops it
// when the connection dies, whatever killed the process, and IS_USED_LOCK tells any other client
// on any host whether the owner still runs. Stale schemas (lock free) are removed by the next
// restore and by `pitr restore --cleanup`; a running restore's never are.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { qid, qualified, type Connection } from '../core/mysql-conn.js';
import { logger } from '../core/logger.js';
import { firstRow, rows } from '../core/catalog.js';
import { PitrError } from '../core/errors.js';

export const SCRATCH_PREFIX = 'pitr_tmp_';
const OWNER_TABLE = 'pitr_owner';

/** A scratch schema name's owning tag ("pitr_tmp_1a2b3c4d_3" -> "1a2b3c4d"), or null for other names. */
export function scratchTag(schema: string): string | null {
  const m = /^pitr_tmp_([0-9a-f]{6,16})(?:_\d+)?$/.exec(schema);
  return m ? m[1]! : null;
}

export function lockName(tag: string): string {
  return `pitr_restore_${tag}`;
}

/** Groups scratch schema names by tag (other names are left out). Pure. */
export function scratchByTag(schemas: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const s of schemas) {
    const tag = scratchTag(s);
    if (tag === null) continue;
    const list = out.get(tag) ?? [];
    list.push(s);
    out.set(tag, list);
  }
  return out;
}

/**
 * Replaces scratch schema names in a message with the source databases they stand for, so errors
 * speak of the user's databases, never of pitr's internals. Pure.
 */
export function hideScratchNames(message: string, scratchToSource: Map<string, string>): string {
  return message.replace(/`?pitr_tmp_[0-9a-f]{6,16}(?:_\d+)?`?/g, (m) => {
    const bare = m.replace(/`/g, '');
    const src = scratchToSource.get(bare);
    return src !== undefined ? (m.startsWith('`') ? `\`${src}\`` : src) : 'a scratch schema';
  });
}

/** The scratch schemas of one restore. */
export class ScratchSchemas {
  readonly tag = randomBytes(4).toString('hex');
  /** Source database -> scratch schema, in the order they were named. */
  readonly bySource = new Map<string, string>();
  private claimed = false;

  constructor(private readonly conn: Connection) {}

  get owner(): string {
    return `${SCRATCH_PREFIX}${this.tag}`;
  }

  /** The scratch schema standing for a source database (named on first use; created by the caller). */
  nameFor(db: string): string {
    let s = this.bySource.get(db);
    if (!s) this.bySource.set(db, (s = `${this.owner}_${this.bySource.size}`));
    return s;
  }

  /** Scratch name -> source database, for messages. */
  reverse(): Map<string, string> {
    return new Map([...this.bySource].map(([src, s]) => [s, src] as const));
  }

  /**
   * Takes the ownership lock, then writes the owner marker. In this order, so that a schema with
   * this tag never exists without a live owner holding the lock (cleanup by others is safe).
   */
  async claim(): Promise<void> {
    const r = await firstRow<{ got: number | null }>(this.conn, 'SELECT GET_LOCK(?, 0) AS got', [lockName(this.tag)]);
    if (Number(r!.got) !== 1) throw new PitrError(`could not take the restore lock ${lockName(this.tag)}`);
    this.claimed = true;
    await this.conn.query(`CREATE DATABASE ${qid(this.owner)}`);
    await this.conn.query(
      `CREATE TABLE ${qualified(this.owner, OWNER_TABLE)} (pid INT NOT NULL, host VARCHAR(255) NOT NULL, started DATETIME NOT NULL, lock_name VARCHAR(64) NOT NULL, command VARCHAR(255) NOT NULL)`,
    );
    await this.conn.query(`INSERT INTO ${qualified(this.owner, OWNER_TABLE)} VALUES (?, ?, UTC_TIMESTAMP(), ?, 'pitr restore')`, [
      process.pid,
      hostname(),
      lockName(this.tag),
    ]);
  }

  /** Drops every schema of this restore (best effort: the connection may be gone). */
  async dropAll(conn: Connection = this.conn): Promise<void> {
    if (!this.claimed) return;
    await dropTagged(conn, this.tag);
  }

  async release(): Promise<void> {
    if (this.claimed) await this.conn.query('SELECT RELEASE_LOCK(?)', [lockName(this.tag)]).catch(() => undefined);
  }
}

/** Names of the schemas matching a LIKE pattern. */
async function schemasLike(conn: Connection, pattern: string): Promise<string[]> {
  return (await rows<{ s: string }>(conn, 'SELECT SCHEMA_NAME AS s FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?', [pattern])).map((r) => r.s);
}

/** Drops every schema named for a tag, the owner marker last (an interrupted drop is still owned). */
export async function dropTagged(conn: Connection, tag: string): Promise<string[]> {
  const names = (await schemasLike(conn, `${SCRATCH_PREFIX}${tag}%`)).filter((s) => scratchTag(s) === tag);
  names.sort((a, b) => b.length - a.length || b.localeCompare(a));
  for (const s of names) await conn.query(`DROP DATABASE IF EXISTS ${qid(s)}`).catch(() => undefined);
  return names;
}

/**
 * Removes the scratch schemas of restores that no longer run on this server: tags whose lock
 * nobody holds. Returns the schemas removed.
 */
export async function removeStaleScratch(conn: Connection, keepTag?: string): Promise<string[]> {
  const groups = scratchByTag(await schemasLike(conn, 'pitr\\_tmp\\_%'));
  const removed: string[] = [];
  for (const [tag] of groups) {
    if (tag === keepTag) continue;
    const u = await firstRow<{ owner: number | null }>(conn, 'SELECT IS_USED_LOCK(?) AS owner', [lockName(tag)]);
    if (u!.owner !== null) continue; // its restore is running
    removed.push(...(await dropTagged(conn, tag)));
  }
  if (removed.length) logger().child({ component: 'restore' }).info({ removed }, 'removed scratch schemas of restores no longer running');
  return removed;
}
