// Encodes and decodes log records (protobuf, proto/pitr/v1/log.proto) and their Kafka keys. Pure:
// no Kafka here.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import protobuf from 'protobufjs';
import Long from 'long';
import { CorruptLogError, formatLogPlace, type LogPlace } from '../core/errors.js';
import { RECORD_VERSION, type Int64, type PositionMsg, type RecordMsg } from './record-types.js';
import type { Position } from '../core/position.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// dist/log -> repo root; src/log (vitest) -> repo root: both are two levels down.
const protoFile = path.resolve(here, '../../proto/pitr/v1/log.proto');

let recordType: protobuf.Type | undefined;
function type(): protobuf.Type {
  if (!recordType) {
    protobuf.util.Long = Long as unknown as protobuf.Constructor<Long>;
    protobuf.configure();
    recordType = protobuf.loadSync(protoFile).lookupType('pitr.v1.Record');
  }
  return recordType;
}

export function encodeRecord(rec: RecordMsg): Buffer {
  const bytes = type().encode(rec as unknown as protobuf.Message).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Where a record being decoded came from: its place in the log when read from Kafka (the errors then carry
 * topic, partition and offset), otherwise a description (a spool, a test).
 */
export type RecordPlace = LogPlace | string;

/** The place as text: "topic/partition@offset", or the description. */
export function describePlace(where: RecordPlace): string {
  return typeof where === 'string' ? where : formatLogPlace(where);
}

/** A CorruptLogError about the record at `where`: "record at <where> <what>". */
function corrupt(where: RecordPlace, what: string): CorruptLogError {
  return new CorruptLogError(`record at ${describePlace(where)} ${what}`, typeof where === 'string' ? { position: where } : { place: where });
}

export function decodeRecord(buf: Uint8Array, where: RecordPlace, sourceId?: string): RecordMsg {
  let rec: RecordMsg;
  try {
    rec = type().decode(buf) as unknown as RecordMsg;
  } catch (err) {
    throw corrupt(where, `is not a pitr record: ${(err as Error).message}`);
  }
  if (rec.version !== RECORD_VERSION) {
    throw corrupt(where, `has format version ${rec.version}; this pitr reads version ${RECORD_VERSION}`);
  }
  if (sourceId !== undefined && rec.sourceId !== sourceId) {
    throw corrupt(where, `belongs to source "${rec.sourceId}", not "${sourceId}"`);
  }
  return rec;
}

/** Kafka key of a table's records on the changes topic. */
export function tableKey(database: string, table: string): string {
  return `${database}.${table}`;
}

export const META_KEY = 'meta';

export function toNumber(v: Int64 | undefined | null): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v);
  return v.toNumber();
}

export function toBigInt(v: Int64 | undefined | null): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'number') return BigInt(v);
  if (typeof v === 'string') return BigInt(v);
  // Most 64-bit values (positions, sequence numbers) fit in 32 bits: skip Long's slow toString.
  if (v.high === 0) return BigInt(v.low >>> 0);
  return BigInt(v.toString());
}

export function fromPositionMsg(p: PositionMsg | undefined | null): Position {
  const epoch = p?.epoch ?? 0;
  return epoch ? { epoch, fileSeq: p?.fileSeq ?? 0, endPos: toNumber(p?.endPos) } : { fileSeq: p?.fileSeq ?? 0, endPos: toNumber(p?.endPos) };
}

export function toPositionMsg(p: Position): PositionMsg {
  return p.epoch ? { fileSeq: p.fileSeq, endPos: p.endPos, epoch: p.epoch } : { fileSeq: p.fileSeq, endPos: p.endPos };
}

// ---------------------------------------------------------------------------------------------
// Replay hot path: a zero-copy view of row-carrying records (ChangeBatch, SnapshotRows) that reads
// the protobuf wire format directly, without building message objects. Restore folds millions of
// row images; materializing them as protobufjs objects (one per Value, Long per integer) made
// decoding and garbage collection dominate. Same format as decodeRecord, see log.proto.

/** Value kinds as their field numbers in pitr.v1.Value. */
export const ValueField = { Null: 1, Int: 2, Uint: 3, Double: 4, Float: 5, Decimal: 6, Temporal: 7, Text: 8, Json: 9, Bytes: 10, Bit: 11 } as const;
export type ValueField = (typeof ValueField)[keyof typeof ValueField];

