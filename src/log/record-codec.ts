// Encodes and decodes log records (protobuf, proto/pitr/v1/log.proto) and their Kafka keys. Pure:
// no Kafka here.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import protobuf from 'protobufjs';
import Long from 'long';
import { CorruptLogError } from '../core/errors.js';
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

export function decodeRecord(buf: Uint8Array, where: string, sourceId?: string): RecordMsg {
  let rec: RecordMsg;
  try {
    rec = type().decode(buf) as unknown as RecordMsg;
  } catch (err) {
    throw new CorruptLogError(`record at ${where} is not a pitr record: ${(err as Error).message}`, { position: where });
  }
  if (rec.version !== RECORD_VERSION) {
    throw new CorruptLogError(`record at ${where} has format version ${rec.version}; this pitr reads version ${RECORD_VERSION}`, { position: where });
  }
  if (sourceId !== undefined && rec.sourceId !== sourceId) {
    throw new CorruptLogError(`record at ${where} belongs to source "${rec.sourceId}", not "${sourceId}"`, { position: where });
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
  return BigInt(v.toString());
}

export function fromPositionMsg(p: PositionMsg | undefined | null): Position {
  return { fileSeq: p?.fileSeq ?? 0, endPos: toNumber(p?.endPos) };
}

export function toPositionMsg(p: Position): PositionMsg {
  return { fileSeq: p.fileSeq, endPos: p.endPos };
}
