// The table index's pure parts: spans collected from appends, ranges to read, and the spans a restore
// plan needs (with the fallback to whole partitions when part of the log is unindexed).
import { describe, expect, it } from 'vitest';
import { averageRecordBytes, MERGE_GAP_BYTES, rangeSize, readRanges, SpanSet } from '../../../src/log/table-index.js';
import type { OutMessage } from '../../../src/log/kafka-log.js';
import { MetaState } from '../../../src/log/meta-state.js';
import { indexedSpans } from '../../../src/replay/restore-plan.js';
import { BASE, snapshotBegin, snapshotEnd, txnIndex } from './meta-fixtures.js';
import type { RecordMsg, RecordSpanMsg } from '../../../src/log/record-types.js';

const msg = (key: string, partition: number, bytes = 10, topic = 'c'): OutMessage => ({ topic, partition, key, value: Buffer.alloc(bytes) });

describe('SpanSet', () => {
  it('collects first..last offset, records and bytes per key and partition, ignoring other topics', () => {
    const s = new SpanSet().addAppended(
      [msg('a', 0), msg('b', 1, 5), msg('a', 0, 20), msg('m', 0, 1, 'meta'), msg('a', 0)],
      [7n, 3n, 9n, 100n, 12n],
      'c',
    );
    expect(s.toMessages()).toEqual([
      { key: 'a', partition: 0, first: '7', last: '12', records: 3, bytes: 40 },
      { key: 'b', partition: 1, first: '3', last: '3', records: 1, bytes: 5 },
    ]);
  });

  it('merges a staged transaction’s earlier chunks and keeps the widest span', () => {
    const early = new SpanSet().addAppended([msg('a', 0), msg('a', 0)], [2n, 4n], 'c');
    const s = new SpanSet().addAppended([msg('a', 0)], [30n], 'c').addAll(early);
    expect(s.toMessages()).toEqual([{ key: 'a', partition: 0, first: '2', last: '30', records: 3, bytes: 30 }]);
  });

  it('is incomplete (no index written) once an append reported no offset', () => {
    const s = new SpanSet().addAppended([msg('a', 0), msg('a', 0)], [1n], 'c');
    expect(s.complete).toBe(false);
    expect(s.toMessages()).toBeUndefined();
    expect(new SpanSet().addAll(s).toMessages()).toBeUndefined();
  });
});

describe('readRanges', () => {
  const sp = (partition: number, first: number, last: number) => ({ partition, first: BigInt(first), last: BigInt(last) });

  it('sorts and merges overlapping and adjacent spans per partition', () => {
    const r = readRanges([sp(0, 10, 20), sp(0, 0, 5), sp(0, 15, 30), sp(0, 31, 31), sp(1, 4, 4), sp(0, 40, 41)]);
    expect(r.get(0)).toEqual([{ first: 0n, last: 5n }, { first: 10n, last: 31n }, { first: 40n, last: 41n }]);
    expect(r.get(1)).toEqual([{ first: 4n, last: 4n }]);
    expect(rangeSize(r.get(0)!)).toBe(6 + 22 + 2);
  });

  it('starts at a checkpoint’s offset and drops spans wholly before it', () => {
    const r = readRanges([sp(0, 0, 5), sp(0, 8, 20), sp(1, 1, 2)], new Map([[0, 10n], [1, 0n]]));
    expect(r.get(0)).toEqual([{ first: 10n, last: 20n }]);
    expect(r.get(1)).toEqual([{ first: 1n, last: 2n }]);
  });

  it('reads across gaps lighter than MERGE_GAP_BYTES instead of seeking', () => {
    const avg = new Map([[0, MERGE_GAP_BYTES / 100]]); // 100 records weigh the threshold
    const r = readRanges([sp(0, 0, 0), sp(0, 100, 100), sp(0, 300, 300)], undefined, avg);
    expect(r.get(0)).toEqual([{ first: 0n, last: 100n }, { first: 300n, last: 300n }]);
  });

  it('averages record size per partition over the spans that carry counts', () => {
    const a = averageRecordBytes([{ partition: 0, records: 2, bytes: 100 }, { partition: 0, records: 3, bytes: 400 }, { partition: 1, records: 0, bytes: 9 }]);
    expect(a).toEqual(new Map([[0, 100]]));
  });
});

describe('indexedSpans', () => {
  const span = (key: string, partition: number, first: number, last: number): RecordSpanMsg => ({ key, partition, first: String(first), last: String(last), records: last - first + 1, bytes: 10 });
  const indexed = (rec: RecordMsg, spans: RecordSpanMsg[]): RecordMsg => {
    if (rec.txnIndex) rec.txnIndex = { ...rec.txnIndex, spans, indexed: true };
    if (rec.snapshotEnd) rec.snapshotEnd = { ...rec.snapshotEnd, spans, indexed: true };
    return rec;
  };
  const cut = (file: number, pos: number) => ({ at: { fileSeq: file, endPos: pos }, inclusive: true, label: 'test' });

  function meta(indexAll: boolean): MetaState {
    const m = new MetaState();
    m.add(snapshotBegin('s1', 1, 100, BASE));
    m.add(indexed(snapshotEnd('s1', 1, 100), [span('shop.orders', 0, 0, 9), span('shop.other', 0, 10, 19)]));
    m.add(indexed(txnIndex([{ file: 1, pos: 200, time: BASE + 1, seq: 1 }], { file: 1, pos: 200, time: BASE + 1 }), [span('shop.orders', 0, 20, 21), span('shop.other', 1, 0, 5)]));
    const second = txnIndex([{ file: 1, pos: 300, time: BASE + 2, seq: 2 }], { file: 1, pos: 300, time: BASE + 2 });
    m.add(indexAll ? indexed(second, [span('shop.orders', 0, 30, 30)]) : second);
    m.add(indexed(txnIndex([{ file: 1, pos: 400, time: BASE + 3, seq: 3 }], { file: 1, pos: 400, time: BASE + 3 }), [span('shop.orders', 0, 40, 40)]));
    return m;
  }
  const plan = (m: MetaState, c: ReturnType<typeof cut>) => ({ snapshot: m.snapshots[0]!, partialSegment: new Map(), cut: c }) as unknown as Parameters<typeof indexedSpans>[1];

  it('lists the snapshot rows and the changes within the cut of the wanted keys only', () => {
    const m = meta(true);
    const got = indexedSpans(m, plan(m, cut(1, 300)), (k) => k === 'shop.orders')!;
    expect(got.map((s) => [s.partition, Number(s.first), Number(s.last)])).toEqual([[0, 0, 9], [0, 20, 21], [0, 30, 30]]);
  });

  it('falls back (undefined) when a transaction the restore needs was captured without the index', () => {
    const m = meta(false);
    expect(indexedSpans(m, plan(m, cut(1, 300)), (k) => k === 'shop.orders')).toBeUndefined();
    // A cut before the unindexed transaction still uses the index.
    expect(indexedSpans(m, plan(m, cut(1, 200)), (k) => k === 'shop.orders')).toHaveLength(2);
  });

  it('falls back when the snapshot carries no index', () => {
    const m = new MetaState();
    m.add(snapshotBegin('s1', 1, 100, BASE));
    m.add(snapshotEnd('s1', 1, 100));
    expect(indexedSpans(m, plan(m, cut(1, 100)), () => true)).toBeUndefined();
  });
});
