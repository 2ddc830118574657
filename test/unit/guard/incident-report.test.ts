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

  it('names a cascade: the victims on the parent, the parent on each victim, restore commands for the whole group', () => {
    const shop = (table: string) => ({ database: 'shop', table });
    const group = [shop('customers'), shop('orders'), shop('items')];
    const base = { cause: 'DELETE' as const, gtid: g, position: { fileSeq: 3, endPos: 99 }, commitTime: 1582484160, group };
    const parent: Incident = {
      ...base, table: shop('customers'), rows: 100, detail: 'deleted 100 rows',
      cascade: [{ table: shop('orders'), effect: 'emptied', rows: 3000, via: shop('customers') }, { table: shop('items'), effect: 'reduced', via: shop('orders') }],
      possiblyAffected: [{ table: shop('addresses'), action: 'ON DELETE SET NULL', via: shop('customers'), atMostRows: 50 }],
    };
    const ctx = { intoDatabase: 'pitr_recovery', recoveryUrl: 'mysql://root@h:1', sourceUrl: 'mysql://root@s:2' };
    const r = buildReport(parent, ctx);
    expect(r.restore.putBack).toBe('pitr restore --table shop.customers --table shop.orders --table shop.items --before-gtid 0-1-1234 --target mysql://root@s:2 --replace');
    expect(r.cascade).toEqual([{ table: 'shop.orders', effect: 'emptied', rows: 3000, via: 'shop.customers' }, { table: 'shop.items', effect: 'reduced', via: 'shop.orders' }]);
    expect(r.possiblyAffected).toEqual([
      { table: 'shop.addresses', action: 'ON DELETE SET NULL', via: 'shop.customers', atMostRows: 50, restore: 'pitr restore --table shop.addresses --before-gtid 0-1-1234 --target mysql://root@h:1 --into-database pitr_recovery_1234' },
    ]);
    const human = humanReport(r);
    expect(human).toContain('  cascade:   shop.orders emptied (3000 rows), shop.items reduced, through ON DELETE CASCADE');
    expect(human).toContain('  maybe:     shop.addresses: ON DELETE SET NULL from shop.customers, at most 50 rows modified; not rebuilt: pitr restore --table shop.addresses');
    const child = buildReport({ ...base, table: shop('items'), rows: undefined, detail: 'reduced', cascadeFrom: { parent: shop('orders'), key: 'fk_io', root: shop('customers') } }, ctx);
    expect(child.cascadeFrom).toEqual({ parent: 'shop.orders', key: 'fk_io', root: 'shop.customers' });
    expect(child.into).toBe('pitr_recovery.shop__items__0_1_1234');
    expect(child.restore.elsewhere).toMatch(/^pitr restore --table shop.customers --table shop.orders --table shop.items --before-gtid/);
    expect(humanReport(child)).toContain('  cascade:   from shop.customers via shop.orders (foreign key fk_io); rebuilt with it');
    expect(buildReport({ ...base, group: undefined, table: shop('t'), rows: 1, detail: '' }, ctx).cascade).toBeUndefined();
  });
});
