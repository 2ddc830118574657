// Reading checkpoints and what they are derived from: manifests on the checkpoints topic, a table's checkpoint
// rows by their offsets, the meta topic with the offset of each TxnIndex, the chain link just before an
// offset, and the fold of tables from their bases up to a position (shared by the checkpointer and verify).
import { readPartitions, type LogClient } from '../log/kafka-log.js';
import { decodeRecord, fromPositionMsg, tableKey, toBigInt, viewRowRecord, type RowRecordView } from '../log/record-codec.js';
import { MetaState } from '../log/meta-state.js';
import { parseLinkHeaders, type ChainHead } from '../log/integrity-chain.js';
import type { LogTopics } from '../log/topics.js';
import type { CheckpointManifestMsg, CheckpointTableMsg, Int64, RecordMsg } from '../log/record-types.js';
import { comparePositions, type Position } from '../core/position.js';
import { tableId } from '../core/table-name.js';
import { partitionFor } from '../log/partitioner.js';
import { keyColumnsFromCreate, latestDefinition } from '../analysis/key-columns.js';
import { ImageFold } from './image-fold.js';
import type { StoredCheckpoint, TableBase } from './checkpoint-plan.js';

/** The meta topic read whole, with where each transaction's TxnIndex is. */
export interface IndexedMeta {
  meta: MetaState;
  /** Per transaction index (MetaState order): offset and chain link of the TxnIndex that lists it, and its gtid_pos. */
  txnRecord: Array<{ offset: bigint; link: ChainHead | undefined; gtidPos: string }>;
  /** Where the read ended: the offset after the last record read and that record's chain link (a meta image's binding). */
  end: { nextOffset: bigint; link: ChainHead | undefined };
}

/** Reads the meta topic whole; `onRecord` sees each record, in order, before the fold does. */
export async function readIndexedMeta(
  kafka: LogClient,
  topics: LogTopics,
  sourceId: string,
  groupPrefix: string,
  onRecord?: (rec: RecordMsg, offset: bigint) => void,
): Promise<IndexedMeta> {
  const meta = new MetaState();
  const txnRecord: IndexedMeta['txnRecord'] = [];
  const end: IndexedMeta['end'] = { nextOffset: 0n, link: undefined };
  await readPartitions(kafka, topics.meta, {
    partitions: [0],
    groupPrefix,
    onMessages: (_p, msgs) => {
      for (const m of msgs) {
        const rec = decodeRecord(m.value, { topic: topics.meta, partition: 0, offset: m.offset }, sourceId);
        onRecord?.(rec, m.offset);
        meta.add(rec);
        const parsed = parseLinkHeaders(m.headers);
        const link = typeof parsed === 'string' ? undefined : parsed;
        end.nextOffset = m.offset + 1n;
        if (link) end.link = link;
        while (txnRecord.length < meta.txnCount) {
          txnRecord.push({ offset: m.offset, link, gtidPos: rec.txnIndex?.gtidPos ?? '' });
        }
      }
    },
  });
  return { meta, txnRecord, end };
}

/** Every checkpoint manifest on the checkpoints topic, in log order (missing topic: none). Reads every record. */
export async function readCheckpoints(kafka: LogClient, topics: LogTopics, sourceId: string, groupPrefix: string): Promise<StoredCheckpoint[]> {
  return (await readManifests(kafka, topics, sourceId, groupPrefix, {})).manifests;
}

/** Manifests among the records read (all, the topic's tail, or given offsets), and whether any record was read. */
async function readManifests(
  kafka: LogClient,
  topics: LogTopics,
  sourceId: string,
  groupPrefix: string,
  which: { fromEnd?: bigint; offsets?: bigint[] },
): Promise<{ manifests: StoredCheckpoint[]; sawRecords: boolean }> {
  const manifests: StoredCheckpoint[] = [];
  let sawRecords = false;
  const offsets = which.offsets ? [...new Set(which.offsets)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) : undefined;
  if (offsets && !offsets.length) return { manifests, sawRecords };
  await readPartitions(kafka, topics.checkpoints, {
    partitions: [0],
    groupPrefix,
    fromEnd: which.fromEnd,
    ranges: offsets && new Map([[0, offsets.map((o) => ({ first: o, last: o }))]]),
    onMessages: (_p, msgs) => {
      for (const m of msgs) {
        sawRecords = true;
        if (m.key !== MANIFEST_KEY) continue;
        const rec = decodeRecord(m.value, { topic: topics.checkpoints, partition: 0, offset: m.offset }, sourceId);
        if (rec.checkpointManifest) manifests.push({ manifest: rec.checkpointManifest, position: fromPositionMsg(rec.checkpointManifest.position), offset: m.offset });
      }
    },
  });
  return { manifests, sawRecords };
}

