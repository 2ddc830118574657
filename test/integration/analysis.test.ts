// Analysts and undo on the local stack: row history, diff between cuts, as-of queries (with the
// cache) and flashback with conflict detection, each compared with what the source itself showed
// at the cuts (oracle dumps and query results taken in quiet seconds). Also times
// `mariadb-binlog --flashback` on the same window next to pitr flashback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type mysql from 'mysql2/promise';
import { connect, iso, nextSecond, pitr, stack } from './helpers.js';

const DB = `an_${Date.now().toString(36)}`;
const BIG = 10_000;
const CONFLICT_IDS = [3, 77, 500, 1234, 2500, 4000, 5555, 7000, 8888, 9999];
const JOIN = (db: string) =>
  `SELECT m.name, COUNT(*) AS n, SUM(o.amount) AS total FROM ${db}.orders o JOIN ${db}.merchants AS m ON m.id = o.merchant GROUP BY m.name ORDER BY m.name`;

let src: mysql.Connection;
let sourceUrl: string;
const cut: Record<string, number> = {};
const oracle: Record<string, Map<string, string>> = {};
const joinAt: Record<string, unknown[][]> = {};
let histGtids: string[] = [];
let histInsertGtid = '';

async function orders(): Promise<Map<string, string>> {
  const [rows] = await src.query(`SELECT id, merchant, amount, note FROM ${DB}.orders`);
  return new Map((rows as { id: number; merchant: number; amount: string; note: string | null }[]).map((r) => [String(r.id), JSON.stringify([r.merchant, r.amount, r.note])]));
}

async function bigRows(): Promise<Map<number, string>> {
  const [rows] = await src.query(`SELECT id, status, amount FROM ${DB}.big`);
  return new Map((rows as { id: number; status: string; amount: number }[]).map((r) => [r.id, `${r.status}|${r.amount}`]));
}

async function joinResult(): Promise<unknown[][]> {
  const [rows] = await src.query({ sql: JOIN(DB), rowsAsArray: true });
  return rows as unknown[][];
}

/** A quiet second: nothing commits in it, so "as of" that second is exactly the state now. */
async function quiet(name: string): Promise<void> {
  cut[name] = await nextSecond();
  oracle[name] = await orders();
  joinAt[name] = await joinResult();
  await nextSecond();
}

async function lastGtid(): Promise<string> {
  const [r] = await src.query('SELECT @@last_gtid AS g');
  return String((r as { g: string }[])[0]!.g);
}

async function capture(): Promise<void> {
  const r = await pitr(['capture', '--until-caught-up']);
  expect(r.code, r.stderr).toBe(0);
}

