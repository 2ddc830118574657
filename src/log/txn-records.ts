// Builds the log records for a batch of source transactions: ChangeBatch records per table on the
// changes topic (split to stay well under the broker's message size), Ddl records and one closing
// TxnIndex on the meta topic. Pure.
import type { SourceTxn } from '../capture/transaction-builder.js';
import { encodeRecord, tableKey, META_KEY, toPositionMsg } from './record-codec.js';
import { RECORD_VERSION, type RowChangeMsg, type TxnIndexMsg, type Value } from './record-types.js';
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

export function txnBatchMessages(
  ctx: BatchContext,
  txns: SourceTxn[],
  resume: ResumePoint,
  source: { epoch?: number; sourceServer?: string; tableFilter?: string } = {},
): OutMessage[] {
  const out: OutMessage[] = [];
  const index: TxnIndexMsg = {
    fileSeq: [], endPos: [], commitTime: [], domain: [], serverId: [], seq: [],
    binlogFile: resume.binlogFile, resume: toPositionMsg(resume.position), gtidPos: resume.gtidPos, time: resume.time,
    epoch: source.epoch ?? 0, sourceServer: source.sourceServer ?? '', tableFilter: source.tableFilter ?? '',
  };
  for (const txn of txns) {
    const gtid = { domain: txn.gtid.domain, serverId: txn.gtid.serverId, seq: txn.gtid.seq.toString() };
    const position = toPositionMsg(txn.position);
    for (const tc of txn.tables.values()) {
      const key = tableKey(tc.database, tc.table);
      const partition = partitionFor(key, ctx.partitions);
      for (const changes of chunkBySize(tc.changes, changeSize)) {
        const value = encodeRecord({
          version: RECORD_VERSION,
          sourceId: ctx.sourceId,
          change: { database: tc.database, table: tc.table, columns: tc.columns, gtid, position, commitTime: txn.commitTime, changes },
        });
        out.push({ topic: ctx.topics.changes, partition, key, value });
      }
    }
    for (const d of txn.ddl) {
      const value = encodeRecord({
        version: RECORD_VERSION,
        sourceId: ctx.sourceId,
        ddl: { defaultDatabase: d.defaultDatabase, statement: d.statement, gtid, position, commitTime: txn.commitTime },
      });
      out.push({ topic: ctx.topics.meta, partition: 0, key: META_KEY, value });
    }
    index.fileSeq.push(txn.position.fileSeq);
    index.endPos.push(txn.position.endPos);
    index.commitTime.push(txn.commitTime);
    index.domain.push(txn.gtid.domain);
    index.serverId.push(txn.gtid.serverId);
    index.seq.push(txn.gtid.seq.toString());
  }
  out.push({
    topic: ctx.topics.meta,
    partition: 0,
    key: META_KEY,
    value: encodeRecord({ version: RECORD_VERSION, sourceId: ctx.sourceId, txnIndex: index }),
  });
  return out;
}
