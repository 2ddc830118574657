// What an interrupted restore must undo, for the CLI's SIGINT/SIGTERM handler: each running
// restore registers its target, its connection and its scratch tag here. On a signal the handler
// kills the restore's connection (a running LOAD or ALTER would otherwise hold the schemas' locks
// until it finishes), then drops its scratch schemas and any destination database it created that
// is still empty, over a fresh connection.
import { connectMysql, qid, type Connection } from '../core/mysql-conn.js';
import type { MysqlUrl } from '../core/mysql-url.js';
import { dropTagged } from './scratch-schemas.js';
import { schemaHasTables } from '../core/catalog.js';

export interface ActiveRestore {
  target: MysqlUrl;
  conn: Connection;
  tag: string;
  /** Destination databases this restore created (dropped on interrupt or failure when empty). */
  createdDatabases: Set<string>;
}

const active = new Set<ActiveRestore>();

export function registerRestore(r: ActiveRestore): () => void {
  active.add(r);
  return () => active.delete(r);
}

/** Drops an empty database this restore created (a failed or interrupted restore leaves none behind). */
export async function dropIfEmpty(conn: Connection, db: string): Promise<void> {
  if (!(await schemaHasTables(conn, db))) await conn.query(`DROP DATABASE IF EXISTS ${qid(db)}`);
}

/** Undoes every running restore of this process; never throws (the process is about to exit). */
export async function interruptRestores(): Promise<void> {
  for (const r of [...active]) {
    active.delete(r);
    const fresh = await connectMysql(r.target, 'target').catch(() => undefined);
    if (!fresh) continue;
    try {
      const threadId = r.conn.threadId;
      if (threadId) await fresh.query(`KILL ${Number(threadId)}`).catch(() => undefined);
      await dropTagged(fresh, r.tag).catch(() => undefined);
      for (const db of r.createdDatabases) await dropIfEmpty(fresh, db).catch(() => undefined);
    } finally {
      await fresh.end().catch(() => undefined);
    }
  }
}
