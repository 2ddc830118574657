// Verify of checkpoints: each one's rows must match its manifest (count, digest), its bindings must be the
// chain links the log holds before its offsets, and each table must re-derive, from the base it names plus the
// row changes in between, to exactly its rows. Findings name the checkpoint, the table and an offset.
import type { Finding } from '../log/integrity-chain.js';
import { logTopics, type LogTopics } from '../log/topics.js';
import { fromPositionMsg, toBigInt, toNumber, type RowRecordView } from '../log/record-codec.js';
import type { CheckpointManifestMsg, CheckpointTableMsg, MetaImageMsg } from '../log/record-types.js';
import { MetaImageBuilder } from '../log/meta-image.js';
import { imageBindingMismatch, readMetaImage } from './meta-image-store.js';
import type { MetaState } from '../log/meta-state.js';
import { comparePositions } from '../core/position.js';
import { formatQualifiedName, tableId } from '../core/table-name.js';
import { logger } from '../core/logger.js';
import { ddlTouches, emptiesTable, type StoredCheckpoint, type TableBase } from './checkpoint-plan.js';
import { bindingMismatch, carriedDirectory, directoryOf, foldTables, readCheckpointRows, readCheckpoints, readIndexedMeta, type ManifestDirectory } from './checkpoint-store.js';
import { digestViews } from './image-fold.js';
import { countPartitions, type LogClient } from '../log/kafka-log.js';

export interface CheckpointCheck {
  checkpointId: string;
  /** Offset of the manifest on the checkpoints topic. */
  offset: bigint;
  /** Tables whose image is proven (rows match the manifest and re-derive from their base). */
  verifiedTables: string[];
  findings: Finding[];
}

/** A finding about checkpoint `c`, at its manifest's offset unless another is given; `table` when it is about one table. */
function checkpointFinding(topics: LogTopics, c: StoredCheckpoint, message: string, offset?: bigint, table?: string): Finding {
  const f: Finding = { kind: 'checkpoint', topic: topics.checkpoints, partition: 0, offset: offset ?? c.offset, message: `checkpoint ${c.manifest.checkpointId}: ${message}` };
  if (table !== undefined) f.table = table;
  return f;
}

/**
 * Checks of one checkpoint that need no fold: its rows against its manifest, its bindings against the chains.
 * The rows read for the check go to `onRows` (a restore loads those very rows: no second read).
 */
export async function checkStoredCheckpoint(
  kafka: LogClient,
  topics: LogTopics,
  sourceId: string,
  groupPrefix: string,
  c: StoredCheckpoint,
  tables: CheckpointTableMsg[] = c.manifest.tables,
  onRows?: (t: CheckpointTableMsg, views: RowRecordView[]) => void,
): Promise<Finding[]> {
  const m = c.manifest;
  const at = (offset: bigint | undefined, message: string, table?: string) => checkpointFinding(topics, c, message, offset, table);
  // Each binding and each table is a read of its own: side by side, findings in manifest order.
  const bindingChecks = m.bindings.map(async (b) => {
    const wrong = await bindingMismatch(kafka, b, groupPrefix);
    return wrong ? [at(undefined, wrong)] : [];
  });
  const tableChecks = tables.map(async (t) => {
    const findings: Finding[] = [];
    const { views, offsets } = await readCheckpointRows(kafka, topics, sourceId, groupPrefix, m.checkpointId, t);
    onRows?.(t, views);
    const got = digestViews(views);
    const name = formatQualifiedName(t.database, t.table);
    if (views.length !== t.records) findings.push(at(offsets[0], `table ${name} has ${views.length} row records at offsets ${toBigInt(t.firstOffset)}..${toBigInt(t.lastOffset)}, its manifest says ${t.records}`, name));
    else if (got.rows !== toNumber(t.rows) || !got.digest.equals(Buffer.from(t.digest))) {
      findings.push(at(offsets[0], `the rows of table ${name} (${got.rows}) do not match its manifest (${toNumber(t.rows)} rows, digest ${Buffer.from(t.digest).toString('hex').slice(0, 16)}...): altered or forged`, name));
    }
    return findings;
  });
  return (await Promise.all([...bindingChecks, ...tableChecks])).flat();
}

/**
 * Re-derives every checkpoint of the log in order; a table whose base failed cannot be proven either.
 * `after` (`verify --since`): checkpoints whose manifest is at or before this offset were proven by an earlier
 * run and serve as bases only.
 */
