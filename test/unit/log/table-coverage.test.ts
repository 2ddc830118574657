import { describe, expect, it } from 'vitest';
import { MetaState } from '../../../src/log/meta-state.js';
import { refuseUncovered, uncoveredEnd } from '../../../src/log/table-coverage.js';
import { tableWindows } from '../../../src/ops/status.js';
import { RECORD_VERSION, type RecordMsg } from '../../../src/log/record-types.js';
import { BASE, snapshotBegin, snapshotEnd, txnIndex } from './meta-fixtures.js';
import type { Cut } from '../../../src/core/position.js';

const end = (pos: number, time: number): RecordMsg => ({
  version: RECORD_VERSION,
  sourceId: 's',
  coverageEnd: {
    tables: [{ database: 'shop', table: 'orders' }],
    after: { fileSeq: 1, endPos: pos },
    afterGtidPos: '0-1-5',
    afterTime: time,
    previousFilter: '',
    tableFilter: 'shop.customers',
  },
});

function partial(id: string, pos: number, time: number): RecordMsg[] {
  const b = snapshotBegin(id, 1, pos, time);
  b.snapshotBegin!.partial = true;
  return [b, snapshotEnd(id, 1, pos)];
}

const cut = (pos: number): Cut => ({ at: { fileSeq: 1, endPos: pos }, inclusive: true, label: `at ${pos}` });

function meta(records: RecordMsg[]): MetaState {
  const m = new MetaState();
  for (const r of records) m.add(r);
  return m;
}

describe('coverage ends (capture --narrow)', () => {
  const base = [snapshotBegin('s1', 1, 100, BASE), snapshotEnd('s1', 1, 100), txnIndex([{ file: 1, pos: 200, time: BASE + 5, seq: 5 }], { file: 1, pos: 200, time: BASE + 5 }), end(200, BASE + 5)];

  it('refuses a cut after the end, by time for --as-of and by position otherwise; a cut before works', () => {
    const m = meta([...base, txnIndex([{ file: 1, pos: 300, time: BASE + 9, seq: 6 }], { file: 1, pos: 300, time: BASE + 9 })]);
    const t = { database: 'shop', table: 'orders' };
    expect(uncoveredEnd(m, t, cut(300), BASE + 9)).toBeDefined();
    expect(uncoveredEnd(m, t, cut(200), BASE + 5)).toBeUndefined();
    expect(uncoveredEnd(m, t, cut(300))).toBeDefined();
    expect(uncoveredEnd(m, t, cut(200))).toBeUndefined();
    expect(uncoveredEnd(m, { database: 'shop', table: 'customers' }, cut(300), BASE + 9)).toBeUndefined();
    expect(() => refuseUncovered(m, { tables: [t] }, cut(300), BASE + 9)).toThrow(/^shop\.orders was not captured after 2020-02-23T18:56:05Z/);
    expect(() => refuseUncovered(m, { database: 'shop' }, cut(300), BASE + 9)).toThrow(/shop\.orders was not captured after/);
    expect(() => refuseUncovered(m, { database: 'other' }, cut(300), BASE + 9)).not.toThrow();
  });

  it('a later snapshot of the table within the cut starts its coverage again', () => {
    const m = meta([...base, ...partial('p1', 400, BASE + 20)]);
    const t = { database: 'shop', table: 'orders' };
    expect(uncoveredEnd(m, t, cut(300), BASE + 10)).toBeDefined();
    expect(uncoveredEnd(m, t, cut(400), BASE + 20)).toBeUndefined();
  });

  it('status ends the window there and opens a new one at the partial snapshot', () => {
    const closed = tableWindows(meta(base));
    expect(closed).toEqual([{ table: 'shop.orders', windows: [{ from: '2020-02-23T18:56:00Z', to: '2020-02-23T18:56:05Z', fromEvent: 'snapshot', toEvent: 'not captured' }] }]);
    const reopened = tableWindows(meta([...base, ...partial('p1', 400, BASE + 20)]));
    expect(reopened[0]!.windows.map((w) => [w.fromEvent, w.toEvent ?? null])).toEqual([
      ['snapshot', 'not captured'],
      ['snapshot', null],
    ]);
  });
});
