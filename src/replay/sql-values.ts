// Renders log Values for the target server: as LOAD DATA field bytes and as SQL literals. Pure.
import type { Value } from '../log/record-types.js';

/** Shortest decimal text that reads back as the same float32. */
export function float32Text(f: number): string {
  if (!Number.isFinite(f)) return String(f);
  for (let p = 1; p <= 9; p++) {
    const s = f.toPrecision(p);
    if (Math.fround(Number(s)) === Math.fround(f)) return String(Number(s));
  }
  return String(f);
}

export type ValueKind = keyof Value;

/**
 * Which field of the oneof is set. Decoded messages expose it as `kind` (protobufjs' virtual oneof;
 * unset fields read as their defaults through the prototype, so they cannot be tested directly);
 * values built in memory have exactly one own property.
 */
export function valueKind(v: Value): ValueKind | undefined {
  const k = (v as { kind?: ValueKind }).kind;
  if (k !== undefined) return k;
  for (const key in v) if (Object.prototype.hasOwnProperty.call(v, key)) return key as ValueKind;
  return undefined;
}

/** Plain text (or bytes) of a value; null for SQL NULL. */
export function valueText(v: Value): string | Uint8Array | null {
  switch (valueKind(v)) {
    case 'int':
      return v.int!.toString();
    case 'uint':
      return v.uint!.toString();
    case 'text':
      return v.text!;
    case 'decimal':
      return v.decimal!;
    case 'temporal':
      return v.temporal!;
    case 'json':
      return v.json!;
    case 'bytes':
      return v.bytes!;
    case 'double':
      return String(v.double);
    case 'float':
      return float32Text(v.float!);
    case 'bit':
      return v.bit!.toString();
    default:
      return null;
  }
}

const BS = 0x5c; // backslash
const ESC: Record<number, number> = { 0x00: 0x30, 0x09: 0x74, 0x0a: 0x6e, 0x0d: 0x72, 0x5c: 0x5c, 0x1a: 0x5a };

/** Appends a field for LOAD DATA (fields by TAB, lines by LF, escaped by backslash, NULL as \N). */
export function pushLoadField(out: Buffer[], v: Value): void {
  const t = valueText(v);
  if (t === null) {
    out.push(NULL_FIELD);
    return;
  }
  const raw = typeof t === 'string' ? Buffer.from(t, 'utf8') : Buffer.from(t.buffer, t.byteOffset, t.byteLength);
  let needs = false;
  for (let i = 0; i < raw.length; i++) if (ESC[raw[i]!] !== undefined) { needs = true; break; }
  if (!needs) {
    out.push(raw);
    return;
  }
  const esc = Buffer.allocUnsafe(raw.length * 2);
  let j = 0;
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    const e = ESC[b];
    if (e !== undefined) {
      esc[j++] = BS;
      esc[j++] = e;
    } else esc[j++] = b;
  }
  out.push(esc.subarray(0, j));
}

const NULL_FIELD = Buffer.from('\\N');
export const TAB = Buffer.from('\t');
export const LF = Buffer.from('\n');

/** SQL literal for a value (used in WHERE clauses and reviewable SQL). */
export function sqlLiteral(v: Value): string {
  const kind = valueKind(v);
  if (kind === 'null' || kind === undefined) return 'NULL';
  if (kind === 'bytes') return v.bytes!.length ? `X'${Buffer.from(v.bytes!).toString('hex')}'` : "''";
  if (kind === 'int' || kind === 'uint' || kind === 'bit' || kind === 'double' || kind === 'float') return valueText(v) as string;
  const s = valueText(v) as string;
  return "'" + s.replace(/[\0\n\r\x1a'"\\]/g, (c) => ({ '\0': '\\0', '\n': '\\n', '\r': '\\r', '\x1a': '\\Z', "'": "\\'", '"': '\\"', '\\': '\\\\' })[c]!) + "'";
}

/**
 * Key part of a value for folding: equal values give equal parts, different values different ones.
 * Bytes that are valid UTF-8 key like the same text (the binlog may hand CHAR data over as bytes).
 */
export function valueKey(v: Value): string | null | [string] {
  const t = valueText(v);
  if (t === null || typeof t === 'string') return t;
  const buf = Buffer.from(t.buffer, t.byteOffset, t.byteLength);
  const s = buf.toString('utf8');
  return Buffer.byteLength(s, 'utf8') === buf.length && Buffer.from(s, 'utf8').equals(buf) ? s : [buf.toString('latin1')];
}

/** One string for a list of values, unambiguous whatever bytes they hold. */
export function valuesKey(values: Value[]): string {
  return JSON.stringify(values.map(valueKey));
}
