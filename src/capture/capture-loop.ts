// Capture orchestrator: finds its resume point in the log itself, snapshots on first start (or after
// a recorded gap), then tails the binlog and appends whole source transactions to Kafka in atomic
// batches; a transaction too large to hold goes out staged, chunk by chunk as it is decoded, and its
// commit marker closes it (log.proto). Rides out source and broker outages, and stops reading the
// binlog when the log cannot keep up rather than buffering without bound.
import v8 from 'node:v8';
import vm from 'node:vm';
import { formatIdentity, sameBinlogServer, serverIdentity } from '../core/server-identity.js';
import { BinlogSource } from './binlog-source.js';
import { TransactionBuilder, ALL_USER_TABLES, DEFAULT_STAGE_BYTES, type SourceTxn, type StagedChunk, type TableFilter } from './transaction-builder.js';
import { takeSnapshot } from './snapshotter.js';
import { checkRulesMatch, parseFilterRules, parseTableFilter, removedTables } from './table-filter.js';
import { coverageEndRecord, describeTables, listSourceTables, narrowingRefused } from './filter-change.js';
import type { QualifiedName } from '../core/table-name.js';
import { kafkaClient, kafkaError, LogAppender, withAdmin, type LogClient, type OutMessage } from '../log/kafka-log.js';
import { logTopics, transactionalId, type LogTopics } from '../log/topics.js';
import { encodeRecord, tableKey, META_KEY, toPositionMsg } from '../log/record-codec.js';
import { RECORD_VERSION, type RecordMsg } from '../log/record-types.js';
import { readMeta } from '../log/meta-reader.js';
import type { MetaState } from '../log/meta-state.js';
import { SpanSet } from '../log/table-index.js';
import { stagedChunkMessages, txnIndexMessage, txnMessages, type IndexedTxn, type ResumePoint } from '../log/txn-records.js';
import { partitionFor } from '../log/partitioner.js';
import type { KafkaSettings } from '../core/settings.js';
import type { MysqlUrl } from '../core/mysql-url.js';
import { connectMysql } from '../core/mysql-conn.js';
import { firstRow } from '../core/catalog.js';
import { binlogBasename, comparePositions, formatPosition, type Position } from '../core/position.js';
import { BinlogPurgedError, ConnectionError, CoverageError, PitrError, ProducerFencedError } from '../core/errors.js';
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
  /** The --tables text as typed: when given, each of its rules must match a table on the source. */
  tables?: string;
  /** Accept a filter narrower than the log's: record where the left-out tables' coverage ends. */
  narrow?: boolean;
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
  /** Row-image bytes after which a source transaction in progress is written out staged (default: from the cap). */
  stageBytes?: number;
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
  /** Peak resident memory of the capture process (MB). */
  peakRssMb?: number;
  /** Tables a wider --tables filter added, snapshotted alone (printed names). */
  addedTables?: string[];
  /** Tables a narrower filter left out (capture --narrow): no longer captured after `narrowedAfter`. */
  narrowedTables?: string[];
  narrowedAfter?: number;
}

export const DEFAULT_MEMORY_CAP = 256 * 1024 * 1024;

/**
 * Resident memory of the runtime itself on top of the cap: Node, V8's heap headroom, kafkajs,
 * protobufjs, the binlog parser and freed buffers the allocator keeps (an idle capture is about
 * 75 MB; measured peaks ran 115-150 MB above small caps, the most on a loaded machine). Capture's RSS stays within cap + slack
 * whatever the size of a source transaction.
 */
export const RUNTIME_SLACK = 160 * 1024 * 1024;

