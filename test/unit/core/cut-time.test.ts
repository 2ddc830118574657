import { describe, expect, it } from 'vitest';
import { formatEpoch, parseCutTime } from '../../../src/core/cut-time.js';
import { UsageError } from '../../../src/core/errors.js';

const T = 1582484160; // 2020-02-23T18:56:00Z

function usageError(text: string): UsageError {
  try {
    parseCutTime(text);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error(`parseCutTime(${JSON.stringify(text)}) did not throw`);
}

describe('parseCutTime', () => {
  it('parses ISO-8601 with Z', () => {
    expect(parseCutTime('2020-02-23T18:56:00Z')).toBe(T);
    expect(parseCutTime('2020-02-23t18:56:00z')).toBe(T);
  });

  it('parses a space-separated time with a positive offset', () => {
    expect(parseCutTime('2020-02-23 18:56:00+08:00')).toBe(T - 8 * 3600);
    expect(parseCutTime('2020-02-24 02:56:00+08:00')).toBe(T);
    expect(parseCutTime('2020-02-24 02:56:00+0800')).toBe(T);
    expect(parseCutTime('2020-02-24 02:56:00+08')).toBe(T);
  });

  it('parses negative offsets, including minutes', () => {
    expect(parseCutTime('2020-02-23T13:56:00-05:00')).toBe(T);
    expect(parseCutTime('2020-02-23T15:26:00-03:30')).toBe(T);
    expect(parseCutTime('2020-02-24T00:26:00+05:30')).toBe(T);
  });

  it('treats a time without offset as UTC', () => {
    expect(parseCutTime('2020-02-23T18:56:00')).toBe(T);
    expect(parseCutTime('2020-02-23 18:56:00')).toBe(T);
    expect(parseCutTime('2020-02-23T18:56')).toBe(T);
    expect(parseCutTime('2020-02-23')).toBe(Date.UTC(2020, 1, 23) / 1000);
  });

  it('parses @epoch-seconds', () => {
    expect(parseCutTime('@1582484160')).toBe(T);
    expect(parseCutTime('  @1582484160  ')).toBe(T);
    expect(parseCutTime('@1582484160.9')).toBe(T);
  });

  it('truncates fractional seconds to the second', () => {
    expect(parseCutTime('2020-02-23T18:56:00.999Z')).toBe(T);
    expect(parseCutTime('2020-02-23T18:56:00.000001Z')).toBe(T);
    expect(parseCutTime('2020-02-23T18:56:00.999999999')).toBe(T);
    expect(parseCutTime('2020-02-23T18:56:01.5+00:00')).toBe(T + 1);
  });

  it('accepts Feb 29 in a leap year', () => {
    expect(parseCutTime('2020-02-29T00:00:00Z')).toBe(Date.UTC(2020, 1, 29) / 1000);
  });

  it.each([
    ['yesterday'],
    ['2020-02-30 00:00:00'],
    ['2020-13-01'],
    ['2021-02-29'],
    ['2020-00-10'],
    ['2020-02-23 24:00:00'],
    ['2020-02-23 18:60:00'],
    ['2020-02-23 18:56:60'],
    [''],
    ['1582484160'],
    ['@abc'],
  ])('refuses %j with a UsageError that quotes the input', (text) => {
    const err = usageError(text);
    expect(err.message).toContain(`"${text}"`);
    expect(err.message.length).toBeGreaterThan(text.length + 10);
    expect(err.retriable).toBe(false);
  });

  it('says how to write a time when the text is not a time at all', () => {
    expect(usageError('yesterday').message).toMatch(/ISO-8601.*@epoch/);
  });
});

describe('formatEpoch', () => {
  it('renders whole seconds without milliseconds', () => {
    expect(formatEpoch(T)).toBe('2020-02-23T18:56:00Z');
    expect(formatEpoch(0)).toBe('1970-01-01T00:00:00Z');
  });

  it('round trips with parseCutTime', () => {
    expect(parseCutTime(formatEpoch(T + 7))).toBe(T + 7);
  });
});

describe('now, relative times and the range pitr handles', () => {
  const NOW_MS = T * 1000 + 750;

  it('reads now and -30s, -5m, -2h, -1d from the given clock, whole seconds', () => {
    expect(parseCutTime('now', NOW_MS)).toBe(T);
    expect(parseCutTime('NOW', NOW_MS)).toBe(T);
    expect(parseCutTime('-30s', NOW_MS)).toBe(T - 30);
    expect(parseCutTime('-5m', NOW_MS)).toBe(T - 300);
    expect(parseCutTime('-2h', NOW_MS)).toBe(T - 7200);
    expect(parseCutTime('-1d', NOW_MS)).toBe(T - 86400);
    expect(parseCutTime('now-5m', NOW_MS)).toBe(T - 300);
  });

  it('refuses relative forms it does not know', () => {
    expect(() => parseCutTime('-5w', NOW_MS)).toThrow(UsageError);
    expect(() => parseCutTime('+5m', NOW_MS)).toThrow(UsageError);
    expect(() => parseCutTime('-m', NOW_MS)).toThrow(UsageError);
  });

  it('refuses times outside 1970..9999 with a sentence, not "Invalid time value"', () => {
    expect(() => parseCutTime('@99999999999999')).toThrow(/"@99999999999999" is outside the times pitr handles \(1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z\)/);
    expect(() => parseCutTime('@-1')).toThrow(/outside the times pitr handles/);
    expect(() => parseCutTime('-99999999999d', NOW_MS)).toThrow(/outside the times pitr handles/);
    expect(parseCutTime('@253402300799')).toBe(253402300799);
    expect(formatEpoch(parseCutTime('9999-12-31T23:59:59Z'))).toBe('9999-12-31T23:59:59Z');
  });
});
