// One run of guard (the orchestrator): follows the log (meta + changes) in commit order, judges every
// transaction against the tables as they stood just before it, and for each destructive one rebuilds the
// victims as of just before it (a --before-gtid cut) into the recovery database under a name that says
// table and cut, then reports. Rebuilds run in parallel (bounded). Its parts: the incident ledger (SQL next
// to the copies, also guard's saved state), the notifier (webhook) and the offset committer (the saved
// position only moves past an incident once its copy is in place and reported). A restart starts from the
// saved state, checked against the log, instead of rereading the log's whole history.
import { randomBytes } from 'node:crypto';
import { LogFollower, type FollowedMessage } from '../log/log-follower.js';
import { logTopics, type LogTopics } from '../log/topics.js';
import { decodeRecord, peekRecord, RecordField } from '../log/record-codec.js';
import { runRestore } from '../replay/restore.js';
import { connectMysql, qid, qualified, type Connection } from '../core/mysql-conn.js';
import { describeMysqlUrl } from '../core/mysql-url.js';
import { formatGtid } from '../core/gtid.js';
import { binlogBasename } from '../core/position.js';
import { PitrError, redact } from '../core/errors.js';
import { logger } from '../core/logger.js';
import { LogSequencer, type SequencedItem, type TxnUnit } from './log-sequencer.js';
import { TableTracker } from './table-tracker.js';
import { examineTxn, type Incident } from './incident-detector.js';
import { buildReport, copyName, type IncidentReport, type ReportContext } from './incident-report.js';
import { recordedSourceTexts, refuseSourceAsTarget, refuseSystemSchema } from '../replay/target-guard.js';
import { kafkaClient } from '../log/kafka-log.js';
import { readMeta } from '../log/meta-reader.js';
import { makeKeyNamesUnique } from './copy-keys.js';
import { IncidentLedger } from './incident-ledger.js';
import { IncidentNotifier } from './incident-notifier.js';
import { OffsetCommitter } from './offset-committer.js';
import { decodeGuardState, encodeGuardState, resumeOffset, ResumeCheck, type GuardState, type PartitionMark } from './guard-state.js';
import type { ChainHead } from '../log/integrity-chain.js';
import type { GuardOptions, GuardResult } from './guard.js';

/** The saved state no longer matches the log: this run stops, and guard starts again from the log's start. */
export class GuardStateMismatch extends PitrError {}

/** A counting semaphore: at most `n` rebuilds at once. */
export class Pool {
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

/** How often guard's state is saved at most (when nothing is in flight), ms. */
const STATE_EVERY_MS = 5000;

export function guardGroupId(sourceId: string, name?: string): string {
  return `pitr-guard-${sourceId}${name ? `-${name}` : ''}`;
}

export class GuardSession {
  private readonly log = logger().child({ component: 'guard' });
  private readonly started = Date.now();
  private readonly topics: LogTopics;
  private readonly groupId: string;
  private readonly follower: LogFollower;
  private readonly ctx: ReportContext;
  private readonly result: GuardResult = { transactions: 0, incidents: 0, seconds: 0 };
  private readonly notifier: IncidentNotifier;
  private readonly pool: Pool;
  private readonly jobs = new Set<Promise<void>>();
  private db!: Connection;
  private ledger!: IncidentLedger;
  private committer!: OffsetCommitter;
  private seq!: LogSequencer;
  private tracker = new TableTracker();
  private resumeCheck = new ResumeCheck([]);
  /** Last chained record read per topic and partition (what the saved state is checked by). */
  private readonly lastLinks = new Map<string, { offset: bigint; link: ChainHead }>();
  private boundary = 0n;
  private failure: Error | undefined;
  private stopped = false;
  private wake: () => void = () => undefined;
  private lastStateAt = 0;
  private lastStateKey = '';
  /** Source server identities the log recorded, as far as read (guard's target must be none of them). */
  private readonly sourceServers = new Set<string>();
  /** Started from a saved state. */
  private resumed = false;

