// Capture orchestrator: finds its resume point in the log itself, snapshots on first start (or after
// a recorded gap), then tails the binlog and appends whole source transactions to Kafka in atomic
// batches; rides out source and broker outages, and stops reading the binlog when the log cannot
// keep up rather than buffering without bound.
import { formatIdentity, sameBinlogServer, serverIdentity } from '../core/server-identity.js';
import type { Kafka } from 'kafkajs';
import { BinlogSource } from './binlog-source.js';
import { TransactionBuilder, ALL_USER_TABLES, type SourceTxn, type TableFilter } from './transaction-builder.js';
import { takeSnapshot } from './snapshotter.js';
import { parseTableFilter } from './table-filter.js';
import { kafkaClient, LogAppender, type OutMessage } from '../log/kafka-log.js';
import { logTopics, transactionalId, type LogTopics } from '../log/topics.js';
import { checkTopicConfig } from '../log/provision.js';
import { encodeRecord, tableKey, META_KEY, toPositionMsg } from '../log/record-codec.js';
import { RECORD_VERSION, type RecordMsg } from '../log/record-types.js';
import { readMeta } from '../log/meta-reader.js';
import type { MetaState } from '../log/meta-state.js';
import { txnBatchMessages, rowSize, type ResumePoint } from '../log/txn-records.js';
import { partitionFor } from '../log/partitioner.js';
import type { KafkaSettings } from '../core/settings.js';
import type { MysqlUrl } from '../core/mysql-url.js';
import { connectMysql } from '../core/mysql-conn.js';
import { comparePositions, formatPosition, type Position } from '../core/position.js';
import { ConnectionError, CoverageError, PitrError } from '../core/errors.js';
import { formatEpoch } from '../core/cut-time.js';
import { logger } from '../core/logger.js';
import { formatGtid, gtidPosAfter, gtidPosCovers } from '../core/gtid.js';
import { captureMetrics } from '../metrics/metrics.js';

export interface CaptureOptions {
  source: MysqlUrl;
  kafka: KafkaSettings;
  sourceId: string;
  filter?: TableFilter;
  /** The --tables text behind `filter` (normalized; "" = every user database), recorded in the log. */
  tableFilterSpec?: string;
  /** Exit once everything written to the source before start is durably in the log. */
  untilCaughtUp?: boolean;
  /** When the binlog needed to resume is gone: record the gap in the log and take a fresh snapshot. */
  resnapshot?: boolean;
  /** Replica server id presented to the source. */
  serverId?: number;
  /** Flush a batch at least this often (ms). */
  flushIntervalMs?: number;
  /** Resident memory cap (bytes): above it capture stops reading the binlog until the log catches up. */
  memoryCapBytes?: number;
  signal?: AbortSignal;
}

export interface CaptureResult {
  transactions: number;
  rowChanges: number;
  snapshotRows: number;
  seconds: number;
  position?: Position;
  /** Outages ridden out (source or Kafka unreachable for a while). */
  outages: number;
}

export const DEFAULT_MEMORY_CAP = 256 * 1024 * 1024;