/** Receives the values of one row image in column order. */
export interface ValueVisitor {
  /** SQL NULL (also a Value with no field set). */
  null(): void;
  /** Integer kinds: int (signed), uint, bit; the value as number when exact, else bigint. */
  integer(v: number | bigint): void;
  double(v: number): void;
  float(v: number): void;
  /** Length-delimited kinds: raw bytes buf[start, end) (UTF-8 text for text-like kinds). */
  bytes(field: ValueField, buf: Buffer, start: number, end: number): void;
}

/** A row-carrying record, its images left in the buffer. */
export interface RowRecordView {
  buf: Buffer;
  kind: 'change' | 'snapshotRows';
  database: string;
  table: string;
  columns: string[];
  position: Position;
  /** SnapshotRows only. */
  snapshotId: string;
  /** ChangeBatch of a staged transaction: its id ("" otherwise); `position` is then unset (see log.proto). */
  stagedTxn: string;
  /** Per row change (or snapshot row, as an INSERT): op, before [start,end), after [start,end); -1 when absent. */
  ops: number[];
  ranges: number[];
}

const OP_INSERT = 1;

/**
 * Reader of protobuf wire data. Malformed data throws a CorruptLogError without a place: the record's
 * readers (decodeRecord, viewRowRecord) name it, and callers of visitImage add it with wrapError.
 */
class Wire {
  pos: number;
  constructor(readonly buf: Buffer, start: number, readonly end: number) {
    this.pos = start;
  }
  /** Varint up to 2^53 as a number (lengths, tags, enums, small ints). */
  uint(): number {
    const b = this.buf;
    let x = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new CorruptLogError('truncated varint');
      const c = b[this.pos++]!;
      x += (c & 0x7f) * mul;
      if (c < 0x80) return x;
      mul *= 128;
    }
    throw new CorruptLogError('varint too long');
  }
  /** Full 64-bit varint as (lo, hi) halves. */
  uint64(out: Uint32Array): void {
    const b = this.buf;
    let lo = 0;
    let hi = 0;
    let i = 0;
    for (; i < 4; i++) {
      if (this.pos >= this.end) throw new CorruptLogError('truncated varint');
      const c = b[this.pos++]!;
      lo = (lo | ((c & 0x7f) << (i * 7))) >>> 0;
      if (c < 0x80) {
        out[0] = lo;
        out[1] = 0;
        return;
      }
    }
    // 5th byte: 4 bits to lo, 3 bits to hi.
    if (this.pos >= this.end) throw new CorruptLogError('truncated varint');
    let c = b[this.pos++]!;
    lo = (lo | ((c & 0x0f) << 28)) >>> 0;
    hi = (c & 0x7f) >> 4;
    if (c >= 0x80) {
      for (i = 0; i < 5; i++) {
        if (this.pos >= this.end) throw new CorruptLogError('truncated varint');
        c = b[this.pos++]!;
        hi = (hi | ((c & 0x7f) << (i * 7 + 3))) >>> 0;
        if (c < 0x80) break;
      }
      if (c >= 0x80) throw new CorruptLogError('varint too long');
    }
    out[0] = lo;
    out[1] = hi;
  }
  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        while (this.buf[this.pos++]! >= 0x80) if (this.pos > this.end) throw new CorruptLogError('truncated varint');
        break;
      case 1:
        this.pos += 8;
        break;
      case 2: {
        const n = this.uint();
        this.pos += n;
        break;
      }
      case 5:
        this.pos += 4;
        break;
      default:
        throw new CorruptLogError(`wire type ${wireType} not expected`);
    }
    if (this.pos > this.end) throw new CorruptLogError('truncated field');
  }
  /** Length of a length-delimited field; leaves pos at its start. */
  len(): number {
    const n = this.uint();
    if (this.pos + n > this.end) throw new CorruptLogError('truncated field');
    return n;
  }
  str(): string {
    const n = this.len();
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
}

const half = new Uint32Array(2);
const TWO32 = 4294967296;

let positionType: protobuf.Type | undefined;
/** Positions decode through protobufjs (one per record, not per row): they follow the schema as it evolves. */
function positionAt(w: Wire, end: number): Position {
  positionType ??= type().root.lookupType('pitr.v1.Position');
  const p = fromPositionMsg(positionType.decode(w.buf.subarray(w.pos, end)) as unknown as PositionMsg);
  w.pos = end;
  return p;
}

