// Exactly once under faults, on stacks of its own (never the shared one): capture SIGKILLed at
// random moments, broker and source restarts, a broker down under load within the memory cap, a
// purged binlog (gap named, --resnapshot, cuts inside the gap refused), and a three-node Kafka
// losing a broker. Every run ends with a restore compared with the source and a clean `pitr verify`.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type mysql from 'mysql2/promise';
import { connect, dumpDatabase, iso, nextSecond, rowDiff } from './helpers.js';
import { cleanupOwnStacks, killChildren, killHard, ownStack, startCli, stopGently, type Stack } from './own-stack.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// A failed test must not leave its capture running into the next one.
afterEach(killChildren);
afterAll(cleanupOwnStacks);

/** `pitr capture` of one database running in the background until killed. */
function startCapture(s: Stack, db: string, extra: string[] = []): { child: ChildProcess; output: () => string } {
  return startCli(['capture', '--tables', `${db}.*`, ...extra], s.env);
}

async function schema(src: mysql.Connection, db: string): Promise<void> {
  await src.query(`CREATE DATABASE ${db};
    CREATE TABLE ${db}.acct (id INT PRIMARY KEY, bal BIGINT NOT NULL, note VARCHAR(40), pad VARBINARY(12000));
    CREATE TABLE ${db}.ledger (acct INT, amount INT, at DATETIME(6));
    INSERT INTO ${db}.acct (id, bal, note) SELECT seq, 1000, CONCAT('a', seq) FROM ${db}.seq_1_to_500;`);
}

/**
 * Mixed transactions over several connections: single-row updates, multi-statement transfers with
 * keyless ledger rows, inserts, keyless deletes. Reconnects on errors (the source may restart);
 * the oracle is the source's own state afterwards, so an ambiguous commit does not matter.
 */
async function workload(url: string, db: string, opts: { txns: number; seconds: number; padBytes?: number; connections?: number }): Promise<number> {
  const conns = opts.connections ?? 4;
  const per = Math.ceil(opts.txns / conns);
  const pause = (opts.seconds * 1000) / per;
  let done = 0;
  let nextId = 100_000;
  const worker = async (w: number) => {
    let c: mysql.Connection | null = null;
    for (let i = 0; i < per; i++) {
      const t0 = Date.now();
      try {
        c ??= await connect(url);
        const a = 1 + ((i * 7 + w * 13) % 500);
        const b = 1 + ((i * 11 + w * 5) % 500);
        switch (i % 5) {
          case 0:
            await c.query(`UPDATE ${db}.acct SET bal = bal + 1, pad = ? WHERE id = ?`, [opts.padBytes ? Buffer.alloc(opts.padBytes, i % 251) : null, a]);
            break;
          case 1:
            await c.query(`START TRANSACTION;
              UPDATE ${db}.acct SET bal = bal - 5 WHERE id = ${a};
              UPDATE ${db}.acct SET bal = bal + 5 WHERE id = ${b};
              INSERT INTO ${db}.ledger VALUES (${a}, -5, NOW(6)), (${b}, 5, NOW(6));
              COMMIT;`);
            break;
          case 2:
            await c.query(`INSERT INTO ${db}.acct (id, bal, note) VALUES (?, 0, 'new')`, [nextId++]);
            break;
          case 3:
            await c.query(`INSERT INTO ${db}.ledger VALUES (${a}, 1, '2020-01-01 00:00:00'), (${a}, 1, '2020-01-01 00:00:00')`);
            break;
          default:
            await c.query(`DELETE FROM ${db}.ledger WHERE acct = ${a} AND amount = 1 LIMIT 1`);
        }
        done++;
      } catch {
        await c?.end().catch(() => undefined);
        c = null;
        await sleep(200);
      }
      const spent = Date.now() - t0;
      if (spent < pause) await sleep(pause - spent);
    }
    await c?.end().catch(() => undefined);
  };
  await Promise.all(Array.from({ length: conns }, (_, w) => worker(w)));
  return done;
}