/** The binlog needed to resume is gone: capture stops rather than skip history silently. */
export class BinlogGapError extends CoverageError {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The source answered that the binlog needed to resume was purged (error 1236 and kin). */
function isPurged(err: Error): boolean {
  return /no longer holds/.test(err.message);
}

/** Kafka said another producer with our transactional id took over. */
function isFenced(err: unknown): boolean {
  const text = JSON.stringify({ m: (err as Error)?.message, t: (err as { type?: string })?.type, c: String((err as { cause?: unknown })?.cause ?? '') });
  return /PRODUCER_FENCED|INVALID_PRODUCER_EPOCH|fenced/i.test(text);
}

export async function runCapture(opts: CaptureOptions): Promise<CaptureResult> {
  const session = new CaptureSession(opts);
  return session.run();
}

/** The source's binlog head: its GTID position, its clock and who it is. */
export async function sourceHead(source: MysqlUrl): Promise<{ gtidPos: string; now: number; server: string }> {
  const conn = await connectMysql(source, 'source');
  try {
    const [rows] = await conn.query('SELECT @@log_bin AS lb, @@gtid_binlog_pos AS g, UNIX_TIMESTAMP() AS t, @@server_id AS sid');
    const r = (rows as { lb: number; g: string; t: string; sid: number }[])[0]!;
    if (!Number(r.lb)) throw new PitrError('the source has no binary log enabled; start it with log_bin.');
    // The full identity (host, port, UUID) lets restore recognise the source whatever URL reaches it.
    return { gtidPos: r.g ?? '', now: Number(r.t), server: formatIdentity(await serverIdentity(conn)) };
  } finally {
    await conn.end().catch(() => undefined);
  }
}

/** The oldest GTID position the source's binlog still holds (start of its first binlog file). */
async function oldestBinlogGtidPos(source: MysqlUrl): Promise<{ file: string; gtidPos: string }> {
  const conn = await connectMysql(source, 'source');
  try {
    const [logs] = await conn.query('SHOW BINARY LOGS');
    const first = (logs as { Log_name: string }[])[0];
    if (!first) return { file: '', gtidPos: '' };
    const [g] = await conn.query('SELECT BINLOG_GTID_POS(?, 4) AS g', [first.Log_name]);
    return { file: first.Log_name, gtidPos: (g as { g: string | null }[])[0]!.g ?? '' };
  } finally {
    await conn.end().catch(() => undefined);
  }
}


function txnBytes(t: SourceTxn): number {
  let n = 64;
  for (const tc of t.tables.values()) for (const c of tc.changes) n += 16 + rowSize(c.before?.values) + rowSize(c.after?.values);
  for (const d of t.ddl) n += d.statement.length;
  return n;
}

/** Reports an outage once when it starts and once when it ends. */
class Outage {
  private since = 0;
  constructor(private readonly what: string, private readonly onStart: () => void) {}
  failed(err: unknown): void {
    if (this.since) return;
    this.since = Date.now();
    this.onStart();
    captureMetrics.errors.inc({ component: this.what === 'Kafka' ? 'kafka' : 'source' });
    logger().child({ component: 'capture' }).warn({ err: (err as Error)?.message }, `${this.what} is unreachable; capture retries with backoff`);
  }
  recovered(): void {
    if (!this.since) return;
    logger().child({ component: 'capture' }).info({ seconds: (Date.now() - this.since) / 1000 }, `${this.what} is back; capture goes on`);
    this.since = 0;
  }
}

class CaptureSession {
  private readonly log = logger().child({ component: 'capture' });
  private readonly topics: LogTopics;
  private readonly kafka: Kafka;
  private readonly filter: TableFilter;
  private readonly result: CaptureResult = { transactions: 0, rowChanges: 0, snapshotRows: 0, seconds: 0, outages: 0 };
  private appender!: LogAppender;
  private partitions = 0;
  private epoch = 0;
  private server = '';
  private resume!: ResumePoint;
  private pending: SourceTxn[] = [];
  /** Tables added to the filter by a partial snapshot: their changes up to its position are in it. */
  private readonly skipUntil = new Map<string, Position>();
  private pendingRows = 0;
  private pendingBytes = 0;
  private builder: TransactionBuilder;
  private source: BinlogSource | null = null;
  private sourceFailure: PitrError | undefined;
  private paused = false;
  private stopping = false;
  private readonly cap: number;
  private readonly kafkaOutage: Outage;
  private readonly sourceOutage: Outage;

  constructor(private readonly opts: CaptureOptions) {
    this.topics = logTopics(opts.sourceId);
    this.kafka = kafkaClient(opts.kafka, 'capture', { clientId: `pitr-capture-${opts.sourceId}` });
    this.filter = opts.filter ?? ALL_USER_TABLES;
    this.builder = new TransactionBuilder(this.filter);
    this.cap = opts.memoryCapBytes ?? DEFAULT_MEMORY_CAP;
    this.kafkaOutage = new Outage('Kafka', () => this.result.outages++);
    this.sourceOutage = new Outage('the source server', () => this.result.outages++);
  }

  private wrap(body: Omit<RecordMsg, 'version' | 'sourceId'>): Buffer {
    return encodeRecord({ version: RECORD_VERSION, sourceId: this.opts.sourceId, ...body });
  }

