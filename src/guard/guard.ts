// Guard orchestrator: follows the log (meta + changes) in commit order, judges every transaction
// against the tables as they stood just before it, and for each destructive one rebuilds the
// victims as of just before it (a --before-gtid cut) into the recovery database under a name that
// says table and cut, then reports. Rebuilds run in parallel (bounded); the position saved in the
// consumer group only moves past an incident once its copy is in place and reported, and a ledger
// table next to the copies keeps a restart from reporting one twice.
import { randomBytes } from 'node:crypto';
import { LogFollower, type FollowedMessage } from '../log/log-follower.js';
import { logTopics } from '../log/topics.js';
import { decodeRecord, RecordField, recordBodyField } from '../log/record-codec.js';
import { runRestore } from '../replay/restore.js';
import { connectMysql, qid, qualified } from '../core/mysql-conn.js';
import { describeMysqlUrl, type MysqlUrl } from '../core/mysql-url.js';
import type { KafkaSettings } from '../core/settings.js';
import { formatGtid } from '../core/gtid.js';
import { binlogBasename } from '../core/position.js';
import { PitrError, redact } from '../core/errors.js';
import { logger } from '../core/logger.js';
import { LogSequencer, type SequencedItem, type TxnUnit } from './log-sequencer.js';
import { TableTracker } from './table-tracker.js';
import { examineTxn, type Incident } from './incident-detector.js';
import { buildReport, copyName, type IncidentReport, type ReportContext } from './incident-report.js';
import { ThresholdPolicy } from './thresholds.js';
import { refuseSourceAsTarget, refuseSystemSchema } from '../replay/target-guard.js';
import { kafkaClient } from '../log/kafka-log.js';
import { readMeta } from '../log/meta-reader.js';
import { makeKeyNamesUnique } from './copy-keys.js';
import { returnsRows, rowCount, tableExists } from '../core/catalog.js';

export interface GuardOptions {
  kafka: KafkaSettings;
  sourceId: string;
  /** Recovery server the copies go to. */
  target: MysqlUrl;
  /** Source URL for the "put it back" command (never connected to). */
  source?: MysqlUrl;
  intoDatabase: string;
  policy: ThresholdPolicy;
  /** Suffix of the consumer group, for several guards with different settings on one log. */
  name?: string;
  /** Forget the saved position: re-examine the whole log. */
  fromStart?: boolean;
  /** Process what the log holds now, then exit. */
  once?: boolean;
  concurrency?: number;
  /** Webhook URL: each report is POSTed as JSON. */
  notify?: string;
  onReport: (r: IncidentReport) => void;
  signal?: AbortSignal;
}

export interface GuardResult {
  transactions: number;
  incidents: number;
  seconds: number;
  /** Peak resident memory of the guard process (MB), rebuilds included. */
  peakRssMb?: number;
}

export const LEDGER_TABLE = 'pitr_guard_incidents';

export function guardGroupId(sourceId: string, name?: string): string {
  return `pitr-guard-${sourceId}${name ? `-${name}` : ''}`;
}