/**
 * How far back from the checkpoints topic's end the newest manifest is looked for: a pass writes it last, in
 * a Kafka transaction of its own, so only that transaction's marker follows it unless a pass died mid-way.
 */
const MANIFEST_TAIL = 16n;

/** Per table (tableId), where the newest manifest holding it is. */
export type ManifestDirectory = Map<string, { database: string; table: string; offset: bigint }>;

/** The directory a manifest carries (the manifests before it), as a map. */
export function carriedDirectory(m: CheckpointManifestMsg): ManifestDirectory {
  return new Map((m.directory ?? []).map((d) => [tableId(d.database, d.table), { database: d.database, table: d.table, offset: toBigInt(d.offset) }]));
}

/** The directory of a log whose newest manifest is `newest`: its carried directory, then its own tables. */
export function directoryAfter(newest: StoredCheckpoint): ManifestDirectory {
  const dir = carriedDirectory(newest.manifest);
  for (const t of newest.manifest.tables) dir.set(tableId(t.database, t.table), { database: t.database, table: t.table, offset: newest.offset });
  return dir;
}

/** The directory computed from every manifest in log order (what each manifest's carried directory must equal). */
export function directoryOf(manifests: StoredCheckpoint[]): ManifestDirectory {
  const dir: ManifestDirectory = new Map();
  for (const c of manifests) for (const t of c.manifest.tables) dir.set(tableId(t.database, t.table), { database: t.database, table: t.table, offset: c.offset });
  return dir;
}

/**
 * The checkpoints directory from the newest manifest alone (read from the topic's tail). Falls back to reading
 * every manifest (`all` set) when the newest predates directories or is not at the tail (a pass died after its
 * rows).
 */
export async function readDirectory(
  kafka: LogClient,
  topics: LogTopics,
  sourceId: string,
  groupPrefix: string,
): Promise<{ directory: ManifestDirectory; newest?: StoredCheckpoint; all?: StoredCheckpoint[] }> {
  const tail = await readManifests(kafka, topics, sourceId, groupPrefix, { fromEnd: MANIFEST_TAIL });
  const newest = tail.manifests.at(-1);
  if (newest?.manifest.hasDirectory) return { directory: directoryAfter(newest), newest };
  if (!newest && !tail.sawRecords) return { directory: new Map() };
  const all = await readCheckpoints(kafka, topics, sourceId, groupPrefix);
  return { directory: directoryOf(all), newest: all.at(-1), all };
}

/**
 * Per wanted table, the newest manifest holding it that `accept`s (e.g. within the cut, on the restore's
 * snapshot). Reads the newest manifest, then the manifests the directories name, a round per step back:
 * what a restore reads follows the tables it restores, not how many checkpoints the log holds.
 */
export async function newestCheckpoints(
  kafka: LogClient,
  topics: LogTopics,
  sourceId: string,
  groupPrefix: string,
  accept: (c: StoredCheckpoint) => boolean,
  wanted: (database: string, table: string) => boolean,
  read?: Awaited<ReturnType<typeof readDirectory>>,
): Promise<Map<string, StoredCheckpoint>> {
  const out = new Map<string, StoredCheckpoint>();
  const holds = (c: StoredCheckpoint, id: string) => c.manifest.tables.some((t) => tableId(t.database, t.table) === id);
  const { directory, newest, all } = read ?? (await readDirectory(kafka, topics, sourceId, groupPrefix));
  if (all) {
    for (const c of all) if (accept(c)) for (const t of c.manifest.tables) if (wanted(t.database, t.table)) out.set(tableId(t.database, t.table), c);
    return out;
  }
  const known = new Map<bigint, StoredCheckpoint>(newest ? [[newest.offset, newest]] : []);
  let frontier = new Map([...directory].filter(([, d]) => wanted(d.database, d.table)).map(([id, d]) => [id, d.offset]));
  while (frontier.size) {
    const missing = [...frontier.values()].filter((o) => !known.has(o));
    for (const c of (await readManifests(kafka, topics, sourceId, groupPrefix, { offsets: missing })).manifests) known.set(c.offset, c);
    const next = new Map<string, bigint>();
    for (const [id, offset] of frontier) {
      const c = known.get(offset);
      // A directory naming no manifest, or one without the table, is wrong (verify reports it): the table gets no checkpoint.
      if (!c || !holds(c, id)) continue;
      if (accept(c)) out.set(id, c);
      else {
        const earlier = carriedDirectory(c.manifest).get(id)?.offset;
        if (earlier !== undefined && earlier < offset) next.set(id, earlier);
      }
    }
    frontier = next;
  }
  return out;
}