  constructor(
    private readonly opts: GuardOptions,
    /** Ignore any saved state (after one did not match the log). */
    private readonly ignoreState = false,
  ) {
    this.topics = logTopics(opts.sourceId);
    this.groupId = guardGroupId(opts.sourceId, opts.name);
    this.follower = new LogFollower(opts.kafka, this.groupId, [this.topics.meta, this.topics.changes]);
    this.ctx = {
      intoDatabase: opts.intoDatabase,
      recoveryUrl: `mysql://${describeMysqlUrl(opts.target)}`,
      sourceUrl: opts.source ? `mysql://${describeMysqlUrl(opts.source)}` : undefined,
    };
    this.notifier = new IncidentNotifier(opts.notify);
    this.pool = new Pool(opts.concurrency ?? 4);
  }

  async run(): Promise<GuardResult> {
    const into = this.opts.intoDatabase;
    const topics = this.topics;
    refuseSystemSchema(into, `guard --into-database ${into}`);
    const db = await connectMysql(this.opts.target, 'recovery');
    this.db = db;
    try {
      this.ledger = new IncidentLedger(db, into, this.opts.sourceId);
      const stateText = this.opts.fromStart || this.ignoreState ? undefined : await this.ledger.loadState(this.groupId);
      // The copies must never land in the server they protect: compare with the source identities the log
      // recorded (the source URL is for the report only and is not connected to), as the saved state lists
      // them up to its position (newer ones are checked as they are read), else as the whole meta topic does.
      const fromState = stateText === undefined ? undefined : decodeGuardState(stateText, this.opts.sourceId);
      if (fromState !== undefined && typeof fromState !== 'string' && fromState.sourceServers.length) {
        for (const t of fromState.sourceServers) this.sourceServers.add(t);
      } else {
        const meta = await readMeta(kafkaClient(this.opts.kafka, 'reader', { clientId: `pitr-guard-check-${this.opts.sourceId}` }), topics, this.opts.sourceId);
        for (const t of recordedSourceTexts(meta)) this.sourceServers.add(t);
      }
      await refuseSourceAsTarget(db, { recorded: [...this.sourceServers] }, "guard's recovery server");
      await db.query(`CREATE DATABASE IF NOT EXISTS ${qid(into)}`);
      await this.ledger.ensure();

      // Where to start: from the saved state (checked against the log as it is read) or the log's start, for
      // row counts and definitions; incidents are acted on only for transactions indexed at or after
      // `boundary` on the meta topic.
      const committed = await this.follower.committed();
      const metaEnds = await this.follower.stableEnds(topics.meta);
      const changeEnds = await this.follower.stableEnds(topics.changes);
      const metaLow = metaEnds.get(0)?.low ?? 0n;
      const saved = committed.get(topics.meta)?.get(0);
      this.boundary = this.opts.fromStart ? metaLow : saved ?? metaEnds.get(0)?.high ?? 0n;
      const state = fromState === undefined ? undefined : this.usableState(fromState, metaLow, changeEnds);
      const metaMark: PartitionMark = state?.meta ?? { next: metaLow };
      const changeMarks = new Map([...changeEnds].map(([p, e]) => [p, state?.changes.get(p) ?? { next: e.low }]));
      if (state) {
        this.tracker = TableTracker.fromState(state.tracker);
        this.ctx.binlogBasename = state.binlogBasename;
        this.result.transactions = state.transactions;
        this.resumeCheck = new ResumeCheck([
          { topic: topics.meta, partition: 0, mark: metaMark },
          ...[...changeMarks].map(([partition, mark]) => ({ topic: topics.changes, partition, mark })),
        ]);
      }
      this.log.info(
        { group: this.groupId, boundary: this.boundary.toString(), saved: saved?.toString() ?? null, fromStart: !!this.opts.fromStart, resumed: !!state, stateMeta: state?.meta.next.toString() ?? null },
        'guard starting',
      );
      this.seq = new LogSequencer(new Map([...changeMarks].map(([p, m]) => [p, m.next])), metaMark.next);
      this.committer = new OffsetCommitter(topics.meta, this.boundary, topics.changes, () => this.seq.changesPosition(), (o) => this.follower.commit(o), saved);

      await this.follower.start(
        new Map([
          [topics.meta, new Map([[0, resumeOffset(metaMark)]])],
          [topics.changes, new Map([...changeMarks].map(([p, m]) => [p, resumeOffset(m)]))],
        ]),
        {
          onBatch: (topic, partition, msgs) => this.onBatch(topic, partition, msgs),
          onReached: (topic, partition, next) => {
            if (topic === topics.meta) {
              if (next > this.seq.metaReached) this.seq.skipMeta(next - 1n);
            } else this.seq.reachedTo(partition, next);
            this.pump();
          },
          onFailure: (err) => {
            this.failure ??= err;
            this.changed();
          },
        },
      );
      this.resumed = !!state;
      this.log.info({ group: this.groupId, resumed: this.resumed }, 'following the log');
      void this.committer.commit();
      await this.loop(metaEnds.get(0)?.high ?? 0n, changeEnds);
    } finally {
      await this.follower.stop();
      await db.end().catch(() => undefined);
    }
    this.result.seconds = (Date.now() - this.started) / 1000;
    // Rebuilds run in this process: their memory is guard's too.
    this.result.peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
    return this.result;
  }

