// `pitr checkpoint`: writes compacted images of the tables that changed enough since their base, derived from
// the log alone (no MySQL server), as SnapshotRows records on the checkpoints topic closed by a manifest.
import { randomUUID } from 'node:crypto';
import { kafkaClient, LogAppender, countPartitions, type OutMessage } from '../log/kafka-log.js';
import { checkpointerTransactionalId, logTopics, type LogTopics } from '../log/topics.js';
import { encodeRecord, encodeRowsRecord, tableKey, toNumber, toPositionMsg } from '../log/record-codec.js';
import { RECORD_VERSION, type CheckpointBindingMsg, type CheckpointManifestMsg, type CheckpointTableMsg } from '../log/record-types.js';
import { chunkBySize } from '../log/txn-records.js';
import { CHECKPOINTER_GROUP_PREFIX } from '../log/provision.js';
import type { KafkaSettings } from '../core/settings.js';
import { binlogBasename, formatPosition, type Position } from '../core/position.js';
import { formatQualifiedName, tableId } from '../core/table-name.js';
import { logger } from '../core/logger.js';
import { PitrError } from '../core/errors.js';
import { planBases, type TableBase } from './checkpoint-plan.js';
import { MANIFEST_KEY, countChanges, foldTables, newestCheckpoints, readCheckpointRows, readDirectory, readIndexedMeta, type PartitionBound } from './checkpoint-store.js';
import type { ImageFold } from './image-fold.js';
import { MetaImageBuilder } from '../log/meta-image.js';
import { writeMetaImage } from './meta-image-store.js';

/** Row changes since its base after which a table gets a new checkpoint, unless told otherwise. */
export const DEFAULT_MIN_CHANGES = 100_000;

/** Meta records since the newest image after which a pass writes a new one even without tables to checkpoint. */
const META_IMAGE_MIN_RECORDS = 1_000;

/** Bytes of row records per Kafka transaction: large tables take several, the manifest one of its own. */
const TXN_BYTES = 4 * 1024 * 1024;

export interface CheckpointOptions {
  kafka: KafkaSettings;
  sourceId: string;
  /** Row changes since a table's base that call for a new checkpoint (at least 1). */
  minChanges?: number;
}

export interface CheckpointPassResult {
  /** Id of the checkpoint written (absent when no table needed one). */
  checkpointId?: string;
  position?: string;
  tables: { database: string; table: string; rows: number; changes: number; base: string }[];
  skipped: { database: string; table: string; reason: string }[];
  /** Tables below the threshold. */
  unchanged: number;
}