/** Catches capture up, dumps the source in a quiet second, restores as of it and compares. */
async function expectExactRestore(s: Stack, db: string): Promise<void> {
  const c1 = await s.run(['capture', '--tables', `${db}.*`, '--until-caught-up']);
  expect(c1.code, `first catch-up: ${c1.stderr.slice(-3000)}`).toBe(0);
  const src = await connect(s.info.source);
  const dst = await connect(s.info.target);
  try {
    const t = await nextSecond();
    const oracle = await dumpDatabase(src, db);
    await nextSecond();
    const c2 = await s.run(['capture', '--tables', `${db}.*`, '--until-caught-up']);
    expect(c2.code, `second catch-up: ${c2.stderr.slice(-3000)}`).toBe(0);
    const into = `${db}_r${Date.now().toString(36)}`;
    const r = await s.run(['restore', '--database', db, '--as-of', iso(t), '--into-database', into]);
    expect(r.code, `restore: ${r.stderr.slice(-3000)}`).toBe(0);
    const got = await dumpDatabase(dst, into);
    for (const name of Object.keys(oracle)) {
      expect(got[name]?.rows.length, `${name} row count`).toBe(oracle[name]!.rows.length);
      expect(rowDiff(oracle[name]!.rows, got[name]!.rows), name).toEqual([]);
    }
    const v = await s.run(['verify']);
    expect(v.code, `verify: ${v.stdout + v.stderr.slice(-3000)}`).toBe(0);
  } finally {
    await src.end();
    await dst.end();
  }
}

