// Restore orchestrator: resolves the cut on the log, replays the schema history into scratch
// databases on the target, folds the needed tables' row changes segment by segment between DDL
// statements, bulk-loads them, and finally renames the finished tables into place.
import type { Kafka } from 'kafkajs';
import { kafkaClient, partitionEnds, readPartitions } from '../log/kafka-log.js';
import { logTopics } from '../log/topics.js';
import { decodeRecord, viewRowRecord, type RowRecordView } from '../log/record-codec.js';
import { partitionFor } from '../log/partitioner.js';
import { readMeta } from '../log/meta-reader.js';
import type { DdlEntry } from '../log/meta-state.js';
import { refuseUncovered } from '../log/table-coverage.js';
import { planCut, coverageWindow, type CutSpec } from './cut-planner.js';
import { RowFolder, LineFolder, foldView } from './row-folder.js';
import { LineRenderer } from './sql-values.js';
import { applyFold, applyLineFold, describeTable, tableHasRows, type TableInfo } from './table-loader.js';
import { RecordSpool } from './record-spool.js';
import { classifyDdl, identName, renamedTables, rewriteDatabases, tokenize } from '../schema/ddl-rewriter.js';
import { connectMysql, mysqlError, qid, qualified, type Connection } from '../core/mysql-conn.js';
import type { MysqlUrl } from '../core/mysql-url.js';
import type { KafkaSettings } from '../core/settings.js';
import { comparePositions, withinCut, formatPosition, type Cut, type Position } from '../core/position.js';
import { CoverageError, PitrError, TargetExistsError, UsageError } from '../core/errors.js';
import { logger } from '../core/logger.js';
import { formatName, formatQualifiedName, fromTableId, tableId } from '../core/table-name.js';
import { refuseSourceAsTarget, refuseSystemSchema } from './target-guard.js';
import { ScratchSchemas, hideScratchNames, removeStaleScratch, scratchTag } from './scratch-schemas.js';
import { dropIfEmpty, registerRestore } from './restore-interrupt.js';
import { schemaScope } from './schema-scope.js';
import { describeCut, type CutReport } from './cut-report.js';
import { checkpointBases } from './checkpoint-base.js';

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
  /** Called as log records are read: records so far and the records the read covers at most. */
  onProgress?: (done: number, total: number) => void;
  /** Read from the snapshot even where a checkpoint within the cut would do (restore --no-checkpoint). */
  noCheckpoint?: boolean;
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

export interface RestoredTable {
  database: string;
  table: string;
  into: string;
  rows: number;
}

export interface RestoreResult {
  tables: RestoredTable[];
  cut: Cut;
  cutLabel: string;
  /** End position of the last included transaction (where replaying the binlog continues). */
  position: string;
  /** The last included and the first excluded transaction. */
  cutReport: CutReport;
  seconds: number;
  changesRead: number;
}

/** One table's fold of segment 0 (rows at the snapshot and changes before the first DDL). */
interface Fold0 {
  /** Keyed tables: the hot path. */
  lines: LineFolder | null;
  /** Keyless tables: folded by full image. */
  rows: RowFolder | null;
  /** A batch was applied to the scratch table already (a later batch starts from loaded rows). */
  flushed: boolean;
  /** The previous batch being applied: reading continues meanwhile; the next apply waits for it. */
  applying: Promise<void>;
}

interface Segmented {
  /** Segment number -> raw change records (segments after the first DDL), decoded when applied. */
  later: Map<number, RecordSpool>;
  fold0: Fold0 | null;
}

