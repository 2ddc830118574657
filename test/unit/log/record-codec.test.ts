import { describe, expect, it } from 'vitest';
import {
  decodeRecord,
  encodeRecord,
  peekRecord,
  RecordField,
  fromPositionMsg,
  tableKey,
  toBigInt,
  toNumber,
  toPositionMsg,
  viewRowRecord,
  visitImage,
} from '../../../src/log/record-codec.js';
import { Op, RECORD_VERSION, type RecordMsg, type Value } from '../../../src/log/record-types.js';
import { CorruptLogError } from '../../../src/core/errors.js';
import { valueKind, valueText } from '../../../src/replay/sql-values.js';

const VALUES: Value[] = [
  { int: '-9223372036854775808' },
  { uint: '18446744073709551615' },
  { double: 0.1 },
  { float: Math.fround(1.1) },
  { decimal: '-12345.123456789012345678901234567890' },
  { temporal: '2020-02-23 18:56:01.123456' },
  { text: 'naïve 😀 utf8mb4' },
  { json: '{"a": [1, 2.50, "x"]}' },
  { bytes: new Uint8Array([0, 1, 0, 255, 0]) },
  { bit: '5' },
  { null: true },
];
const COLUMNS = ['i', 'u', 'd', 'f', 'dec', 'ts', 't', 'j', 'b', 'bit', 'n'];

function changeRecord(): RecordMsg {
  return {
    version: RECORD_VERSION,
    sourceId: 'src1',
    change: {
      database: 'shop',
      table: 'orders',
      columns: COLUMNS,
      gtid: { domain: 0, serverId: 1, seq: '18446744073709551615' },
      position: { fileSeq: 7, endPos: 123456 },
      commitTime: 1582484161,
      changes: [
        { op: Op.INSERT, index: 0, after: { values: VALUES } },
        { op: Op.DELETE, index: 1, before: { values: VALUES } },
        { op: Op.UPDATE, index: 2, before: { values: VALUES }, after: { values: [...VALUES].reverse() } },
      ],
    },
  };
}

function expectSameValues(actual: Value[], expected: Value[]): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(valueKind(actual[i]!), `kind of value ${i}`).toBe(valueKind(expected[i]!));
    const a = valueText(actual[i]!);
    const e = valueText(expected[i]!);
    if (e instanceof Uint8Array) expect(Buffer.from(a as Uint8Array).equals(Buffer.from(e)), `bytes of value ${i}`).toBe(true);
    else expect(a, `text of value ${i}`).toBe(e);
  }
}