export async function verifyCheckpoints(kafka: LogClient, sourceId: string, groupPrefix = 'pitr-verify', after?: bigint): Promise<CheckpointCheck[]> {
  const topics = logTopics(sourceId);
  const log = logger().child({ component: 'verify' });
  const all = await readCheckpoints(kafka, topics, sourceId, groupPrefix);
  const stored = after === undefined ? all : all.filter((c) => c.offset > after);
  if (!stored.length) return [];
  // Each meta image is re-derived while the meta topic is read: a builder per merge bound, its digest taken
  // where the image ends.
  const images = stored
    .filter((c) => c.manifest.hasMetaImage && c.manifest.metaImage)
    .map((c) => ({ c, image: c.manifest.metaImage!, next: toBigInt(c.manifest.metaImage!.metaNextOffset) }))
    .sort((a, b) => (a.next < b.next ? -1 : a.next > b.next ? 1 : 0));
  const builders = new Map(images.map((x) => [x.image.maxTxns, new MetaImageBuilder(x.image.maxTxns)]));
  const derived = new Map<StoredCheckpoint, { digest: Buffer; metaRecords: number }>();
  let settled = 0;
  const settle = (offset?: bigint) => {
    for (; settled < images.length && (offset === undefined || images[settled]!.next <= offset); settled++) {
      const b = builders.get(images[settled]!.image.maxTxns)!;
      derived.set(images[settled]!.c, { digest: b.digest(), metaRecords: b.metaRecords });
    }
  };
  const { meta } = await readIndexedMeta(kafka, topics, sourceId, groupPrefix, (rec, offset) => {
    settle(offset);
    for (const b of builders.values()) b.add(rec);
  });
  settle();
  const partitionCount = await countPartitions(kafka, topics.changes);
  const proven = new Map<string, Map<string, CheckpointTableMsg>>();
  for (const c of all) if (!stored.includes(c)) proven.set(c.manifest.checkpointId, new Map(c.manifest.tables.map((t) => [tableId(t.database, t.table), t])));
  const out: CheckpointCheck[] = [];
  for (const c of stored) {
    const m = c.manifest;
    const check: CheckpointCheck = { checkpointId: m.checkpointId, offset: c.offset, verifiedTables: [], findings: await checkStoredCheckpoint(kafka, topics, sourceId, groupPrefix, c) };
    const at = (message: string, table?: string) => checkpointFinding(topics, c, message, undefined, table);
    if (m.hasMetaImage && m.metaImage) check.findings.push(...(await metaImageFindings(kafka, topics, sourceId, m.metaImage, derived.get(c)!, at)));
    if (m.hasDirectory) {
      const wrong = directoryMismatch(carriedDirectory(m), directoryOf(all.slice(0, all.indexOf(c))));
      if (wrong) check.findings.push(at(`its directory of earlier checkpoints is wrong: ${wrong}`));
    }
    const bases: TableBase[] = [];
    for (const t of m.tables) {
      const base = baseOf(meta, proven, m, t);
      if (typeof base === 'string') check.findings.push(at(`table ${formatQualifiedName(t.database, t.table)}: ${base}`, formatQualifiedName(t.database, t.table)));
      else bases.push(base);
    }
    if (bases.length) {
      const loadRows = async (b: TableBase) => (await readCheckpointRows(kafka, topics, sourceId, groupPrefix, b.id, b.entry!)).views;
      const { folds, bounds } = await foldTables(kafka, topics, sourceId, groupPrefix, meta, c.position, bases, partitionCount, loadRows);
      for (const b of m.bindings) {
        const bound = b.topic === topics.changes ? bounds.get(b.partition) : undefined;
        if (bound && bound.nextOffset !== toBigInt(b.nextOffset)) {
          check.findings.push(at(`bound to ${b.topic}/${b.partition} at offset ${toBigInt(b.nextOffset)}, but the transactions up to its position end at offset ${bound.nextOffset}`));
        }
      }
      for (const b of bases) {
        const t = m.tables.find((x) => x.database === b.database && x.table === b.table)!;
        const got = folds.get(tableId(b.database, b.table))!.summary();
        const name = formatQualifiedName(b.database, b.table);
        if (got.rows !== toNumber(t.rows) || !got.digest.equals(Buffer.from(t.digest))) {
          check.findings.push(at(`table ${name} does not re-derive from its base (${b.kind} ${b.id || ''}) and the changes since: ${got.rows} rows derived, the checkpoint holds ${toNumber(t.rows)}${got.rows === toNumber(t.rows) ? ' with another digest' : ''}`, name));
        } else if (!check.findings.some((f) => f.table === name)) check.verifiedTables.push(name);
      }
    }
    if (!check.findings.length) proven.set(m.checkpointId, new Map(m.tables.map((t) => [tableId(t.database, t.table), t])));
    log.debug({ checkpoint: m.checkpointId, tables: m.tables.length, findings: check.findings.length }, 'checkpoint verified');
    out.push(check);
  }
  return out;
}

