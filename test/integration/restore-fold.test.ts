// The restore fold under a small memory budget (issue 14 items 3 and 4): folded rows spill to disk,
// each final row is loaded once (the recovery server's own handler counters say how many rows it
// inserted and deleted), tables of a database restore load concurrently on several connections,
// and the result still equals the oracle dumped from the source at the cut.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type mysql from 'mysql2/promise';
import { connect, dumpDatabase, dumpTable, pitr, stack } from './helpers.js';
import { provisionLog } from '../../src/log/provision.js';

const RUN = Date.now().toString(36);
const DB = `rf_${RUN}`;
const SOURCE_ID = `rf-${RUN}`;
const LOG = ['--source-id', SOURCE_ID];
/** Small on purpose: 30% of it (2.4 MB) holds folded lines, less than half the table's (its keys fit in 50%). */
const SMALL = { PITR_MEMORY_BUDGET: '8m' };
const ROWS = 40_000;

let src: mysql.Connection;
let dst: mysql.Connection;
let last: string;
let oracle: Record<string, Awaited<ReturnType<typeof dumpTable>>>;

async function innodbRows(): Promise<{ inserted: number; deleted: number }> {
  const [r] = await dst.query(
    "SELECT VARIABLE_NAME AS n, VARIABLE_VALUE AS v FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN ('HANDLER_WRITE', 'HANDLER_DELETE')",
  );
  const m = new Map((r as { n: string; v: string }[]).map((x) => [x.n.toUpperCase(), Number(x.v)]));
  return { inserted: m.get('HANDLER_WRITE')!, deleted: m.get('HANDLER_DELETE')! };
}

beforeAll(async () => {
  const info = await stack();
  src = await connect(info.source);
  dst = await connect(info.target);
  await src.query(`
    CREATE DATABASE ${DB};
    CREATE TABLE ${DB}.wide (id INT PRIMARY KEY, v VARCHAR(200) NOT NULL, n INT NOT NULL, KEY (n));
    CREATE TABLE ${DB}.pairs (a INT NOT NULL, b VARCHAR(10) NOT NULL, w TEXT, UNIQUE KEY (a, b));
    CREATE TABLE ${DB}.nokey (x INT, y VARCHAR(10));
    CREATE TABLE ${DB}.altered (id INT PRIMARY KEY, v VARCHAR(50));
    INSERT INTO ${DB}.wide SELECT seq, REPEAT('s', 150), seq FROM ${DB}.seq_1_to_1000;`);
  await provisionLog({ kafka: info.kafka, sourceId: SOURCE_ID, partitions: 3 });
  const snap = await pitr(['capture', '--until-caught-up', ...LOG, '--tables', `${DB}.*`]);
  expect(snap.code, snap.stderr).toBe(0);
  // History after the snapshot: every key written several times, some deleted, some reinserted.
  await src.query(`
    INSERT INTO ${DB}.wide SELECT seq, REPEAT('a', 150), seq FROM ${DB}.seq_1001_to_${ROWS};
    UPDATE ${DB}.wide SET v = REPEAT('b', 160), n = n + 1;
    DELETE FROM ${DB}.wide WHERE id % 10 = 3;
    UPDATE ${DB}.wide SET v = CONCAT('c', id) WHERE id % 10 = 7;
    INSERT INTO ${DB}.wide SELECT seq, 'back', 0 FROM ${DB}.seq_3_to_${ROWS}_step_100;
    INSERT INTO ${DB}.pairs SELECT seq, CHAR(97 + seq % 5), REPEAT('w', seq % 300) FROM ${DB}.seq_1_to_20000;
    UPDATE ${DB}.pairs SET w = 'updated' WHERE a % 3 = 0;
    INSERT INTO ${DB}.nokey SELECT seq % 7, 'dup' FROM ${DB}.seq_1_to_3000;
    DELETE FROM ${DB}.nokey WHERE x = 2 LIMIT 100;
    INSERT INTO ${DB}.altered SELECT seq, 'before' FROM ${DB}.seq_1_to_5000;
    ALTER TABLE ${DB}.altered ADD COLUMN z INT NOT NULL DEFAULT 7;
    UPDATE ${DB}.altered SET v = 'after', z = id WHERE id % 2 = 0;
    INSERT INTO ${DB}.altered SELECT seq, 'new', 1 FROM ${DB}.seq_5001_to_15000;
    UPDATE ${DB}.altered SET z = z + 1 WHERE id > 10000;`);
  const tail = await pitr(['capture', '--until-caught-up', ...LOG, '--tables', `${DB}.*`]);
  expect(tail.code, tail.stderr).toBe(0);
  const [g] = await src.query('SELECT @@last_gtid AS g');
  last = String((g as { g: string }[])[0]!.g);
  oracle = await dumpDatabase(src, DB);
}, 300_000);

afterAll(async () => {
  await src?.query(`DROP DATABASE IF EXISTS ${DB}`).catch(() => undefined);
  for (const db of [`${DB}_one`, `${DB}_all`, `${DB}_big`]) await dst?.query(`DROP DATABASE IF EXISTS ${db}`).catch(() => undefined);
  await src?.end();
  await dst?.end();
});

describe('fold within a small memory budget', () => {
  it('loads each final row of a table once, with no deletes, and equals the oracle', async () => {
    const before = await innodbRows();
    const r = await pitr(['restore', ...LOG, '--table', `${DB}.wide`, '--through-gtid', last, '--into-database', `${DB}_one`, '--json'], { ...SMALL, PITR_LOG_LEVEL: 'debug' });
    expect(r.code, r.stderr).toBe(0);
    const after = await innodbRows();
    expect(r.stderr).toMatch(/spilling folded rows to disk/);
    expect(r.stderr).not.toMatch(/applying a folded batch early/);
    const got = await dumpTable(dst, `${DB}_one`, 'wide');
    expect(got!.rows.length).toBe(oracle.wide!.rows.length);
    expect(got).toEqual(oracle.wide);
    // The final rows plus the restore's own owner marker; nothing deleted.
    expect(after.inserted - before.inserted).toBe(oracle.wide!.rows.length + 1);
    expect(after.deleted - before.deleted).toBe(0);
  });

  it('restores a whole database (keyless, composite-key and altered tables) exactly', async () => {
    const r = await pitr(['restore', ...LOG, '--database', DB, '--through-gtid', last, '--into-database', `${DB}_all`, '--json'], SMALL);
    expect(r.code, r.stderr).toBe(0);
    const got = await dumpDatabase(dst, `${DB}_all`);
    expect(Object.keys(got).sort()).toEqual(Object.keys(oracle).sort());
    for (const t of Object.keys(oracle)) expect(got[t], t).toEqual(oracle[t]);
  });

  it('gives the same tables with the default budget (no spill)', async () => {
    const r = await pitr(['restore', ...LOG, '--database', DB, '--through-gtid', last, '--into-database', `${DB}_big`, '--json'], { PITR_LOG_LEVEL: 'debug' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/spilling folded rows/);
    const got = await dumpDatabase(dst, `${DB}_big`);
    for (const t of Object.keys(oracle)) expect(got[t], t).toEqual(oracle[t]);
  });
});
