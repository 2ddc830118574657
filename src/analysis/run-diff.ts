// `pitr diff`: rows inserted, deleted and changed in one table between two cuts. Only the window's
// changes of the table are folded: the opening state of a touched row is the before image of its
// first change in the window (full row images), so no snapshot or earlier history is folded.
import { readTableHistory, type TableRef } from '../log/table-history-reader.js';
import type { KafkaSettings } from '../core/settings.js';
import { openLog, requireTable, planWindow, boundAfter, boundThrough } from './log-window.js';
import { tableKeyColumns } from './key-columns.js';
import { WindowFolder, type DiffResult } from './window-fold.js';
import type { OpenLog, Window } from './log-window.js';
import { formatQualifiedName } from '../core/table-name.js';
import { UsageError } from '../core/errors.js';
import type { MysqlUrl } from '../core/mysql-url.js';
import { changedByCascades, materializedWindow } from './materialized-window.js';

export interface DiffOptions {
  kafka: KafkaSettings;
  sourceId: string;
  table: TableRef;
  from: number;
  to: number;
  /** Most rows listed per kind (counts are always complete). */
  limit?: number;
  /** The recovery server: a table that foreign-key actions change is compared as materialized there. */
  recovery?: () => Promise<MysqlUrl>;
}

export interface DiffReport extends DiffResult {
  table: string;
  window: string;
  keyColumns: string[] | null;
  changesRead: number;
  seconds: number;
}

/** Reads the table's changes in (from, to] into a WindowFolder. */
export async function foldWindow(log: OpenLog, table: TableRef, w: Window): Promise<WindowFolder> {
  const folder = new WindowFolder(tableKeyColumns(log.meta, table.database, table.table, w.to.at));
  await readTableHistory(
    {
      kafka: log.kafka,
      topics: log.topics,
      sourceId: log.sourceId,
      tables: [table],
      from: boundAfter(w.from),
      to: boundThrough(w.to),
      partitions: log.partitions,
      meta: log.meta,
    },
    (item) => {
      if (item.kind === 'change') for (const c of item.batch.changes) folder.apply(item.batch.columns, c);
    },
  );
  return folder;
}

/**
 * The window's net effect: from the table's own changes, or, for a table that foreign-key actions
 * change (its records miss the cascaded rows), from the table materialized at both ends.
 */
export async function windowOf(
  log: OpenLog,
  table: TableRef,
  w: Window,
  times: { from: number; to: number },
  kafka: KafkaSettings,
  recovery: (() => Promise<MysqlUrl>) | undefined,
): Promise<WindowFolder> {
  if (!changedByCascades(log, table, w)) return foldWindow(log, table, w);
  if (!recovery) throw new UsageError(`${formatQualifiedName(table.database, table.table)} is changed by foreign-key actions, which the binlog does not hold; this needs the recovery server (--target) to materialize it.`);
  return materializedWindow(log, table, w, times, tableKeyColumns(log.meta, table.database, table.table, w.to.at), { kafka, recovery });
}

export async function runDiff(opts: DiffOptions): Promise<DiffReport> {
  const started = Date.now();
  const log = await openLog(opts.kafka, opts.sourceId, 'diff');
  requireTable(log, opts.table);
  const w = planWindow(log.meta, opts.from, opts.to, opts.table);
  const folder = await windowOf(log, opts.table, w, { from: opts.from, to: opts.to }, opts.kafka, opts.recovery);
  return {
    table: formatQualifiedName(opts.table.database, opts.table.table),
    window: w.label,
    keyColumns: folder.keyColumns,
    changesRead: folder.changes,
    ...folder.diff(opts.limit),
    seconds: (Date.now() - started) / 1000,
  };
}
