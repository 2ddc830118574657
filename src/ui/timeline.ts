// The UI's timeline of a log: transactions and row changes per second, markers for DDL, destructive
// transactions (guard's detector and thresholds), gaps, snapshots, checkpoints and guard incidents,
// and each table's row count over time. Built from the guard sequencer's items in commit order. Pure.
import { formatGtid } from '../core/gtid.js';
import { formatQualifiedName, tableId } from '../core/table-name.js';
import { binlogBasename, formatPosition } from '../core/position.js';
import { ddlEffect } from '../guard/ddl-effects.js';
import { examineTxn, type Incident } from '../guard/incident-detector.js';
import { TableTracker } from '../guard/table-tracker.js';
import type { ThresholdPolicy } from '../guard/thresholds.js';
import type { SequencedItem, TxnUnit } from '../guard/log-sequencer.js';
import type { Marker, MarkerKind, TableRows, TimelineSeries } from './api-types.js';

export type { Marker, MarkerKind, TableRows, TimelineSeries };

const ROW_POINTS = 400;

const isDestructiveDdl = (i: Incident) => i.cause === 'DROP TABLE' || i.cause === 'DROP DATABASE' || i.cause === 'TRUNCATE' || i.cause === 'CREATE OR REPLACE TABLE' || i.cause === 'ALTER TABLE';

/** Tables one DDL statement names (for the marker's hover). */
function ddlTables(statement: string, defaultDb: string): string[] {
  const e = ddlEffect(statement, defaultDb);
  const q = (t: { database: string; table: string }) => formatQualifiedName(t.database, t.table);
  switch (e.kind) {
    case 'dropTables':
      return e.tables.map(q);
    case 'dropDatabase':
      return [`${e.database}.*`];
    case 'truncate':
    case 'create':
    case 'alter':
      return [q(e.table)];
    case 'rename':
      return e.pairs.flatMap((p) => [q(p.from), q(p.to)]);
    default:
      return [];
  }
}

function oneLine(s: string, max = 120): string {
  const l = s.replace(/\s+/g, ' ').trim();
  return l.length > max ? l.slice(0, max - 1) + '…' : l;
}

export class TimelineBuilder {
  /** Per transaction in commit order: commit time and row changes. */
  private readonly txnTime: number[] = [];
  private readonly txnChanges: number[] = [];
  private readonly gtidTime = new Map<string, number>();
  readonly markers: Marker[] = [];
  private readonly tracker = new TableTracker();
  private readonly rowsOf = new Map<string, { table: string; t: number[]; rows: number[] }>();
  private lastSnapshotTime = 0;
  /** Binlog file name stem for positions (the source's, from its snapshots). */
  private basename: string | undefined;

  constructor(private readonly policy: ThresholdPolicy) {}

  add(item: SequencedItem): void {
    switch (item.kind) {
      case 'snapshotBegin': {
        this.tracker.snapshotBegin(item.msg.tables);
        const tables = item.msg.tables.map((t) => formatQualifiedName(t.database, t.table));
        this.lastSnapshotTime = item.msg.time;
        if (item.msg.binlogFile) this.basename ??= binlogBasename(item.msg.binlogFile);
        this.markers.push({ kind: 'snapshot', time: item.msg.time, label: `snapshot${item.msg.partial ? ' (partial)' : ''} of ${tables.length} table(s) at ${item.msg.gtidPos || 'the start'}`, tables });
        return;
      }
      case 'snapshotEnd':
        this.tracker.snapshotEnd(item.msg.tables.map((t) => ({ database: t.database, table: t.table, rows: Number(t.rows) })));
        for (const t of item.msg.tables) this.recordRows(t.database, t.table, this.lastSnapshotTime);
        return;
      case 'txn':
        this.addTxn(item.txn);
        return;
      default:
        return;
    }
  }

  private addTxn(txn: TxnUnit): void {
    const changes = txn.tables.reduce((n, a) => n + a.inserts + a.updates + a.deletes, 0);
    this.txnTime.push(txn.commitTime);
    this.txnChanges.push(changes);
    const gtid = formatGtid(txn.gtid);
    this.gtidTime.set(gtid, txn.commitTime);
    const incidents = examineTxn(txn, this.tracker, this.policy);
    const base = { time: txn.commitTime, gtid, position: formatPosition(txn.position, this.basename) };
    const statements = txn.ddl.map((d) => d.statement);
    const ddlNamed = txn.ddl.flatMap((d) => ddlTables(d.statement, d.defaultDatabase));
    if (incidents.length) {
      const tables = [...new Set(incidents.map((i) => formatQualifiedName(i.table.database, i.table.table)))];
      const causes = [...new Set(incidents.map((i) => i.cause))];
      const dml = incidents.filter((i) => !isDestructiveDdl(i));
      const counts = txn.tables.reduce((c, a) => ({ inserts: c.inserts + a.inserts, updates: c.updates + a.updates, deletes: c.deletes + a.deletes }), { inserts: 0, updates: 0, deletes: 0 });
      this.markers.push({
        ...base,
        kind: 'destructive',
        label: statements.length ? oneLine(statements[0]!) : `${causes.join(', ')} on ${tables.join(', ')}`,
        ...(statements.length ? { statements } : {}),
        ...(dml.length || !statements.length ? { changes: counts } : {}),
        tables,
        details: incidents.map((i) => `${formatQualifiedName(i.table.database, i.table.table)}: ${i.cause}, ${i.detail}`),
        ...(incidents[0]!.database !== undefined ? { database: incidents[0]!.database } : {}),
      });
    } else if (statements.length) {
      this.markers.push({ ...base, kind: 'ddl', label: oneLine(statements[0]!), statements, tables: [...new Set(ddlNamed)] });
    }
    for (const a of txn.tables) this.recordRows(a.database, a.table, txn.commitTime);
  }

