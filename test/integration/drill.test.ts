// The incident drill (`pitr demo`) as a user runs it: exit 0, every table EQUAL to its state in the
// last second before the attack, in under two minutes.
import { describe, expect, it } from 'vitest';
import { pitr, stack } from './helpers.js';

describe('incident drill', () => {
  it('rebuilds every table as it stood before the attack', async () => {
    await stack();
    const started = Date.now();
    const r = await pitr(['demo']);
    const seconds = (Date.now() - started) / 1000;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const rows = r.stdout.split('\n').filter((l) => /\b(EQUAL|DIFFERENT)$/.test(l));
    expect(rows.map((l) => l.split(/\s+/)[0])).toEqual(['customers', 'products', 'orders', 'order_items', 'payments']);
    for (const l of rows) expect(l).toMatch(/EQUAL$/);
    expect(r.stdout).toMatch(/attack: DROP TABLE payments\s+\[GTID \d+-\d+-\d+\]/);
    expect(r.stdout).toMatch(/attack: DROP DATABASE shop_\d+\s+\[GTID/);
    expect(r.stdout).toMatch(/log verified: .*every hash chain intact/);
    expect(r.stdout).toMatch(/drill passed/);
    expect(seconds).toBeLessThan(120);
  }, 180_000);

  it('prints the same result as JSON', async () => {
    const r = await pitr(['demo', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { equal: boolean; tables: { equal: boolean }[]; timeline: { gtid?: string }[] };
    expect(out.equal).toBe(true);
    expect(out.tables).toHaveLength(5);
    expect(out.tables.every((t) => t.equal)).toBe(true);
    expect(out.timeline.filter((e) => e.gtid).length).toBe(4);
  }, 180_000);
});
