// Groups binlog events into whole source transactions with exact typed row images. A transaction
// whose row images outgrow `stageBytes` is handed out in chunks as it is decoded (staged, see
// log.proto), so no transaction is ever held whole. Pure: events in, transactions and chunks out;
// no driver, no Kafka.
import { randomBytes } from 'node:crypto';
import type { BinlogEvent, RowsEvent } from './binlog-events.js';
import { rowSize } from '../log/txn-records.js';
import { encodeBinlogValue } from './value-encoder.js';
import { Op, type RowChangeMsg, type Value } from '../log/record-types.js';
import { binlogFileSeq, type Position } from '../core/position.js';
import type { Gtid } from '../core/gtid.js';

export interface TableChanges {
  database: string;
  table: string;
  columns: string[];
  changes: RowChangeMsg[];
}

export interface DdlStatement {
  statement: string;
  defaultDatabase: string;
  /** Session sql_mode bits it ran with (routines, triggers and views keep theirs). */
  sqlMode?: bigint;
}

/** Statements of a standalone group without the DDL flag that still shape the schema (MariaDB logs DROP FUNCTION so). */
const STANDALONE_SCHEMA = /^(CREATE|ALTER|DROP)\s+(?:OR\s+REPLACE\s+|DEFINER\s*=\s*\S+\s+|AGGREGATE\s+|IF\s+EXISTS\s+)*(FUNCTION|PROCEDURE|TRIGGER|VIEW|EVENT)\b/i;

/** One committed source transaction. */
export interface SourceTxn {
  gtid: Gtid;
  /** Position of the commit event's end: the transaction's place in commit order. */
  position: Position;
  binlogFile: string;
  /** Commit event timestamp, epoch seconds. */
  commitTime: number;
  /** Row changes per table ("db.table"), in first-touched order. */
  tables: Map<string, TableChanges>;
  /** DDL statements (a DDL group holds exactly one). */
  ddl: DdlStatement[];
  /** Number of row changes across tables (held here; a staged transaction's chunks hold the rest). */
  rowCount: number;
  /** Estimated payload bytes of the row changes held here. */
  bytes: number;
  /** Set when earlier chunks of this transaction were handed out staged: the rows here are its last chunk. */
  staged?: { id: string; rowChanges: number };
}

/** Row changes of a transaction still in progress, handed out before its commit is read. */
export interface StagedChunk {
  stagedId: string;
  gtid: Gtid;
  /** Binlog position just after the transaction's GTID event (before its commit, in the same file). */
  startPosition: Position;
  tables: Map<string, TableChanges>;
  rowCount: number;
  bytes: number;
}

export interface TransactionBuilderOptions {
  /** Row-image bytes (estimated payload) above which a transaction in progress is handed out as a chunk. */
  stageBytes?: number;
  onChunk?: (chunk: StagedChunk) => void;
  /** Id of a new staged transaction attempt (random by default). */
  newStagedId?: () => string;
}

/** Default chunk size of a staged transaction: small against capture's memory cap, large against per-record cost. */
export const DEFAULT_STAGE_BYTES = 1024 * 1024;

export type TableFilter = (database: string, table: string) => boolean;

const SYSTEM_DATABASES = new Set(['mysql', 'sys', 'information_schema', 'performance_schema']);

export function isSystemDatabase(db: string): boolean {
  return SYSTEM_DATABASES.has(db.toLowerCase());
}

/** Default filter: every user database. */
export const ALL_USER_TABLES: TableFilter = (db) => !isSystemDatabase(db);

function rowValues(image: Record<string, unknown>, columns: string[], types: number[]): Value[] {
  const out = new Array<Value>(columns.length);
  for (let i = 0; i < columns.length; i++) out[i] = encodeBinlogValue(image[columns[i]!], types[i]!);
  return out;
}

export class TransactionBuilder {
  private current: SourceTxn | null = null;
  private isDdlGroup = false;
  private isStandalone = false;
  private file = '';
  /** Of the transaction in progress: its GTID event's end, and its staged id once a chunk went out. */
  private startPosition: Position = { fileSeq: 0, endPos: 0 };
  private stagedId = '';
  private stagedRows = 0;
  private readonly stageBytes: number;

  constructor(
    private readonly filter: TableFilter = ALL_USER_TABLES,
    private readonly opts: TransactionBuilderOptions = {},
  ) {
    this.stageBytes = opts.stageBytes ?? DEFAULT_STAGE_BYTES;
  }

