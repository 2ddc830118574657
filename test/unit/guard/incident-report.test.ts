import { describe, expect, it } from 'vitest';
import { buildReport, copyName, humanReport } from '../../../src/guard/incident-report.js';
import type { Incident } from '../../../src/guard/incident-detector.js';

const g = { domain: 0, serverId: 1, seq: 1234n };

describe('incident report', () => {
  it('names copies by table and cut, within 64 characters', () => {
    expect(copyName({ database: 'shop', table: 'orders' }, g)).toBe('shop__orders__0_1_1234');
    const long = copyName({ database: 'd'.repeat(40), table: 't'.repeat(40) }, g);
    expect(long.length).toBeLessThanOrEqual(64);
    expect(long).toMatch(/_[0-9a-f]{8}__0_1_1234$/);
    expect(copyName({ database: 'd'.repeat(40), table: 't'.repeat(41) }, g)).not.toBe(long);
  });

  it('gives the JSON fields, the commands and the human form', () => {
    const inc: Incident = {
      table: { database: 'shop', table: 'orders' }, cause: 'DROP TABLE', detail: 'dropped the table with 3 rows', statement: 'DROP TABLE orders',
      gtid: g, position: { fileSeq: 3, endPos: 99 }, commitTime: 1582484160, rows: 3,
    };
    const r = buildReport(inc, { intoDatabase: 'pitr_recovery', recoveryUrl: 'mysql://root@h:1', sourceUrl: 'mysql://root@s:2', binlogBasename: 'mariadb-bin' }, { copied: 3, finishedAt: 1582484165_000 });
    expect(r).toMatchObject({ table: 'shop.orders', cause: 'DROP TABLE', gtid: '0-1-1234', time: '2020-02-23T18:56:00Z', rows: 3, into: 'pitr_recovery.shop__orders__0_1_1234', statement: 'DROP TABLE orders', position: 'mariadb-bin.000003:99', copied: 3, recoveredAfter: 5 });
    expect(r.restore.putBack).toBe('pitr restore --table shop.orders --before-gtid 0-1-1234 --target mysql://root@s:2');
    expect(r.restore.elsewhere).toContain('--before-gtid 0-1-1234 --target mysql://root@h:1');
    expect(r.restore.sql).toMatch(/^RENAME TABLE `pitr_recovery`.`shop__orders__0_1_1234` TO `shop`.`orders`/);
    const del = buildReport({ ...inc, cause: 'DELETE', statement: undefined }, { intoDatabase: 'r', recoveryUrl: 'mysql://x@h:1' });
    expect(del.restore.putBack).toMatch(/--replace$/);
    expect(del.restore.sql).toMatch(/^INSERT IGNORE INTO/);
    expect(humanReport(r)).toMatch(/^INCIDENT DROP TABLE on shop.orders/);
  });
});
