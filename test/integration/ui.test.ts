// `pitr ui` end to end in headless Chromium: after the incident drill (`pitr demo --keep`) the page
// shows the DROP and the mass DELETE as markers at the seconds the source's own binlog gives them,
// "just before" the DROP proposes --before-gtid of it, bad input gets one message while the server
// keeps running, and the restore run from the page equals the source's state before the attack. Also:
// `pitr ui` refuses capture and custodian credentials.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { StackInfo } from '../../src/core/settings.js';
import { REPO, connect, pitr, stack } from './helpers.js';
import { loadDrillReference } from '../../src/demo/drill-reference.js';

const OUT = path.join(REPO, 'test-output/ui');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

let info: StackInfo;
beforeAll(async () => {
  info = await stack();
  mkdirSync(OUT, { recursive: true });
});

/** Starts `pitr ui` and resolves with its URL once it listens (or with its output if it exits first). */
function startUi(args: string[], env: Record<string, string> = {}): Promise<{ child: ChildProcess; url?: string; code?: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO, 'bin/pitr.js'), 'ui', ...args], {
      cwd: REPO,
      env: { ...process.env, PITR_LOG_FORMAT: 'json', PITR_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const onData = (d: Buffer) => {
      out += d;
      const m = /open (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1]!, out });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => resolve({ child, code: code ?? -1, out }));
  });
}

function credentialsFile(users: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'pitr-ui-creds-'));
  const file = path.join(dir, 'creds.json');
  writeFileSync(file, JSON.stringify({ kafka: { brokers: info.kafka.brokers, users } }));
  chmodSync(file, 0o600);
  return file;
}

describe('pitr ui: reader credentials only', () => {
  it('refuses the capture user given as the reader', async () => {
    const capture = info.kafka.users.capture!;
    const r = await startUi(['--port', '0'], { PITR_KAFKA_READER_USER: capture.username, PITR_KAFKA_READER_PASSWORD: capture.password });
    r.child.kill();
    expect(r.url, r.out).toBeUndefined();
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/takes reader credentials only.*is the capture user/);
    expect(r.out).not.toContain(capture.password);
  });

  it("refuses capture's and the custodian's credentials where only the brokers can tell", async () => {
    // Brokers and users from one file: pitr knows no other user to compare with, so the brokers' answers decide.
    const capture = await startUi(['--port', '0', '--credentials', credentialsFile({ reader: info.kafka.users.capture })]);
    capture.child.kill();
    expect(capture.url, capture.out).toBeUndefined();
    expect(capture.out).toMatch(/takes reader credentials only, and Kafka does not give capture the reader's consumer groups/);
    const custodian = await startUi(['--port', '0', '--credentials', credentialsFile({ reader: info.kafka.users.custodian })]);
    custodian.child.kill();
    expect(custodian.url, custodian.out).toBeUndefined();
    expect(custodian.out).toMatch(/takes reader credentials only, and Kafka lets custodian list ACLs/);
    // Only capture's credentials: there is no reader to run as.
    const none = await startUi(['--port', '0', '--credentials', credentialsFile({ capture: info.kafka.users.capture })]);
    expect(none.url).toBeUndefined();
    expect(none.out).toMatch(/no reader credentials/);
  });
});

