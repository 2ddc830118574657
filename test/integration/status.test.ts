// `pitr status` against a running and a stopped capture under a steady write load: lag within 2 s
// of the truth, unhealthy (exit 2) once capture has been stopped longer than the threshold.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type mysql from 'mysql2/promise';
import { REPO, connect, pitr, stack } from './helpers.js';
import { provisionLog } from '../../src/log/provision.js';
import type { StatusReport } from '../../src/ops/status.js';

const suffix = `${process.pid}_${Date.now() % 100000}`;
const sourceId = `status_${suffix}`;
const db = `st_${suffix}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let writer: mysql.Connection;
let writing = true;
let load: Promise<void>;
let capture: ChildProcess | undefined;

async function status(threshold = 3): Promise<{ code: number; report: StatusReport }> {
  const r = await pitr(['status', '--json', '--source-id', sourceId, '--max-lag-seconds', String(threshold)]);
  if (r.code !== 0 && r.code !== 2) throw new Error(`pitr status failed (${r.code}): ${r.stderr}`);
  return { code: r.code, report: JSON.parse(r.stdout) as StatusReport };
}

function stopCapture(): Promise<void> {
  const c = capture;
  capture = undefined;
  if (!c || c.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => c.kill('SIGKILL'), 10_000);
    c.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    c.kill('SIGTERM');
  });
}

beforeAll(async () => {
  const info = await stack();
  await provisionLog({ kafka: info.kafka, sourceId, partitions: 2 });
  writer = await connect(info.source);
  await writer.query(`CREATE DATABASE ${db}; CREATE TABLE ${db}.ticks (id INT AUTO_INCREMENT PRIMARY KEY, at DATETIME(6) NOT NULL)`);
  capture = spawn(process.execPath, [path.join(REPO, 'bin/pitr.js'), 'capture', '--source-id', sourceId, '--tables', `${db}.*`], {
    cwd: REPO,
    env: { ...process.env, PITR_LOG_FORMAT: 'json', PITR_LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  });
  // A steady load: one small transaction every 50 ms for the whole test.
  load = (async () => {
    while (writing) {
      await writer.query(`INSERT INTO ${db}.ticks (at) VALUES (NOW(6))`);
      await sleep(50);
    }
  })();
});

afterAll(async () => {
  writing = false;
  await load?.catch(() => undefined);
  await stopCapture();
  await writer?.query(`DROP DATABASE IF EXISTS ${db}`).catch(() => undefined);
  await writer?.end().catch(() => undefined);
});

describe('pitr status', () => {
  it('reports a running capture under load with its true lag (within 2 s) and exits 0', async () => {
    let first: StatusReport | undefined;
    for (let i = 0; i < 60 && first?.capture.state !== 'running'; i++) {
      first = (await status()).report;
      if (first.capture.state !== 'running') await sleep(500);
    }
    expect(first?.capture.state).toBe('running');
    // Capture flushes every 100 ms, so the truth under this load is well under a second.
    for (let i = 0; i < 3; i++) {
      const { code, report } = await status();
      expect(report.capture.state).toBe('running');
      expect(report.capture.lagSeconds).toBeLessThanOrEqual(2);
      expect(report.healthy).toBe(true);
      expect(code).toBe(0);
      expect(report.tables.map((t) => t.table)).toContain(`${db}.ticks`);
      expect(report.coverage.length).toBe(1);
      expect(report.log.topics.find((t) => t.topic.endsWith('.changes'))!.offsets).toBeGreaterThan(0);
      await sleep(700);
    }
  });

  it('follows the lag of a stopped capture and turns unhealthy past the threshold', async () => {
    await stopCapture();
    const stoppedAt = Date.now();
    await sleep(1000);
    const early = await status();
    // Silence shorter than 5 s is not yet called stopped, and not longer than the 3 s threshold: healthy.
    expect(['running', 'stopped']).toContain(early.report.capture.state);
    expect(early.report.capture.lagTransactions).toBeGreaterThan(0);
    expect(early.report.capture.lagSeconds).toBeLessThanOrEqual(3);
    expect(early.code).toBe(0);
    await sleep(5000);
    const t0 = Date.now();
    const late = await status();
    const truth = ((t0 + Date.now()) / 2 - stoppedAt) / 1000;
    expect(late.report.capture.state).toBe('stopped');
    expect(Math.abs(late.report.capture.lagSeconds! - truth)).toBeLessThanOrEqual(2);
    expect(late.report.healthy).toBe(false);
    expect(late.report.problems.join(' ')).toMatch(/capture is not running/);
    expect(late.code).toBe(2);
    // The human report says the same.
    const text = await pitr(['status', '--source-id', sourceId, '--max-lag-seconds', '3']);
    expect(text.code).toBe(2);
    expect(text.stdout).toMatch(/UNHEALTHY[\s\S]*capture\s+stopped/);
  });

  it('shows the last verify result', async () => {
    const v = await pitr(['verify', '--source-id', sourceId]);
    expect(v.code).toBe(0);
    const { report } = await status(3600);
    expect(report.verify).toMatchObject({ ok: true, findings: 0 });
    expect(report.verify!.records).toBeGreaterThan(0);
  });
});
