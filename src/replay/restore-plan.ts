// Plans a restore from the folded meta topic alone: the cut, the snapshot it starts from, the DDL
// (and partial snapshots) between them that split the history into segments, every name the
// requested tables had, and the part of the schema history they need. Pure: no server, no Kafka.
import type { DdlEntry, MetaState, SnapshotInfo } from '../log/meta-state.js';
import { planCut, type CutSpec } from './cut-planner.js';
import { schemaScope } from './schema-scope.js';
import { cascadeScope } from './cascade-scope.js';
import { ObjectCatalog, type SchemaObject } from '../schema/schema-objects.js';
import { describeCut, type CutReport } from './cut-report.js';
import { refuseSystemSchema } from './target-guard.js';
import { scratchTag } from './scratch-schemas.js';
import { renamedTables } from '../schema/ddl-rewriter.js';
import { qualified } from '../core/mysql-conn.js';
import { binlogBasename, comparePositions, withinCut, type Cut, type Position } from '../core/position.js';
import { UsageError } from '../core/errors.js';
import { formatName, formatQualifiedName, fromTableId, tableId, type QualifiedName } from '../core/table-name.js';

export interface RestoreRequest {
  tables?: QualifiedName[];
  database?: string;
  cut: CutSpec;
  intoDatabase?: string;
}

export interface RestorePlan {
  cut: Cut;
  snapshot: SnapshotInfo;
  /** Binlog file name without its sequence number (for positions in messages). */
  basename: string;
  cutReport: CutReport;
  /** DDL to replay after the snapshot's schema, in commit order: segment k+1 starts after ddl[k]. */
  ddl: DdlEntry[];
  /** Snapshot definitions (indexes into snapshot.begin.tables) and CREATE DATABASE statements to create first. */
  snapshotTables: SnapshotInfo['begin']['tables'];
  createDatabases: string[];
  /** Partial snapshot id -> the segment its rows belong to (its tables are recreated at its position). */
  partialSegment: Map<string, number>;
  /** Every name (tableId) the requested tables had between the snapshot and the cut. */
  lineage: Set<string>;
  /** Kafka keys ("db.table") of those names: records of other keys are skipped undecoded. */
  lineageKeys: Set<string>;
  /**
   * Tables (tableId) under foreign keys with referential actions: their changes replay one by one in
   * commit order so that the server cascades as the source did (cascade-scope.ts). In a table restore
   * it includes the tables they reference, which `lineage` then holds too (read, not moved into place).
   */
  cascade: Set<string>;
  /**
   * Views, triggers, routines and events to recreate after the rows are in place, as they were
   * defined at the cut: the restored database's, or the triggers of the restored tables.
   */
  objects: SchemaObject[];
}

/** Checks of the request alone, before anything is read or written. */
export function checkRequest(req: Omit<RestoreRequest, 'cut'>): void {
  if (!req.tables?.length && !req.database) throw new UsageError('say what to restore: --table db.t or --database db.');
  if (req.intoDatabase !== undefined && scratchTag(req.intoDatabase) !== null) {
    // Such a name would pass for a dead restore's scratch schema and be cleaned up by the next one.
    throw new UsageError(`--into-database ${req.intoDatabase} looks like a restore's scratch schema (pitr_tmp_*); choose another name.`);
  }
  if (req.intoDatabase !== undefined) refuseSystemSchema(req.intoDatabase, `--into-database ${req.intoDatabase}`);
  else if (req.database !== undefined) refuseSystemSchema(req.database, `restoring database ${req.database} in place`);
  else for (const t of req.tables!) refuseSystemSchema(t.database, `restoring ${t.database}.${t.table} in place`);
  const named = new Set<string>();
  for (const t of req.tables ?? []) {
    const key = tableId(t.database, t.table);
    if (named.has(key)) throw new UsageError(`table ${formatQualifiedName(t.database, t.table)} is named twice; give each --table once.`);
    named.add(key);
  }
}