  async run(): Promise<CaptureResult> {
    const started = Date.now();
    await this.checkTopics();
    await this.connectLog();
    try {
      const meta = await readMeta(this.kafka, this.topics, this.opts.sourceId, 'pitr-capture');
      const head = await sourceHead(this.opts.source);
      this.server = head.server;
      this.epoch = meta.resume?.position.epoch ?? meta.completeSnapshots().at(-1)?.position.epoch ?? 0;
      const lastServer = meta.resume?.sourceServer || meta.completeSnapshots().at(-1)?.begin.sourceServer || '';
      if (lastServer && !sameBinlogServer(lastServer, this.server)) {
        // Same GTID history on another server (failover): its binlog offsets start anew, so later
        // positions get a new generation to stay ordered after everything already in the log.
        this.epoch++;
        this.log.warn({ from: lastServer, to: this.server, epoch: this.epoch }, 'the source is another server than before; continuing its GTID history');
      }
      this.resume = await this.startingPoint(meta);
      await this.stream();
    } finally {
      await this.appender.disconnect();
    }
    this.result.seconds = (Date.now() - started) / 1000;
    this.result.position = this.resume?.position;
    return this.result;
  }

  private async checkTopics(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      for (const topic of [this.topics.changes, this.topics.meta]) {
        const problems = await checkTopicConfig(admin, topic);
        if (problems.length) throw new PitrError(`capture refuses to write to ${topic}: ${problems.join('; ')}.`);
      }
      const md = await admin.fetchTopicMetadata({ topics: [this.topics.changes] });
      this.partitions = md.topics[0]!.partitions.length;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** A fresh transactional producer: initialising it aborts whatever a previous one left open. */
  private async connectLog(): Promise<void> {
    this.appender = new LogAppender(this.kafka, transactionalId(this.opts.sourceId));
    await this.appender.connect();
    // Every record extends its partition's hash chain: start from the heads already in the log.
    await this.appender.loadChainHeads([this.topics.changes, this.topics.meta]);
  }

  private async append(messages: OutMessage[]): Promise<void> {
    try {
      await this.appender.appendAtomically(messages);
    } catch (err) {
      if (isFenced(err)) {
        throw new PitrError(`another capture process for source "${this.opts.sourceId}" took over the log; this one stops.`, { cause: err });
      }
      throw err;
    }
  }

  private async startingPoint(meta: MetaState): Promise<ResumePoint> {
    const snaps = meta.completeSnapshots();
    const lastGap = meta.gaps.at(-1);
    const snapAfterGap = lastGap && snaps.find((s) => s.position.epoch === this.epoch && s.begin.time >= lastGap.gap.detectedTime);
    if (!snaps.length || (lastGap && !snapAfterGap)) {
      this.log.info('no usable snapshot in the log: taking a consistent snapshot of the source');
      return this.snapshotAndMark();
    }
    const resume: ResumePoint = meta.resume && (!snapAfterGap || meta.resume.time >= snapAfterGap.begin.time)
      ? { ...meta.resume }
      : { binlogFile: snaps.at(-1)!.begin.binlogFile, position: snaps.at(-1)!.position, gtidPos: snaps.at(-1)!.begin.gtidPos, time: snaps.at(-1)!.begin.time };
    this.log.info({ position: formatPosition(resume.position, resume.binlogFile.replace(/\.\d+$/, '')), gtid: resume.gtidPos }, 'resuming from the log');
    await this.widen(meta);
    return resume;
  }

  /**
   * When the --tables filter grew since the log last recorded it, snapshots just the tables it now
   * adds (a partial snapshot) instead of restarting the whole log; their changes up to that
   * snapshot's position are skipped while the binlog catches up from the old resume point.
   */
  private async widen(meta: MetaState): Promise<void> {
    const spec = this.opts.tableFilterSpec ?? '';
    const last = meta.resume?.tableFilter ?? meta.completeSnapshots().at(-1)?.begin.tableFilter ?? '';
    if (spec === last) return;
    const before = parseTableFilter(last);
    const added = (db: string, t: string) => this.filter(db, t) && !before(db, t);
    const snap = await this.snapshot({ partial: true, only: added });
    if (!snap) return;
    for (const def of snap.tables) this.skipUntil.set(tableKey(def.database, def.table), snap.position);
    this.log.info({ tables: snap.tables.map((t) => `${t.database}.${t.table}`), filter: spec || '(all)' }, 'snapshotted the tables the wider filter adds');
  }

  private async snapshot(): Promise<ResumePoint>;
  private async snapshot(opts: { partial: true; only: TableFilter }): Promise<{ position: Position; tables: { database: string; table: string }[] } | null>;
  private async snapshot(
    opts?: { partial: true; only: TableFilter },
  ): Promise<ResumePoint | { position: Position; tables: { database: string; table: string }[] } | null> {
    const { topics } = this;
    let snapshotId = '';
    let snapPos: Position = { fileSeq: 0, endPos: 0 };
    // Snapshot chunks go out several per Kafka transaction; SnapshotEnd marks the snapshot usable, so
    // a crash in between leaves an incomplete snapshot that readers ignore and the next start redoes.
    let batch: OutMessage[] = [];
    let batchBytes = 0;
    const flushBatch = async () => {
      if (batch.length) await this.append(batch);
      batch = [];
      batchBytes = 0;
    };
    const only = opts?.only;
    let empty = false;
    const begin = await takeSnapshot(this.opts.source, only ?? this.filter, {
      begin: async (b) => {
        snapshotId = b.snapshotId;
        snapPos = { ...(this.epoch ? { epoch: this.epoch } : {}), fileSeq: b.position.fileSeq, endPos: Number(b.position.endPos) };
        b.position = toPositionMsg(snapPos);
        b.sourceServer = this.server;
        b.tableFilter = this.opts.tableFilterSpec ?? '';
        b.partial = Boolean(opts?.partial);
        // A wider filter that adds no existing table needs no snapshot.
        if (opts?.partial && b.tables.length === 0) {
          empty = true;
          return;
        }
        await this.append([{ topic: topics.meta, partition: 0, key: META_KEY, value: this.wrap({ snapshotBegin: b }) }]);
      },
      rows: async (db, table, columns, rows) => {
        const key = tableKey(db, table);
        this.result.snapshotRows += rows.length;
        captureMetrics.snapshotRows.inc(rows.length);
        const value = this.wrap({ snapshotRows: { snapshotId, database: db, table, columns, rows, position: toPositionMsg(snapPos) } });
        batch.push({ topic: topics.changes, partition: partitionFor(key, this.partitions), key, value });
        batchBytes += value.length;
        if (batchBytes >= 8 * 1024 * 1024) await flushBatch();
      },
      end: async (counts) => {
        if (empty) return;
        await flushBatch();
        await this.append([
          {
            topic: topics.meta,
            partition: 0,
            key: META_KEY,
            value: this.wrap({ snapshotEnd: { snapshotId, position: toPositionMsg(snapPos), tables: counts.map((c) => ({ ...c })) } }),
          },
        ]);
      },
    });
    if (opts?.partial) return empty ? null : { position: snapPos, tables: begin.tables };
    this.log.info(
      { tables: begin.tables.length, rows: this.result.snapshotRows, position: `${begin.binlogFile}:${snapPos.endPos}` },
      'snapshot written',
    );
    return { binlogFile: begin.binlogFile, position: snapPos, gtidPos: begin.gtidPos, time: begin.time };
  }

  /** Records that the log lacks history after `this.resume`, then snapshots anew. */
  private async recordGapAndResnapshot(oldest: string): Promise<void> {
    const head = await sourceHead(this.opts.source);
    await this.append([
      {
        topic: this.topics.meta,
        partition: 0,
        key: META_KEY,
        value: this.wrap({
          gap: {
            after: toPositionMsg(this.resume.position),
            afterGtidPos: this.resume.gtidPos,
            afterTime: this.resume.time,
            sourceOldestGtidPos: oldest,
            detectedTime: head.now,
            reason: 'binlog purged before capture read it',
          },
        }),
      },
    ]);
    this.log.warn({ after: this.resume.gtidPos, oldest }, 'recorded a gap in the log; taking a fresh snapshot');
    this.resume = await this.snapshotAndMark();
  }

  /** A full snapshot, followed at once by a TxnIndex naming it as the resume point. */
  private async snapshotAndMark(): Promise<ResumePoint> {
    this.resume = await this.snapshot();
    await this.flush(this.resume.time);
    return this.resume;
  }

  private startSource(): Promise<void> {
    this.builder = new TransactionBuilder(this.filter);
    this.sourceFailure = undefined;
    const source = new BinlogSource({
      source: this.opts.source,
      serverId: this.opts.serverId ?? 0x7a1e0000 + (process.pid % 65536),
      start: { gtidPos: this.resume.gtidPos },
      onEvent: (ev) => {
        if (source !== this.source) return;
        captureMetrics.events.inc();
        const txn = this.builder.push(ev);
        if (txn) {
          if (this.epoch) txn.position.epoch = this.epoch;
          if (this.skipUntil.size) this.dropSnapshotted(txn);
          this.pending.push(txn);
          this.pendingRows += txn.rowCount;
          this.pendingBytes += txnBytes(txn);
          this.applyBackpressure();
          captureMetrics.pendingBytes.set(this.pendingBytes);
        }
      },
      onError: (err) => {
        if (source === this.source) this.sourceFailure = err;
      },
    });
    this.source = source;
    this.paused = false;
    return source.start();
  }

  /** Drops row changes a partial snapshot already holds (tables added to the filter). */
  private dropSnapshotted(txn: SourceTxn): void {
    for (const [key, tc] of txn.tables) {
      const until = this.skipUntil.get(key);
      if (!until) continue;
      if (comparePositions(txn.position, until) <= 0) {
        txn.rowCount -= tc.changes.length;
        txn.tables.delete(key);
      } else this.skipUntil.delete(key);
    }
  }

  /** Stops reading the binlog while the log is behind by more than the memory cap allows. */
  private applyBackpressure(): void {
    // Pending transactions are what grows when the log is slow; resident memory as a whole only
    // counts once something is pending (it never shrinks back after a peak, so alone it would stall
    // reading for good).
    // The estimate counts payload bytes; decoded rows, their encoded copy in flight to Kafka and
    // the driver's buffers take several times that, hence the low share.
    const over =
      this.pendingBytes > this.cap / 8 || (this.pendingBytes > 1024 * 1024 && process.memoryUsage.rss() > this.cap * 0.6);
    if (over && !this.paused) {
      this.paused = true;
      this.source?.pause();
      captureMetrics.paused.set(1);
      this.log.debug({ pendingBytes: this.pendingBytes }, 'log behind: paused reading the binlog');
    } else if (!over && this.paused) {
      this.paused = false;
      this.source?.resume();
      captureMetrics.paused.set(0);
    }
  }

  private async stopSource(): Promise<void> {
    const s = this.source;
    this.source = null;
    if (s) await s.stop();
  }

  /** (Re)connects to the binlog at the log's resume point; a purged binlog is a gap. */
  private async connectSource(): Promise<void> {
    for (let delay = 500; ; delay = Math.min(delay * 2, 10_000)) {
      try {
        await this.startSource();
        this.sourceOutage.recovered();
        return;
      } catch (err) {
        await this.stopSource();
        const e = err as PitrError;
        if (isPurged(e)) {
          await this.onPurged();
          continue;
        }
        if (!(e instanceof ConnectionError) && !e.retriable && !/ECONN|connect|lost|closed|timeout/i.test(e.message)) throw err;
        this.sourceOutage.failed(err);
        if (this.stopping) throw err;
        await sleep(delay);
      }
    }
  }

  /**
   * The binlog needed to resume is gone: with --resnapshot, record the gap and snapshot anew;
   * otherwise stop with the missing range named, never skipping it silently.
   */
  private async onPurged(): Promise<void> {
    const oldest = await oldestBinlogGtidPos(this.opts.source).catch(() => ({ file: '?', gtidPos: '?' }));
    if (this.opts.resnapshot) {
      await this.recordGapAndResnapshot(oldest.gtidPos);
      return;
    }
    throw new BinlogGapError(
      `the source's binlog no longer holds the transactions after GTID ${this.resume.gtidPos || '(none)'} up to and including ` +
        `GTID ${oldest.gtidPos || '(unknown)'} (purged; the log is complete up to ${formatEpoch(this.resume.time)} and the oldest binlog left is ` +
        `${oldest.file}): capture stops rather than skip them; rerun with --resnapshot to record the gap and take a fresh snapshot.`,
    );
  }

  /** Writes the pending transactions (or a heartbeat) in one Kafka transaction, riding out outages. */
  private async flush(heartbeatTime?: number): Promise<void> {
    for (let delay = 500; ; delay = Math.min(delay * 2, 10_000)) {
      // A snapshot of what is pending now: events keep arriving while the append is in flight.
      const txns = this.pending.slice();
      if (!txns.length && heartbeatTime === undefined) return;
      let next = this.resume;
      for (const t of txns) {
        next = { binlogFile: t.binlogFile, position: t.position, gtidPos: gtidPosAfter(next.gtidPos, t.gtid), time: Math.max(next.time, t.commitTime) };
      }
      if (heartbeatTime !== undefined && heartbeatTime > next.time) next = { ...next, time: heartbeatTime };
      try {
        const ctx = { sourceId: this.opts.sourceId, topics: this.topics, partitions: this.partitions };
        const msgs = txnBatchMessages(ctx, txns, next, { epoch: this.epoch, sourceServer: this.server, tableFilter: this.opts.tableFilterSpec ?? '' });
        await this.append(msgs);
        this.kafkaOutage.recovered();
        captureMetrics.appended(txns.length, txns.reduce((n, t) => n + t.rowCount, 0), msgs.length, msgs.reduce((n, m) => n + m.value.length, 0), next.time);
        this.resume = next;
        for (const t of txns) {
          this.result.transactions++;
          this.result.rowChanges += t.rowCount;
        }
        // Only what this append wrote leaves the queue; later arrivals stay for the next flush.
        this.pending = this.pending.slice(txns.length);
        for (const t of txns) {
          this.pendingRows -= t.rowCount;
          this.pendingBytes -= txnBytes(t);
        }
        this.applyBackpressure();
        captureMetrics.pendingBytes.set(this.pendingBytes);
        return;
      } catch (err) {
        if (err instanceof PitrError && /took over the log/.test(err.message)) throw err;
        this.kafkaOutage.failed(err);
        if (this.stopping) throw err;
        await sleep(delay);
        await this.reconnectLog();
      }
    }
  }

  /**
   * After a failed append the outcome may be unknown (the commit may have landed). The log is the
   * truth: reconnect, reread its resume point, and drop pending transactions it already holds.
   */
  private async reconnectLog(): Promise<void> {
    try {
      await this.appender.disconnect();
      await this.connectLog();
      const meta = await readMeta(this.kafka, this.topics, this.opts.sourceId, 'pitr-capture');
      if (meta.resume && meta.resume.position && this.pending.length) {
        const landed = this.pending.filter((t) => gtidPosCovers(meta.resume!.gtidPos, formatGtid(t.gtid)));
        if (landed.length) {
          this.log.info({ transactions: landed.length }, 'the last batch had landed before the failure; not writing it again');
          this.pending = this.pending.slice(landed.length);
          this.resume = { ...meta.resume };
          this.pendingRows = this.pending.reduce((n, t) => n + t.rowCount, 0);
          this.pendingBytes = this.pending.reduce((n, t) => n + txnBytes(t), 0);
        }
      }
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'Kafka still unreachable');
    }
  }