/** A counting semaphore: at most `n` rebuilds at once. */
class Pool {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly n: number) {}
  async run<T>(f: () => Promise<T>): Promise<T> {
    if (this.active >= this.n) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await f();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

export async function runGuard(opts: GuardOptions): Promise<GuardResult> {
  const log = logger().child({ component: 'guard' });
  const started = Date.now();
  const topics = logTopics(opts.sourceId);
  const groupId = guardGroupId(opts.sourceId, opts.name);
  const follower = new LogFollower(opts.kafka, groupId, [topics.meta, topics.changes]);
  const into = opts.intoDatabase;
  const ctx: ReportContext = {
    intoDatabase: into,
    recoveryUrl: `mysql://${describeMysqlUrl(opts.target)}`,
    sourceUrl: opts.source ? `mysql://${describeMysqlUrl(opts.source)}` : undefined,
  };
  const result: GuardResult = { transactions: 0, incidents: 0, seconds: 0 };

  refuseSystemSchema(into, `guard --into-database ${into}`);
  const db = await connectMysql(opts.target, 'recovery');
  let stopped = false;
  try {
    // The copies must never land in the server they protect: compare with the source the log
    // recorded (the source URL is for the report only and is not connected to).
    const meta = await readMeta(kafkaClient(opts.kafka, 'reader', { clientId: `pitr-guard-check-${opts.sourceId}` }), topics, opts.sourceId);
    await refuseSourceAsTarget(db, { meta }, "guard's recovery server");
    await db.query(`CREATE DATABASE IF NOT EXISTS ${qid(into)}`);
    await db.query(
      `CREATE TABLE IF NOT EXISTS ${qualified(into, LEDGER_TABLE)} (name VARCHAR(64) PRIMARY KEY, source_id VARCHAR(100) NOT NULL,
        table_name VARCHAR(200) NOT NULL, cause VARCHAR(40) NOT NULL, gtid VARCHAR(64) NOT NULL, reported_at DATETIME(3) NOT NULL,
        report LONGTEXT NOT NULL)`,
    );

    // Where to start: the whole log is read for row counts and definitions; incidents are acted on
    // only for transactions indexed at or after `boundary` on the meta topic.
    const committed = await follower.committed();
    const metaEnds = await follower.stableEnds(topics.meta);
    const changeEnds = await follower.stableEnds(topics.changes);
    const metaLow = metaEnds.get(0)?.low ?? 0n;
    const saved = committed.get(topics.meta)?.get(0);
    const boundary = opts.fromStart ? metaLow : saved ?? metaEnds.get(0)?.high ?? 0n;
    log.info({ group: groupId, boundary: boundary.toString(), saved: saved?.toString() ?? null, fromStart: !!opts.fromStart }, 'guard starting');

    const seq = new LogSequencer(new Map([...changeEnds].map(([p, e]) => [p, e.low])), metaLow);
    const tracker = new TableTracker();
    const pool = new Pool(opts.concurrency ?? 4);
    const pending = new Map<bigint, number>(); // TxnIndex meta offset -> incidents not yet reported
    const jobs = new Set<Promise<void>>();
    let lastIndexDone = -1n;
    let lastCommitted = saved ?? -1n;
    let failure: Error | undefined;
    let wake: () => void = () => undefined;
    const changed = () => wake();

    const commitPosition = (): bigint => {
      let m = lastIndexDone + 1n;
      for (const k of pending.keys()) if (k < m) m = k;
      return m > boundary ? m : boundary;
    };
    let committing: Promise<void> = Promise.resolve();
    const commit = (): Promise<void> =>
      (committing = committing.then(async () => {
        const m = commitPosition();
        const offsets = [{ topic: topics.meta, partition: 0, offset: m }];
        for (const [p, o] of seq.changesPosition()) offsets.push({ topic: topics.changes, partition: p, offset: o });
        try {
          await follower.commit(offsets);
          if (m !== lastCommitted) log.debug({ meta: m.toString() }, 'position saved');
          lastCommitted = m;
        } catch (err) {
          log.warn({ err: (err as Error).message }, 'could not save the position; retrying later');
        }
      }));

    const ledger = async (name: string): Promise<boolean> => {
      return returnsRows(db, `SELECT 1 FROM ${qualified(into, LEDGER_TABLE)} WHERE name = ?`, [name]);
    };
    const copyRows = async (name: string): Promise<number | undefined> => ((await tableExists(db, into, name)) ? rowCount(db, into, name) : undefined);

    const publish = async (inc: Incident, r: IncidentReport, record: boolean): Promise<void> => {
      opts.onReport(r);
      result.incidents++;
      log.error({ incident: r }, `${r.cause} on ${r.table} at GTID ${r.gtid}: ${r.error ? `copy failed: ${r.error}` : `copy in ${r.into}`}`);
      if (opts.notify && !r.known) {
        try {
          const res = await fetch(opts.notify, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(r), signal: AbortSignal.timeout(5000) });
          if (!res.ok) log.warn({ status: res.status }, 'the webhook refused the incident');
        } catch (err) {
          log.warn({ err: redact((err as Error).message) }, 'could not call the webhook');
        }
      }
      if (record) {
        await db.query(
          `INSERT IGNORE INTO ${qualified(into, LEDGER_TABLE)} (name, source_id, table_name, cause, gtid, reported_at, report) VALUES (?, ?, ?, ?, ?, NOW(3), ?)`,
          [copyName(inc.table, inc.gtid), opts.sourceId, r.table, r.cause, r.gtid, JSON.stringify(r)],
        );
      }
    };

    /** Rebuilds and reports the incidents of one transaction. */
    const recover = async (txn: TxnUnit, incidents: Incident[]): Promise<void> => {
      const todo: Incident[] = [];
      for (const inc of incidents) {
        const name = copyName(inc.table, inc.gtid);
        if (await ledger(name)) {
          if (opts.fromStart) await publish(inc, buildReport(inc, ctx, { copied: await copyRows(name), known: true }), false);
          else log.debug({ name }, 'incident already reported');
          continue;
        }
        const rows = await copyRows(name);
        // The copy is in place but the report may not have gone out (killed in between): report it.
        if (rows !== undefined) await publish(inc, buildReport(inc, ctx, { copied: rows, finishedAt: Date.now() }), true);
        else todo.push(inc);
      }
      if (!todo.length) return;
      const gtid = formatGtid(txn.gtid);
      const scratch = `pitr_guard_${randomBytes(4).toString('hex')}`;
      const database = todo.every((i) => i.database !== undefined) ? todo[0]!.database : undefined;
      let error: string | undefined;
      let restored: Map<string, number> | undefined;
      for (let attempt = 1; ; attempt++) {
        try {
          const res = await runRestore({
            kafka: opts.kafka,
            sourceId: opts.sourceId,
            target: opts.target,
            ...(database !== undefined ? { database } : { tables: todo.map((i) => i.table) }),
            cut: { beforeGtid: txn.gtid },
            intoDatabase: scratch,
            noObjects: true,
          });
          ctx.binlogBasename ??= binlogBasename(res.position.replace(/:\d+$/, ''));
          await makeKeyNamesUnique(db, scratch, into, todo.map((i) => i.table.table), txn.gtid);
          const renames = todo.map((i) => `${qualified(scratch, i.table.table)} TO ${qualified(into, copyName(i.table, i.gtid))}`);
          await db.query(`RENAME TABLE ${renames.join(', ')}`);
          restored = new Map(res.tables.map((t) => [t.table, t.rows]));
          break;
        } catch (err) {
          const e = err as PitrError;
          if (e.retriable && attempt < 3) {
            log.warn({ gtid, err: e.message, attempt }, 'rebuild failed; retrying');
            await new Promise((r) => setTimeout(r, 1000 * attempt));
            continue;
          }
          error = redact(e.message ?? String(err));
          break;
        } finally {
          await db.query(`DROP DATABASE IF EXISTS ${qid(scratch)}`).catch(() => undefined);
        }
      }
      const finishedAt = Date.now();
      for (const inc of todo) {
        await publish(inc, buildReport(inc, ctx, error ? { error } : { copied: restored?.get(inc.table.table), finishedAt }), true);
      }
    };

    const schedule = (txn: TxnUnit, incidents: Incident[]) => {
      pending.set(txn.indexOffset, (pending.get(txn.indexOffset) ?? 0) + 1);
      log.warn({ gtid: formatGtid(txn.gtid), tables: incidents.map((i) => `${i.table.database}.${i.table.table}`), cause: incidents[0]!.cause }, 'destructive transaction found');
      const job = pool
        .run(() => recover(txn, incidents))
        .catch((err) => {
          failure ??= err as Error;
        })
        .finally(() => {
          const n = (pending.get(txn.indexOffset) ?? 1) - 1;
          if (n <= 0) pending.delete(txn.indexOffset);
          else pending.set(txn.indexOffset, n);
          jobs.delete(job);
          void commit();
          changed();
        });
      jobs.add(job);
    };

    const handle = (item: SequencedItem) => {
      switch (item.kind) {
        case 'snapshotBegin':
          tracker.snapshotBegin(item.msg.tables);
          ctx.binlogBasename ??= binlogBasename(item.msg.binlogFile);
          return;
        case 'snapshotEnd':
          tracker.snapshotEnd(item.msg.tables.map((t) => ({ database: t.database, table: t.table, rows: Number(t.rows) })));
          return;
        case 'txn': {
          result.transactions++;
          const incidents = examineTxn(item.txn, tracker, opts.policy);
          if (incidents.length && item.txn.indexOffset >= boundary) {
            // A DROP DATABASE is rebuilt as one database; anything else per transaction.
            const dbDrop = incidents.filter((i) => i.database !== undefined);
            const other = incidents.filter((i) => i.database === undefined);
            if (dbDrop.length) schedule(item.txn, dbDrop);
            if (other.length) schedule(item.txn, other);
          }
          return;
        }
        case 'indexDone':
          lastIndexDone = item.offset;
          return;
      }
    };
    const pump = () => {
      for (const item of seq.drain()) handle(item);
      changed();
    };

    await follower.start(
      new Map([
        [topics.meta, new Map([[0, metaLow]])],
        [topics.changes, new Map([...changeEnds].map(([p, e]) => [p, e.low]))],
      ]),
      {
        onBatch: async (topic: string, partition: number, msgs: FollowedMessage[]) => {
          if (topic === topics.meta) {
            for (const m of msgs) seq.addMeta(m.offset, decodeRecord(m.value, { topic, partition: 0, offset: m.offset }, opts.sourceId));
            // Measured after these TxnIndex records were seen: their changes are all below.
            seq.setEnds(await follower.highWatermarks(topics.changes));
          } else {
            for (const m of msgs) {
              if (m.offset < seq.reachedOf(partition)) continue;
              if (recordBodyField(m.value) === RecordField.SnapshotRows) {
                seq.skipChange(partition, m.offset);
                continue;
              }
              const rec = decodeRecord(m.value, { topic, partition, offset: m.offset }, opts.sourceId);
              if (rec.change) seq.addChange(partition, m.offset, rec.change);
              else seq.skipChange(partition, m.offset);
            }
          }
          pump();
        },
        onReached: (topic, partition, next) => {
          if (topic === topics.meta) {
            if (next > seq.metaReached) seq.skipMeta(next - 1n);
          } else seq.reachedTo(partition, next);
          pump();
        },
        onFailure: (err) => {
          failure ??= err;
          changed();
        },
      },
    );
    log.info({ group: groupId }, 'following the log');
    void commit();

    const stopSignal = () => {
      stopped = true;
      changed();
    };
    process.once('SIGINT', stopSignal);
    process.once('SIGTERM', stopSignal);
    opts.signal?.addEventListener('abort', stopSignal);
    const ticker = setInterval(() => void commit(), 2000);
    const caughtUp = () =>
      seq.metaReached >= (metaEnds.get(0)?.high ?? 0n) && [...changeEnds].every(([p, e]) => seq.reachedOf(p) >= e.high) && seq.idle;
    try {
      for (;;) {
        if (failure) throw failure;
        if (stopped) break;
        if (opts.once && caughtUp() && jobs.size === 0) break;
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 500);
        });
      }
      // Let running rebuilds finish and report before saving the position for the last time.
      await Promise.all([...jobs]);
      if (failure) throw failure;
      await commit();
    } finally {
      clearInterval(ticker);
      process.off('SIGINT', stopSignal);
      process.off('SIGTERM', stopSignal);
    }
  } finally {
    await follower.stop();
    await db.end().catch(() => undefined);
  }
  result.seconds = (Date.now() - started) / 1000;
  // Rebuilds run in this process: their memory is guard's too.
  result.peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  return result;
}

