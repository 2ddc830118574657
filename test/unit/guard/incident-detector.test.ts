import { describe, expect, it } from 'vitest';
import { examineTxn } from '../../../src/guard/incident-detector.js';
import { TableTracker } from '../../../src/guard/table-tracker.js';
import { ThresholdPolicy } from '../../../src/guard/thresholds.js';
import type { TableAgg, TxnUnit } from '../../../src/guard/log-sequencer.js';

const policy = new ThresholdPolicy();
let seq = 0;
const unit = (tables: Partial<TableAgg>[]): TxnUnit => ({
  gtid: { domain: 0, serverId: 1, seq: BigInt(++seq) },
  position: { fileSeq: 1, endPos: seq },
  commitTime: 1000,
  ddl: [],
  indexOffset: 0n,
  tables: tables.map((a) => ({ database: 'shop', table: '?', inserts: 0, updates: 0, deletes: 0, ...a })),
});

/** customers <- orders <- items (NOT NULL keys, CASCADE), notes (nullable CASCADE), addresses (SET NULL), invoices (ON UPDATE CASCADE). */
function shop(counts: Record<string, number>): TableTracker {
  const defs: Record<string, string> = {
    customers: '`id` int(11) NOT NULL, `name` varchar(20) DEFAULT NULL, PRIMARY KEY (`id`)',
    orders: '`id` int(11) NOT NULL, `customer_id` int(11) NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `fk_oc` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`) ON DELETE CASCADE',
    items: '`id` int(11) NOT NULL, `order_id` int(11) NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `fk_io` FOREIGN KEY (`order_id`) REFERENCES `orders` (`id`) ON DELETE CASCADE',
    notes: '`id` int(11) NOT NULL, `customer_id` int(11) DEFAULT NULL, PRIMARY KEY (`id`), CONSTRAINT `fk_nc` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`) ON DELETE CASCADE',
    addresses: '`id` int(11) NOT NULL, `customer_id` int(11) DEFAULT NULL, PRIMARY KEY (`id`), CONSTRAINT `fk_ac` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`) ON DELETE SET NULL',
    invoices: '`id` int(11) NOT NULL, `customer_id` int(11) NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `fk_vc` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`) ON UPDATE CASCADE',
  };
  const t = new TableTracker();
  t.snapshotBegin(Object.entries(defs).map(([table, body]) => ({ database: 'shop', table, createSql: `CREATE TABLE \`${table}\` (${body}) ENGINE=InnoDB` })));
  t.snapshotEnd(Object.entries(counts).map(([table, rows]) => ({ database: 'shop', table, rows })));
  return t;
}

const rows = (t: TableTracker, table: string) => {
  const s = t.get({ database: 'shop', table })!;
  return `${s.rows}${s.estimate ? ` ${s.estimate}` : ''}`;
};

