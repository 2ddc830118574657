import { describe, expect, it } from 'vitest';
import { MetaState } from '../../../src/log/meta-state.js';
import { decodeRecord, encodeRecord } from '../../../src/log/record-codec.js';
import { BASE, ddl, snapshotBegin, snapshotEnd, txnIndex } from './meta-fixtures.js';

function build(): MetaState {
  const m = new MetaState();
  m.add(snapshotBegin('s1', 1, 500, BASE));
  m.add(snapshotEnd('s1', 1, 500));
  m.add(txnIndex([
    { file: 1, pos: 600, time: BASE + 5, seq: 2 },
    { file: 1, pos: 700, time: BASE + 10, seq: 3 },
  ], { file: 1, pos: 700, time: BASE + 11 }));
  m.add(ddl('ALTER TABLE orders ADD x INT', 1, 800, BASE + 20, 4));
  m.add(txnIndex([
    { file: 1, pos: 800, time: BASE + 20, seq: 4 },
    { file: 2, pos: 100, time: BASE + 15, seq: 5 },
  ], { file: 2, pos: 150, time: BASE + 25 }));
  return m;
}

describe('MetaState', () => {
  it('collects the transaction index in commit order', () => {
    const m = build();
    expect(m.txnCount).toBe(4);
    expect(m.txnFile).toEqual([1, 1, 1, 2]);
    expect(m.txnPos).toEqual([600, 700, 800, 100]);
    expect(m.txnTime).toEqual([BASE + 5, BASE + 10, BASE + 20, BASE + 15]);
    expect(m.txnSeq).toEqual([2n, 3n, 4n, 5n]);
    expect(m.txnPosition(3)).toEqual({ fileSeq: 2, endPos: 100 });
    expect(m.records).toBe(5);
  });

  it('tracks the resume point and coverage end', () => {
    const m = build();
    expect(m.resume).toEqual({ binlogFile: 'mariadb-bin.000002', position: { fileSeq: 2, endPos: 150 }, gtidPos: '0-1-5', time: BASE + 25, sourceServer: '', tableFilter: '' });
    expect(m.coveredUntil).toBe(BASE + 25);
    expect(m.endPosition()).toEqual({ fileSeq: 2, endPos: 150 });
  });

  it('coverage end is the largest commit time even when the batch time is older', () => {
    const m = new MetaState();
    m.add(snapshotBegin('s1', 1, 1, BASE));
    m.add(txnIndex([{ file: 1, pos: 5, time: BASE + 50, seq: 1 }], { file: 1, pos: 5, time: BASE + 40 }));
    expect(m.coveredUntil).toBe(BASE + 50);
  });

  it('before any TxnIndex, coverage ends at the snapshot', () => {
    const m = new MetaState();
    m.add(snapshotBegin('s1', 3, 42, BASE));
    expect(m.endPosition()).toBeUndefined();
    expect(m.completeSnapshots()).toEqual([]);
    m.add(snapshotEnd('s1', 3, 42));
    expect(m.coveredUntil).toBe(BASE);
    expect(m.endPosition()).toEqual({ fileSeq: 3, endPos: 42 });
    expect(m.isCompleteSnapshot('s1')).toBe(true);
    expect(m.isCompleteSnapshot('s2')).toBe(false);
  });

  it('an incomplete snapshot is not complete', () => {
    const m = build();
    m.add(snapshotBegin('s2', 2, 120, BASE + 22));
    expect(m.completeSnapshots().map((s) => s.id)).toEqual(['s1']);
    expect(m.isCompleteSnapshot('s2')).toBe(false);
    expect(m.snapshots.map((s) => s.position)).toEqual([{ fileSeq: 1, endPos: 500 }, { fileSeq: 2, endPos: 120 }]);
  });

  it('finds transactions by GTID, all three parts', () => {
    const m = build();
    expect(m.findGtid({ domain: 0, serverId: 1, seq: 4n })).toBe(2);
    expect(m.findGtid({ domain: 0, serverId: 2, seq: 4n })).toBe(-1);
    expect(m.findGtid({ domain: 1, serverId: 1, seq: 4n })).toBe(-1);
    expect(m.findGtid({ domain: 0, serverId: 1, seq: 99n })).toBe(-1);
  });

  it('keeps u64 sequence numbers exact through encode/decode', () => {
    const m = new MetaState();
    const rec = txnIndex([{ file: 1, pos: 9, time: BASE, seq: '18446744073709551615' }], { file: 1, pos: 9, time: BASE });
    m.add(decodeRecord(encodeRecord(rec), 'w'));
    expect(m.txnSeq).toEqual([18446744073709551615n]);
    expect(m.txnPos).toEqual([9]);
    expect(m.findGtid({ domain: 0, serverId: 1, seq: 18446744073709551615n })).toBe(0);
    expect(m.resume!.position).toEqual({ fileSeq: 1, endPos: 9 });
  });

  it('ddlBetween is (after, upTo] or (after, upTo)', () => {
    const m = build();
    expect(m.ddlBetween({ fileSeq: 1, endPos: 500 }, { fileSeq: 1, endPos: 800 }).map((d) => d.ddl.statement)).toEqual([
      'ALTER TABLE orders ADD x INT',
    ]);
    expect(m.ddlBetween({ fileSeq: 1, endPos: 500 }, { fileSeq: 1, endPos: 800 }, false)).toEqual([]);
    expect(m.ddlBetween({ fileSeq: 1, endPos: 800 }, { fileSeq: 9, endPos: 0 })).toEqual([]);
    expect(m.ddl[0]!.position).toEqual({ fileSeq: 1, endPos: 800 });
  });
});
