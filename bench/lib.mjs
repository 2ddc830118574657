// Shared helpers of the benchmarks: the local stack, a private log per run, the CLI as a timed child
// process, the native mariadb-binlog route, the LOAD DATA floor and oracle checks. Not part of CI.
import { spawn } from 'node:child_process';
import { readdirSync, copyFileSync, rmSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import { stackUp, stackHome } from '../dist/stack/local-stack.js';
import { provisionLog } from '../dist/log/provision.js';
import { countPartitions, kafkaClient, withAdmin } from '../dist/log/kafka-log.js';
import { logTopics } from '../dist/log/topics.js';
import { readMeta } from '../dist/log/meta-reader.js';
import { partitionFor } from '../dist/log/partitioner.js';
import { parseTableFilter, normalizeTableFilter } from '../dist/capture/table-filter.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function flags(argv = process.argv.slice(2)) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const [k, v] = a.slice(2).split('=');
    if (v !== undefined) out[k] = v;
    else if (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) out[k] = argv[++i];
    else out[k] = true;
  }
  return out;
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const tag = () => Date.now().toString(36);

/** The running local stack (started when needed) and its connection settings. */
export async function stack() {
  const info = await stackUp();
  const home = stackHome();
  return {
    info,
    home,
    sourceData: path.join(home, 'stack', 'source', 'data'),
    sourceFiles: path.join(home, 'stack', 'source', 'files'),
    recoveryFiles: path.join(home, 'stack', 'recovery', 'files'),
    port: (url) => Number(new URL(url).port),
  };
}

/** A fresh log (own topics) so the run neither reads nor is slowed by other runs' records. */
export async function freshLog(st, name) {
  const sourceId = `bench-${name}-${tag()}`;
  // A new binlog file: capture starts from a GTID, which the server looks up by scanning the binlog
  // file from its start; near 1 GB files that made the first capture of a run stall.
  const src = await connect(st.info.source);
  await src.query('FLUSH BINARY LOGS');
  await src.end();
  await provisionLog({ kafka: st.info.kafka, sourceId, brokerCount: 1 });
  return sourceId;
}

/** The one capture filter of the shared bench log: every bench database is named bench<kind>_<tag>. */
export const SHARED_FILTER = 'bench*_*.*';
export const SHARED_SOURCE_ID = 'bench-shared';

/** The --tables filter the log last recorded (resume point, else newest complete snapshot); null for an empty log. */
export async function logFilter(st, sourceId) {
  const kafka = kafkaClient(st.info.kafka, 'reader', { clientId: 'pitr-bench-meta' });
  const meta = await readMeta(kafka, logTopics(sourceId), sourceId);
  const snaps = meta.completeSnapshots();
  if (!meta.resume && !snaps.length) return null;
  return meta.resume?.tableFilter ?? snaps.at(-1)?.begin.tableFilter ?? '';
}

/** Records in the log's topics (changes + meta): how much history a shared log already holds. */
export async function logSize(st, sourceId) {
  const kafka = kafkaClient(st.info.kafka, 'reader', { clientId: 'pitr-bench-size' });
  return withAdmin(kafka, async (admin) => {
    const t = logTopics(sourceId);
    const count = async (topic) => [...(await admin.ends(topic)).values()].reduce((a, e) => a + Number(e.high - e.low), 0);
    return { changesRecords: await count(t.changes), metaRecords: await count(t.meta) };
  });
}

/** Partition of the changes topic that holds table `db.t` (capture keys records by `db.t`). */
export async function partitionOf(st, sourceId, table) {
  const kafka = kafkaClient(st.info.kafka, 'reader', { clientId: 'pitr-bench-md' });
  return partitionFor(table, await countPartitions(kafka, logTopics(sourceId).changes));
}

