// Folds the restored tables' records, as they are read, into their final rows per segment (the
// history between two DDL statements of the plan), and bulk-loads each segment's result into the
// scratch tables. The first segment (snapshot rows and the changes before the first DDL) folds
// while reading; later segments are buffered raw (RecordSpool) and folded when their turn comes,
// after the DDL before them has been replayed. Memory stays within a budget: the fold keeps per key
// only where its current image is (LineFolder), the records holding current images spill to a
// temporary file, and the final images are rendered as LOAD DATA reads them: each is loaded once.
import type { Logger } from 'pino';
import { decodeRecord, describePlace, viewRowRecord, type RecordPlace, type RowRecordView } from '../log/record-codec.js';
import type { MetaState } from '../log/meta-state.js';
import type { ReadMessage } from '../log/kafka-log.js';
import { RowFolder, LineFolder, foldView } from './row-folder.js';
import { LineRenderer } from './sql-values.js';
import { applyFold, applyLineFold, describeTable, type TableInfo } from './table-loader.js';
import { tableHasRows } from '../core/catalog.js';
import { RecordSpool } from './record-spool.js';
import type { LoadPool } from './load-pool.js';
import { restoresTable, segmentOf, type RestorePlan, type RestoreRequest } from './restore-plan.js';
import { comparePositions, withinCut, type Position } from '../core/position.js';
import { changeStatement, insertStatement } from './change-sql.js';
import { PitrError, wrapError } from '../core/errors.js';
import { formatQualifiedName, fromTableId, tableId } from '../core/table-name.js';
import { mysqlError, qualified, type Connection } from '../core/mysql-conn.js';
import type { CheckpointBase } from './checkpoint-base.js';

/** One table's fold of the first segment. */
interface InitialFold {
  /** Keyed tables: the hot path. */
  lines: LineFolder | null;
  /** Keyless tables: folded by full image. */
  rows: RowFolder | null;
  /** A batch was applied early (only when even the keys outgrew the budget): later folds start from loaded rows. */
  applying: Promise<void>;
}

interface TableFold {
  initial: InitialFold | null;
  /** Segment number -> raw change records of that segment, decoded when applied. */
  later: Map<number, RecordSpool>;
}

export interface SegmentFoldOptions {
  plan: RestorePlan;
  req: Pick<RestoreRequest, 'database' | 'tables'>;
  meta: MetaState;
  sourceId: string;
  /** The scratch schema of a source database. */
  scratchFor: (db: string) => string;
  /** Bytes the whole restore may use (see RestoreOptions.memoryBudget). */
  budget: number;
  pool: LoadPool;
  log: Logger;
}

export class SegmentFold {
  private readonly tables = new Map<string, TableFold>();
  /** Tables that start from a checkpoint: their snapshot rows and changes up to it are skipped. */
  private checkpointed = new Map<string, CheckpointBase>();
  private readonly infoAtSnapshot = new Map<string, TableInfo>();
  private readonly renderer = new LineRenderer();
  /** Fold bytes (keys, and the records holding current images) held before records spill: 30% of the budget (V8 keeps garbage). */
  private readonly foldBudget: number;
  /** Folded keys (which never spill) may grow to half the budget before a batch is applied early. */
  private readonly keyBudget: number;
  /** Raw later-segment records held in memory before they spill to disk. */
  private readonly spoolBudget: { left: number };
  changesRead = 0;

  constructor(private readonly o: SegmentFoldOptions) {
    // The budget bounds the whole process: fold records 30% (then they spill), buffered
    // later-segment records 20% (then they spill); the keys of the fold up to 50%; the rest is
    // Node, kafkajs fetch buffers and LOAD DATA chunks.
    this.foldBudget = Math.floor(o.budget * 0.3);
    this.keyBudget = Math.floor(o.budget * 0.5);
    this.spoolBudget = { left: Math.floor(o.budget * 0.2) };
  }

  private wanted(db: string, t: string): boolean {
    return restoresTable(this.o.plan, this.o.req, db, t);
  }

  /** Kafka keys worth viewing: the requested tables' names, or the database's tables. */
  wantedKey(k: string): boolean {
    return this.o.req.database !== undefined ? k.startsWith(`${this.o.req.database}.`) : this.o.plan.lineageKeys.has(k);
  }

  /** Learns the key columns of every restored table as the snapshot defined it (the scratch schema exists). */
  async describeSnapshotTables(conn: Connection): Promise<void> {
    for (const def of this.o.plan.snapshot.begin.tables) {
      if (!this.wanted(def.database, def.table)) continue;
      const info = await describeTable(conn, this.o.scratchFor(def.database), def.table);
      if (info) this.infoAtSnapshot.set(tableId(def.database, def.table), info);
    }
  }

