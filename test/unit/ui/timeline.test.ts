// The UI's timeline: per-second (and coarser) buckets that count every transaction and row change once,
// markers where guard's detector flags a transaction, DDL markers for the rest, row counts per table.
import { describe, expect, it } from 'vitest';
import { TimelineBuilder, defaultStep } from '../../../src/ui/timeline.js';
import { ThresholdPolicy } from '../../../src/guard/thresholds.js';
import type { SequencedItem, TableAgg } from '../../../src/guard/log-sequencer.js';
import type { DdlMsg } from '../../../src/log/record-types.js';

const T0 = 1_800_000_000;
let seq = 10n;

function txn(at: number, tables: Partial<TableAgg>[], ddl: string[] = []): SequencedItem {
  seq++;
  return {
    kind: 'txn',
    txn: {
      gtid: { domain: 0, serverId: 1, seq },
      position: { fileSeq: 1, endPos: Number(seq) * 100 },
      commitTime: T0 + at,
      ddl: ddl.map((statement) => ({ defaultDatabase: 'shop', statement }) as DdlMsg),
      tables: tables.map((t) => ({ database: 'shop', table: 't', inserts: 0, updates: 0, deletes: 0, ...t })),
      indexOffset: 0n,
    },
  };
}

function built() {
  const b = new TimelineBuilder(new ThresholdPolicy());
  b.add({ kind: 'snapshotBegin', msg: { snapshotId: 's', time: T0, tables: [{ database: 'shop', table: 't', createSql: 'CREATE TABLE t (id INT PRIMARY KEY)' }], gtidPos: '0-1-10', binlogFile: 'mariadb-bin.000001' } } as unknown as SequencedItem);
  b.add({ kind: 'snapshotEnd', msg: { snapshotId: 's', tables: [{ database: 'shop', table: 't', rows: 100 }] } } as unknown as SequencedItem);
  b.add(txn(1, [{ inserts: 3 }]));
  b.add(txn(1, [{ updates: 2 }]));
  b.add(txn(2, [], ['ALTER TABLE t ADD COLUMN c INT']));
  b.add(txn(65, [{ deletes: 80 }]));
  b.add(txn(66, [], ['DROP TABLE t']));
  return b.build();
}

describe('timeline', () => {
  it('counts transactions and row changes per second, empty seconds included', () => {
    const tl = built();
    const s = tl.series(T0, T0 + 3, 1);
    expect(s.t).toEqual([T0, T0 + 1, T0 + 2, T0 + 3]);
    expect(s.transactions).toEqual([0, 2, 1, 0]);
    expect(s.changes).toEqual([0, 5, 0, 0]);
    expect(tl.transactions).toBe(5);
  });

  it('per minute, every transaction lands in exactly one bucket', () => {
    const tl = built();
    const s = tl.series(T0, T0 + 66, 60);
    expect(s.transactions.reduce((a, b) => a + b, 0)).toBe(5);
    expect(s.changes.reduce((a, b) => a + b, 0)).toBe(85);
    expect(s.t[0]! % 60).toBe(0);
  });

  it("marks what guard's detector flags as destructive, other DDL as DDL, and the snapshot", () => {
    const tl = built();
    const kinds = tl.markers.map((m) => [m.kind, m.time - T0]);
    expect(kinds).toEqual([
      ['snapshot', 0],
      ['ddl', 2],
      ['destructive', 65],
      ['destructive', 66],
    ]);
    const del = tl.markers[2]!;
    expect(del.changes).toEqual({ inserts: 0, updates: 0, deletes: 80 });
    expect(del.tables).toEqual(['shop.t']);
    expect(del.details?.[0]).toMatch(/more than 50% of the table/);
    expect(del.position).toBe(`mariadb-bin.000001:${Number(seq - 1n) * 100}`);
    expect(tl.markers[3]!.statements).toEqual(['DROP TABLE t']);
    expect(tl.markers[1]!.tables).toEqual(['shop.t']);
  });

  it("follows each table's row count", () => {
    const r = built().tableRows.find((x) => x.table === 'shop.t')!;
    expect(r.t.map((t) => t - T0)).toEqual([0, 1, 65]);
    expect(r.rows).toEqual([100, 103, 23]);
  });

  it('thresholds come from the policy: a rule can switch a table off', () => {
    const b = new TimelineBuilder(new ThresholdPolicy(undefined, [{ database: 'shop', table: 't', set: { off: true } }]));
    b.add(txn(1, [{ deletes: 5000 }]));
    expect(b.build().markers).toEqual([]);
  });

  it("places guard's incidents at their transaction's second, gaps and checkpoints where the log says", () => {
    const b = new TimelineBuilder(new ThresholdPolicy());
    b.add(txn(5, [{ deletes: 3 }]));
    const gtid = `0-1-${seq}`;
    b.addIncident(gtid, 'guard: DELETE on shop.t', 'shop.t', T0 + 99);
    b.addIncident('0-1-999999', 'guard: DROP TABLE on shop.u', 'shop.u', T0 + 99);
    b.addGap(T0 + 7, 'gap after 0-1-5: binlog purged');
    b.addCheckpoint(T0 + 6, 'checkpoint c1', ['shop.t'], 'mariadb-bin.000001:400');
    const m = b.build().markers.map((x) => [x.kind, x.time - T0, x.gtid ?? null]);
    // An incident whose transaction the log no longer shows is placed when guard reported it.
    expect(m).toEqual([
      ['incident', 5, gtid],
      ['checkpoint', 6, null],
      ['gap', 7, null],
      ['incident', 99, '0-1-999999'],
    ]);
  });

  it('buckets per second up to a day, per minute beyond', () => {
    expect(defaultStep(0, 86_399)).toBe(1);
    expect(defaultStep(0, 86_400)).toBe(60);
  });
});