export async function runCheckpointPass(opts: CheckpointOptions): Promise<CheckpointPassResult> {
  const log = logger().child({ component: 'checkpoint' });
  const minChanges = Math.max(1, opts.minChanges ?? DEFAULT_MIN_CHANGES);
  const kafka = kafkaClient(opts.kafka, 'checkpointer', { clientId: `pitr-checkpointer-${opts.sourceId}` });
  const topics = logTopics(opts.sourceId);
  const group = `${CHECKPOINTER_GROUP_PREFIX}${opts.sourceId}`;
  // The pass reads the meta topic whole anyway: the image of it that readers start from costs no extra read.
  const image = new MetaImageBuilder();
  const { meta, txnRecord, end } = await readIndexedMeta(kafka, topics, opts.sourceId, group, (rec) => image.add(rec));
  const result: CheckpointPassResult = { tables: [], skipped: [], unchanged: 0 };
  if (meta.txnCount === 0) {
    log.info('the log holds no committed transaction yet: nothing to checkpoint');
    return result;
  }
  const last = meta.txnCount - 1;
  const at = meta.txnPosition(last);
  const basename = binlogBasename(meta.completeSnapshots().at(-1)?.begin.binlogFile ?? 'binlog');
  // The newest manifest of each table is all a pass builds on: found through the newest manifest's directory.
  const dir = await readDirectory(kafka, topics, opts.sourceId, group);
  const stored = dir.all ?? [...new Set((await newestCheckpoints(kafka, topics, opts.sourceId, group, () => true, () => true, dir)).values())].sort((a, b) => (a.offset < b.offset ? -1 : 1));
  const plan = planBases(meta, stored, at);
  if (!plan) {
    log.info('the log has no complete snapshot before its last transaction: nothing to checkpoint');
    return result;
  }
  for (const s of plan.skipped) {
    log.info({ table: formatQualifiedName(s.database, s.table), reason: s.reason }, 'table left out of this checkpoint');
    result.skipped.push({ database: s.database, table: s.table, reason: s.reason });
  }
  const partitionCount = await countPartitions(kafka, topics.changes);
  const counts = await countChanges(kafka, topics, opts.sourceId, group, meta, at, plan.bases, partitionCount);
  const selected = plan.bases.filter((b) => (counts.get(tableId(b.database, b.table)) ?? 0) >= minChanges);
  result.unchanged = plan.bases.length - selected.length;
  // Without a table to checkpoint, a manifest of its own still carries a new meta image once the meta topic grew enough.
  const imaged = dir.newest?.manifest.hasMetaImage ? toNumber(dir.newest.manifest.metaImage?.metaRecords) : 0;
  if (!selected.length && image.metaRecords - imaged < Math.min(minChanges, META_IMAGE_MIN_RECORDS)) {
    log.info({ position: formatPosition(at, basename), minChanges, tables: plan.bases.length }, 'no table changed enough since its checkpoint: nothing written');
    return result;
  }
  const loadRows = async (b: TableBase) =>
    (await readCheckpointRows(kafka, topics, opts.sourceId, group, b.id, b.entry!)).views;
  const { folds, bounds } = await foldTables(kafka, topics, opts.sourceId, group, meta, at, selected, partitionCount, loadRows);

  const id = randomUUID();
  const appender = new LogAppender(kafka, checkpointerTransactionalId(opts.sourceId), group);
  await appender.connect();
  try {
    await appender.loadChainHeads([topics.checkpoints]);
    const tables: CheckpointTableMsg[] = [];
    for (const b of selected) {
      const fold = folds.get(tableId(b.database, b.table))!;
      if (fold.misses) log.warn({ table: formatQualifiedName(b.database, b.table), misses: fold.misses }, 'row changes deleted rows its base did not hold');
      tables.push(await writeTable(appender, topics, opts.sourceId, id, at, b, fold));
      const t = tables.at(-1)!;
      result.tables.push({ database: b.database, table: b.table, rows: Number(t.rows), changes: fold.changes, base: b.kind === 'ddl' ? 'ddl' : `${b.kind} ${b.id}` });
    }
    const metaImage = await writeMetaImage(appender, topics, opts.sourceId, image, end);
    const manifest: CheckpointManifestMsg = {
      checkpointId: id,
      position: toPositionMsg(at),
      commitTime: meta.txnTime[last]!,
      gtidPos: txnRecord[last]!.gtidPos,
      snapshotId: plan.snapshot.id,
      bindings: bindingsOf(topics, bounds, txnRecord[last]!),
      tables,
      directory: [...dir.directory.values()].map((d) => ({ database: d.database, table: d.table, offset: d.offset.toString() })),
      hasDirectory: true,
      metaImage,
      hasMetaImage: true,
    };
    await appender.appendAtomically([
      { topic: topics.checkpoints, partition: 0, key: MANIFEST_KEY, value: encodeRecord({ version: RECORD_VERSION, sourceId: opts.sourceId, checkpointManifest: manifest }) },
    ]);
    log.info({ checkpoint: id, position: formatPosition(at, basename), tables: tables.length, metaImageRecords: metaImage.records, metaRecords: image.metaRecords }, 'checkpoint written');
    result.checkpointId = id;
    result.position = formatPosition(at, basename);
    return result;
  } finally {
    await appender.disconnect();
  }
}

/** Writes one table's folded rows in chunks, several Kafka transactions for a large table; returns its manifest entry. */
async function writeTable(appender: LogAppender, topics: LogTopics, sourceId: string, id: string, at: Position, b: TableBase, fold: ImageFold): Promise<CheckpointTableMsg> {
  const { rows, digest } = fold.summary();
  const messages: OutMessage[] = [];
  for (const g of fold.groups()) {
    for (const chunk of chunkBySize(g.rows, (r) => r.length + 4)) {
      const value = encodeRowsRecord(sourceId, { snapshotId: id, database: b.database, table: b.table, columns: g.columns, rows: chunk, position: at });
      messages.push({ topic: topics.checkpoints, partition: 0, key: tableKey(b.database, b.table), value });
    }
  }
  const offsets: bigint[] = [];
  for (const txn of chunkBySize(messages, (m) => m.value.length, TXN_BYTES)) offsets.push(...(await appender.appendAtomically(txn)));
  if (offsets.some((o) => o < 0n)) throw new PitrError('Kafka did not report the offsets of the checkpoint rows written.');
  return {
    database: b.database,
    table: b.table,
    rows,
    digest,
    firstOffset: (offsets[0] ?? 0n).toString(),
    lastOffset: (offsets.at(-1) ?? 0n).toString(),
    records: offsets.length,
    baseKind: b.kind,
    baseId: b.id,
    basePosition: toPositionMsg(b.position),
    changes: fold.changes,
  };
}

function bindingsOf(topics: LogTopics, bounds: Map<number, PartitionBound>, txn: { offset: bigint; link: { seq: bigint; hash: Buffer } | undefined }): CheckpointBindingMsg[] {
  const out: CheckpointBindingMsg[] = [...bounds].sort(([a], [b]) => a - b).map(([p, bound]) => binding(topics.changes, p, bound.nextOffset, bound.head));
  out.push(binding(topics.meta, 0, txn.offset + 1n, txn.link));
  return out;
}

function binding(topic: string, partition: number, nextOffset: bigint, head: { seq: bigint; hash: Buffer } | undefined): CheckpointBindingMsg {
  return head
    ? { topic, partition, nextOffset: nextOffset.toString(), hasHead: true, headSeq: head.seq.toString(), headHash: head.hash }
    : { topic, partition, nextOffset: nextOffset.toString(), hasHead: false };
}
