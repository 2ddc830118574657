// The restore panel's request: checked with the command line's own parsers, written out as the
// exact `pitr restore` command, bad input refused in one sentence.
import { describe, expect, it } from 'vitest';
import { checkRestoreRequest, shellWord } from '../../../src/ui/restore-request.js';
import { UsageError } from '../../../src/core/errors.js';

describe('restore request', () => {
  it('writes the command for a database before a GTID', () => {
    const r = checkRestoreRequest({ database: 'shop', beforeGtid: '0-1-550' });
    expect(r.command).toBe('pitr restore --database shop --before-gtid 0-1-550');
    expect(r.cut).toEqual({ beforeGtid: { domain: 0, serverId: 1, seq: 550n } });
    expect(r.replace).toBe(false);
  });

  it('writes tables, a time, the destination and --replace only when asked', () => {
    const r = checkRestoreRequest({ tables: ['shop.orders', 'shop.customers'], asOf: '2026-12-03T13:28:31Z', intoDatabase: 'shop_b', replace: true });
    expect(r.command).toBe('pitr restore --table shop.orders --table shop.customers --as-of 2026-12-03T13:28:31Z --into-database shop_b --replace');
    expect(r.cut).toEqual({ asOf: Date.UTC(2026, 11, 3, 13, 28, 31) / 1000 });
    expect(r.tables).toEqual([{ database: 'shop', table: 'orders' }, { database: 'shop', table: 'customers' }]);
  });

  it('quotes what a shell would split', () => {
    expect(shellWord('`d.ot`.t3')).toBe("'`d.ot`.t3'");
    expect(shellWord("it's")).toBe(`'it'\\''s'`);
    expect(checkRestoreRequest({ tables: ['`d.ot`.t3'], throughGtid: '0-1-7' }).command).toBe("pitr restore --table '`d.ot`.t3' --through-gtid 0-1-7");
  });

  it.each([
    [{}, /say what to restore/],
    [{ database: 'shop' }, /give exactly one cut/],
    [{ database: 'shop', asOf: 'now', beforeGtid: '0-1-2' }, /give one cut, not 2/],
    [{ database: 'shop', tables: ['shop.t'], asOf: 'now' }, /either tables or a database/],
    [{ database: 'shop', beforeGtid: 'x' }, /GTID|gtid/],
    [{ database: 'shop', asOf: 'yesterday' }, /is not a time/],
    [{ database: 'shop', asOf: 'now', replace: 'yes' }, /replace must be true or false/],
    [{ tables: 'shop.t', asOf: 'now' }, /tables must be a list/],
  ])('refuses %j', (body, message) => {
    expect(() => checkRestoreRequest(body)).toThrow(UsageError);
    expect(() => checkRestoreRequest(body)).toThrow(message);
  });
});
