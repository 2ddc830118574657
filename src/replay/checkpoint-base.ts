// Restore's use of checkpoints: per restored table, the newest checkpoint within the cut that builds on the
// restore's snapshot; checked (chain bindings, row count and digest) before use. Its rows replace the table's
// rows up to it (the checkpointer only writes one where no DDL reshaped the table since its base, so the rows
// load into the segment the checkpoint falls in, as the table is defined there), and its partition is read
// from the checkpoint's bound offset.
import type { LogTopics } from '../log/topics.js';
import type { LogClient } from '../log/kafka-log.js';
import type { RowRecordView } from '../log/record-codec.js';
import { toBigInt } from '../log/record-codec.js';
import type { SnapshotInfo } from '../log/meta-state.js';
import { comparePositions, withinCut, type Cut, type Position } from '../core/position.js';
import { CorruptLogError } from '../core/errors.js';
import { formatQualifiedName, tableId } from '../core/table-name.js';
import { newestCheckpoints, type readDirectory } from '../checkpoint/checkpoint-store.js';
import { checkStoredCheckpoint } from '../checkpoint/checkpoint-verifier.js';
import type { StoredCheckpoint } from '../checkpoint/checkpoint-plan.js';
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
 * Checkpoint bases of the restored tables (tableId -> base): every table some checkpoint holds that
 * `wanted` says the restore rebuilds, whether the snapshot defined it or DDL created it later.
 */
export async function checkpointBases(
  kafka: LogClient,
  topics: LogTopics,
  sourceId: string,
  snapshot: SnapshotInfo,
  cut: Cut,
  wanted: (database: string, table: string) => boolean,
  /** The checkpoints directory when already read (with the meta image). */
  directory?: Awaited<ReturnType<typeof readDirectory>>,
): Promise<Map<string, CheckpointBase>> {
  const out = new Map<string, CheckpointBase>();
  const group = 'pitr-restore-checkpoints';
  const accept = (x: StoredCheckpoint) => x.manifest.snapshotId === snapshot.id && comparePositions(x.position, snapshot.position) > 0 && withinCut(x.position, cut);
  // A log without a checkpoints topic (older provisioning) has no checkpoints.
  const chosen = await newestCheckpoints(kafka, topics, sourceId, group, accept, wanted, directory).catch(() => new Map<string, StoredCheckpoint>());
  // Each table's checks and rows are reads of their own: run them side by side.
  await Promise.all([...chosen].map(async ([id, c]) => {
    const entry = c.manifest.tables.find((e) => tableId(e.database, e.table) === id)!;
    const t = { database: entry.database, table: entry.table };
    let views: RowRecordView[] = [];
    const problems = await checkStoredCheckpoint(kafka, topics, sourceId, group, c, [entry], (_t, v) => (views = v));
    if (problems.length) {
      throw new CorruptLogError(
        `checkpoint ${c.manifest.checkpointId} of ${formatQualifiedName(t.database, t.table)} failed its checks (${problems[0]!.message.replace(/^checkpoint \S+: /, '')}); restore refuses it: pass --no-checkpoint to read from the snapshot, and run pitr verify.`,
        { place: { topic: topics.checkpoints, partition: 0, offset: c.offset } },
      );
    }
    const startOffsets = new Map(c.manifest.bindings.filter((b) => b.topic === topics.changes).map((b) => [b.partition, toBigInt(b.nextOffset)]));
    out.set(tableId(t.database, t.table), { checkpointId: c.manifest.checkpointId, position: c.position, rows: views, startOffsets });
    logger().child({ component: 'restore' }).info({ table: formatQualifiedName(t.database, t.table), checkpoint: c.manifest.checkpointId }, 'restoring from a checkpoint');
  }));
  return out;
}