/** A meta image's parts against its manifest, its binding against the meta chain, and its digest against the one re-derived. */
async function metaImageFindings(
  kafka: LogClient,
  topics: LogTopics,
  sourceId: string,
  image: MetaImageMsg,
  derived: { digest: Buffer; metaRecords: number },
  at: (message: string) => Finding,
): Promise<Finding[]> {
  const [parts, unbound] = await Promise.all([readMetaImage(kafka, topics, sourceId, image), imageBindingMismatch(kafka, topics, image)]);
  const out: Finding[] = [];
  if (parts.problem) out.push(at(parts.problem));
  if (unbound) out.push(at(unbound));
  if (!parts.problem && (!derived.digest.equals(Buffer.from(image.digest ?? [])) || derived.metaRecords !== toNumber(image.metaRecords))) {
    out.push(at(`its meta image does not re-derive from the meta topic before offset ${toBigInt(image.metaNextOffset)} (${derived.metaRecords} meta records there, the image stands for ${toNumber(image.metaRecords)}): altered or forged`));
  }
  return out;
}

/** How a carried directory differs from the true one (undefined: equal). */
export function directoryMismatch(carried: ManifestDirectory, truth: ManifestDirectory): string | undefined {
  for (const [id, d] of truth) {
    const c = carried.get(id);
    if (!c) return `it omits ${formatQualifiedName(d.database, d.table)} (checkpointed at offset ${d.offset})`;
    if (c.offset !== d.offset) return `it names offset ${c.offset} for ${formatQualifiedName(d.database, d.table)}, whose newest earlier checkpoint is at ${d.offset}`;
  }
  for (const [id, c] of carried) if (!truth.has(id)) return `it names ${formatQualifiedName(c.database, c.table)} at offset ${c.offset}, which no earlier checkpoint holds`;
  return undefined;
}

/** The base a manifest table names, if the log holds it and nothing since reshaped the table; else why not. */
function baseOf(meta: MetaState, proven: Map<string, Map<string, CheckpointTableMsg>>, m: CheckpointManifestMsg, t: CheckpointTableMsg): TableBase | string {
  const position = fromPositionMsg(t.basePosition);
  const at = fromPositionMsg(m.position);
  const base: TableBase = { database: t.database, table: t.table, kind: t.baseKind as TableBase['kind'], id: t.baseId, position };
  if (comparePositions(position, at) > 0) return 'its base lies after the checkpoint';
  if (t.baseKind === 'snapshot') {
    const s = meta.snapshots.find((x) => x.id === t.baseId && x.end);
    if (!s || comparePositions(s.position, position) !== 0 || !s.begin.tables.some((x) => x.database === t.database && x.table === t.table)) {
      return `its base snapshot ${t.baseId} is not a complete snapshot of the table at that position`;
    }
  } else if (t.baseKind === 'checkpoint') {
    const prev = proven.get(t.baseId)?.get(tableId(t.database, t.table));
    if (!prev) return `its base checkpoint ${t.baseId} is not a verified checkpoint of the table`;
    base.entry = prev;
  } else if (t.baseKind === 'ddl') {
    const d = meta.ddl.find((x) => comparePositions(x.position, position) === 0);
    if (!d || !emptiesTable(d.ddl.statement, d.ddl.defaultDatabase, t.database, t.table)) return 'its base is no CREATE TABLE or TRUNCATE of the table';
  } else return `its base kind "${t.baseKind}" is unknown`;
  const touching = meta.ddl.find(
    (d) => comparePositions(d.position, position) > 0 && comparePositions(d.position, at) <= 0 && ddlTouches(d.ddl.statement, d.ddl.defaultDatabase, t.database, t.table),
  );
  if (touching) return `DDL between its base and the checkpoint touches the table ("${touching.ddl.statement.slice(0, 60)}")`;
  return base;
}