  /** The saved state if it fits the log as it is now (partitions, offsets in range), else undefined (logged). */
  private usableState(st: GuardState | string, metaLow: bigint, changeEnds: Map<number, { low: bigint; high: bigint }>): GuardState | undefined {
    const why =
      typeof st === 'string'
        ? st
        : st.meta.next < metaLow
          ? 'the meta topic no longer holds where it was saved'
          : st.changes.size !== changeEnds.size || [...st.changes].some(([p, m]) => !changeEnds.has(p) || m.next < changeEnds.get(p)!.low)
            ? 'the changes topic has another layout or no longer holds where it was saved'
            : undefined;
    if (why) {
      this.log.warn({ reason: why }, 'saved guard state not used: reading the log from its start');
      return undefined;
    }
    return st as GuardState;
  }

  private changed(): void {
    this.wake();
  }

  private async onBatch(topic: string, partition: number, msgs: FollowedMessage[]): Promise<void> {
    const topics = this.topics;
    const bad = this.resumeCheck.done ? undefined : this.resumeCheck.check(topic, partition, msgs[0]!);
    if (bad) {
      this.failure ??= new GuardStateMismatch(`guard's saved state does not match the log: ${bad}`);
      this.changed();
      return;
    }
    for (const m of msgs) if (m.link) this.lastLinks.set(`${topic}/${partition}`, { offset: m.offset, link: m.link });
    if (topic === topics.meta) {
      for (const m of msgs) {
        if (m.offset < this.seq.metaReached) continue;
        const rec = decodeRecord(m.value, `${topic}/0@${m.offset}`, this.opts.sourceId);
        const identity = rec.txnIndex?.sourceServer || rec.snapshotBegin?.sourceServer;
        if (identity && !this.sourceServers.has(identity)) {
          // A source identity the start did not know (a failover while guard was down): vet the target again.
          this.sourceServers.add(identity);
          try {
            await refuseSourceAsTarget(this.db, { recorded: [identity] }, "guard's recovery server");
          } catch (err) {
            this.failure ??= err as Error;
            this.changed();
            return;
          }
        }
        this.seq.addMeta(m.offset, rec);
      }
      // Measured after these TxnIndex records were seen: their changes are all below.
      this.seq.setEnds(await this.follower.highWatermarks(topics.changes));
    } else {
      for (const m of msgs) {
        if (m.offset < this.seq.reachedOf(partition)) continue;
        // Snapshot rows are skipped unread: their tables' counts come from SnapshotEnd.
        if (peekRecord(m.value, `${topic}/${partition}@${m.offset}`, this.opts.sourceId).body !== RecordField.Change) {
          this.seq.skipChange(partition, m.offset);
          continue;
        }
        const rec = decodeRecord(m.value, `${topic}/${partition}@${m.offset}`, this.opts.sourceId);
        this.seq.addChange(partition, m.offset, rec.change!);
      }
    }
    this.pump();
  }

  private pump(): void {
    for (const item of this.seq.drain()) this.handle(item);
    this.changed();
  }