/**
 * Field numbers of the Record envelope (proto/pitr/v1/log.proto): version, source id, and the members
 * of its `body` oneof. The wire readers below name fields by these, not by literals.
 */
export const RecordField = {
  Version: 1,
  SourceId: 2,
  Change: 10,
  Ddl: 11,
  SnapshotBegin: 12,
  SnapshotRows: 13,
  SnapshotEnd: 14,
  TxnIndex: 15,
  Gap: 16,
  CoverageEnd: 17,
  CheckpointManifest: 18,
  MetaImagePart: 19,
} as const;

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const tagOf = (field: number, wireType: number) => field * 8 + wireType;

function isBody(field: number, wireType: number): boolean {
  return field >= RecordField.Change && field <= RecordField.MetaImagePart && wireType === WIRE_LEN;
}

interface Envelope {
  version: number;
  sourceId: string;
  /** Field number of the body (a RecordField body member), 0 if none. */
  body: number;
  bodyStart: number;
  bodyEnd: number;
}

/**
 * Reads the envelope of a record without decoding its body. `firstBody` stops at the body (the peek:
 * the version and source id are then only read if they precede it, as encodeRecord writes them).
 * Throws a CorruptLogError without a place on malformed wire data.
 */
function readEnvelope(buf: Buffer, firstBody: boolean): Envelope {
  const env: Envelope = { version: 0, sourceId: '', body: 0, bodyStart: 0, bodyEnd: 0 };
  const w = new Wire(buf, 0, buf.length);
  while (w.pos < w.end) {
    const tag = w.uint();
    const field = Math.floor(tag / 8);
    if (tag === tagOf(RecordField.Version, WIRE_VARINT)) env.version = w.uint();
    else if (tag === tagOf(RecordField.SourceId, WIRE_LEN)) env.sourceId = w.str();
    else if (isBody(field, tag & 7)) {
      env.body = field;
      const n = w.len();
      env.bodyStart = w.pos;
      env.bodyEnd = w.pos + n;
      w.pos = env.bodyEnd;
      if (firstBody) break;
    } else w.skip(tag & 7);
  }
  return env;
}

/**
 * Field number of the record's body (RecordField.Change ... MetaImagePart), 0 if none, read from
 * the wire without decoding anything: readers skip bodies they do not want (snapshot rows) at the cost
 * of a tag scan rather than a full decode.
 */
export function recordBodyField(buf: Buffer): number {
  return readEnvelope(buf, true).body;
}

/**
 * Parses the envelope and header of a ChangeBatch or SnapshotRows record, leaving row images in
 * place; null for other bodies. Checks format version and source id like decodeRecord.
 */
export function viewRowRecord(buf: Buffer, where: RecordPlace, sourceId?: string): RowRecordView | null {
  let env: Envelope;
  try {
    env = readEnvelope(buf, false);
    const { version, sourceId: src, body, bodyStart, bodyEnd } = env;
    if (version === RECORD_VERSION && (sourceId === undefined || src === sourceId) && (body === RecordField.Change || body === RecordField.SnapshotRows)) {
      return body === RecordField.Change ? changeView(buf, bodyStart, bodyEnd) : snapshotRowsView(buf, bodyStart, bodyEnd);
    }
  } catch (err) {
    throw corrupt(where, `is not a pitr record: ${(err as Error).message}`);
  }
  if (env.version !== RECORD_VERSION) {
    throw corrupt(where, `has format version ${env.version}; this pitr reads version ${RECORD_VERSION}`);
  }
  if (sourceId !== undefined && env.sourceId !== sourceId) {
    throw corrupt(where, `belongs to source "${env.sourceId}", not "${sourceId}"`);
  }
  return null;
}

/** What verify needs from a record's body, read off the wire (see peekRecord). */
export interface RecordPeek {
  /** Field number of the body (a RecordField body member), 0 when the record has none. */
  body: number;
  /** ChangeBatch of a staged transaction: its id ("" otherwise). */
  stagedTxn: string;
  /** TxnIndex: the staged transactions it commits, with their chunk record counts. */
  staged: { id: string; records: number }[];
}

/**
 * Envelope checks of decodeRecord (wire format, version, source id) plus the staged-transaction fields,
 * without building the message: skipping a body costs a jump, so a multi-megabyte chunk costs what a
 * one-row record does. Verify reads every record of the log through this.
 */
