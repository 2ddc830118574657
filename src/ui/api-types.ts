// The shapes the UI's JSON API answers with (docs/ui.md) that the page reads: shared by the server
// and the front end (src/ui/web), so neither keeps its own copy. Types only.

export type MarkerKind = 'ddl' | 'destructive' | 'gap' | 'snapshot' | 'checkpoint' | 'incident';

export interface Marker {
  kind: MarkerKind;
  /** Source commit time (epoch seconds). */
  time: number;
  /** One line: what happened. */
  label: string;
  gtid?: string;
  position?: string;
  /** DDL statements as logged. */
  statements?: string[];
  /** Row changes of the transaction (destructive DML). */
  changes?: { inserts: number; updates: number; deletes: number };
  /** Tables the marker concerns, db.table. */
  tables: string[];
  /** Guard's reasons, one per table (destructive markers). */
  details?: string[];
  /** A dropped database: restoring it whole is the natural cut. */
  database?: string;
}

export interface TimelineSeries {
  /** Bucket start times (epoch seconds), every bucket of [from, to] including empty ones. */
  t: number[];
  transactions: number[];
  changes: number[];
  step: number;
}

/** A table's row count after the transactions that changed it (thinned to a few hundred points). */
export interface TableRows {
  table: string;
  t: number[];
  rows: number[];
}

export interface TimelineAnswer extends TimelineSeries {
  from: number;
  to: number;
  /** The whole coverage of the log (first and last second). */
  span: { from: number; to: number } | null;
  markers: Marker[];
  transactionsTotal: number;
  scannedAt: string;
  scanSeconds: number;
  notes: string[];
}

export interface RestoreSummary {
  command: string;
  cut: string;
  position: string;
  seconds: number;
  tables: { table: string; into: string; rows: number; checksum: string; reference?: { rows: number; checksum: string; equal: boolean } }[];
  /** What the reference columns compare with, when a drill reference applies. */
  reference?: string;
}

export type RestoreEvent =
  | { type: 'started'; command: string }
  | { type: 'progress'; done: number; total: number }
  | { type: 'done'; summary: RestoreSummary }
  | { type: 'error'; message: string };
