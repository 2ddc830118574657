// Analysts and undo on tables that foreign-key actions change (MariaDB does not log cascaded rows):
// diff, query --as-of and flashback of a 3-level ON DELETE CASCADE chain, compared with the source's
// own state at each cut (oracle dumps in quiet seconds).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type mysql from 'mysql2/promise';
import { connect, dumpDatabase, iso, nextSecond, pitr, rowDiff, stack, type TableDump } from './helpers.js';

const DB = `fkan_${Date.now().toString(36)}`;
let src: mysql.Connection;
let sourceUrl: string;
const cut: Record<string, number> = {};
const oracle: Record<string, Record<string, TableDump>> = {};

beforeAll(async () => {
  const info = await stack();
  sourceUrl = info.source;
  src = await connect(info.source);
  for (const sql of [
    `CREATE DATABASE ${DB}`,
    `CREATE TABLE ${DB}.customers (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL)`,
    `CREATE TABLE ${DB}.orders (id INT PRIMARY KEY, customer_id INT NOT NULL, amount DECIMAL(8,2) NOT NULL, FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE)`,
    `CREATE TABLE ${DB}.items (id INT PRIMARY KEY, order_id INT NOT NULL, sku VARBINARY(8), FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE)`,
    `INSERT INTO ${DB}.customers SELECT seq, CONCAT('c', seq) FROM ${DB}.seq_1_to_50`,
    `INSERT INTO ${DB}.orders SELECT seq, 1 + seq % 50, seq / 7 FROM ${DB}.seq_1_to_400`,
    `INSERT INTO ${DB}.items SELECT seq, 1 + seq % 400, UNHEX(LPAD(HEX(seq), 6, '0')) FROM ${DB}.seq_1_to_1200`,
  ]) await src.query(sql);
  const c = await pitr(['capture', '--until-caught-up']);
  expect(c.code, c.stderr).toBe(0);
  cut.before = await nextSecond();
  oracle.before = await dumpDatabase(src, DB);
  await nextSecond();
  // The attack: two thirds of the customers, and with them (by cascade only) their orders and items.
  await src.query(`DELETE FROM ${DB}.customers WHERE id % 3 <> 0`);
  await src.query(`UPDATE ${DB}.items SET sku = 'x' WHERE id % 10 = 0`);
  cut.after = await nextSecond();
  oracle.after = await dumpDatabase(src, DB);
  await nextSecond();
  const c2 = await pitr(['capture', '--until-caught-up']);
  expect(c2.code, c2.stderr).toBe(0);
}, 600_000);

afterAll(async () => {
  await src?.end();
});

const keys = (d: TableDump) => new Set(d.rows.map((r) => (JSON.parse(r) as [string, string][])[0]![1]));

describe('analysis of tables changed by cascades', () => {
  it('diff shows the cascaded deletes and the own updates of a child', async () => {
    for (const t of ['orders', 'items']) {
      const r = await pitr(['diff', `${DB}.${t}`, '--from', iso(cut.before!), '--to', iso(cut.after!), '--json', '--limit', '0']);
      expect(r.code, r.stderr).toBe(0);
      const res = JSON.parse(r.stdout) as { counts: { inserted: number; deleted: number; changed: number } };
      const a = keys(oracle.before![t]!);
      const b = keys(oracle.after![t]!);
      const gone = [...a].filter((k) => !b.has(k)).length;
      expect(gone, `${t}: the attack deleted rows by cascade`).toBeGreaterThan(100);
      expect(res.counts.deleted, t).toBe(gone);
      expect(res.counts.inserted, t).toBe(0);
      const changed = oracle.after![t]!.rows.filter((row) => !oracle.before![t]!.rows.includes(row)).length;
      expect(res.counts.changed, t).toBe(changed);
    }
  });

  it('query --as-of sees the children as they were after the cascade', async () => {
    const r = await pitr(['query', '--as-of', iso(cut.after!), '--format', 'tsv', `SELECT COUNT(*) FROM ${DB}.items`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').pop()).toBe(String(oracle.after!.items!.rows.length));
  });

  it('flashback of the parent brings the cascaded children back', async () => {
    const r = await pitr(['flashback', `${DB}.customers`, '--from', iso(cut.before!), '--to', iso(cut.after!), '--execute', '--execute-url', sourceUrl, '--force', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const now = await dumpDatabase(src, DB);
    // Items' own updates in the window are undone only by a flashback of items itself: compare keys there.
    for (const t of ['customers', 'orders']) expect(rowDiff(oracle.before![t]!.rows, now[t]!.rows), t).toEqual([]);
    expect(keys(now.items!)).toEqual(keys(oracle.before!.items!));
  });
});