  /** Folds each checkpoint's rows as the table's base (instead of its snapshot rows). */
  startFromCheckpoints(bases: Map<string, CheckpointBase>, topic: string): void {
    this.checkpointed = bases;
    for (const [id, base] of bases) {
      const s = this.tableFold(id);
      const where = `${topic}/0 (checkpoint ${base.checkpointId})`;
      // The rows as of the checkpoint open the segment it falls in: before any change after it.
      const seg = segmentOf(this.o.plan.ddl, base.position);
      if (seg === 0 && s.initial) for (const v of base.rows) this.changesRead += this.foldInitial(s.initial, v, v.buf, where);
      else for (const v of base.rows) this.spoolFor(s, seg).push(v.buf, where);
    }
  }

  private tableFold(id: string): TableFold {
    let s = this.tables.get(id);
    if (!s) {
      const info = this.infoAtSnapshot.get(id);
      let initial: InitialFold | null = null;
      if (info) {
        initial = info.keyColumns
          ? { lines: new LineFolder(info.keyColumns, false, info.autoIncrement), rows: null, applying: Promise.resolve() }
          : { lines: null, rows: new RowFolder(null, false), applying: Promise.resolve() };
      }
      this.tables.set(id, (s = { initial, later: new Map() }));
    }
    return s;
  }

  private spoolFor(s: TableFold, seg: number): RecordSpool {
    let spool = s.later.get(seg);
    if (!spool) s.later.set(seg, (spool = new RecordSpool(this.spoolBudget)));
    return spool;
  }

  private foldInitial(f: InitialFold, v: RowRecordView, buf: Buffer, where: RecordPlace): number {
    if (f.lines) return atRecord(where, () => foldView(f.lines!, v, this.renderer));
    const rec = decodeRecord(buf, where, this.o.sourceId);
    atRecord(where, () => f.rows!.applyRecord(rec));
    return v.ops.length;
  }

  /**
   * Takes one fetched batch of a partition (commit order). Returns false once the partition has
   * passed the cut: nothing later in it is within the cut.
   */
  async accept(topic: string, partition: number, msgs: ReadMessage[]): Promise<boolean> {
    const { plan, meta, sourceId } = this.o;
    const snapshot = plan.snapshot;
    let more = true;
    for (const m of msgs) {
      if (!this.wantedKey(m.key)) continue;
      const where = { topic, partition, offset: m.offset };
      const v = viewRowRecord(m.value, where, sourceId);
      if (!v) continue;
      if (v.kind === 'snapshotRows') {
        const later = plan.partialSegment.get(v.snapshotId);
        if (later !== undefined && this.wanted(v.database, v.table)) {
          const base = this.checkpointed.get(tableId(v.database, v.table));
          if (base && comparePositions(v.position, base.position) <= 0) continue; // in the checkpoint's rows
          this.spoolFor(this.tableFold(tableId(v.database, v.table)), later).push(m.value, where);
          continue;
        }
        if (v.snapshotId !== snapshot.id || !this.wanted(v.database, v.table) || this.checkpointed.has(tableId(v.database, v.table))) continue;
        const s = this.tableFold(tableId(v.database, v.table));
        if (!s.initial) throw new PitrError(`snapshot rows for ${v.database}.${v.table} but no definition in the snapshot`);
        this.changesRead += this.foldInitial(s.initial, v, m.value, where);
        continue;
      }
      const commit = v.stagedTxn ? meta.staged.get(v.stagedTxn) : v;
      if (!commit) continue; // a staged chunk of a transaction that never committed
      const pos = commit.position;
      if (comparePositions(pos, snapshot.position) <= 0) continue;
      if (!withinCut(pos, plan.cut)) {
        more = false;
        break;
      }
      if (!this.wanted(v.database, v.table)) continue;
      const base = this.checkpointed.get(tableId(v.database, v.table));
      if (base && comparePositions(pos, base.position) <= 0) continue; // in the checkpoint's rows
      const id = tableId(v.database, v.table);
      const s = this.tableFold(id);
      const seg = segmentOf(plan.ddl, pos);
      this.changesRead += v.ops.length;
      // Tables under referential actions keep every change for the ordered replay (applyOrdered).
      if (seg === 0 && s.initial && !plan.cascade.has(id)) this.foldInitial(s.initial, v, m.value, where);
      else this.spoolFor(s, seg).push(m.value, where);
    }
    await this.keepWithinBudget();
    return more;
  }

  private heldBytes(): { all: number; keys: number } {
    let lines = 0;
    let keys = 0;
    for (const s of this.tables.values()) {
      const f = s.initial?.lines;
      if (f) {
        keys += f.keyBytes;
        lines += f.heldBytes;
      }
    }
    return { all: keys + lines, keys };
  }

