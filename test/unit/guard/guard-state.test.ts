import { describe, expect, it } from 'vitest';
import { TableTracker } from '../../../src/guard/table-tracker.js';
import { ResumeCheck, decodeGuardState, encodeGuardState, resumeOffset, type GuardState } from '../../../src/guard/guard-state.js';

function tracker(): TableTracker {
  const t = new TableTracker();
  t.snapshotBegin([
    { database: 'shop', table: 'customers', createSql: 'CREATE TABLE `customers` (`id` int(11) NOT NULL, `name` varchar(40) DEFAULT NULL, PRIMARY KEY (`id`))' },
    {
      database: 'shop',
      table: 'orders',
      createSql:
        'CREATE TABLE `orders` (`id` int NOT NULL, `cid` int NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `fk1` FOREIGN KEY (`cid`) REFERENCES `customers` (`id`) ON DELETE CASCADE)',
    },
  ]);
  t.snapshotEnd([
    { database: 'shop', table: 'customers', rows: 10 },
    { database: 'shop', table: 'orders', rows: 40 },
  ]);
  t.applyRows({ database: 'shop', table: 'orders' }, 5, 2);
  t.applyCascade({ database: 'shop', table: 'orders' }, 'reduced', false);
  return t;
}

const link = (seq: bigint, byte: number) => ({ seq, hash: Buffer.alloc(32, byte) });

describe('guard state', () => {
  it('round-trips what guard knows about the tables and where it stood', () => {
    const t = tracker();
    const state: GuardState = {
      sourceId: 's1',
      meta: { next: 120n, check: { offset: 118n, link: link(60n, 1) } },
      changes: new Map([
        [0, { next: 7_000_000_000n, check: { offset: 6_999_999_998n, link: link(3_000_000_000n, 2) } }],
        [1, { next: 0n }],
      ]),
      tracker: t.exportState(),
      binlogBasename: 'mariadb-bin',
      transactions: 42,
      sourceServers: ['server_id=1 host=db1 port=3306'],
    };
    const back = decodeGuardState(encodeGuardState(state), 's1');
    expect(back).toEqual(state);
    const t2 = TableTracker.fromState((back as GuardState).tracker);
    for (const name of ['customers', 'orders']) expect(t2.get({ database: 'shop', table: name })).toEqual(t.get({ database: 'shop', table: name }));
    expect(t2.foreignKeys.referencing({ database: 'shop', table: 'customers' })).toEqual(t.foreignKeys.referencing({ database: 'shop', table: 'customers' }));
    expect(t2.notNull({ database: 'shop', table: 'customers' }, 'id')).toBe(true);
    expect(resumeOffset(state.meta)).toBe(118n);
    expect(resumeOffset(state.changes.get(1)!)).toBe(0n);
  });

  it('is refused with a reason when it belongs elsewhere or cannot be read', () => {
    const text = encodeGuardState({ sourceId: 's1', meta: { next: 1n }, changes: new Map(), tracker: new TableTracker().exportState(), transactions: 0, sourceServers: [] });
    expect(decodeGuardState(text, 's2')).toMatch(/belongs to source "s1"/);
    expect(decodeGuardState('{', 's1')).toMatch(/not JSON/);
    expect(decodeGuardState(text.replace('"version":1', '"version":9'), 's1')).toMatch(/version 9/);
  });

  it('checks the first record read on each resumed partition against the last one read before', () => {
    const marks = [
      { topic: 'm', partition: 0, mark: { next: 11n, check: { offset: 10n, link: link(5n, 1) } } },
      { topic: 'c', partition: 2, mark: { next: 5n, check: { offset: 4n, link: link(2n, 3) } } },
      { topic: 'c', partition: 3, mark: { next: 0n } },
    ];
    const ok = new ResumeCheck(marks);
    expect(ok.check('m', 0, { offset: 10n, link: link(5n, 1) })).toBeUndefined();
    expect(ok.done).toBe(false);
    expect(ok.check('c', 3, { offset: 0n })).toBeUndefined();
    expect(ok.check('c', 2, { offset: 4n, link: link(2n, 3) })).toBeUndefined();
    expect(ok.done).toBe(true);
    // Only the first batch of a partition is checked.
    expect(ok.check('m', 0, { offset: 99n })).toBeUndefined();

    expect(new ResumeCheck(marks).check('m', 0, { offset: 10n, link: link(5n, 9) })).toMatch(/m\/0@10: .*another chain link/);
    expect(new ResumeCheck(marks).check('c', 2, { offset: 6n, link: link(3n, 3) })).toMatch(/offset 4\) is not there; the first record is at offset 6/);
  });
});
