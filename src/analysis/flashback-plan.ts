// Turns the net effect of a window on a table into SQL that puts each row back to its state when
// the window opened (skipping conflicts: rows changed again since), and compares log values with
// what the server holds now. Pure.
import type { Value } from '../log/record-types.js';
import { sqlLiteral, valueKind, valueText } from '../replay/sql-values.js';
import { toBigInt } from '../log/record-codec.js';
import { qid, qualified } from '../core/mysql-conn.js';
import type { KeyedEntry } from './window-fold.js';
import type { Image } from './row-image.js';

/** Session settings the statements rely on: exact TIMESTAMPs in UTC, zero dates, explicit 0 ids. */
export const FLASHBACK_SESSION = [
  'SET NAMES utf8mb4',
  "SET SESSION time_zone = '+00:00'",
  "SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION,NO_AUTO_VALUE_ON_ZERO'",
];

export interface FlashbackStatements {
  deletes: string[];
  updates: string[];
  inserts: string[];
}

function whereKey(e: KeyedEntry): string {
  return e.keyColumns.map((c, i) => `${qid(c)} = ${sqlLiteral(e.key[i]!)}`).join(' AND ');
}

function valueOf(img: Image, column: string): Value | undefined {
  const i = img.columns.indexOf(column);
  return i < 0 ? undefined : img.values[i];
}

/** Statements that return each entry's row from its end state to its start state. */
export function flashbackStatements(db: string, table: string, entries: Iterable<KeyedEntry>): FlashbackStatements {
  const t = qualified(db, table);
  const out: FlashbackStatements = { deletes: [], updates: [], inserts: [] };
  for (const e of entries) {
    if (!e.start && !e.end) continue;
    if (!e.start) out.deletes.push(`DELETE FROM ${t} WHERE ${whereKey(e)}`);
    else if (!e.end) {
      out.inserts.push(`INSERT INTO ${t} (${e.start.columns.map(qid).join(', ')}) VALUES (${e.start.values.map(sqlLiteral).join(', ')})`);
    } else {
      const sets: string[] = [];
      for (const c of e.start.columns) {
        const s = valueOf(e.start, c)!;
        const n = valueOf(e.end, c);
        if (n !== undefined && sameLogValue(s, n)) continue;
        sets.push(`${qid(c)} = ${sqlLiteral(s)}`);
      }
      if (sets.length) out.updates.push(`UPDATE ${t} SET ${sets.join(', ')} WHERE ${whereKey(e)}`);
    }
  }
  return out;
}

/** Deletes first, then updates, then inserts: a key freed in the window is free again before reuse. */
export function orderedStatements(s: FlashbackStatements): string[] {
  return [...s.deletes, ...s.updates, ...s.inserts];
}

export interface ScriptInfo {
  table: string;
  window: string;
  rows: number;
  conflicts: { key: Record<string, string | null>; reason: string }[];
  forced: boolean;
}

/** The reviewable script: one transaction, with the session settings it needs. */
export function renderScript(info: ScriptInfo, statements: string[]): string {
  const lines = [
    `-- pitr flashback of ${info.table}: back to the state ${info.window}`,
    `-- ${statements.length} statement(s) for ${info.rows} row(s); ${info.conflicts.length} conflict(s) ${info.forced ? 'overwritten (--force)' : 'left as they are'}`,
  ];
  for (const c of info.conflicts) {
    lines.push(`-- conflict: ${Object.entries(c.key).map(([k, v]) => `${k}=${v === null ? 'NULL' : v}`).join(',')} ${c.reason}`);
  }
  for (const s of FLASHBACK_SESSION) lines.push(`${s};`);
  lines.push('START TRANSACTION;');
  for (const s of statements) lines.push(`${s};`);
  lines.push('COMMIT;');
  return lines.join('\n') + '\n';
}

function sameLogValue(a: Value, b: Value): boolean {
  const ta = valueText(a);
  const tb = valueText(b);
  if (ta === null || tb === null) return ta === tb;
  if (typeof ta === 'string' && typeof tb === 'string') return ta === tb && valueKind(a) === valueKind(b);
  return Buffer.from(ta).equals(Buffer.from(tb));
}

/**
 * Whether the server's current bytes for a column equal a log value. `type` is the server's field
 * type name (mysql2: BIT, FLOAT, DOUBLE, ...); `raw` the column's text-protocol bytes (null: NULL).
 */
export function sameAsServer(v: Value, raw: Buffer | null, type: string): boolean {
  const kind = valueKind(v) ?? 'null';
  if (raw === null || kind === 'null') return raw === null && kind === 'null';
  switch (kind) {
    case 'bit':
      return BigInt('0x' + (raw.toString('hex') || '0')) === toBigInt(v.bit);
    case 'float':
      return Math.fround(Number(raw.toString('latin1'))) === Math.fround(v.float!);
    case 'double':
      return Number(raw.toString('latin1')) === v.double;
    case 'bytes': {
      const b = Buffer.from(v.bytes!);
      return raw.equals(b);
    }
    default:
      if (type === 'BIT') return BigInt('0x' + (raw.toString('hex') || '0')).toString() === valueText(v);
      return raw.toString('utf8') === valueText(v);
  }
}

/** Key text for matching server rows with log rows (same form on both sides). */
export function rawKeyPart(buf: Buffer | Uint8Array | string | null): string | null {
  if (buf === null) return null;
  if (typeof buf === 'string') return buf;
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const s = b.toString('utf8');
  return Buffer.from(s, 'utf8').equals(b) ? s : '0x' + b.toString('hex');
}

export function logKeyString(key: Value[]): string {
  return JSON.stringify(key.map((v) => rawKeyPart(valueText(v))));
}

export function serverKeyString(raw: (Buffer | null)[]): string {
  return JSON.stringify(raw.map((b) => rawKeyPart(b)));
}
