// Reads one table's (or a few tables') history from the log: only the changes-topic partitions that
// hold them, only their records decoded, in commit order: snapshot rows of one snapshot, then the
// ChangeBatch records inside a position range. Restore, history, diff and flashback share it.
import { countPartitions, readPartitions, type LogClient } from './kafka-log.js';
import { decodeRecord, RecordField, recordBodyField, tableKey, toPositionMsg } from './record-codec.js';
import type { MetaState } from './meta-state.js';
import { tableId } from '../core/table-name.js';
import { partitionFor } from './partitioner.js';
import { averageRecordBytes, readRanges } from './table-index.js';
import type { ChangeBatchMsg, SnapshotRowsMsg } from './record-types.js';
import type { LogTopics } from './topics.js';
import { comparePositions, type Position } from '../core/position.js';

export interface TableRef {
  database: string;
  table: string;
}

/** One end of a position range; `inclusive` says whether a change exactly at `at` belongs to it. */
export interface RangeBound {
  at: Position;
  inclusive: boolean;
}

export interface TableHistoryOptions {
  kafka: LogClient;
  topics: LogTopics;
  sourceId: string;
  tables: TableRef[];
  /** Snapshot whose rows to hand over (none when unset; rows of other snapshots are always skipped). */
  snapshotId?: string;
  /** Changes strictly after this bound (or at it when inclusive). Unset: from the start of the log. */
  from?: RangeBound;
  /** Changes up to this bound (inclusive or not). Unset: to the end of the log as of the call. */
  to?: RangeBound;
  /** Partition count of the changes topic, when the caller knows it (saves a metadata request). */
  partitions?: number;
  /** The log's meta state: places staged chunks at their commit, and leaves out uncommitted ones. */
  meta: Pick<MetaState, 'batchCommit'> & Partial<Pick<MetaState, 'spansFor' | 'spans'>>;
  /** Read whole partitions even where the table index says where the records are. */
  noIndex?: boolean;
}

export type HistoryItem =
  | { kind: 'snapshot'; rows: SnapshotRowsMsg }
  | { kind: 'change'; batch: ChangeBatchMsg; position: Position };

export interface TableHistoryStats {
  /** Partitions read (one per distinct table partition). */
  partitions: number[];
  /** Messages seen in those partitions, and how many of them were decoded. */
  messages: number;
  decoded: number;
  /** Whether the table index chose the offsets read. */
  indexed: boolean;
}

/**
 * Hands over the wanted tables' snapshot rows and changes in commit order (per table; tables in
 * different partitions are interleaved). Stops reading a partition as soon as it passes `to`, since
 * every partition keeps commit order.
 */
export async function readTableHistory(
  opts: TableHistoryOptions,
  onItem: (item: HistoryItem) => void | Promise<void>,
): Promise<TableHistoryStats> {
  const n = opts.partitions ?? (await countPartitions(opts.kafka, opts.topics.changes));
  const keys = new Set(opts.tables.map((t) => tableKey(t.database, t.table)));
  // The Kafka key joins database and table with a dot, so `a.b`.c and a.`b.c` share one: records
  // are matched on their own fields.
  const ids = new Set(opts.tables.map((t) => tableId(t.database, t.table)));
  const parts = [...new Set([...keys].map((k) => partitionFor(k, n)))].sort((a, b) => a - b);
  const stats: TableHistoryStats = { partitions: parts, messages: 0, decoded: 0, indexed: false };
  const wantSnap = opts.snapshotId;
  // The table index, where the log has one: only the offsets of these tables' records in the range.
  const spans = opts.noIndex
    ? undefined
    : opts.meta.spansFor?.(
        wantSnap === undefined ? [] : [wantSnap],
        (r) => (!opts.from || afterBound(r.to, opts.from)) && (!opts.to || withinBound(r.from, opts.to)),
        (k) => keys.has(k),
      );
  const ranges = spans && readRanges(spans, undefined, averageRecordBytes([...(opts.meta.spans?.values() ?? [])].flat()));
  stats.indexed = Boolean(ranges);
  await readPartitions(opts.kafka, opts.topics.changes, {
    partitions: parts,
    ranges,
    onMessages: async (p, msgs) => {
      for (const m of msgs) {
        stats.messages++;
        // The Kafka key names the table: other tables sharing the partition are never decoded.
        if (!keys.has(m.key)) continue;
        if (wantSnap === undefined && recordBodyField(m.value) === RecordField.SnapshotRows) continue;
        stats.decoded++;
        const rec = decodeRecord(m.value, { topic: opts.topics.changes, partition: p, offset: m.offset }, opts.sourceId);
        if (rec.snapshotRows) {
          const r = rec.snapshotRows;
          if (r.snapshotId !== wantSnap || !ids.has(tableId(r.database, r.table))) continue;
          await onItem({ kind: 'snapshot', rows: r });
        } else if (rec.change) {
          let c = rec.change;
          if (!ids.has(tableId(c.database, c.table))) continue;
          const commit = opts.meta.batchCommit(c);
          if (!commit) continue; // a staged chunk of a transaction that never committed
          const pos = commit.position;
          if (opts.from && !afterBound(pos, opts.from)) continue;
          if (opts.to && !withinBound(pos, opts.to)) return false; // commit order: nothing later belongs
          if (c.stagedTxn) c = { ...c, position: toPositionMsg(pos), commitTime: commit.commitTime };
          await onItem({ kind: 'change', batch: c, position: pos });
        }
      }
      return true;
    },
  });
  return stats;
}

/** Async-iterator form of readTableHistory (buffers a partition batch at a time). */
export async function* tableHistory(opts: TableHistoryOptions): AsyncGenerator<HistoryItem> {
  const queue: HistoryItem[] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  let error: unknown;
  const run = readTableHistory(opts, (item) => {
    queue.push(item);
    wake?.();
  }).then(
    () => {
      finished = true;
      wake?.();
    },
    (err) => {
      error = err;
      finished = true;
      wake?.();
    },
  );
  for (;;) {
    while (queue.length) yield queue.shift()!;
    if (finished) break;
    await new Promise<void>((r) => (wake = r));
    wake = undefined;
  }
  await run;
  if (error) throw error;
}

export function afterBound(p: Position, b: RangeBound): boolean {
  const c = comparePositions(p, b.at);
  return b.inclusive ? c >= 0 : c > 0;
}

export function withinBound(p: Position, b: RangeBound): boolean {
  const c = comparePositions(p, b.at);
  return b.inclusive ? c <= 0 : c < 0;
}