  /**
   * Spills the fold's records to disk when they outgrow the fold budget. Only when the keys alone outgrow
   * their share (tens of millions of keys) is a batch applied to the scratch table early: its keys
   * are then deleted and loaded again at the end, the one case where a row is loaded twice.
   */
  private async keepWithinBudget(): Promise<void> {
    if (this.heldBytes().all <= this.foldBudget) return;
    const folds = [...this.tables].filter(([, s]) => s.initial?.lines?.heldBytes).sort((a, b) => b[1].initial!.lines!.heldBytes - a[1].initial!.lines!.heldBytes);
    for (const [id, s] of folds) {
      const lines = s.initial!.lines!;
      this.o.log.debug({ table: this.label(id), keys: lines.size, bytes: lines.heldBytes }, 'spilling folded rows to disk within the memory budget');
      lines.spill();
      if (this.heldBytes().all <= this.foldBudget * 0.7) break;
    }
    if (this.heldBytes().keys <= this.keyBudget) return;
    for (const [id, s] of this.tables) if (s.initial?.lines?.size) await this.applyEarly(id, s.initial);
  }

  private async applyEarly(id: string, f: InitialFold): Promise<void> {
    const { database, table } = fromTableId(id);
    const info = this.infoAtSnapshot.get(id)!;
    const lines = f.lines!;
    f.lines = new LineFolder(lines.keyColumns, true, info.autoIncrement);
    await f.applying;
    this.o.log.debug({ table: this.label(id), keys: lines.size }, 'applying a folded batch early: the keys alone exceed the memory budget');
    f.applying = this.o.pool.run((c) => applyLineFold(c, this.o.scratchFor(database), table, info, lines.result())).finally(() => lines.close());
    // Surface a failure at the next await, never as an unhandled rejection meanwhile.
    f.applying.catch(() => undefined);
  }

  private label(id: string): string {
    const { database, table } = fromTableId(id);
    return formatQualifiedName(database, table);
  }

  /** Loads the first segment of every table, tables in parallel. */
  async loadInitial(): Promise<void> {
    const jobs = [...this.tables].filter(([, s]) => s.initial).map(([id, s]) => async (conn: Connection) => {
      const f = s.initial!;
      const { database, table } = fromTableId(id);
      const info = this.infoAtSnapshot.get(id)!;
      await f.applying;
      try {
        if (f.lines) await applyLineFold(conn, this.o.scratchFor(database), table, info, f.lines.result());
        else await applyFold(conn, this.o.scratchFor(database), table, info, f.rows!.result());
      } finally {
        f.lines?.close();
        s.initial = null;
      }
    });
    await this.o.pool.runAll(jobs);
    await this.applyOrdered(0);
  }

  /** Folds and loads segment `seg` (after plan.ddl[seg-1] was replayed), tables in parallel. */
  async loadSegment(seg: number): Promise<void> {
    const jobs = [...this.tables].filter(([id, s]) => s.later.has(seg) && !this.o.plan.cascade.has(id)).map(([id, s]) => async (conn: Connection) => {
      const spool = s.later.get(seg)!;
      try {
        await this.foldSpool(conn, id, spool);
      } finally {
        spool.close();
        s.later.delete(seg);
      }
    });
    await this.o.pool.runAll(jobs);
    await this.applyOrdered(seg);
  }

  /**
   * Replays segment `seg` of the tables under referential actions change by change, merged across
   * tables in commit order (position, then the change's index in its transaction), with the server's
   * foreign key checks on so that it cascades, sets null or defaults as the source did. A change the
   * source made with foreign_key_checks=0, and a partial snapshot's rows, apply with them off.
   */
  private async applyOrdered(seg: number): Promise<void> {
    const group = [...this.tables].filter(([id, s]) => this.o.plan.cascade.has(id) && s.later.has(seg));
    if (!group.length) return;
    const { meta, sourceId } = this.o;
    await this.o.pool.run(async (conn) => {
      const streams = [];
      for (const [id, s] of group) {
        const { database, table } = fromTableId(id);
        const db = this.o.scratchFor(database);
        const info = await describeTable(conn, db, table);
        const spool = s.later.get(seg)!;
        if (!info) throw new PitrError(`row changes for ${formatQualifiedName(database, table)} at ${spool.firstWhere} but the table does not exist there`);
        streams.push(orderedChanges(spool, sourceId, meta, qualified(db, table), info.keyColumns));
      }
      const heads = streams.map((it) => it.next());
      let checks = false;
      let unmatched = 0;
      try {
        for (;;) {
          let best = -1;
          for (let i = 0; i < heads.length; i++) {
            const h = heads[i]!;
            if (h.done) continue;
            if (best < 0 || compareOrder(h.value, (heads[best] as IteratorYieldResult<OrderedChange>).value) < 0) best = i;
          }
          if (best < 0) break;
          const c = (heads[best] as IteratorYieldResult<OrderedChange>).value;
          if (checks !== c.checks) {
            await conn.query(`SET SESSION foreign_key_checks = ${c.checks ? 1 : 0}`);
            checks = c.checks;
          }
          try {
            const [r] = await conn.query(c.sql);
            if ((r as { affectedRows?: number }).affectedRows === 0) unmatched++;
          } catch (err) {
            throw mysqlError(err, `replaying the change at ${describePlace(c.where)} with its referential actions failed`);
          }
          heads[best] = streams[best]!.next();
        }
      } finally {
        if (checks) await conn.query('SET SESSION foreign_key_checks = 0');
      }
      if (unmatched) this.o.log.warn({ segment: seg, unmatched }, 'some replayed updates and deletes found no row');
    });
    for (const [, s] of group) {
      s.later.get(seg)!.close();
      s.later.delete(seg);
    }
  }

