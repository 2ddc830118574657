// What `pitr demo --keep` leaves for `pitr ui`: the source's row counts and checksums in the last
// moment before the attack, recorded from the source itself, and the cuts that moment answers to (the
// cut second, and just before the first attack transaction). The UI compares a restore of the
// drill's database at one of those cuts with it: the same oracle the drill compares with.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stackHome } from '../stack/local-stack.js';
import type { TableSums } from './table-checksums.js';

export interface DrillReference {
  database: string;
  /** The cut second (epoch): every commit up to its end, nothing after, until the first attack. */
  cutSecond: number;
  /** GTID of the first attack transaction: --before-gtid it is the same state. */
  beforeGtid: string;
  tables: TableSums;
}

export function drillReferenceFile(home = stackHome()): string {
  return join(home, 'demo', 'drill-reference.json');
}

export function saveDrillReference(ref: DrillReference, home = stackHome()): void {
  const file = drillReferenceFile(home);
  mkdirSync(join(home, 'demo'), { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(ref) + '\n');
  renameSync(`${file}.tmp`, file);
}

export function loadDrillReference(home = stackHome()): DrillReference | undefined {
  try {
    const r = JSON.parse(readFileSync(drillReferenceFile(home), 'utf8')) as DrillReference;
    return typeof r.database === 'string' && typeof r.cutSecond === 'number' && r.tables ? r : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a restore of `database` at this cut is the state the reference recorded. */
export function referenceApplies(ref: DrillReference, database: string, cut: { asOf?: number; beforeGtid?: string }): boolean {
  return ref.database === database && (cut.asOf === ref.cutSecond || cut.beforeGtid === ref.beforeGtid);
}
