// Parsing of --as-of times: ISO-8601 with or without offset (no offset means UTC), @epoch, `now`,
// or a time relative to now (-30s, -5m, -2h, -1d). Binlog timestamps are whole seconds, so every
// time is truncated to the second.
import { UsageError } from './errors.js';

const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** The latest time pitr handles: the end of year 9999 (what ISO-8601 and Date print). */
const MAX_EPOCH = 253402300799;

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** A time outside 1970..9999 has no ISO form: say so, rather than fail later formatting it. */
function inRange(sec: number, text: string): number {
  if (!Number.isFinite(sec) || sec < 0 || sec > MAX_EPOCH) {
    throw new UsageError(`"${text}" is outside the times pitr handles (1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z).`);
  }
  return sec;
}

/**
 * Returns epoch seconds (truncated toward the past) for a user-supplied time. `nowMs` is the clock
 * that `now` and relative times count from (this machine's).
 */
export function parseCutTime(text: string, nowMs: number = Date.now()): number {
  const t = text.trim();
  if (/^@-?\d+(\.\d+)?$/.test(t)) return inRange(Math.floor(Number(t.slice(1))), text);
  if (/^now$/i.test(t)) return Math.floor(nowMs / 1000);
  const rel = /^(?:now\s*)?-\s*(\d+)\s*([smhd])$/i.exec(t);
  if (rel) return inRange(Math.floor(nowMs / 1000) - Number(rel[1]) * UNIT_SECONDS[rel[2]!.toLowerCase()]!, text);
  const m = ISO_RE.exec(t);
  if (!m) {
    throw new UsageError(
      `"${text}" is not a time; use ISO-8601 such as 2020-02-23T18:56:00Z or "2020-02-23 18:56:00+08:00", @epoch-seconds, now, or -30s, -5m, -2h, -1d.`,
    );
  }
  const [, y, mo, d, h = '0', mi = '0', s = '0', , off] = m;
  const year = Number(y), month = Number(mo), day = Number(d), hour = Number(h), min = Number(mi), sec = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 59) {
    throw new UsageError(`"${text}" is not a valid date and time.`);
  }
  const utcMs = Date.UTC(year, month - 1, day, hour, min, sec);
  const check = new Date(utcMs);
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month - 1) {
    throw new UsageError(`"${text}" is not a valid date (no such day).`);
  }
  let offsetSec = 0;
  if (off && off.toUpperCase() !== 'Z') {
    const om = /^([+-])(\d{2}):?(\d{2})?$/.exec(off)!;
    offsetSec = (om[1] === '-' ? -1 : 1) * (Number(om[2]) * 3600 + Number(om[3] ?? '0') * 60);
  }
  return inRange(Math.floor(utcMs / 1000) - offsetSec, text);
}

export function formatEpoch(sec: number): string {
  return new Date(sec * 1000).toISOString().replace('.000Z', 'Z');
}