export function planRestore(meta: MetaState, req: RestoreRequest): RestorePlan {
  const { cut, snapshot } = planCut(meta, req.cut);
  const basename = binlogBasename(snapshot.begin.binlogFile);
  const cutReport = describeCut(meta, cut, snapshot, basename);

  // DDL between the snapshot and the cut, in commit order: the segment boundaries. A partial
  // snapshot (tables added to capture's filter later) is one too: there its tables are recreated
  // from its definitions and loaded with its rows.
  const partials = meta.partialSnapshots().filter((p) => comparePositions(p.position, snapshot.position) > 0 && withinCut(p.position, cut));
  const between: DdlEntry[] = meta.ddl.filter((d) => comparePositions(d.position, snapshot.position) > 0 && withinCut(d.position, cut));
  for (const p of partials) {
    for (const def of p.begin.tables) {
      const base = { gtid: { domain: 0, serverId: 0, seq: 0 }, position: p.begin.position, commitTime: p.begin.time, defaultDatabase: def.database };
      between.push({ position: p.position, ddl: { ...base, statement: `DROP TABLE IF EXISTS ${qualified(def.database, def.table)}` } });
      between.push({ position: p.position, ddl: { ...base, statement: def.createSql } });
    }
  }
  between.sort((a, b) => comparePositions(a.position, b.position));

  // A table's rows were logged under every name it had: follow renames to all of them. Kafka keys
  // ("db.table") are the same for `a.b`.c and a.`b.c`: records are matched on their own fields.
  const lineage = tableLineage(req.tables ?? [], between);
  const cascade = cascadeScope({
    statements: [
      ...snapshot.begin.tables.map((t) => ({ sql: t.createSql, defaultDb: t.database })),
      ...between.map((d) => ({ sql: d.ddl.statement, defaultDb: d.ddl.defaultDatabase })),
    ],
    database: req.database,
    lineage,
  });
  if (req.database === undefined) for (const id of cascade) lineage.add(id);
  const lineageKeys = new Set([...lineage].map((id) => {
    const n = fromTableId(id);
    return `${n.database}.${n.table}`;
  }));
  // Replay only the schema history these tables need (their databases and what those refer to).
  const scope = schemaScope({
    start: req.database !== undefined ? [req.database] : [...lineage].map((id) => fromTableId(id).database),
    snapshotTables: snapshot.begin.tables,
    createDatabases: snapshot.begin.createDatabases,
    ddl: between,
  });
  const ddl = scope.ddl;
  const partialSegment = new Map(partials.map((p) => [p.id, ddl.filter((d) => comparePositions(d.position, p.position) <= 0).length] as const));

  const knownTable = (db: string, t: string) =>
    snapshot.begin.tables.some((x) => x.database === db && x.table === t) ||
    partials.some((p) => p.begin.tables.some((x) => x.database === db && x.table === t)) ||
    meta.ddl.some((d) => d.ddl.statement.includes(t));
  for (const t of req.tables ?? []) {
    if (!knownTable(t.database, t.table)) throw new UsageError(`table ${formatQualifiedName(t.database, t.table)} is not in the log.`);
  }
  const inSnapshot = (db: string) =>
    snapshot.begin.tables.some((x) => x.database === db) || partials.some((p) => p.begin.tables.some((x) => x.database === db));
  if (req.database !== undefined && !inSnapshot(req.database) && !meta.ddl.some((d) => d.ddl.statement.includes(req.database!))) {
    throw new UsageError(`database ${formatName(req.database)} is not in the log.`);
  }
  const catalog = new ObjectCatalog(snapshot.begin.objects ?? []);
  for (const d of between) {
    // sql_mode 0 is what records without it decode to: unknown, not an empty mode.
    const mode = d.ddl.sqlMode !== undefined && String(d.ddl.sqlMode) !== '0' ? String(d.ddl.sqlMode) : undefined;
    catalog.apply(d.ddl.statement, d.ddl.defaultDatabase, mode, d.ddl.commitTime || undefined);
  }
  const objects =
    req.database !== undefined
      ? catalog.objects(req.database)
      : catalog.objects().filter((o) => o.kind === 'TRIGGER' && req.tables!.some((t) => t.database === o.database && t.table === o.table));
  return {
    cut,
    snapshot,
    basename,
    objects,
    cutReport,
    ddl,
    snapshotTables: scope.snapshotTables.map((i) => snapshot.begin.tables[i]!),
    createDatabases: scope.createDatabases,
    partialSegment,
    lineage,
    lineageKeys,
    cascade,
  };
}

/** Whether a record of db.t belongs to the restore (a requested table under any of its names, or the database). */
export function restoresTable(plan: RestorePlan, req: Pick<RestoreRequest, 'database'>, db: string, t: string): boolean {
  return req.database !== undefined ? db === req.database : plan.lineage.has(tableId(db, t));
}

/** The segment a committed position falls in: 0 before the first DDL, k after ddl[k-1]. */
export function segmentOf(ddl: DdlEntry[], p: Position): number {
  let lo = 0;
  let hi = ddl.length;
  // First k with ddl[k].position >= p: statements at p itself end the segment after p's changes.
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (comparePositions(ddl[mid]!.position, p) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Every name the requested tables had between the snapshot and the cut, as tableId keys. */
export function tableLineage(tables: QualifiedName[], ddl: DdlEntry[]): Set<string> {
  const ids = new Set(tables.map((t) => tableId(t.database, t.table)));
  const edges = ddl.flatMap((d) => renamedTables(d.ddl.statement, d.ddl.defaultDatabase));
  for (let grew = true; grew; ) {
    grew = false;
    for (const e of edges) {
      const a = tableId(e.from.database, e.from.table);
      const b = tableId(e.to.database, e.to.table);
      if (ids.has(a) !== ids.has(b)) {
        ids.add(a);
        ids.add(b);
        grew = true;
      }
    }
  }
  return ids;
}

/**
 * The table index's spans of the records a restore reads: the snapshot rows of its snapshot and of the
 * partial snapshots it loads, and the row changes of every transaction after the snapshot within the cut,
 * for the Kafka keys it wants. Undefined when the log does not index all of them (a capture before the
 * index wrote some): the restore then reads whole partitions.
 */
export function indexedSpans(
  meta: MetaState,
  plan: Pick<RestorePlan, 'snapshot' | 'partialSegment' | 'cut'>,
  wantedKey: (key: string) => boolean,
): { partition: number; first: bigint; last: bigint }[] | undefined {
  const after = plan.snapshot.position;
  return meta.spansFor(
    [plan.snapshot.id, ...plan.partialSegment.keys()],
    (r) => comparePositions(r.to, after) > 0 && withinCut(r.from, plan.cut),
    wantedKey,
  );
}
