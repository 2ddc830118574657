// The replay hot path (wire view + LineRenderer + LineFolder) against the reference path
// (protobufjs decode + pushLoadField + RowFolder): same bytes, same fold, no key collisions.
import { describe, expect, it } from 'vitest';
import { decodeRecord, encodeRecord, viewRowRecord } from '../../../src/log/record-codec.js';
import { Op, RECORD_VERSION, type RecordMsg, type RowChangeMsg, type Value } from '../../../src/log/record-types.js';
import { LineRenderer, pushLoadField, TAB } from '../../../src/replay/sql-values.js';
import { LineFolder, RowFolder, foldView, type LineFoldResult } from '../../../src/replay/row-folder.js';
import { CorruptLogError } from '../../../src/core/errors.js';

const allLines = (r: LineFoldResult): string[] => r.inserts.flatMap((i) => [...i.lines()]);

const EDGE: Value[] = [
  { int: '-9223372036854775808' },
  { int: '9223372036854775807' },
  { int: -1 },
  { int: 0 },
  { int: '9007199254740993' },
  { int: '-9007199254740993' },
  { int: 9007199254740991 },
  { int: -9007199254740991 },
  { int: 10 },
  { int: 2147483647 },
  { int: -2147483647 },
  { int: 2147483648 },
  { int: 1999999999 },
  { int: -100 },
  { int: 999999999999999 },
  { int: 1000000000000000 },
  { uint: 4294967295 },
  { uint: '18446744073709551615' },
  { uint: '9007199254740992' },
  { uint: 4294967296 },
  { double: 0.1 },
  { double: -1e300 },
  { double: 5e-324 },
  { float: Math.fround(1.1) },
  { float: Math.fround(-3.4e38) },
  { decimal: '-12345.123456789012345678901234567890' },
  { temporal: '2020-02-23 18:56:01.123456' },
  { text: 'naïve 😀 utf8mb4 \t tab \n lf \\ bs \r cr \u001a sub \u0000 nul' },
  { text: '' },
  { text: '\\N' },
  { json: '{"a": [1, 2.50, "x"]}' },
  { bytes: new Uint8Array([0, 1, 9, 10, 13, 26, 92, 255, 0]) },
  { bytes: new Uint8Array([]) },
  { bytes: new Uint8Array([...Array(100).fill(0x41), 10, ...Array(70).fill(0x42), 92]) },
  { text: 'x'.repeat(65) + '\t' + 'y'.repeat(3) },
  { bit: '5' },
  { bit: '18446744073709551615' },
  { null: true },
];
const COLS = EDGE.map((_, i) => `c${i}`);

const rec = (changes: RowChangeMsg[], columns = COLS): RecordMsg => ({
  version: RECORD_VERSION,
  sourceId: 's',
  change: { database: 'd', table: 't', columns, gtid: { domain: 0, serverId: 1, seq: 9 }, position: { fileSeq: 3, endPos: 77 }, commitTime: 1, changes },
});

function referenceLine(values: Value[]): string {
  const out: Buffer[] = [];
  values.forEach((v, i) => {
    if (i) out.push(TAB);
    pushLoadField(out, v);
  });
  return Buffer.concat(out).toString('latin1');
}

describe('LineRenderer on the wire view', () => {
  it('renders every value kind exactly as pushLoadField does for the decoded record', () => {
    const buf = encodeRecord(rec([{ op: Op.INSERT, index: 0, after: { values: EDGE } }]));
    const v = viewRowRecord(buf, 'x', 's')!;
    expect(v.columns).toEqual(COLS);
    expect(v.position).toEqual({ fileSeq: 3, endPos: 77 });
    const decoded = decodeRecord(buf, 'x', 's').change!.changes[0]!.after!.values;
    const { line, key } = new LineRenderer().line(buf, v.ranges[2]!, v.ranges[3]!, [0, 18]);
    expect(line).toBe(referenceLine(decoded));
    expect(key).toBe(`${referenceLine([decoded[0]!])}\t${referenceLine([decoded[18]!])}`);
  });

  it('renders only the key columns of a before image', () => {
    const buf = encodeRecord(rec([{ op: Op.DELETE, index: 0, before: { values: EDGE } }]));
    const v = viewRowRecord(buf, 'x', 's')!;
    const mask = new Uint8Array(EDGE.length);
    mask[22] = mask[1] = 1;
    const key = new LineRenderer().key(buf, v.ranges[0]!, v.ranges[1]!, [22, 1], mask);
    expect(key).toBe(`${referenceLine([EDGE[22]!])}\t${referenceLine([EDGE[1]!])}`);
  });

  it('returns null for other bodies and refuses foreign or unknown records', () => {
    const ddl = encodeRecord({ version: RECORD_VERSION, sourceId: 's', ddl: { defaultDatabase: '', statement: 'x', commitTime: 0 } } as RecordMsg);
    expect(viewRowRecord(ddl, 'x', 's')).toBeNull();
    const buf = encodeRecord(rec([]));
    expect(() => viewRowRecord(buf, 'x', 'other')).toThrow(CorruptLogError);
    expect(() => viewRowRecord(Buffer.from([0x0a, 0xff]), 'x', 's')).toThrow(CorruptLogError);
    const v2 = encodeRecord({ ...rec([]), version: 2 });
    expect(() => viewRowRecord(v2, 'x', 's')).toThrow(/format version 2/);
  });

  it('reads snapshot rows as inserts', () => {
    const buf = encodeRecord({
      version: RECORD_VERSION,
      sourceId: 's',
      snapshotRows: { snapshotId: 'snap', database: 'd', table: 't', columns: ['a'], rows: [{ values: [{ int: 1 }] }, { values: [{ int: 2 }] }], position: { fileSeq: 1, endPos: 4 } },
    });
    const v = viewRowRecord(buf, 'x', 's')!;
    expect(v.kind).toBe('snapshotRows');
    expect(v.snapshotId).toBe('snap');
    expect(v.ops).toEqual([Op.INSERT, Op.INSERT]);
    const f = new LineFolder(['a'], false);
    foldView(f, v, new LineRenderer());
    expect(allLines(f.result())).toEqual(['1', '2']);
  });
});

