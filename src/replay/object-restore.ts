// Recreates a restore's views, triggers, stored routines and events in the destination once its
// tables are in place (triggers cannot move between databases with their tables, and none may fire
// during the load), each under the sql_mode and clock it was created with. Events are created
// disabled: a restored copy must not start running the source's jobs.
import type { Logger } from 'pino';
import { qid, qualified, type Connection } from '../core/mysql-conn.js';
import { PitrError, TargetExistsError } from '../core/errors.js';
import { ansiQuotes, retargetDatabase, type SchemaObject } from '../schema/schema-objects.js';
import { RESTORE_SESSION } from './load-pool.js';
import { returnsRows } from '../core/catalog.js';

export interface RecreatedObject {
  kind: SchemaObject['kind'];
  /** db.name in the destination. */
  name: string;
  note?: string;
}

const EXISTS_SQL: Record<SchemaObject['kind'], string> = {
  VIEW: "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND TABLE_TYPE = 'VIEW'",
  TRIGGER: 'SELECT 1 FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? AND TRIGGER_NAME = ?',
  PROCEDURE: "SELECT 1 FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? AND ROUTINE_NAME = ? AND ROUTINE_TYPE = 'PROCEDURE'",
  FUNCTION: "SELECT 1 FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? AND ROUTINE_NAME = ? AND ROUTINE_TYPE = 'FUNCTION'",
  EVENT: 'SELECT 1 FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ? AND EVENT_NAME = ?',
};

/** Before anything is written: an object of the same name in the destination needs --replace. */
export async function refuseExistingObjects(conn: Connection, objects: SchemaObject[], into: (db: string) => string, replace?: boolean): Promise<void> {
  if (replace) return;
  for (const o of objects) {
    if (await returnsRows(conn, EXISTS_SQL[o.kind], [into(o.database), o.name])) {
      throw new TargetExistsError(`${o.kind.toLowerCase()} ${qualified(into(o.database), o.name)} already exists on the recovery server; pass --replace or choose --into-database.`);
    }
  }
}

export async function recreateObjects(
  conn: Connection,
  objects: SchemaObject[],
  opts: { into: (db: string) => string; replace?: boolean; log: Logger },
): Promise<RecreatedObject[]> {
  const done: RecreatedObject[] = [];
  const failed: string[] = [];
  const setContext = async (sqlMode: string | undefined, at: number | undefined) => {
    if (sqlMode === undefined) await conn.query('SET SESSION sql_mode = @@GLOBAL.sql_mode');
    else await conn.query('SET SESSION sql_mode = ?', [/^\d+$/.test(sqlMode) ? Number(sqlMode) : sqlMode]);
    if (at === undefined) await conn.query('SET SESSION timestamp = DEFAULT');
    else await conn.query('SET SESSION timestamp = ?', [at]);
  };
  const create = async (o: SchemaObject) => {
    const into = opts.into(o.database);
    await conn.query(`USE ${qid(into)}`);
    if (opts.replace) await conn.query(`DROP ${o.kind} IF EXISTS ${qualified(into, o.name)}`);
    await setContext(o.sqlMode, o.createdAt);
    await conn.query(retargetDatabase(o.statement, o.database, into, ansiQuotes(o.sqlMode)));
    for (const a of o.alters) {
      await setContext(a.sqlMode ?? o.sqlMode, a.at);
      await conn.query(retargetDatabase(a.statement, o.database, into, ansiQuotes(a.sqlMode ?? o.sqlMode)));
    }
    const r: RecreatedObject = { kind: o.kind, name: `${into}.${o.name}` };
    if (o.kind === 'EVENT') {
      await conn.query(`ALTER EVENT ${qualified(into, o.name)} DISABLE`);
      r.note = 'created disabled: enable it with ALTER EVENT ... ENABLE once the copy should run it';
    }
    done.push(r);
  };
  try {
    // Views in creation order, retried while any succeeds: one may select from a view created later.
    let pending = objects.filter((o) => o.kind === 'VIEW');
    const errors = new Map<SchemaObject, string>();
    while (pending.length) {
      const next: SchemaObject[] = [];
      for (const o of pending) {
        try {
          await create(o);
          errors.delete(o);
        } catch (err) {
          errors.set(o, (err as Error).message);
          next.push(o);
        }
      }
      if (next.length === pending.length) break;
      pending = next;
    }
    for (const [o, msg] of errors) failed.push(`view ${o.name} (${msg})`);
    for (const kind of ['FUNCTION', 'PROCEDURE', 'TRIGGER', 'EVENT'] as const) {
      for (const o of objects.filter((x) => x.kind === kind)) {
        try {
          await create(o);
        } catch (err) {
          failed.push(`${kind.toLowerCase()} ${o.name} (${(err as Error).message})`);
        }
      }
    }
  } finally {
    await conn.query(RESTORE_SESSION);
    await conn.query('SET SESSION timestamp = DEFAULT');
  }
  for (const r of done) opts.log.info({ kind: r.kind, name: r.name, ...(r.note ? { note: r.note } : {}) }, 'recreated');
  if (failed.length) {
    throw new PitrError(`the tables are restored, but ${failed.length} of ${objects.length} views, triggers, routines or events could not be recreated: ${failed.join('; ')}.`);
  }
  return done;
}
