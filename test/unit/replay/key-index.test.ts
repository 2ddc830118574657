// KeyIndex against a Map: same slots for the same keys through growth and rehashing.
import { describe, expect, it } from 'vitest';
import { KeyIndex } from '../../../src/replay/key-index.js';

describe('KeyIndex', () => {
  it('gives each distinct key one slot, in order of first sight, through growth', () => {
    const idx = new KeyIndex();
    const ref = new Map<string, number>();
    // Keys of many lengths (incl. empty and 8-bit chars) and heavy repetition; enough to rehash many times.
    let wrong = 0;
    for (let i = 0; i < 200_000; i++) {
      const n = (i * 7919) % 50_000;
      const key = n % 97 === 0 ? '' : n % 3 === 0 ? `k${n}\t\u00ff${'x'.repeat(n % 40)}` : String(n);
      const before = idx.size;
      const slot = idx.add(key);
      const want = ref.get(key) ?? before;
      if (!ref.has(key)) ref.set(key, slot);
      if (slot !== want) wrong++;
    }
    expect(wrong).toBe(0);
    expect(idx.size).toBe(ref.size);
    for (const [k, s] of ref) {
      expect(idx.find(k)).toBe(s);
      expect(idx.keyAt(s)).toBe(k);
    }
    expect(idx.find('absent')).toBe(-1);
    expect(idx.find('1\t')).toBe(-1);
  });

  it('holds short keys in tens of bytes each', () => {
    const idx = new KeyIndex();
    for (let i = 0; i < 1_000_000; i++) idx.add(String(1_000_000 + i));
    expect(idx.bytes / idx.size).toBeLessThan(40);
  });
});