  private async foldSpool(conn: Connection, id: string, spool: RecordSpool): Promise<void> {
    const { database, table } = fromTableId(id);
    const db = this.o.scratchFor(database);
    const info = await describeTable(conn, db, table);
    if (!info) throw new PitrError(`row changes for ${formatQualifiedName(database, table)} at ${spool.firstWhere} but the table does not exist there`);
    // A table created or emptied since is known to be empty: no deletes needed for its keys.
    const hasRows = await tableHasRows(conn, db, table);
    if (info.keyColumns) {
      const folder = new LineFolder(info.keyColumns, hasRows, info.autoIncrement);
      // One renderer per job: segments of several tables fold concurrently.
      const renderer = new LineRenderer();
      try {
        for (const { buf, where } of spool.records()) {
          const v = viewRowRecord(buf, where, this.o.sourceId)!;
          atRecord(where, () => foldView(folder, v, renderer));
          if (folder.heldBytes > this.foldBudget / this.o.pool.size) folder.spill();
        }
        await applyLineFold(conn, db, table, info, folder.result());
      } finally {
        folder.close();
      }
      return;
    }
    const folder = new RowFolder(null, hasRows);
    for (const { buf, where } of spool.records()) {
      const rec = decodeRecord(buf, where, this.o.sourceId);
      atRecord(where, () => folder.applyRecord(rec));
    }
    await applyFold(conn, db, table, info, folder.result());
  }

  /** Releases spill files and spools (after success or failure). */
  close(): void {
    for (const s of this.tables.values()) {
      s.initial?.lines?.close();
      for (const spool of s.later.values()) spool.close();
    }
  }
}

/** Runs a step of the pure folds or SQL building on one record: they know no place, so what they throw gets its place here. */
function atRecord<T>(where: RecordPlace, step: () => T): T {
  try {
    return step();
  } catch (err) {
    throw wrapError(err, where);
  }
}

/** One change of the ordered replay, with where it sorts. */
interface OrderedChange {
  /** Snapshot rows sort before every change of their segment. */
  snapshot: boolean;
  position: Position;
  index: number;
  sql: string;
  /** Whether the server checks foreign keys (and applies their actions) for it. */
  checks: boolean;
  where: RecordPlace;
}

function compareOrder(a: OrderedChange, b: OrderedChange): number {
  if (a.snapshot !== b.snapshot) return a.snapshot ? -1 : 1;
  return comparePositions(a.position, b.position) || a.index - b.index;
}

/** A table's spooled records as statements in commit order (the partition's order). */
function* orderedChanges(spool: RecordSpool, sourceId: string, meta: MetaState, table: string, keyColumns: string[] | null): Generator<OrderedChange> {
  const zero: Position = { fileSeq: 0, endPos: 0 };
  for (const { buf, where } of spool.records()) {
    const rec = decodeRecord(buf, where, sourceId);
    if (rec.snapshotRows) {
      for (const row of rec.snapshotRows.rows) yield { snapshot: true, position: zero, index: 0, sql: atRecord(where, () => insertStatement(table, rec.snapshotRows!.columns, row.values)), checks: false, where };
      continue;
    }
    const b = rec.change!;
    const position = meta.batchCommit(b)?.position;
    if (!position) continue; // a staged chunk of a transaction that never committed
    for (const ch of b.changes) {
      yield { snapshot: false, position, index: ch.index, sql: atRecord(where, () => changeStatement(table, keyColumns, b.columns, ch)), checks: !ch.noFkChecks, where };
    }
  }
}
