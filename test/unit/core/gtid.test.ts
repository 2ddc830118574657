import { describe, expect, it } from 'vitest';
import { formatGtid, parseGtid, sameGtid } from '../../../src/core/gtid.js';
import { UsageError } from '../../../src/core/errors.js';

describe('parseGtid', () => {
  it('parses domain-server-seq', () => {
    expect(parseGtid('0-1-1234')).toEqual({ domain: 0, serverId: 1, seq: 1234n });
    expect(parseGtid(' 3-42-7 ')).toEqual({ domain: 3, serverId: 42, seq: 7n });
  });

  it('keeps a u64 max sequence exact as bigint', () => {
    const g = parseGtid('4294967295-4294967295-18446744073709551615');
    expect(g.domain).toBe(4294967295);
    expect(g.serverId).toBe(4294967295);
    expect(typeof g.seq).toBe('bigint');
    expect(g.seq).toBe(18446744073709551615n);
    expect(g.seq).not.toBe(18446744073709551614n);
  });

  it('keeps sequence numbers beyond 2^53 exact', () => {
    expect(parseGtid('0-1-9007199254740993').seq).toBe(9007199254740993n);
  });

  it.each([
    'abc',
    '0-1',
    '0-1-2-3',
    '-1-1-1',
    '0-1-',
    '0-1-1.5',
    '0-1-18446744073709551616',
    '4294967296-1-1',
    '0-4294967296-1',
    '0:1:1',
    '',
  ])('refuses %j with a UsageError', (text) => {
    expect(() => parseGtid(text)).toThrow(UsageError);
    expect(() => parseGtid(text)).toThrow(/GTID/);
  });
});

describe('formatGtid / sameGtid', () => {
  it('formats domain-server-seq', () => {
    expect(formatGtid({ domain: 0, serverId: 1, seq: 18446744073709551615n })).toBe('0-1-18446744073709551615');
  });

  it('round trips with parseGtid', () => {
    for (const t of ['0-1-1', '7-100-9007199254740993', '1-2-18446744073709551615']) {
      expect(formatGtid(parseGtid(t))).toBe(t);
    }
  });

  it('compares every component', () => {
    const g = parseGtid('1-2-3');
    expect(sameGtid(g, parseGtid('1-2-3'))).toBe(true);
    expect(sameGtid(g, parseGtid('0-2-3'))).toBe(false);
    expect(sameGtid(g, parseGtid('1-0-3'))).toBe(false);
    expect(sameGtid(g, parseGtid('1-2-4'))).toBe(false);
  });
});
