// Which base each table's next checkpoint folds from, and which tables cannot be checkpointed without a
// server (DDL reshaped them since their base). Pure: MetaState and the checkpoints read so far in, plan out.
import type { MetaState, SnapshotInfo } from '../log/meta-state.js';
import type { CheckpointBaseKind, CheckpointManifestMsg, CheckpointTableMsg } from '../log/record-types.js';
import { fromPositionMsg } from '../log/record-codec.js';
import { comparePositions, type Position } from '../core/position.js';
import { classifyDdl, identName, tokenize } from '../schema/ddl-rewriter.js';
import { createdTable } from '../analysis/key-columns.js';
import { tableId } from '../core/table-name.js';

/** A checkpoint as read from the checkpoints topic: its manifest and where that manifest is. */
export interface StoredCheckpoint {
  manifest: CheckpointManifestMsg;
  position: Position;
  /** Offset of the manifest on the checkpoints topic's partition 0. */
  offset: bigint;
}

export interface TableBase {
  database: string;
  table: string;
  kind: CheckpointBaseKind;
  /** Snapshot id or checkpoint id ("" for a DDL base). */
  id: string;
  position: Position;
  /** The previous checkpoint's entry for the table (kind "checkpoint"). */
  entry?: CheckpointTableMsg;
}

export interface SkippedTable {
  database: string;
  table: string;
  reason: string;
}

export interface CheckpointPlan {
  snapshot: SnapshotInfo;
  bases: TableBase[];
  skipped: SkippedTable[];
}

/** Whether a schema statement may concern db.t: names the table (any database) or is a DATABASE statement on db. */
export function ddlTouches(sql: string, defaultDb: string, database: string, table: string): boolean {
  const kind = classifyDdl(sql);
  for (const tok of tokenize(sql)) {
    const name = identName(tok);
    if (name === null) continue;
    if (name === table) return true;
    if (kind === 'database' && name === database) return true;
  }
  return false;
}

/** A statement after which db.t exists and is empty: CREATE TABLE (not ... SELECT) or TRUNCATE of it. */
export function emptiesTable(sql: string, defaultDb: string, database: string, table: string): boolean {
  const words = tokenize(sql).filter((t) => t.kind !== 'ws' && t.kind !== 'comment');
  const created = createdTable(sql, defaultDb);
  if (created) {
    const selects = words.some((t) => t.kind === 'word' && /^(SELECT|AS)$/i.test(t.text));
    return !selects && created.database === database && created.table === table;
  }
  if (!(words[0]?.kind === 'word' && /^TRUNCATE$/i.test(words[0].text))) return false;
  let i = 1;
  if (words[i]?.kind === 'word' && /^TABLE$/i.test(words[i]!.text)) i++;
  const a = words[i] ? identName(words[i]!) : null;
  if (a === null) return false;
  if (words[i + 1]?.text === '.' && words[i + 2]) return a === database && identName(words[i + 2]!) === table && words.length === i + 3;
  return defaultDb === database && a === table && words.length === i + 1;
}

/** The newest complete full snapshot at or before `at`: every checkpoint at `at` builds on it. */
export function baseSnapshot(meta: MetaState, at: Position): SnapshotInfo | undefined {
  return meta
    .completeSnapshots()
    .filter((s) => comparePositions(s.position, at) <= 0)
    .at(-1);
}

/**
 * The base of every table known at `at`: the newest of its snapshot rows (full or partial), a CREATE TABLE or
 * TRUNCATE of it, and its newest earlier checkpoint on the same snapshot. A table that DDL touched after that
 * base, whose capture ended, or that a gap interrupts, is skipped with the reason.
 */
export function planBases(meta: MetaState, checkpoints: StoredCheckpoint[], at: Position): CheckpointPlan | undefined {
  const snapshot = baseSnapshot(meta, at);
  if (!snapshot) return undefined;
  const after = (p: Position) => comparePositions(p, snapshot.position) > 0 && comparePositions(p, at) <= 0;
  const best = new Map<string, TableBase>();
  const consider = (b: TableBase) => {
    const id = tableId(b.database, b.table);
    const prev = best.get(id);
    if (!prev || comparePositions(b.position, prev.position) >= 0) best.set(id, b);
  };
  for (const t of snapshot.begin.tables) consider({ database: t.database, table: t.table, kind: 'snapshot', id: snapshot.id, position: snapshot.position });
  for (const p of meta.partialSnapshots()) {
    if (!after(p.position)) continue;
    for (const t of p.begin.tables) consider({ database: t.database, table: t.table, kind: 'snapshot', id: p.id, position: p.position });
  }
  const ddl = meta.ddl.filter((d) => after(d.position));
  for (const d of ddl) {
    const created = createdTable(d.ddl.statement, d.ddl.defaultDatabase);
    const candidates = created ? [created] : [...best.values()];
    for (const c of candidates) {
      if (emptiesTable(d.ddl.statement, d.ddl.defaultDatabase, c.database, c.table)) {
        consider({ database: c.database, table: c.table, kind: 'ddl', id: '', position: d.position });
      }
    }
  }
  for (const c of checkpoints) {
    if (c.manifest.snapshotId !== snapshot.id || !after(c.position)) continue;
    for (const t of c.manifest.tables) consider({ database: t.database, table: t.table, kind: 'checkpoint', id: c.manifest.checkpointId, position: c.position, entry: t });
  }

  const bases: TableBase[] = [];
  const skipped: SkippedTable[] = [];
  for (const b of best.values()) {
    const since = (p: Position) => comparePositions(p, b.position) > 0 && comparePositions(p, at) <= 0;
    const touching = ddl.find((d) => since(d.position) && ddlTouches(d.ddl.statement, d.ddl.defaultDatabase, b.database, b.table));
    if (touching) {
      skipped.push({ ...b, reason: `DDL since its base reshaped it ("${touching.ddl.statement.slice(0, 60)}"); a checkpoint of it needs a CREATE or TRUNCATE first` });
      continue;
    }
    const ended = meta.coverageEnds.find((e) => comparePositions(e.after, b.position) >= 0 && e.end.tables.some((t) => t.database === b.database && t.table === b.table));
    if (ended) {
      skipped.push({ ...b, reason: 'capture stopped capturing it since its base' });
      continue;
    }
    if (meta.gaps.some((g) => since(g.after))) {
      skipped.push({ ...b, reason: 'the log has a gap since its base' });
      continue;
    }
    bases.push(b);
  }
  return { snapshot, bases, skipped };
}

/** Position of a stored manifest. */
export function manifestPosition(m: CheckpointManifestMsg): Position {
  return fromPositionMsg(m.position);
}