describe('encodeRecord / decodeRecord', () => {
  it('round trips a ChangeBatch with every Value kind exactly', () => {
    const buf = encodeRecord(changeRecord());
    expect(Buffer.isBuffer(buf)).toBe(true);
    const rec = decodeRecord(buf, 'test/0@0', 'src1');
    expect(rec.version).toBe(RECORD_VERSION);
    expect(rec.sourceId).toBe('src1');
    const c = rec.change!;
    expect(c.database).toBe('shop');
    expect(c.table).toBe('orders');
    expect(c.columns).toEqual(COLUMNS);
    expect(c.gtid.domain).toBe(0);
    expect(c.gtid.serverId).toBe(1);
    expect(toBigInt(c.gtid.seq)).toBe(18446744073709551615n);
    expect(fromPositionMsg(c.position)).toEqual({ fileSeq: 7, endPos: 123456 });
    expect(c.commitTime).toBe(1582484161);
    expect(c.changes.map((x) => [x.op, x.index])).toEqual([
      [Op.INSERT, 0],
      [Op.DELETE, 1],
      [Op.UPDATE, 2],
    ]);
    expectSameValues(c.changes[0]!.after!.values, VALUES);
    expectSameValues(c.changes[1]!.before!.values, VALUES);
    expectSameValues(c.changes[2]!.before!.values, VALUES);
    expectSameValues(c.changes[2]!.after!.values, [...VALUES].reverse());
  });

  it('keeps 64-bit extremes, doubles and floats exact', () => {
    const vals = decodeRecord(encodeRecord(changeRecord()), 'w').change!.changes[0]!.after!.values;
    expect(valueText(vals[0]!)).toBe('-9223372036854775808');
    expect(valueText(vals[1]!)).toBe('18446744073709551615');
    expect(vals[2]!.double).toBe(0.1);
    expect(vals[3]!.float).toBe(Math.fround(1.1));
    expect(valueText(vals[3]!)).toBe('1.1');
    expect(valueText(vals[4]!)).toBe('-12345.123456789012345678901234567890');
    expect(valueText(vals[6]!)).toBe('naïve 😀 utf8mb4');
    expect(Array.from(vals[8]!.bytes!)).toEqual([0, 1, 0, 255, 0]);
    expect(valueText(vals[9]!)).toBe('5');
    expect(valueKind(vals[10]!)).toBe('null');
    expect(valueText(vals[10]!)).toBeNull();
  });

  it('round trips a TxnIndex with parallel arrays', () => {
    const buf = encodeRecord({
      version: RECORD_VERSION,
      sourceId: 's',
      txnIndex: {
        fileSeq: [1, 2],
        endPos: [100, 4294967296 * 3],
        commitTime: [10, 9],
        domain: [0, 1],
        serverId: [1, 2],
        seq: ['5', '18446744073709551615'],
        binlogFile: 'mariadb-bin.000002',
        resume: { fileSeq: 2, endPos: 500 },
        gtidPos: '0-1-5,1-2-18446744073709551615',
        time: 12,
      },
    });
    const t = decodeRecord(buf, 'w', 's').txnIndex!;
    expect(t.fileSeq).toEqual([1, 2]);
    expect(t.endPos.map(toNumber)).toEqual([100, 4294967296 * 3]);
    expect(t.commitTime).toEqual([10, 9]);
    expect(t.domain).toEqual([0, 1]);
    expect(t.serverId).toEqual([1, 2]);
    expect(t.seq.map(toBigInt)).toEqual([5n, 18446744073709551615n]);
    expect(t.binlogFile).toBe('mariadb-bin.000002');
    expect(fromPositionMsg(t.resume)).toEqual({ fileSeq: 2, endPos: 500 });
    expect(t.gtidPos).toBe('0-1-5,1-2-18446744073709551615');
    expect(t.time).toBe(12);
  });

  it('throws CorruptLogError on garbage bytes, naming the place', () => {
    const garbage = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    expect(() => decodeRecord(garbage, 'pitr.s.changes/3@17')).toThrow(CorruptLogError);
    try {
      decodeRecord(garbage, 'pitr.s.changes/3@17');
    } catch (err) {
      expect((err as CorruptLogError).position).toBe('pitr.s.changes/3@17');
      expect((err as Error).message).toContain('pitr.s.changes/3@17');
    }
  });

  it('gives a record read from Kafka its topic, partition and offset as fields', () => {
    const place = { topic: 'pitr.s.changes', partition: 3, offset: 17n };
    const caught = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return err as CorruptLogError;
      }
      throw new Error('did not throw');
    };
    for (const err of [
      caught(() => decodeRecord(Buffer.from([0xff, 0xff, 0xff]), place)),
      caught(() => decodeRecord(encodeRecord(changeRecord()), place, 'other')),
      caught(() => viewRowRecord(Buffer.from([0x0a, 0xff]), place, 's')),
    ]) {
      expect(err).toBeInstanceOf(CorruptLogError);
      expect([err.topic, err.partition, err.offset]).toEqual(['pitr.s.changes', 3, 17n]);
      expect(err.place).toEqual(place);
      expect(err.position).toBe('pitr.s.changes/3@17');
      expect(err.message).toContain('record at pitr.s.changes/3@17 ');
    }
    const named = caught(() => decodeRecord(Buffer.from([0xff]), 'a spool'));
    expect([named.topic, named.partition, named.offset, named.position]).toEqual([undefined, undefined, undefined, 'a spool']);
  });

  it('throws CorruptLogError from the wire reader on a malformed row image', () => {
    // A Row whose only Value claims 5 bytes that are not there.
    expect(() => visitImage(Buffer.from([0x0a, 0x05, 0x10]), 0, 3, { null() {}, integer() {}, double() {}, float() {}, bytes() {} })).toThrow(CorruptLogError);
  });

  it('throws CorruptLogError on text that is not a record', () => {
    expect(() => decodeRecord(Buffer.from('hello, world'), 'w')).toThrow(CorruptLogError);
  });

  it('throws CorruptLogError on an empty value (version 0)', () => {
    expect(() => decodeRecord(new Uint8Array(0), 'w')).toThrow(/format version 0/);
  });

  it('throws CorruptLogError on an unknown version', () => {
    const buf = encodeRecord({ ...changeRecord(), version: 2 });
    expect(() => decodeRecord(buf, 'w')).toThrow(CorruptLogError);
    expect(() => decodeRecord(buf, 'w')).toThrow(/version 2/);
  });

  it('throws CorruptLogError on a record of a foreign source', () => {
    const buf = encodeRecord(changeRecord());
    expect(() => decodeRecord(buf, 'w', 'other')).toThrow(CorruptLogError);
    expect(() => decodeRecord(buf, 'w', 'other')).toThrow('belongs to source "src1", not "other"');
    expect(decodeRecord(buf, 'w').sourceId).toBe('src1');
  });
});

