// Restore orchestrator: reads the meta topic (from the newest checkpoint's meta image) and plans the restore (restore-plan.ts), builds the
// scratch schemas (scratch-replay.ts), reads the needed partitions into the segment fold
// (segment-fold.ts), loads segment after segment between the DDL statements it replays, and
// renames the finished tables into place (table-swap.ts).
import { kafkaClient, readPartitions, topicLayout, type LogClient } from '../log/kafka-log.js';
import { logTopics } from '../log/topics.js';
import { partitionFor } from '../log/partitioner.js';
import type { MetaState } from '../log/meta-state.js';
import { readMetaFromImage, type MetaRead } from '../checkpoint/meta-image-store.js';
import { refuseUncovered } from '../log/table-coverage.js';
import type { CutSpec } from './cut-planner.js';
import { checkRequest, indexedSpans, planRestore, restoresTable, type RestorePlan } from './restore-plan.js';
import { averageRecordBytes, rangeSize, readRanges } from '../log/table-index.js';
import { ScratchReplay } from './scratch-replay.js';
import { SegmentFold } from './segment-fold.js';
import { LoadPool, defaultLoadConcurrency, openRestoreConnection } from './load-pool.js';
import { recreateObjects, refuseExistingObjects, type RecreatedObject } from './object-restore.js';
import { pointReferencesAtTarget, refuseExisting, swapIntoPlace, type RestoredTable } from './table-swap.js';
import type { MysqlUrl } from '../core/mysql-url.js';
import type { KafkaSettings } from '../core/settings.js';
import { formatPosition, type Cut } from '../core/position.js';
import { UsageError, withMessage } from '../core/errors.js';
import { logger } from '../core/logger.js';
import { refuseSourceAsTarget } from './target-guard.js';
import { ScratchSchemas, hideScratchNames, removeStaleScratch } from './scratch-schemas.js';
import { dropIfEmpty, registerRestore } from './restore-interrupt.js';
import type { CutReport } from './cut-report.js';
import { checkpointBases, type CheckpointBase } from './checkpoint-base.js';
import { fromTableId, tableId } from '../core/table-name.js';

export type { RestoredTable };

export interface RestoreOptions {
  kafka: KafkaSettings;
  sourceId: string;
  target: MysqlUrl;
  /** The source's URL when known: a target that is this server is refused (so is the log's recorded source). */
  source?: MysqlUrl;
  tables?: { database: string; table: string }[];
  database?: string;
  cut: CutSpec;
  /** Destination database (default: the table's own database name on the target server). */
  intoDatabase?: string;
  replace?: boolean;
  /**
   * Heap the restore may use for folded rows and buffered records (default: PITR_MEMORY_BUDGET, else
   * 1 GiB). Larger tables are applied to the scratch table in batches and buffered records spill to
   * a temporary file, with the same result.
   */
  memoryBudget?: number;
  /** Tables loaded at once (database restores): default the cores, 2 to 4. */
  loadConcurrency?: number;
  /** Called as log records are read: records so far and the records the read covers at most. */
  onProgress?: (done: number, total: number) => void;
  /** Read from the snapshot even where a checkpoint within the cut would do (restore --no-checkpoint). */
  noCheckpoint?: boolean;
  /** Read whole partitions even where the log's table index says where the tables' records are (restore --no-index). */
  noIndex?: boolean;
  /**
   * Rows and definitions only: no views, triggers, routines or events (guard's copies and the as-of
   * cache move or query the tables elsewhere; a table with triggers cannot move between databases).
   */
  noObjects?: boolean;
}

export const DEFAULT_MEMORY_BUDGET = 1 << 30;

