// Row images as analysts see them: display text of log values, key specs given on the command line
// (`--pk 5`, `--pk a=1,b=x`) matched against images, and the columns that differ between two
// images. Pure.
import type { Value } from '../log/record-types.js';
import { valueKey, valueKind, valueText } from '../replay/sql-values.js';
import { UsageError } from '../core/errors.js';

export interface Image {
  columns: string[];
  values: Value[];
}

/** Display form of a value: exact text, binary data that is not UTF-8 as 0x-hex, NULL as null. */
export function displayValue(v: Value | undefined): string | null {
  if (!v) return null;
  const t = valueText(v);
  if (t === null) return null;
  if (typeof t === 'string') return t;
  const buf = Buffer.from(t.buffer, t.byteOffset, t.byteLength);
  const s = buf.toString('utf8');
  return Buffer.from(s, 'utf8').equals(buf) && !/[\0-\x08\x0e-\x1f]/.test(s) ? s : '0x' + buf.toString('hex');
}

/** Column name -> display value. */
export function displayImage(img: Image): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  img.columns.forEach((c, i) => (out[c] = displayValue(img.values[i])));
  return out;
}

export interface ColumnChange {
  column: string;
  before: string | null;
  after: string | null;
}

/** Columns whose values differ between two images (by name; a column present in one only counts). */
export function changedColumns(before: Image | null, after: Image | null): ColumnChange[] {
  const names: string[] = [];
  for (const img of [before, after]) for (const c of img?.columns ?? []) if (!names.includes(c)) names.push(c);
  const out: ColumnChange[] = [];
  for (const c of names) {
    const b = pick(before, c);
    const a = pick(after, c);
    if (b === undefined && a === undefined) continue;
    if (b !== undefined && a !== undefined && sameValue(b, a)) continue;
    out.push({ column: c, before: b === undefined ? null : displayValue(b), after: a === undefined ? null : displayValue(a) });
  }
  return out;
}

function pick(img: Image | null, column: string): Value | undefined {
  if (!img) return undefined;
  const i = img.columns.indexOf(column);
  return i < 0 ? undefined : img.values[i];
}

export function sameValue(a: Value, b: Value): boolean {
  const ka = valueKind(a) ?? 'null';
  const kb = valueKind(b) ?? 'null';
  if ((ka === 'null') !== (kb === 'null')) return false;
  return JSON.stringify(valueKey(a)) === JSON.stringify(valueKey(b));
}

export function sameImage(a: Image, b: Image): boolean {
  return changedColumns(a, b).length === 0;
}

/** One `--pk` argument: either values in key order, or column=value pairs. */
export interface KeySpec {
  text: string;
  parts: { column?: string; value: string }[];
}

export function parseKeySpec(text: string): KeySpec {
  if (text === '') throw new UsageError('--pk needs a value, e.g. --pk 5 or --pk a=1,b=x.');
  if (!/=/.test(text)) return { text, parts: [{ value: text }] };
  const parts = text.split(',').map((p) => {
    const i = p.indexOf('=');
    if (i <= 0) throw new UsageError(`"${text}" is not a key; use --pk V for a one-column key or --pk a=1,b=x for a composite one.`);
    return { column: p.slice(0, i).trim().replace(/^`|`$/g, ''), value: p.slice(i + 1) };
  });
  return { text, parts };
}

/**
 * Resolves a key spec against the table's key columns: column=value pairs may name any columns
 * (they then identify the row by those columns); bare values need the table's key.
 */
export function resolveKeySpec(spec: KeySpec, keyColumns: string[] | null, table: string): { column: string; value: string }[] {
  if (spec.parts.every((p) => p.column !== undefined)) {
    if (keyColumns) {
      const named = spec.parts.map((p) => p.column!);
      const missing = keyColumns.filter((c) => !named.includes(c));
      if (missing.length) throw new UsageError(`the key of ${table} is (${keyColumns.join(', ')}); --pk ${spec.text} lacks ${missing.join(', ')}.`);
    }
    return spec.parts.map((p) => ({ column: p.column!, value: p.value }));
  }
  if (!keyColumns) throw new UsageError(`${table} has no primary key the log knows of; name the columns: --pk col=value[,col2=value2].`);
  if (keyColumns.length !== 1) throw new UsageError(`the key of ${table} has ${keyColumns.length} columns (${keyColumns.join(', ')}); use --pk ${keyColumns.map((c) => `${c}=...`).join(',')}.`);
  return [{ column: keyColumns[0]!, value: spec.parts[0]!.value }];
}

/** Whether a value equals the text given on the command line (0x-hex matches binary data). */
export function valueMatches(v: Value, text: string): boolean {
  const t = valueText(v);
  if (t === null) return false; // NULL never identifies a row
  if (typeof t === 'string') return t === text;
  const buf = Buffer.from(t.buffer, t.byteOffset, t.byteLength);
  if (/^0x[0-9a-f]*$/i.test(text)) return buf.toString('hex') === text.slice(2).toLowerCase();
  return buf.toString('utf8') === text && Buffer.from(text, 'utf8').equals(buf);
}

/** Whether an image is the row named by the resolved key (every named column equal). */
export function imageMatches(img: Image, key: { column: string; value: string }[]): boolean {
  for (const k of key) {
    const i = img.columns.indexOf(k.column);
    if (i < 0 || !valueMatches(img.values[i]!, k.value)) return false;
  }
  return true;
}