beforeAll(async () => {
  const info = await stack();
  sourceUrl = info.source;
  src = await connect(info.source);
  // Establish the log first, so every row of this file's tables arrives as a change (tables
  // created after the snapshot: their key comes from the logged CREATE TABLE text).
  await capture();
  await src.query(`CREATE DATABASE ${DB}`);
  await src.query(`
    CREATE TABLE ${DB}.hist (id INT PRIMARY KEY, v INT NOT NULL, note VARCHAR(20));
    CREATE TABLE ${DB}.pairs (a INT NOT NULL, b VARCHAR(10) NOT NULL, val INT, PRIMARY KEY (a, b));
    CREATE TABLE ${DB}.merchants (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL);
    CREATE TABLE ${DB}.orders (id INT PRIMARY KEY, merchant INT NOT NULL, amount DECIMAL(10,2) NOT NULL, note VARCHAR(20));
    CREATE TABLE ${DB}.big (id INT PRIMARY KEY, status VARCHAR(10) NOT NULL, amount INT NOT NULL);
    INSERT INTO ${DB}.merchants VALUES (1, 'acme'), (2, 'bolt'), (3, 'crux');
    INSERT INTO ${DB}.pairs VALUES (1, 'x', 0), (1, 'y', 0);`);
  await src.query(`INSERT INTO ${DB}.hist VALUES (7, 0, 'born')`);
  histInsertGtid = await lastGtid();
  const values: string[] = [];
  for (let i = 1; i <= 40; i++) values.push(`(${i}, ${(i % 3) + 1}, ${i}.25, NULL)`);
  await src.query(`INSERT INTO ${DB}.orders VALUES ${values.join(', ')}`);
  const big: string[] = [];
  for (let i = 1; i <= BIG; i++) big.push(`(${i}, 'ok', ${i})`);
  await src.query(`INSERT INTO ${DB}.big VALUES ${big.join(', ')}`);
  await capture();
  await quiet('c0');

  // Phase A: row 7 updated 50 times (50 transactions), then deleted; orders change.
  for (let i = 1; i <= 50; i++) {
    await src.query(`UPDATE ${DB}.hist SET v = ${i}, note = 'step ${i}' WHERE id = 7`);
    histGtids.push(await lastGtid());
  }
  await src.query(`DELETE FROM ${DB}.hist WHERE id = 7`);
  histGtids.push(await lastGtid());
  await src.query(`
    UPDATE ${DB}.pairs SET val = 1 WHERE a = 1 AND b = 'x';
    UPDATE ${DB}.pairs SET val = 2 WHERE a = 1 AND b = 'x';
    INSERT INTO ${DB}.orders VALUES (41, 1, 99.99, 'new'), (42, 2, 5.00, NULL);
    UPDATE ${DB}.orders SET amount = amount * 2 WHERE merchant = 2;
    DELETE FROM ${DB}.orders WHERE id IN (3, 6);
    UPDATE ${DB}.merchants SET name = 'bolt inc' WHERE id = 2;`);
  await capture();
  await quiet('c1');

  // Phase B: more order changes, including a row inserted then deleted and one changed back.
  await src.query(`
    INSERT INTO ${DB}.orders VALUES (43, 3, 1.00, 'gone soon');
    DELETE FROM ${DB}.orders WHERE id = 43;
    UPDATE ${DB}.orders SET note = 'touched' WHERE id BETWEEN 10 AND 15;
    UPDATE ${DB}.orders SET amount = 8.25 WHERE id = 8;
    UPDATE ${DB}.orders SET amount = 7.25 WHERE id = 7;
    UPDATE ${DB}.orders SET amount = 7.25 WHERE id = 7;
    UPDATE ${DB}.orders SET id = 44 WHERE id = 20;
    DELETE FROM ${DB}.orders WHERE merchant = 3 AND id > 30;
    INSERT INTO ${DB}.orders VALUES (3, 2, 3.50, 'reborn');`);
  await capture();
  await quiet('c2');

  // Flashback scenario: a bad UPDATE over 10,000 rows, then 10 rows changed again by customers.
  await src.query(`UPDATE ${DB}.big SET status = 'bad', amount = amount + 1000000 WHERE id <= ${BIG}`);
  await capture();
  await quiet('f2');
  await src.query(`UPDATE ${DB}.big SET status = 'customer' WHERE id IN (${CONFLICT_IDS.join(', ')})`);
  await capture();
}, 300_000);

afterAll(async () => {
  await src?.end();
});