  private handle(item: SequencedItem): void {
    switch (item.kind) {
      case 'snapshotBegin':
        this.tracker.snapshotBegin(item.msg.tables);
        this.ctx.binlogBasename ??= binlogBasename(item.msg.binlogFile);
        return;
      case 'snapshotEnd':
        this.tracker.snapshotEnd(item.msg.tables.map((t) => ({ database: t.database, table: t.table, rows: Number(t.rows) })));
        return;
      case 'txn': {
        this.result.transactions++;
        const incidents = examineTxn(item.txn, this.tracker, this.opts.policy);
        if (incidents.length && item.txn.indexOffset >= this.boundary) {
          // A DROP DATABASE is rebuilt as one database; anything else per transaction.
          const dbDrop = incidents.filter((i) => i.database !== undefined);
          const other = incidents.filter((i) => i.database === undefined);
          if (dbDrop.length) this.schedule(item.txn, dbDrop);
          if (other.length) this.schedule(item.txn, other);
        }
        return;
      }
      case 'indexDone':
        this.committer.indexDone(item.offset);
        return;
    }
  }

  private schedule(txn: TxnUnit, incidents: Incident[]): void {
    this.committer.hold(txn.indexOffset);
    this.log.warn({ gtid: formatGtid(txn.gtid), tables: incidents.map((i) => `${i.table.database}.${i.table.table}`), cause: incidents[0]!.cause }, 'destructive transaction found');
    const job = this.pool
      .run(() => this.recover(txn, incidents))
      .catch((err) => {
        this.failure ??= err as Error;
      })
      .finally(() => {
        this.committer.release(txn.indexOffset);
        this.jobs.delete(job);
        void this.committer.commit();
        this.changed();
      });
    this.jobs.add(job);
  }

  private async publish(inc: Incident, r: IncidentReport, record: boolean): Promise<void> {
    this.opts.onReport(r);
    this.result.incidents++;
    this.log.error({ incident: r }, `${r.cause} on ${r.table} at GTID ${r.gtid}: ${r.error ? `copy failed: ${r.error}` : `copy in ${r.into}`}`);
    await this.notifier.notify(r);
    if (record) await this.ledger.record(inc, r);
  }

  /** Rebuilds and reports the incidents of one transaction. */
  private async recover(txn: TxnUnit, incidents: Incident[]): Promise<void> {
    const into = this.opts.intoDatabase;
    const todo: Incident[] = [];
    for (const inc of incidents) {
      const name = copyName(inc.table, inc.gtid);
      if (await this.ledger.has(name)) {
        if (this.opts.fromStart) await this.publish(inc, buildReport(inc, this.ctx, { copied: await this.ledger.copyRows(name), known: true }), false);
        else this.log.debug({ name }, 'incident already reported');
        continue;
      }
      const rows = await this.ledger.copyRows(name);
      // The copy is in place but the report may not have gone out (killed in between): report it.
      if (rows !== undefined) await this.publish(inc, buildReport(inc, this.ctx, { copied: rows, finishedAt: Date.now() }), true);
      else todo.push(inc);
    }
    if (!todo.length) return;
    const gtid = formatGtid(txn.gtid);
    const scratch = `pitr_guard_${randomBytes(4).toString('hex')}`;
    const database = todo.every((i) => i.database !== undefined) ? todo[0]!.database : undefined;
    let error: string | undefined;
    let restored: Map<string, number> | undefined;
    const db = this.db;
    {
      for (let attempt = 1; ; attempt++) {
        try {
          const res = await runRestore({
            kafka: this.opts.kafka,
            sourceId: this.opts.sourceId,
            target: this.opts.target,
            ...(database !== undefined ? { database } : { tables: todo.map((i) => i.table) }),
            cut: { beforeGtid: txn.gtid },
            intoDatabase: scratch,
            noObjects: true,
          });
          this.ctx.binlogBasename ??= binlogBasename(res.position.replace(/:\d+$/, ''));
          await makeKeyNamesUnique(db, scratch, into, todo.map((i) => i.table.table), txn.gtid);
          const renames = todo.map((i) => `${qualified(scratch, i.table.table)} TO ${qualified(into, copyName(i.table, i.gtid))}`);
          await db.query(`RENAME TABLE ${renames.join(', ')}`);
          restored = new Map(res.tables.map((t) => [t.table, t.rows]));
          break;
        } catch (err) {
          const e = err as PitrError;
          if (e.retriable && attempt < 3) {
            this.log.warn({ gtid, err: e.message, attempt }, 'rebuild failed; retrying');
            await new Promise((r) => setTimeout(r, 1000 * attempt));
            continue;
          }
          error = redact(e.message ?? String(err));
          break;
        } finally {
          await db.query(`DROP DATABASE IF EXISTS ${qid(scratch)}`).catch(() => undefined);
        }
      }
    }
    const finishedAt = Date.now();
    for (const inc of todo) {
      await this.publish(inc, buildReport(inc, this.ctx, error ? { error } : { copied: restored?.get(inc.table.table), finishedAt }), true);
    }
  }

