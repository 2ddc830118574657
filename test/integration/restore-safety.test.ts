// Restore never harms what it protects (issue 13 items 1, 2, 7, 8, 9), checked on the servers
// themselves: the source's binlog position and schemas after a restore aimed at it, the target's
// schemas after SIGINT, SIGKILL and a failed restore, the printed cut against the real binlog, and
// history's first and last versions. A log of its own (source id rs-<run>, two databases) keeps
// the shared `main` log out of it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type mysql from 'mysql2/promise';
import { REPO, connect, pitr, stack } from './helpers.js';
import { provisionLog } from '../../src/log/provision.js';
import type { StackInfo } from '../../src/core/settings.js';

const RUN = Date.now().toString(36);
const DB = `rs_${RUN}`;
const OTHER = `rs_${RUN}_o`;
/** Added to capture's filter later: its rows reach the log through a partial snapshot. */
const LATE = `rs_${RUN}_late`;
const SOURCE_ID = `rs-${RUN}`;
const LOG = ['--source-id', SOURCE_ID];

let info: StackInfo;
let src: mysql.Connection;
let dst: mysql.Connection;
/** Holds LOCK TABLES on the target (a session with table locks can read nothing else). */
let locker: mysql.Connection;
/** GTIDs of the workload after the snapshot: row 4 inserted, row 5 inserted, the DROP of `gone`. */
let g4: string;
let g5: string;
let gDrop: string;

async function gtidNow(): Promise<string> {
  const [g] = await src.query('SELECT @@gtid_binlog_pos AS g');
  return String((g as { g: string }[])[0]!.g).split(',').find((x) => x.startsWith('0-'))!;
}

async function schemas(conn: mysql.Connection, like: string): Promise<string[]> {
  const [r] = await conn.query('SELECT SCHEMA_NAME AS s FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ? ORDER BY 1', [like]);
  return (r as { s: string }[]).map((x) => x.s);
}

async function sourceBinlog(): Promise<{ gtid: string; file: string; pos: number }> {
  const [m] = await src.query('SHOW MASTER STATUS');
  const row = (m as { File: string; Position: number }[])[0]!;
  const [g] = await src.query('SELECT @@gtid_binlog_pos AS g');
  return { gtid: String((g as { g: string }[])[0]!.g), file: row.File, pos: Number(row.Position) };
}

