// End to end on the local stack: a workload in phases with a quiet second after each, oracle dumps
// of the source in each quiet second, capture into the real Kafka log, and restores at every cut
// (by time, through-GTID and before-GTID; one table and a whole database) compared value for value.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type mysql from 'mysql2/promise';
import { connect, dumpDatabase, dumpTable, iso, nextSecond, pitr, stack, type TableDump } from './helpers.js';

const DB = `e2e_${Date.now().toString(36)}`;

interface CutPoint {
  name: string;
  time: number;
  gtid: string;
  oracle: Record<string, TableDump>;
}

const cuts: CutPoint[] = [];
let src: mysql.Connection;
let dst: mysql.Connection;
let spanning: { before: CutPoint; insertSecond: number };

async function quietCut(name: string): Promise<CutPoint> {
  const time = await nextSecond();
  const [g] = await src.query('SELECT @@gtid_binlog_pos AS g');
  const gtid = String((g as { g: string }[])[0]!.g).split(',').find((x) => x.startsWith('0-'))!;
  const cut = { name, time, gtid, oracle: await dumpDatabase(src, DB) };
  cuts.push(cut);
  await nextSecond(); // the next phase starts in a later second than the cut
  return cut;
}

beforeAll(async () => {
  const info = await stack();
  src = await connect(info.source);
  dst = await connect(info.target);
  await src.query(`CREATE DATABASE ${DB}`);
  await src.query(`CREATE TABLE ${DB}.pre (id INT PRIMARY KEY, note VARCHAR(40))`);
  await src.query(`INSERT INTO ${DB}.pre VALUES (1, 'before capture'), (2, 'also before')`);
  // Establish the log (snapshot on a fresh log, resume otherwise) before the workload.
  const first = await pitr(['capture', '--until-caught-up']);
  expect(first.code, first.stderr).toBe(0);
  await quietCut('baseline');

  // Phase 1: inserts into a keyed table, a keyless table and a table of many types.
  await src.query(`
    CREATE TABLE ${DB}.orders (id BIGINT UNSIGNED PRIMARY KEY, customer VARCHAR(40) CHARACTER SET utf8mb4, total DECIMAL(20,6),
      placed DATETIME(6), status ENUM('new','paid','shipped','a,b',''), flags SET('x','y','z'), meta JSON, blobby BLOB,
      bits BIT(12), score DOUBLE, ratio FLOAT, yr YEAR, t TIME(3), d DATE, lat VARCHAR(20) CHARACTER SET latin1);
    CREATE TABLE ${DB}.events (kind VARCHAR(10), qty INT);
    INSERT INTO ${DB}.orders VALUES
      (1, 'Ådne 😀', 12.5, '2020-02-23 18:56:01.123456', 'new', 'x,z', '{"a": [1, 2.5]}', x'00ff0010', b'101010101010', 0.1, 1.1, 2020, '-12:00:01.5', '2020-02-29', 'café'),
      (18446744073709551615, 'max', -99999999999999.999999, '1000-01-01 00:00:00.000000', 'a,b', '', NULL, '', b'0', -1e300, -3.4e38, 1901, '838:59:59', '9999-12-31', NULL),
      (3, 'tab\\there', 0, NULL, '', NULL, '"str"', x'5c0a0d09', NULL, NULL, NULL, NULL, NULL, NULL, 'x');
    INSERT INTO ${DB}.events VALUES ('a', 1), ('a', 1), ('a', 1), ('b', NULL);`);
  await quietCut('inserts');

  // Phase 2: updates, deletes, a multi-statement transaction, a delete of one of three identical rows.
  await src.query(`
    UPDATE ${DB}.orders SET total = total + 1, status = 'paid' WHERE id = 1;
    UPDATE ${DB}.orders SET id = 4 WHERE id = 3;
    DELETE FROM ${DB}.events WHERE kind = 'a' LIMIT 1;
    START TRANSACTION;
    INSERT INTO ${DB}.orders (id, customer) VALUES (5, 'in txn');
    UPDATE ${DB}.events SET qty = 2 WHERE kind = 'b';
    DELETE FROM ${DB}.pre WHERE id = 2;
    COMMIT;`);
  await quietCut('updates');

  // Phase 3: schema change between row changes.
  await src.query(`
    ALTER TABLE ${DB}.orders ADD COLUMN note VARCHAR(20) NOT NULL DEFAULT 'n/a' AFTER customer;
    INSERT INTO ${DB}.orders (id, customer, note) VALUES (6, 'after alter', 'has note');
    UPDATE ${DB}.orders SET note = 'changed' WHERE id = 1;
    ALTER TABLE ${DB}.events ADD INDEX k (kind);`);
  await quietCut('alter');

  // Phase 4: a transaction whose statements run in one second and whose commit lands in the next.
  const before = cuts[cuts.length - 1]!;
  await src.query('START TRANSACTION');
  await src.query(`INSERT INTO ${DB}.orders (id, customer) VALUES (7, 'spanning')`);
  await src.query(`UPDATE ${DB}.pre SET note = 'spanning' WHERE id = 1`);
  const insertSecond = Math.floor(Date.now() / 1000);
  await nextSecond();
  await src.query('COMMIT');
  spanning = { before, insertSecond };
  await quietCut('spanning');

  // Phase 5: destructive statements.
  await src.query(`TRUNCATE TABLE ${DB}.events; INSERT INTO ${DB}.events VALUES ('after', 9);`);
  await quietCut('truncate');
  await src.query(`DROP TABLE ${DB}.pre`);
  await quietCut('drop');

  const caught = await pitr(['capture', '--until-caught-up']);
  expect(caught.code, caught.stderr).toBe(0);
}, 300_000);

