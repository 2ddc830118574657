// Opens a source's log for the analysis commands and turns --from/--to times into position bounds
// on its commit order (the same cuts restore uses), checking the table is in the log.
import { kafkaClient, countPartitions, type LogClient } from '../log/kafka-log.js';
import { logTopics, type LogTopics } from '../log/topics.js';
import { readMeta } from '../log/meta-reader.js';
import type { MetaState, SnapshotInfo } from '../log/meta-state.js';
import { type RangeBound, type TableRef } from '../log/table-history-reader.js';
import { planCut } from '../replay/cut-planner.js';
import { CoverageError, UsageError } from '../core/errors.js';
import { formatEpoch } from '../core/cut-time.js';
import { binlogBasename, comparePositions, type Cut } from '../core/position.js';
import type { KafkaSettings } from '../core/settings.js';
import { latestDefinition } from './key-columns.js';
import { refuseUncovered } from '../log/table-coverage.js';
import { formatQualifiedName } from '../core/table-name.js';

export interface OpenLog {
  kafka: LogClient;
  topics: LogTopics;
  sourceId: string;
  meta: MetaState;
  partitions: number;
  basename: string;
}

export async function openLog(settings: KafkaSettings, sourceId: string, what: string): Promise<OpenLog> {
  const kafka = kafkaClient(settings, 'reader', { clientId: `pitr-${what}-${sourceId}` });
  const topics = logTopics(sourceId);
  const meta = await readMeta(kafka, topics, sourceId);
  const snaps = meta.completeSnapshots();
  if (!snaps.length) throw new CoverageError('the log holds no complete snapshot yet: run `pitr capture` first.');
  const partitions = await countPartitions(kafka, topics.changes);
  return { kafka, topics, sourceId, meta, partitions, basename: binlogBasename(snaps[0]!.begin.binlogFile) };
}

export function requireTable(log: OpenLog, t: TableRef): void {
  if (!latestDefinition(log.meta, t.database, t.table)) throw new UsageError(`table ${formatQualifiedName(t.database, t.table)} is not in the log.`);
}

/** Changes strictly after the state at `cut`. */
export function boundAfter(cut: Cut): RangeBound {
  return { at: cut.at, inclusive: !cut.inclusive };
}

/** Changes that belong to the state at `cut`. */
export function boundThrough(cut: Cut): RangeBound {
  return { at: cut.at, inclusive: cut.inclusive };
}

export interface Window {
  from: Cut;
  to: Cut;
  snapshot: SnapshotInfo;
  label: string;
}

/** The window (from, to] between two times, refused when reversed or outside coverage. */
export function planWindow(meta: MetaState, from: number, to: number, table?: TableRef): Window {
  if (to < from) throw new UsageError(`--to ${formatEpoch(to)} is before --from ${formatEpoch(from)}.`);
  const a = planCut(meta, { asOf: from });
  const b = planCut(meta, { asOf: to });
  if (comparePositions(b.cut.at, a.cut.at) < 0) throw new UsageError('the --to cut is before the --from cut.');
  // A table capture stopped capturing (--narrow): a window past that would show too few changes.
  if (table) refuseUncovered(meta, { tables: [table] }, b.cut, to);
  return { from: a.cut, to: b.cut, snapshot: a.snapshot, label: `between ${formatEpoch(from)} and ${formatEpoch(to)}` };
}