/** The binlog needed to resume is gone: capture stops rather than skip history silently. */
export class BinlogGapError extends CoverageError {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A full garbage collection on demand. Encoded records and kafkajs' request buffers live outside
 * the JS heap behind small wrappers, so V8 collects them late and tens of MB of dead buffers pile up
 * between its own collections; capture's heap is small, so a full collection takes milliseconds.
 */
const collectGarbage: () => void = (() => {
  v8.setFlagsFromString('--expose_gc');
  const gc = vm.runInNewContext('gc') as (() => void) | undefined;
  return typeof gc === 'function' ? gc : () => undefined;
})();

/** Exponential backoff between retries while an outage lasts: 0.5 s doubling up to 10 s. */
class Backoff {
  private next = 500;
  async wait(): Promise<void> {
    await sleep(this.next);
    this.next = Math.min(this.next * 2, 10_000);
  }
  reset(): void {
    this.next = 500;
  }
}

/**
 * What waits to be written, already encoded (decoded row images die young, so they never pile up
 * in the old heap): whole transactions, and chunks of a staged one still in progress.
 */
interface PendingTxn extends IndexedTxn {
  kind: 'txn';
  binlogFile: string;
  /** Row changes in `msgs` (a staged transaction's earlier chunks hold the rest). */
  rowCount: number;
  bytes: number;
  msgs: OutMessage[];
  /** A staged transaction's earlier chunks' spans (filled as they are appended): part of its TxnIndex's table index. */
  stagedSpans?: SpanSet;
}
interface PendingChunk {
  kind: 'chunk';
  stagedId: string;
  rowCount: number;
  bytes: number;
  msgs: OutMessage[];
}
type PendingItem = PendingTxn | PendingChunk;
const isChunk = (x: PendingItem): x is PendingChunk => x.kind === 'chunk';
const encodedBytes = (msgs: OutMessage[]): number => msgs.reduce((n, m) => n + m.value.length + m.key.length + 64, 64);

export async function runCapture(opts: CaptureOptions): Promise<CaptureResult> {
  const session = new CaptureSession(opts);
  return session.run();
}

/** The source's binlog head: its GTID position, its clock and who it is. */
export async function sourceHead(source: MysqlUrl): Promise<{ gtidPos: string; now: number; server: string }> {
  const conn = await connectMysql(source, 'source');
  try {
    const r = (await firstRow<{ lb: number; g: string; t: string; sid: number }>(conn, 'SELECT @@log_bin AS lb, @@gtid_binlog_pos AS g, UNIX_TIMESTAMP() AS t, @@server_id AS sid'))!;
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
    const first = await firstRow<{ Log_name: string }>(conn, 'SHOW BINARY LOGS');
    if (!first) return { file: '', gtidPos: '' };
    const g = await firstRow<{ g: string | null }>(conn, 'SELECT BINLOG_GTID_POS(?, 4) AS g', [first.Log_name]);
    return { file: first.Log_name, gtidPos: g!.g ?? '' };
  } finally {
    await conn.end().catch(() => undefined);
  }
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
  private readonly kafka: LogClient;
  private readonly filter: TableFilter;
  private readonly result: CaptureResult = { transactions: 0, rowChanges: 0, snapshotRows: 0, seconds: 0, outages: 0 };
  private appender!: LogAppender;
  private partitions = 0;
  private epoch = 0;
  private server = '';
  private resume!: ResumePoint;
  private pending: PendingItem[] = [];
  /** Records written so far per staged transaction in progress (its commit marker counts them). */
  private readonly stagedRecords = new Map<string, number>();
  /** Where each staged transaction in progress's chunks landed (its commit marker indexes them). */
  private readonly stagedSpans = new Map<string, SpanSet>();
  /** A chunk's write failed with an unknown outcome: read the transaction again under a new staged id. */
  private abandonStaged = false;
  private readonly kafkaBackoff = new Backoff();
  private readonly stageBytes: number;
  private wake: (() => void) | undefined;
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
  /** The source's tables at start, when --tables was given (checked against its rules). */
  private sourceTables: QualifiedName[] | undefined;

  constructor(private readonly opts: CaptureOptions) {
    this.topics = logTopics(opts.sourceId);
    this.kafka = kafkaClient(opts.kafka, 'capture', { clientId: `pitr-capture-${opts.sourceId}` });
    this.filter = opts.filter ?? ALL_USER_TABLES;
    this.builder = new TransactionBuilder(this.filter);
    this.cap = opts.memoryCapBytes ?? DEFAULT_MEMORY_CAP;
    // Chunks small against the cap: several are in memory at once (decoded, encoded, in flight).
    this.stageBytes = opts.stageBytes ?? Math.max(128 * 1024, Math.min(DEFAULT_STAGE_BYTES, Math.floor(this.cap / 64)));
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
      await this.begin();
      await this.stream();
    } finally {
      await this.appender.disconnect();
    }
    this.result.seconds = (Date.now() - started) / 1000;
    this.result.peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
    this.result.position = this.resume?.position;
    return this.result;
  }