describe('helpers', () => {
  it('tableKey is db.table', () => {
    expect(tableKey('shop', 'orders')).toBe('shop.orders');
  });

  it('toNumber / toBigInt accept every Int64 form', () => {
    expect(toNumber(undefined)).toBe(0);
    expect(toNumber('42')).toBe(42);
    expect(toNumber(7)).toBe(7);
    expect(toBigInt(null)).toBe(0n);
    expect(toBigInt('18446744073709551615')).toBe(18446744073709551615n);
    expect(toBigInt(9)).toBe(9n);
  });

  it('position messages round trip', () => {
    expect(fromPositionMsg(toPositionMsg({ fileSeq: 3, endPos: 99 }))).toEqual({ fileSeq: 3, endPos: 99 });
    expect(fromPositionMsg(undefined)).toEqual({ fileSeq: 0, endPos: 0 });
  });
});

describe('peekRecord (what verify reads of every record)', () => {
  it('tells the body and the staged ids as decodeRecord would, without decoding rows', () => {
    const plain = changeRecord();
    expect(peekRecord(encodeRecord(plain), 'x', 'src1')).toEqual({ body: RecordField.Change, stagedTxn: '', staged: [] });
    const staged = changeRecord();
    staged.change!.stagedTxn = 'st-1';
    expect(peekRecord(encodeRecord(staged), 'x', 'src1').stagedTxn).toBe('st-1');
    const index: RecordMsg = {
      version: RECORD_VERSION,
      sourceId: 'src1',
      txnIndex: { fileSeq: [1], endPos: [10], commitTime: [5], domain: [0], serverId: [1], seq: [3], staged: [{ txn: 0, id: 'st-1', rowChanges: 9, records: 4 }, { txn: 0, id: 'st-2', rowChanges: 1, records: 1 }] },
    } as unknown as RecordMsg;
    const p = peekRecord(encodeRecord(index), 'x', 'src1');
    expect(p.body).toBe(RecordField.TxnIndex);
    expect(p.staged).toEqual(decodeRecord(encodeRecord(index), 'x').txnIndex!.staged!.map((s) => ({ id: s.id, records: s.records })));
    const manifest = { version: RECORD_VERSION, sourceId: 'src1', checkpointManifest: { checkpointId: 'c1' } } as unknown as RecordMsg;
    expect(peekRecord(encodeRecord(manifest), 'x').body).toBe(RecordField.CheckpointManifest);
  });

  it('refuses what decodeRecord refuses: another source, another version, broken wire format', () => {
    const buf = encodeRecord(changeRecord());
    expect(() => peekRecord(buf, 't/0@1', 'other')).toThrow(CorruptLogError);
    expect(() => peekRecord(buf, 't/0@1', 'other')).toThrow(/belongs to source "src1", not "other"/);
    expect(() => peekRecord(encodeRecord({ ...changeRecord(), version: 99 }), 't/0@1')).toThrow(/format version 99/);
    expect(() => peekRecord(buf.subarray(0, buf.length - 3), 't/0@1')).toThrow(/is not a pitr record/);
    expect(() => decodeRecord(buf.subarray(0, buf.length - 3), 't/0@1')).toThrow(/is not a pitr record/);
  });
});