  /** Feeds one event; returns the transaction it completed, if any. */
  push(ev: BinlogEvent): SourceTxn | null {
    switch (ev.type) {
      case 'rotate':
        this.file = ev.file;
        return null;
      case 'gtid':
        this.current = {
          gtid: { domain: ev.domain, serverId: ev.serverId, seq: ev.seq },
          position: { fileSeq: 0, endPos: 0 },
          binlogFile: this.file,
          commitTime: ev.timestamp,
          tables: new Map(),
          ddl: [],
          rowCount: 0,
          bytes: 0,
        };
        this.isDdlGroup = ev.isDdl;
        this.isStandalone = ev.standalone;
        this.startPosition = { fileSeq: binlogFileSeq(ev.file ?? this.file), endPos: ev.nextPosition ?? 0 };
        this.stagedId = '';
        this.stagedRows = 0;
        return null;
      case 'rows':
        if (this.current) {
          this.addRows(this.current, ev);
          if (this.current.bytes >= this.stageBytes && this.opts.onChunk) this.handOutChunk(this.current);
        }
        return null;
      case 'query': {
        const txn = this.current;
        if (!txn) return null;
        const stmt = ev.statement.trim();
        const upper = stmt.slice(0, 16).toUpperCase();
        if (this.isDdlGroup || (this.isStandalone && STANDALONE_SCHEMA.test(stmt))) {
          txn.ddl.push({ statement: stmt, defaultDatabase: ev.defaultDatabase, ...(ev.sqlMode !== undefined ? { sqlMode: ev.sqlMode } : {}) });
          return this.finish(ev.file, ev.nextPosition, ev.timestamp);
        }
        // Non-transactional engines end their group with a COMMIT query instead of an Xid.
        if (upper.startsWith('COMMIT')) return this.finish(ev.file, ev.nextPosition, ev.timestamp);
        if (upper.startsWith('ROLLBACK') && !upper.startsWith('ROLLBACK TO')) {
          this.current = null;
          return null;
        }
        return null; // BEGIN, SAVEPOINT and the like carry no data in row-based logging.
      }
      case 'xid':
        if (!this.current) return null;
        return this.finish(ev.file, ev.nextPosition, ev.timestamp);
    }
  }

  /** True while a transaction has begun but not committed (resume must not stop here). */
  get inTransaction(): boolean {
    return this.current !== null;
  }

  private addRows(txn: SourceTxn, ev: RowsEvent): void {
    if (!this.filter(ev.database, ev.table)) return;
    const key = `${ev.database}.${ev.table}`;
    let tc = txn.tables.get(key);
    if (!tc) {
      tc = { database: ev.database, table: ev.table, columns: ev.columns, changes: [] };
      txn.tables.set(key, tc);
    }
    for (const row of ev.rows) {
      const index = this.stagedRows + txn.rowCount++;
      if (ev.op === 'insert') {
        tc.changes.push({ op: Op.INSERT, index, after: { values: rowValues(row, ev.columns, ev.columnTypes) } });
      } else if (ev.op === 'delete') {
        tc.changes.push({ op: Op.DELETE, index, before: { values: rowValues(row, ev.columns, ev.columnTypes) } });
      } else {
        const r = row as { before: Record<string, unknown>; after: Record<string, unknown> };
        tc.changes.push({
          op: Op.UPDATE,
          index,
          before: { values: rowValues(r.before, ev.columns, ev.columnTypes) },
          after: { values: rowValues(r.after, ev.columns, ev.columnTypes) },
        });
      }
      const c = tc.changes[tc.changes.length - 1]!;
      if (ev.noForeignKeyChecks) c.noFkChecks = true;
      txn.bytes += 16 + rowSize(c.before?.values) + rowSize(c.after?.values);
    }
  }

  /** Hands out the rows held so far as a chunk of a staged transaction and starts holding anew. */
  private handOutChunk(txn: SourceTxn): void {
    if (!this.stagedId) this.stagedId = this.opts.newStagedId?.() ?? randomBytes(8).toString('hex');
    const chunk: StagedChunk = {
      stagedId: this.stagedId,
      gtid: txn.gtid,
      startPosition: this.startPosition,
      tables: txn.tables,
      rowCount: txn.rowCount,
      bytes: txn.bytes,
    };
    this.stagedRows += txn.rowCount;
    txn.tables = new Map();
    txn.rowCount = 0;
    txn.bytes = 0;
    this.opts.onChunk!(chunk);
  }

  private finish(file: string, endPos: number, timestamp: number): SourceTxn {
    const txn = this.current!;
    this.current = null;
    txn.binlogFile = file || this.file;
    txn.position = { fileSeq: binlogFileSeq(txn.binlogFile), endPos };
    txn.commitTime = timestamp;
    if (this.stagedId) txn.staged = { id: this.stagedId, rowChanges: this.stagedRows + txn.rowCount };
    this.stagedId = '';
    this.stagedRows = 0;
    return txn;
  }
}
