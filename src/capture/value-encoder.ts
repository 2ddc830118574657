// Turns column values as the drivers hand them over (zongji row images, mysql2 snapshot rows read
// as text/bytes) into exact typed log Values. Pure.
import type { Value } from '../log/record-types.js';

/** MySQL protocol / binlog column type codes. */
export const T = {
  DECIMAL: 0, TINY: 1, SHORT: 2, LONG: 3, FLOAT: 4, DOUBLE: 5, NULL: 6, TIMESTAMP: 7, LONGLONG: 8,
  INT24: 9, DATE: 10, TIME: 11, DATETIME: 12, YEAR: 13, NEWDATE: 14, VARCHAR: 15, BIT: 16,
  TIMESTAMP2: 17, DATETIME2: 18, TIME2: 19, JSON: 245, NEWDECIMAL: 246, ENUM: 247, SET: 248,
  TINY_BLOB: 249, MEDIUM_BLOB: 250, LONG_BLOB: 251, BLOB: 252, VAR_STRING: 253, STRING: 254, GEOMETRY: 255,
} as const;

const INTEGER_TYPES = new Set<number>([T.TINY, T.SHORT, T.LONG, T.LONGLONG, T.INT24, T.YEAR]);
const TEMPORAL_TYPES = new Set<number>([T.TIMESTAMP, T.DATE, T.TIME, T.DATETIME, T.NEWDATE, T.TIMESTAMP2, T.DATETIME2, T.TIME2]);
const INT64_MAX = 9223372036854775807n;

export const NULL_VALUE: Value = Object.freeze({ null: true }) as Value;

function integerValue(v: number | string | bigint): Value {
  if (typeof v === 'number') return { int: v };
  const b = BigInt(v);
  return b > INT64_MAX ? { uint: b.toString() } : { int: b.toString() };
}

function bitValue(buf: Uint8Array): Value {
  let n = 0n;
  for (const byte of buf) n = (n << 8n) | BigInt(byte);
  return { bit: n.toString() };
}

/** Encodes one value from a zongji row image, given the binlog column type. */
export function encodeBinlogValue(v: unknown, type: number): Value {
  if (v === null || v === undefined) return NULL_VALUE;
  if (INTEGER_TYPES.has(type)) return integerValue(v as number | string | bigint);
  switch (type) {
    case T.FLOAT:
      return { float: v as number };
    case T.DOUBLE:
      return { double: v as number };
    case T.DECIMAL:
    case T.NEWDECIMAL:
      return { decimal: String(v) };
    case T.BIT:
      return bitValue(v as Buffer);
    case T.JSON:
      return { json: typeof v === 'string' ? v : JSON.stringify(v) };
    case T.ENUM:
    case T.SET:
      return { text: String(v) };
    default:
      break;
  }
  if (TEMPORAL_TYPES.has(type)) {
    if (v instanceof Date) throw new Error('temporal value arrived as a Date: zongji must run with dateStrings');
    return { temporal: String(v) };
  }
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return { bytes: v };
  if (typeof v === 'string') return { text: v };
  if (type === T.GEOMETRY) {
    // zongji's own geometry decoding drops the SRID and collection types: refuse rather than log it.
    throw new Error('geometry arrived decoded, not as stored bytes: the zongji patch in patches/ is not applied (run npm ci)');
  }
  throw new Error(`column type ${type} arrived as ${typeof v}, which pitr cannot log exactly`);
}

/**
 * Encodes one value of a snapshot row read through mysql2's text protocol, where the typeCast
 * hands over every column as its exact text (or bytes for binary-charset columns).
 */
export function encodeSnapshotValue(v: string | Buffer | null, type: number, binary: boolean): Value {
  if (v === null) return NULL_VALUE;
  if (INTEGER_TYPES.has(type)) return integerValue(typeof v === 'string' ? v : v.toString('latin1'));
  switch (type) {
    case T.FLOAT:
      return { float: Number(v) };
    case T.DOUBLE:
      return { double: Number(v) };
    case T.DECIMAL:
    case T.NEWDECIMAL:
      return { decimal: String(v) };
    case T.BIT:
      return bitValue(Buffer.isBuffer(v) ? v : Buffer.from(v, 'latin1'));
    case T.JSON:
      return { json: String(v) };
    default:
      break;
  }
  if (TEMPORAL_TYPES.has(type)) return { temporal: String(v) };
  if (binary || Buffer.isBuffer(v)) return { bytes: Buffer.isBuffer(v) ? v : Buffer.from(v, 'utf8') };
  return { text: v };
}
