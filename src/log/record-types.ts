// TypeScript shapes of the protobuf records in proto/pitr/v1/log.proto (camelCase, as protobufjs
// reads and writes them). 64-bit fields accept number | string | Long on write and come back as Long.
import type Long from 'long';

export type Int64 = number | string | Long;

export interface PositionMsg {
  fileSeq: number;
  endPos: Int64;
  epoch?: number;
}

export interface GtidMsg {
  domain: number;
  serverId: number;
  seq: Int64;
}

/** Exactly one field set. */
export interface Value {
  null?: boolean;
  int?: Int64;
  uint?: Int64;
  double?: number;
  float?: number;
  decimal?: string;
  temporal?: string;
  text?: string;
  json?: string;
  bytes?: Uint8Array;
  bit?: Int64;
}

export interface RowMsg {
  values: Value[];
}

export enum Op {
  UNSPECIFIED = 0,
  INSERT = 1,
  UPDATE = 2,
  DELETE = 3,
}

export interface RowChangeMsg {
  op: Op;
  index: number;
  before?: RowMsg | null;
  after?: RowMsg | null;
  /** The source ran it with foreign_key_checks=0 (no referential actions); unset otherwise. */
  noFkChecks?: boolean;
}

export interface ChangeBatchMsg {
  database: string;
  table: string;
  columns: string[];
  gtid: GtidMsg;
  position: PositionMsg;
  commitTime: number;
  changes: RowChangeMsg[];
  /** Set on the chunks of a staged source transaction (see log.proto): position and commitTime are then unset. */
  stagedTxn?: string;
}

export interface DdlMsg {
  defaultDatabase: string;
  statement: string;
  gtid: GtidMsg;
  position: PositionMsg;
  commitTime: number;
  sqlMode?: Int64;
  charset?: string;
}

export interface TableDefMsg {
  database: string;
  table: string;
  createSql: string;
}

export interface SnapshotBeginMsg {
  snapshotId: string;
  position: PositionMsg;
  gtidPos: string;
  time: number;
  tables: TableDefMsg[];
  createDatabases: string[];
  binlogFile: string;
  sourceServer?: string;
  tableFilter?: string;
  partial?: boolean;
  objects?: SchemaObjectMsg[];
}

export interface SchemaObjectMsg {
  database: string;
  kind: string;
  name: string;
  createSql: string;
  sqlMode?: string;
  table?: string;
}

export interface SnapshotRowsMsg {
  snapshotId: string;
  database: string;
  table: string;
  columns: string[];
  rows: RowMsg[];
  position: PositionMsg;
}

export interface SnapshotEndMsg {
  snapshotId: string;
  position: PositionMsg;
  tables: { database: string; table: string; rows: Int64 }[];
  /** The snapshot rows' table index (captures that write the index). */
  spans?: RecordSpanMsg[];
  indexed?: boolean;
}

/** Offsets of one table's records on the changes topic (the table index, see log.proto). */
export interface RecordSpanMsg {
  key: string;
  partition: number;
  first: Int64;
  last: Int64;
  records?: number;
  bytes?: Int64;
}

export interface TxnIndexMsg {
  fileSeq: number[];
  endPos: Int64[];
  commitTime: number[];
  domain: number[];
  serverId: number[];
  seq: Int64[];
  binlogFile: string;
  resume: PositionMsg;
  gtidPos: string;
  time: number;
  epoch?: number;
  sourceServer?: string;
  tableFilter?: string;
  /** Commit markers of the staged transactions among those listed. */
  staged?: StagedTxnMsg[];
  /** The batch's table index, complete when `indexed`. */
  spans?: RecordSpanMsg[];
  indexed?: boolean;
  /** Meta images only: the transactions (indexes into the arrays) each span was written for. */
  spanFirstTxn?: number[];
  spanLastTxn?: number[];
}

export interface StagedTxnMsg {
  /** Index into the parallel arrays of its TxnIndex. */
  txn: number;
  id: string;
  rowChanges: Int64;
  records: number;
}

export interface GapMsg {
  after: PositionMsg;
  afterGtidPos: string;
  afterTime: number;
  sourceOldestGtidPos: string;
  detectedTime: number;
  reason: string;
}

/** Capture stopped capturing these tables after `after` (capture --narrow); see log.proto. */
export interface CoverageEndMsg {
  tables: { database: string; table: string }[];
  after: PositionMsg;
  afterGtidPos: string;
  afterTime: number;
  previousFilter: string;
  tableFilter: string;
}

export interface CheckpointBindingMsg {
  topic: string;
  partition: number;
  nextOffset: Int64;
  hasHead: boolean;
  headSeq?: Int64;
  headHash?: Uint8Array;
}

export type CheckpointBaseKind = 'snapshot' | 'checkpoint' | 'ddl';

export interface CheckpointTableMsg {
  database: string;
  table: string;
  rows: Int64;
  digest: Uint8Array;
  firstOffset: Int64;
  lastOffset: Int64;
  records: number;
  baseKind: CheckpointBaseKind | string;
  baseId: string;
  basePosition: PositionMsg;
  changes: Int64;
}

/** Closes a checkpoint on the checkpoints topic (see log.proto). */
export interface CheckpointManifestMsg {
  checkpointId: string;
  position: PositionMsg;
  commitTime: number;
  gtidPos: string;
  snapshotId: string;
  bindings: CheckpointBindingMsg[];
  tables: CheckpointTableMsg[];
  /** Per table some earlier manifest holds, the newest such manifest's offset (set when `hasDirectory`). */
  directory?: { database: string; table: string; offset: Int64 }[];
  hasDirectory?: boolean;
  /** The meta topic folded up to an offset (set when `hasMetaImage`). */
  metaImage?: MetaImageMsg | null;
  hasMetaImage?: boolean;
}

/** Where a checkpoint's meta image is and what it stands for (see log.proto). */
export interface MetaImageMsg {
  imageId: string;
  firstOffset: Int64;
  lastOffset: Int64;
  parts: number;
  digest: Uint8Array;
  records: number;
  metaRecords: Int64;
  metaNextOffset: Int64;
  hasHead: boolean;
  headSeq?: Int64;
  headHash?: Uint8Array;
  maxTxns: number;
}

export interface MetaImagePartMsg {
  imageId: string;
  part: number;
  records: Uint8Array[];
}

export interface RecordMsg {
  version: number;
  sourceId: string;
  change?: ChangeBatchMsg;
  ddl?: DdlMsg;
  snapshotBegin?: SnapshotBeginMsg;
  snapshotRows?: SnapshotRowsMsg;
  snapshotEnd?: SnapshotEndMsg;
  txnIndex?: TxnIndexMsg;
  gap?: GapMsg;
  coverageEnd?: CoverageEndMsg;
  checkpointManifest?: CheckpointManifestMsg;
  metaImagePart?: MetaImagePartMsg;
}

export const RECORD_VERSION = 1;
