// Capture orchestrator: finds its resume point in the log itself, snapshots on first start, then
// tails the binlog and appends whole source transactions to Kafka in atomic batches.
import { BinlogSource } from './binlog-source.js';
import { TransactionBuilder, ALL_USER_TABLES, type SourceTxn, type TableFilter } from './transaction-builder.js';
import { takeSnapshot } from './snapshotter.js';
import type { BinlogEvent } from './binlog-events.js';
import { kafkaClient, LogAppender } from '../log/kafka-log.js';
import { logTopics, transactionalId, type LogTopics } from '../log/topics.js';
import { checkTopicConfig } from '../log/provision.js';
import { encodeRecord, tableKey, META_KEY, toPositionMsg } from '../log/record-codec.js';
import { RECORD_VERSION, type RecordMsg } from '../log/record-types.js';
import { readMeta } from '../log/meta-reader.js';
import { txnBatchMessages, type ResumePoint } from '../log/txn-records.js';
import { partitionFor } from '../log/partitioner.js';
import type { KafkaSettings } from '../core/settings.js';
import type { MysqlUrl } from '../core/mysql-url.js';
import { connectMysql } from '../core/mysql-conn.js';
import { formatPosition, type Position } from '../core/position.js';
import { PitrError } from '../core/errors.js';
import { logger } from '../core/logger.js';

export interface CaptureOptions {
  source: MysqlUrl;
  kafka: KafkaSettings;
  sourceId: string;
  filter?: TableFilter;
  /** Exit once everything written to the source before start is durably in the log. */
  untilCaughtUp?: boolean;
  /** Replica server id presented to the source. */
  serverId?: number;
  /** Flush a batch at least this often (ms). */
  flushIntervalMs?: number;
  signal?: AbortSignal;
}

export interface CaptureResult {
  transactions: number;
  rowChanges: number;
  snapshotRows: number;
  seconds: number;
  position?: Position;
}

export async function runCapture(opts: CaptureOptions): Promise<CaptureResult> {
  const log = logger().child({ component: 'capture' });
  const started = Date.now();
  const filter = opts.filter ?? ALL_USER_TABLES;
  const topics = logTopics(opts.sourceId);
  const kafka = kafkaClient(opts.kafka, 'capture', { clientId: `pitr-capture-${opts.sourceId}` });

  // Refuse topics whose configuration would let history expire or be compacted.
  const admin = kafka.admin();
  await admin.connect();
  let partitions: number;
  try {
    for (const topic of [topics.changes, topics.meta]) {
      const problems = await checkTopicConfig(admin, topic);
      if (problems.length) throw new PitrError(`capture refuses to write to ${topic}: ${problems.join('; ')}.`);
    }
    const md = await admin.fetchTopicMetadata({ topics: [topics.changes] });
    partitions = md.topics[0]!.partitions.length;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }

  const appender = new LogAppender(kafka, transactionalId(opts.sourceId));
  await appender.connect();
  // Every record extends its partition's hash chain: start from the heads already in the log.
  await appender.loadChainHeads([topics.changes, topics.meta]);
  const result: CaptureResult = { transactions: 0, rowChanges: 0, snapshotRows: 0, seconds: 0 };
  const wrap = (body: Omit<RecordMsg, 'version' | 'sourceId'>): Buffer =>
    encodeRecord({ version: RECORD_VERSION, sourceId: opts.sourceId, ...body });

  try {
    const meta = await readMeta(kafka, topics, opts.sourceId, 'pitr-capture');
    let resume: ResumePoint;
    if (meta.completeSnapshots().length === 0 || !meta.resume) {
      if (meta.completeSnapshots().length === 0) {
        log.info('no complete snapshot in the log: taking a consistent snapshot of the source');
        let snapshotId = '';
        let snapPos: Position = { fileSeq: 0, endPos: 0 };
        const begin = await takeSnapshot(opts.source, filter, {
          begin: async (b) => {
            snapshotId = b.snapshotId;
            snapPos = { fileSeq: b.position.fileSeq, endPos: Number(b.position.endPos) };
            await appender.appendAtomically([{ topic: topics.meta, partition: 0, key: META_KEY, value: wrap({ snapshotBegin: b }) }]);
          },
          rows: async (db, table, columns, rows) => {
            const key = tableKey(db, table);
            result.snapshotRows += rows.length;
            await appender.appendAtomically([
              {
                topic: topics.changes,
                partition: partitionFor(key, partitions),
                key,
                value: wrap({ snapshotRows: { snapshotId, database: db, table, columns, rows, position: toPositionMsg(snapPos) } }),
              },
            ]);
          },
          end: async (counts) => {
            await appender.appendAtomically([
              {
                topic: topics.meta,
                partition: 0,
                key: META_KEY,
                value: wrap({ snapshotEnd: { snapshotId, position: toPositionMsg(snapPos), tables: counts.map((c) => ({ ...c })) } }),
              },
            ]);
          },
        });
        log.info({ tables: begin.tables.length, rows: result.snapshotRows, position: `${begin.binlogFile}:${snapPos.endPos}` }, 'snapshot written');
        resume = { binlogFile: begin.binlogFile, position: snapPos, gtidPos: begin.gtidPos, time: begin.time };
      } else {
        const s = meta.completeSnapshots().at(-1)!;
        resume = { binlogFile: s.begin.binlogFile, position: s.position, gtidPos: s.begin.gtidPos, time: s.begin.time };
      }
    } else {
      resume = { ...meta.resume };
      log.info({ position: formatPosition(resume.position, resume.binlogFile.replace(/\.\d+$/, '')), gtid: resume.gtidPos }, 'resuming from the log');
    }

    await streamBinlog(opts, appender, topics, partitions, resume, result);
  } finally {
    await appender.disconnect();
  }
  result.seconds = (Date.now() - started) / 1000;
  return result;
}