export async function runRestore(opts: RestoreOptions): Promise<RestoreResult> {
  const started = Date.now();
  const log = logger().child({ component: 'restore' });
  if (!opts.tables?.length && !opts.database) throw new UsageError('say what to restore: --table db.t or --database db.');
  // Checks of the request alone, before anything is read or written.
  if (opts.intoDatabase !== undefined && scratchTag(opts.intoDatabase) !== null) {
    // Such a name would pass for a dead restore's scratch schema and be cleaned up by the next one.
    throw new UsageError(`--into-database ${opts.intoDatabase} looks like a restore's scratch schema (pitr_tmp_*); choose another name.`);
  }
  if (opts.intoDatabase !== undefined) refuseSystemSchema(opts.intoDatabase, `--into-database ${opts.intoDatabase}`);
  else if (opts.database !== undefined) refuseSystemSchema(opts.database, `restoring database ${opts.database} in place`);
  else for (const t of opts.tables!) refuseSystemSchema(t.database, `restoring ${t.database}.${t.table} in place`);
  const named = new Set<string>();
  for (const t of opts.tables ?? []) {
    const key = `${t.database}.${t.table}`;
    if (named.has(key)) throw new UsageError(`table ${key} is named twice; give each --table once.`);
    named.add(key);
  }
  const kafka = kafkaClient(opts.kafka, 'reader', { clientId: `pitr-restore-${opts.sourceId}` });
  const topics = logTopics(opts.sourceId);
  const meta = await readMeta(kafka, topics, opts.sourceId);
  const { cut, snapshot } = planCut(meta, opts.cut);
  // Tables capture stopped capturing (capture --narrow): a cut after that would miss their rows.
  refuseUncovered(meta, { tables: opts.tables, database: opts.database }, cut, 'asOf' in opts.cut ? opts.cut.asOf : undefined);
  const basename = snapshot.begin.binlogFile.replace(/\.\d+$/, '');
  const cutReport = describeCut(meta, cut, snapshot, basename);
  log.info({ cut: cut.label, position: formatPosition(cut.at, basename), ...cutReport }, 'cut resolved');

  // DDL between the snapshot and the cut, in commit order: the segment boundaries. A partial
  // snapshot (tables added to capture's filter later) is one too: there its tables are recreated
  // from its definitions and loaded with its rows.
  const partials = meta.partialSnapshots().filter((p) => comparePositions(p.position, snapshot.position) > 0 && withinCut(p.position, cut));
  const ddl: DdlEntry[] = meta.ddl.filter((d) => comparePositions(d.position, snapshot.position) > 0 && withinCut(d.position, cut));
  for (const p of partials) {
    for (const def of p.begin.tables) {
      const base = { gtid: { domain: 0, serverId: 0, seq: 0 }, position: p.begin.position, commitTime: p.begin.time, defaultDatabase: def.database };
      ddl.push({ position: p.position, ddl: { ...base, statement: `DROP TABLE IF EXISTS ${qualified(def.database, def.table)}` } });
      ddl.push({ position: p.position, ddl: { ...base, statement: def.createSql } });
    }
  }
  ddl.sort((a, b) => comparePositions(a.position, b.position));

  // A table's rows were logged under every name it had: follow renames to all of them.
  const lineage = tableLineage(opts.tables ?? [], ddl);
  // Kafka keys ("db.table") are the same for `a.b`.c and a.`b.c`: decide on the record's own
  // database and table fields, never on the key alone.
  const lineageIds = tableLineageIds(opts.tables ?? [], ddl);
  const wanted = (db: string, t: string) => (opts.database !== undefined ? db === opts.database : lineageIds.has(tableId(db, t)));
  // Replay only the schema history these tables need (their databases and what those refer to).
  const scope = schemaScope({
    start: opts.database !== undefined ? [opts.database] : [...lineageIds].map((id) => fromTableId(id).database),
    snapshotTables: snapshot.begin.tables,
    createDatabases: snapshot.begin.createDatabases,
    ddl,
  });
  ddl.splice(0, ddl.length, ...scope.ddl);
  const partialSegment = new Map(
    partials.map((p) => [p.id, ddl.filter((d) => comparePositions(d.position, p.position) <= 0).length] as const),
  );
  const restoring = (db: string, t: string) => wanted(db, t) || (opts.database !== undefined && t === opts.database);
  const knownTable = (db: string, t: string) =>
    snapshot.begin.tables.some((x) => x.database === db && x.table === t) ||
    partials.some((p) => p.begin.tables.some((x) => x.database === db && x.table === t)) ||
    meta.ddl.some((d) => d.ddl.statement.includes(t));
  for (const t of opts.tables ?? []) {
    if (!knownTable(t.database, t.table)) throw new UsageError(`table ${formatQualifiedName(t.database, t.table)} is not in the log.`);
  }
  if (opts.database !== undefined && !snapshot.begin.tables.some((x) => x.database === opts.database) && !meta.ddl.some((d) => d.ddl.statement.includes(opts.database!))) {
    throw new UsageError(`database ${formatName(opts.database)} is not in the log.`);
  }

  const conn = await connectMysql(opts.target, 'target', { multipleStatements: false, infile: () => { throw new Error('no stream'); } });
  const scratch = new ScratchSchemas(conn);
  const tag = scratch.tag;
  const scratchFor = (db: string): string => scratch.nameFor(db);
  const state = new Map<string, Segmented>();
  const createdDatabases = new Set<string>();
  let unregister = (): unknown => undefined;
  try {
    // Before the first write: never the source (nothing may reach its tables or its binlog).
    await refuseSourceAsTarget(conn, { meta, source: opts.source }, 'the restore target');
    await removeStaleScratch(conn);
    await scratch.claim();
    unregister = registerRestore({ target: opts.target, conn, tag, createdDatabases });
    await conn.query("SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION', foreign_key_checks = 0, unique_checks = 0");
    if (opts.tables) {
      for (const t of opts.tables) await refuseExisting(conn, opts.intoDatabase ?? t.database, t.table, opts.replace);
    }

    // Schema as of the snapshot.
    const snapshotTables = scope.snapshotTables.map((i) => snapshot.begin.tables[i]!);
    const dbsAtSnapshot = new Set(snapshotTables.map((t) => t.database));
    for (const create of scope.createDatabases) {
      await conn.query(rewriteDatabases(create, scratchFor));
    }
    for (const db of dbsAtSnapshot) if (!scratch.bySource.has(db)) await conn.query(`CREATE DATABASE ${qid(scratchFor(db))}`);
    for (const def of snapshotTables) {
      await conn.query(`USE ${qid(scratchFor(def.database))}`);
      await conn.query(rewriteDatabases(def.createSql, scratchFor));
    }

    // Key columns of every wanted table as of the snapshot: fold segment 0 while reading.
    const info0 = new Map<string, TableInfo>();
    for (const def of snapshot.begin.tables) {
      if (!wanted(def.database, def.table)) continue;
      const info = await describeTable(conn, scratchFor(def.database), def.table);
      if (info) info0.set(tableId(def.database, def.table), info);
    }

    // Read the wanted tables' records. Records of other tables sharing a partition are skipped by
    // their Kafka key before any decoding; keyed tables fold on the wire format (LineFolder).
    const budget = opts.memoryBudget ?? (process.env.PITR_MEMORY_BUDGET ? parseByteSize(process.env.PITR_MEMORY_BUDGET) : DEFAULT_MEMORY_BUDGET);
    // The budget bounds the whole process: folded rows get 30% of it by estimate (the estimate runs
    // low and V8 keeps garbage until it collects), buffered later-segment records 20% before they
    // spill to disk; the rest is Node, kafkajs fetch buffers and LOAD DATA chunks. Measured: a
    // 5,000,000-row table at 1 GiB peaked at 1078 MiB RSS with a 45% fold share, hence 30%.
    const foldBudget = Math.floor(budget * 0.3);
    const spoolBudget = { left: Math.floor(budget * 0.2) };
    const renderer = new LineRenderer();
    const firstDdl = ddl.length ? ddl[0]!.position : undefined;
    const segmentOf = (p: Position): number => {
      if (!firstDdl || comparePositions(p, firstDdl) < 0) return 0;
      let k = 0;
      while (k < ddl.length && comparePositions(ddl[k]!.position, p) < 0) k++;
      return k;
    };
    const stateFor = (key: string): Segmented => {
      let s = state.get(key);
      if (!s) {
        const info = info0.get(key);
        let fold0: Fold0 | null = null;
        if (info) {
          fold0 = info.keyColumns
            ? { lines: new LineFolder(info.keyColumns, false), rows: null, flushed: false, applying: Promise.resolve() }
            : { lines: null, rows: new RowFolder(null, false), flushed: false, applying: Promise.resolve() };
        }
        state.set(key, (s = { later: new Map(), fold0 }));
      }
      return s;
    };
    const wantedKey = (k: string): boolean => (opts.database !== undefined ? k.startsWith(`${opts.database}.`) : lineage.has(k));
    // Applies segment 0's folded batch when it outgrows the budget, and keeps folding into a fresh
    // folder marked loaded (its keys may exist in the table: deleted before their new rows load).
    const heldBytes = (): number => {
      let n = 0;
      for (const s of state.values()) if (s.fold0?.lines) n += s.fold0.lines.bytes;
      return n;
    };
    const applyBatch0 = async (key: string, f: Fold0): Promise<void> => {
      const [db, table] = splitKey(key);
      const info = info0.get(key)!;
      const lines = f.lines!;
      f.lines = new LineFolder(lines.keyColumns, true);
      f.flushed = true;
      await f.applying;
      log.debug({ table: formatQualifiedName(db, table), rows: lines.size, bytes: lines.bytes }, 'applying a folded batch within the memory budget');
      f.applying = applyLineFold(conn, scratchFor(db), table, info, lines.result());
      // Surface a failure at the next await, never as an unhandled rejection meanwhile.
      f.applying.catch(() => undefined);
    };
    const fold0 = (f: Fold0, v: RowRecordView, buf: Buffer, where: string): number => {
      if (f.lines) return foldView(f.lines, v, renderer);
      const rec = decodeRecord(buf, where, opts.sourceId);
      const columns = rec.change?.columns ?? rec.snapshotRows!.columns;
      if (rec.snapshotRows) for (const row of rec.snapshotRows.rows) f.rows!.insert(columns, row.values);
      else for (const ch of rec.change!.changes) f.rows!.apply(columns, ch);
      return v.ops.length;
    };
    let changesRead = 0;
    // Checkpoints (checked before use) replace the snapshot rows of their tables and the changes up to them.
    const checkpointed = opts.noCheckpoint
      ? new Map()
      : await checkpointBases(kafka, topics, opts.sourceId, snapshot, cut, firstDdl, snapshot.begin.tables.filter((d) => wanted(d.database, d.table) && info0.has(tableId(d.database, d.table))));
    for (const [key, base] of checkpointed) {
      const s = stateFor(key);
      for (const v of base.rows) changesRead += fold0(s.fold0!, v, v.buf, `${topics.checkpoints}/0 (checkpoint ${base.checkpointId})`);
    }
    const layout = await changePartitions(kafka, topics.changes);
    const partitions = layout.count;
    const needed = new Set<number>();
    if (opts.tables) for (const key of lineage) needed.add(partitionFor(key, partitions));
    else for (let p = 0; p < partitions; p++) needed.add(p);
    const totalRecords = [...needed].reduce((n, p) => n + (layout.sizes.get(p) ?? 0), 0);
    let recordsSeen = 0;
    const snapId = snapshot.id;
    const readStarted = Date.now();
    // A partition whose wanted tables all start from checkpoints is read from their bound offsets.
    const from = new Map<number, bigint>();
    if (opts.tables && checkpointed.size) {
      for (const p of needed) {
        const keys = [...lineage].filter((k) => partitionFor(k, partitions) === p);
        const bases = [...checkpointed].filter(([id]) => keys.includes(`${fromTableId(id).database}.${fromTableId(id).table}`)).map(([, b]) => b);
        const offsets = bases.map((b) => b.startOffsets.get(p));
        if (bases.length === keys.length && offsets.every((o) => o !== undefined)) from.set(p, offsets.reduce((a, b) => (b! < a! ? b : a))!);
      }
    }
    await readPartitions(kafka, topics.changes, {
      partitions: [...needed],
      from,
      onMessages: async (p, msgs) => {
        recordsSeen += msgs.length;
        opts.onProgress?.(recordsSeen, totalRecords);
        for (const m of msgs) {
          if (!wantedKey(m.key)) continue;
          const where = `${topics.changes}/${p}@${m.offset}`;
          const v = viewRowRecord(m.value, where, opts.sourceId);
          if (!v) continue;
          if (v.kind === 'snapshotRows') {
            const later = partialSegment.get(v.snapshotId);
            if (later !== undefined && wanted(v.database, v.table)) {
              const s = stateFor(tableId(v.database, v.table));
              let spool = s.later.get(later);
              if (!spool) s.later.set(later, (spool = new RecordSpool(spoolBudget)));
              spool.push(m.value, where);
              continue;
            }
            if (v.snapshotId !== snapId || !wanted(v.database, v.table) || checkpointed.has(tableId(v.database, v.table))) continue;
            const s = stateFor(tableId(v.database, v.table));
            if (!s.fold0) throw new PitrError(`snapshot rows for ${v.database}.${v.table} but no definition in the snapshot`);
            changesRead += fold0(s.fold0, v, m.value, where);
          } else {
            const commit = v.stagedTxn ? meta.staged.get(v.stagedTxn) : v;
            if (!commit) continue; // a staged chunk of a transaction that never committed
            const pos = commit.position;
            if (comparePositions(pos, snapshot.position) <= 0) continue;
            if (!withinCut(pos, cut)) {
              // Commit order per partition: nothing later in this partition is within the cut.
              return false;
            }
            if (!wanted(v.database, v.table)) continue;
            const base = checkpointed.get(tableId(v.database, v.table));
            if (base && comparePositions(pos, base.position) <= 0) continue; // in the checkpoint's rows
            const s = stateFor(tableId(v.database, v.table));
            const seg = segmentOf(pos);
            changesRead += v.ops.length;
            if (seg === 0 && s.fold0) {
              fold0(s.fold0, v, m.value, where);
            } else {
              let spool = s.later.get(seg);
              if (!spool) s.later.set(seg, (spool = new RecordSpool(spoolBudget)));
              spool.push(m.value, where);
            }
          }
        }
        if (heldBytes() > foldBudget) {
          for (const [key, s] of state) if (s.fold0?.lines && s.fold0.lines.size) await applyBatch0(key, s.fold0);
        }
        return true;
      },
    });
    log.debug({ ms: Date.now() - readStarted, changesRead }, 'log read');

    // Segment 0: load folded snapshot + changes.
    const flushSegment = async (seg: number) => {
      for (const [key, s] of state) {
        const [db, table] = splitKey(key);
        if (seg === 0) {
          const f = s.fold0;
          if (!f) continue;
          const info = info0.get(key)!;
          await f.applying;
          if (f.lines) await applyLineFold(conn, scratchFor(db), table, info, f.lines.result());
          else await applyFold(conn, scratchFor(db), table, info, f.rows!.result());
          s.fold0 = null;
          continue;
        }
        const spool = s.later.get(seg);
        if (!spool) continue;
        const info = await describeTable(conn, scratchFor(db), table);
        if (!info) throw new PitrError(`row changes for ${formatQualifiedName(db, table)} at ${spool.firstWhere} but the table does not exist there`);
        // A table created or emptied since is known to be empty: no deletes needed for its keys.
        const hasRows = await tableHasRows(conn, scratchFor(db), table);
        if (info.keyColumns) {
          let folder = new LineFolder(info.keyColumns, hasRows);
          for (const { buf, where } of spool.records()) {
            foldView(folder, viewRowRecord(buf, where, opts.sourceId)!, renderer);
            if (folder.bytes > foldBudget) {
              await applyLineFold(conn, scratchFor(db), table, info, folder.result());
              folder = new LineFolder(info.keyColumns, true);
            }
          }
          await applyLineFold(conn, scratchFor(db), table, info, folder.result());
        } else {
          const folder = new RowFolder(null, hasRows);
          for (const { buf, where } of spool.records()) {
            const rec = decodeRecord(buf, where, opts.sourceId);
            if (rec.snapshotRows) for (const row of rec.snapshotRows.rows) folder.insert(rec.snapshotRows.columns, row.values);
            else for (const ch of rec.change!.changes) folder.apply(rec.change!.columns, ch);
          }
          await applyFold(conn, scratchFor(db), table, info, folder.result());
        }
        spool.close();
        s.later.delete(seg);
      }
    };
    await flushSegment(0);
    log.debug({ ms: Date.now() - readStarted }, 'segment 0 applied');
    for (let k = 0; k < ddl.length; k++) {
      const d = ddl[k]!.ddl;
      const kind = classifyDdl(d.statement);
      if (kind !== 'other') {
        // CREATE/DROP DATABASE log the named database as their default: nothing to switch to.
        if (d.defaultDatabase && kind === 'table') {
          const s = scratchFor(d.defaultDatabase);
          await conn.query(`CREATE DATABASE IF NOT EXISTS ${qid(s)}`);
          await conn.query(`USE ${qid(s)}`);
        }
        try {
          await conn.query(rewriteDatabases(d.statement, scratchFor));
        } catch (err) {
          // Tables outside capture's --tables filter have DDL in the log but no definition in the
          // snapshot: their statements may fail here, harmlessly, unless they touch what we restore.
          const errno = (err as { errno?: number }).errno;
          if (errno !== undefined && MISSING_OBJECT_ERRORS.has(errno) && !mentionsAny(d.statement, d.defaultDatabase, restoring)) {
            log.debug({ statement: d.statement.slice(0, 200), errno }, 'skipped DDL of a table outside the restore');
            await flushSegment(k + 1);
            continue;
          }
          throw mysqlError(err, `replaying DDL at ${formatPosition(ddl[k]!.position, basename)} ("${d.statement.slice(0, 80)}") failed`);
        }
      }
      await flushSegment(k + 1);
    }

    // Which tables exist at the cut.
    let finalTables: { database: string; table: string }[];
    if (opts.tables) {
      finalTables = opts.tables;
      for (const t of finalTables) {
        const [r] = await conn.query('SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [scratchFor(t.database), t.table]);
        if (!(r as unknown[]).length) {
          throw new CoverageError(`table ${formatQualifiedName(t.database, t.table)} did not exist ${cut.label}.`);
        }
      }
    } else {
      const db = opts.database!;
      if (!scratch.bySource.has(db)) throw new CoverageError(`database ${db} did not exist ${cut.label}.`);
      const [r] = await conn.query(
        "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
        [scratchFor(db)],
      );
      const [dbExists] = await conn.query('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [scratchFor(db)]);
      if (!(dbExists as unknown[]).length) throw new CoverageError(`database ${db} did not exist ${cut.label}.`);
      finalTables = (r as { t: string }[]).map((x) => ({ database: db, table: x.t }));
      for (const t of finalTables) await refuseExisting(conn, opts.intoDatabase ?? db, t.table, opts.replace);
    }

    // Move into place: one RENAME for all tables, so a multi-table restore appears at once.
    const result: RestoredTable[] = [];
    const renames: string[] = [];
    const drops: string[] = [];
    for (const t of finalTables) {
      const into = opts.intoDatabase ?? t.database;
      const [had] = await conn.query('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [into]);
      if (!(had as unknown[]).length) {
        await conn.query(`CREATE DATABASE IF NOT EXISTS ${qid(into)}`);
        createdDatabases.add(into);
      }
      const [c] = await conn.query(`SELECT COUNT(*) AS n FROM ${qualified(scratchFor(t.database), t.table)}`);
      const rows = Number((c as { n: number }[])[0]!.n);
      const [ex] = await conn.query('SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [into, t.table]);
      if ((ex as unknown[]).length) {
        const old = `${t.table}__old_${tag}`.slice(0, 64);
        renames.push(`${qualified(into, t.table)} TO ${qualified(scratchFor(t.database), old)}`);
        drops.push(qualified(scratchFor(t.database), old));
      }
      renames.push(`${qualified(scratchFor(t.database), t.table)} TO ${qualified(into, t.table)}`);
      result.push({ database: t.database, table: t.table, into: formatQualifiedName(into, t.table), rows });
    }
    if (renames.length) await conn.query(`RENAME TABLE ${renames.join(', ')}`);
    createdDatabases.clear();
    return {
      tables: result,
      cut,
      cutLabel: cut.label,
      position: cutReport.included?.position ?? formatPosition(snapshot.position, basename),
      cutReport,
      seconds: (Date.now() - started) / 1000,
      changesRead,
    };
  } catch (err) {
    // A failed restore leaves nothing it created behind, and speaks of the user's databases only.
    for (const db of createdDatabases) await dropIfEmpty(conn, db).catch(() => undefined);
    throw hideScratch(err, scratch.reverse());
  } finally {
    unregister();
    for (const s of state.values()) for (const spool of s.later.values()) spool.close();
    await scratch.dropAll().catch(() => undefined);
    await scratch.release();
    await conn.end().catch(() => undefined);
  }
}

/** Every name the requested tables had between the snapshot and the cut, as tableId keys. */
export function tableLineageIds(tables: { database: string; table: string }[], ddl: DdlEntry[]): Set<string> {
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

/** The same error with scratch schema names replaced by the source databases they stand for. */
function hideScratch(err: unknown, names: Map<string, string>): unknown {
  if (!(err instanceof Error) || !/pitr_tmp_/.test(err.message)) return err;
  const message = hideScratchNames(err.message, names);
  if (err instanceof PitrError) {
    const Ctor = err.constructor as new (m: string, o: object) => PitrError;
    return new Ctor(message, { retriable: err.retriable, position: err.position, cause: err.cause });
  }
  return new PitrError(message, { cause: err });
}

/** Every name the requested tables had between the snapshot and the cut ("db.table" keys). */
export function tableLineage(tables: { database: string; table: string }[], ddl: DdlEntry[]): Set<string> {
  const names = new Set(tables.map((t) => `${t.database}.${t.table}`));
  const edges = ddl.flatMap((d) => renamedTables(d.ddl.statement, d.ddl.defaultDatabase));
  for (let grew = true; grew; ) {
    grew = false;
    for (const e of edges) {
      const a = `${e.from.database}.${e.from.table}`;
      const b = `${e.to.database}.${e.to.table}`;
      if (names.has(a) !== names.has(b)) {
        names.add(a);
        names.add(b);
        grew = true;
      }
    }
  }
  return names;
}

/** No such table / database, or already exists: what DDL of uncaptured tables runs into. */
const MISSING_OBJECT_ERRORS = new Set([1146, 1049, 1051, 1050, 1007, 1008, 1091, 1054]);

/** Whether a statement names any of the tables (or, for "db.*" entries, databases) being restored. */
function mentionsAny(sql: string, defaultDb: string, restoring: (db: string, t: string) => boolean): boolean {
  const toks = tokenize(sql);
  for (let i = 0; i < toks.length; i++) {
    const name = identName(toks[i]!);
    if (name === null) continue;
    if (restoring(defaultDb, name)) return true;
    if (toks[i + 1]?.text === '.' && toks[i + 2] && identName(toks[i + 2]!) !== null && restoring(name, identName(toks[i + 2]!)!)) return true;
  }
  return false;
}

/** A state key (tableId) back to its database and table. */
function splitKey(key: string): [string, string] {
  const n = fromTableId(key);
  return [n.database, n.table];
}

async function refuseExisting(conn: Connection, db: string, table: string, replace?: boolean): Promise<void> {
  if (replace) return;
  const [r] = await conn.query('SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [db, table]);
  if ((r as unknown[]).length) {
    throw new TargetExistsError(`target table ${formatQualifiedName(db, table)} already exists on the recovery server; pass --replace or choose --into-database.`);
  }
}

/** Partition count of the changes topic and the records each partition holds (for progress). */
async function changePartitions(kafka: Kafka, topic: string): Promise<{ count: number; sizes: Map<number, number> }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    const ends = await partitionEnds(admin, topic);
    const sizes = new Map([...ends].map(([p, e]) => [p, Number(e.high - e.low)]));
    return { count: md.topics[0]!.partitions.length, sizes };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export { coverageWindow };