export function peekRecord(buf: Buffer, where: RecordPlace, sourceId?: string): RecordPeek {
  const out: RecordPeek = { body: 0, stagedTxn: '', staged: [] };
  let env: Envelope;
  try {
    env = readEnvelope(buf, false);
    out.body = env.body;
    if (env.body === RecordField.Change) out.stagedTxn = stagedIdOf(new Wire(buf, env.bodyStart, env.bodyEnd));
    else if (env.body === RecordField.TxnIndex) out.staged = stagedListOf(new Wire(buf, env.bodyStart, env.bodyEnd));
  } catch (err) {
    throw corrupt(where, `is not a pitr record: ${(err as Error).message}`);
  }
  if (env.version !== RECORD_VERSION) throw corrupt(where, `has format version ${env.version}; this pitr reads version ${RECORD_VERSION}`);
  if (sourceId !== undefined && env.sourceId !== sourceId) throw corrupt(where, `belongs to source "${env.sourceId}", not "${sourceId}"`);
  return out;
}

/** ChangeBatch.staged_txn (field 8). */
function stagedIdOf(w: Wire): string {
  let id = '';
  while (w.pos < w.end) {
    const tag = w.uint();
    if (tag === 66) id = w.str();
    else w.skip(tag & 7);
  }
  return id;
}

/** TxnIndex.staged (field 14): Staged.id (2) and Staged.records (4). */
function stagedListOf(w: Wire): { id: string; records: number }[] {
  const out: { id: string; records: number }[] = [];
  while (w.pos < w.end) {
    const tag = w.uint();
    if (tag !== 114) {
      w.skip(tag & 7);
      continue;
    }
    const n = w.len();
    const s = new Wire(w.buf, w.pos, w.pos + n);
    const one = { id: '', records: 0 };
    while (s.pos < s.end) {
      const t = s.uint();
      if (t === 18) one.id = s.str();
      else if (t === 32) one.records = s.uint();
      else s.skip(t & 7);
    }
    out.push(one);
    w.pos += n;
  }
  return out;
}

function changeView(buf: Buffer, start: number, end: number): RowRecordView {
  const v: RowRecordView = { buf, kind: 'change', database: '', table: '', columns: [], position: { fileSeq: 0, endPos: 0 }, snapshotId: '', stagedTxn: '', ops: [], ranges: [] };
  const w = new Wire(buf, start, end);
  while (w.pos < end) {
    const tag = w.uint();
    if (tag === 10) v.database = w.str();
    else if (tag === 18) v.table = w.str();
    else if (tag === 26) v.columns.push(w.str());
    else if (tag === 42) {
      const n = w.len();
      v.position = positionAt(w, w.pos + n);
    } else if (tag === 58) {
      const n = w.len();
      rowChange(v, buf, w.pos, w.pos + n);
      w.pos += n;
    } else if (tag === 66) v.stagedTxn = w.str();
    else w.skip(tag & 7);
  }
  return v;
}

function rowChange(v: RowRecordView, buf: Buffer, start: number, end: number): void {
  const w = new Wire(buf, start, end);
  let op = 0;
  let b0 = -1;
  let b1 = -1;
  let a0 = -1;
  let a1 = -1;
  while (w.pos < end) {
    const tag = w.uint();
    if (tag === 8) op = w.uint();
    else if (tag === 26) {
      const n = w.len();
      b0 = w.pos;
      b1 = w.pos += n;
    } else if (tag === 34) {
      const n = w.len();
      a0 = w.pos;
      a1 = w.pos += n;
    } else w.skip(tag & 7);
  }
  v.ops.push(op);
  v.ranges.push(b0, b1, a0, a1);
}

function snapshotRowsView(buf: Buffer, start: number, end: number): RowRecordView {
  const v: RowRecordView = { buf, kind: 'snapshotRows', database: '', table: '', columns: [], position: { fileSeq: 0, endPos: 0 }, snapshotId: '', stagedTxn: '', ops: [], ranges: [] };
  const w = new Wire(buf, start, end);
  while (w.pos < end) {
    const tag = w.uint();
    if (tag === 10) v.snapshotId = w.str();
    else if (tag === 18) v.database = w.str();
    else if (tag === 26) v.table = w.str();
    else if (tag === 34) v.columns.push(w.str());
    else if (tag === 42) {
      const n = w.len();
      v.ops.push(OP_INSERT);
      v.ranges.push(-1, -1, w.pos, w.pos + n);
      w.pos += n;
    } else if (tag === 50) {
      const n = w.len();
      v.position = positionAt(w, w.pos + n);
    } else w.skip(tag & 7);
  }
  return v;
}

