// Verify and guard at the size of a real log (issue 18): builds one log of >= 2,000,000 records, including
// a source transaction of more than 1,000,000 rows, once (source id bench-verify unless --source-id; reused
// by later runs), then measures: a full `pitr verify` (records/s, peak RSS), `pitr verify --since` on the
// last 10,000 records, and guard restart-to-watching (a guard that already followed the log, killed with
// SIGKILL, started again). Not part of CI.
//
//   export PITR_HOME=/tmp/pitr-bench
//   node bench/verify-scale.mjs build [--txns 250000] [--big-rows 1100000]   # once
//   node bench/verify-scale.mjs verify | since | guard
import { spawn } from 'node:child_process';
import path from 'node:path';
import { flags, stack, connect, pitr, logSize, REPO, sleep, tag } from './lib.mjs';
import { provisionLog } from '../dist/log/provision.js';

const [mode = 'verify'] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const f = flags();
const sourceId = f['source-id'] ?? 'bench-verify';
const db = f.db ?? 'benchverify_log';
const TABLES = 8;
const st = await stack();
const log = (...a) => console.error(new Date().toISOString().slice(11, 19), ...a);
const total = async () => {
  const s = await logSize(st, sourceId);
  return s.changesRecords + s.metaRecords;
};

if (mode === 'build') {
  // Small transactions touching every one of TABLES tables (one ChangeBatch record per table and
  // transaction), then one INSERT ... SELECT of big-rows rows (a staged transaction), then more small ones.
  const txns = Number(f.txns ?? 250_000);
  const bigRows = Number(f['big-rows'] ?? 1_100_000);
  await provisionLog({ kafka: st.info.kafka, sourceId, brokerCount: 1 });
  const src = await connect(st.info.source);
  await src.query('FLUSH BINARY LOGS');
  await src.query(`CREATE DATABASE IF NOT EXISTS ${db}`);
  for (let t = 0; t < TABLES; t++) {
    await src.query(`CREATE TABLE IF NOT EXISTS ${db}.t${t} (id BIGINT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL, c CHAR(40) NOT NULL)`);
  }
  await src.query(`CREATE TABLE IF NOT EXISTS ${db}.big (id INT PRIMARY KEY, k INT NOT NULL, c CHAR(60) NOT NULL, pad CHAR(30) NOT NULL)`);
  const captureArgs = ['capture', '--until-caught-up', '--json', '--source-id', sourceId, '--tables', `${db}.*`, '--memory-cap', '256'];
  await pitr(captureArgs);
  const inserts = Array.from({ length: TABLES }, (_, t) => `INSERT INTO ${db}.t${t} (v, c) VALUES (i, LPAD(i, 40, 'x'));`).join(' ');
  await src.query(`DROP PROCEDURE IF EXISTS ${db}.small_txns`);
  await src.query(
    `CREATE PROCEDURE ${db}.small_txns(n INT) BEGIN DECLARE i INT DEFAULT 0; WHILE i < n DO START TRANSACTION; ${inserts} COMMIT; SET i = i + 1; END WHILE; END`,
  );
  const half = Math.floor(txns / 2);
  let t0 = Date.now();
  await src.query(`CALL ${db}.small_txns(${half})`);
  log(`${half} small transactions in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const [[m]] = await src.query(`SELECT COALESCE(MAX(id), 0) AS m FROM ${db}.big`);
  t0 = Date.now();
  await src.query(
    `INSERT INTO ${db}.big SELECT seq, seq % 100000, LPAD(seq, 60, 'c'), LPAD(seq, 30, 'p') FROM ${db}.seq_${Number(m.m) + 1}_to_${Number(m.m) + bigRows}`,
  );
  log(`one INSERT of ${bigRows} rows in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  t0 = Date.now();
  await src.query(`CALL ${db}.small_txns(${txns - half})`);
  log(`${txns - half} small transactions in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await src.end();
  const c = await pitr(captureArgs);
  log(`captured in ${c.seconds.toFixed(1)} s (peak RSS ${Math.round(c.maxRssMb)} MB); the log holds ${await total()} records`);
  console.log(JSON.stringify({ mode, sourceId, records: await total(), captureSeconds: +c.seconds.toFixed(1) }));
  process.exit(0);
}

const records = await total();
if (records < 2_000_000) log(`note: the log ${sourceId} holds ${records} records (build it first: node bench/verify-scale.mjs build)`);

/** `pitr verify --json`: seconds, peak RSS, what it found. */
async function verify(extra = []) {
  const par = f.parallel ? ['--parallel', String(f.parallel)] : [];
  const r = await pitr(['verify', '--json', '--source-id', sourceId, ...par, ...extra], { env: { PITR_LOG_LEVEL: 'warn' } });
  return { ...r, res: JSON.parse(r.stdout.trim().split('\n').at(-1)) };
}

if (mode === 'verify') {
  const r = await verify();
  const out = {
    mode, sourceId, records: r.res.records, ok: r.res.ok, findings: r.res.findings.length,
    seconds: +r.seconds.toFixed(2), recordsPerSecond: Math.round(r.res.records / r.seconds), peakRssMb: Math.round(r.maxRssMb),
    parallel: r.res.parallel, cpuSeconds: +r.cpuSeconds.toFixed(1), recordsPerCpuSecond: Math.round(r.res.records / r.cpuSeconds), inside: r.res.seconds,
  };
  log(`verify: ${out.records} records in ${out.seconds} s, ${out.recordsPerSecond} records/s, peak RSS ${out.peakRssMb} MB, ${out.findings} finding(s)`);
  console.log(JSON.stringify(out));
  process.exit(out.ok ? 0 : 1);
}

if (mode === 'since') {
  // Anchor, then 10,000 more records (1,250 transactions of 8 tables), captured; then verify --since the anchor.
  const base = await verify();
  const src = await connect(st.info.source);
  const n = Number(f.records ?? 10_000);
  await src.query(`CALL ${db}.small_txns(${Math.ceil(n / TABLES)})`);
  await src.end();
  await pitr(['capture', '--until-caught-up', '--json', '--source-id', sourceId, '--tables', `${db}.*`, '--memory-cap', '256']);
  const r = await verify(['--since', base.res.anchor]);
  const out = {
    mode, sourceId, logRecords: await total(), newRecords: r.res.records, ok: r.res.ok, findings: r.res.findings.length,
    seconds: +r.seconds.toFixed(2), inside: r.res.seconds, peakRssMb: Math.round(r.maxRssMb), fullVerifySeconds: +base.seconds.toFixed(2),
  };
  log(`verify --since: ${out.newRecords} new records of ${out.logRecords} in ${out.seconds} s (full verify ${out.fullVerifySeconds} s)`);
  console.log(JSON.stringify(out));
  process.exit(out.ok ? 0 : 1);
}

if (mode === 'guard') {
  // A guard that followed the whole log (first start), SIGKILLed, then restarted: time from process start
  // to its "watching" line, median of --runs restarts.
  const name = f.name ?? `bench${tag()}`;
  const into = `benchguard_${name}`;
  const startGuard = () => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [path.join(REPO, 'bin/pitr.js'), 'guard', '--source-id', sourceId, '--name', name, '--watch', `${db}.*`, '--into-database', into], {
      cwd: REPO, env: { ...process.env, PITR_LOG_FORMAT: 'json', PITR_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = { text: '' };
    const watching = new Promise((resolve, reject) => {
      const onData = (d) => {
        out.text += d;
        const line = out.text.split('\n').find((l) => l.includes('watching: caught up with the log'));
        if (line) {
          const j = JSON.parse(line);
          resolve({ seconds: (Date.now() - t0) / 1000, logged: j.startSeconds, process: j.processSeconds, resumed: j.resumed });
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('exit', (code) => reject(new Error(`guard exited ${code}: ${out.text.slice(-1000)}`)));
    });
    return { child, watching, out };
  };
  const first = startGuard();
  const w0 = await first.watching;
  log(`first start watching after ${w0.seconds.toFixed(2)} s (resumed: ${w0.resumed}); waiting for it to catch up`);
  await waitCaughtUp(first);
  first.child.kill('SIGKILL');
  const runs = [];
  for (let i = 0; i < Number(f.runs ?? 3); i++) {
    const g = startGuard();
    const w = await g.watching;
    runs.push(w);
    log(`restart ${i + 1}: watching after ${w.seconds.toFixed(2)} s (logged ${w.logged} s in the session, ${w.process} s since process start, resumed: ${w.resumed})`);
    await waitCaughtUp(g);
    g.child.kill('SIGKILL');
    await sleep(500);
  }
  const secs = runs.map((r) => r.seconds).sort((a, b) => a - b);
  const out = { mode, sourceId, records, firstStartSeconds: +w0.seconds.toFixed(2), firstResumed: w0.resumed, restartToWatchingSeconds: secs.map((s) => +s.toFixed(2)), median: +secs[secs.length >> 1].toFixed(2), loggedProcessSeconds: runs.map((r) => r.process), loggedSessionSeconds: runs.map((r) => r.logged), resumed: runs.map((r) => r.resumed) };
  console.log(JSON.stringify(out));
  process.exit(0);
}

/** Until guard logs that it saved its state at the log's end (it does so once caught up and idle). */
async function waitCaughtUp(g) {
  while (!g.out.text.includes('guard state saved')) await sleep(200);
}
