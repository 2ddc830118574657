// Every command that reaches the log runs on a credentials file alone (--credentials FILE): brokers
// and users come from the file, servers from PITR_SOURCE / PITR_TARGET, and PITR_HOME names no stack.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type mysql from 'mysql2/promise';
import { connect, nextSecond, pitr, stack, type CliResult } from './helpers.js';

const RUN = Date.now().toString(36);
const sid = `cred${RUN}`;
const db = `cred_${RUN}`;
let file = '';
let env: Record<string, string> = {};
let src: mysql.Connection;
let t1 = 0;
let t2 = 0;

/** The CLI with the credentials file and nothing else that could name Kafka. */
const run = (args: string[]): Promise<CliResult> => pitr([...args, '--credentials', file], env);

function ok(r: CliResult, what: string): void {
  expect(r.code, `${what}: ${r.stderr}`).toBe(0);
}

beforeAll(async () => {
  const info = await stack();
  const dir = mkdtempSync(path.join(tmpdir(), 'pitr-cred-'));
  file = path.join(dir, 'kafka.json');
  writeFileSync(file, JSON.stringify({ kafka: { brokers: info.kafka.brokers, users: info.kafka.users } }), { mode: 0o600 });
  // An empty PITR_HOME: no local stack to fall back on, so Kafka settings can come only from the file.
  env = { PITR_HOME: dir, PITR_SOURCE: info.source, PITR_TARGET: info.target };
  src = await connect(info.source);
  await src.query(`CREATE DATABASE ${db}; CREATE TABLE ${db}.t (id INT PRIMARY KEY, v INT); INSERT INTO ${db}.t VALUES (1, 10), (2, 20), (3, 30)`);
}, 300_000);

describe('--credentials FILE on every command that reaches the log', () => {
  it('log provision (custodian) and capture (capture)', async () => {
    ok(await run(['log', 'provision', '--source-id', sid]), 'log provision');
    ok(await run(['capture', '--source-id', sid, '--tables', `${db}.*`, '--until-caught-up']), 'capture');
    // A quiet second t1, then the update in second t2: the log's coverage ends with that commit.
    t1 = await nextSecond();
    await nextSecond();
    await src.query(`UPDATE ${db}.t SET v = v + 1 WHERE id = 2`);
    t2 = Math.floor(Date.now() / 1000);
    ok(await run(['capture', '--source-id', sid, '--tables', `${db}.*`, '--until-caught-up']), 'capture');
    await src.end();
  });

  it('restore, verify, history, diff, query and flashback (reader)', async () => {
    ok(await run(['restore', '--source-id', sid, '--table', `${db}.t`, '--as-of', `@${t2}`, '--into-database', `${db}_r`]), 'restore');
    ok(await run(['verify', '--source-id', sid]), 'verify');
    const history = await run(['history', `${db}.t`, '--source-id', sid, '--pk', '2', '--json']);
    ok(history, 'history');
    expect(JSON.parse(history.stdout).rows[0].versions.length).toBeGreaterThan(0);
    const diff = await run(['diff', `${db}.t`, '--source-id', sid, '--from', `@${t1}`, '--to', `@${t2}`, '--json']);
    ok(diff, 'diff');
    expect(JSON.parse(diff.stdout).counts.changed).toBe(1);
    const query = await run(['query', '--source-id', sid, '--as-of', `@${t2}`, '--format', 'tsv', `SELECT v FROM ${db}.t WHERE id = 2`]);
    ok(query, 'query');
    expect(query.stdout).toMatch(/\b21\b/);
    const flashback = await run(['flashback', `${db}.t`, '--source-id', sid, '--from', `@${t1}`, '--to', `@${t2}`]);
    ok(flashback, 'flashback');
    expect(flashback.stdout).toMatch(/UPDATE/);
  });

  it('status, guard --once (reader) and checkpoint --once (checkpointer)', async () => {
    const status = await run(['status', '--source-id', sid, '--json']);
    // 2 is status's own verdict (unhealthy), reached only after it read the log.
    expect([0, 2], status.stderr).toContain(status.code);
    expect(JSON.parse(status.stdout).sourceId).toBe(sid);
    ok(await run(['guard', '--source-id', sid, '--once', '--name', `cred${RUN}`, '--into-database', `${db}_rec`]), 'guard');
    ok(await run(['checkpoint', '--source-id', sid, '--once']), 'checkpoint');
  });
});