/** Visits the values of the Row message buf[start, end) in order (CorruptLogError, no place, on bad data). */
export function visitImage(buf: Buffer, start: number, end: number, visit: ValueVisitor): void {
  const w = new Wire(buf, start, end);
  while (w.pos < end) {
    const tag = w.uint();
    if (tag !== 10) {
      w.skip(tag & 7);
      continue;
    }
    const vLen = w.len();
    const vEnd = w.pos + vLen;
    // A Value holds one field; should a writer ever repeat the oneof, the last one wins (protobuf rule).
    let kind = 0;
    let a = 0;
    let b = 0;
    let big: number | bigint = 0;
    while (w.pos < vEnd) {
      const t = w.uint();
      const field = t >>> 3;
      const wt = t & 7;
      const known = field >= ValueField.Null && field <= ValueField.Bit;
      if (known) kind = field;
      switch (known ? field : 0) {
        case ValueField.Null:
          w.uint();
          break;
        case ValueField.Int:
        case ValueField.Uint:
        case ValueField.Bit: {
          if (wt !== 0) throw new CorruptLogError(`value field ${field} with wire type ${wt}`);
          w.uint64(half);
          let lo = half[0]!;
          let hi = half[1]!;
          if (field === ValueField.Int) {
            // zigzag: (n >>> 1) ^ -(n & 1) over 64 bits
            const neg = lo & 1;
            lo = ((lo >>> 1) | (hi << 31)) >>> 0;
            hi = hi >>> 1;
            if (neg) {
              lo = ~lo >>> 0;
              hi = ~hi >>> 0;
            }
            if (hi < 0x200000 || hi >= 0xffe00000) {
              big = hi >= 0x80000000 ? -((~hi >>> 0) * TWO32 + (~lo >>> 0) + 1) : hi * TWO32 + lo;
            } else big = BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
          } else big = hi < 0x200000 ? hi * TWO32 + lo : (BigInt(hi) << 32n) | BigInt(lo);
          break;
        }
        case ValueField.Double:
          if (wt !== 1) throw new CorruptLogError('double with wrong wire type');
          big = buf.readDoubleLE(w.pos);
          w.pos += 8;
          break;
        case ValueField.Float:
          if (wt !== 5) throw new CorruptLogError('float with wrong wire type');
          big = buf.readFloatLE(w.pos);
          w.pos += 4;
          break;
        default:
          if (known && wt !== 2) throw new CorruptLogError(`value field ${field} with wire type ${wt}`);
          if (known) {
            const n = w.len();
            a = w.pos;
            b = w.pos += n;
          } else w.skip(wt);
      }
    }
    if (w.pos !== vEnd) throw new CorruptLogError('value overruns its length');
    if (kind === 0 || kind === ValueField.Null) visit.null();
    else if (kind === ValueField.Int || kind === ValueField.Uint || kind === ValueField.Bit) visit.integer(big);
    else if (kind === ValueField.Double) visit.double(big as number);
    else if (kind === ValueField.Float) visit.float(big as number);
    else visit.bytes(kind as ValueField, buf, a, b);
  }
}

/**
 * A SnapshotRows record whose rows are given as their Row encodings (copied byte for byte from other
 * records): what a checkpoint writes, so its rows hash exactly as the log's own images did.
 */
export function encodeRowsRecord(
  sourceId: string,
  body: { snapshotId: string; database: string; table: string; columns: string[]; rows: Uint8Array[]; position: Position },
): Buffer {
  positionType ??= type().root.lookupType('pitr.v1.Position');
  const w = protobuf.Writer.create();
  w.uint32(tagOf(RecordField.Version, WIRE_VARINT)).uint32(RECORD_VERSION);
  w.uint32(tagOf(RecordField.SourceId, WIRE_LEN)).string(sourceId);
  w.uint32(tagOf(RecordField.SnapshotRows, WIRE_LEN)).fork();
  w.uint32(10).string(body.snapshotId);
  w.uint32(18).string(body.database);
  w.uint32(26).string(body.table);
  for (const c of body.columns) w.uint32(34).string(c);
  for (const r of body.rows) w.uint32(42).bytes(r);
  w.uint32(50).bytes(positionType.encode(toPositionMsg(body.position) as unknown as protobuf.Message).finish());
  w.ldelim();
  const bytes = w.finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