/** The source's binlog head: its GTID position and its clock. */
async function sourceHead(source: MysqlUrl): Promise<{ gtidPos: string; now: number }> {
  const conn = await connectMysql(source, 'source');
  try {
    const [rows] = await conn.query('SELECT @@log_bin AS lb, @@gtid_binlog_pos AS g, UNIX_TIMESTAMP() AS t');
    const r = (rows as { lb: number; g: string; t: string }[])[0]!;
    if (!Number(r.lb)) throw new PitrError('the source has no binary log enabled; start it with log_bin.');
    return { gtidPos: r.g ?? '', now: Number(r.t) };
  } finally {
    await conn.end().catch(() => undefined);
  }
}

/** True when GTID position `ours` includes every domain's last transaction in `head`. */
export function gtidPosCovers(ours: string, head: string): boolean {
  const mine = new Map<number, bigint>();
  for (const p of ours.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [d, , n] = p.split('-');
    mine.set(Number(d), BigInt(n!));
  }
  for (const p of head.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [d, , n] = p.split('-');
    const have = mine.get(Number(d));
    if (have === undefined || have < BigInt(n!)) return false;
  }
  return true;
}

function gtidPosAfter(prev: string, txn: SourceTxn): string {
  const parts = new Map<number, string>();
  for (const p of prev.split(',').map((s) => s.trim()).filter(Boolean)) parts.set(Number(p.split('-')[0]), p);
  parts.set(txn.gtid.domain, `${txn.gtid.domain}-${txn.gtid.serverId}-${txn.gtid.seq}`);
  return [...parts.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v).join(',');
}

async function streamBinlog(
  opts: CaptureOptions,
  appender: LogAppender,
  topics: LogTopics,
  partitions: number,
  start: ResumePoint,
  result: CaptureResult,
): Promise<void> {
  const log = logger().child({ component: 'capture' });
  const builder = new TransactionBuilder(opts.filter ?? ALL_USER_TABLES);
  const ctx = { sourceId: opts.sourceId, topics, partitions };
  let pending: SourceTxn[] = [];
  let pendingRows = 0;
  let resume: ResumePoint = { ...start };
  let failure: PitrError | undefined;
  let stopping = false;

  const target = opts.untilCaughtUp ? await sourceHead(opts.source) : undefined;

  const source = new BinlogSource({
    source: opts.source,
    serverId: opts.serverId ?? 0x7a1e0000 + (process.pid % 65536),
    start: { gtidPos: start.gtidPos },
    onEvent: (ev: BinlogEvent) => {
      const txn = builder.push(ev);
      if (txn) {
        pending.push(txn);
        pendingRows += txn.rowCount;
      }
    },
    onError: (err) => {
      failure = err;
    },
  });

  const flush = async (heartbeatTime?: number): Promise<void> => {
    const txns = pending;
    if (!txns.length && heartbeatTime === undefined) return;
    pending = [];
    pendingRows = 0;
    let next = resume;
    for (const t of txns) {
      next = { binlogFile: t.binlogFile, position: t.position, gtidPos: gtidPosAfter(next.gtidPos, t), time: Math.max(next.time, t.commitTime) };
    }
    if (heartbeatTime !== undefined && heartbeatTime > next.time) next = { ...next, time: heartbeatTime };
    await appender.appendAtomically(txnBatchMessages(ctx, txns, next));
    resume = next;
    for (const t of txns) {
      result.transactions++;
      result.rowChanges += t.rowCount;
    }
    result.position = resume.position;
  };

  await source.start();
  log.info({ from: start.gtidPos || formatPosition(start.position) }, 'tailing the binlog');
  const interval = opts.flushIntervalMs ?? 100;
  let lastHeartbeat = 0;
  const stop = () => {
    stopping = true;
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  opts.signal?.addEventListener('abort', stop);
  try {
    // Extends the log's coverage to the source's clock when nothing is pending: every commit up to
    // the previous second is then in the log (a commit stamped with the current second may still be
    // in flight).
    const heartbeat = async () => {
      const head = await sourceHead(opts.source);
      if (gtidPosCovers(resume.gtidPos, head.gtidPos) && head.now - 1 > resume.time) await flush(head.now - 1);
    };
    for (;;) {
      if (failure) throw failure;
      if (pendingRows >= 20000 || pending.length >= 2000) await flush();
      else await new Promise((r) => setTimeout(r, interval));
      if (pending.length) await flush();
      const idle = !builder.inTransaction && pending.length === 0;
      if (target && gtidPosCovers(resume.gtidPos, target.gtidPos)) {
        // Everything written before start is in the log; later writes may keep coming.
        if (idle) await heartbeat();
        break;
      }
      const now = Date.now();
      if (idle && (now - lastHeartbeat >= 1000 || stopping)) {
        await heartbeat();
        lastHeartbeat = now;
      }
      if (stopping && idle) break;
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await source.stop();
  }
}