/** Parses a byte size: 512m, 2g, 1073741824. */
export function parseByteSize(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$/i.exec(s);
  if (!m) throw new UsageError(`"${s}" is not a size such as 512m or 2g.`);
  const mult = { '': 1, k: 1 << 10, m: 1 << 20, g: 1 << 30, t: 2 ** 40 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  const n = Math.floor(Number(m[1]) * mult);
  if (n < 1 << 20) throw new UsageError(`memory budget ${s} is below the 1 MB minimum.`);
  return n;
}

export interface RestoreResult {
  tables: RestoredTable[];
  /** Views, triggers, routines and events recreated after the tables. */
  objects: RecreatedObject[];
  cut: Cut;
  cutLabel: string;
  /** End position of the last included transaction (where replaying the binlog continues). */
  position: string;
  /** The last included and the first excluded transaction. */
  cutReport: CutReport;
  seconds: number;
  changesRead: number;
  /** Changes-topic records fetched, and whether the table index chose them. */
  recordsRead: number;
  indexed: boolean;
}

export async function runRestore(opts: RestoreOptions): Promise<RestoreResult> {
  const started = Date.now();
  const log = logger().child({ component: 'restore' });
  checkRequest(opts);
  const kafka = kafkaClient(opts.kafka, 'reader', { clientId: `pitr-restore-${opts.sourceId}` });
  const topics = logTopics(opts.sourceId);
  // The target connection opens while the meta topic is read (fixed costs of every restore overlap).
  const connecting = openRestoreConnection(opts.target);
  connecting.catch(() => undefined);
  let meta: MetaState;
  let metaRead: MetaRead;
  let plan: RestorePlan;
  try {
    // From the newest checkpoint's meta image (checked) and the meta records after it, not the whole topic.
    metaRead = await readMetaFromImage(kafka, topics, opts.sourceId, { whole: opts.noCheckpoint });
    meta = metaRead.meta;
    if (metaRead.imageOf) log.debug({ checkpoint: metaRead.imageOf.manifest.checkpointId, metaRecords: meta.records }, 'meta read from a checkpoint image');
    plan = planRestore(meta, opts);
    // Tables capture stopped capturing (capture --narrow): a cut after that would miss their rows.
    refuseUncovered(meta, { tables: opts.tables, database: opts.database }, plan.cut, 'asOf' in opts.cut ? opts.cut.asOf : undefined);
  } catch (err) {
    await connecting.then((c) => c.end()).catch(() => undefined);
    throw err;
  }
  const { cut, snapshot, cutReport, basename } = plan;
  log.info({ cut: cut.label, position: formatPosition(cut.at, basename), ...cutReport }, 'cut resolved');

  const conn = await connecting;
  const scratch = new ScratchSchemas(conn);
  const pool = new LoadPool(opts.target, opts.loadConcurrency ?? defaultLoadConcurrency());
  const createdDatabases = new Set<string>();
  const budget = opts.memoryBudget ?? (process.env.PITR_MEMORY_BUDGET ? parseByteSize(process.env.PITR_MEMORY_BUDGET) : DEFAULT_MEMORY_BUDGET);
  const fold = new SegmentFold({ plan, req: opts, meta, sourceId: opts.sourceId, scratchFor: (db) => scratch.nameFor(db), budget, pool, log });
  let unregister = (): unknown => undefined;
  try {
    // Checkpoints (checked before use) replace the snapshot rows of their tables and the changes up to them;
    // not for tables under referential actions (a checkpoint folds the logged changes, which lack the cascades).
    // They and the changes topic's layout are read from Kafka while the target is prepared.
    const checkpointsRead = opts.noCheckpoint
      ? Promise.resolve(new Map<string, CheckpointBase>())
      : checkpointBases(kafka, topics, opts.sourceId, snapshot, cut, (db, t) => restoresTable(plan, opts, db, t) && !plan.cascade.has(tableId(db, t)), metaRead.directory);
    const layoutRead = changePartitions(kafka, topics.changes);
    // Surfaced where they are awaited, never as unhandled rejections meanwhile.
    checkpointsRead.catch(() => undefined);
    layoutRead.catch(() => undefined);
    // Before the first write: never the source (nothing may reach its tables or its binlog).
    await refuseSourceAsTarget(conn, { meta, source: opts.source }, 'the restore target');
    await removeStaleScratch(conn);
    await scratch.claim();
    unregister = registerRestore({ target: opts.target, conn, tag: scratch.tag, createdDatabases });
    for (const t of opts.tables ?? []) await refuseExisting(conn, opts.intoDatabase ?? t.database, t.table, opts.replace);

    const schema = new ScratchReplay(conn, scratch, plan, opts, log);
    await schema.createAtSnapshot();
    await fold.describeSnapshotTables(conn);

    // Read the restored tables' records. Records of other tables sharing a partition are skipped by
    // their Kafka key before any decoding; keyed tables fold on the wire format (LineFolder).
    const checkpointed = await checkpointsRead;
    fold.startFromCheckpoints(checkpointed, topics.checkpoints);
    const layout = await layoutRead;
    const needed = new Set<number>();
    if (opts.tables) for (const key of plan.lineageKeys) needed.add(partitionFor(key, layout.count));
    else for (let p = 0; p < layout.count; p++) needed.add(p);
    // A partition whose restored tables all start from checkpoints is read from their bound offsets.
    const from = new Map<number, bigint>();
    if (opts.tables && checkpointed.size) {
      for (const p of needed) {
        const keys = [...plan.lineageKeys].filter((k) => partitionFor(k, layout.count) === p);
        const bases = [...checkpointed].filter(([id]) => keys.includes(`${fromTableId(id).database}.${fromTableId(id).table}`)).map(([, b]) => b);
        const offsets = bases.map((b) => b.startOffsets.get(p));
        if (bases.length === keys.length && offsets.every((o) => o !== undefined)) from.set(p, offsets.reduce((a, b) => (b! < a! ? b : a))!);
      }
    }
    // The table index (where the log has one): only the offsets holding the restored tables' records.
    const spans = opts.noIndex ? undefined : indexedSpans(meta, plan, (k) => fold.wantedKey(k));
    const ranges = spans && readRanges(spans, from, averageRecordBytes([...meta.spans.values()].flat()));
    if (!ranges) log.info('reading whole partitions: the log does not index every record this restore needs');
    const totalRecords = ranges
      ? [...ranges.values()].reduce((n, r) => n + rangeSize(r), 0)
      : [...needed].reduce((n, p) => n + (layout.sizes.get(p) ?? 0), 0);
    let recordsSeen = 0;
    const readStarted = Date.now();
    await readPartitions(kafka, topics.changes, {
      partitions: [...needed],
      from,
      ranges,
      onMessages: async (p, msgs) => {
        recordsSeen += msgs.length;
        opts.onProgress?.(recordsSeen, totalRecords);
        return fold.accept(topics.changes, p, msgs);
      },
    });
    log.debug({ ms: Date.now() - readStarted, changesRead: fold.changesRead, records: recordsSeen, indexed: Boolean(ranges) }, 'log read');

    // Segment by segment: the first one's folded rows, then each DDL statement and the rows after it.
    await fold.loadInitial();
    log.debug({ ms: Date.now() - readStarted }, 'first segment loaded');
    for (let k = 0; k < plan.ddl.length; k++) {
      await schema.replay(k);
      await fold.loadSegment(k + 1);
    }

    const finalTables = await schema.finalTables();
    if (!opts.tables) for (const t of finalTables) await refuseExisting(conn, opts.intoDatabase ?? t.database, t.table, opts.replace);
    const into = (db: string) => opts.intoDatabase ?? db;
    if (!opts.noObjects) await refuseExistingObjects(conn, plan.objects, into, opts.replace);
    const swap = { tables: finalTables, scratchFor: (db: string) => scratch.nameFor(db), intoDatabase: opts.intoDatabase, tag: scratch.tag, createdDatabases };
    if (opts.tables) {
      const sources = scratch.reverse();
      await pointReferencesAtTarget(conn, { ...swap, hold: scratch.nameFor('#foreign-key-hold'), sourceFor: (db) => sources.get(db) });
    }
    const tables = await swapIntoPlace(conn, swap);
    const objects = opts.noObjects ? [] : await recreateObjects(conn, plan.objects, { into, replace: opts.replace, log });
    return {
      tables,
      objects,
      cut,
      cutLabel: cut.label,
      position: cutReport.included?.position ?? formatPosition(snapshot.position, basename),
      cutReport,
      seconds: (Date.now() - started) / 1000,
      changesRead: fold.changesRead,
      recordsRead: recordsSeen,
      indexed: Boolean(ranges),
    };
  } catch (err) {
    // A failed restore leaves nothing it created behind, and speaks of the user's databases only.
    for (const db of createdDatabases) await dropIfEmpty(conn, db).catch(() => undefined);
    throw hideScratch(err, scratch.reverse());
  } finally {
    unregister();
    fold.close();
    await pool.close();
    await scratch.dropAll().catch(() => undefined);
    await scratch.release();
    await conn.end().catch(() => undefined);
  }
}

/** The same error with scratch schema names replaced by the source databases they stand for. */
function hideScratch(err: unknown, names: Map<string, string>): unknown {
  if (!(err instanceof Error)) return err;
  const message = hideScratchNames(err.message, names);
  return message === err.message ? err : withMessage(err, message);
}

/** Partition count of the changes topic and the records each partition holds (for progress). */
async function changePartitions(kafka: LogClient, topic: string): Promise<{ count: number; sizes: Map<number, number> }> {
  const { partitions, ends } = await topicLayout(kafka, topic);
  return { count: partitions, sizes: new Map([...ends].map(([p, e]) => [p, Number(e.high - e.low)])) };
}
