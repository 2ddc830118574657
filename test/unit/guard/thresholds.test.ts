import { describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLD, massChangeReason, parseThresholdRule, ThresholdPolicy } from '../../../src/guard/thresholds.js';

describe('thresholds', () => {
  it('applies defaults, then matching rules in order, and the watch list', () => {
    const p = new ThresholdPolicy(DEFAULT_THRESHOLD, [parseThresholdRule('shop.*=rows:500'), parseThresholdRule('shop.orders=pct:20,min:5'), parseThresholdRule('shop.log=off')], 'shop.*');
    expect(p.for('shop', 'orders')).toEqual({ rows: 500, pct: 20, minRows: 5, off: false });
    expect(p.for('shop', 'items')).toEqual({ ...DEFAULT_THRESHOLD, rows: 500 });
    expect(p.for('shop', 'log').off).toBe(true);
    expect(p.for('other', 't').off).toBe(true);
  });

  it('refuses malformed rules with one sentence', () => {
    expect(() => parseThresholdRule('shop.orders')).toThrow(/db.table=rows:N/);
    expect(() => parseThresholdRule('shop.orders=rows:x')).toThrow(/not rows:N/);
    expect(() => parseThresholdRule('orders=rows:1')).toThrow(/not db.table/);
    expect(() => parseThresholdRule('a.b=pct:150')).toThrow(/at most 100/);
  });

  it('judges rows and percent, the percent only from minRows on and only with a known size', () => {
    const t = DEFAULT_THRESHOLD;
    expect(massChangeReason(t, 1001, undefined)).toMatch(/more than 1000 rows/);
    expect(massChangeReason(t, 1000, 100_000)).toBeNull();
    expect(massChangeReason(t, 51, 100)).toMatch(/50%/);
    expect(massChangeReason(t, 50, 100)).toBeNull();
    expect(massChangeReason(t, 9, 10)).toBeNull(); // below minRows
    expect(massChangeReason(t, 500, undefined)).toBeNull();
    expect(massChangeReason({ ...t, off: true }, 5000, 5000)).toBeNull();
  });
});