/** The CLI as a child process the test can signal. */
function spawnPitr(args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; signal: string | null; stderr: string }> } {
  const child = spawn(process.execPath, [path.join(REPO, 'bin/pitr.js'), ...args], {
    cwd: REPO,
    env: { ...process.env, PITR_LOG_FORMAT: 'json', PITR_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdout!.resume();
  const done = new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, done };
}

/** Waits until a restore sits in its final RENAME, blocked by a table lock the test holds. */
async function waitForBlockedRename(): Promise<string> {
  for (let i = 0; i < 300; i++) {
    const [r] = await dst.query("SELECT INFO AS q FROM information_schema.PROCESSLIST WHERE INFO LIKE 'RENAME TABLE%pitr_tmp_%'");
    const q = (r as { q: string }[])[0]?.q;
    if (q) return /pitr_tmp_([0-9a-f]+)_\d+/.exec(q)![1]!;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error('the restore never reached its RENAME');
}

beforeAll(async () => {
  info = await stack();
  src = await connect(info.source);
  dst = await connect(info.target);
  locker = await connect(info.target);
  await src.query(`
    CREATE DATABASE ${DB}; CREATE DATABASE ${OTHER};
    CREATE TABLE ${DB}.t (id INT PRIMARY KEY, v VARCHAR(20));
    CREATE TABLE ${DB}.gone (id INT PRIMARY KEY, v VARCHAR(20));
    CREATE TABLE ${OTHER}.u (id INT PRIMARY KEY);
    INSERT INTO ${DB}.t VALUES (1, 'one'), (2, 'two'), (3, 'three');
    INSERT INTO ${DB}.gone VALUES (1, 'x');
    INSERT INTO ${OTHER}.u VALUES (1);
    CREATE DATABASE ${LATE}; CREATE TABLE ${LATE}.l (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO ${LATE}.l VALUES (1, 'late');`);
  await provisionLog({ kafka: info.kafka, sourceId: SOURCE_ID, partitions: 3 });
  const snap = await pitr(['capture', '--until-caught-up', ...LOG, '--tables', `${DB}.*,${OTHER}.*`]);
  expect(snap.code, snap.stderr).toBe(0);
  await src.query(`INSERT INTO ${DB}.t VALUES (4, 'four')`);
  g4 = await gtidNow();
  await src.query(`INSERT INTO ${DB}.t VALUES (5, 'five')`);
  g5 = await gtidNow();
  await src.query(`ALTER TABLE ${OTHER}.u ADD COLUMN z INT; UPDATE ${DB}.gone SET v = 'y' WHERE id = 1`);
  await src.query(`DROP TABLE ${DB}.gone`);
  gDrop = await gtidNow();
  const tail = await pitr(['capture', '--until-caught-up', ...LOG, '--tables', `${DB}.*,${OTHER}.*,${LATE}.*`]);
  expect(tail.code, tail.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await src?.query(`DROP DATABASE IF EXISTS ${DB}; DROP DATABASE IF EXISTS ${OTHER}; DROP DATABASE IF EXISTS ${LATE}`).catch(() => undefined);
  for (const db of await schemas(dst, `rs\\_${RUN}%`).catch(() => [])) await dst.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await src?.end();
  await dst?.end();
  await locker?.end();
});

describe('restore never writes into the source (item 1)', () => {
  it('refuses the source as target, recognised by the server itself, before any write', async () => {
    const before = await sourceBinlog();
    const [c0] = await src.query(`SELECT COUNT(*) AS n FROM ${DB}.t`);
    // Through the stack's source URL, and with the configured source unreachable (only the
    // identity the log recorded then knows who the source is).
    for (const env of [{}, { PITR_SOURCE: 'mysql://root:@127.0.0.1:1' }]) {
      const r = await pitr(['restore', ...LOG, '--table', `${DB}.t`, '--through-gtid', g4, '--replace', '--target', info.source], env);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/^pitr: the restore target \(.+\) is the source server this log captures; .*--target\.\n$/);
    }
    const guard = await pitr(['guard', '--once', ...LOG, '--target', info.source, '--into-database', `${DB}_guard`]);
    expect(guard.code).not.toBe(0);
    expect(guard.stderr).toMatch(/guard's recovery server .* is the source server/);
    expect(await sourceBinlog()).toEqual(before);
    expect(await schemas(src, 'pitr\\_tmp\\_%')).toEqual([]);
    expect(await schemas(src, `${DB}\\_guard`)).toEqual([]);
    const [c1] = await src.query(`SELECT COUNT(*) AS n FROM ${DB}.t`);
    expect(c1).toEqual(c0);
  });
});

describe('system schemas are never targets (item 7)', () => {
  it('refuses --into-database of a system schema in any case, and a system table restored in place', async () => {
    for (const into of ['mysql', 'MySQL', 'performance_schema', 'SYS', 'information_schema']) {
      const r = await pitr(['restore', ...LOG, '--table', `${DB}.t`, '--through-gtid', g4, '--into-database', into]);
      expect(r.code, into).not.toBe(0);
      expect(r.stderr).toMatch(new RegExp(`^pitr: --into-database ${into} would write into ${into}, a system schema; .*\\.\\n$`));
    }
    const user = await pitr(['restore', ...LOG, '--table', 'mysql.user', '--through-gtid', g4]);
    expect(user.code).not.toBe(0);
    expect(user.stderr).toMatch(/^pitr: restoring mysql\.user in place would write into mysql, a system schema; .*\n$/);
    const [t] = await dst.query("SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA IN ('mysql', 'sys') AND TABLE_NAME = 't'");
    expect(Number((t as { n: number }[])[0]!.n)).toBe(0);
  });
});

describe('the printed cut names the last included and first excluded transaction (item 8)', () => {
  it('prints where mariadb-binlog continues without skipping a transaction', async () => {
    const r = await pitr(['restore', ...LOG, '--table', `${DB}.t`, '--before-gtid', g5, '--into-database', `${DB}_cut`, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { rows: number; included: { gtid: string; position: string }; firstExcluded: { gtid: string }; position: string };
    expect(out.rows).toBe(4);
    expect(out.included.gtid).toBe(g4);
    expect(out.firstExcluded.gtid).toBe(g5);
    expect(out.position).toBe(out.included.position);
    const [, file, pos] = /^(.+):(\d+)$/.exec(out.included.position)!;
    const u = new URL(info.source);
    const binlog = spawnSync('mariadb-binlog', ['--read-from-remote-server', `--host=${u.hostname}`, `--port=${u.port}`, '--user=root', `--start-position=${pos}`, file!], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    const first = /GTID (\d+-\d+-\d+)/.exec(binlog.stdout)?.[1];
    expect(first, binlog.stderr).toBe(g5);

    const text = await pitr(['restore', ...LOG, '--table', `${DB}.t`, '--before-gtid', g5, '--into-database', `${DB}_cut`, '--replace']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`includes up to GTID ${g4} (${out.included.position}); first excluded GTID ${g5}`);
  });
});

describe('scratch schemas (item 2)', () => {
  it('replays only the needed databases; SIGINT removes the scratch schemas and says so', async () => {
    const into = `${DB}_blk`;
    await dst.query(`CREATE DATABASE ${into}; CREATE TABLE ${into}.t (id INT)`);
    await locker.query(`LOCK TABLES ${into}.t WRITE`);
    try {
      const run = spawnPitr(['restore', ...LOG, '--table', `${DB}.t`, '--through-gtid', g4, '--into-database', into, '--replace']);
      const tag = await waitForBlockedRename();
      // One scratch database (the table's), not one per database in the log, plus the owner marker.
      expect(await schemas(dst, `pitr\\_tmp\\_${tag}%`)).toEqual([`pitr_tmp_${tag}`, `pitr_tmp_${tag}_0`]);
      const [owner] = await dst.query(`SELECT pid, lock_name AS l FROM pitr_tmp_${tag}.pitr_owner`);
      expect(owner).toEqual([{ pid: run.child.pid, l: `pitr_restore_${tag}` }]);
      // A running restore's schemas are never cleaned up.
      const cleanup = await pitr(['restore', '--cleanup']);
      expect(cleanup.code, cleanup.stderr).toBe(0);
      expect(await schemas(dst, `pitr\\_tmp\\_${tag}%`)).toHaveLength(2);
      run.child.kill('SIGINT');
      const res = await run.done;
      expect(res.code).not.toBe(0);
      expect(res.stderr).toBe('pitr: restore interrupted; scratch schemas removed.\n');
      expect(await schemas(dst, `pitr\\_tmp\\_${tag}%`)).toEqual([]);
    } finally {
      await locker.query('UNLOCK TABLES');
    }
    // The existing table was not replaced.
    const [rows] = await dst.query(`SELECT COUNT(*) AS n FROM ${into}.t`);
    expect(Number((rows as { n: number }[])[0]!.n)).toBe(0);
  });

  it('after a SIGKILL the next restore removes the dead restore\'s scratch schemas', async () => {
    const into = `${DB}_blk`;
    await locker.query(`LOCK TABLES ${into}.t WRITE`);
    let tag: string;
    try {
      const run = spawnPitr(['restore', ...LOG, '--table', `${DB}.t`, '--through-gtid', g4, '--into-database', into, '--replace']);
      tag = await waitForBlockedRename();
      run.child.kill('SIGKILL');
      await run.done;
    } finally {
      await locker.query('UNLOCK TABLES');
    }
    // Its lock dies with its connection; its schemas stay behind until someone cleans up.
    for (let i = 0; i < 100; i++) {
      const [u] = await dst.query('SELECT IS_USED_LOCK(?) AS o', [`pitr_restore_${tag}`]);
      if ((u as { o: number | null }[])[0]!.o === null) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    expect((await schemas(dst, `pitr\\_tmp\\_${tag}%`)).length).toBeGreaterThan(0);
    const next = await pitr(['restore', ...LOG, '--table', `${DB}.t`, '--through-gtid', g4, '--into-database', `${DB}_next`]);
    expect(next.code, next.stderr).toBe(0);
    expect(await schemas(dst, `pitr\\_tmp\\_${tag!}%`)).toEqual([]);
  });

  it('a failed restore leaves no empty --into-database and names no scratch schema', async () => {
    const into = `${DB}_fail`;
    const r = await pitr(['restore', ...LOG, '--table', `${DB}.t`, '--table', `${DB}.t`, '--through-gtid', g4, '--into-database', into]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^pitr: [^\n]+\n$/);
    expect(r.stderr).not.toMatch(/pitr_tmp/);
    // A failure deep in the restore (the table was dropped at this cut) cleans up as well.
    const gone = await pitr(['restore', ...LOG, '--table', `${DB}.gone`, '--through-gtid', gDrop, '--into-database', into]);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toMatch(/^pitr: table rs_\w+\.gone did not exist through GTID [\d-]+\.\n$/);
    expect(await schemas(dst, into)).toEqual([]);
    expect(await schemas(dst, 'pitr\\_tmp\\_%')).toEqual([]);
    // A destination named like a scratch schema would be taken for debris by the next restore.
    const like = await pitr(['restore', ...LOG, '--table', `${DB}.t`, '--through-gtid', g4, '--into-database', 'pitr_tmp_0123abcd']);
    expect(like.code).not.toBe(0);
    expect(like.stderr).toMatch(/^pitr: --into-database pitr_tmp_0123abcd looks like a restore's scratch schema/);
  });
});

describe('history starts at the snapshot and ends with the DROP (item 9)', () => {
  it('shows the snapshot image as the first version', async () => {
    const r = await pitr(['history', ...LOG, `${DB}.t`, '--pk', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const h = JSON.parse(r.stdout) as { rows: { versions: { op: string; row: Record<string, string> | null }[] }[] };
    expect(h.rows[0]!.versions.map((v) => v.op)).toEqual(['snapshot']);
    expect(h.rows[0]!.versions[0]!.row).toEqual({ id: '2', v: 'two' });
    // A table added to capture's filter later starts with its partial snapshot.
    const late = await pitr(['history', ...LOG, `${LATE}.l`, '--pk', '1', '--json']);
    expect(late.code, late.stderr).toBe(0);
    const l = JSON.parse(late.stdout) as { rows: { initial: unknown; versions: { op: string }[] }[] };
    expect(l.rows[0]!.initial).toEqual({ id: '1', v: 'late' });
    expect(l.rows[0]!.versions.map((v) => v.op)).toEqual(['snapshot']);
  });

  it('ends a dropped table\'s row with the DROP and its GTID', async () => {
    const r = await pitr(['history', ...LOG, `${DB}.gone`, '--pk', '1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const h = JSON.parse(r.stdout) as { rows: { versions: { op: string; gtid: string; row: unknown }[] }[] };
    const v = h.rows[0]!.versions;
    expect(v.map((x) => x.op)).toEqual(['snapshot', 'update', 'drop']);
    expect(v.at(-1)).toMatchObject({ op: 'drop', gtid: gDrop, row: null });
    const text = await pitr(['history', ...LOG, `${DB}.gone`, '--pk', '1']);
    expect(text.stdout).toMatch(new RegExp(`${gDrop}\\s+DROP`));
  });
});
