// Tells which body a log record carries without decoding it, so guard can skip snapshot rows
// (their tables' counts come from SnapshotEnd) at the cost of reading a few bytes. Pure.
import protobuf from 'protobufjs';

/** Field number of the record's body (10 change ... 15 txn_index, see log.proto), or 0 if none. */
export function recordBodyField(buf: Uint8Array): number {
  const r = protobuf.Reader.create(buf);
  while (r.pos < r.len) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if (field >= 10 && field <= 15) return field;
    r.skipType(tag & 7);
  }
  return 0;
}

export const SNAPSHOT_ROWS_FIELD = 13;
