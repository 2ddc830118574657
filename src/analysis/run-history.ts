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
import { ddlEffect } from '../guard/ddl-effects.js';
import { comparePositions, type Position } from '../core/position.js';
import { formatGtid } from '../core/gtid.js';
import { toBigInt } from '../log/record-codec.js';
import type { MetaState, SnapshotInfo } from '../log/meta-state.js';

export interface HistoryOptions {
  kafka: KafkaSettings;
  sourceId: string;
  table: TableRef;
  keys: KeySpec[];
  from?: number;
  to?: number;
  /** Read the table's whole partition even where the table index says where its records are. */
  noIndex?: boolean;
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
  cost: { partitionsRead: number[]; partitions: number; messagesScanned: number; recordsDecoded: number; indexed: boolean };
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
  const snapshot = fromPlan?.snapshot ?? firstSnapshotOf(log.meta, opts.table);
  const toCut = opts.to !== undefined ? planCut(log.meta, { asOf: opts.to }).cut : undefined;
  const start = fromPlan ? boundAfter(fromPlan.cut) : undefined;
  const histories = keys.map((k) => new RowHistory(k, (p) => !start || afterBound(p, start), log.basename));
  // DROP and TRUNCATE reach the log as DDL on the meta topic, never as row events: merge them in
  // commit order with the table's changes.
  const to = toCut ? boundThrough(toCut) : undefined;
  const removals = tableRemovals(log.meta, opts.table).filter(
    (r) => comparePositions(r.position, snapshot.position) > 0 && (!to || (to.inclusive ? comparePositions(r.position, to.at) <= 0 : comparePositions(r.position, to.at) < 0)),
  );
  let nextRemoval = 0;
  const removalsBefore = (p: Position | undefined) => {
    while (nextRemoval < removals.length && (!p || comparePositions(removals[nextRemoval]!.position, p) < 0)) {
      const r = removals[nextRemoval++]!;
      for (const h of histories) h.removed(r.op, r, r.position);
    }
  };
  let snapshotClosed = false;
  const closeSnapshot = () => {
    if (snapshotClosed) return;
    snapshotClosed = true;
    const at = fromPlan ? undefined : { time: snapshot.begin.time, gtid: snapshot.begin.gtidPos, position: snapshot.position };
    for (const h of histories) h.snapshotDone(at);
  };
  const stats = await readTableHistory(
    {
      kafka: log.kafka,
      topics: log.topics,
      sourceId: log.sourceId,
      tables: [opts.table],
      snapshotId: snapshot.id,
      from: { at: snapshot.position, inclusive: false },
      to,
      partitions: log.partitions,
      meta: log.meta,
      noIndex: opts.noIndex,
    },
    (item) => {
      if (item.kind === 'snapshot') {
        for (const r of item.rows.rows) for (const h of histories) h.snapshotRow(item.rows.columns, r.values);
      } else {
        closeSnapshot();
        removalsBefore(item.position);
        for (const h of histories) h.change(item.batch, item.position);
      }
    },
  );
  closeSnapshot();
  removalsBefore(undefined);
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
    cost: { partitionsRead: stats.partitions, partitions: log.partitions, messagesScanned: stats.messages, recordsDecoded: stats.decoded, indexed: stats.indexed },
    seconds: (Date.now() - started) / 1000,
  };
}

/**
 * Where a table's history starts: the first complete snapshot that holds it (a table added to
 * capture's filter later is in a partial snapshot), else the first full one (created afterwards).
 */
export function firstSnapshotOf(meta: MetaState, t: TableRef): SnapshotInfo {
  const complete = meta.snapshots.filter((s) => s.end);
  complete.sort((a, b) => comparePositions(a.position, b.position));
  return (
    complete.find((s) => s.begin.tables.some((d) => d.database === t.database && d.table === t.table)) ??
    meta.completeSnapshots()[0]!
  );
}

export interface Removal {
  op: 'drop' | 'truncate';
  gtid: string;
  commitTime: number;
  position: Position;
}

/** Statements in the log that removed every row of the table: DROP TABLE, DROP DATABASE, TRUNCATE, CREATE OR REPLACE. */
export function tableRemovals(meta: MetaState, t: TableRef): Removal[] {
  const out: Removal[] = [];
  const same = (r: TableRef) => r.database === t.database && r.table === t.table;
  for (const d of meta.ddl) {
    const e = ddlEffect(d.ddl.statement, d.ddl.defaultDatabase);
    let op: Removal['op'] | undefined;
    if (e.kind === 'truncate' && same(e.table)) op = 'truncate';
    else if (e.kind === 'dropTables' && e.tables.some(same)) op = 'drop';
    else if (e.kind === 'dropDatabase' && e.database === t.database) op = 'drop';
    else if (e.kind === 'create' && e.orReplace && same(e.table)) op = 'drop';
    if (!op) continue;
    const g = d.ddl.gtid;
    out.push({ op, gtid: formatGtid({ domain: g.domain, serverId: g.serverId, seq: toBigInt(g.seq) }), commitTime: d.ddl.commitTime, position: d.position });
  }
  return out;
}
