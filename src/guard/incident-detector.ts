// Judges each source transaction, in commit order, against the tables as they stood just before
// it: destructive DDL (DROP TABLE/DATABASE, TRUNCATE, CREATE OR REPLACE of an existing table, an
// ALTER that drops columns or narrows a type) and mass deletes/updates over the thresholds. Then
// applies the transaction to the tracked state. Pure.
import type { Gtid } from '../core/gtid.js';
import type { Position } from '../core/position.js';
import { ddlEffect, type TableRef } from './ddl-effects.js';
import { destructiveColumnChanges, type TableTracker } from './table-tracker.js';
import { massChangeReason, type ThresholdPolicy } from './thresholds.js';
import type { TxnUnit } from './log-sequencer.js';

export type Cause = 'DROP TABLE' | 'DROP DATABASE' | 'TRUNCATE' | 'CREATE OR REPLACE TABLE' | 'ALTER TABLE' | 'DELETE' | 'UPDATE' | 'DELETE and UPDATE';

export interface Incident {
  table: TableRef;
  cause: Cause;
  /** One phrase saying what was destroyed and why it counts. */
  detail: string;
  /** The statement as logged, for DDL. Row changes carry none in the log. */
  statement?: string;
  gtid: Gtid;
  position: Position;
  commitTime: number;
  /** Rows affected: the table's rows for DROP/TRUNCATE/ALTER (when known), deleted+updated rows otherwise. */
  rows: number | undefined;
  /** Set for DROP DATABASE: the copies are rebuilt from the database as it stood. */
  database?: string;
}

/** Incidents of one transaction (judged before it), then the transaction applied to `tracker`. */
export function examineTxn(txn: TxnUnit, tracker: TableTracker, policy: ThresholdPolicy): Incident[] {
  const out: Incident[] = [];
  const base = { gtid: txn.gtid, position: txn.position, commitTime: txn.commitTime };
  const watched = (t: TableRef) => !policy.for(t.database, t.table).off;
  for (const d of txn.ddl) {
    const e = ddlEffect(d.statement, d.defaultDatabase);
    const statement = d.statement;
    switch (e.kind) {
      case 'dropTables':
        for (const t of e.tables) {
          const s = tracker.get(t);
          if (!s || !watched(t)) continue;
          out.push({ ...base, table: t, cause: 'DROP TABLE', statement, rows: s.rows, detail: `dropped the table${rowsNote(s.rows)}` });
        }
        break;
      case 'dropDatabase':
        for (const s of tracker.tablesOf(e.database)) {
          const t = { database: s.database, table: s.table };
          if (!watched(t)) continue;
          out.push({ ...base, table: t, cause: 'DROP DATABASE', statement, rows: s.rows, database: e.database, detail: `dropped database ${e.database}${rowsNote(s.rows)}` });
        }
        break;
      case 'truncate': {
        const s = tracker.get(e.table);
        if (s && s.rows !== 0 && watched(e.table)) {
          out.push({ ...base, table: e.table, cause: 'TRUNCATE', statement, rows: s.rows, detail: `emptied the table${rowsNote(s.rows)}` });
        }
        break;
      }
      case 'create': {
        const s = tracker.get(e.table);
        if (e.orReplace && s && watched(e.table)) {
          out.push({ ...base, table: e.table, cause: 'CREATE OR REPLACE TABLE', statement, rows: s.rows, detail: `replaced the table${rowsNote(s.rows)}` });
        }
        break;
      }
      case 'alter': {
        const s = tracker.get(e.table);
        const why = destructiveColumnChanges(s, e);
        if (s && why.length && watched(e.table)) {
          out.push({ ...base, table: e.table, cause: 'ALTER TABLE', statement, rows: s.rows, detail: why.join('; ') });
        }
        break;
      }
      default:
        break;
    }
    tracker.applyDdl(e);
  }
  for (const a of txn.tables) {
    const t = { database: a.database, table: a.table };
    const touched = a.deletes + a.updates;
    const before = tracker.get(t)?.rows;
    const why = massChangeReason(policy.for(a.database, a.table), touched, before);
    if (why) {
      const cause: Cause = a.updates === 0 ? 'DELETE' : a.deletes === 0 ? 'UPDATE' : 'DELETE and UPDATE';
      const verb = a.updates === 0 ? 'deleted' : a.deletes === 0 ? 'updated' : 'deleted or updated';
      const of = before !== undefined ? ` of ${before} (${before > 0 ? Math.round((touched * 1000) / before) / 10 : 100}%)` : '';
      out.push({ ...base, table: t, cause, rows: touched, detail: `${verb} ${touched} rows${of}: ${why}` });
    }
    tracker.applyRows(t, a.inserts, a.deletes);
  }
  return out;
}

function rowsNote(rows: number | undefined): string {
  return rows === undefined ? '' : ` with ${rows} rows`;
}
