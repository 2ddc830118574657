// Turns --as-of / --before-gtid / --through-gtid into one cut position on the log's commit order,
// and refuses cuts outside the log's coverage, naming the covered window. Pure.
import { CoverageError, UsageError } from '../core/errors.js';
import { formatEpoch, parseCutTime } from '../core/cut-time.js';
import { comparePositions, type Cut } from '../core/position.js';
import { formatGtid, parseGtid, parseGtidPos, type Gtid } from '../core/gtid.js';
import type { MetaState, SnapshotInfo } from '../log/meta-state.js';
import { parseQualifiedName } from '../core/table-name.js';

export type CutSpec = { asOf: number } | { beforeGtid: Gtid } | { throughGtid: Gtid };

export interface CutPlan {
  cut: Cut;
  /** The snapshot the restore starts from. */
  snapshot: SnapshotInfo;
}

export function coverageWindow(meta: MetaState): string {
  const windows = meta.coverageWindows();
  if (!windows.length) return 'the log holds no complete snapshot yet';
  const text = windows.map((w) => `${formatEpoch(w.from)} to ${formatEpoch(w.to)}`);
  return windows.length === 1 ? `the log covers ${text[0]}` : `the log covers ${text.slice(0, -1).join(', ')} and ${text.at(-1)} (gaps between)`;
}

export function planCut(meta: MetaState, spec: CutSpec): CutPlan {
  const snaps = meta.completeSnapshots();
  if (!snaps.length) throw new CoverageError('the log holds no complete snapshot yet: run `pitr capture` first.');
  const end = meta.endPosition()!;
  let cut: Cut;
  if ('asOf' in spec) {
    const t = spec.asOf;
    const label = `as of ${formatEpoch(t)}`;
    if (t < snaps[0]!.begin.time) {
      throw new CoverageError(`${formatEpoch(t)} is before the log's coverage; ${coverageWindow(meta)}.`);
    }
    if (t > meta.coveredUntil) {
      throw new CoverageError(`${formatEpoch(t)} is after the log's coverage; ${coverageWindow(meta)}.`);
    }
    if (!meta.coverageWindows().some((w) => t >= w.from && t <= w.to)) {
      throw new CoverageError(`${formatEpoch(t)} falls in a gap of the log (the source's binlog was purged before capture read it); ${coverageWindow(meta)}.`);
    }
    // Longest commit-order prefix whose commit times are all <= t.
    let i = 0;
    const firstAfterSnap = firstTxnAfter(meta, snaps[0]!);
    for (i = firstAfterSnap; i < meta.txnCount; i++) if (meta.txnTime[i]! > t) break;
    cut = i < meta.txnCount ? { at: meta.txnPosition(i), inclusive: false, label } : { at: end, inclusive: true, label };
  } else {
    const g = 'beforeGtid' in spec ? spec.beforeGtid : spec.throughGtid;
    const before = 'beforeGtid' in spec;
    const label = `${before ? 'before' : 'through'} GTID ${formatGtid(g)}`;
    const i = meta.findGtid(g);
    if (i >= 0) cut = { at: meta.txnPosition(i), inclusive: !before, label };
    else {
      // The last transaction a snapshot contains is not in the index, but the snapshot names it.
      const s = !before && snaps.find((x) => gtidPosHas(x.begin.gtidPos, g));
      if (!s) throw new CoverageError(`transaction ${formatGtid(g)} is not in the log; ${coverageWindow(meta)}.`);
      cut = { at: s.position, inclusive: true, label };
    }
  }
  // Newest complete snapshot at or before the cut (and, for a time cut, taken at or before it).
  let snapshot: SnapshotInfo | undefined;
  for (const s of snaps) {
    const c = comparePositions(s.position, cut.at);
    if ('asOf' in spec && s.begin.time > spec.asOf) continue;
    if (c < 0 || (c === 0 && cut.inclusive)) snapshot = s;
  }
  if (!snapshot) {
    throw new CoverageError(`the cut (${cut.label}) is before the log's first snapshot; ${coverageWindow(meta)}.`);
  }
  // A gap between the snapshot and the cut means history the log does not have, unless the asked
  // time is before the gap began: then the log is complete up to its start, which is the cut.
  const gap = meta.gaps.find((g) => comparePositions(g.after, snapshot!.position) >= 0 && comparePositions(g.after, cut.at) < 0);
  if (gap) {
    if ('asOf' in spec && spec.asOf <= gap.gap.afterTime) cut = { at: gap.after, inclusive: true, label: cut.label };
    else throw new CoverageError(`the cut (${cut.label}) needs history from a gap of the log; ${coverageWindow(meta)}.`);
  }
  return { cut, snapshot };
}

function gtidPosHas(pos: string, g: Gtid): boolean {
  return parseGtidPos(pos).get(g.domain)?.text === formatGtid(g);
}

function firstTxnAfter(meta: MetaState, s: SnapshotInfo): number {
  for (let i = 0; i < meta.txnCount; i++) if (comparePositions(meta.txnPosition(i), s.position) > 0) return i;
  return meta.txnCount;
}

/** db.t with MySQL quoting (`d.ot`.t3, db.`we``ird`): see core/table-name.ts. */
export function parseTableName(text: string): { database: string; table: string } {
  return parseQualifiedName(text);
}

/** The one cut restore's flags (or the UI's restore panel) name: --as-of (--stop-datetime), --before-gtid or --through-gtid. */
export function cutSpecFromFlags(f: { asOf?: string; stopDatetime?: string; beforeGtid?: string; throughGtid?: string }): CutSpec {
  const flags: [string, string | undefined][] = [
    ['--as-of', f.asOf],
    ['--stop-datetime', f.stopDatetime],
    ['--before-gtid', f.beforeGtid],
    ['--through-gtid', f.throughGtid],
  ];
  const given = flags.filter(([, v]) => v !== undefined).map(([name]) => name);
  // Two cuts (even an alias and its flag) would let one win silently.
  if (given.length > 1) throw new UsageError(`give one cut, not ${given.length}: ${given.join(' and ')} are both set.`);
  if (given.length !== 1) throw new UsageError('give exactly one cut: --as-of T, --before-gtid G or --through-gtid G.');
  const asOf = f.asOf ?? f.stopDatetime;
  if (asOf !== undefined) return { asOf: parseCutTime(asOf) };
  if (f.beforeGtid !== undefined) return { beforeGtid: parseGtid(f.beforeGtid) };
  return { throughGtid: parseGtid(f.throughGtid!) };
}
