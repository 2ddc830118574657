import { describe, expect, it } from 'vitest';
import {
  formatName,
  formatQualifiedName,
  fromTableId,
  parseDatabaseName,
  parseQualifiedName,
  splitOutsideQuotes,
  tableId,
} from '../../../src/core/table-name.js';
import { UsageError } from '../../../src/core/errors.js';

describe('parseQualifiedName', () => {
  it('reads plain and backtick-quoted names', () => {
    expect(parseQualifiedName('db.t')).toEqual({ database: 'db', table: 't' });
    expect(parseQualifiedName(' `db`.`t` ')).toEqual({ database: 'db', table: 't' });
    expect(parseQualifiedName('`d.ot`.t3')).toEqual({ database: 'd.ot', table: 't3' });
    expect(parseQualifiedName('db.`we``ird`')).toEqual({ database: 'db', table: 'we`ird' });
    expect(parseQualifiedName('`tick``db`.t')).toEqual({ database: 'tick`db', table: 't' });
    expect(parseQualifiedName('a.`b.c`')).toEqual({ database: 'a', table: 'b.c' });
    expect(parseQualifiedName('`a.b`.c')).toEqual({ database: 'a.b', table: 'c' });
  });

  it('refuses ambiguous or malformed names with one sentence', () => {
    expect(() => parseQualifiedName('d.ot.t3')).toThrow(/more than one dot.*write d\.`ot\.t3` or `d\.ot`\.t3/);
    expect(() => parseQualifiedName('justtable')).toThrow(/not a table name; use database\.table/);
    expect(() => parseQualifiedName('`open.t')).toThrow(/never closed/);
    expect(() => parseQualifiedName('db.')).toThrow(UsageError);
    expect(() => parseQualifiedName('we`ird.t')).toThrow(UsageError);
  });
});

describe('parseDatabaseName', () => {
  it('unquotes a quoted name and takes a bare one whole', () => {
    expect(parseDatabaseName('`tick``db`')).toBe('tick`db');
    expect(parseDatabaseName('`d.ot`')).toBe('d.ot');
    expect(parseDatabaseName('tick`db')).toBe('tick`db');
    expect(parseDatabaseName('shop')).toBe('shop');
    expect(() => parseDatabaseName('`a`.`b`')).toThrow(/not one database name/);
    expect(() => parseDatabaseName(' ')).toThrow(/empty/);
  });
});

describe('formatting', () => {
  it('quotes only what needs it, and what it prints parses back', () => {
    expect(formatName('orders')).toBe('orders');
    expect(formatName('d.ot')).toBe('`d.ot`');
    expect(formatName('we`ird')).toBe('`we``ird`');
    expect(formatName('123')).toBe('`123`');
    expect(formatName('my table')).toBe('`my table`');
    for (const [d, t] of [['d.ot', 't3'], ['db', 'we`ird'], ['tick`db', 'x'], ['a', 'b.c'], ['shop', 'orders'], ['1e5', '*']]) {
      expect(parseQualifiedName(formatQualifiedName(d!, t!))).toEqual({ database: d, table: t });
    }
  });

  it('table ids keep names with dots apart', () => {
    expect(tableId('a.b', 'c')).not.toBe(tableId('a', 'b.c'));
    expect(fromTableId(tableId('a.b', 'c'))).toEqual({ database: 'a.b', table: 'c' });
  });

  it('splits outside backticks only', () => {
    expect(splitOutsideQuotes('a.b,`c,d`.e', ',')).toEqual(['a.b', '`c,d`.e']);
    expect(splitOutsideQuotes('`x``,y`.z,w.v', ',')).toEqual(['`x``,y`.z', 'w.v']);
  });
});