  /**
   * Finds the starting point (snapshotting when the log has none usable), riding out outages: a
   * snapshot cut short is left without its SnapshotEnd, which readers ignore, and is taken anew
   * (never continued, since the outcome of its last write is unknown).
   */
  private async begin(): Promise<void> {
    const backoff = new Backoff();
    for (;;) {
      try {
        await this.findStart();
        return;
      } catch (caught) {
        const err = caught instanceof PitrError ? caught : kafkaError(caught, 'reading the log failed');
        if (!err.retriable || err instanceof ProducerFencedError || this.stopping) throw err;
        this.kafkaOutage.failed(err);
        await backoff.wait();
        this.skipUntil.clear();
        this.result.snapshotRows = 0;
        await this.appender.disconnect();
        await this.connectLog().catch(() => undefined);
      }
    }
  }

  private async findStart(): Promise<void> {
    const meta = await readMeta(this.kafka, this.topics, this.opts.sourceId, 'pitr-capture');
    const head = await sourceHead(this.opts.source);
    this.server = head.server;
    if (this.opts.tables !== undefined) {
      this.sourceTables = await listSourceTables(this.opts.source);
      // A rule the log already captures under may match nothing now (its database was
      // dropped): capture must go on to log what follows. New rules must match something.
      const logged = new Set(parseFilterRules(meta.resume?.tableFilter ?? meta.completeSnapshots().at(-1)?.begin.tableFilter ?? '').map((r) => r.text));
      checkRulesMatch(parseFilterRules(this.opts.tables).filter((r) => !logged.has(r.text)), this.sourceTables);
    }
    this.epoch = meta.resume?.position.epoch ?? meta.completeSnapshots().at(-1)?.position.epoch ?? 0;
    const lastServer = meta.resume?.sourceServer || meta.completeSnapshots().at(-1)?.begin.sourceServer || '';
    if (lastServer && !sameBinlogServer(lastServer, this.server)) {
      // Same GTID history on another server (failover): its binlog offsets start anew, so later
      // positions get a new generation to stay ordered after everything already in the log.
      this.epoch++;
      this.log.warn({ from: lastServer, to: this.server, epoch: this.epoch }, 'the source is another server than before; continuing its GTID history');
    }
    this.resume = await this.startingPoint(meta);
    this.kafkaOutage.recovered();
  }

  private async checkTopics(): Promise<void> {
    await withAdmin(this.kafka, async (admin) => {
      for (const topic of [this.topics.changes, this.topics.meta]) {
        const problems = await admin.configProblems(topic);
        if (problems.length) throw new PitrError(`capture refuses to write to ${topic}: ${problems.join('; ')}.`);
      }
      this.partitions = await admin.partitionCount(this.topics.changes);
    });
  }

  /** A fresh transactional producer: initialising it aborts whatever a previous one left open. */
  private async connectLog(): Promise<void> {
    this.appender = new LogAppender(this.kafka, transactionalId(this.opts.sourceId));
    await this.appender.connect();
    // Every record extends its partition's hash chain: start from the heads already in the log.
    await this.appender.loadChainHeads([this.topics.changes, this.topics.meta]);
  }

  private async append(messages: OutMessage[], trailer?: (offsets: bigint[]) => OutMessage[]): Promise<bigint[]> {
    try {
      return await this.appender.appendAtomically(messages, trailer);
    } catch (err) {
      if (err instanceof ProducerFencedError) {
        throw new ProducerFencedError(`another capture process for source "${this.opts.sourceId}" took over the log; this one stops.`, { cause: err });
      }
      throw err;
    }
  }

