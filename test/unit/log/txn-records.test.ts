import { describe, expect, it } from 'vitest';
import { CHUNK_BYTES, chunkBySize, rowSize, txnBatchMessages, type ResumePoint } from '../../../src/log/txn-records.js';
import { decodeRecord, fromPositionMsg, toBigInt, toNumber } from '../../../src/log/record-codec.js';
import { Op, type RowChangeMsg } from '../../../src/log/record-types.js';
import { logTopics } from '../../../src/log/topics.js';
import { partitionFor } from '../../../src/log/partitioner.js';
import type { SourceTxn, TableChanges } from '../../../src/capture/transaction-builder.js';
import { valueText } from '../../../src/replay/sql-values.js';

describe('chunkBySize', () => {
  const sizes = [30, 50, 10, 80, 5, 5, 5, 90, 20];

  it('keeps every chunk at or under the limit and keeps order', () => {
    const chunks = chunkBySize(sizes, (n) => n, 100);
    expect(chunks).toEqual([[30, 50, 10], [80, 5, 5, 5], [90], [20]]);
    for (const c of chunks) expect(c.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(100);
    expect(chunks.flat()).toEqual(sizes);
  });

  it('never yields empty chunks', () => {
    expect(chunkBySize([], (n: number) => n, 100)).toEqual([]);
    const chunks = chunkBySize([500, 1, 500], (n) => n, 100);
    expect(chunks).toEqual([[500], [1], [500]]);
    for (const c of chunks) expect(c.length).toBeGreaterThan(0);
  });

  it('fills a chunk exactly to the limit', () => {
    expect(chunkBySize([50, 50, 1], (n) => n, 100)).toEqual([[50, 50], [1]]);
  });

  it('uses CHUNK_BYTES by default', () => {
    const half = CHUNK_BYTES / 2;
    expect(chunkBySize([half, half, 1], (n) => n)).toEqual([[half, half], [1]]);
  });
});

describe('rowSize', () => {
  it('estimates a row from its values', () => {
    expect(rowSize(undefined)).toBe(0);
    expect(rowSize([])).toBe(4);
    expect(rowSize([{ text: 'abc' }, { int: 1 }, { bytes: new Uint8Array(10) }])).toBe(4 + (6 + 4) + 10 + (10 + 4));
  });
});

function change(index: number, text: string): RowChangeMsg {
  return { op: Op.INSERT, index, after: { values: [{ int: index }, { text }] } };
}

function txn(seq: bigint, fileSeq: number, endPos: number, commitTime: number, tables: TableChanges[], ddl: SourceTxn['ddl'] = []): SourceTxn {
  return {
    gtid: { domain: 0, serverId: 1, seq },
    position: { fileSeq, endPos },
    binlogFile: `mariadb-bin.${String(fileSeq).padStart(6, '0')}`,
    commitTime,
    tables: new Map(tables.map((t) => [`${t.database}.${t.table}`, t])),
    ddl,
    rowCount: tables.reduce((n, t) => n + t.changes.length, 0),
  };
}

describe('txnBatchMessages', () => {
  const topics = logTopics('src1');
  const ctx = { sourceId: 'src1', topics, partitions: 6 };
  const resume: ResumePoint = {
    binlogFile: 'mariadb-bin.000002',
    position: { fileSeq: 2, endPos: 9000 },
    gtidPos: '0-1-12',
    time: 1582484200,
  };
  const bigText = 'x'.repeat(200 * 1024); // ~400 KiB estimated per change: forces chunking
  const txns = [
    txn(10n, 1, 1000, 1582484161, [
      { database: 'shop', table: 'orders', columns: ['id', 'note'], changes: [change(0, 'a'), change(2, 'c')] },
      { database: 'shop', table: 'items', columns: ['id', 'note'], changes: [change(1, 'b')] },
    ]),
    txn(11n, 1, 2000, 1582484160, [], [{ statement: 'ALTER TABLE orders ADD x INT', defaultDatabase: 'shop' }]),
    txn(12n, 2, 300, 1582484170, [
      { database: 'shop', table: 'orders', columns: ['id', 'note'], changes: [change(0, bigText), change(1, bigText), change(2, 'z')] },
    ]),
    txn(18446744073709551615n, 2, 400, 1582484171, []), // all rows filtered: still indexed
  ];
  const out = txnBatchMessages(ctx, txns, resume);

  it('puts ChangeBatch records on the changes topic keyed db.table with the partition from partitionFor', () => {
    const changes = out.filter((m) => m.topic === topics.changes);
    expect(changes.map((m) => m.key)).toEqual(['shop.orders', 'shop.items', 'shop.orders', 'shop.orders']);
    for (const m of changes) {
      expect(m.partition).toBe(partitionFor(m.key, 6));
      const rec = decodeRecord(m.value, 'w', 'src1');
      expect(rec.change).toBeDefined();
      expect(`${rec.change!.database}.${rec.change!.table}`).toBe(m.key);
    }
  });

  it('keeps gtid, position, commit time and row indexes on every ChangeBatch', () => {
    const recs = out.filter((m) => m.topic === topics.changes).map((m) => decodeRecord(m.value, 'w').change!);
    expect(recs.map((r) => toBigInt(r.gtid.seq))).toEqual([10n, 10n, 12n, 12n]);
    expect(recs.map((r) => fromPositionMsg(r.position))).toEqual([
      { fileSeq: 1, endPos: 1000 },
      { fileSeq: 1, endPos: 1000 },
      { fileSeq: 2, endPos: 300 },
      { fileSeq: 2, endPos: 300 },
    ]);
    expect(recs.map((r) => r.commitTime)).toEqual([1582484161, 1582484161, 1582484170, 1582484170]);
    expect(recs.map((r) => r.changes.map((c) => c.index))).toEqual([[0, 2], [1], [0], [1, 2]]);
    expect(recs[0]!.columns).toEqual(['id', 'note']);
    expect(valueText(recs[0]!.changes[1]!.after!.values[1]!)).toBe('c');
    expect(valueText(recs[3]!.changes[1]!.after!.values[1]!)).toBe('z');
  });

  it('splits a big table change set into records under the chunk size', () => {
    const big = out.filter((m) => m.topic === topics.changes).slice(2);
    expect(big.length).toBe(2);
    for (const m of big) expect(m.value.length).toBeLessThan(CHUNK_BYTES);
  });

  it('puts Ddl records and one final TxnIndex on meta partition 0', () => {
    const meta = out.filter((m) => m.topic === topics.meta);
    expect(meta.length).toBe(2);
    for (const m of meta) {
      expect(m.partition).toBe(0);
      expect(m.key).toBe('meta');
    }
    expect(out[out.length - 1]).toBe(meta[1]);
    const ddl = decodeRecord(meta[0]!.value, 'w', 'src1').ddl!;
    expect(ddl.statement).toBe('ALTER TABLE orders ADD x INT');
    expect(ddl.defaultDatabase).toBe('shop');
    expect(toBigInt(ddl.gtid.seq)).toBe(11n);
    expect(fromPositionMsg(ddl.position)).toEqual({ fileSeq: 1, endPos: 2000 });
    expect(ddl.commitTime).toBe(1582484160);
  });

  it('writes records in commit order: txn 10 changes, txn 11 ddl, txn 12 changes, index', () => {
    const kinds = out.map((m) => {
      const r = decodeRecord(m.value, 'w');
      return r.change ? `change:${toBigInt(r.change.gtid.seq)}` : r.ddl ? `ddl:${toBigInt(r.ddl.gtid.seq)}` : 'index';
    });
    expect(kinds).toEqual(['change:10', 'change:10', 'ddl:11', 'change:12', 'change:12', 'index']);
  });

  it('writes a TxnIndex whose arrays match the transactions', () => {
    const t = decodeRecord(out[out.length - 1]!.value, 'w', 'src1').txnIndex!;
    expect(t.fileSeq).toEqual([1, 1, 2, 2]);
    expect(t.endPos.map(toNumber)).toEqual([1000, 2000, 300, 400]);
    expect(t.commitTime).toEqual([1582484161, 1582484160, 1582484170, 1582484171]);
    expect(t.domain).toEqual([0, 0, 0, 0]);
    expect(t.serverId).toEqual([1, 1, 1, 1]);
    expect(t.seq.map(toBigInt)).toEqual([10n, 11n, 12n, 18446744073709551615n]);
    expect(t.binlogFile).toBe('mariadb-bin.000002');
    expect(fromPositionMsg(t.resume)).toEqual({ fileSeq: 2, endPos: 9000 });
    expect(t.gtidPos).toBe('0-1-12');
    expect(t.time).toBe(1582484200);
  });

  it('writes only a TxnIndex heartbeat for no transactions', () => {
    const hb = txnBatchMessages(ctx, [], resume);
    expect(hb.length).toBe(1);
    expect(hb[0]!.topic).toBe(topics.meta);
    const t = decodeRecord(hb[0]!.value, 'w', 'src1').txnIndex!;
    expect(t.fileSeq).toEqual([]);
    expect(t.time).toBe(1582484200);
  });
});
