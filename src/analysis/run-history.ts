// `pitr history`: every version of some rows of one table, read from that table's partition only.
import { readTableHistory, afterBound, type TableRef } from '../log/table-history-reader.js';
import { planCut } from '../replay/cut-planner.js';
import { formatEpoch } from '../core/cut-time.js';
import type { KafkaSettings } from '../core/settings.js';
import { logger } from '../core/logger.js';
import { openLog, requireTable, boundAfter, boundThrough } from './log-window.js';
import { tableKeyColumns } from './key-columns.js';
import { displayImage, resolveKeySpec, type KeySpec } from './row-image.js';
import { RowHistory, type RowVersion } from './row-history.js';
import { formatQualifiedName } from '../core/table-name.js';

export interface HistoryOptions {
  kafka: KafkaSettings;
  sourceId: string;
  table: TableRef;
  keys: KeySpec[];
  from?: number;
  to?: number;
}

export interface RowHistoryResult {
  key: Record<string, string>;
  /** The row when the history starts (the snapshot, or the state at --from); null: absent. */
  initial: Record<string, string | null> | null;
  versions: RowVersion[];
}

export interface HistoryResult {
  table: string;
  keyColumns: string[] | null;
  from: string;
  to: string;
  rows: RowHistoryResult[];
  cost: { partitionsRead: number[]; partitions: number; messagesScanned: number; recordsDecoded: number };
  seconds: number;
}

export async function runHistory(opts: HistoryOptions): Promise<HistoryResult> {
  const started = Date.now();
  const log = await openLog(opts.kafka, opts.sourceId, 'history');
  requireTable(log, opts.table);
  const name = formatQualifiedName(opts.table.database, opts.table.table);
  const keyColumns = tableKeyColumns(log.meta, opts.table.database, opts.table.table);
  const keys = opts.keys.map((k) => resolveKeySpec(k, keyColumns, name));
  const fromPlan = opts.from !== undefined ? planCut(log.meta, { asOf: opts.from }) : undefined;
  const snapshot = fromPlan?.snapshot ?? log.meta.completeSnapshots()[0]!;
  const toCut = opts.to !== undefined ? planCut(log.meta, { asOf: opts.to }).cut : undefined;
  const start = fromPlan ? boundAfter(fromPlan.cut) : undefined;
  const histories = keys.map((k) => new RowHistory(k, (p) => !start || afterBound(p, start), log.basename));
  const stats = await readTableHistory(
    {
      kafka: log.kafka,
      topics: log.topics,
      sourceId: log.sourceId,
      tables: [opts.table],
      snapshotId: snapshot.id,
      from: { at: snapshot.position, inclusive: false },
      to: toCut ? boundThrough(toCut) : undefined,
      partitions: log.partitions,
      meta: log.meta,
    },
    (item) => {
      if (item.kind === 'snapshot') {
        for (const r of item.rows.rows) for (const h of histories) h.snapshotRow(item.rows.columns, r.values);
      } else for (const h of histories) h.change(item.batch, item.position);
    },
  );
  logger().child({ component: 'history' }).debug(stats, 'read the table partition');
  return {
    table: name,
    keyColumns,
    from: opts.from !== undefined ? formatEpoch(opts.from) : `snapshot ${formatEpoch(snapshot.begin.time)}`,
    to: opts.to !== undefined ? formatEpoch(opts.to) : 'end of the log',
    rows: histories.map((h) => ({
      key: Object.fromEntries(h.key.map((k) => [k.column, k.value])),
      initial: h.initial ? displayImage(h.initial) : null,
      versions: h.versions,
    })),
    cost: { partitionsRead: stats.partitions, partitions: log.partitions, messagesScanned: stats.messages, recordsDecoded: stats.decoded },
    seconds: (Date.now() - started) / 1000,
  };
}