describe('examineTxn: cascades', () => {
  it('DELETE FROM customers: the CASCADE descendants are victims of the same incident, their counts follow', () => {
    const t = shop({ customers: 100, orders: 3000, items: 9000, notes: 40, addresses: 50, invoices: 0 });
    const out = examineTxn(unit([{ table: 'customers', deletes: 100 }]), t, policy);
    expect(out.map((i) => i.table.table)).toEqual(['customers', 'orders', 'notes', 'items']);
    const [c, o, n, i] = out;
    expect(out.every((x) => x.cause === 'DELETE' && x.gtid === c!.gtid)).toBe(true);
    expect(c!.cascade).toEqual([
      { table: { database: 'shop', table: 'orders' }, effect: 'emptied', rows: 3000, via: { database: 'shop', table: 'customers' } },
      { table: { database: 'shop', table: 'notes' }, effect: 'emptied', via: { database: 'shop', table: 'customers' } },
      { table: { database: 'shop', table: 'items' }, effect: 'emptied', rows: 9000, via: { database: 'shop', table: 'orders' } },
    ]);
    expect(c!.detail).toMatch(/^deleted 100 rows of 100 \(100%\).*; through ON DELETE CASCADE foreign keys this also emptied shop\.orders \(3000 rows\), shop\.notes, shop\.items \(9000 rows\)$/);
    expect(c!.possiblyAffected).toEqual([{ table: { database: 'shop', table: 'addresses' }, action: 'ON DELETE SET NULL', via: { database: 'shop', table: 'customers' }, atMostRows: 50 }]);
    expect(o).toMatchObject({ rows: 3000, cascadeFrom: { parent: { table: 'customers' }, key: 'fk_oc', root: { table: 'customers' } } });
    expect(o!.detail).toMatch(/^emptied through ON DELETE CASCADE \(fk_oc\) from shop\.customers: 3000 rows; cascaded deletes are not in the binlog/);
    expect(i).toMatchObject({ rows: 9000, cascadeFrom: { parent: { table: 'orders' }, root: { table: 'customers' } } });
    expect(i!.detail).toContain('from shop.orders, cascading from shop.customers');
    expect(n!.rows).toBeUndefined();
    expect(n!.detail).toMatch(/up to 40 rows, except rows holding NULL in customer_id/);
    expect(c!.group!.map((x) => x.table)).toEqual(['customers', 'orders', 'notes', 'items']);
    expect(o!.group).toBe(c!.group);
    // Counts: emptied exactly, except notes (its NULL-key rows are unknown: 0 is a lower bound).
    expect(['customers', 'orders', 'items', 'notes', 'addresses'].map((x) => rows(t, x))).toEqual(['0', '0', '0', '0 atLeast', '50']);
    // The next delete on items is judged against what is left, not the 9000 rows gone.
    expect(examineTxn(unit([{ table: 'items', inserts: 5 }]), t, policy)).toEqual([]);
    expect(rows(t, 'items')).toBe('5');
  });

  it('an ordinary delete of a parent reduces its descendants by an unknown number: no incident, counts become upper bounds', () => {
    const t = shop({ customers: 100, orders: 3000, items: 9000, notes: 40, addresses: 50, invoices: 10 });
    expect(examineTxn(unit([{ table: 'customers', deletes: 1 }]), t, policy)).toEqual([]);
    expect(['customers', 'orders', 'items', 'notes'].map((x) => rows(t, x))).toEqual(['99', '3000 atMost', '9000 atMost', '40 atMost']);
    // A count that is only an upper bound does not say its parent is empty.
    const out = examineTxn(unit([{ table: 'orders', deletes: 3000 }]), t, policy);
    expect(out.map((i) => i.table.table)).toEqual(['orders', 'items']);
    expect(out[0]!.detail).toMatch(/^deleted 3000 rows of about 3000 \(100%\)/);
    expect(out[1]).toMatchObject({ rows: undefined, cascadeFrom: { parent: { table: 'orders' } } });
    expect(out[1]!.detail).toMatch(/^emptied .*: about 9000 rows/);
  });

  it('a destructive partial delete makes the descendants victims with unknown losses', () => {
    const t = shop({ customers: 5000, orders: 3000, items: 9000, notes: 40, addresses: 50, invoices: 0 });
    const out = examineTxn(unit([{ table: 'customers', deletes: 2000 }]), t, policy);
    expect(out.map((i) => `${i.table.table}:${i.rows}`)).toEqual(['customers:2000', 'orders:undefined', 'notes:undefined', 'items:undefined']);
    expect(out[1]!.detail).toMatch(/^reduced through ON DELETE CASCADE \(fk_oc\) from shop\.customers: how many rows went is unknown \(it had 3000\).*the delete on shop\.customers was destructive$/);
    expect(out[0]!.cascade!.map((c) => c.effect)).toEqual(['reduced', 'reduced', 'reduced']);
    expect(out[0]!.detail).toMatch(/this also deleted rows of shop\.orders \(reduced\), shop\.notes \(reduced\), shop\.items \(reduced\)$/);
    expect(out[0]!.possiblyAffected!.map((p) => p.table.table)).toEqual(['addresses']);
  });

  it('a small parent emptied takes a large child: the child is a victim by its own threshold, the parent joins it', () => {
    const t = shop({ customers: 5, orders: 3000, items: 0, notes: 0, addresses: 0, invoices: 0 });
    const out = examineTxn(unit([{ table: 'customers', deletes: 5 }]), t, policy);
    expect(out.map((i) => i.table.table)).toEqual(['orders', 'customers']);
    expect(out[0]!.detail).toMatch(/more than 1000 rows$/);
    expect(out[1]).toMatchObject({ cause: 'DELETE', rows: 5, detail: 'deleted 5 rows; through ON DELETE CASCADE foreign keys this also emptied shop.orders (3000 rows)' });
    expect(out[1]!.group!.map((x) => x.table)).toEqual(['customers', 'orders']);
    // Emptying small children alone is no incident.
    const t2 = shop({ customers: 5, orders: 8, items: 9, notes: 0, addresses: 0, invoices: 0 });
    expect(examineTxn(unit([{ table: 'customers', deletes: 5 }]), t2, policy)).toEqual([]);
    expect(rows(t2, 'items')).toBe('0');
  });

  it('deletes run with foreign_key_checks=0 cascade nothing', () => {
    const t = shop({ customers: 100, orders: 3000, items: 9000, notes: 40, addresses: 50, invoices: 0 });
    const out = examineTxn(unit([{ table: 'customers', deletes: 100, uncheckedDeletes: 100 }]), t, policy);
    expect(out.map((i) => i.table.table)).toEqual(['customers']);
    expect(out[0]!.cascade).toBeUndefined();
    expect(out[0]!.possiblyAffected).toBeUndefined();
    expect(['orders', 'items'].map((x) => rows(t, x))).toEqual(['3000', '9000']);
    // Some checked, some not: the unchecked ones leave their children behind, so none is known emptied.
    const t2 = shop({ customers: 100, orders: 3000, items: 9000, notes: 40, addresses: 50, invoices: 0 });
    const mixed = examineTxn(unit([{ table: 'customers', deletes: 100, uncheckedDeletes: 1 }]), t2, policy);
    expect(mixed[0]!.cascade!.every((c) => c.effect === 'reduced')).toBe(true);
    expect(rows(t2, 'orders')).toBe('3000 atMost');
  });

  it('a mass UPDATE of a parent names its ON UPDATE children as possibly affected', () => {
    const t = shop({ customers: 100, orders: 0, items: 0, notes: 0, addresses: 3, invoices: 7 });
    const [inc] = examineTxn(unit([{ table: 'customers', updates: 100 }]), t, policy);
    expect(inc!.cause).toBe('UPDATE');
    expect(inc!.possiblyAffected).toEqual([{ table: { database: 'shop', table: 'invoices' }, action: 'ON UPDATE CASCADE', via: { database: 'shop', table: 'customers' }, atMostRows: 7 }]);
    expect(examineTxn(unit([{ table: 'customers', updates: 100, uncheckedUpdates: 100 }]), t, policy)[0]!.possiblyAffected).toBeUndefined();
  });

  it('follows keys added and dropped by DDL', () => {
    const t = shop({ customers: 100, orders: 3000, items: 9000, notes: 40, addresses: 50, invoices: 0 });
    const ddl = (statement: string): TxnUnit => ({ ...unit([]), ddl: [{ defaultDatabase: 'shop', statement, gtid: { domain: 0, serverId: 1, seq: 0 }, position: { fileSeq: 1, endPos: 0 }, commitTime: 1000 }] });
    examineTxn(ddl('ALTER TABLE orders DROP FOREIGN KEY fk_oc'), t, policy);
    examineTxn(ddl('ALTER TABLE notes DROP FOREIGN KEY fk_nc, ADD CONSTRAINT fk_n2 FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE SET NULL'), t, policy);
    const out = examineTxn(unit([{ table: 'customers', deletes: 100 }]), t, policy);
    expect(out.map((i) => i.table.table)).toEqual(['customers']);
    expect(out[0]!.possiblyAffected!.map((p) => `${p.table.table} ${p.action}`).sort()).toEqual(['addresses ON DELETE SET NULL', 'notes ON DELETE SET NULL']);
    expect(rows(t, 'orders')).toBe('3000');
  });
});
