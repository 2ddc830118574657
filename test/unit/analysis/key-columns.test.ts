import { describe, expect, it } from 'vitest';
import { createdTable, keyColumnsFromCreate, tableKeyColumns } from '../../../src/analysis/key-columns.js';
import { MetaState } from '../../../src/log/meta-state.js';
import { BASE, ddl, snapshotBegin, snapshotEnd } from '../log/meta-fixtures.js';

describe('keyColumnsFromCreate', () => {
  it('reads the primary key of SHOW CREATE TABLE text, composite and quoted', () => {
    const sql = 'CREATE TABLE `t` (\n  `a` int(11) NOT NULL,\n  `b``x` varchar(10) NOT NULL,\n  `c` int DEFAULT NULL,\n  PRIMARY KEY (`a`,`b``x`),\n  KEY `k` (`c`)\n) ENGINE=InnoDB';
    expect(keyColumnsFromCreate(sql)).toEqual(['a', 'b`x']);
  });

  it('reads an inline PRIMARY KEY and ignores DEFAULT text and CHECK constraints', () => {
    expect(keyColumnsFromCreate("CREATE TABLE db.t (note VARCHAR(20) DEFAULT 'PRIMARY KEY (x)', id INT PRIMARY KEY, CHECK (id > 0))")).toEqual(['id']);
  });

  it('falls back to a unique key over NOT NULL columns; prefix and nullable uniques do not count', () => {
    expect(keyColumnsFromCreate('CREATE TABLE t (a INT NOT NULL, b INT, UNIQUE KEY u (b), UNIQUE KEY v (a))')).toEqual(['a']);
    expect(keyColumnsFromCreate('CREATE TABLE t (a TEXT NOT NULL, UNIQUE KEY u (a(10)))')).toBeNull();
    expect(keyColumnsFromCreate('CREATE TABLE t (a INT, b INT)')).toBeNull();
  });

  it('names the table a CREATE TABLE creates', () => {
    expect(createdTable('CREATE TABLE IF NOT EXISTS `d`.`t` (a int)', 'x')).toEqual({ database: 'd', table: 't' });
    expect(createdTable('create or replace table t (a int)', 'x')).toEqual({ database: 'x', table: 't' });
    expect(createdTable('ALTER TABLE t ADD b INT', 'x')).toBeNull();
  });

  it('takes the newest definition in the log: snapshot text, then a later CREATE TABLE', () => {
    const m = new MetaState();
    m.add(snapshotBegin('s1', 1, 100, BASE));
    m.add(snapshotEnd('s1', 1, 100));
    expect(tableKeyColumns(m, 'shop', 'orders')).toBeNull(); // fixture: `id` int, no key
    m.add(ddl('DROP TABLE orders', 1, 200, BASE + 1, 2));
    m.add(ddl('CREATE TABLE orders (id INT, k INT NOT NULL, PRIMARY KEY (k))', 1, 300, BASE + 2, 3));
    expect(tableKeyColumns(m, 'shop', 'orders')).toEqual(['k']);
    expect(tableKeyColumns(m, 'shop', 'orders', { fileSeq: 1, endPos: 250 })).toBeNull();
  });
});