afterAll(async () => {
  await src?.end();
  await dst?.end();
});

async function restored(db: string): Promise<Record<string, TableDump>> {
  return dumpDatabase(dst, db);
}

describe('restore equals the oracle at every cut', () => {
  it('--database --as-of at each quiet second', async () => {
    for (const [i, c] of cuts.entries()) {
      const into = `${DB}_t${i}`;
      const r = await pitr(['restore', '--database', DB, '--as-of', iso(c.time), '--into-database', into]);
      expect(r.code, `${c.name}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/restored \d+ table\(s\), \d+ rows as of/);
      expect(await restored(into), c.name).toEqual(c.oracle);
    }
  });

  it('--through-gtid and --before-gtid at each cut', async () => {
    for (const [i, c] of cuts.entries()) {
      const into = `${DB}_g${i}`;
      const r = await pitr(['restore', '--database', DB, '--through-gtid', c.gtid, '--into-database', into]);
      expect(r.code, `${c.name}: ${r.stderr}`).toBe(0);
      expect(await restored(into), c.name).toEqual(c.oracle);
      // The next transaction after this cut, if any, cut before it gives the same state.
      const [d, s, n] = c.gtid.split('-');
      const next = `${d}-${s}-${BigInt(n!) + 1n}`;
      const rb = await pitr(['restore', '--database', DB, '--before-gtid', next, '--into-database', `${into}b`]);
      if (i < cuts.length - 1) {
        expect(rb.code, `${c.name}: ${rb.stderr}`).toBe(0);
        expect(await restored(`${into}b`), c.name).toEqual(c.oracle);
      }
    }
  });

  it('a single table at a cut, with the definition it had then', async () => {
    const c = cuts.find((x) => x.name === 'updates')!;
    const r = await pitr(['restore', '--table', `${DB}.orders`, '--as-of', iso(c.time), '--into-database', `${DB}_one`]);
    expect(r.code, r.stderr).toBe(0);
    expect(await dumpTable(dst, `${DB}_one`, 'orders')).toEqual(c.oracle.orders);
    // Only the requested table was written.
    expect(Object.keys(await restored(`${DB}_one`))).toEqual(['orders']);
  });

  it('a transaction spanning two seconds is not in the cut at the first second', async () => {
    const r = await pitr(['restore', '--database', DB, '--as-of', iso(spanning.insertSecond), '--into-database', `${DB}_span`]);
    expect(r.code, r.stderr).toBe(0);
    expect(await restored(`${DB}_span`)).toEqual(spanning.before.oracle);
  });
});

describe('bad input: one clear sentence and a non-zero exit', () => {
  const oneSentence = (s: string) => {
    const lines = s.trim().split('\n').filter((l) => l.startsWith('pitr:'));
    expect(lines).toHaveLength(1);
    return lines[0]!;
  };

  it('unknown table', async () => {
    const r = await pitr(['restore', '--table', `${DB}.nope`, '--as-of', iso(cuts[1]!.time), '--into-database', `${DB}_x`]);
    expect(r.code).not.toBe(0);
    expect(oneSentence(r.stderr)).toMatch(/nope/);
  });

  it('table dropped before the cut', async () => {
    const last = cuts[cuts.length - 1]!;
    const r = await pitr(['restore', '--table', `${DB}.pre`, '--as-of', iso(last.time), '--into-database', `${DB}_x`]);
    expect(r.code).not.toBe(0);
    expect(oneSentence(r.stderr)).toMatch(/did not exist/);
  });

  it('malformed time and GTID', async () => {
    const t = await pitr(['restore', '--database', DB, '--as-of', 'yesterday-ish']);
    expect(t.code).not.toBe(0);
    expect(oneSentence(t.stderr)).toMatch(/not a time/);
    const g = await pitr(['restore', '--database', DB, '--before-gtid', '0-1']);
    expect(g.code).not.toBe(0);
    expect(oneSentence(g.stderr)).toMatch(/not a MariaDB GTID/);
  });

  it('time before and after the coverage names the window', async () => {
    const r = await pitr(['restore', '--database', DB, '--as-of', '2001-01-01T00:00:00Z', '--into-database', `${DB}_x`]);
    expect(r.code).not.toBe(0);
    expect(oneSentence(r.stderr)).toMatch(/before the log's coverage; the log covers .* to /);
    const a = await pitr(['restore', '--database', DB, '--as-of', '2999-01-01T00:00:00Z', '--into-database', `${DB}_x`]);
    expect(a.code).not.toBe(0);
    expect(oneSentence(a.stderr)).toMatch(/after the log's coverage/);
  });

  it('target table exists: refused unless --replace, and left intact', async () => {
    const c = cuts.find((x) => x.name === 'inserts')!;
    const into = `${DB}_t1`; // restored above at the 'inserts' cut
    const before = await restored(into);
    const later = cuts.find((x) => x.name === 'alter')!;
    const r = await pitr(['restore', '--table', `${DB}.orders`, '--as-of', iso(later.time), '--into-database', into]);
    expect(r.code).not.toBe(0);
    expect(oneSentence(r.stderr)).toMatch(/already exists/);
    expect(await restored(into)).toEqual(before);
    const ok = await pitr(['restore', '--table', `${DB}.orders`, '--as-of', iso(later.time), '--into-database', into, '--replace']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(await dumpTable(dst, into, 'orders')).toEqual(later.oracle.orders);
    expect(c).toBeDefined();
  });
});