/**
 * The log a bench writes its history into, from the flags: `--fresh` = a new log of its own (filter
 * `<db>.*`, the old behaviour, flatters every number); otherwise the shared log `--source-id`
 * (default bench-shared), reused across runs so it already holds other history, captured under one
 * filter for all runs (`--filter`, else the one the log recorded, else bench*_*.*; narrowing it is
 * refused by capture). Throws, saying so, when that filter does not cover the bench database `db`.
 * Returns { sourceId, tables (the --tables to capture with), shared, before (log size before the run) }.
 */
export async function benchLog(st, f, { name, db }) {
  if (f.fresh) {
    const sourceId = await freshLog(st, name);
    return { sourceId, tables: `${db}.*`, shared: false, before: { changesRecords: 0, metaRecords: 0 } };
  }
  const sourceId = f['source-id'] ?? SHARED_SOURCE_ID;
  await provisionLog({ kafka: st.info.kafka, sourceId, brokerCount: 1 }); // idempotent: a shared log keeps its history
  const recorded = await logFilter(st, sourceId);
  // An explicit --filter wins (a wider one is accepted: capture snapshots the tables it adds; a
  // narrower one is refused by capture); else the log's own filter; else bench*_*.* for a new log.
  const tables = f.filter ?? recorded ?? SHARED_FILTER;
  if (!parseTableFilter(tables)(db, 't')) {
    throw new Error(
      `the shared log ${sourceId} captures under the filter "${tables}", which does not cover the bench database ${db}: ` +
        `its history would never reach the log. Widen it with --filter '${SHARED_FILTER}' (capture snapshots what a wider filter adds), ` +
        `use another --source-id, or --fresh.`,
    );
  }
  if (recorded !== null && normalizeTableFilter(recorded) !== normalizeTableFilter(tables)) {
    console.error(`note: the log ${sourceId} captured under "${recorded || '(every user database)'}" so far; this run captures under "${tables}"`);
  }
  const before = await logSize(st, sourceId);
  return { sourceId, tables, shared: true, before };
}

/** Whether this build has `pitr checkpoint` (an unknown command's --help prints the top-level help, exit 0). */
export async function hasCheckpointCommand() {
  try {
    const r = await run(process.execPath, [path.join(REPO, 'bin/pitr.js'), 'checkpoint', '--help']);
    return /^Usage: pitr checkpoint/m.test(r.stdout);
  } catch {
    return false;
  }
}

/**
 * One `pitr checkpoint --once` pass, as the checkpointer service beside capture would run it (its manifest carries
 * the meta image restores start from); skipped with --no-checkpoint or on a build without the command.
 */
export async function checkpointPass(sourceId, flags) {
  if (flags['no-checkpoint']) return 'not run (--no-checkpoint)';
  if (!(await hasCheckpointCommand())) return 'no checkpoint command';
  const c = await pitr(['checkpoint', '--once', '--source-id', sourceId]);
  console.error(`pitr checkpoint --once: ${c.seconds.toFixed(2)} s, ${Math.round(c.maxRssMb)} MB`);
  return { seconds: +c.seconds.toFixed(2), peakRssMb: Math.round(c.maxRssMb) };
}

/** Per-core busy jiffies from /proc/stat (cpuN lines). */
function cpuTimes() {
  return readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .filter((l) => /^cpu\d+ /.test(l))
    .map((l) => {
      const v = l.trim().split(/\s+/).slice(1).map(Number);
      const idle = v[3] + v[4];
      const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
      return { idle, total };
    });
}
/** utime+stime (seconds) of a process from /proc/<pid>/stat, NaN when unreadable. */
export function procCpuSeconds(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const v = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(v[11]) + Number(v[12])) / 100; // clock ticks; _SC_CLK_TCK is 100 on Linux
  } catch {
    return NaN;
  }
}
/**
 * Samples /proc/stat every `ms` while `fn` runs: busy % of each core (over the run, and the share
 * of samples where both cores were >= 80% busy), plus the CPU seconds of the processes `pids`.
 */
