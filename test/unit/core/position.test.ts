import { describe, expect, it } from 'vitest';
import {
  binlogBasename,
  binlogFileSeq,
  comparePositions,
  formatPosition,
  withinCut,
  type Cut,
  type Position,
} from '../../../src/core/position.js';

/** Shorthand for a position in epoch 0: only these tests build one from two bare numbers. */
const position = (fileSeq: number, endPos: number): Position => ({ fileSeq, endPos });

describe('comparePositions', () => {
  it('orders by file sequence before end position', () => {
    expect(Math.sign(comparePositions(position(1, 999_999), position(2, 4)))).toBe(-1);
    expect(Math.sign(comparePositions(position(2, 4), position(1, 999_999)))).toBe(1);
  });

  it('orders by end position within one file', () => {
    expect(Math.sign(comparePositions(position(3, 100), position(3, 200)))).toBe(-1);
    expect(Math.sign(comparePositions(position(3, 200), position(3, 100)))).toBe(1);
    expect(comparePositions(position(3, 200), position(3, 200))).toBe(0);
  });

  it('is a total order: sorting is deterministic and transitive', () => {
    const ps = [position(2, 10), position(1, 500), position(2, 4), position(10, 1), position(1, 4)];
    const sorted = [...ps].sort(comparePositions);
    expect(sorted).toEqual([position(1, 4), position(1, 500), position(2, 4), position(2, 10), position(10, 1)]);
    for (let i = 0; i + 1 < sorted.length; i++) {
      expect(comparePositions(sorted[i]!, sorted[i + 1]!)).toBeLessThan(0);
      expect(comparePositions(sorted[i + 1]!, sorted[i]!)).toBeGreaterThan(0);
    }
  });
});

describe('withinCut', () => {
  const at = position(5, 1000);
  const inclusive: Cut = { at, inclusive: true, label: 'through' };
  const exclusive: Cut = { at, inclusive: false, label: 'before' };

  it('inclusive cut keeps the cut position itself', () => {
    expect(withinCut(position(5, 1000), inclusive)).toBe(true);
    expect(withinCut(position(5, 999), inclusive)).toBe(true);
    expect(withinCut(position(4, 5000), inclusive)).toBe(true);
    expect(withinCut(position(5, 1001), inclusive)).toBe(false);
    expect(withinCut(position(6, 1), inclusive)).toBe(false);
  });

  it('exclusive cut drops the cut position itself', () => {
    expect(withinCut(position(5, 1000), exclusive)).toBe(false);
    expect(withinCut(position(5, 999), exclusive)).toBe(true);
    expect(withinCut(position(4, 5000), exclusive)).toBe(true);
    expect(withinCut(position(6, 1), exclusive)).toBe(false);
  });
});

describe('binlog file names', () => {
  it('binlogFileSeq reads the numeric suffix', () => {
    expect(binlogFileSeq('mariadb-bin.000012')).toBe(12);
    expect(binlogFileSeq('mysql-bin.000001')).toBe(1);
    expect(binlogFileSeq('my.host-bin.1000000')).toBe(1_000_000);
  });

  it('binlogFileSeq refuses names without a numeric suffix', () => {
    expect(() => binlogFileSeq('mariadb-bin')).toThrow(/no numeric suffix/);
    expect(() => binlogFileSeq('mariadb-bin.index')).toThrow(/no numeric suffix/);
  });

  it('binlogBasename strips only the numeric suffix', () => {
    expect(binlogBasename('mariadb-bin.000012')).toBe('mariadb-bin');
    expect(binlogBasename('my.host-bin.000003')).toBe('my.host-bin');
  });

  it('formatPosition pads the sequence to six digits', () => {
    expect(formatPosition(position(7, 1234), 'mariadb-bin')).toBe('mariadb-bin.000007:1234');
    expect(formatPosition(position(7, 1234))).toBe('binlog.000007:1234');
  });
});
