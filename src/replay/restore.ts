// Restore orchestrator: resolves the cut on the log, replays the schema history into scratch
// databases on the target, folds the needed tables' row changes segment by segment between DDL
// statements, bulk-loads them, and finally renames the finished tables into place.
import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { kafkaClient, readPartitions } from '../log/kafka-log.js';
import { logTopics } from '../log/topics.js';
import { decodeRecord, fromPositionMsg } from '../log/record-codec.js';
import { partitionFor } from '../log/partitioner.js';
import { readMeta } from '../log/meta-reader.js';
import type { MetaState, DdlEntry } from '../log/meta-state.js';
import { planCut, coverageWindow, type CutSpec } from './cut-planner.js';
import { RowFolder, type Row } from './row-folder.js';
import { applyFold, describeTable, type TableInfo } from './table-loader.js';
import { classifyDdl, identName, renamedTables, rewriteDatabases, tokenize } from '../schema/ddl-rewriter.js';
import { connectMysql, mysqlError, qid, qualified, type Connection } from '../core/mysql-conn.js';
import type { MysqlUrl } from '../core/mysql-url.js';
import type { KafkaSettings } from '../core/settings.js';
import { comparePositions, withinCut, formatPosition, type Cut, type Position } from '../core/position.js';
import { CoverageError, PitrError, TargetExistsError, UsageError } from '../core/errors.js';
import { logger } from '../core/logger.js';
import type { ChangeBatchMsg } from '../log/record-types.js';

export interface RestoreOptions {
  kafka: KafkaSettings;
  sourceId: string;
  target: MysqlUrl;
  tables?: { database: string; table: string }[];
  database?: string;
  cut: CutSpec;
  /** Destination database (default: the table's own database name on the target server). */
  intoDatabase?: string;
  replace?: boolean;
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
  position: string;
  seconds: number;
  changesRead: number;
}

interface Segmented {
  /** Segment number -> raw change records (segments after the first DDL). */
  later: Map<number, ChangeBatchMsg[]>;
  folder0: RowFolder | null;
}