export async function withCpuSampling(fn, { ms = 250, pids = {} } = {}) {
  const first = cpuTimes();
  const p0 = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, procCpuSeconds(p)]));
  let prev = first;
  let samples = 0;
  let bothBusy = 0;
  const timer = setInterval(() => {
    const now = cpuTimes();
    const busy = now.map((c, i) => 1 - (c.idle - prev[i].idle) / Math.max(1, c.total - prev[i].total));
    samples++;
    if (busy.every((b) => b >= 0.8)) bothBusy++;
    prev = now;
  }, ms);
  try {
    const result = await fn();
    const last = cpuTimes();
    const coreBusyPct = last.map((c, i) => Math.round(100 * (1 - (c.idle - first[i].idle) / Math.max(1, c.total - first[i].total))));
    const processCpuSeconds = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, +(procCpuSeconds(p) - p0[k]).toFixed(2)]));
    return { result, cpu: { method: `/proc/stat every ${ms} ms (all processes on the machine)`, coreBusyPct, samplesAllCoresOver80Pct: `${bothBusy}/${samples}`, processCpuSeconds } };
  } finally {
    clearInterval(timer);
  }
}

/** pid of the server behind a connection (its @@pid_file), or NaN. */
export async function serverPid(conn) {
  try {
    const [[r]] = await conn.query('SELECT @@pid_file AS f');
    return Number(readFileSync(r.f, 'utf8').trim());
  } catch {
    return NaN;
  }
}

export async function connect(url, opts = {}) {
  const u = new URL(url);
  const c = await mysql.createConnection({
    host: u.hostname,
    port: Number(u.port),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    multipleStatements: true,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    ...opts,
  });
  return c;
}

/** Runs a command; resolves with wall seconds, stdout, stderr. Throws on a non-zero exit. */
export function run(cmd, args, { env = {}, input, shell = false } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { cwd: REPO, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'], shell });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ').slice(0, 300)} exited ${code}: ${stderr.slice(-2000)}`));
      else resolve({ seconds, stdout, stderr });
    });
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

const PITR_ENV = { PITR_LOG_FORMAT: 'json', PITR_LOG_LEVEL: 'warn' };

/** `node bin/pitr.js ...` timed from process start to exit, with peak RSS from /usr/bin/time -v. */
export async function pitr(args, { env = {} } = {}) {
  const r = await run('/usr/bin/time', ['-v', process.execPath, ...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean), path.join(REPO, 'bin/pitr.js'), ...args], {
    env: { ...PITR_ENV, ...env },
  });
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  const u = /User time \(seconds\): ([\d.]+)/.exec(r.stderr);
  const sy = /System time \(seconds\): ([\d.]+)/.exec(r.stderr);
  return { ...r, maxRssMb: m ? Number(m[1]) / 1024 : NaN, cpuSeconds: u && sy ? Number(u[1]) + Number(sy[1]) : NaN };
}

export async function capture(sourceId, tables) {
  const r = await pitr(['capture', '--until-caught-up', '--json', '--source-id', sourceId, '--tables', tables]);
  const line = r.stdout.trim().split('\n').at(-1);
  return { ...JSON.parse(line), wall: r.seconds, maxRssMb: r.maxRssMb };
}

/** `pitr restore --table T` (or `--database D` when `table` has no dot) into `into`; `env` e.g. PITR_MEMORY_BUDGET. */
export async function restore(sourceId, table, asOf, into, { env = {}, extra = [] } = {}) {
  const what = table.includes('.') ? ['--table', table] : ['--database', table];
  const r = await pitr(['restore', ...what, '--as-of', asOf, '--into-database', into, '--replace', '--json', '--source-id', sourceId, ...extra], { env });
  return { ...JSON.parse(r.stdout.trim().split('\n').at(-1)), wall: r.seconds, maxRssMb: r.maxRssMb, cpuSeconds: r.cpuSeconds };
}

export async function masterStatus(src) {
  const [r] = await src.query('SHOW MASTER STATUS');
  return { file: r[0].File, pos: Number(r[0].Position) };
}

/** Epoch second S such that every commit so far has commit time < S, after waiting for S+1 (log coverage). */
export async function cutAfterNow() {
  const s = Math.floor(Date.now() / 1000) + 1;
  while (Date.now() / 1000 < s + 1.05) await sleep(50);
  return s;
}
export const isoUtc = (s) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');
const mysqlTime = (s) => new Date(s * 1000).toISOString().slice(0, 19).replace('T', ' ');

/** Binlog files from `file` on, as mariadb-binlog arguments. */
export function binlogFiles(st, file) {
  return readdirSync(st.sourceData)
    .filter((f) => /^mariadb-bin\.\d+$/.test(f) && f >= file)
    .sort()
    .map((f) => path.join(st.sourceData, f));
}

/** The DBA route: mariadb-binlog ... | mariadb into the (already created, empty) target table. */
export async function nativeReplay(st, { start, stopSecond, db, table, into }) {
  const port = st.port(st.info.target);
  const files = binlogFiles(st, start.file).join(' ');
  const cmd =
    `mariadb-binlog --start-position=${start.pos} --stop-datetime='${mysqlTime(stopSecond)}' --database=${db} --table=${table} ` +
    `--rewrite-db='${db}->${into}' ${files} | mariadb -h127.0.0.1 -P${port} -uroot`;
  const r = await run('bash', ['-o', 'pipefail', '-c', cmd], { env: { TZ: 'UTC' } });
  return { seconds: r.seconds, cmd };
}

/** Empty copy of a source table's definition on the target. */
export async function createEmptyLike(src, tgt, db, table, intoDb) {
  const [r] = await src.query(`SHOW CREATE TABLE \`${db}\`.\`${table}\``);
  await tgt.query(`CREATE DATABASE IF NOT EXISTS \`${intoDb}\``);
  await tgt.query(`DROP TABLE IF EXISTS \`${intoDb}\`.\`${table}\``);
  await tgt.query(`USE \`${intoDb}\``);
  await tgt.query(r[0]['Create Table']);
}