/** Commit second of each GTID as the source's binlog records it (mariadb-binlog, UTC). */
async function binlogSeconds(): Promise<Map<string, number>> {
  const u = new URL(info.source);
  const db = await connect(info.source);
  const [logs] = await db.query('SHOW BINARY LOGS');
  await db.end();
  const files = (logs as { Log_name: string }[]).map((l) => l.Log_name);
  const { stdout } = await promisify(execFile)(
    'mariadb-binlog',
    ['--read-from-remote-server', `--host=${u.hostname}`, `--port=${u.port}`, `--user=${decodeURIComponent(u.username)}`, ...(u.password ? [`--password=${decodeURIComponent(u.password)}`] : []), ...files],
    { env: { ...process.env, TZ: 'UTC' }, maxBuffer: 512 * 1024 * 1024 },
  );
  const out = new Map<string, number>();
  for (const m of stdout.matchAll(/^#(\d\d)(\d\d)(\d\d) +(\d+):(\d\d):(\d\d) server id \d+ .*\bGTID (\d+-\d+-\d+)/gm)) {
    out.set(m[7]!, Date.UTC(2000 + Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) / 1000);
  }
  return out;
}

describe('pitr ui in the browser', () => {
  let ui: ChildProcess | undefined;
  let ctx: BrowserContext | undefined;
  afterAll(async () => {
    await ctx?.close().catch(() => undefined);
    ui?.kill('SIGTERM');
  });

  it('marks the attack, proposes the cut just before it, and restores it EQUAL', async () => {
    const demo = await pitr(['demo', '--keep', '--json']);
    expect(demo.code, demo.stderr).toBe(0);
    const drill = JSON.parse(demo.stdout) as { database: string; timeline: { what: string; gtid?: string }[] };
    const gtidOf = (what: RegExp) => drill.timeline.find((e) => e.gtid && what.test(e.what))!.gtid!;
    const dropGtid = gtidOf(/DROP TABLE payments/);
    const deleteGtid = gtidOf(/DELETE FROM customers/);
    const seconds = await binlogSeconds();
    expect(seconds.get(dropGtid)).toBeDefined();

    const started = await startUi(['--port', '0']);
    ui = started.child;
    expect(started.url, started.out).toBeDefined();
    ctx = await chromium.launchPersistentContext(mkdtempSync(path.join(tmpdir(), 'pitr-ui-chromium-')), {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1400, height: 1000 },
    });
    const page: Page = await ctx.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(started.url!);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    expect(await page.locator('#error').isHidden()).toBe(true);

    // The DROP and the mass DELETE: destructive markers, drawn, at the source's own seconds.
    const drop = page.locator(`.marker[data-gtid="${dropGtid}"]`);
    const del = page.locator(`.marker[data-gtid="${deleteGtid}"]`);
    expect(await drop.getAttribute('data-kind')).toBe('destructive');
    expect(await drop.getAttribute('data-label')).toMatch(/^DROP TABLE .*payments/);
    expect(Number(await drop.getAttribute('data-time'))).toBe(seconds.get(dropGtid));
    expect(await del.getAttribute('data-kind')).toBe('destructive');
    expect(await del.getAttribute('data-tables')).toBe(`${drill.database}.customers`);
    expect(Number(await del.getAttribute('data-time'))).toBe(seconds.get(deleteGtid));
    expect(await drop.isVisible()).toBe(true);

    // Zoom by dragging across the seconds around the attack: down to single seconds, markers still in place.
    const view = async () => String(await page.locator('body').getAttribute('data-view')).split('-').map(Number) as [number, number];
    for (let i = 0; i < 5; i++) {
      const [lo, hi] = await view();
      if (hi - lo <= 30) break;
      const over = (await page.locator('#chart .u-over').boundingBox())!;
      const at = (await drop.boundingBox())!;
      await page.mouse.move(Math.max(over.x + 1, at.x - 40), over.y + over.height / 2);
      await page.mouse.down();
      await page.mouse.move(Math.min(over.x + over.width - 1, at.x + 40), over.y + over.height / 2, { steps: 5 });
      await page.mouse.up();
      await expect.poll(async () => (await view()).join('-')).not.toBe(`${lo}-${hi}`);
    }
    const [lo, hi] = await view();
    expect(hi - lo, `${lo}-${hi}`).toBeLessThanOrEqual(30);
    expect(lo).toBeLessThanOrEqual(seconds.get(dropGtid)!);
    expect(hi).toBeGreaterThan(seconds.get(dropGtid)!);
    expect(await drop.isVisible()).toBe(true);
    expect(await del.isVisible()).toBe(true);
    await drop.hover();
    await expect.poll(() => page.locator('#tooltip').textContent()).toContain(`GTID ${dropGtid}`);
    await page.screenshot({ path: path.join(OUT, 'timeline.png') });

    // The dropped table as of the second before the DROP: the source's recorded state (the writers
    // paused from the recording to the DROP), materialized as `query --as-of` does.
    const reference = loadDrillReference()!;
    expect(reference.beforeGtid).toBe(dropGtid);
    await drop.click();
    await page.click('#marker-detail button[data-action="view-before"]');
    await expect.poll(() => page.locator('#moment-result').textContent(), { timeout: 60_000 }).toContain(`${reference.tables.payments!.rows} rows, page 1`);
    expect(await page.locator('#moment-result tbody tr').count()).toBe(Math.min(50, reference.tables.payments!.rows));
    // Customer 1 fell to the mass DELETE: its history ends with that transaction; the diff across the
    // attack counts the rows it deleted.
    await page.selectOption('#moment-table', `${drill.database}.customers`);
    await page.fill('#history-pk', '1');
    await page.click('#history-form button');
    await expect.poll(() => page.locator('#history-result tr').last().textContent(), { timeout: 60_000 }).toMatch(new RegExp(`${deleteGtid}delete`));
    await page.fill('#diff-from', new Date((seconds.get(dropGtid)! - 1) * 1000).toISOString());
    await page.fill('#diff-to', new Date(seconds.get(deleteGtid)! * 1000).toISOString());
    await page.click('#diff-form button');
    await expect.poll(() => page.locator('#diff-result p').textContent(), { timeout: 60_000 }).toMatch(/"deleted":(\d+)/);
    const deleted = Number(/"deleted":(\d+)/.exec((await page.locator('#diff-result p').textContent())!)![1]);
    // 200 of the 300 customers (id % 3 <> 0), and any the writers deleted in the same seconds.
    expect(deleted).toBeGreaterThanOrEqual(200);
    expect(await page.locator('#error').isHidden()).toBe(true);

    // "Just before" the DROP: the restore panel proposes --before-gtid of it.
    await page.click('#marker-detail button[data-action="before"]');
    await expect.poll(() => page.locator('#restore-command').textContent()).toBe(`pitr restore --table ${drill.database}.payments --before-gtid ${dropGtid}`);
    await page.check('#restore-form input[name="what"][value="database"]');
    await page.selectOption('#restore-database', drill.database);
    await expect.poll(() => page.locator('#restore-command').textContent()).toBe(`pitr restore --database ${drill.database} --before-gtid ${dropGtid}`);

    // Bad input, one message each, and the server goes on: the demo's restore is already in place
    // (no --replace), and a time the log does not cover.
    await page.click('#restore-run');
    await expect.poll(() => page.locator('#error').textContent(), { timeout: 60_000 }).toMatch(/already exists|--replace/);
    await page.check('#restore-form input[name="cut"][value="asOf"]');
    await page.fill('#cut-asof', '2001-01-01T00:00:00Z');
    await page.click('#restore-run');
    await expect.poll(() => page.locator('#error').textContent(), { timeout: 60_000 }).toMatch(/2001-01-01T00:00:00Z.*(before|cover)|cover.*2001/);
    await page.screenshot({ path: path.join(OUT, 'bad-input.png') });

    // Back to the proposed cut, with --replace given explicitly: every table equals the source before the attack.
    await page.click('#marker-detail button[data-action="before"]');
    await page.check('#restore-form input[name="what"][value="database"]');
    await page.selectOption('#restore-database', drill.database);
    await page.check('#restore-replace');
    await expect.poll(() => page.locator('#restore-command').textContent()).toBe(`pitr restore --database ${drill.database} --before-gtid ${dropGtid} --replace`);
    await page.click('#restore-run');
    await page.waitForSelector('#restore-state[data-state="done"]', { timeout: 90_000 });
    expect(await page.locator('#error').isHidden()).toBe(true);
    const rows = await page.locator('#summary-table tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(rows.map((r) => r[0]).sort()).toEqual(['customers', 'order_items', 'orders', 'payments', 'products'].map((t) => `${drill.database}.${t}`));
    for (const r of rows) expect(r.at(-1), JSON.stringify(r)).toBe('EQUAL');
    await page.locator('#restore-panel').screenshot({ path: path.join(OUT, 'restore.png') });
    await page.screenshot({ path: path.join(OUT, 'page.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  }, 240_000);
});

describe('pitr ui when a server is out of reach', () => {
  it('answers one sentence per request and keeps running', async () => {
    // Nothing listens on port 1: the recovery server is "down" for this UI.
    const started = await startUi(['--port', '0', '--target', 'mysql://root@127.0.0.1:1']);
    try {
      expect(started.url, started.out).toBeDefined();
      const get = async (p: string) => {
        const r = await fetch(new URL(p, started.url));
        return { status: r.status, body: (await r.json()) as Record<string, unknown> };
      };
      const st = await get('/api/status');
      expect(st.status).toBe(200);
      const table = (st.body.tables as { table: string }[])[0]!.table;
      const asOf = (st.body.coverage as { to: string }[])[0]!.to;
      const at = await get(`/api/table?${new URLSearchParams({ table, asOf })}`);
      expect(at.status).toBe(503);
      expect(at.body.error).toMatch(/^cannot connect to .*127\.0\.0\.1:1\b/i);
      expect(String(at.body.error).split('\n')).toHaveLength(1);

      const run = await fetch(new URL('/api/restore', started.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tables: [table], asOf, intoDatabase: 'ui_unreachable' }) });
      const { id } = (await run.json()) as { id: string };
      const events = await (await fetch(new URL(`/api/restore/${id}/events`, started.url))).text();
      const last = JSON.parse(events.trim().split('\n\n').at(-1)!.replace(/^data: /, '')) as { type: string; message: string };
      expect(last.type).toBe('error');
      expect(last.message).toMatch(/127\.0\.0\.1:1\b/);

      // A table the log never held (history reads the log only).
      const bad = await get(`/api/history?${new URLSearchParams({ table: 'nosuchdb.nosuchtable', pk: '1' })}`);
      expect(bad.status).toBe(400);
      expect(bad.body.error).toMatch(/nosuchdb/);
      // Still serving: the timeline and the page.
      expect((await get('/api/timeline')).status).toBe(200);
      expect((await fetch(started.url!)).status).toBe(200);
    } finally {
      started.child.kill('SIGTERM');
    }
  }, 120_000);
});

describe('pitr ui access', () => {
  const request = (url: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; cookie?: string }>((resolve, reject) => {
      const req = httpRequest(url, { headers }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, cookie: res.headers['set-cookie']?.[0] });
      });
      req.on('error', reject);
      req.end();
    });

  it('on loopback answers only to loopback names; bound elsewhere, only with the printed token', async () => {
    const local = await startUi(['--port', '0']);
    try {
      expect(local.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect((await request(`${local.url}`)).status).toBe(200);
      expect((await request(`${local.url}`, { host: 'evil.example' })).status).toBe(403);
    } finally {
      local.child.kill('SIGTERM');
    }
    const wide = await startUi(['--port', '0', '--bind', '0.0.0.0']);
    try {
      const m = /^http:\/\/0\.0\.0\.0:(\d+)\/\?token=([\w-]+)$/.exec(wide.url ?? '');
      expect(m, wide.out).not.toBeNull();
      const base = `http://127.0.0.1:${m![1]}/`;
      expect((await request(base)).status).toBe(401);
      expect((await request(`${base}?token=wrong`)).status).toBe(401);
      const ok = await request(`${base}?token=${m![2]}`);
      expect(ok.status).toBe(200);
      expect(ok.cookie).toMatch(/^pitr_ui_token=.*HttpOnly/);
      expect((await request(`${base}api/timeline`, { authorization: `Bearer ${m![2]}` })).status).toBe(200);
      expect((await request(`${base}api/timeline`, { cookie: ok.cookie!.split(';')[0]! })).status).toBe(200);
    } finally {
      wide.child.kill('SIGTERM');
    }
  }, 120_000);
});
