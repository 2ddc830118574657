import { describe, expect, it } from 'vitest';
import { checkRulesMatch, normalizeTableFilter, parseFilterRules, parseTableFilter, removedTables } from '../../../src/capture/table-filter.js';

const source = [
  { database: 'shop_eu', table: 'orders' },
  { database: 'shop_us', table: 'orders' },
  { database: 'shop_us', table: 'customers' },
  { database: 'billing', table: 'orders' },
  { database: 'billing', table: 't1' },
  { database: 'billing', table: 't22' },
  { database: 'd.ot', table: 't3' },
  { database: 'mysql', table: 'user' },
];

describe('--tables rules', () => {
  it('matches exact names, db.* and globs in either part', () => {
    const f = parseTableFilter('shop_*.*,*.orders,billing.t?');
    expect(f('shop_eu', 'orders')).toBe(true);
    expect(f('shop_us', 'customers')).toBe(true);
    expect(f('billing', 'orders')).toBe(true);
    expect(f('billing', 't1')).toBe(true);
    expect(f('billing', 't22')).toBe(false);
    expect(f('mysql', 'user')).toBe(false);
    expect(parseTableFilter('*.*')('mysql', 'user')).toBe(false);
    expect(parseTableFilter('*.*')('any', 'thing')).toBe(true);
  });

  it('takes quoted names literally, globs included', () => {
    const f = parseTableFilter('`d.ot`.t3,db.`a*`');
    expect(f('d.ot', 't3')).toBe(true);
    expect(f('db', 'a*')).toBe(true);
    expect(f('db', 'ab')).toBe(false);
    // A dot in a glob is a literal dot, not "any character".
    expect(parseTableFilter('d.*')('dxot', 't3')).toBe(false);
  });

  it('normalizes the spec recorded in the log (sorted, quoted where needed, without +)', () => {
    expect(normalizeTableFilter(' b.*, `a`.t ,+new.*')).toBe('a.t,b.*,new.*');
    expect(normalizeTableFilter('`d.ot`.t3')).toBe('`d.ot`.t3');
    expect(normalizeTableFilter('')).toBe('');
    // What it records parses back to the same filter.
    const spec = normalizeTableFilter('`d.ot`.t3,db.`we``ird`');
    expect(parseTableFilter(spec)('db', 'we`ird')).toBe(true);
    expect(parseTableFilter(spec)('d.ot', 't3')).toBe(true);
  });

  it('refuses a rule matching no table, naming the closest databases or tables', () => {
    expect(() => checkRulesMatch(parseFilterRules('shpo_*.*'), source)).toThrow(/"shpo_\*\.\*" matches no table on the source \(closest databases: shop_eu, shop_us/);
    expect(() => checkRulesMatch(parseFilterRules('billing.ordrs'), source)).toThrow(/closest tables there: billing\.orders/);
    expect(() => checkRulesMatch(parseFilterRules('mysql.*'), source)).toThrow(/matches no table/);
    expect(() => checkRulesMatch(parseFilterRules('nodb.*'), source)).toThrow(/write it as "\+nodb\.\*"/);
    expect(() => checkRulesMatch(parseFilterRules('+nodb.*,shop_*.*,`d.ot`.t3'), source)).not.toThrow();
  });

  it('finds the tables a narrower filter leaves out', () => {
    const removed = removedTables(parseTableFilter(''), parseTableFilter('shop_*.*'), source);
    expect(removed).toEqual([
      { database: 'billing', table: 'orders' },
      { database: 'billing', table: 't1' },
      { database: 'billing', table: 't22' },
      { database: 'd.ot', table: 't3' },
    ]);
    expect(removedTables(parseTableFilter('shop_eu.*'), parseTableFilter('shop_*.*'), source)).toEqual([]);
  });

  it('refuses malformed rules', () => {
    expect(() => parseFilterRules('justdb')).toThrow(/not db\.table/);
    expect(() => parseFilterRules('a.b.c')).toThrow(/not db\.table/);
  });
});
