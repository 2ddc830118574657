// Parsing of --as-of times: ISO-8601 with or without offset (no offset means UTC), or @epoch.
// Binlog timestamps are whole seconds, so every time is truncated to the second.
import { UsageError } from './errors.js';

const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** Returns epoch seconds (truncated toward the past) for a user-supplied time. */
export function parseCutTime(text: string): number {
  const t = text.trim();
  if (/^@-?\d+(\.\d+)?$/.test(t)) return Math.floor(Number(t.slice(1)));
  const m = ISO_RE.exec(t);
  if (!m) {
    throw new UsageError(
      `"${text}" is not a time; use ISO-8601 such as 2020-02-23T18:56:00Z or "2020-02-23 18:56:00+08:00", or @epoch-seconds.`,
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
  return Math.floor(utcMs / 1000) - offsetSec;
}

export function formatEpoch(sec: number): string {
  return new Date(sec * 1000).toISOString().replace('.000Z', 'Z');
}