  /**
   * Saves what guard knows when nothing is in flight (no transaction half read, no incident waiting for its
   * copy): a restart starts from there. At most every STATE_EVERY_MS, and only when something moved.
   */
  private async saveState(force = false): Promise<void> {
    if (!this.seq.empty || !this.committer.idle || this.failure) return;
    if (!force && Date.now() - this.lastStateAt < STATE_EVERY_MS) return;
    const topics = this.topics;
    const mark = (topic: string, partition: number, next: bigint): PartitionMark => {
      const l = this.lastLinks.get(`${topic}/${partition}`);
      return l && l.offset < next ? { next, check: l } : { next };
    };
    const changes = new Map([...this.seq.changesPosition()].map(([p, next]) => [p, mark(topics.changes, p, next)]));
    const state: GuardState = {
      sourceId: this.opts.sourceId,
      meta: mark(topics.meta, 0, this.seq.metaReached),
      changes,
      tracker: this.tracker.exportState(),
      binlogBasename: this.ctx.binlogBasename,
      transactions: this.result.transactions,
      sourceServers: [...this.sourceServers],
    };
    const key = `${state.meta.next}:${[...changes.values()].map((m) => m.next).join(',')}`;
    if (key === this.lastStateKey) return;
    this.lastStateAt = Date.now();
    try {
      await this.ledger.saveState(this.groupId, encodeGuardState(state));
      this.lastStateKey = key;
      this.log.info({ meta: state.meta.next.toString(), transactions: state.transactions, tables: state.tracker.tables.length }, 'guard state saved');
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not save guard state; retrying later');
    }
  }

  private async loop(metaHigh: bigint, changeEnds: Map<number, { low: bigint; high: bigint }>): Promise<void> {
    const stopSignal = () => {
      this.stopped = true;
      this.changed();
    };
    process.once('SIGINT', stopSignal);
    process.once('SIGTERM', stopSignal);
    this.opts.signal?.addEventListener('abort', stopSignal);
    const ticker = setInterval(() => {
      void this.committer.commit();
      void this.saveState();
    }, 2000);
    // Resumed: caught up also means the consumer has read (and matched) the last record of each partition again.
    const caughtUp = () =>
      this.seq.metaReached >= metaHigh && [...changeEnds].every(([p, e]) => this.seq.reachedOf(p) >= e.high) && this.seq.idle && this.resumeCheck.done;
    let saidCaughtUp = false;
    try {
      for (;;) {
        if (this.failure) throw this.failure;
        if (this.stopped) break;
        const up = caughtUp();
        if (up && !saidCaughtUp) {
          // Read up to where the log ended at start: save the state now, not at the next tick.
          saidCaughtUp = true;
          // Restart-to-watching: read up to the log's end as it was at start, so what commits now is judged at once.
          this.log.info(
            { transactions: this.result.transactions, resumed: this.resumed, startSeconds: +((Date.now() - this.started) / 1000).toFixed(3), processSeconds: +process.uptime().toFixed(3) },
            'watching: caught up with the log',
          );
          await this.saveState(true);
        }
        if (this.opts.once && up && this.jobs.size === 0) break;
        await new Promise<void>((r) => {
          this.wake = r;
          setTimeout(r, 500);
        });
      }
      // Let running rebuilds finish and report before saving the position for the last time.
      await Promise.all([...this.jobs]);
      if (this.failure) throw this.failure;
      await this.committer.commit();
      await this.saveState(true);
    } finally {
      clearInterval(ticker);
      process.off('SIGINT', stopSignal);
      process.off('SIGTERM', stopSignal);
    }
  }
}