  private recordRows(database: string, table: string, time: number): void {
    const rows = this.tracker.get({ database, table })?.rows;
    if (rows === undefined) return;
    const id = tableId(database, table);
    let r = this.rowsOf.get(id);
    if (!r) this.rowsOf.set(id, (r = { table: formatQualifiedName(database, table), t: [], rows: [] }));
    // One point per second: the count after the second's last transaction.
    if (r.t.at(-1) === time) r.rows[r.rows.length - 1] = rows;
    else {
      r.t.push(time);
      r.rows.push(rows);
    }
  }

  addGap(time: number, label: string): void {
    this.markers.push({ kind: 'gap', time, label, tables: [] });
  }

  addCheckpoint(time: number, label: string, tables: string[], position: string): void {
    this.markers.push({ kind: 'checkpoint', time, label, tables, position });
  }

  /** A guard incident from guard's ledger: placed at its transaction's commit time when the log holds it. */
  addIncident(gtid: string, label: string, table: string, reportedAt: number): void {
    this.markers.push({ kind: 'incident', time: this.gtidTime.get(gtid) ?? reportedAt, gtid, label, tables: [table] });
  }

  build(): Timeline {
    const markers = [...this.markers].sort((a, b) => a.time - b.time);
    const rows = [...this.rowsOf.values()].map(thinRows);
    return new Timeline(Int32Array.from(this.txnTime), Int32Array.from(this.txnChanges), markers, rows);
  }
}

function thinRows(r: TableRows): TableRows {
  if (r.t.length <= ROW_POINTS) return r;
  // Keep the last point of each of ROW_POINTS equal slices of time.
  const from = r.t[0]!;
  const span = r.t.at(-1)! - from + 1;
  const t: number[] = [];
  const rows: number[] = [];
  for (let i = 0; i < r.t.length; i++) {
    const slice = Math.floor(((r.t[i]! - from) * ROW_POINTS) / span);
    const next = i + 1 < r.t.length ? Math.floor(((r.t[i + 1]! - from) * ROW_POINTS) / span) : -1;
    if (next !== slice) {
      t.push(r.t[i]!);
      rows.push(r.rows[i]!);
    }
  }
  return { table: r.table, t, rows };
}

/** The finished timeline: bucketed on request. */
export class Timeline {
  constructor(
    /** Commit time of every transaction, in commit order (non-decreasing within an epoch). */
    readonly txnTime: Int32Array,
    readonly txnChanges: Int32Array,
    readonly markers: Marker[],
    readonly tableRows: TableRows[],
  ) {}

  get transactions(): number {
    return this.txnTime.length;
  }

  /** First and last second with a transaction or a marker, or undefined for an empty log. */
  span(): { from: number; to: number } | undefined {
    let from = Infinity;
    let to = -Infinity;
    for (const t of this.txnTime) {
      if (t < from) from = t;
      if (t > to) to = t;
    }
    for (const m of this.markers) {
      if (m.time < from) from = m.time;
      if (m.time > to) to = m.time;
    }
    return from === Infinity ? undefined : { from, to };
  }

  /** Transactions and row changes per `step` seconds over [from, to]. */
  series(from: number, to: number, step: number): TimelineSeries {
    const start = Math.floor(from / step) * step;
    const n = Math.max(0, Math.floor((to - start) / step) + 1);
    const t = new Array<number>(n);
    const transactions = new Array<number>(n).fill(0);
    const changes = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) t[i] = start + i * step;
    for (let i = 0; i < this.txnTime.length; i++) {
      const s = this.txnTime[i]!;
      if (s < start || s > to) continue;
      const b = Math.floor((s - start) / step);
      transactions[b]!++;
      changes[b]! += this.txnChanges[i]!;
    }
    return { t, transactions, changes, step };
  }

  markersIn(from: number, to: number): Marker[] {
    return this.markers.filter((m) => m.time >= from && m.time <= to);
  }
}

/** The bucket size for a window: per second up to a day, per minute beyond. */
export function defaultStep(from: number, to: number): number {
  return to - from + 1 <= 86_400 ? 1 : 60;
}
