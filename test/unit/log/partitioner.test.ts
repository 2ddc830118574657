import { describe, expect, it } from 'vitest';
import { keyHash, partitionFor } from '../../../src/log/partitioner.js';

describe('keyHash', () => {
  it('is FNV-1a 32-bit over UTF-8', () => {
    // Reference values of FNV-1a 32.
    expect(keyHash('')).toBe(0x811c9dc5);
    expect(keyHash('a')).toBe(0xe40c292c);
    expect(keyHash('foobar')).toBe(0xbf9cf968);
  });

  it('hashes the UTF-8 bytes, not UTF-16 units', () => {
    expect(keyHash('é')).not.toBe(keyHash('\u00e9'.normalize('NFD')));
    expect(keyHash('é')).toBe(keyHash(Buffer.from([0xc3, 0xa9]).toString('utf8')));
  });

  it('is an unsigned 32-bit integer', () => {
    for (const k of ['shop.orders', 'db.😀', 'x'.repeat(1000)]) {
      const h = keyHash(k);
      expect(Number.isInteger(h)).toBe(true);
      expect(h).toBeGreaterThanOrEqual(0);
      expect(h).toBeLessThan(2 ** 32);
    }
  });
});

describe('partitionFor', () => {
  it('is stable across calls', () => {
    expect(partitionFor('shop.orders', 6)).toBe(partitionFor('shop.orders', 6));
    expect(partitionFor('shop.orders', 6)).toBe(keyHash('shop.orders') % 6);
  });

  it('is always in range', () => {
    for (const n of [1, 2, 3, 6, 7, 100]) {
      for (let i = 0; i < 200; i++) {
        const p = partitionFor(`db${i}.t${i * 7}`, n);
        expect(Number.isInteger(p)).toBe(true);
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThan(n);
      }
    }
  });

  it('spreads keys over partitions', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 100; i++) seen.add(partitionFor(`db.t${i}`, 6));
    expect(seen.size).toBe(6);
  });

  it('maps everything to 0 with one partition', () => {
    expect(partitionFor('a.b', 1)).toBe(0);
  });
});