export async function runRestore(opts: RestoreOptions): Promise<RestoreResult> {
  const started = Date.now();
  const log = logger().child({ component: 'restore' });
  if (!opts.tables?.length && !opts.database) throw new UsageError('say what to restore: --table db.t or --database db.');
  const kafka = kafkaClient(opts.kafka, 'reader', { clientId: `pitr-restore-${opts.sourceId}` });
  const topics = logTopics(opts.sourceId);
  const meta = await readMeta(kafka, topics, opts.sourceId);
  const { cut, snapshot } = planCut(meta, opts.cut);
  const basename = snapshot.begin.binlogFile.replace(/\.\d+$/, '');
  log.info({ cut: cut.label, position: formatPosition(cut.at, basename) }, 'cut resolved');

  // DDL between the snapshot and the cut, in commit order: the segment boundaries.
  const ddl: DdlEntry[] = meta.ddl.filter((d) => comparePositions(d.position, snapshot.position) > 0 && withinCut(d.position, cut));

  // A table's rows were logged under every name it had: follow renames to all of them.
  const lineage = tableLineage(opts.tables ?? [], ddl);
  const wanted = (db: string, t: string) => (opts.database !== undefined ? db === opts.database : lineage.has(`${db}.${t}`));
  const restoring = (db: string, t: string) => wanted(db, t) || (opts.database !== undefined && t === opts.database);
  const knownTable = (db: string, t: string) =>
    snapshot.begin.tables.some((x) => x.database === db && x.table === t) || meta.ddl.some((d) => d.ddl.statement.includes(t));
  for (const t of opts.tables ?? []) {
    if (!knownTable(t.database, t.table)) throw new UsageError(`table ${t.database}.${t.table} is not in the log.`);
  }
  if (opts.database !== undefined && !snapshot.begin.tables.some((x) => x.database === opts.database) && !meta.ddl.some((d) => d.ddl.statement.includes(opts.database!))) {
    throw new UsageError(`database ${opts.database} is not in the log.`);
  }

  const conn = await connectMysql(opts.target, 'target', { multipleStatements: false, infile: () => { throw new Error('no stream'); } });
  const tag = randomBytes(3).toString('hex');
  const scratch = new Map<string, string>();
  const scratchFor = (db: string): string => {
    let s = scratch.get(db);
    if (!s) scratch.set(db, (s = `pitr_tmp_${tag}_${scratch.size}`));
    return s;
  };
  try {
    await conn.query("SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION', foreign_key_checks = 0, unique_checks = 0");
    if (opts.tables) {
      for (const t of opts.tables) await refuseExisting(conn, opts.intoDatabase ?? t.database, t.table, opts.replace);
    }

    // Schema as of the snapshot.
    const dbsAtSnapshot = new Set(snapshot.begin.tables.map((t) => t.database));
    for (const create of snapshot.begin.createDatabases) {
      await conn.query(rewriteDatabases(create, scratchFor));
    }
    for (const db of dbsAtSnapshot) if (!scratch.has(db)) await conn.query(`CREATE DATABASE ${qid(scratchFor(db))}`);
    for (const def of snapshot.begin.tables) {
      await conn.query(`USE ${qid(scratchFor(def.database))}`);
      await conn.query(rewriteDatabases(def.createSql, scratchFor));
    }

    // Key columns of every wanted table as of the snapshot: fold segment 0 while reading.
    const info0 = new Map<string, TableInfo>();
    for (const def of snapshot.begin.tables) {
      if (!wanted(def.database, def.table)) continue;
      const info = await describeTable(conn, scratchFor(def.database), def.table);
      if (info) info0.set(`${def.database}.${def.table}`, info);
    }

    // Read the wanted tables' records.
    const state = new Map<string, Segmented>();
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
        state.set(key, (s = { later: new Map(), folder0: info ? new RowFolder(info.keyColumns, false) : null }));
      }
      return s;
    };
    let changesRead = 0;
    const partitions = await changePartitions(kafka, topics.changes);
    const needed = new Set<number>();
    if (opts.tables) for (const key of lineage) needed.add(partitionFor(key, partitions));
    else for (let p = 0; p < partitions; p++) needed.add(p);
    const snapId = snapshot.id;
    const done = new Set<number>();
    await readPartitions(kafka, topics.changes, {
      partitions: [...needed],
      onMessages: (p, msgs) => {
        for (const m of msgs) {
          const rec = decodeRecord(m.value, `${topics.changes}/${p}@${m.offset}`, opts.sourceId);
          if (rec.snapshotRows) {
            const r = rec.snapshotRows;
            if (r.snapshotId !== snapId || !wanted(r.database, r.table)) continue;
            const s = stateFor(`${r.database}.${r.table}`);
            if (!s.folder0) throw new PitrError(`snapshot rows for ${r.database}.${r.table} but no definition in the snapshot`);
            for (const row of r.rows) s.folder0.insert(r.columns, row.values);
            changesRead += r.rows.length;
          } else if (rec.change) {
            const c = rec.change;
            const pos = fromPositionMsg(c.position);
            if (comparePositions(pos, snapshot.position) <= 0) continue;
            if (!withinCut(pos, cut)) {
              // Commit order per partition: nothing later in this partition is within the cut.
              done.add(p);
              return false;
            }
            if (!wanted(c.database, c.table)) continue;
            const s = stateFor(`${c.database}.${c.table}`);
            const seg = segmentOf(pos);
            changesRead += c.changes.length;
            if (seg === 0 && s.folder0) {
              for (const ch of c.changes) s.folder0.apply(c.columns, ch);
            } else {
              let list = s.later.get(seg);
              if (!list) s.later.set(seg, (list = []));
              list.push(c);
            }
          }
        }
        return true;
      },
    });

    // Segment 0: load folded snapshot + changes.
    const loaded = new Set<string>();
    const flushSegment = async (seg: number) => {
      for (const [key, s] of state) {
        const [db, table] = splitKey(key);
        if (seg === 0) {
          if (!s.folder0) continue;
          const info = info0.get(key)!;
          await applyFold(conn, scratchFor(db), table, info, s.folder0.result());
          s.folder0 = null;
          loaded.add(key);
          continue;
        }
        const list = s.later.get(seg);
        if (!list) continue;
        const info = await describeTable(conn, scratchFor(db), table);
        if (!info) throw new PitrError(`row changes for ${key} at ${formatPosition(fromPositionMsg(list[0]!.position), basename)} but the table does not exist there`);
        const folder = new RowFolder(info.keyColumns, true);
        for (const c of list) for (const ch of c.changes) folder.apply(c.columns, ch);
        await applyFold(conn, scratchFor(db), table, info, folder.result());
        s.later.delete(seg);
      }
    };
    await flushSegment(0);
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
          throw new CoverageError(`table ${t.database}.${t.table} did not exist ${cut.label}.`);
        }
      }
    } else {
      const db = opts.database!;
      if (!scratch.has(db)) throw new CoverageError(`database ${db} did not exist ${cut.label}.`);
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
      await conn.query(`CREATE DATABASE IF NOT EXISTS ${qid(into)}`);
      const [c] = await conn.query(`SELECT COUNT(*) AS n FROM ${qualified(scratchFor(t.database), t.table)}`);
      const rows = Number((c as { n: number }[])[0]!.n);
      const [ex] = await conn.query('SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [into, t.table]);
      if ((ex as unknown[]).length) {
        const old = `${t.table}__old_${tag}`.slice(0, 64);
        renames.push(`${qualified(into, t.table)} TO ${qualified(scratchFor(t.database), old)}`);
        drops.push(qualified(scratchFor(t.database), old));
      }
      renames.push(`${qualified(scratchFor(t.database), t.table)} TO ${qualified(into, t.table)}`);
      result.push({ database: t.database, table: t.table, into: `${into}.${t.table}`, rows });
    }
    if (renames.length) await conn.query(`RENAME TABLE ${renames.join(', ')}`);
    return {
      tables: result,
      cut,
      cutLabel: cut.label,
      position: formatPosition(cut.at, basename),
      seconds: (Date.now() - started) / 1000,
      changesRead,
    };
  } finally {
    for (const s of scratch.values()) await conn.query(`DROP DATABASE IF EXISTS ${qid(s)}`).catch(() => undefined);
    await conn.end().catch(() => undefined);
  }
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

function splitKey(key: string): [string, string] {
  const i = key.indexOf('.');
  return [key.slice(0, i), key.slice(i + 1)];
}

async function refuseExisting(conn: Connection, db: string, table: string, replace?: boolean): Promise<void> {
  if (replace) return;
  const [r] = await conn.query('SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [db, table]);
  if ((r as unknown[]).length) {
    throw new TargetExistsError(`target table ${db}.${table} already exists on the recovery server; pass --replace or choose --into-database.`);
  }
}

async function changePartitions(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    return md.topics[0]!.partitions.length;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export { coverageWindow };
