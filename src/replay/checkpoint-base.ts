// Restore's use of checkpoints: per requested table, the newest checkpoint within the cut that builds on the
// restore's snapshot and lies before the first schema change the restore replays; checked (chain bindings,
// row count and digest) before use; its rows replace the table's snapshot rows and its partition is read from
// the checkpoint's bound offset.
import type { Kafka } from 'kafkajs';
import type { LogTopics } from '../log/topics.js';
import type { RowRecordView } from '../log/record-codec.js';
import { toBigInt } from '../log/record-codec.js';
import type { SnapshotInfo } from '../log/meta-state.js';
import { comparePositions, withinCut, type Cut, type Position } from '../core/position.js';
import { CorruptLogError } from '../core/errors.js';
import { formatQualifiedName, tableId } from '../core/table-name.js';
import { readCheckpointRows, readCheckpoints } from '../checkpoint/checkpoint-store.js';
import { checkStoredCheckpoint } from '../checkpoint/checkpoint-verifier.js';
import { logger } from '../core/logger.js';

export interface CheckpointBase {
  checkpointId: string;
  position: Position;
  /** The table's rows at `position`. */
  rows: RowRecordView[];
  /** Changes partition -> offset from which the table's later changes are read. */
  startOffsets: Map<number, bigint>;
}

/**
 * Checkpoint bases of the given tables (tableId -> base). `before` is the first schema change the restore
 * replays (a checkpoint must precede it: its rows load into the table as defined at the snapshot).
 */
export async function checkpointBases(
  kafka: Kafka,
  topics: LogTopics,
  sourceId: string,
  snapshot: SnapshotInfo,
  cut: Cut,
  before: Position | undefined,
  tables: { database: string; table: string }[],
): Promise<Map<string, CheckpointBase>> {
  const out = new Map<string, CheckpointBase>();
  const group = 'pitr-restore-checkpoints';
  const stored = await readCheckpoints(kafka, topics, sourceId, group).catch(() => []);
  for (const t of tables) {
    const c = stored
      .filter((x) => x.manifest.snapshotId === snapshot.id && comparePositions(x.position, snapshot.position) > 0 && withinCut(x.position, cut))
      .filter((x) => !before || comparePositions(x.position, before) < 0)
      .filter((x) => x.manifest.tables.some((e) => e.database === t.database && e.table === t.table))
      .at(-1);
    if (!c) continue;
    const entry = c.manifest.tables.find((e) => e.database === t.database && e.table === t.table)!;
    const problems = await checkStoredCheckpoint(kafka, topics, sourceId, group, c, [entry]);
    if (problems.length) {
      throw new CorruptLogError(
        `checkpoint ${c.manifest.checkpointId} of ${formatQualifiedName(t.database, t.table)} failed its checks (${problems[0]!.message.replace(/^checkpoint \S+: /, '')}); restore refuses it: pass --no-checkpoint to read from the snapshot, and run pitr verify.`,
        { position: `${topics.checkpoints}/0@${c.offset}` },
      );
    }
    const { views } = await readCheckpointRows(kafka, topics, sourceId, group, c.manifest.checkpointId, entry);
    const startOffsets = new Map(c.manifest.bindings.filter((b) => b.topic === topics.changes).map((b) => [b.partition, toBigInt(b.nextOffset)]));
    out.set(tableId(t.database, t.table), { checkpointId: c.manifest.checkpointId, position: c.position, rows: views, startOffsets });
    logger().child({ component: 'restore' }).info({ table: formatQualifiedName(t.database, t.table), checkpoint: c.manifest.checkpointId }, 'restoring from a checkpoint');
  }
  return out;
}
