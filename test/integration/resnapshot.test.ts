// After `capture --resnapshot` recovered from a purged binlog, later capture starts resume from the
// log as before the gap: no further snapshot, no row written twice. On a stack of its own, because
// purging the binlog would break the resume point of every other log on the shared stack.
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, iso, nextSecond, pitr, type CliResult } from './helpers.js';
import type { StackInfo } from '../../src/core/settings.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const home = `/tmp/pitr-resnap-${process.pid}-${Date.now().toString(36)}`;
const env = { PITR_HOME: home };
const run = (args: string[]): Promise<CliResult> => pitr(args, env);

afterAll(async () => {
  await run(['stack', 'down']);
  rmSync(home, { recursive: true, force: true });
});

describe('capture after --resnapshot', () => {
  it('resumes from the log on every later start: one new snapshot, rows not rewritten', async () => {
    const up = await run(['stack', 'up', '--json']);
    expect(up.code, up.stderr).toBe(0);
    const info = JSON.parse(up.stdout.trim().split('\n').pop()!) as StackInfo;
    const db = 'resnap';
    const src = await connect(info.source);
    try {
      await src.query(`CREATE DATABASE ${db}; CREATE TABLE ${db}.t (id INT PRIMARY KEY, v INT)`);
      await src.query(`INSERT INTO ${db}.t VALUES ${Array.from({ length: 50 }, (_, i) => `(${i + 1}, 0)`).join(',')}`);
      const first = await run(['capture', '--tables', `${db}.*`, '--until-caught-up', '--json']);
      expect(first.code, first.stderr).toBe(0);

      // History the log never sees: written, then purged while capture is stopped.
      await src.query(`FLUSH BINARY LOGS; UPDATE ${db}.t SET v = 1; FLUSH BINARY LOGS`);
      const [logs] = await src.query('SHOW BINARY LOGS');
      const last = (logs as { Log_name: string }[]).at(-1)!.Log_name;
      for (let i = 0; i < 40; i++) {
        await src.query(`PURGE BINARY LOGS TO '${last}'`);
        const [left] = await src.query('SHOW BINARY LOGS');
        if ((left as unknown[]).length === 1) break;
        await sleep(500);
      }
      const resnap = await run(['capture', '--tables', `${db}.*`, '--until-caught-up', '--resnapshot', '--json']);
      expect(resnap.code, resnap.stderr).toBe(0);
      expect(JSON.parse(resnap.stdout.trim().split('\n').pop()!).snapshotRows).toBe(50);

      // Several restarts after the gap, each with new writes: every one resumes, none snapshots.
      for (let round = 1; round <= 3; round++) {
        await src.query(`UPDATE ${db}.t SET v = ? WHERE id = ?`, [round + 10, round]);
        const r = await run(['capture', '--tables', `${db}.*`, '--until-caught-up', '--json']);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).not.toMatch(/no usable snapshot/);
        const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
        expect(summary.snapshotRows, `restart ${round} took a snapshot again`).toBe(0);
        expect(summary.rowChanges).toBe(1);
      }
      const status = await run(['status', '--json', '--allow-gaps']);
      const report = JSON.parse(status.stdout);
      expect(report.log.snapshots).toBe(2);

      // And the log still restores the latest state.
      const t = await nextSecond();
      await nextSecond();
      const caught = await run(['capture', '--tables', `${db}.*`, '--until-caught-up']);
      expect(caught.code, caught.stderr).toBe(0);
      const restored = await run(['restore', '--table', `${db}.t`, '--as-of', iso(t), '--into-database', `${db}_r`]);
      expect(restored.code, restored.stderr).toBe(0);
      const dst = await connect(info.target);
      try {
        const [rows] = await dst.query(`SELECT id, v FROM ${db}_r.t WHERE id <= 4 ORDER BY id`);
        expect(rows).toEqual([{ id: 1, v: 11 }, { id: 2, v: 12 }, { id: 3, v: 13 }, { id: 4, v: 1 }]);
      } finally {
        await dst.end();
      }
    } finally {
      await src.end();
    }
  }, 300_000);
});
