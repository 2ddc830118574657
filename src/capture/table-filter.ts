// Capture's --tables filter (db.t,db2.*): parsing and matching. Pure.
import { ALL_USER_TABLES, isSystemDatabase, type TableFilter } from './transaction-builder.js';
import { UsageError } from '../core/errors.js';

/** Normal form of a filter spec, so the one recorded in the log compares with today's. */
export function normalizeTableFilter(spec: string | undefined): string {
  return (spec ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .sort()
    .join(',');
}

/** --tables db.t,db2.* -> filter; "" or undefined = every user database. */
export function parseTableFilter(spec: string | undefined): TableFilter {
  if (!spec || !spec.trim()) return ALL_USER_TABLES;
  const rules = spec.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
    const m = /^([^.]+)\.(.+)$/.exec(s);
    if (!m) throw new UsageError(`"${s}" in --tables is not db.table or db.*.`);
    return { db: m[1]!, table: m[2]! };
  });
  return (db, t) => !isSystemDatabase(db) && rules.some((r) => r.db === db && (r.table === '*' || r.table === t));
}
