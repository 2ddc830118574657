// Groups binlog events into whole source transactions with exact typed row images. Pure: events in,
// transactions out; no driver, no Kafka.
import type { BinlogEvent, RowsEvent } from './binlog-events.js';
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
}

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
  /** Number of row changes across tables. */
  rowCount: number;
}

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
  private file = '';

  constructor(private readonly filter: TableFilter = ALL_USER_TABLES) {}

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
        };
        this.isDdlGroup = ev.isDdl;
        return null;
      case 'rows':
        if (this.current) this.addRows(this.current, ev);
        return null;
      case 'query': {
        const txn = this.current;
        if (!txn) return null;
        const stmt = ev.statement.trim();
        const upper = stmt.slice(0, 16).toUpperCase();
        if (this.isDdlGroup) {
          txn.ddl.push({ statement: stmt, defaultDatabase: ev.defaultDatabase });
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
      const index = txn.rowCount++;
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
    }
  }

  private finish(file: string, endPos: number, timestamp: number): SourceTxn {
    const txn = this.current!;
    this.current = null;
    txn.binlogFile = file || this.file;
    txn.position = { fileSeq: binlogFileSeq(txn.binlogFile), endPos };
    txn.commitTime = timestamp;
    return txn;
  }
}
