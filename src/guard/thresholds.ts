// Which tables guard watches and when a transaction's deletes and updates count as destructive:
// more than `rows` rows, or more than `pct` percent of the table (once at least `minRows` rows are
// touched, so tiny tables do not alert on every delete). Per-table rules from --threshold. Pure.
import { UsageError } from '../core/errors.js';
import { parseNameParts, splitOutsideQuotes } from '../core/table-name.js';

export interface Threshold {
  /** More than this many deleted/updated rows in one transaction is destructive. */
  rows: number;
  /** More than this percent of the table's rows is destructive... */
  pct: number;
  /** ...once at least this many rows are touched. */
  minRows: number;
  /** Not watched at all. */
  off: boolean;
}

export const DEFAULT_THRESHOLD: Threshold = { rows: 1000, pct: 50, minRows: 10, off: false };

interface Rule {
  database: string;
  /** Table name or '*'. */
  table: string;
  set: Partial<Threshold>;
}

function parsePattern(text: string, what: string): { database: string; table: string } {
  // MySQL quoting for names holding a dot, backtick or '=' (`d.ot`.t3); a bare * is any name.
  const parts = parseNameParts(text, what);
  if (parts.length !== 2) throw new UsageError(`"${text}" in ${what} is not db.table, db.* or *.*.`);
  return { database: parts[0]!.text, table: parts[1]!.text };
}

/** "db.t=rows:500,pct:20" | "db.*=off" | "*.*=min:50" */
export function parseThresholdRule(text: string): Rule {
  const [name, ...rest] = splitOutsideQuotes(text, '=', '--threshold');
  if (!rest.length) throw new UsageError(`--threshold "${text}" needs the form db.table=rows:N,pct:P (or =off).`);
  const eq = name!.length;
  const pattern = parsePattern(name!, '--threshold');
  const set: Partial<Threshold> = {};
  for (const part of text.slice(eq + 1).split(',').map((s) => s.trim()).filter(Boolean)) {
    if (part === 'off') {
      set.off = true;
      continue;
    }
    if (part === 'on') {
      set.off = false;
      continue;
    }
    const m = /^(rows|pct|min):(\d+(?:\.\d+)?)$/.exec(part);
    if (!m) throw new UsageError(`--threshold "${text}": "${part}" is not rows:N, pct:P, min:N, on or off.`);
    const v = Number(m[2]);
    if (m[1] === 'rows') set.rows = v;
    else if (m[1] === 'pct') {
      if (v > 100) throw new UsageError(`--threshold "${text}": pct must be at most 100.`);
      set.pct = v;
    } else set.minRows = v;
  }
  return { ...pattern, set };
}

export class ThresholdPolicy {
  private readonly watch: { database: string; table: string }[] | null;

  constructor(
    private readonly defaults: Threshold = DEFAULT_THRESHOLD,
    private readonly rules: Rule[] = [],
    watch?: string,
  ) {
    this.watch = watch ? splitOutsideQuotes(watch, ',', '--watch').map((s) => s.trim()).filter(Boolean).map((s) => parsePattern(s, '--watch')) : null;
  }

  /** The threshold for one table: defaults, then every matching rule in order (later wins). */
  for(database: string, table: string): Threshold {
    const t = { ...this.defaults };
    if (this.watch && !this.watch.some((w) => matches(w, database, table))) t.off = true;
    for (const r of this.rules) if (matches(r, database, table)) Object.assign(t, r.set);
    return t;
  }
}

function matches(p: { database: string; table: string }, database: string, table: string): boolean {
  return (p.database === '*' || p.database === database) && (p.table === '*' || p.table === table);
}

/**
 * Why `touched` deleted/updated rows out of `before` rows is destructive under `t`, or null.
 * `before` is undefined when the table's size is unknown (only the row rule applies).
 */
export function massChangeReason(t: Threshold, touched: number, before: number | undefined): string | null {
  if (t.off || touched === 0) return null;
  if (touched > t.rows) return `more than ${t.rows} rows`;
  if (before !== undefined && before > 0 && touched >= t.minRows && (touched * 100) / before > t.pct) {
    return `more than ${t.pct}% of the table`;
  }
  return null;
}
