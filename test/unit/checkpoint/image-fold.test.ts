import { describe, expect, it } from 'vitest';
import { ImageFold, RowDigest, digestViews } from '../../../src/checkpoint/image-fold.js';
import { encodeRecord, encodeRowsRecord, viewRowRecord } from '../../../src/log/record-codec.js';
import { Op, RECORD_VERSION, type Value } from '../../../src/log/record-types.js';

const cols = ['id', 'v'];
const row = (id: number, v: string): Value[] => [{ int: id }, { text: v }];
const snap = (rows: Value[][]) =>
  viewRowRecord(encodeRecord({ version: RECORD_VERSION, sourceId: 's', snapshotRows: { snapshotId: 'x', database: 'd', table: 't', columns: cols, rows: rows.map((values) => ({ values })), position: { fileSeq: 1, endPos: 4 } } }), 'test')!;
const change = (changes: { op: Op; before?: Value[]; after?: Value[] }[]) =>
  viewRowRecord(
    encodeRecord({
      version: RECORD_VERSION,
      sourceId: 's',
      change: {
        database: 'd', table: 't', columns: cols, gtid: { domain: 0, serverId: 1, seq: 1 }, position: { fileSeq: 1, endPos: 9 }, commitTime: 0,
        changes: changes.map((c, index) => ({ op: c.op, index, before: c.before ? { values: c.before } : null, after: c.after ? { values: c.after } : null })),
      },
    }),
    'test',
  )!;

describe('ImageFold', () => {
  it('folds keyed rows by key and its digest equals the digest of the written checkpoint rows', () => {
    const f = new ImageFold(['id']);
    f.apply(snap([row(1, 'a'), row(2, 'b'), row(3, 'c')]));
    f.apply(change([{ op: Op.UPDATE, before: row(2, 'b'), after: row(2, 'z') }, { op: Op.DELETE, before: row(3, 'c') }, { op: Op.INSERT, after: row(4, 'd') }]));
    expect(f.changes).toBe(3);
    const s = f.summary();
    expect(s.rows).toBe(3);
    const [g] = f.groups();
    const written = viewRowRecord(encodeRowsRecord('s', { snapshotId: 'c', database: 'd', table: 't', columns: g!.columns, rows: g!.rows, position: { fileSeq: 1, endPos: 9 } }), 'test')!;
    expect(digestViews([written])).toEqual(s);
    // Same rows from scratch, another order: same digest.
    expect(digestViews([snap([row(4, 'd'), row(1, 'a'), row(2, 'z')])])).toEqual(s);
  });
  it('keeps duplicates of keyless rows, and they count in the digest', () => {
    const f = new ImageFold(null);
    f.apply(snap([row(1, 'x'), row(1, 'x'), row(2, 'y')]));
    f.apply(change([{ op: Op.DELETE, before: row(1, 'x') }]));
    expect(f.summary().rows).toBe(2);
    expect(f.summary()).toEqual(digestViews([snap([row(2, 'y'), row(1, 'x')])]));
    expect(f.summary()).not.toEqual(digestViews([snap([row(2, 'y')])]));
  });
  it('adds digests mod 2^256', () => {
    const a = new RowDigest();
    a.add(Buffer.from('p'));
    a.add(Buffer.from('q'));
    const b = new RowDigest();
    b.add(Buffer.from('q'));
    b.add(Buffer.from('p'));
    expect(a.digest()).toEqual(b.digest());
    expect(a.count).toBe(2);
  });
});