describe('pitr history', () => {
  it('a row updated 50 times and deleted lists 51 versions in commit order with GTIDs', async () => {
    const r = await pitr(['history', `${DB}.hist`, '--pk', '7', '--from', iso(cut.c0!), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout);
    const row = res.rows[0];
    expect(row.initial).toEqual({ id: '7', v: '0', note: 'born' });
    expect(row.versions).toHaveLength(51);
    expect(row.versions.map((v: { gtid: string }) => v.gtid)).toEqual(histGtids);
    expect(row.versions.slice(0, 50).every((v: { op: string }) => v.op === 'update')).toBe(true);
    expect(row.versions[50].op).toBe('delete');
    expect(row.versions[49].changed).toEqual([
      { column: 'v', before: '49', after: '50' },
      { column: 'note', before: 'step 49', after: 'step 50' },
    ]);
    // Only the table's partition was read.
    expect(res.cost.partitionsRead).toHaveLength(1);
    expect(res.cost.partitions).toBeGreaterThan(1);
  });

  it('without --from the history starts at the insert; composite keys take a=1,b=x', async () => {
    const r = await pitr(['history', `${DB}.hist`, '--pk', '7', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const v = JSON.parse(r.stdout).rows[0].versions;
    expect(v).toHaveLength(52);
    expect(v[0]).toMatchObject({ op: 'insert', gtid: histInsertGtid });
    const p = await pitr(['history', `${DB}.pairs`, '--pk', 'a=1,b=x', '--pk', 'a=1,b=y', '--json']);
    expect(p.code, p.stderr).toBe(0);
    const rows = JSON.parse(p.stdout).rows;
    const ops = (vs: { op: string; changed: { column: string; after: string }[] }[]) => vs.map((x) => `${x.op}:${x.changed.find((c) => c.column === 'val')!.after}`);
    expect(ops(rows[0].versions)).toEqual(['insert:0', 'update:1', 'update:2']);
    expect(ops(rows[1].versions)).toEqual(['insert:0']);
    const bad = await pitr(['history', `${DB}.pairs`, '--pk', '1']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/pitr: the key of .*pairs has 2 columns/);
  });
});

describe('pitr diff', () => {
  const expected = (a: Map<string, string>, b: Map<string, string>) => ({
    inserted: [...b.keys()].filter((k) => !a.has(k)).sort(),
    deleted: [...a.keys()].filter((k) => !b.has(k)).sort(),
    changed: [...b.keys()].filter((k) => a.has(k) && a.get(k) !== b.get(k)).sort(),
  });

  for (const [from, to] of [
    ['c1', 'c2'],
    ['c0', 'c2'],
    ['c0', 'c1'],
  ] as const) {
    it(`between ${from} and ${to} equals the difference of the oracle dumps`, async () => {
      const r = await pitr(['diff', `${DB}.orders`, '--from', iso(cut[from]!), '--to', iso(cut[to]!), '--json']);
      expect(r.code, r.stderr).toBe(0);
      const res = JSON.parse(r.stdout);
      expect(Object.keys(res)[0]).not.toBe('inserted');
      const got = {
        inserted: res.inserted.map((x: { key: { id: string } }) => x.key.id).sort(),
        deleted: res.deleted.map((x: { key: { id: string } }) => x.key.id).sort(),
        changed: res.changed.map((x: { key: { id: string } }) => x.key.id).sort(),
      };
      const want = expected(oracle[from]!, oracle[to]!);
      expect(got).toEqual(want);
      expect(res.counts).toMatchObject({ inserted: want.inserted.length, deleted: want.deleted.length, changed: want.changed.length });
      // Changed columns carry the oracle's before and after values.
      for (const c of res.changed as { key: { id: string }; changed: { column: string; before: string; after: string }[] }[]) {
        const [, amountA, noteA] = JSON.parse(oracle[from]!.get(c.key.id)!);
        const [, amountB, noteB] = JSON.parse(oracle[to]!.get(c.key.id)!);
        for (const col of c.changed) {
          if (col.column === 'amount') expect([col.before, col.after]).toEqual([amountA, amountB]);
          if (col.column === 'note') expect([col.before, col.after]).toEqual([noteA, noteB]);
        }
      }
    });
  }
});

describe('pitr query --as-of', () => {
  it('a join over two tables at a past cut returns what the source returned then, and reuses the cache', async () => {
    const first = await pitr(['query', '--as-of', iso(cut.c1!), JOIN(DB), '--json']);
    expect(first.code, first.stderr).toBe(0);
    const a = JSON.parse(first.stdout);
    expect(a.columns).toEqual(['name', 'n', 'total']);
    expect(a.rows).toEqual(JSON.parse(JSON.stringify(joinAt.c1)));
    expect(a.rows).not.toEqual(JSON.parse(JSON.stringify(joinAt.c2)));
    expect(a.materialized.map((m: { cache: string }) => m.cache)).toEqual(['built', 'built']);

    const second = await pitr(['query', '--as-of', iso(cut.c1!), JOIN(DB), '--json']);
    expect(second.code, second.stderr).toBe(0);
    const b = JSON.parse(second.stdout);
    expect(b.rows).toEqual(a.rows);
    expect(b.materialized.map((m: { cache: string }) => m.cache)).toEqual(['hit', 'hit']);
    expect(b.materialized.map((m: { into: string }) => m.into)).toEqual(a.materialized.map((m: { into: string }) => m.into));

    // Unqualified names through --database, TSV output, another cut.
    const c0 = await pitr(['query', '--as-of', iso(cut.c0!), '--database', DB, '--format', 'tsv', 'SELECT COUNT(*) AS n, SUM(amount) AS s FROM orders']);
    expect(c0.code, c0.stderr).toBe(0);
    expect(c0.stdout.split('\n')[0]).toBe('n\ts');
    expect(c0.stdout.split('\n')[1]!.split('\t')[0]).toBe(String(oracle.c0!.size));
  });

  it('refuses statements that write, in one sentence', async () => {
    for (const sql of [`DELETE FROM ${DB}.orders`, `SELECT * FROM ${DB}.orders INTO OUTFILE '/tmp/x'`, `SELECT 1; DROP TABLE ${DB}.orders`]) {
      const r = await pitr(['query', '--as-of', iso(cut.c1!), sql]);
      expect(r.code).not.toBe(0);
      expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('pitr:'))).toHaveLength(1);
    }
  });
});

describe('pitr flashback', () => {
  it('undoes a bad UPDATE over 10,000 rows except 10 rows changed again; printed SQL and --execute agree', async () => {
    const window = ['--from', iso(cut.c2!), '--to', iso(cut.f2!)];
    const before = await bigRows();

    const noUrl = await pitr(['flashback', `${DB}.big`, ...window, '--execute'], { PITR_FLASHBACK_URL: '' });
    expect(noUrl.code).not.toBe(0);
    expect(noUrl.stderr).toMatch(/pitr: --execute writes to the source: give credentials/);

    const t0 = Date.now();
    const printed = await pitr(['flashback', `${DB}.big`, ...window]);
    const pitrPrintMs = Date.now() - t0;
    expect(printed.code, printed.stderr).toBe(0);
    const script = printed.stdout;
    expect(script).toMatch(/^START TRANSACTION;$/m);
    expect(script).toMatch(/^COMMIT;$/m);
    expect(script.match(/^-- conflict: /gm)).toHaveLength(CONFLICT_IDS.length);
    expect(script.match(/^UPDATE /gm)).toHaveLength(BIG - CONFLICT_IDS.length);
    writeFileSync(path.join('/tmp', `${DB}-flashback.sql`), script);

    // Keep a copy of the table to replay the printed script on the same starting state.
    await src.query(`CREATE TABLE ${DB}.big_copy LIKE ${DB}.big; INSERT INTO ${DB}.big_copy SELECT * FROM ${DB}.big`);

    const t1 = Date.now();
    const ex = await pitr(['flashback', `${DB}.big`, ...window, '--execute', '--execute-url', sourceUrl, '--json']);
    const pitrExecuteMs = Date.now() - t1;
    expect(ex.code, ex.stderr).toBe(0);
    const res = JSON.parse(ex.stdout);
    expect(res.executed).toBe(true);
    expect(res.conflicts.map((c: { key: { id: string } }) => Number(c.key.id)).sort((x: number, y: number) => x - y)).toEqual(CONFLICT_IDS);
    const afterExecute = await bigRows();
    for (let i = 1; i <= BIG; i++) {
      if (CONFLICT_IDS.includes(i)) expect(afterExecute.get(i)).toBe(before.get(i)); // left as they are
      else expect(afterExecute.get(i)).toBe(`ok|${i}`); // back to the state at --from
    }
    // Run again: every row now differs from the state at --to, so all are conflicts and nothing changes.
    const again = await pitr(['flashback', `${DB}.big`, ...window, '--execute', '--execute-url', sourceUrl, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).conflicts).toHaveLength(BIG);
    expect(await bigRows()).toEqual(afterExecute);

    // Back to the starting state, then the printed script through the mariadb client.
    await src.query(`DELETE FROM ${DB}.big; INSERT INTO ${DB}.big SELECT * FROM ${DB}.big_copy`);
    expect(await bigRows()).toEqual(before);
    const u = new URL(sourceUrl);
    await new Promise<void>((resolve, reject) => {
      const child = spawn('mariadb', ['-h', u.hostname, '-P', u.port, '-u', decodeURIComponent(u.username), '--batch'], {
        stdio: ['pipe', 'inherit', 'pipe'],
        env: { ...process.env, MYSQL_PWD: decodeURIComponent(u.password) },
      });
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`mariadb exited ${code}: ${err}`))));
      child.stdin.end(script);
    });
    expect(await bigRows()).toEqual(afterExecute);

    // mariadb-binlog --flashback on the same window (binlog files of the local source), for speed.
    const dataDir = path.join(process.env.PITR_HOME ?? path.resolve('.pitr'), 'stack/source/data');
    const files = readdirSync(dataDir).filter((f) => /-bin\.\d+$/.test(f)).sort().map((f) => path.join(dataDir, f));
    const stamp = (s: number) => new Date(s * 1000).toISOString().slice(0, 19).replace('T', ' ');
    const t2 = Date.now();
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        'mariadb-binlog',
        ['--flashback', `--database=${DB}`, `--table=big`, `--start-datetime=${stamp(cut.c2! + 1)}`, `--stop-datetime=${stamp(cut.f2! + 1)}`, ...files],
        { env: { ...process.env, TZ: 'UTC' }, maxBuffer: 1 << 30 },
        (e, stdout) => (e ? reject(e) : resolve(stdout)),
      ),
    );
    const binlogMs = Date.now() - t2;
    const timing = { rows: BIG, pitrPrintMs, pitrExecuteMs, mariadbBinlogFlashbackMs: binlogMs, mariadbBinlogBytes: out.length, binlogFiles: files.length, pitrSeconds: res.seconds };
    // eslint-disable-next-line no-console
    console.log('flashback timing', JSON.stringify(timing));
    writeFileSync(path.join('/tmp', `${DB}-flashback-timing.json`), JSON.stringify(timing));
    expect(out.length).toBeGreaterThan(0);
  });
});