  private async startingPoint(meta: MetaState): Promise<ResumePoint> {
    const snaps = meta.completeSnapshots();
    const lastGap = meta.gaps.at(-1);
    // The snapshot taken after the last gap is the first complete one positioned after the gap's
    // start. Positions order this exactly; comparing the epoch field did not (it is absent, not 0,
    // before any failover), so every start after a --resnapshot took a full snapshot again.
    const snapAfterGap = lastGap && snaps.find((s) => comparePositions(s.position, lastGap.after) > 0);
    if (!snaps.length || (lastGap && !snapAfterGap)) {
      this.log.info('no usable snapshot in the log: taking a consistent snapshot of the source');
      return this.snapshotAndMark();
    }
    const resume: ResumePoint = meta.resume && (!snapAfterGap || meta.resume.time >= snapAfterGap.begin.time)
      ? { ...meta.resume }
      : { binlogFile: snaps.at(-1)!.begin.binlogFile, position: snaps.at(-1)!.position, gtidPos: snaps.at(-1)!.begin.gtidPos, time: snaps.at(-1)!.begin.time };
    this.log.info({ position: formatPosition(resume.position, binlogBasename(resume.binlogFile)), gtid: resume.gtidPos }, 'resuming from the log');
    await this.widen(meta, resume);
    return resume;
  }

  /**
   * When the --tables filter grew since the log last recorded it, snapshots just the tables it now
   * adds (a partial snapshot) instead of restarting the whole log; their changes up to that
   * snapshot's position are skipped while the binlog catches up from the old resume point.
   */
  private async widen(meta: MetaState, resume: ResumePoint): Promise<void> {
    const spec = this.opts.tableFilterSpec ?? '';
    const last = meta.resume?.tableFilter ?? meta.completeSnapshots().at(-1)?.begin.tableFilter ?? '';
    if (spec === last) return;
    const before = parseTableFilter(last);
    // Narrower: tables the log captured so far would silently stop being captured.
    const removed = removedTables(before, this.filter, this.sourceTables ?? (await listSourceTables(this.opts.source)));
    if (removed.length) await this.narrow(removed, resume, last, spec);
    const added = (db: string, t: string) => this.filter(db, t) && !before(db, t);
    const snap = await this.snapshot({ partial: true, only: added });
    if (!snap) return;
    for (const def of snap.tables) this.skipUntil.set(tableKey(def.database, def.table), snap.position);
    this.result.addedTables = snap.tables.map((t) => describeTables([t]));
    this.log.info({ tables: this.result.addedTables, filter: spec || '(all)' }, 'snapshotted the tables the wider filter adds');
  }