/** Kafka key of manifests on the checkpoints topic (row records use their table's key). */
export const MANIFEST_KEY = 'checkpoint';

/** The SnapshotRows records of one table of one checkpoint, read from the offsets its manifest names. */
export async function readCheckpointRows(
  kafka: LogClient,
  topics: LogTopics,
  sourceId: string,
  groupPrefix: string,
  checkpointId: string,
  entry: CheckpointTableMsg,
): Promise<{ views: RowRecordView[]; offsets: bigint[] }> {
  const views: RowRecordView[] = [];
  const offsets: bigint[] = [];
  if (entry.records === 0) return { views, offsets };
  const first = toBigInt(entry.firstOffset);
  const last = toBigInt(entry.lastOffset);
  await readPartitions(kafka, topics.checkpoints, {
    partitions: [0],
    from: new Map([[0, first]]),
    groupPrefix,
    onMessages: (_p, msgs) => {
      for (const m of msgs) {
        if (m.offset > last) return false;
        if (m.key !== tableKey(entry.database, entry.table)) continue;
        const v = viewRowRecord(m.value, { topic: topics.checkpoints, partition: 0, offset: m.offset }, sourceId);
        if (v?.kind === 'snapshotRows' && v.snapshotId === checkpointId && v.database === entry.database && v.table === entry.table) {
          views.push(v);
          offsets.push(m.offset);
        }
      }
      return true;
    },
  });
  return { views, offsets };
}

/** The chain link of the last chained record before `offset` in a partition (undefined: none). */
export async function linkBefore(kafka: LogClient, topic: string, partition: number, offset: bigint, groupPrefix: string): Promise<ChainHead | undefined> {
  for (let back = 8n; ; back *= 16n) {
    const from = offset - back > 0n ? offset - back : 0n;
    let found: ChainHead | undefined;
    await readPartitions(kafka, topic, {
      partitions: [partition],
      from: new Map([[partition, from]]),
      groupPrefix,
      onMessages: (_p, msgs) => {
        for (const m of msgs) {
          if (m.offset >= offset) return false;
          const link = parseLinkHeaders(m.headers);
          if (typeof link !== 'string') found = link;
        }
        return true;
      },
    });
    if (found || from === 0n) return found;
  }
}

/**
 * Whether the chain link the log holds before `next` in a partition is the one claimed (has_head, head_seq,
 * head_hash of a binding); if not, "bound to ... at chain link ..., the log holds ... there".
 */
export async function bindingMismatch(
  kafka: LogClient,
  b: { topic: string; partition: number; nextOffset: Int64; hasHead: boolean; headSeq?: Int64; headHash?: Uint8Array },
  groupPrefix: string,
): Promise<string | undefined> {
  const next = toBigInt(b.nextOffset);
  const actual = await linkBefore(kafka, b.topic, b.partition, next, groupPrefix);
  const claimed = b.hasHead ? { seq: toBigInt(b.headSeq), hash: Buffer.from(b.headHash ?? []) } : undefined;
  const same = actual === undefined ? claimed === undefined : claimed !== undefined && actual.seq === claimed.seq && actual.hash.equals(claimed.hash);
  return same ? undefined : `bound to ${b.topic}/${b.partition} before offset ${next} at chain link ${claimed ? `seq ${claimed.seq}` : '(none)'}, the log holds ${actual ? `seq ${actual.seq}` : 'no chained record'} there`;
}

/** Where a checkpoint at a position is bound in one changes partition (see CheckpointManifest.Binding). */
export interface PartitionBound {
  nextOffset: bigint;
  head: ChainHead | undefined;
}

/**
 * Reads changes partitions from their start up to the first record of a transaction after `at`, handing over
 * every committed record at or before it (snapshot rows of complete snapshots with their snapshot's position;
 * staged chunks only with their commit marker). Returns the binding of each partition.
 */