/** Row count + CHECKSUM TABLE: the oracle comparison (same definition on both sides). */
export async function fingerprint(conn, db, table) {
  const [[c]] = await conn.query(`SELECT COUNT(*) AS n FROM \`${db}\`.\`${table}\``);
  const [[k]] = await conn.query(`CHECKSUM TABLE \`${db}\`.\`${table}\` EXTENDED`);
  return `${c.n}/${k.Checksum}`;
}

/** The physical floor: SELECT ... INTO OUTFILE on the source, then LOAD DATA (client, --local-infile) into an empty copy. */
export async function loadFloor(st, src, tgt, { db, table, into }) {
  const file = path.join(st.sourceFiles, `floor-${table}-${tag()}.tsv`);
  const t0 = process.hrtime.bigint();
  await src.query(`SELECT * FROM \`${db}\`.\`${table}\` INTO OUTFILE '${file}'`);
  const dump = Number(process.hrtime.bigint() - t0) / 1e9;
  await createEmptyLike(src, tgt, db, table, into);
  const port = st.port(st.info.target);
  const r = await run('mariadb', ['--local-infile=1', '-h127.0.0.1', `-P${port}`, '-uroot', '-e', `LOAD DATA LOCAL INFILE '${file}' INTO TABLE \`${into}\`.\`${table}\``]);
  rmSync(file, { force: true });
  return { dumpSeconds: dump, loadSeconds: r.seconds };
}

/** A process that only reads and decodes the table's partition of the log (bench/read-log.mjs). */
export async function readOnly(sourceId, table) {
  const r = await run(process.execPath, [path.join(REPO, 'bench/read-log.mjs'), '--source-id', sourceId, '--table', table], { env: PITR_ENV });
  return { ...JSON.parse(r.stdout.trim().split('\n').at(-1)), wall: r.seconds };
}

export function fmt(x, d = 2) {
  return typeof x === 'number' ? x.toFixed(d) : String(x);
}

export { copyFileSync };