describe('capture under faults (single-node stack of its own)', () => {
  let s: Stack;
  const db = `fx_${Date.now().toString(36)}`;

  it('SIGKILL at 10 random moments during 20,000 transactions: nothing lost, nothing doubled', async () => {
    s = await ownStack('faults');
    const src = await connect(s.info.source);
    await schema(src, db);
    await src.end();
    let cap = startCapture(s, db);
    const load = workload(s.info.source, db, { txns: 20_000, seconds: 40 });
    const kills: number[] = [];
    for (let k = 0; k < 10; k++) {
      const wait = 1500 + Math.floor(Math.random() * 2000);
      await sleep(wait);
      await killHard(cap.child);
      kills.push(wait);
      cap = startCapture(s, db);
    }
    const committed = await load;
    await killHard(cap.child);
    expect(committed).toBeGreaterThan(19_000);
    await expectExactRestore(s, db);
  }, 300_000);

  it('broker restarted twice and the source once during capture: same result', async () => {
    const cap = startCapture(s, db);
    const load = workload(s.info.source, db, { txns: 4000, seconds: 24 });
    const kafkaPid = () => s.state().kafka.nodes[0]!.pid;
    for (let k = 0; k < 2; k++) {
      await sleep(3000);
      process.kill(kafkaPid(), 'SIGTERM');
      await sleep(4000);
      const up = await s.run(['stack', 'up']);
      expect(up.code, up.stderr).toBe(0);
    }
    await sleep(2000);
    process.kill(s.state().source.pid, 'SIGTERM');
    await sleep(2000);
    const up = await s.run(['stack', 'up']);
    expect(up.code, up.stderr).toBe(0);
    await load;
    await sleep(3000);
    // The same capture process rode out all three outages.
    expect(cap.child.exitCode, cap.output().slice(-2000)).toBeNull();
    expect(cap.output()).toMatch(/Kafka is unreachable/);
    expect(cap.output()).toMatch(/source server is unreachable/);
    expect(await stopGently(cap.child)).toBe(0);
    await expectExactRestore(s, db);
  }, 300_000);

  it('broker down for 60 s under load: capture pauses the binlog and stays under its memory cap', async () => {
    const cap = startCapture(s, db);
    await sleep(3000);
    const kafkaPid = s.state().kafka.nodes[0]!.pid;
    process.kill(kafkaPid, 'SIGKILL');
    let peak = 0;
    const sampler = setInterval(() => {
      try {
        const status = readFileSync(`/proc/${cap.child.pid}/status`, 'utf8');
        const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
        peak = Math.max(peak, kb * 1024);
      } catch {
        /* exited */
      }
    }, 250);
    // ~10 KB per transaction for 60 s: far more than the cap if it were buffered.
    const load = workload(s.info.source, db, { txns: 30_000, seconds: 60, padBytes: 10_000, connections: 6 });
    await sleep(60_000);
    const up = await s.run(['stack', 'up']);
    expect(up.code, up.stderr).toBe(0);
    await load;
    await sleep(5000);
    clearInterval(sampler);
    expect(cap.child.exitCode, cap.output().slice(-2000)).toBeNull();
    console.info(`capture peak RSS with the broker down 60 s under load: ${(peak / 1048576).toFixed(0)} MiB (cap 256 MiB)`);
    expect(peak, 'peak resident memory of capture (bytes)').toBeLessThan(256 * 1024 * 1024);
    expect(await stopGently(cap.child)).toBe(0);
    await expectExactRestore(s, db);
  }, 400_000);

  it('a purged binlog stops capture with the gap named; --resnapshot recovers; cuts in the gap are refused', async () => {
    const src = await connect(s.info.source);
    try {
      const before = await nextSecond();
      await nextSecond();
      // The log covers `before`: capture catches up after it, before the history that gets lost.
      const c0 = await s.run(['capture', '--tables', `${db}.*`, '--until-caught-up']);
      expect(c0.code, c0.stderr).toBe(0);
      // History the log will never see: written, then purged while capture is stopped.
      await src.query(`FLUSH BINARY LOGS; UPDATE ${db}.acct SET note = 'lost' WHERE id <= 10`);
      const inGap = await nextSecond();
      await nextSecond();
      await src.query(`UPDATE ${db}.acct SET note = 'lost again' WHERE id <= 20; FLUSH BINARY LOGS`);
      const [logs] = await src.query('SHOW BINARY LOGS');
      const last = (logs as { Log_name: string }[]).at(-1)!.Log_name;
      // The server keeps a binlog until its commits are durable in InnoDB: retry until it goes.
      for (let i = 0; i < 40; i++) {
        await src.query(`PURGE BINARY LOGS TO '${last}'`);
        const [left] = await src.query('SHOW BINARY LOGS');
        if ((left as unknown[]).length === 1) break;
        await sleep(500);
      }

      const fail = await s.run(['capture', '--tables', `${db}.*`, '--until-caught-up']);
      expect(fail.code).not.toBe(0);
      expect(fail.stderr).toMatch(/no longer holds the transactions after GTID \d+-\d+-\d+/);
      expect(fail.stderr).toMatch(/--resnapshot/);

      const ok = await s.run(['capture', '--tables', `${db}.*`, '--until-caught-up', '--resnapshot']);
      expect(ok.code, ok.stderr).toBe(0);
      await nextSecond();
      await src.query(`UPDATE ${db}.acct SET note = 'after gap' WHERE id = 1`);
      await expectExactRestore(s, db);

      const refused = await s.run(['restore', '--database', db, '--as-of', iso(inGap), '--into-database', `${db}_gap`]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/gap/);
      expect(refused.stderr).toMatch(/the log covers .* and .*/);
      const earlier = await s.run(['restore', '--database', db, '--as-of', iso(before), '--into-database', `${db}_before`]);
      expect(earlier.code, earlier.stderr).toBe(0);
    } finally {
      await src.end();
    }
  }, 300_000);
});

describe('three-node Kafka', () => {
  it('loses a broker (SIGKILL) mid-workload: capture continues, nothing lost', async () => {
    const s = await ownStack('faults3', { kafkaNodes: 3 });
    const db = `fx3_${Date.now().toString(36)}`;
    const src = await connect(s.info.source);
    await schema(src, db);
    await src.end();
    const cap = startCapture(s, db);
    const load = workload(s.info.source, db, { txns: 6000, seconds: 20 });
    await sleep(6000);
    process.kill(s.state().kafka.nodes[1]!.pid, 'SIGKILL');
    await load;
    await sleep(3000);
    expect(cap.child.exitCode, cap.output().slice(-2000)).toBeNull();
    expect(await stopGently(cap.child)).toBe(0);
    await expectExactRestore(s, db);
  }, 300_000);
});
