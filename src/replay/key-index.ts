// A compact string -> slot index for the fold's keys (pure): open addressing over typed arrays with
// the keys' bytes in one arena. A V8 Map costs ~133 bytes of RSS per short string key (measured: 10M
// keys took 1.37 GB) and stops at 2^24 entries; this holds a key in its bytes + ~16, so the
// fold's O(keys) fits the memory budget it reports, with no entry limit.

const EMPTY = -1;
const MAX_LOAD = 0.6;

/** FNV-1a over a latin1 string's char codes (keys are latin1: one char per byte). */
function hashOf(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h | 0;
}

function grown<T extends Int32Array | Float64Array | Uint8Array>(a: T, size: number): T {
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a.subarray(0, Math.min(a.length, size)));
  return b;
}

export class KeyIndex {
  /** Slot + 1 per table entry (0: empty); the table's length is a power of two. */
  private table = new Int32Array(1 << 12);
  /** Per slot: the key's hash, and its start in the arena (its end is the next slot's start). */
  private hashes = new Int32Array(1024);
  private starts = new Float64Array(1025);
  private arena = Buffer.allocUnsafe(1 << 16);
  private used = 0;
  private count = 0;
  /** The table entry where the last probe stopped (where a new key goes). */
  private probedAt = 0;

  get size(): number {
    return this.count;
  }

  /** Bytes held by the index (its arrays at their allocated sizes). */
  get bytes(): number {
    return this.table.byteLength + this.hashes.byteLength + this.starts.byteLength + this.arena.length;
  }

  /** The slot of `key`, or -1. */
  find(key: string): number {
    return this.probe(key, hashOf(key));
  }

  /** The slot of `key`, added when new: a new key's slot is the size before the call. */
  add(key: string): number {
    const h = hashOf(key);
    const found = this.probe(key, h);
    if (found !== EMPTY) return found;
    const slot = this.count++;
    if (slot === this.hashes.length) {
      const n = Math.ceil(this.hashes.length * 1.5);
      this.hashes = grown(this.hashes, n);
      this.starts = grown(this.starts, n + 1);
    }
    if (this.used + key.length > this.arena.length) {
      const b = Buffer.allocUnsafe(Math.max(Math.ceil(this.arena.length * 1.5), this.used + key.length));
      this.arena.copy(b, 0, 0, this.used);
      this.arena = b;
    }
    this.starts[slot] = this.used;
    this.used += this.arena.write(key, this.used, 'latin1');
    this.starts[slot + 1] = this.used;
    this.hashes[slot] = h;
    this.table[this.probedAt] = slot + 1;
    if (this.count > this.table.length * MAX_LOAD) this.rehash(this.table.length * 2);
    return slot;
  }

  /** The key of a slot. */
  keyAt(slot: number): string {
    return this.arena.toString('latin1', this.starts[slot]!, this.starts[slot + 1]!);
  }

  /** The slot of `key` or EMPTY; leaves the entry where it stopped in probedAt. */
  private probe(key: string, h: number): number {
    const mask = this.table.length - 1;
    for (let at = h & mask; ; at = (at + 1) & mask) {
      const e = this.table[at]! - 1;
      if (e === EMPTY || (this.hashes[e] === h && this.equals(e, key))) {
        this.probedAt = at;
        return e;
      }
    }
  }

  private equals(slot: number, key: string): boolean {
    const s = this.starts[slot]!;
    if (this.starts[slot + 1]! - s !== key.length) return false;
    const a = this.arena;
    for (let i = 0; i < key.length; i++) if (a[s + i] !== key.charCodeAt(i)) return false;
    return true;
  }

  private rehash(size: number): void {
    const t = new Int32Array(size);
    const mask = size - 1;
    for (let e = 0; e < this.count; e++) {
      let at = this.hashes[e]! & mask;
      while (t[at] !== 0) at = (at + 1) & mask;
      t[at] = e + 1;
    }
    this.table = t;
  }
}