describe('LineFolder', () => {
  const C = ['id', 'name'];
  const row = (id: number | string, name: string): Value[] => [{ int: id }, { text: name }];

  function both(keys: string[], loaded: boolean, changes: RowChangeMsg[], columns = C) {
    const buf = encodeRecord(rec(changes, columns));
    const lf = new LineFolder(keys, loaded);
    foldView(lf, viewRowRecord(buf, 'x', 's')!, new LineRenderer());
    const rf = new RowFolder(keys, loaded);
    const d = decodeRecord(buf, 'x', 's').change!;
    for (const ch of d.changes) rf.apply(d.columns, ch);
    const want = rf.result();
    const got = lf.result();
    const keyIdx = keys.map((k) => columns.indexOf(k));
    expect([...got.deleteKeys()]).toEqual(want.deleteKeys.map((k) => k.map((v) => referenceLine([v])).join('\t')));
    expect(allLines(got)).toEqual(want.inserts.map((r) => referenceLine(r.values)));
    void keyIdx;
    return got;
  }

  it('folds like RowFolder on an empty and on a loaded table', () => {
    const changes: RowChangeMsg[] = [
      { op: Op.INSERT, index: 0, after: { values: row(1, 'a') } },
      { op: Op.INSERT, index: 1, after: { values: row(2, 'b') } },
      { op: Op.UPDATE, index: 2, before: { values: row(2, 'b') }, after: { values: row(2, 'B') } },
      { op: Op.UPDATE, index: 3, before: { values: row(1, 'a') }, after: { values: row(10, 'a') } },
      { op: Op.DELETE, index: 4, before: { values: row(7, 'x') } },
      { op: Op.INSERT, index: 5, after: { values: row(7, 'again') } },
      { op: Op.DELETE, index: 6, before: { values: row('-9223372036854775808', 'big') } },
    ];
    both(['id'], false, changes);
    both(['id'], true, changes);
    both(['name', 'id'], true, changes);
  });

  it('keeps composite keys whose parts hold TAB, NUL, backslash or \\N apart, and NULL apart from "\\N"', () => {
    const cols = ['a', 'b'];
    const ins = (a: Value, b: Value, i: number): RowChangeMsg => ({ op: Op.INSERT, index: i, after: { values: [a, b] } });
    const got = both(['a', 'b'], false, [
      ins({ bytes: Buffer.from('a\0') }, { bytes: Buffer.from('b') }, 0),
      ins({ bytes: Buffer.from('a') }, { bytes: Buffer.from('\0b') }, 1),
      ins({ text: 'x\t' }, { text: 'y' }, 2),
      ins({ text: 'x' }, { text: '\ty' }, 3),
      ins({ text: '\\N' }, { text: 'z' }, 4),
      ins({ null: true }, { text: 'z' }, 5),
      ins({ text: 'p\\' }, { text: 'q' }, 6),
      ins({ text: 'p' }, { text: '\\q' }, 7),
    ], cols);
    expect(allLines(got).length).toBe(8);
  });

  it('matches text and bytes of the same UTF-8 content as one key', () => {
    const got = both(['k'], false, [
      { op: Op.INSERT, index: 0, after: { values: [{ text: 'é😀' }, { int: 1 }] } },
      { op: Op.DELETE, index: 1, before: { values: [{ bytes: Buffer.from('é😀', 'utf8') }, { int: 1 }] } },
    ], ['k', 'v']);
    expect(allLines(got)).toEqual([]);
  });

  const fold = (f: LineFolder, changes: RowChangeMsg[], columns = C): void => {
    foldView(f, viewRowRecord(encodeRecord(rec(changes, columns)), 'x', 's')!, new LineRenderer());
  };

  it('tracks its size, drops records without a current image, and refuses images without the key column', () => {
    const f = new LineFolder(['id'], false);
    fold(f, [{ op: Op.INSERT, index: 0, after: { values: row(1, 'a') } }]);
    const held = f.heldBytes;
    expect(held).toBeGreaterThan(0);
    expect(f.bytes).toBe(f.keyBytes + held);
    // The second record supersedes the first one's only image: the first is dropped.
    fold(f, [{ op: Op.UPDATE, index: 0, before: { values: row(1, 'a') }, after: { values: row(1, 'abc') } }]);
    expect(f.heldBytes).toBeGreaterThan(held);
    expect(f.heldBytes).toBeLessThan(2 * held + 8);
    fold(f, [{ op: Op.DELETE, index: 0, before: { values: row(1, 'abc') } }]);
    expect(f.heldBytes).toBe(0);
    expect(allLines(f.result())).toEqual([]);
    expect(() => f.columnSet(['name'])).toThrow(/lacks key column id/);
  });

  it('tracks the highest inserted AUTO_INCREMENT value, also of rows deleted since', () => {
    const f = new LineFolder(['id'], false, 'id');
    fold(f, [
      { op: Op.INSERT, index: 0, after: { values: row(9, 'a') } },
      { op: Op.INSERT, index: 1, after: { values: row(10, 'b') } },
      { op: Op.INSERT, index: 2, after: { values: row(-50, 'neg') } },
      { op: Op.DELETE, index: 3, before: { values: row(10, 'b') } },
      { op: Op.UPDATE, index: 4, before: { values: row(9, 'a') }, after: { values: row(9, 'A') } },
    ]);
    expect(f.result().counterMax).toBe('10');
    // A counter column that is not the key: rendered on its own.
    const g = new LineFolder(['name'], false, 'id');
    fold(g, [
      { op: Op.INSERT, index: 0, after: { values: row(99, 'x') } },
      { op: Op.INSERT, index: 1, after: { values: row(100, 'y') } },
      { op: Op.DELETE, index: 2, before: { values: row(100, 'y') } },
    ]);
    expect(g.result().counterMax).toBe('100');
    expect(new LineFolder(['id'], false).result().counterMax).toBeUndefined();
  });

  it('spills its records to disk and keeps only the current image of each key', () => {
    const run = (spillEvery: number) => {
      const f = new LineFolder(['id'], true);
      // 2,000 keys, each rewritten a few times, some deleted, some moved to another column list;
      // records of 50 row changes.
      let batch: RowChangeMsg[] = [];
      let batchCols = C;
      let records = 0;
      const flush = () => {
        if (batch.length) fold(f, batch, batchCols);
        batch = [];
        if (spillEvery && ++records % spillEvery === 0) f.spill();
      };
      const push = (ch: RowChangeMsg, cols: string[]) => {
        if (cols !== batchCols || batch.length === 50) flush();
        batchCols = cols;
        batch.push({ ...ch, index: batch.length });
      };
      const T = ['id', 'name', 'extra'];
      for (let round = 0; round < 4; round++) {
        for (let k = 0; k < 2000; k++) {
          if ((k + round) % 7 === 0) push({ op: Op.DELETE, index: 0, before: { values: row(k, 'old') } }, C);
          else if (k % 11 === round) push({ op: Op.INSERT, index: 0, after: { values: [...row(k, `r${round}`), { text: 'x' }] } }, T);
          else push({ op: Op.INSERT, index: 0, after: { values: row(k, `r${round}`) } }, C);
        }
      }
      flush();
      const r = f.result();
      const out = { deleteKeys: [...r.deleteKeys()].sort(), deleteCount: r.deleteCount, lines: allLines(r).sort(), counts: r.inserts.map((i) => i.count).sort(), spilled: f.spilled };
      // Reading twice gives the same lines (the records are re-rendered, not consumed).
      expect(allLines(r).sort()).toEqual(out.lines);
      f.close();
      return out;
    };
    const plain = run(0);
    expect(plain.spilled).toBe(false);
    expect(plain.lines.length).toBeGreaterThan(1000);
    for (const every of [1, 7, 50]) {
      const spilled = run(every);
      expect(spilled.spilled).toBe(true);
      expect(spilled.lines).toEqual(plain.lines);
      expect(spilled.deleteKeys).toEqual(plain.deleteKeys);
      expect(spilled.deleteCount).toBe(plain.deleteKeys.length);
      expect(spilled.counts).toEqual(plain.counts);
      expect(spilled.lines.length).toBe(spilled.counts.reduce((a, b) => a + b, 0));
    }
  });
});