export async function scanToPosition(
  kafka: LogClient,
  topics: LogTopics,
  sourceId: string,
  groupPrefix: string,
  meta: MetaState,
  at: Position,
  partitions: number[],
  onRecord: (v: RowRecordView, commit: Position, key: string) => void,
): Promise<Map<number, PartitionBound>> {
  const bounds = new Map<number, PartitionBound>(partitions.map((p) => [p, { nextOffset: 0n, head: undefined }]));
  const complete = new Map(meta.snapshots.filter((s) => s.end).map((s) => [s.id, s.position]));
  await readPartitions(kafka, topics.changes, {
    partitions,
    groupPrefix,
    onMessages: (p, msgs) => {
      const b = bounds.get(p)!;
      for (const m of msgs) {
        const v = viewRowRecord(m.value, { topic: topics.changes, partition: p, offset: m.offset }, sourceId);
        if (!v) continue;
        let commit: Position | undefined;
        if (v.kind === 'snapshotRows') {
          commit = complete.get(v.snapshotId);
          if (!commit && comparePositions(v.position, at) > 0) return false;
        } else if (v.stagedTxn) {
          commit = meta.staged.get(v.stagedTxn)?.position;
        } else commit = v.position;
        if (!commit) continue; // an abandoned staged attempt or an unfinished snapshot: never counts
        if (comparePositions(commit, at) > 0) return false;
        const link = parseLinkHeaders(m.headers);
        b.nextOffset = m.offset + 1n;
        b.head = typeof link === 'string' ? b.head : link;
        onRecord(v, commit, m.key);
      }
      return true;
    },
  });
  return bounds;
}

/** Key columns of db.t as defined at `at` (null: keyless, folded by full image). */
export function keyColumnsAt(meta: MetaState, database: string, table: string, at: Position): string[] | null {
  const def = latestDefinition(meta, database, table, at);
  return def ? keyColumnsFromCreate(def.createSql) : null;
}

/** The changes partition of each table. */
export function partitionsOf(tables: { database: string; table: string }[], partitionCount: number): number[] {
  return [...new Set(tables.map((t) => partitionFor(tableKey(t.database, t.table), partitionCount)))].sort((a, b) => a - b);
}

/**
 * Counts, per base, the row changes of its table after the base and at or before `at` (and returns the
 * bindings of the partitions read).
 */
export async function countChanges(
  kafka: LogClient,
  topics: LogTopics,
  sourceId: string,
  groupPrefix: string,
  meta: MetaState,
  at: Position,
  bases: TableBase[],
  partitionCount: number,
): Promise<Map<string, number>> {
  const byId = new Map(bases.map((b) => [tableId(b.database, b.table), b]));
  const keys = new Set(bases.map((b) => tableKey(b.database, b.table)));
  const counts = new Map<string, number>();
  await scanToPosition(kafka, topics, sourceId, groupPrefix, meta, at, partitionsOf(bases, partitionCount), (v, commit, key) => {
    if (v.kind !== 'change' || !keys.has(key)) return;
    const id = tableId(v.database, v.table);
    const b = byId.get(id);
    if (b && comparePositions(commit, b.position) > 0) counts.set(id, (counts.get(id) ?? 0) + v.ops.length);
  });
  return counts;
}

/**
 * Folds each base table from its base (snapshot rows, a checkpoint's rows given by `checkpointRows`, or empty)
 * plus its row changes after the base up to `at`.
 */
export async function foldTables(
  kafka: LogClient,
  topics: LogTopics,
  sourceId: string,
  groupPrefix: string,
  meta: MetaState,
  at: Position,
  bases: TableBase[],
  partitionCount: number,
  checkpointRows: (b: TableBase) => Promise<RowRecordView[]>,
): Promise<{ folds: Map<string, ImageFold>; bounds: Map<number, PartitionBound> }> {
  const folds = new Map<string, ImageFold>();
  const byId = new Map<string, TableBase>();
  for (const b of bases) {
    const id = tableId(b.database, b.table);
    const fold = new ImageFold(keyColumnsAt(meta, b.database, b.table, at));
    if (b.kind === 'checkpoint') for (const v of await checkpointRows(b)) fold.apply(v);
    folds.set(id, fold);
    byId.set(id, b);
  }
  const keys = new Set(bases.map((b) => tableKey(b.database, b.table)));
  const bounds = await scanToPosition(kafka, topics, sourceId, groupPrefix, meta, at, partitionsOf(bases, partitionCount), (v, commit, key) => {
    if (!keys.has(key)) return;
    const id = tableId(v.database, v.table);
    const b = byId.get(id);
    if (!b) return;
    if (v.kind === 'snapshotRows') {
      if (b.kind === 'snapshot' && v.snapshotId === b.id) folds.get(id)!.apply(v);
    } else if (comparePositions(commit, b.position) > 0) folds.get(id)!.apply(v);
  });
  return { folds, bounds };
}