  private async stream(): Promise<void> {
    const target = this.opts.untilCaughtUp ? await sourceHead(this.opts.source) : undefined;
    await this.connectSource();
    this.log.info({ from: this.resume.gtidPos || formatPosition(this.resume.position) }, 'tailing the binlog');
    const interval = this.opts.flushIntervalMs ?? 100;
    let lastHeartbeat = 0;
    const stop = () => {
      this.stopping = true;
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    this.opts.signal?.addEventListener('abort', stop);
    // Extends the log's coverage to the source's clock when nothing is pending: every commit up to
    // the previous second is then in the log (a commit stamped with the current second may still be
    // in flight).
    const heartbeat = async () => {
      const head = await sourceHead(this.opts.source);
      this.sourceOutage.recovered();
      if (gtidPosCovers(this.resume.gtidPos, head.gtidPos) && head.now - 1 > this.resume.time) await this.flush(head.now - 1);
    };
    try {
      for (;;) {
        if (this.sourceFailure) {
          const err = this.sourceFailure;
          // What was read but not written is read again from the log's resume point.
          await this.stopSource();
          this.pending = [];
          this.pendingRows = 0;
          this.pendingBytes = 0;
          if (isPurged(err)) await this.onPurged();
          else {
            if (!(err instanceof ConnectionError) && !err.retriable) throw err;
            this.sourceOutage.failed(err);
          }
          await this.connectSource();
          continue;
        }
        if (this.pendingRows >= 20000 || this.pending.length >= 2000 || this.pendingBytes >= 16 * 1024 * 1024) await this.flush();
        else await sleep(interval);
        if (this.pending.length) await this.flush();
        const idle = !this.builder.inTransaction && this.pending.length === 0;
        if (target && gtidPosCovers(this.resume.gtidPos, target.gtidPos)) {
          // Everything written before start is in the log; later writes may keep coming.
          if (idle) await heartbeat().catch(() => undefined);
          break;
        }
        const now = Date.now();
        if (idle && (now - lastHeartbeat >= 1000 || this.stopping)) {
          await heartbeat().catch((err) => this.sourceOutage.failed(err));
          lastHeartbeat = now;
        }
        if (this.stopping && idle) break;
      }
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      await this.stopSource();
    }
  }
}
