// Renders log Values for the target server: as LOAD DATA field bytes and as SQL literals. Pure.
import type { Value } from '../log/record-types.js';
import { visitImage, type ValueField, type ValueVisitor } from '../log/record-codec.js';
import { CorruptLogError } from '../core/errors.js';

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

/**
 * Renders row images straight from the log's wire format (record-codec visitImage) into LOAD DATA
 * lines: the same bytes pushLoadField writes for the decoded values, without building Value
 * objects. Lines and keys are returned as latin1 strings (one char per byte): compact on the heap
 * and exact for any bytes. A key is the TAB-joined escaped fields of the key columns, itself a valid
 * LOAD DATA line: unambiguous (TAB, LF and backslash are escaped inside fields, NULL is \N while the
 * text "\N" is \\N), and text equals bytes of the same UTF-8 content, as valueKey requires.
 */
export class LineRenderer implements ValueVisitor {
  private out = Buffer.allocUnsafe(1 << 16);
  private n = 0;
  private col = 0;
  /** Field boundaries of the last rendered image (start, end per column). */
  private bounds = new Int32Array(2 * 64);
  /** Columns to write (null: all). */
  private only: Uint8Array | null = null;

  /** Renders the whole image; returns its line (no LF) and the key (the whole line when keyIdx is null). */
  line(buf: Buffer, start: number, end: number, keyIdx: number[] | null): { line: string; key: string } {
    this.begin(null);
    visitImage(buf, start, end, this);
    const line = this.out.toString('latin1', 0, this.n);
    if (!keyIdx) return { line, key: line };
    return { line, key: this.keyFrom(line, keyIdx) };
  }

  /** Renders only the key columns of an image (before images of updates and deletes). */
  key(buf: Buffer, start: number, end: number, keyIdx: number[], mask: Uint8Array): string {
    this.begin(mask);
    visitImage(buf, start, end, this);
    if (keyIdx.length === 1) {
      const i = keyIdx[0]!;
      if (i >= this.col) throw new CorruptLogError(`row image lacks key column ${i}`);
      return this.out.toString('latin1', this.bounds[2 * i]!, this.bounds[2 * i + 1]!);
    }
    return this.keyFrom(this.out.toString('latin1', 0, this.n), keyIdx);
  }

  private keyFrom(line: string, keyIdx: number[]): string {
    let k = '';
    for (let j = 0; j < keyIdx.length; j++) {
      const i = keyIdx[j]!;
      if (i >= this.col) throw new CorruptLogError(`row image lacks key column ${i}`);
      k += (j ? '\t' : '') + line.slice(this.bounds[2 * i]!, this.bounds[2 * i + 1]!);
    }
    return k;
  }

  private begin(only: Uint8Array | null): void {
    this.n = 0;
    this.col = 0;
    this.only = only;
  }

  /** Starts field `col`; false when it is not written. */
  private field(room: number): boolean {
    const c = this.col;
    if (c * 2 + 2 > this.bounds.length) {
      const b = new Int32Array(this.bounds.length * 2);
      b.set(this.bounds);
      this.bounds = b;
    }
    if (this.only && !this.only[c]) {
      this.bounds[2 * c] = this.bounds[2 * c + 1] = this.n;
      this.col++;
      return false;
    }
    if (c && !this.only) this.out[this.n++] = 0x09;
    this.reserve(room + 1);
    this.bounds[2 * c] = this.n;
    return true;
  }

  private close(): void {
    this.bounds[2 * this.col + 1] = this.n;
    this.col++;
  }

  private reserve(room: number): void {
    if (this.n + room + 1 <= this.out.length) return;
    const b = Buffer.allocUnsafe(Math.max(this.out.length * 2, this.n + room + 1));
    this.out.copy(b, 0, 0, this.n);
    this.out = b;
  }

  private ascii(s: string): void {
    if (!this.field(s.length)) return;
    this.n += this.out.write(s, this.n, 'latin1');
    this.close();
  }

  null(): void {
    if (!this.field(2)) return;
    this.out[this.n++] = BS;
    this.out[this.n++] = 0x4e; // N
    this.close();
  }

  integer(v: number | bigint): void {
    if (typeof v !== 'number' || v > 0x7fffffff || v < -0x7fffffff || !Number.isInteger(v)) return this.ascii(v.toString());
    // Digits written in place (int32 arithmetic): String(v) plus a buffer write per value cost more than the fold.
    if (!this.field(11)) return;
    const out = this.out;
    let n = v | 0;
    if (n < 0) {
      out[this.n++] = 0x2d;
      n = -n;
    }
    let len = 1;
    for (let p = 10; p <= n && len < 10; p *= 10) len++;
    for (let i = this.n + len - 1; i >= this.n; i--) {
      const q = (n / 10) | 0;
      out[i] = 0x30 + n - q * 10;
      n = q;
    }
    this.n += len;
    this.close();
  }

  double(v: number): void {
    this.ascii(String(v));
  }

  float(v: number): void {
    this.ascii(float32Text(v));
  }

  bytes(_field: ValueField, buf: Buffer, start: number, end: number): void {
    if (!this.field(2 * (end - start))) return;
    const out = this.out;
    let j = this.n;
    // Most values need no escaping: find the first byte that does, and copy up to it natively.
    let first = start;
    while (first < end && !ESC_BYTE[buf[first]!]) first++;
    if (first - start > 64) j += buf.copy(out, j, start, first);
    else for (let i = start; i < first; i++) out[j++] = buf[i]!;
    for (let i = first; i < end; i++) {
      const b = buf[i]!;
      const e = ESC_BYTE[b]!;
      if (e) {
        out[j++] = BS;
        out[j++] = e;
      } else out[j++] = b;
    }
    this.n = j;
    this.close();
  }
}

/** ESC as a table: byte -> escape letter, 0 when the byte needs no escaping. */
const ESC_BYTE = new Uint8Array(0x100);
for (const [b, e] of Object.entries(ESC)) ESC_BYTE[Number(b)] = e;
