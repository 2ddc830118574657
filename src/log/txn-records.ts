// Builds the log records for a batch of source transactions: ChangeBatch records per table on the
// changes topic (split to stay well under the broker's message size), Ddl records and one closing
// TxnIndex on the meta topic; and the ChangeBatch records of a staged transaction's chunk. Pure.
import type { SourceTxn, StagedChunk, TableChanges } from '../capture/transaction-builder.js';
import { encodeRecord, tableKey, META_KEY, toPositionMsg } from './record-codec.js';
import { RECORD_VERSION, type ChangeBatchMsg, type RecordSpanMsg, type RowChangeMsg, type TxnIndexMsg, type Value } from './record-types.js';
import type { OutMessage } from './kafka-log.js';
import type { LogTopics } from './topics.js';
import { partitionFor } from './partitioner.js';
import type { Position } from '../core/position.js';

/** Target encoded size of one ChangeBatch / SnapshotRows record. */
export const CHUNK_BYTES = 512 * 1024;

function valueSize(v: Value): number {
  if (v.text !== undefined) return v.text.length * 2 + 4;
  if (v.bytes !== undefined) return v.bytes.length + 4;
  if (v.decimal !== undefined) return v.decimal.length + 4;
  if (v.temporal !== undefined) return v.temporal.length + 4;
  if (v.json !== undefined) return v.json.length * 2 + 4;
  return 10;
}

export function rowSize(values: Value[] | undefined): number {
  if (!values) return 0;
  let n = 4;
  for (const v of values) n += valueSize(v);
  return n;
}

function changeSize(c: RowChangeMsg): number {
  return 8 + rowSize(c.before?.values) + rowSize(c.after?.values);
}

/** Splits items into chunks whose estimated size stays under CHUNK_BYTES (at least one item each). */
export function chunkBySize<T>(items: T[], size: (t: T) => number, limit = CHUNK_BYTES): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let bytes = 0;
  for (const it of items) {
    const s = size(it);
    if (cur.length && bytes + s > limit) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(it);
    bytes += s;
  }
  if (cur.length) out.push(cur);
  return out;
}

export interface BatchContext {
  sourceId: string;
  topics: LogTopics;
  partitions: number;
}

export interface ResumePoint {
  binlogFile: string;
  position: Position;
  gtidPos: string;
  /** Source wall clock (epoch s) up to which every commit is in the log once this batch is. */
  time: number;
}

/** ChangeBatch records of one table's changes (one or more, by size); position unset when staged. */
function changeRecords(
  ctx: BatchContext,
  tc: TableChanges,
  head: { gtid: ChangeBatchMsg['gtid']; position?: ChangeBatchMsg['position']; commitTime?: number; stagedTxn?: string },
  out: OutMessage[],
): number {
  const key = tableKey(tc.database, tc.table);
  const partition = partitionFor(key, ctx.partitions);
  let n = 0;
  for (const changes of chunkBySize(tc.changes, changeSize)) {
    const change = { database: tc.database, table: tc.table, columns: tc.columns, changes, ...head } as ChangeBatchMsg;
    const value = encodeRecord({ version: RECORD_VERSION, sourceId: ctx.sourceId, change });
    out.push({ topic: ctx.topics.changes, partition, key, value });
    n++;
  }
  return n;
}

const gtidMsg = (g: SourceTxn['gtid']) => ({ domain: g.domain, serverId: g.serverId, seq: g.seq.toString() });

/** The ChangeBatch records of one chunk of a staged transaction (no TxnIndex: not committed yet). */
export function stagedChunkMessages(ctx: BatchContext, chunk: StagedChunk): OutMessage[] {
  const out: OutMessage[] = [];
  const head = { gtid: gtidMsg(chunk.gtid), stagedTxn: chunk.stagedId };
  for (const tc of chunk.tables.values()) changeRecords(ctx, tc, head, out);
  return out;
}

/** A source transaction as its TxnIndex entry needs it, once its records are encoded. */
export interface IndexedTxn {
  gtid: SourceTxn['gtid'];
  position: SourceTxn['position'];
  commitTime: number;
  /** Commit marker of a staged transaction: its id, all its row changes and all its records. */
  staged?: { id: string; rowChanges: number; records: number };
}

/**
 * The records of one whole source transaction, without its TxnIndex entry: ChangeBatch records
 * per table and its DDL. A staged transaction's last chunk goes out staged like its others.
 */
export function txnMessages(ctx: BatchContext, txn: SourceTxn): OutMessage[] {
  const out: OutMessage[] = [];
  const gtid = gtidMsg(txn.gtid);
  const position = toPositionMsg(txn.position);
  const head = txn.staged ? { gtid, stagedTxn: txn.staged.id } : { gtid, position, commitTime: txn.commitTime };
  for (const tc of txn.tables.values()) changeRecords(ctx, tc, head, out);
  for (const d of txn.ddl) {
    const value = encodeRecord({
      version: RECORD_VERSION,
      sourceId: ctx.sourceId,
      ddl: { defaultDatabase: d.defaultDatabase, statement: d.statement, gtid, position, commitTime: txn.commitTime, ...(d.sqlMode !== undefined ? { sqlMode: d.sqlMode.toString() } : {}) },
    });
    out.push({ topic: ctx.topics.meta, partition: 0, key: META_KEY, value });
  }
  return out;
}

/** The TxnIndex closing a Kafka transaction that commits `txns` (none: a heartbeat). */
export function txnIndexMessage(
  ctx: BatchContext,
  txns: IndexedTxn[],
  resume: ResumePoint,
  source: { epoch?: number; sourceServer?: string; tableFilter?: string } = {},
  /** The batch's table index (see table-index.ts); undefined when capture could not learn every offset. */
  spans?: RecordSpanMsg[],
): OutMessage {
  const index: TxnIndexMsg = {
    fileSeq: [], endPos: [], commitTime: [], domain: [], serverId: [], seq: [],
    binlogFile: resume.binlogFile, resume: toPositionMsg(resume.position), gtidPos: resume.gtidPos, time: resume.time,
    epoch: source.epoch ?? 0, sourceServer: source.sourceServer ?? '', tableFilter: source.tableFilter ?? '',
  };
  for (const txn of txns) {
    if (txn.staged) (index.staged ??= []).push({ txn: index.fileSeq.length, ...txn.staged });
    index.fileSeq.push(txn.position.fileSeq);
    index.endPos.push(txn.position.endPos);
    index.commitTime.push(txn.commitTime);
    index.domain.push(txn.gtid.domain);
    index.serverId.push(txn.gtid.serverId);
    index.seq.push(txn.gtid.seq.toString());
  }
  if (spans) {
    index.spans = spans;
    index.indexed = true;
  }
  return { topic: ctx.topics.meta, partition: 0, key: META_KEY, value: encodeRecord({ version: RECORD_VERSION, sourceId: ctx.sourceId, txnIndex: index }) };
}

/** Records of whole (unstaged) source transactions and their closing TxnIndex, in one batch. */
export function txnBatchMessages(
  ctx: BatchContext,
  txns: SourceTxn[],
  resume: ResumePoint,
  source: { epoch?: number; sourceServer?: string; tableFilter?: string } = {},
): OutMessage[] {
  const indexed = txns.map((t) => ({ ...t, staged: undefined }));
  return [...txns.flatMap((t) => txnMessages(ctx, { ...t, staged: undefined })), txnIndexMessage(ctx, indexed, resume, source)];
}
