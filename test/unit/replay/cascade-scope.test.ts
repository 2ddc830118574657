import { describe, expect, it } from 'vitest';
import { cascadeDescendants, cascadeScope, cascadeVictims } from '../../../src/replay/cascade-scope.js';
import { changeStatement } from '../../../src/replay/change-sql.js';
import { foreignKeyEdges, rewriteCreateTable } from '../../../src/schema/ddl-rewriter.js';
import { Op } from '../../../src/log/record-types.js';
import { tableId } from '../../../src/core/table-name.js';

const shop = [
  { sql: 'CREATE TABLE `customers` (`id` int NOT NULL, PRIMARY KEY (`id`))', defaultDb: 'shop' },
  { sql: 'CREATE TABLE `orders` (`id` int, `cid` int, CONSTRAINT `f` FOREIGN KEY (`cid`) REFERENCES `customers` (`id`) ON DELETE CASCADE)', defaultDb: 'shop' },
  { sql: 'CREATE TABLE items (id int, oid int, FOREIGN KEY (oid) REFERENCES orders(id))', defaultDb: 'shop' },
  { sql: 'CREATE TABLE notes (id int, cid int REFERENCES shop.customers(id) ON UPDATE NO ACTION ON DELETE RESTRICT)', defaultDb: 'shop' },
  { sql: 'CREATE TABLE plain (id int primary key)', defaultDb: 'shop' },
];

describe('foreignKeyEdges', () => {
  it('reads constraint clauses and column REFERENCES, with and without actions', () => {
    expect(foreignKeyEdges(shop[1]!.sql, 'shop')).toEqual([{ child: { database: 'shop', table: 'orders' }, parent: { database: 'shop', table: 'customers' }, acts: true }]);
    expect(foreignKeyEdges(shop[3]!.sql, 'shop')).toEqual([{ child: { database: 'shop', table: 'notes' }, parent: { database: 'shop', table: 'customers' }, acts: false }]);
    expect(foreignKeyEdges('ALTER TABLE a.t ADD FOREIGN KEY (x) REFERENCES p (id) ON UPDATE SET NULL', 'b')).toEqual([
      { child: { database: 'a', table: 't' }, parent: { database: 'a', table: 'p' }, acts: true },
    ]);
    expect(foreignKeyEdges("INSERT INTO t VALUES ('REFERENCES x ON DELETE CASCADE')", 'a')).toEqual([]);
    expect(foreignKeyEdges('CREATE TABLE IF NOT EXISTS t (a int)', 'a')).toEqual([]);
  });
});

describe('cascadeScope', () => {
  it('orders nothing without a referential action', () => {
    expect(cascadeScope({ statements: [shop[0]!, shop[2]!, shop[4]!], database: 'shop', lineage: new Set() }).size).toBe(0);
  });

  it('orders every table connected to an action in a database restore', () => {
    const s = cascadeScope({ statements: shop, database: 'shop', lineage: new Set() });
    expect([...s].sort()).toEqual(['customers', 'items', 'notes', 'orders'].map((t) => tableId('shop', t)).sort());
  });

  it('orders a child restored alone with every table it references, transitively', () => {
    const s = cascadeScope({ statements: shop, lineage: new Set([tableId('shop', 'items')]) });
    expect([...s].sort()).toEqual(['customers', 'items', 'orders'].map((t) => tableId('shop', t)).sort());
    expect(cascadeScope({ statements: shop, lineage: new Set([tableId('shop', 'plain')]) }).size).toBe(0);
  });

  it('follows renames', () => {
    const s = cascadeScope({
      statements: [...shop, { sql: 'RENAME TABLE orders TO orders_v2', defaultDb: 'shop' }],
      lineage: new Set([tableId('shop', 'orders_v2')]),
    });
    expect(s.has(tableId('shop', 'orders'))).toBe(true);
    expect(s.has(tableId('shop', 'customers'))).toBe(true);
  });
});

describe('rewriteCreateTable', () => {
  it('renames the table and re-aims references, leaving self-references', () => {
    const sql = 'CREATE TABLE `t` (\n  `a` int,\n  CONSTRAINT `f` FOREIGN KEY (`a`) REFERENCES `p` (`id`),\n  CONSTRAINT `g` FOREIGN KEY (`a`) REFERENCES `t` (`id`),\n  CONSTRAINT `h` FOREIGN KEY (`a`) REFERENCES `pitr_tmp_x_1`.`q` (`id`)\n)';
    const out = rewriteCreateTable(sql, 't2', (db, t) => (db === null ? (t === 't' ? null : `\`into\`.\`${t}\``) : `\`other\`.\`${t}\``));
    expect(out).toBe(
      'CREATE TABLE `t2` (\n  `a` int,\n  CONSTRAINT `f` FOREIGN KEY (`a`) REFERENCES `into`.`p` (`id`),\n  CONSTRAINT `g` FOREIGN KEY (`a`) REFERENCES `t` (`id`),\n  CONSTRAINT `h` FOREIGN KEY (`a`) REFERENCES `other`.`q` (`id`)\n)',
    );
  });
});

describe('changeStatement', () => {
  const v = (n: number) => ({ int: n });
  it('matches by key, or by every column without one', () => {
    const cols = ['id', 'name'];
    expect(changeStatement('`d`.`t`', ['id'], cols, { op: Op.INSERT, index: 0, after: { values: [v(1), { text: "o'k" }] } })).toBe(
      "INSERT INTO `d`.`t` (`id`, `name`) VALUES (1, 'o\\'k')",
    );
    expect(changeStatement('`d`.`t`', ['id'], cols, { op: Op.UPDATE, index: 0, before: { values: [v(1), { text: 'a' }] }, after: { values: [v(2), { null: true }] } })).toBe(
      'UPDATE `d`.`t` SET `id` = 2, `name` = NULL WHERE `id` <=> 1 LIMIT 1',
    );
    expect(changeStatement('`d`.`t`', null, cols, { op: Op.DELETE, index: 0, before: { values: [v(1), { text: 'a' }] } })).toBe(
      "DELETE FROM `d`.`t` WHERE `id` <=> 1 AND `name` <=> 'a' LIMIT 1",
    );
  });
});

describe('cascadeVictims and cascadeDescendants', () => {
  const chain = [
    { sql: 'CREATE TABLE fk.orders (id INT PRIMARY KEY, cid INT, FOREIGN KEY (cid) REFERENCES customers (id) ON DELETE CASCADE)', defaultDb: '' },
    { sql: 'CREATE TABLE items (id INT PRIMARY KEY, oid INT, FOREIGN KEY (oid) REFERENCES orders (id) ON DELETE CASCADE)', defaultDb: 'fk' },
    { sql: 'CREATE TABLE notes (id INT PRIMARY KEY, oid INT, FOREIGN KEY (oid) REFERENCES orders (id))', defaultDb: 'fk' },
    { sql: 'CREATE TABLE tree (id INT PRIMARY KEY, up INT, FOREIGN KEY (up) REFERENCES tree (id) ON DELETE CASCADE)', defaultDb: 'fk' },
  ];
  it('names the children of actions, not those of plain keys', () => {
    expect([...cascadeVictims(chain)].sort()).toEqual(['items', 'orders', 'tree'].map((t) => tableId('fk', t)).sort());
  });
  it('reaches down a chain nearest first, skipping self-references', () => {
    expect(cascadeDescendants(chain, tableId('fk', 'customers'))).toEqual([tableId('fk', 'orders'), tableId('fk', 'items')]);
    expect(cascadeDescendants(chain, tableId('fk', 'tree'))).toEqual([]);
  });
});
