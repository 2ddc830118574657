import { describe, expect, it } from 'vitest';
import { MetaState } from '../../../src/log/meta-state.js';
import { ddlTouches, emptiesTable, planBases } from '../../../src/checkpoint/checkpoint-plan.js';
import { BASE, ddl, snapshotBegin, snapshotEnd } from '../log/meta-fixtures.js';

function meta(...statements: [string, number][]): MetaState {
  const m = new MetaState();
  m.add(snapshotBegin('s1', 1, 100, BASE));
  m.add(snapshotEnd('s1', 1, 100));
  statements.forEach(([sql, pos], i) => m.add(ddl(sql, 1, pos, BASE + i, i + 1)));
  return m;
}

describe('emptiesTable / ddlTouches', () => {
  it('recognizes CREATE TABLE and TRUNCATE of the table, not CREATE ... SELECT or other tables', () => {
    expect(emptiesTable('CREATE TABLE orders (id int)', 'shop', 'shop', 'orders')).toBe(true);
    expect(emptiesTable('TRUNCATE TABLE `shop`.`orders`', 'x', 'shop', 'orders')).toBe(true);
    expect(emptiesTable('TRUNCATE orders', 'shop', 'shop', 'orders')).toBe(true);
    expect(emptiesTable('CREATE TABLE orders SELECT * FROM o2', 'shop', 'shop', 'orders')).toBe(false);
    expect(emptiesTable('TRUNCATE other', 'shop', 'shop', 'orders')).toBe(false);
  });
  it('counts any statement naming the table, and DATABASE statements on its database', () => {
    expect(ddlTouches('ALTER TABLE orders ADD c int', 'shop', 'shop', 'orders')).toBe(true);
    expect(ddlTouches('RENAME TABLE o2 TO orders', 'shop', 'shop', 'orders')).toBe(true);
    expect(ddlTouches('DROP DATABASE shop', 'shop', 'shop', 'orders')).toBe(true);
    expect(ddlTouches('ALTER TABLE other ADD c int', 'shop', 'shop', 'orders')).toBe(false);
  });
});

describe('planBases', () => {
  const at = { fileSeq: 1, endPos: 1000 };
  it('folds from the snapshot when nothing reshaped the table', () => {
    const plan = planBases(meta(), [], at)!;
    expect(plan.bases).toEqual([expect.objectContaining({ table: 'orders', kind: 'snapshot', id: 's1' })]);
  });
  it('re-bases on a TRUNCATE, and skips a table an ALTER reshaped since its base', () => {
    expect(planBases(meta(['TRUNCATE orders', 200]), [], at)!.bases).toEqual([expect.objectContaining({ kind: 'ddl', position: { fileSeq: 1, endPos: 200 } })]);
    const plan = planBases(meta(['TRUNCATE orders', 200], ['ALTER TABLE orders ADD c int', 300]), [], at)!;
    expect(plan.bases).toEqual([]);
    expect(plan.skipped[0]!.reason).toMatch(/DDL since its base/);
  });
  it('builds on the newest checkpoint of the same snapshot', () => {
    const cp = (id: string, endPos: number, snapshotId = 's1') => ({
      offset: 0n,
      position: { fileSeq: 1, endPos },
      manifest: { checkpointId: id, snapshotId, position: { fileSeq: 1, endPos }, commitTime: 0, gtidPos: '', bindings: [], tables: [{ database: 'shop', table: 'orders' } as never] },
    });
    const plan = planBases(meta(), [cp('c1', 300), cp('c2', 500), cp('c3', 2000), cp('other', 700, 's0')], at)!;
    expect(plan.bases).toEqual([expect.objectContaining({ kind: 'checkpoint', id: 'c2' })]);
  });
});
