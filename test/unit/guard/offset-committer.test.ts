import { describe, expect, it } from 'vitest';
import { OffsetCommitter, type CommitOffset } from '../../../src/guard/offset-committer.js';

function committer(boundary = 0n, fail = false) {
  const saved: CommitOffset[][] = [];
  const c = new OffsetCommitter('meta', boundary, 'changes', () => new Map([[0, 7n], [1, 9n]]), async (o) => {
    if (fail) throw new Error('broker away');
    saved.push(o);
  });
  return { c, saved };
}

describe('OffsetCommitter', () => {
  it('moves past released indexes, never past an incident still being copied', async () => {
    const { c, saved } = committer();
    c.indexDone(10n);
    expect(c.position()).toBe(11n);
    c.hold(12n);
    c.hold(12n);
    c.hold(15n);
    c.indexDone(20n);
    expect(c.idle).toBe(false);
    expect(c.position()).toBe(12n);
    c.release(12n);
    expect(c.position()).toBe(12n);
    c.release(12n);
    expect(c.position()).toBe(15n);
    c.release(15n);
    expect(c.idle).toBe(true);
    expect(c.position()).toBe(21n);
    await c.commit();
    expect(saved.at(-1)).toEqual([
      { topic: 'meta', partition: 0, offset: 21n },
      { topic: 'changes', partition: 0, offset: 7n },
      { topic: 'changes', partition: 1, offset: 9n },
    ]);
    expect(c.committed).toBe(21n);
  });

  it('never goes below where this run acts from, and keeps its last position when a commit fails', async () => {
    const { c } = committer(30n);
    c.indexDone(10n);
    expect(c.position()).toBe(30n);
    const failing = committer(0n, true).c;
    failing.indexDone(4n);
    await failing.commit();
    expect(failing.committed).toBe(-1n);
  });
});
