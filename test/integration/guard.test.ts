// Guard on the local stack: capture and guard run in the background while the test plays
// destructive statements and ordinary traffic on the source. Every incident must come with a copy
// equal to the oracle (the source's own table dumped just before the statement), ordinary traffic
// must produce none, a DROP DATABASE gives all its tables at once, a DELETE on a parent table gives
// its ON DELETE CASCADE descendants (whose deletes are not in the binlog) in the same incident, and a
// guard killed mid-workload and restarted neither loses nor repeats an incident. Also measures
// DROP -> copy time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type mysql from 'mysql2/promise';
import { REPO, connect, dumpDatabase, dumpTable, pitr, stack, type TableDump } from './helpers.js';
import type { IncidentReport } from '../../src/guard/incident-report.js';

const TAG = Date.now().toString(36);
const DB = `gd_${TAG}`;
const DBX = `gdx_${TAG}`;
const REC = `gdrec_${TAG}`;
const NAME = `t${TAG}`;

/** A --json incident line: the report's fields plus what the CLI adds. */
type Report = Pick<IncidentReport, 'table' | 'cause' | 'gtid' | 'time' | 'rows' | 'into' | 'statement' | 'detail' | 'cascade' | 'cascadeFrom' | 'possiblyAffected'> & {
  copied?: number;
  error?: string;
};

class Background {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  stderr = '';
  private waiters: (() => void)[] = [];
  readonly exited: Promise<number>;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [path.join(REPO, 'bin/pitr.js'), ...args], {
      cwd: REPO,
      env: { ...process.env, PITR_LOG_FORMAT: 'json', PITR_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buf = '';
    this.child.stdout!.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        this.lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
      this.poke();
    });
    this.child.stderr!.on('data', (d) => {
      this.stderr += d;
      this.poke();
    });
    this.exited = new Promise((r) => this.child.on('close', (code) => r(code ?? -1)));
  }

  private poke() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  async until(ok: () => boolean, what: string, ms = 60_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; stderr tail: ${this.stderr.slice(-1500)}`);
      if (this.child.exitCode !== null) throw new Error(`process exited (${this.child.exitCode}) waiting for ${what}: ${this.stderr.slice(-1500)}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }
}

class Guard extends Background {
  constructor(extra: string[] = []) {
    super(['guard', '--json', '--name', NAME, '--into-database', REC, '--watch', `${DB}.*,${DBX}.*`, ...extra]);
  }
  get reports(): Report[] {
    return this.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Report);
  }
  ready(): Promise<void> {
    return this.until(() => this.stderr.includes('following the log'), 'guard to follow the log');
  }
  async incidents(table: string, n = 1, ms = 60_000): Promise<Report[]> {
    await this.until(() => this.reports.filter((r) => r.table === table).length >= n, `${n} incident(s) on ${table}`, ms);
    return this.reports.filter((r) => r.table === table);
  }
}

let src: mysql.Connection;
let dst: mysql.Connection;
let capture: Background;
let guard: Guard;
let hook: http.Server;
let hookUrl = '';
const hooked: Report[] = [];

// The copy's name, and in the references between copies of one incident the copies' names, are the
// original names in the oracle.
const normalized = (d: TableDump | null) =>
  d && { ...d, create: d.create.replace(/^CREATE TABLE `[^`]+`/, 'CREATE TABLE `t`').replace(/REFERENCES `[^`]+__([^`]+)__\d+_\d+_\d+`/g, 'REFERENCES `$1`') };

/** `renamedKeys`: the copy's foreign keys (and their indexes) carry the cut as suffix, their names being taken. */
async function expectCopy(r: Report, oracle: TableDump, opts: { renamedKeys?: boolean } = {}) {
  expect(r.error, r.error).toBeUndefined();
  const [db, name] = r.into.split('.');
  const copy = await dumpTable(dst, db!, name!);
  expect(copy, `copy ${r.into} exists`).not.toBeNull();
  let create = normalized(copy)!.create;
  if (opts.renamedKeys) {
    const suffix = r.gtid.replace(/-/g, '_');
    expect(create).toContain(`__${suffix}\``);
    create = create.split(`__${suffix}\``).join('`');
  }
  expect(create).toEqual(normalized(oracle)!.create);
  expect(copy!.rows.length).toBe(oracle.rows.length);
  expect(copy!.rows).toEqual(oracle.rows);
}

