import { describe, expect, it } from 'vitest';
import { afterBound, withinBound } from '../../../src/log/table-history-reader.js';
import { encodeRecord, recordBodyField as bodyField } from '../../../src/log/record-codec.js';
import { RECORD_VERSION } from '../../../src/log/record-types.js';

describe('table history reader helpers', () => {
  it('reads the record body kind from the wire without decoding it', () => {
    const rows = encodeRecord({ version: RECORD_VERSION, sourceId: 's', snapshotRows: { snapshotId: 'x', database: 'd', table: 't', columns: ['a'], rows: [{ values: [{ int: 1 }] }], position: { fileSeq: 1, endPos: 4 } } });
    const change = encodeRecord({ version: RECORD_VERSION, sourceId: 's', change: { database: 'd', table: 't', columns: ['a'], gtid: { domain: 0, serverId: 1, seq: 1 }, position: { fileSeq: 1, endPos: 9 }, commitTime: 1, changes: [] } });
    expect(bodyField(rows)).toBe(13);
    expect(bodyField(change)).toBe(10);
  });

  it('bounds are inclusive or exclusive as asked', () => {
    const at = { fileSeq: 2, endPos: 100 };
    expect(afterBound(at, { at, inclusive: false })).toBe(false);
    expect(afterBound(at, { at, inclusive: true })).toBe(true);
    expect(withinBound(at, { at, inclusive: false })).toBe(false);
    expect(withinBound({ fileSeq: 1, endPos: 900 }, { at, inclusive: false })).toBe(true);
  });
});