  /**
   * Refuses a narrower filter unless --narrow; with it, records in the log (with a heartbeat under
   * the new filter, in one Kafka transaction) that the left-out tables are captured up to the
   * log's resume point and no further.
   */
  private async narrow(removed: QualifiedName[], resume: ResumePoint, previousFilter: string, spec: string): Promise<void> {
    if (!this.opts.narrow) throw narrowingRefused(removed, previousFilter);
    const end = coverageEndRecord(removed, resume, previousFilter, spec);
    await this.append([
      { topic: this.topics.meta, partition: 0, key: META_KEY, value: this.wrap({ coverageEnd: end }) },
      txnIndexMessage(this.batchContext(), [], resume, { epoch: this.epoch, sourceServer: this.server, tableFilter: spec }, []),
    ]);
    this.result.narrowedTables = removed.map((t) => describeTables([t]));
    this.result.narrowedAfter = resume.time;
    this.log.warn({ tables: this.result.narrowedTables, after: formatEpoch(resume.time) }, 'no longer capturing the tables the narrower filter leaves out');
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
    // The snapshot rows' table index, written with SnapshotEnd.
    const spans = new SpanSet();
    const flushBatch = async () => {
      if (batch.length) spans.addAppended(batch, await this.append(batch), topics.changes);
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
            value: this.wrap({
              snapshotEnd: { snapshotId, position: toPositionMsg(snapPos), tables: counts.map((c) => ({ ...c })), spans: spans.toMessages(), indexed: spans.complete },
            }),
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
    this.builder = new TransactionBuilder(this.filter, {
      stageBytes: this.stageBytes,
      onChunk: (chunk) => {
        if (this.skipUntil.size) this.dropSnapshotted(chunk);
        const msgs = stagedChunkMessages(this.batchContext(), chunk);
        if (!this.stagedRecords.has(chunk.stagedId)) {
          this.log.info({ gtid: formatGtid(chunk.gtid), staged: chunk.stagedId }, 'a large transaction: writing it to the log in chunks as it is read');
        }
        this.stagedRecords.set(chunk.stagedId, (this.stagedRecords.get(chunk.stagedId) ?? 0) + msgs.length);
        this.enqueue({ kind: 'chunk', stagedId: chunk.stagedId, rowCount: chunk.rowCount, bytes: encodedBytes(msgs), msgs });
      },
    });
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
          this.enqueue(this.encodeTxn(txn));
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

  private encodeTxn(txn: SourceTxn): PendingTxn {
    const msgs = txnMessages(this.batchContext(), txn);
    let staged: PendingTxn['staged'];
    if (txn.staged) {
      const own = msgs.filter((m) => m.topic === this.topics.changes).length;
      staged = { id: txn.staged.id, rowChanges: txn.staged.rowChanges, records: (this.stagedRecords.get(txn.staged.id) ?? 0) + own };
      this.stagedRecords.delete(txn.staged.id);
    }
    return {
      kind: 'txn', gtid: txn.gtid, position: txn.position, commitTime: txn.commitTime, staged,
      binlogFile: txn.binlogFile, rowCount: txn.rowCount, bytes: encodedBytes(msgs), msgs,
      stagedSpans: txn.staged ? this.stagedSpanSet(txn.staged.id) : undefined,
    };
  }

  private stagedSpanSet(id: string): SpanSet {
    let set = this.stagedSpans.get(id);
    if (!set) this.stagedSpans.set(id, (set = new SpanSet()));
    return set;
  }

  private enqueue(item: PendingItem): void {
    this.pending.push(item);
    this.pendingRows += item.rowCount;
    this.pendingBytes += item.bytes;
    this.applyBackpressure();
    captureMetrics.pendingBytes.set(this.pendingBytes);
    // A chunk means a large transaction streams in: write it now rather than at the next tick.
    if (item.kind === 'chunk') this.wakeLoop();
  }

  private wakeLoop(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Sleeps up to `ms`, or until a chunk arrives or reading pauses for the log to catch up. */
  private nap(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  /** Takes the first `n` pending items off the queue once they are in the log. */
  private dequeue(n: number): void {
    for (const item of this.pending.slice(0, n)) {
      this.pendingRows -= item.rowCount;
      this.pendingBytes -= item.bytes;
    }
    this.pending = this.pending.slice(n);
    // What was just written is garbage now: collect it before it adds up (see collectGarbage).
    if (process.memoryUsage().arrayBuffers > Math.max(8 * 1024 * 1024, this.cap / 4)) collectGarbage();
    this.applyBackpressure();
    captureMetrics.pendingBytes.set(this.pendingBytes);
  }

  /** Forgets everything read but not written: it is read again from the log's resume point. */
  private dropPending(): void {
    this.pending = [];
    this.pendingRows = 0;
    this.pendingBytes = 0;
    this.stagedRecords.clear();
    this.stagedSpans.clear();
  }

  /**
   * Drops row changes a partial snapshot already holds (tables added to the filter). A chunk has
   * no commit position yet; a snapshot position is a transaction boundary, so a transaction that
   * began before it also committed at or before it.
   */
  private dropSnapshotted(item: SourceTxn | StagedChunk): void {
    const chunk = 'stagedId' in item;
    for (const [key, tc] of item.tables) {
      const until = this.skipUntil.get(key);
      if (!until) continue;
      const covered = chunk
        ? comparePositions(this.epoch ? { ...item.startPosition, epoch: this.epoch } : item.startPosition, until) < 0
        : comparePositions(item.position, until) <= 0;
      if (covered) {
        item.rowCount -= tc.changes.length;
        item.tables.delete(key);
      } else if (!chunk) this.skipUntil.delete(key);
    }
  }

  /** Stops reading the binlog while the log is behind by more than the memory cap allows. */
  private applyBackpressure(): void {
    // Pending transactions are what grows when the log is slow; resident memory as a whole only
    // counts once something is pending (it never shrinks back after a peak, so alone it would stall
    // reading for good).
    // The estimate counts payload bytes; decoded rows, their encoded copy in flight to Kafka and
    // the driver's buffers take several times that, hence the low share.
    // Pending bytes are encoded records (exact). Above cap + slack, buffer as little as possible.
    const over =
      this.pendingBytes > this.cap / 8 || (this.pendingBytes > 1024 * 1024 && process.memoryUsage.rss() > this.cap + RUNTIME_SLACK);
    if (over && !this.paused) {
      this.paused = true;
      this.source?.pause();
      this.wakeLoop();
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
    const backoff = new Backoff();
    for (;;) {
      try {
        await this.startSource();
        this.sourceOutage.recovered();
        return;
      } catch (err) {
        await this.stopSource();
        if (err instanceof BinlogPurgedError) {
          await this.onPurged();
          continue;
        }
        if (!(err instanceof PitrError && err.retriable)) throw err;
        this.sourceOutage.failed(err);
        if (this.stopping) throw err;
        await backoff.wait();
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

  /**
   * Writes what is pending in commit order: each run of whole transactions in one Kafka
   * transaction closed by its TxnIndex (or a heartbeat when nothing is pending), each run of staged
   * chunks in one Kafka transaction of its own. Rides out outages.
   */
  private async flush(heartbeatTime?: number): Promise<void> {
    let heartbeat = heartbeatTime;
    for (;;) {
      if (!this.pending.length) {
        if (heartbeat !== undefined) await this.appendTxns(0, heartbeat);
        return;
      }
      const chunks = isChunk(this.pending[0]!);
      let n = 1;
      while (n < this.pending.length && isChunk(this.pending[n]!) === chunks) n++;
      if (chunks) {
        if (!(await this.appendChunks(n))) return;
      } else {
        // A heartbeat moves coverage on with the last batch; more arrivals wait for the next flush.
        const last = n === this.pending.length;
        await this.appendTxns(n, last ? heartbeat : undefined);
        heartbeat = undefined;
        if (last) return;
      }
    }
  }

  /** The first `count` pending items (whole transactions) in one Kafka transaction with their TxnIndex. */
  private async appendTxns(count: number, heartbeatTime?: number): Promise<void> {
    for (;;) {
      const txns = this.pending.slice(0, count) as PendingTxn[];
      if (!txns.length && heartbeatTime === undefined) return;
      let next = this.resume;
      for (const t of txns) {
        next = { binlogFile: t.binlogFile, position: t.position, gtidPos: gtidPosAfter(next.gtidPos, t.gtid), time: Math.max(next.time, t.commitTime) };
      }
      if (heartbeatTime !== undefined && heartbeatTime > next.time) next = { ...next, time: heartbeatTime };
      try {
        const source = { epoch: this.epoch, sourceServer: this.server, tableFilter: this.opts.tableFilterSpec ?? '' };
        const data = txns.flatMap((t) => t.msgs);
        // The TxnIndex goes out after the batch's records, in the same Kafka transaction, listing their offsets.
        const indexOf = (offsets: bigint[]): OutMessage => {
          const spans = new SpanSet().addAppended(data, offsets, this.topics.changes);
          for (const t of txns) if (t.stagedSpans) spans.addAll(t.stagedSpans);
          return txnIndexMessage(this.batchContext(), txns, next, source, spans.toMessages());
        };
        const msgs = data.length ? data : [indexOf([])];
        let indexMsg: OutMessage | undefined;
        await this.append(msgs, data.length ? (offsets) => [(indexMsg = indexOf(offsets))] : undefined);
        if (indexMsg) msgs.push(indexMsg);
        for (const t of txns) if (t.staged) this.stagedSpans.delete(t.staged.id);
        this.logRecovered();
        // Metrics count rows as they reach the log (a staged transaction's chunks counted theirs).
        const written = txns.reduce((n, t) => n + t.rowCount, 0);
        captureMetrics.appended(txns.length, written, msgs.length, msgs.reduce((n, m) => n + m.value.length, 0), next.time);
        this.resume = next;
        this.result.transactions += txns.length;
        this.result.rowChanges += txns.reduce((n, t) => n + (t.staged?.rowChanges ?? t.rowCount), 0);
        this.dequeue(txns.length);
        return;
      } catch (err) {
        await this.onAppendFailed(err);
        // After an unknown outcome the log is the truth: what it holds already leaves the queue.
        count -= await this.reconnectLog();
      }
    }
  }

  /**
   * The first `count` pending items (chunks of the staged transaction in progress) in one Kafka
   * transaction without a TxnIndex: readers ignore them until the commit marker comes. A failed
   * write has an unknown outcome and a retry could write a chunk twice under one id, so the
   * transaction is read again from the resume point under a new id instead (false).
   */
  private async appendChunks(count: number): Promise<boolean> {
    const chunks = this.pending.slice(0, count) as PendingChunk[];
    const msgs = chunks.flatMap((c) => c.msgs);
    try {
      const offsets = await this.append(msgs);
      let k = 0;
      for (const c of chunks) {
        this.stagedSpanSet(c.stagedId).addAppended(c.msgs, offsets.slice(k, k + c.msgs.length), this.topics.changes);
        k += c.msgs.length;
      }
    } catch (err) {
      await this.onAppendFailed(err);
      await this.reconnectLog();
      this.abandonStaged = true;
      return false;
    }
    this.logRecovered();
    captureMetrics.appended(0, chunks.reduce((n, c) => n + c.rowCount, 0), msgs.length, msgs.reduce((n, m) => n + m.value.length, 0), this.resume.time);
    this.dequeue(count);
    return true;
  }

  private batchContext() {
    return { sourceId: this.opts.sourceId, topics: this.topics, partitions: this.partitions };
  }

  private logRecovered(): void {
    this.kafkaOutage.recovered();
    this.kafkaBackoff.reset();
  }

  /** A failed append: a fenced producer stops capture; an outage waits (backoff) before the retry. */
  private async onAppendFailed(err: unknown): Promise<void> {
    if (err instanceof ProducerFencedError) throw err;
    this.kafkaOutage.failed(err);
    if (this.stopping) throw err;
    await this.kafkaBackoff.wait();
  }

  /**
   * After a failed append the outcome may be unknown (the commit may have landed). The log is the
   * truth: reconnect, reread its resume point, and drop the leading pending transactions it
   * already holds. Returns how many were dropped.
   */
  private async reconnectLog(): Promise<number> {
    try {
      await this.appender.disconnect();
      await this.connectLog();
      const meta = await readMeta(this.kafka, this.topics, this.opts.sourceId, 'pitr-capture');
      if (!meta.resume?.position) return 0;
      let landed = 0;
      while (landed < this.pending.length) {
        const item = this.pending[landed]!;
        if (isChunk(item) || !gtidPosCovers(meta.resume.gtidPos, formatGtid(item.gtid))) break;
        landed++;
      }
      if (landed) {
        this.log.info({ transactions: landed }, 'the last batch had landed before the failure; not writing it again');
        this.dequeue(landed);
        this.resume = { ...meta.resume };
      }
      return landed;
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'Kafka still unreachable');
      return 0;
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
          this.dropPending();
          if (err instanceof BinlogPurgedError) await this.onPurged();
          else {
            if (!(err instanceof ConnectionError) && !err.retriable) throw err;
            this.sourceOutage.failed(err);
          }
          await this.connectSource();
          continue;
        }
        if (this.abandonStaged) {
          // Its chunks written so far stay in the log uncommitted: no TxnIndex will ever name them.
          this.abandonStaged = false;
          await this.stopSource();
          this.log.warn({ from: this.resume.gtidPos }, 'writing a large transaction failed mid-way; reading it again from the resume point');
          this.dropPending();
          await this.connectSource();
          continue;
        }
        if (this.pendingRows >= 20000 || this.pending.length >= 2000 || this.pendingBytes >= 16 * 1024 * 1024) await this.flush();
        else await this.nap(interval);
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