async function gtidNow(): Promise<string> {
  const [g] = await src.query('SELECT @@gtid_binlog_pos AS g');
  return String((g as { g: string }[])[0]!.g).split(',').find((x) => x.startsWith('0-'))!;
}

async function fill(table: string, rows: number) {
  await src.query(`CREATE TABLE ${DB}.${table} (id INT PRIMARY KEY, name VARCHAR(40), qty INT, price DECIMAL(10,2), at DATETIME(6))`);
  await src.query(
    `INSERT INTO ${DB}.${table} SELECT seq, CONCAT('n', seq, '\u00e9'), seq % 97, seq / 7, '2020-02-23 18:56:00.123456' + INTERVAL seq SECOND FROM seq_1_to_${rows}`,
  );
}

beforeAll(async () => {
  const info = await stack();
  src = await connect(info.source);
  dst = await connect(info.target);
  hook = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      hooked.push(JSON.parse(body) as Report);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/incident`;

  await src.query(`CREATE DATABASE ${DB}`);
  await src.query(`USE ${DB}`); // seq_1_to_N needs a default database
  await src.query(`CREATE TABLE ${DB}.big (id INT PRIMARY KEY, name VARCHAR(40), qty INT, price DECIMAL(10,2), at DATETIME(6), note TEXT)`);
  await src.query(
    `INSERT INTO ${DB}.big SELECT seq, CONCAT('customer ', seq), seq % 1000, seq / 3, '2020-01-01' + INTERVAL seq MINUTE, IF(seq % 10 = 0, NULL, REPEAT('x', seq % 50)) FROM seq_1_to_200000`,
  );
  for (const t of ['t_trunc', 't_del', 't_upd', 't_alter']) await fill(t, 3000);
  await src.query(`CREATE TABLE ${DB}.ord1 (id INT PRIMARY KEY, v INT, s VARCHAR(20))`);
  await src.query(`CREATE TABLE ${DB}.ord2 (k VARCHAR(10), v INT)`); // keyless
  await src.query(`INSERT INTO ${DB}.ord1 SELECT seq, seq, 'init' FROM seq_1_to_500`);
  await src.query(`INSERT INTO ${DB}.ord2 SELECT CONCAT('k', seq), seq FROM seq_1_to_500`);
  // A 3-level ON DELETE CASCADE chain with an ON DELETE SET NULL side table, and a second chain for
  // a delete run with foreign_key_checks=0 (no cascade).
  await src.query(`CREATE TABLE ${DB}.customers (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL)`);
  await src.query(
    `CREATE TABLE ${DB}.orders (id INT PRIMARY KEY, customer_id INT NOT NULL, note VARCHAR(40), placed DATETIME(3), CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE)`,
  );
  await src.query(
    `CREATE TABLE ${DB}.items (id INT AUTO_INCREMENT PRIMARY KEY, order_id INT NOT NULL, sku VARCHAR(20), price DECIMAL(8,2), CONSTRAINT fk_items_order FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE)`,
  );
  // A trigger on a victim: guard's copies are data only (a table with triggers cannot move between databases).
  await src.query(`CREATE TRIGGER ${DB}.orders_bi BEFORE INSERT ON ${DB}.orders FOR EACH ROW SET NEW.note = NEW.note`);
  await src.query(`CREATE TABLE ${DB}.addresses (id INT PRIMARY KEY, customer_id INT NULL, city VARCHAR(20), CONSTRAINT fk_addresses_customer FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE SET NULL)`);
  await src.query(`INSERT INTO ${DB}.customers SELECT seq, CONCAT('customer ', seq, '\u00e9') FROM seq_1_to_500`);
  await src.query(`INSERT INTO ${DB}.orders SELECT seq, seq % 500 + 1, IF(seq % 7 = 0, NULL, CONCAT('o', seq)), '2021-03-04 05:06:07.089' + INTERVAL seq MINUTE FROM seq_1_to_2000`);
  await src.query(`INSERT INTO ${DB}.items (order_id, sku, price) SELECT seq % 2000 + 1, CONCAT('sku', seq % 97), seq / 9 FROM seq_1_to_6000`);
  await src.query(`INSERT INTO ${DB}.addresses SELECT seq, IF(seq % 5 = 0, NULL, seq), CONCAT('city', seq) FROM seq_1_to_300`);
  await src.query(`CREATE TABLE ${DB}.nf_parent (id INT PRIMARY KEY, v VARCHAR(10))`);
  await src.query(`CREATE TABLE ${DB}.nf_child (id INT PRIMARY KEY, pid INT NOT NULL, FOREIGN KEY (pid) REFERENCES nf_parent (id) ON DELETE CASCADE)`);
  await src.query(`INSERT INTO ${DB}.nf_parent SELECT seq, CONCAT('p', seq) FROM seq_1_to_1500`);
  await src.query(`INSERT INTO ${DB}.nf_child SELECT seq, seq % 1500 + 1 FROM seq_1_to_3000`);
  await src.query(`CREATE DATABASE ${DBX}`);
  await src.query(`CREATE TABLE ${DBX}.a (id INT PRIMARY KEY, v VARCHAR(10))`);
  await src.query(`CREATE TABLE ${DBX}.b (id BIGINT UNSIGNED PRIMARY KEY, j JSON, bin VARBINARY(8))`);
  await src.query(`CREATE TABLE ${DBX}.c (k VARCHAR(5), n INT)`);
  await src.query(`CREATE TABLE ${DBX}.d (id INT PRIMARY KEY, e ENUM('x','y'), t TIME(3))`);
  await src.query(`CREATE TABLE ${DBX}.empty_one (id INT PRIMARY KEY)`);
  await src.query(`INSERT INTO ${DBX}.a SELECT seq, CONCAT('a', seq) FROM seq_1_to_1500`);
  await src.query(`INSERT INTO ${DBX}.b VALUES (18446744073709551615, '{"x": [1, 2]}', x'00ff'), (1, NULL, '')`);
  await src.query(`INSERT INTO ${DBX}.c VALUES ('a', 1), ('a', 1), ('b', NULL)`);
  await src.query(`INSERT INTO ${DBX}.d SELECT seq, IF(seq % 2, 'x', 'y'), '12:00:00.5' FROM seq_1_to_700`);

  // The log exists and holds all of the above before capture and guard run in the background.
  const first = await pitr(['capture', '--until-caught-up']);
  expect(first.code, first.stderr).toBe(0);
  capture = new Background(['capture']);
  await capture.until(() => capture.stderr.includes('tailing the binlog'), 'capture to tail the binlog');
  guard = new Guard(['--notify', hookUrl]);
  await guard.ready();
}, 300_000);

afterAll(async () => {
  for (const p of [guard, capture]) {
    if (p && p.child.exitCode === null) {
      p.child.kill('SIGTERM');
      await Promise.race([p.exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
    }
  }
  hook?.close();
  await src?.end();
  await dst?.end();
});

describe('guard', () => {
  it('DROP TABLE of a 200,000-row table: exact copy within 30 s', async () => {
    const oracle = (await dumpTable(src, DB, 'big'))!;
    expect(oracle.rows.length).toBe(200_000);
    const t0 = Date.now();
    await src.query(`DROP TABLE ${DB}.big`);
    // Poll the recovery server for the copy independently of the report.
    let present = 0;
    const name = `${DB}__big__`;
    const poll = (async () => {
      while (!present && Date.now() - t0 < 60_000) {
        const [r] = await dst.query('SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME LIKE ?', [REC, `${name}%`]);
        if ((r as unknown[]).length) present = Date.now();
        else await new Promise((res) => setTimeout(res, 100));
      }
    })();
    const [r] = await guard.incidents(`${DB}.big`, 1, 60_000);
    const reported = Date.now();
    await poll;
    const copySeconds = (present - t0) / 1000;
    console.log(`guard: DROP TABLE of 200000 rows -> copy present after ${copySeconds.toFixed(2)} s, reported after ${((reported - t0) / 1000).toFixed(2)} s`);
    expect(r!.cause).toBe('DROP TABLE');
    expect(r!.rows).toBe(200_000);
    expect(r!.statement).toMatch(/DROP TABLE/i);
    expect(r!.into).toMatch(new RegExp(`^${REC}\\.${DB}__big__0_\\d+_\\d+$`));
    expect(copySeconds).toBeLessThan(30);
    await expectCopy(r!, oracle);
    // The webhook got the same report.
    await guard.until(() => hooked.some((h) => h.table === `${DB}.big`), 'the webhook');
    expect(hooked.find((h) => h.table === `${DB}.big`)).toMatchObject({ gtid: r!.gtid, into: r!.into, cause: 'DROP TABLE' });
  }, 120_000);

  it('TRUNCATE, DELETE without WHERE, UPDATE of every row and DROP COLUMN each give an exact copy', async () => {
    const cases: [string, string, string][] = [
      ['t_trunc', `TRUNCATE TABLE ${DB}.t_trunc`, 'TRUNCATE'],
      ['t_del', `DELETE FROM ${DB}.t_del`, 'DELETE'],
      ['t_upd', `UPDATE ${DB}.t_upd SET name = CONCAT(name, '!')`, 'UPDATE'],
      ['t_alter', `ALTER TABLE ${DB}.t_alter DROP COLUMN price`, 'ALTER TABLE'],
    ];
    for (const [table, sql, cause] of cases) {
      const oracle = (await dumpTable(src, DB, table))!;
      await src.query(sql);
      const gtid = await gtidNow();
      const [r] = await guard.incidents(`${DB}.${table}`, 1, 60_000);
      expect(r!.cause, table).toBe(cause);
      expect(r!.gtid, table).toBe(gtid);
      expect(r!.rows, table).toBe(3000);
      await expectCopy(r!, oracle);
    }
  }, 180_000);

  it('DELETE FROM a parent with a 3-level ON DELETE CASCADE chain: one incident, exact copies of the parent and the children it emptied', async () => {
    const tables = ['customers', 'orders', 'items', 'addresses'];
    const oracle = Object.fromEntries(await Promise.all(tables.map(async (t) => [t, (await dumpTable(src, DB, t))!] as const)));
    expect(tables.map((t) => oracle[t]!.rows.length)).toEqual([500, 2000, 6000, 300]);
    await src.query(`DELETE FROM ${DB}.customers`);
    const gtid = await gtidNow();
    // The server cascaded (the binlog holds only the 500 customers).
    const [left] = await src.query(`SELECT (SELECT COUNT(*) FROM ${DB}.orders) AS o, (SELECT COUNT(*) FROM ${DB}.items) AS i, (SELECT COUNT(*) FROM ${DB}.addresses WHERE customer_id IS NOT NULL) AS a`);
    expect(Object.values((left as Record<string, unknown>[])[0]!).map(Number)).toEqual([0, 0, 0]);
    const [parent] = await guard.incidents(`${DB}.customers`, 1, 90_000);
    // Reported together: the children's lines come with the parent's, from one rebuild.
    await guard.until(() => guard.reports.filter((r) => r.gtid === gtid).length >= 3, 'the cascade victims', 10_000);
    await new Promise((r) => setTimeout(r, 1000));
    const mine = guard.reports.filter((r) => r.gtid === gtid);
    expect(mine.map((r) => r.table).sort()).toEqual([`${DB}.customers`, `${DB}.items`, `${DB}.orders`]);
    expect(guard.reports.filter((r) => /\.(customers|orders|items|addresses)$/.test(r.table) && r.table.startsWith(`${DB}.`))).toHaveLength(3);
    const byTable = Object.fromEntries(mine.map((r) => [r.table.split('.')[1]!, r]));
    expect(parent!.gtid).toBe(gtid);
    expect(mine.every((r) => r.cause === 'DELETE')).toBe(true);
    expect(parent!.rows).toBe(500);
    expect(parent!.cascade).toEqual([
      { table: `${DB}.orders`, effect: 'emptied', rows: 2000, via: `${DB}.customers` },
      { table: `${DB}.items`, effect: 'emptied', rows: 6000, via: `${DB}.orders` },
    ]);
    // SET NULL: rows modified, not deleted, how many guard cannot know: named, not rebuilt.
    expect(parent!.possiblyAffected?.map((p) => [p.table, p.action, p.atMostRows])).toEqual([[`${DB}.addresses`, 'ON DELETE SET NULL', 300]]);
    expect(byTable.orders).toMatchObject({ rows: 2000, cascadeFrom: { parent: `${DB}.customers`, key: 'fk_orders_customer', root: `${DB}.customers` } });
    expect(byTable.items).toMatchObject({ rows: 6000, cascadeFrom: { parent: `${DB}.orders`, key: 'fk_items_order', root: `${DB}.customers` } });
    expect(byTable.items!.detail).toMatch(/^emptied through ON DELETE CASCADE/);
    for (const t of ['customers', 'orders', 'items']) await expectCopy(byTable[t]!, oracle[t]!);

    // Again: the copies of the second incident cannot reuse the key names the first copies hold.
    await src.query(`INSERT INTO ${DB}.customers SELECT seq, CONCAT('again ', seq) FROM seq_1_to_40`);
    await src.query(`INSERT INTO ${DB}.orders SELECT seq, seq % 40 + 1, 'again', NULL FROM seq_1_to_1200`);
    await src.query(`INSERT INTO ${DB}.items (order_id, sku, price) SELECT seq % 1200 + 1, 'again', 1 FROM seq_1_to_1500`);
    const again = Object.fromEntries(await Promise.all(['customers', 'orders', 'items'].map(async (t) => [t, (await dumpTable(src, DB, t))!] as const)));
    await src.query(`DELETE FROM ${DB}.customers WHERE id <= 40`);
    const gtid2 = await gtidNow();
    await guard.until(() => guard.reports.filter((r) => r.gtid === gtid2).length >= 3, 'the second cascade incident', 90_000);
    const second = Object.fromEntries(guard.reports.filter((r) => r.gtid === gtid2).map((r) => [r.table.split('.')[1]!, r]));
    expect(Object.keys(second).sort()).toEqual(['customers', 'items', 'orders']);
    expect(second.customers!.cascade?.map((c) => [c.table, c.effect, c.rows])).toEqual([
      [`${DB}.orders`, 'emptied', 1200],
      [`${DB}.items`, 'emptied', 1500],
    ]);
    await expectCopy(second.customers!, again.customers!);
    for (const t of ['orders', 'items']) await expectCopy(second[t]!, again[t]!, { renamedKeys: true });
  }, 240_000);

  it('a delete run with foreign_key_checks=0 cascades nothing: only the parent is a victim', async () => {
    const oracle = (await dumpTable(src, DB, 'nf_parent'))!;
    await src.query(`SET SESSION foreign_key_checks = 0; DELETE FROM ${DB}.nf_parent; SET SESSION foreign_key_checks = 1`);
    const gtid = await gtidNow();
    const [r] = await guard.incidents(`${DB}.nf_parent`, 1, 60_000);
    await new Promise((res) => setTimeout(res, 1000));
    expect(r!.gtid).toBe(gtid);
    expect(r!.cascade).toBeUndefined();
    expect(guard.reports.filter((x) => x.table === `${DB}.nf_child`)).toEqual([]);
    await expectCopy(r!, oracle);
  }, 120_000);

  it('DROP DATABASE with 5 tables: 5 exact copies reported together', async () => {
    const oracle = await dumpDatabase(src, DBX);
    expect(Object.keys(oracle)).toHaveLength(5);
    await src.query(`DROP DATABASE ${DBX}`);
    const seen = () => guard.reports.filter((r) => r.table.startsWith(`${DBX}.`));
    await guard.until(() => seen().length >= 5, 'five DROP DATABASE incidents', 60_000);
    const reports = seen();
    expect(reports).toHaveLength(5);
    expect(new Set(reports.map((r) => r.gtid)).size).toBe(1);
    // Together: one rebuild, consecutive lines.
    const idx = reports.map((r) => guard.lines.findIndex((l) => l.includes(`"into":"${r.into}"`)));
    expect(Math.max(...idx) - Math.min(...idx)).toBe(4);
    for (const r of reports) {
      expect(r.cause).toBe('DROP DATABASE');
      await expectCopy(r, oracle[r.table.split('.')[1]!]!);
    }
  }, 120_000);

  it('ordinary traffic over 10,000 transactions gives no incident; a guard killed mid-workload loses and repeats none', async () => {
    const victims: { table: string; gtid: string; oracle: TableDump }[] = [];
    const before = guard.reports.length;
    let restarted: Guard | undefined;
    const killAt = 5000;
    for (let i = 1; i <= 10_000; i++) {
      const k = (i % 480) + 1;
      switch (i % 5) {
        case 0:
          await src.query(`UPDATE ${DB}.ord1 SET v = v + 1, s = 'u${i}' WHERE id = ${k}`);
          break;
        case 1:
          await src.query(`INSERT INTO ${DB}.ord1 VALUES (${100_000 + i}, ${i}, 'new') `);
          break;
        case 2:
          await src.query(`DELETE FROM ${DB}.ord1 WHERE id = ${100_000 + i - 1}`);
          break;
        case 3:
          await src.query(`UPDATE ${DB}.ord2 SET v = v + 1 WHERE k IN ('k${k}', 'k${k + 1}', 'k${k + 2}')`);
          break;
        default:
          await src.query(`START TRANSACTION; INSERT INTO ${DB}.ord2 VALUES ('x${i}', ${i}); DELETE FROM ${DB}.ord2 WHERE k = 'x${i}'; UPDATE ${DB}.ord1 SET s = 't' WHERE id = ${k}; COMMIT`);
      }
      // Five destructive transactions spread over the workload, one right before the kill.
      if (i % 2000 === 1000 || i === killAt) {
        const table = `victim_${i}`;
        await src.query(`CREATE TABLE ${DB}.${table} (id INT PRIMARY KEY, v VARCHAR(10))`);
        await src.query(`INSERT INTO ${DB}.${table} SELECT seq, CONCAT('v', seq) FROM seq_1_to_${40 + (i % 7)}`);
        const oracle = (await dumpTable(src, DB, table))!;
        await src.query(`DELETE FROM ${DB}.${table} WHERE id > 3`);
        victims.push({ table, gtid: await gtidNow(), oracle });
      }
      if (i === killAt) {
        // Kill while the last victim is being found or rebuilt, then start again under the same name.
        await new Promise((r) => setTimeout(r, 300));
        guard.child.kill('SIGKILL');
        await guard.exited;
        restarted = new Guard(['--notify', hookUrl]);
      }
    }
    expect(restarted).toBeDefined();
    const first = guard;
    guard = restarted!;
    await guard.ready();
    // A sentinel after the workload: once it is reported, everything before it has been judged.
    await src.query(`CREATE TABLE ${DB}.sentinel (id INT PRIMARY KEY)`);
    await src.query(`INSERT INTO ${DB}.sentinel SELECT seq FROM seq_1_to_20`);
    await src.query(`TRUNCATE TABLE ${DB}.sentinel`);
    await guard.incidents(`${DB}.sentinel`, 1, 90_000);
    await new Promise((r) => setTimeout(r, 2000));

    const all = [...first.reports.slice(before), ...guard.reports];
    const ordinary = all.filter((r) => /\.ord[12]$/.test(r.table));
    expect(ordinary, JSON.stringify(ordinary)).toEqual([]);
    const found = all.filter((r) => /\.victim_\d+$/.test(r.table));
    // Every victim exactly once across the killed and the restarted guard.
    expect(found.map((r) => r.table).sort()).toEqual(victims.map((v) => `${DB}.${v.table}`).sort());
    console.log(
      `guard: kill/restart: ${first.reports.length - before} incident(s) reported before SIGKILL, ${guard.reports.filter((r) => /victim/.test(r.table)).length} after restart`,
    );
    for (const v of victims) {
      const r = found.find((x) => x.table === `${DB}.${v.table}`)!;
      expect(r.gtid).toBe(v.gtid);
      expect(r.cause).toBe('DELETE');
      await expectCopy(r, v.oracle);
    }
  }, 240_000);

  it('a guard SIGKILLed, a DROP while it is down, a restart from its saved state: one incident, an exact copy', async () => {
    await fill('down_victim', 1200);
    // The table's rows reach the guard, and it saves what it knows (it does when nothing is in flight).
    const savedBefore = (guard.stderr.match(/guard state saved/g) ?? []).length;
    await guard.until(() => (guard.stderr.match(/guard state saved/g) ?? []).length > savedBefore, 'guard to save its state', 60_000);
    guard.child.kill('SIGKILL');
    await guard.exited;
    const oracle = (await dumpTable(src, DB, 'down_victim'))!;
    await src.query(`DROP TABLE ${DB}.down_victim`);
    const gtid = await gtidNow();
    const t0 = Date.now();
    guard = new Guard(['--notify', hookUrl]);
    await guard.until(() => guard.stderr.includes('watching: caught up with the log'), 'guard to catch up with the log', 60_000);
    const watching = (Date.now() - t0) / 1000;
    const line = guard.stderr.split('\n').find((l) => l.includes('watching: caught up with the log'))!;
    const logged = JSON.parse(line) as { resumed: boolean; startSeconds: number; processSeconds: number };
    console.log(`guard: restart-to-watching ${watching.toFixed(2)} s (logged: ${logged.startSeconds} s in the session, ${logged.processSeconds} s since process start), resumed from saved state: ${logged.resumed}`);
    expect(logged.resumed).toBe(true);
    const [r] = await guard.incidents(`${DB}.down_victim`, 1, 90_000);
    expect(r!.gtid).toBe(gtid);
    expect(r!.cause).toBe('DROP TABLE');
    await expectCopy(r!, oracle);
    // Once, not again: a later destructive statement is reported after it, and still only one for the victim.
    await src.query(`CREATE TABLE ${DB}.sentinel2 (id INT PRIMARY KEY)`);
    await src.query(`INSERT INTO ${DB}.sentinel2 SELECT seq FROM seq_1_to_20`);
    await src.query(`TRUNCATE TABLE ${DB}.sentinel2`);
    await guard.incidents(`${DB}.sentinel2`, 1, 90_000);
    expect(guard.reports.filter((x) => x.table === `${DB}.down_victim`)).toHaveLength(1);
  }, 240_000);
});
