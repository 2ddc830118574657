import { describe, expect, it } from 'vitest';
import { RowHistory } from '../../../src/analysis/row-history.js';
import { parseKeySpec, resolveKeySpec, valueMatches, changedColumns } from '../../../src/analysis/row-image.js';
import { Op, type ChangeBatchMsg, type RowChangeMsg, type Value } from '../../../src/log/record-types.js';

const COLS = ['id', 'v'];
const r = (id: number, v: string): { values: Value[] } => ({ values: [{ int: id }, { text: v }] });
let seq = 0;
function batch(changes: RowChangeMsg[]): { b: ChangeBatchMsg; p: { fileSeq: number; endPos: number } } {
  seq++;
  return {
    b: { database: 'd', table: 't', columns: COLS, gtid: { domain: 0, serverId: 1, seq }, position: { fileSeq: 1, endPos: seq * 100 }, commitTime: 1000 + seq, changes },
    p: { fileSeq: 1, endPos: seq * 100 },
  };
}

describe('RowHistory', () => {
  it('lists every change of the row in order, with changed columns, and folds changes before the window into the initial state', () => {
    seq = 0;
    const h = new RowHistory([{ column: 'id', value: '5' }], (p) => p.endPos > 200);
    h.snapshotRow(COLS, r(4, 'other').values);
    h.snapshotRow(COLS, r(5, 'snap').values);
    const steps = [
      batch([{ op: Op.UPDATE, index: 0, before: r(5, 'snap'), after: r(5, 'a') }]), // before window
      batch([{ op: Op.UPDATE, index: 0, before: r(4, 'other'), after: r(4, 'x') }]), // other row
      batch([{ op: Op.UPDATE, index: 0, before: r(5, 'a'), after: r(5, 'b') }]),
      batch([{ op: Op.UPDATE, index: 0, before: r(5, 'b'), after: r(6, 'b') }]), // key moves away
      batch([{ op: Op.INSERT, index: 0, after: r(5, 'new') }]),
      batch([{ op: Op.DELETE, index: 0, before: r(5, 'new') }]),
    ];
    for (const s of steps) h.change(s.b, s.p);
    expect(h.initial?.values.map((v) => v.text ?? String(v.int))).toEqual(['5', 'a']);
    expect(h.versions.map((v) => [v.op, v.gtid, v.keyChanged ?? false])).toEqual([
      ['update', '0-1-3', false],
      ['update', '0-1-4', true],
      ['insert', '0-1-5', false],
      ['delete', '0-1-6', false],
    ]);
    expect(h.versions[0]!.changed).toEqual([{ column: 'v', before: 'a', after: 'b' }]);
    expect(h.versions[1]!.changed).toEqual([{ column: 'id', before: '5', after: '6' }]);
    expect(h.versions[1]!.row).toBeNull();
    expect(h.versions[3]!.changed).toEqual([
      { column: 'id', before: '5', after: null },
      { column: 'v', before: 'new', after: null },
    ]);
  });
});

describe('key specs', () => {
  it('plain values need a one-column key; column=value pairs must cover the key', () => {
    expect(resolveKeySpec(parseKeySpec('5'), ['id'], 't')).toEqual([{ column: 'id', value: '5' }]);
    expect(resolveKeySpec(parseKeySpec('a=1,b=x'), ['a', 'b'], 't')).toEqual([{ column: 'a', value: '1' }, { column: 'b', value: 'x' }]);
    expect(() => resolveKeySpec(parseKeySpec('5'), ['a', 'b'], 't')).toThrow(/has 2 columns/);
    expect(() => resolveKeySpec(parseKeySpec('a=1'), ['a', 'b'], 't')).toThrow(/lacks b/);
    expect(() => resolveKeySpec(parseKeySpec('5'), null, 't')).toThrow(/no primary key/);
    expect(resolveKeySpec(parseKeySpec('x=1'), null, 't')).toEqual([{ column: 'x', value: '1' }]);
  });

  it('matches exact text, binary by 0x-hex, never NULL', () => {
    expect(valueMatches({ int: 5 }, '5')).toBe(true);
    expect(valueMatches({ decimal: '5.00' }, '5')).toBe(false);
    expect(valueMatches({ bytes: new Uint8Array([0, 255]) }, '0x00ff')).toBe(true);
    expect(valueMatches({ bytes: Buffer.from('abc') }, 'abc')).toBe(true);
    expect(valueMatches({ null: true }, 'NULL')).toBe(false);
  });

  it('changed columns compare by value, and bytes and text holding the same UTF-8 are equal', () => {
    const a = { columns: ['a', 'b'], values: [{ text: 'x' }, { null: true }] as Value[] };
    const b = { columns: ['a', 'b'], values: [{ bytes: Buffer.from('x') }, { int: 0 }] as Value[] };
    expect(changedColumns(a, b)).toEqual([{ column: 'b', before: null, after: '0' }]);
  });
});
