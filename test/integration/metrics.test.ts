// The Prometheus endpoint of `pitr capture --metrics-port`: serves valid exposition text with the
// named series while capture runs.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, stack } from './helpers.js';
import { metricsText, startMetricsServer, captureMetrics, guardMetrics } from '../../src/metrics/metrics.js';

const SERIES = [
  'pitr_capture_lag_seconds',
  'pitr_capture_events_total',
  'pitr_capture_bytes_total',
  'pitr_capture_records_written_total',
  'pitr_capture_transactions_total',
  'pitr_capture_errors_total',
  'pitr_capture_snapshot_rows_total',
  'pitr_restore_rows_total',
  'pitr_guard_incidents_total',
];

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

/** Checks every line against the text exposition format; returns name -> TYPE. */
function parseExposition(text: string): Map<string, string> {
  const types = new Map<string, string>();
  const name = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const sample = new RegExp(`^(${name})(\\{(${name}="(?:[^"\\\\\\n]|\\\\.)*",?)*\\})? (-?[0-9.eE+-]+|[Nn]a[Nn]|[+-]Inf)( -?\\d+)?$`);
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const t = new RegExp(`^# TYPE (${name}) (counter|gauge|histogram|summary|untyped)$`).exec(line);
    if (t) {
      types.set(t[1]!, t[2]!);
      continue;
    }
    if (new RegExp(`^# HELP ${name} .*$`).test(line)) continue;
    const m = sample.exec(line);
    expect(m, `not a valid exposition line: ${line}`).not.toBeNull();
    const base = m![1]!.replace(/_(bucket|sum|count|created)$/, '');
    expect(types.has(m![1]!) || types.has(base), `sample before its TYPE: ${line}`).toBe(true);
  }
  return types;
}

describe('metrics', () => {
  it('capture --metrics-port serves valid Prometheus text with the named series', async () => {
    await stack();
    const port = await freePort();
    const child = spawn(process.execPath, [path.join(REPO, 'bin/pitr.js'), 'capture', '--metrics-port', String(port)], {
      cwd: REPO,
      env: { ...process.env, PITR_LOG_FORMAT: 'json', PITR_LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    });
    try {
      let res: Response | undefined;
      for (let i = 0; i < 100 && !res?.ok; i++) {
        res = await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => undefined);
        if (!res?.ok) await new Promise((r) => setTimeout(r, 200));
      }
      expect(res?.ok).toBe(true);
      expect(res!.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const types = parseExposition(await res!.text());
      for (const s of SERIES) expect(types.has(s), s).toBe(true);
      expect(types.get('pitr_capture_transactions_total')).toBe('counter');
      expect(types.get('pitr_capture_lag_seconds')).toBe('gauge');
      expect(types.has('pitr_process_resident_memory_bytes')).toBe(true);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });

  it('counters move through the tiny API and render as samples', async () => {
    captureMetrics.appended(3, 10, 5, 4096, Math.floor(Date.now() / 1000));
    captureMetrics.errors.inc({ component: 'kafka' });
    guardMetrics.incidents.inc({ kind: 'DROP TABLE' });
    const server = await startMetricsServer(0);
    try {
      const text = await (await fetch(server.url)).text();
      parseExposition(text);
      expect(text).toMatch(/^pitr_capture_transactions_total 3$/m);
      expect(text).toMatch(/^pitr_capture_bytes_total 4096$/m);
      expect(text).toMatch(/^pitr_capture_errors_total\{component="kafka"\} 1$/m);
      expect(text).toMatch(/^pitr_guard_incidents_total\{kind="DROP TABLE"\} 1$/m);
      expect(await metricsText()).toMatch(/^# TYPE pitr_restore_rows_total counter$/m);
    } finally {
      await server.close();
    }
  });
});
