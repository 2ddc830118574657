import { describe, expect, it } from 'vitest';
import { createForeignKeys, ForeignKeyMap } from '../../../src/guard/foreign-keys.js';
import { ddlEffect } from '../../../src/guard/ddl-effects.js';
import { TableTracker } from '../../../src/guard/table-tracker.js';

const orders = { database: 'shop', table: 'orders' };
const shown = `CREATE TABLE \`orders\` (
  \`id\` int(11) NOT NULL,
  \`customer_id\` int(11) NOT NULL,
  \`a\` int(11) DEFAULT NULL,
  \`b\` int(11) DEFAULT NULL,
  PRIMARY KEY (\`id\`),
  KEY \`fk_orders_customer\` (\`customer_id\`),
  CONSTRAINT \`fk_orders_customer\` FOREIGN KEY (\`customer_id\`) REFERENCES \`customers\` (\`id\`) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT \`fk x\` FOREIGN KEY (\`a\`, \`b\`) REFERENCES \`other\`.\`p\` (\`x\`, \`y\`) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='REFERENCES nothing'`;

describe('foreign keys', () => {
  it('reads the keys of a SHOW CREATE TABLE text: names, columns, parents, both actions', () => {
    expect(createForeignKeys(shown, orders)).toEqual([
      { name: 'fk_orders_customer', child: orders, columns: ['customer_id'], parent: { database: 'shop', table: 'customers' }, onDelete: 'CASCADE', onUpdate: 'CASCADE' },
      { name: 'fk x', child: orders, columns: ['a', 'b'], parent: { database: 'other', table: 'p' }, onDelete: 'SET NULL', onUpdate: 'RESTRICT' },
    ]);
  });

  it('generates the names of unnamed keys, reads column REFERENCES, tells ON UPDATE from ON DELETE', () => {
    const keys = createForeignKeys(
      'CREATE TABLE items (id INT PRIMARY KEY, order_id INT NOT NULL REFERENCES orders (id) ON UPDATE CASCADE, sku_id INT, FOREIGN KEY k1 (sku_id) REFERENCES skus (id) ON DELETE NO ACTION, CONSTRAINT FOREIGN KEY (id) REFERENCES x.y (id) ON DELETE SET DEFAULT)',
      { database: 'shop', table: 'items' },
    );
    expect(keys.map((k) => [k.name, k.columns.join(','), `${k.parent.database}.${k.parent.table}`, k.onDelete, k.onUpdate])).toEqual([
      ['items_ibfk_1', 'order_id', 'shop.orders', 'RESTRICT', 'CASCADE'],
      ['items_ibfk_2', 'sku_id', 'shop.skus', 'NO ACTION', 'RESTRICT'],
      ['items_ibfk_3', 'id', 'x.y', 'SET DEFAULT', 'RESTRICT'],
    ]);
    expect(createForeignKeys('CREATE TABLE t (id INT PRIMARY KEY, CHECK (id > 0), UNIQUE KEY u (id))', { database: 'd', table: 't' })).toEqual([]);
  });

  it('reads them from DDL: CREATE (LIKE copies none), ALTER ADD / DROP FOREIGN KEY', () => {
    const c = ddlEffect('CREATE TABLE orders (id INT, cid INT, FOREIGN KEY (cid) REFERENCES customers (id) ON DELETE CASCADE)', 'shop');
    expect(c.kind === 'create' && c.foreignKeys.map((k) => k.name)).toEqual(['orders_ibfk_1']);
    const like = ddlEffect('CREATE TABLE o2 LIKE orders', 'shop');
    expect(like.kind === 'create' && like.foreignKeys).toEqual([]);
    const a = ddlEffect('ALTER TABLE orders DROP FOREIGN KEY IF EXISTS orders_ibfk_1, ADD CONSTRAINT fk2 FOREIGN KEY (cid) REFERENCES c2 (id) ON DELETE SET NULL, ADD FOREIGN KEY (x) REFERENCES c3 (id), DROP CONSTRAINT c9', 'shop');
    expect(a.kind === 'alter' && a.keys.drop).toEqual(['orders_ibfk_1', 'c9']);
    expect(a.kind === 'alter' && a.keys.add.map((k) => [k.name, k.parent.table, k.onDelete])).toEqual([
      ['fk2', 'c2', 'SET NULL'],
      [undefined, 'c3', 'RESTRICT'],
    ]);
    expect(ddlEffect('ALTER TABLE orders ADD INDEX (cid), DROP INDEX k', 'shop')).toMatchObject({ keys: { add: [], drop: [] } });
  });

  it('follows the keys through ALTER, RENAME and DROP as InnoDB does', () => {
    const m = new ForeignKeyMap();
    const customers = { database: 'shop', table: 'customers' };
    m.define(orders, createForeignKeys(shown, orders));
    expect(m.referencing(customers).map((k) => k.name)).toEqual(['fk_orders_customer']);
    // Unnamed keys continue the numbering; a dropped key is gone.
    m.alter(orders, { add: [{ name: undefined, child: orders, columns: ['a'], parent: customers, onDelete: 'CASCADE', onUpdate: 'RESTRICT' }], drop: ['FK X'] });
    expect(m.of(orders).map((k) => k.name)).toEqual(['fk_orders_customer', 'orders_ibfk_1']);
    m.renameColumn(orders, 'customer_id', 'cust');
    expect(m.of(orders)[0]!.columns).toEqual(['cust']);
    // Renaming the parent re-points its children; renaming the child moves its keys.
    m.rename(customers, { database: 'shop', table: 'clients' });
    expect(m.referencing(customers)).toEqual([]);
    expect(m.referencing({ database: 'shop', table: 'clients' })).toHaveLength(2);
    m.rename(orders, { database: 'arch', table: 'o' });
    expect(m.referencing({ database: 'shop', table: 'clients' }).map((k) => `${k.child.database}.${k.child.table}`)).toEqual(['arch.o', 'arch.o']);
    // Dropping the parent (foreign_key_checks=0) keeps the children's keys; dropping the child removes them.
    m.drop({ database: 'shop', table: 'clients' });
    expect(m.referencing({ database: 'shop', table: 'clients' })).toHaveLength(2);
    m.dropDatabase('arch');
    expect(m.referencing({ database: 'shop', table: 'clients' })).toEqual([]);
  });

  it('the tracker takes the keys from snapshots and DDL', () => {
    const t = new TableTracker();
    t.snapshotBegin([{ database: 'shop', table: 'orders', createSql: shown }]);
    expect(t.foreignKeys.of(orders)).toHaveLength(2);
    expect(t.notNull(orders, 'Customer_Id')).toBe(true);
    expect(t.notNull(orders, 'a')).toBe(false);
    t.applyDdl(ddlEffect('ALTER TABLE orders DROP FOREIGN KEY fk_orders_customer', 'shop'));
    expect(t.foreignKeys.of(orders).map((k) => k.name)).toEqual(['fk x']);
    t.applyDdl(ddlEffect('CREATE TABLE IF NOT EXISTS orders (id INT)', 'shop')); // exists: nothing changes
    expect(t.foreignKeys.of(orders)).toHaveLength(1);
    t.applyDdl(ddlEffect('CREATE OR REPLACE TABLE orders (id INT)', 'shop'));
    expect(t.foreignKeys.of(orders)).toEqual([]);
  });
});
