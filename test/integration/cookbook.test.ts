// docs/restore-cookbook.md, run as written: every ```sh block of the cookbook runs in bash, in the
// order of the document, with `pitr` on PATH and the variables the cookbook documents set from a
// staged incident (an UPDATE without WHERE, then a DROP TABLE) on a `shop` database of the local
// stack, captured into a log of its own (PITR_SOURCE_ID).
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type mysql from 'mysql2/promise';
import { REPO, connect, iso, nextSecond, pitr, stack } from './helpers.js';
import { provisionLog } from '../../src/log/provision.js';
import type { StackInfo } from '../../src/core/settings.js';

const sid = `cookbook${Date.now().toString(36)}`;
const TARGET_DBS = ['shop', 'shop_restore', 'shop_upto', 'audit_2026_04'];
let work: string;
let info: StackInfo;
let src: mysql.Connection;
let dst: mysql.Connection;
const vars: Record<string, string> = {};

/** The cookbook's shell blocks, in order. */
function shellBlocks(): { line: number; code: string }[] {
  const text = readFileSync(path.join(REPO, 'docs/restore-cookbook.md'), 'utf8');
  const out: { line: number; code: string }[] = [];
  const re = /^```sh\n([\s\S]*?)^```$/gm;
  for (let m; (m = re.exec(text)); ) out.push({ line: text.slice(0, m.index).split('\n').length, code: m[1]! });
  return out;
}

function bash(code: string, env: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-e', '-o', 'pipefail', '-c', code], { cwd: work, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c ?? -1, out }));
  });
}

const gtidNow = async (): Promise<string> => {
  const [r] = await src.query('SELECT @@gtid_binlog_pos AS g');
  return String((r as { g: string }[])[0]!.g).split(',').find((g) => g.startsWith('0-'))!;
};

const clientOpts = (url: string) => {
  const u = new URL(url);
  return `-h ${u.hostname} -P ${u.port} -u ${decodeURIComponent(u.username)}`;
};

beforeAll(async () => {
  info = await stack();
  await provisionLog({ kafka: info.kafka, sourceId: sid });
  src = await connect(info.source);
  dst = await connect(info.target);
  for (const d of TARGET_DBS) await dst.query(`DROP DATABASE IF EXISTS ${d}`);
  await src.query(`DROP DATABASE IF EXISTS shop; CREATE DATABASE shop;
    CREATE TABLE shop.customers (id INT PRIMARY KEY, name VARCHAR(20), balance DECIMAL(10,2));
    CREATE TABLE shop.orders (id INT PRIMARY KEY, customer INT, status VARCHAR(10));
    CREATE TABLE shop.order_items (order_id INT, line INT, qty INT, PRIMARY KEY (order_id, line));
    INSERT INTO shop.customers SELECT seq, CONCAT('c', seq), seq FROM shop.seq_1_to_50;
    INSERT INTO shop.orders SELECT seq, 1 + seq % 50, ELT(1 + seq % 3, 'new', 'paid', 'shipped') FROM shop.seq_1_to_30;
    INSERT INTO shop.order_items SELECT 1 + seq % 30, 1 + seq DIV 30, seq FROM shop.seq_0_to_59;`);
  work = mkdtempSync(path.join(tmpdir(), 'pitr-cookbook-'));
  writeFileSync(path.join(work, 'pitr'), `#!/bin/sh\nexec "${process.execPath}" "${path.join(REPO, 'bin/pitr.js')}" "$@"\n`);
  chmodSync(path.join(work, 'pitr'), 0o755);

  const run = (args: string[]) => pitr(['capture', '--source-id', sid, '--tables', 'shop.*', '--until-caught-up', ...args]);
  expect((await run([])).code).toBe(0);
  const audit = await nextSecond();
  await src.query("UPDATE shop.order_items SET qty = qty + 1 WHERE order_id = 7; UPDATE shop.customers SET name = 'c42x' WHERE id = 42");
  const since = await nextSecond();
  await src.query('UPDATE shop.order_items SET qty = 100 WHERE order_id = 7 AND line = 2');
  const from = await nextSecond();
  await nextSecond();
  await src.query('UPDATE shop.customers SET balance = 0');
  vars.BAD_GTID = await gtidNow();
  await nextSecond();
  const to = await nextSecond();
  await src.query("INSERT INTO shop.orders VALUES (31, 1, 'new')");
  vars.GTID = await gtidNow();
  const t = await nextSecond();
  await nextSecond();
  await src.query('DROP TABLE shop.orders');
  vars.DROP_GTID = await gtidNow();
  expect((await run([])).code).toBe(0);
  Object.assign(vars, {
    T: iso(t),
    FROM: iso(from),
    TO: iso(to),
    AUDIT_TIME: iso(audit),
    SINCE: iso(since),
    FIX_URL: info.source,
    RECOVERY_OPTS: clientOpts(info.target),
    SOURCE_OPTS: clientOpts(info.source),
  });
}, 300_000);

afterAll(async () => {
  await src?.end();
  await dst?.end();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('docs/restore-cookbook.md', () => {
  it('every sh block runs as written and does what it says', async () => {
    const blocks = shellBlocks();
    expect(blocks.length).toBeGreaterThanOrEqual(8);
    const env = { ...vars, PATH: `${work}:${process.env.PATH}`, PITR_SOURCE_ID: sid, PITR_LOG_LEVEL: 'warn' };
    for (const b of blocks) {
      const r = await bash(b.code, env);
      expect(r.code, `block at docs/restore-cookbook.md:${b.line} failed:\n${b.code}\n${r.out}`).toBe(0);
    }
    const count = async (conn: mysql.Connection, sql: string) => Number(((await conn.query(sql))[0] as { n: number }[])[0]!.n);
    // DROP TABLE recipe: the orders as they were before the drop.
    expect(await count(dst, 'SELECT COUNT(*) AS n FROM shop_restore.orders')).toBe(31);
    // UPDATE without WHERE: the balances before it, restored aside and put back by flashback.
    expect(await count(dst, 'SELECT COUNT(*) AS n FROM shop_restore.customers WHERE balance = 0')).toBe(0);
    expect(existsSync(path.join(work, 'undo.sql'))).toBe(true);
    expect(await count(src, 'SELECT COUNT(*) AS n FROM shop.customers WHERE balance = 0')).toBe(0);
    // The database as of T, the audit copy, up to GTID.
    expect(await count(dst, 'SELECT COUNT(*) AS n FROM shop.orders')).toBe(31);
    expect(await count(dst, 'SELECT COUNT(*) AS n FROM audit_2026_04.orders')).toBe(30);
    expect(await count(dst, 'SELECT COUNT(*) AS n FROM shop_upto.orders')).toBe(31);
    // Put back on the source: the dropped table is there again.
    expect(await count(src, 'SELECT COUNT(*) AS n FROM shop.orders')).toBe(31);
  });
});
