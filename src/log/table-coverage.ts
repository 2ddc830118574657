// Where capture stopped capturing a table (capture --narrow, CoverageEnd records) and whether a
// cut falls after that with no later snapshot of the table: such a cut would miss its changes,
// so readers refuse it rather than return the table with rows missing. Pure.
import type { CoverageEndInfo, MetaState } from './meta-state.js';
import { comparePositions, withinCut, type Cut } from '../core/position.js';
import { CoverageError } from '../core/errors.js';
import { formatEpoch } from '../core/cut-time.js';
import { formatQualifiedName, type QualifiedName } from '../core/table-name.js';

const names = (e: CoverageEndInfo) => e.end.tables;

/**
 * The coverage end that makes `cut` miss changes of db.t: the last one before the cut (by time for
 * an --as-of cut, by position otherwise) not followed by a snapshot of the table within the cut.
 */
export function uncoveredEnd(meta: MetaState, t: QualifiedName, cut: Cut, asOf?: number): CoverageEndInfo | undefined {
  const ends = meta.coverageEnds.filter(
    (e) =>
      names(e).some((x) => x.database === t.database && x.table === t.table) &&
      (asOf !== undefined ? asOf > e.end.afterTime : comparePositions(cut.at, e.after) > 0),
  );
  const last = ends.at(-1);
  if (!last) return undefined;
  const resumed = meta.snapshots.some(
    (s) =>
      s.end &&
      comparePositions(s.position, last.after) > 0 &&
      withinCut(s.position, cut) &&
      s.begin.tables.some((x) => x.database === t.database && x.table === t.table),
  );
  return resumed ? undefined : last;
}

/** Throws "db.t was not captured after T" for the first requested table (or table of `database`) a cut would miss changes of. */
export function refuseUncovered(meta: MetaState, req: { tables?: QualifiedName[]; database?: string }, cut: Cut, asOf?: number): void {
  const candidates: QualifiedName[] = req.tables
    ? req.tables
    : meta.coverageEnds.flatMap((e) => names(e).filter((x) => x.database === req.database));
  for (const t of candidates) {
    const e = uncoveredEnd(meta, t, cut, asOf);
    if (!e) continue;
    throw new CoverageError(
      `${formatQualifiedName(t.database, t.table)} was not captured after ${formatEpoch(e.end.afterTime)} ` +
        `(capture --narrow left it out of --tables); choose a cut at or before ${formatEpoch(e.end.afterTime)}, or add it to --tables again (capture snapshots it) and cut after that.`,
    );
  }
}
