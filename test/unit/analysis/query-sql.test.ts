import { describe, expect, it } from 'vitest';
import { assertReadOnly, mapDatabases, tableRefs } from '../../../src/analysis/query-sql.js';
import { renderTable, renderTsv } from '../../../src/analysis/text-table.js';

describe('assertReadOnly', () => {
  it('accepts reads', () => {
    for (const sql of [
      'SELECT 1',
      '  -- note\n select * from a.b',
      'WITH x AS (SELECT 1) SELECT * FROM x',
      '(SELECT 1) UNION (SELECT 2)',
      'EXPLAIN SELECT * FROM a.b',
      'SHOW CREATE TABLE a.b',
      'SELECT INSERT(name, 1, 2, "x"), CAST(a AS CHAR CHARACTER SET utf8mb4) FROM a.b FOR UPDATE',
      'SELECT 1;',
    ]) expect(() => assertReadOnly(sql), sql).not.toThrow();
  });

  it('refuses writes, INTO, several statements and executable comments', () => {
    for (const sql of [
      'DELETE FROM a.b',
      'UPDATE a.b SET x = 1',
      "SELECT * FROM a.b INTO OUTFILE '/tmp/x'",
      'SELECT 1 INTO @v',
      'SELECT 1; DROP TABLE a.b',
      'SELECT /*!99999 1; DELETE FROM a.b */ 1',
      'CREATE TABLE x AS SELECT 1',
    ]) expect(() => assertReadOnly(sql), sql).toThrow(/pitr query/);
  });
});

describe('tableRefs', () => {
  it('finds qualified and unqualified tables after FROM, JOIN and in comma lists', () => {
    const r = tableRefs('SELECT o.id FROM shop.orders o JOIN `shop`.`my table` AS m ON m.id = o.m, lines l LEFT JOIN x.y USING (id) WHERE o.id IN (SELECT id FROM z)');
    expect(r.qualified).toEqual([
      { database: 'shop', table: 'orders' },
      { database: 'shop', table: 'my table' },
      { database: 'x', table: 'y' },
    ]);
    expect(r.unqualified).toEqual(['lines', 'z']);
  });

  it('skips CTE names, derived tables and FROM inside EXTRACT', () => {
    const r = tableRefs('WITH t AS (SELECT * FROM a.b), u (c) AS (SELECT 1) SELECT EXTRACT(YEAR FROM d) FROM t, u, (SELECT 1 FROM c) AS s');
    expect(r.qualified).toEqual([{ database: 'a', table: 'b' }]);
    expect(r.unqualified).toEqual(['c']);
  });

  it('maps only the named databases; aliases and column qualifiers stay', () => {
    const m = new Map([['shop', 'pitr_asof_1']]);
    expect(mapDatabases("SELECT o.id, shop.orders.total, 'shop.x' FROM shop.orders o", m)).toBe(
      "SELECT `o`.id, `pitr_asof_1`.orders.total, 'shop.x' FROM `pitr_asof_1`.orders o",
    );
  });
});

describe('text output', () => {
  it('renders an aligned table and escaped TSV', () => {
    expect(renderTable(['a', 'bb'], [[1, null]])).toBe('+---+------+\n| a | bb   |\n+---+------+\n| 1 | NULL |\n+---+------+\n1 row\n');
    expect(renderTsv(['a'], [['x\ty\n'], [null]])).toBe('a\nx\\ty\\n\nNULL\n');
  });
});
