import { describe, expect, it } from 'vitest';
import { MetaState } from '../../../src/log/meta-state.js';
import { assessStatus, domainLag, formatStatus, tableWindows, type StatusFacts } from '../../../src/ops/status.js';
import { BASE, ddl, snapshotBegin, snapshotEnd, txnIndex } from '../log/meta-fixtures.js';
import { RECORD_VERSION } from '../../../src/log/record-types.js';

function meta(): MetaState {
  const m = new MetaState();
  m.add(snapshotBegin('s1', 1, 100, BASE));
  m.add(snapshotEnd('s1', 1, 100));
  m.add(ddl('CREATE TABLE items (id int)', 1, 200, BASE + 10, 2));
  m.add(ddl('DROP TABLE orders', 1, 300, BASE + 20, 3));
  m.add(txnIndex([{ file: 1, pos: 400, time: BASE + 30, seq: 4 }], { file: 1, pos: 400, time: BASE + 30 }));
  return m;
}

const facts = (over: Partial<StatusFacts> = {}): StatusFacts => ({
  sourceId: 'main',
  meta: meta(),
  head: { gtidPos: '0-1-4', now: BASE + 31 },
  recentlyWritten: true,
  topics: [{ topic: 'pitr.main.changes', partitions: 6, offsets: 10 }],
  lastVerify: { ok: true, at: BASE, records: 9, findings: 0 },
  now: BASE + 31,
  maxLagSeconds: 3,
  ...over,
});

describe('domainLag', () => {
  it('counts missing transactions per domain', () => {
    expect(domainLag('0-1-10,1-2-5', '0-1-7')).toEqual([
      { domain: 0, source: '0-1-10', log: '0-1-7', transactions: 3 },
      { domain: 1, source: '1-2-5', log: '', transactions: 5 },
    ]);
    expect(domainLag('0-1-10', '0-2-12')[0]!.transactions).toBe(0);
  });
});

describe('tableWindows', () => {
  it('opens tables at the snapshot or CREATE and closes them at DROP', () => {
    expect(tableWindows(meta())).toEqual([
      { table: 'shop.items', windows: [{ from: '2020-02-23T18:56:10Z', to: null, fromEvent: 'create' }] },
      { table: 'shop.orders', windows: [{ from: '2020-02-23T18:56:00Z', to: '2020-02-23T18:56:20Z', fromEvent: 'snapshot', toEvent: 'drop' }] },
    ]);
  });
});

describe('assessStatus', () => {
  it('is healthy and running when caught up and writing', () => {
    const r = assessStatus(facts());
    expect(r).toMatchObject({ healthy: true, capture: { state: 'running', lagSeconds: 0, lagTransactions: 0 } });
    expect(r.coverage).toEqual([{ from: '2020-02-23T18:56:00Z', to: '2020-02-23T18:56:30Z' }]);
    expect(formatStatus(r)).toMatch(/HEALTHY/);
  });
  it('reports lag in seconds from the newest commit in the log when transactions are missing', () => {
    const r = assessStatus(facts({ head: { gtidPos: '0-1-9', now: BASE + 32 } }));
    expect(r.capture).toMatchObject({ state: 'running', lagSeconds: 2, lagTransactions: 5 });
    expect(r.healthy).toBe(true);
  });
  it('turns unhealthy when capture is stopped longer than the threshold', () => {
    const early = assessStatus(facts({ recentlyWritten: false, head: { gtidPos: '0-1-6', now: BASE + 33 } }));
    expect(early).toMatchObject({ healthy: true, capture: { state: 'stopped', lagSeconds: 3 } });
    const late = assessStatus(facts({ recentlyWritten: false, head: { gtidPos: '0-1-6', now: BASE + 40 } }));
    expect(late).toMatchObject({ healthy: false, capture: { state: 'stopped', lagSeconds: 10, lagTransactions: 2 } });
    expect(late.problems[0]).toMatch(/not running: nothing written to the log for 10 s/);
    // Stopped with no writes on the source: the log misses nothing, but nobody heartbeats either.
    const idle = assessStatus(facts({ recentlyWritten: false, head: { gtidPos: '0-1-4', now: BASE + 40 } }));
    expect(idle).toMatchObject({ healthy: false, capture: { state: 'stopped', lagSeconds: 0 } });
  });
  it('says lagging when capture writes but falls behind', () => {
    const r = assessStatus(facts({ head: { gtidPos: '0-1-99', now: BASE + 45 } }));
    expect(r).toMatchObject({ healthy: false, capture: { state: 'lagging', lagSeconds: 15 } });
  });
  it('is unhealthy on a failed verify, a gap, an unreachable source, a log without snapshot', () => {
    expect(assessStatus(facts({ lastVerify: { ok: false, at: BASE, records: 1, findings: 2 } })).problems[0]).toMatch(/found 2 problem/);
    const m = meta();
    m.add({
      version: RECORD_VERSION,
      sourceId: 's',
      gap: { after: { fileSeq: 1, endPos: 400 }, afterGtidPos: '0-1-4', afterTime: BASE + 30, sourceOldestGtidPos: '0-1-50', detectedTime: BASE + 31, reason: 'binlog purged' },
    });
    expect(assessStatus(facts({ meta: m })).healthy).toBe(false);
    expect(assessStatus(facts({ meta: m, allowGaps: true })).healthy).toBe(true);
    expect(assessStatus(facts({ head: undefined, headError: 'ECONNREFUSED' }))).toMatchObject({ healthy: false, capture: { state: 'unknown' } });
    expect(assessStatus(facts({ meta: new MetaState() }))).toMatchObject({ healthy: false, capture: { state: 'never-ran' } });
  });
});
