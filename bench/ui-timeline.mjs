// pitr ui timeline bench: a page over 50,000 seconds of history (per-second buckets, ~100 markers)
// served by the real UI server and drawn in headless Chromium; measures, in the browser, the time
// from navigation to the timeline drawn (performance marks of src/ui/web/app.ts). The history is
// synthetic (a log 14 hours long cannot be captured for a bench), built with the UI's own
// TimelineBuilder from guard-sequencer items. Usage: node bench/ui-timeline.mjs [--seconds 50000] [--runs 5]
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import * as L from './lib.mjs';
import { TimelineBuilder } from '../dist/ui/timeline.js';
import { UiBackend } from '../dist/ui/ui-backend.js';
import { createUiServer } from '../dist/ui/ui-server.js';
import { ThresholdPolicy } from '../dist/guard/thresholds.js';
import { MetaState } from '../dist/log/meta-state.js';

const f = L.flags();
const SECONDS = Number(f.seconds ?? 50_000);
const RUNS = Number(f.runs ?? 5);
const T0 = 1_800_000_000;

function synthetic() {
  const b = new TimelineBuilder(new ThresholdPolicy());
  const tables = ['orders', 'customers', 'items'].map((t) => ({ database: 'shop', table: t, createSql: `CREATE TABLE ${t} (id INT PRIMARY KEY, v INT)` }));
  b.add({ kind: 'snapshotBegin', msg: { snapshotId: 's1', time: T0, tables, gtidPos: '0-1-1', binlogFile: 'mariadb-bin.000001', partial: false } });
  b.add({ kind: 'snapshotEnd', msg: { snapshotId: 's1', tables: tables.map((t) => ({ database: 'shop', table: t.table, rows: 100000 })) } });
  let seq = 1n;
  let pos = 4;
  let txns = 0;
  for (let s = 0; s < SECONDS; s++) {
    // A daily-ish rhythm of 0 to 12 transactions a second.
    const n = Math.round(6 + 6 * Math.sin(s / 3000) * Math.random());
    for (let i = 0; i < n; i++) {
      const destructive = s % 1000 === 500 && i === 0;
      const ddl = s % 1000 === 250 && i === 0 ? [{ defaultDatabase: 'shop', statement: `ALTER TABLE orders ADD COLUMN c${s} INT` }] : [];
      const t = tables[(s + i) % 3].table;
      b.add({
        kind: 'txn',
        txn: {
          gtid: { domain: 0, serverId: 1, seq: ++seq },
          position: { fileSeq: 1, endPos: (pos += 300) },
          commitTime: T0 + s,
          ddl,
          tables: [{ database: 'shop', table: t, inserts: destructive ? 0 : 2, updates: destructive ? 0 : 1, deletes: destructive ? 2000 : 0 }],
          indexOffset: 0n,
        },
      });
      txns++;
    }
  }
  return { timeline: b.build(), meta: new MetaState(), at: Date.now(), seconds: 0, txns };
}

class BenchBackend extends UiBackend {
  async status() {
    return { sourceId: 'bench', healthy: true, problems: [], notes: [], capture: { state: 'running', lagSeconds: 0, lastGtidPos: null }, coverage: [], gaps: [], tables: [], log: {}, verify: null };
  }
}

const scan = synthetic();
console.log(`synthetic history: ${SECONDS} seconds, ${scan.txns} transactions, ${scan.timeline.markers.length} markers`);
const backend = new BenchBackend({ kafka: { brokers: [], mechanism: 'scram-sha-256', users: {} }, sourceId: 'bench', target: async () => { throw new Error('no target in the bench'); }, policy: new ThresholdPolicy(), guardDatabase: 'pitr_recovery', cacheBytes: 1 << 20, scan: async () => scan });
const server = createUiServer({ backend, port: 0, bind: '127.0.0.1' });
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/`;
const ctx = await chromium.launchPersistentContext(mkdtempSync(path.join(tmpdir(), 'pitr-bench-chromium-')), {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  viewport: { width: 1400, height: 1000 },
});
const results = [];
try {
  for (let r = 0; r < RUNS; r++) {
    const page = await ctx.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(url);
    await page.waitForSelector('body[data-timeline-ms]', { timeout: 60_000, state: 'attached' }).catch(async (err) => {
      throw new Error(`the timeline was not drawn: ${(await page.locator('#error').textContent()) || err.message}`);
    });
    const m = await page.evaluate(() => ({
      sinceNavigation: performance.getEntriesByName('pitr-timeline-drawn')[0].startTime,
      scriptToDrawn: Number(document.body.dataset.timelineMs),
      buckets: document.querySelectorAll('.marker').length,
    }));
    const points = await page.evaluate(() => fetch('/api/timeline').then((x) => x.json()).then((j) => j.t.length));
    results.push({ ...m, points });
    console.log(`run ${r + 1}: timeline drawn ${m.sinceNavigation.toFixed(0)} ms after navigation (${m.scriptToDrawn} ms from the script's start: fetch, JSON, uPlot, markers); ${points} points, ${m.buckets} markers`);
    if (r === 0) await page.screenshot({ path: path.join(L.REPO, 'test-output/ui/bench-timeline.png') }).catch(() => undefined);
    await page.close();
  }
} finally {
  await ctx.close();
  server.close();
}
const nav = results.map((x) => x.sinceNavigation);
console.log(`median ${L.median(nav).toFixed(0)} ms, max ${Math.max(...nav).toFixed(0)} ms after navigation over ${RUNS} runs (budget 2000 ms)`);
process.exit(Math.max(...nav) < 2000 ? 0 : 1);
