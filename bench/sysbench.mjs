// sysbench oltp_read_write (Debian's sysbench: a client nobody here wrote) against the stack's source
// with capture running, then one table restored with pitr vs the native route, both checked against
// the source (the oracle: row count + CHECKSUM TABLE of that table, taken while the workload is paused).
// The history goes into the shared log (--source-id, default bench-shared); --fresh for a log of its own.
//
//   export PITR_HOME=...; node bench/sysbench.mjs [--seconds 60] [--tables 4] [--table-size 50000]
//     [--threads 8] [--table sbtest1] [--runs 1] [--source-id ID | --fresh] [--keep]
//   validation size: node bench/sysbench.mjs --seconds 10 --table-size 5000
//
// native: mariadb-binlog --start-position=<before sysbench prepare> --stop-datetime=<cut> --database=D
// --table=sbtest1 --rewrite-db='D->D_n' <binlog files> | mariadb, into an empty database D_n (the
// binlog's CREATE TABLE / CREATE INDEX statements build the tables): the same history pitr reads.
import { spawn } from 'node:child_process';
import * as L from './lib.mjs';

const f = L.flags();
const seconds = Number(f.seconds ?? 60);
const ntables = Number(f.tables ?? 4);
const size = Number(f['table-size'] ?? 50000);
const threads = Number(f.threads ?? 8);
const table = f.table ?? 'sbtest1';
const runs = Number(f.runs ?? 1);
const log = (...a) => console.error(new Date().toISOString().slice(11, 19), ...a);

try {
  await L.run('sysbench', ['--version']);
} catch {
  console.error('sysbench is not installed: apt-get install -y sysbench   (Debian/Ubuntu; the bench drives its oltp_read_write)');
  process.exit(2);
}

const st = await L.stack();
const src = await L.connect(st.info.source);
const tgt = await L.connect(st.info.target);
const db = `benchsb_${L.tag()}`;
const lg = await L.benchLog(st, f, { name: 'sysbench', db });
const sourceId = lg.sourceId;
await src.query(`CREATE DATABASE ${db}`);
await L.capture(sourceId, lg.tables);
const start = await L.masterStatus(src);
const srcUrl = new URL(st.info.source);
const sb = (cmd, extra = []) => [
  'oltp_read_write',
  '--db-driver=mysql',
  `--mysql-host=${srcUrl.hostname}`,
  `--mysql-port=${srcUrl.port}`,
  `--mysql-user=${decodeURIComponent(srcUrl.username)}`,
  `--mysql-password=${decodeURIComponent(srcUrl.password)}`,
  `--mysql-db=${db}`,
  `--tables=${ntables}`,
  `--table-size=${size}`,
  ...extra,
  cmd,
];
const prep = await L.run('sysbench', sb('prepare', [`--threads=${Math.min(threads, ntables)}`]));
log(`sysbench prepare: ${ntables} x ${size} rows in ${L.fmt(prep.seconds)} s`);

// Capture tails the binlog while sysbench runs (the history lands in the log as it is written).
const capArgs = ['capture', '--json', '--source-id', sourceId, '--tables', lg.tables];
const capChild = spawn(process.execPath, ['bin/pitr.js', ...capArgs], { cwd: L.REPO, env: { ...process.env, PITR_LOG_FORMAT: 'json', PITR_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'] });
let capErr = '';
capChild.stderr.on('data', (d) => (capErr += d));
const capExit = new Promise((r) => capChild.on('close', r));
const runOut = await L.run('sysbench', sb('run', [`--threads=${threads}`, `--time=${seconds}`, '--report-interval=0']));
const tps = /transactions:\s+(\d+)\s+\(([\d.]+) per sec/.exec(runOut.stdout);
const qps = /queries:\s+(\d+)\s+\(([\d.]+) per sec/.exec(runOut.stdout);
log(`sysbench run: ${threads} threads, ${seconds} s: ${tps?.[1]} transactions (${tps?.[2]}/s), ${qps?.[1]} queries`);
// Paused: the workload is over; the oracle is the source at the cut.
const cut = await L.cutAfterNow();
const oracle = await L.fingerprint(src, db, table);
capChild.kill('SIGTERM');
const code = await capExit;
if (code !== 0 && code !== null && code !== 143) log(`background capture exited ${code}: ${capErr.slice(-500)}`);
const cap = await L.capture(sourceId, lg.tables); // catch up what the background capture had not written
log(`capture caught up (${cap.rowChanges} row changes left after the background capture, ${L.fmt(cap.wall)} s); oracle ${db}.${table} ${oracle}`);

const checkpoint = await L.checkpointPass(sourceId, f);
const res = { pitr: [], native: [], rss: [] };
for (let i = 0; i < runs; i++) {
  const p = await L.restore(sourceId, `${db}.${table}`, L.isoUtc(cut), `${db}_p`);
  const gotP = await L.fingerprint(tgt, `${db}_p`, table);
  await tgt.query(`DROP DATABASE IF EXISTS \`${db}_n\`; CREATE DATABASE \`${db}_n\``);
  const n = await L.nativeReplay(st, { start, stopSecond: cut, db, table, into: `${db}_n` });
  const gotN = await L.fingerprint(tgt, `${db}_n`, table);
  log(`run ${i + 1}: pitr ${L.fmt(p.wall)} s (${p.rows} rows, ${L.fmt(p.maxRssMb, 0)} MB) ${gotP === oracle ? 'EXACT' : `DIFFERENT ${gotP}`}; ` +
    `native ${L.fmt(n.seconds)} s ${gotN === oracle ? 'EXACT' : `DIFFERENT ${gotN}`}`);
  if (gotP !== oracle || gotN !== oracle) throw new Error(`inexact restore: pitr ${gotP}, native ${gotN}, the source holds ${oracle}`);
  res.pitr.push(p.wall);
  res.native.push(n.seconds);
  res.rss.push(p.maxRssMb);
}
const m = Object.fromEntries(Object.entries(res).map(([k, v]) => [k, L.median(v)]));
console.log(JSON.stringify({
  bench: 'sysbench',
  workload: `sysbench oltp_read_write, ${threads} threads, ${seconds} s, ${ntables} tables x ${size} rows: ${tps?.[1]} transactions (${tps?.[2]}/s)`,
  log: lg.shared ? `shared ${sourceId} (held ${lg.before.changesRecords} change records before this run)` : `fresh ${sourceId}`,
  table: `${db}.${table}`,
  runs,
  checkpoint,
  oracle,
  medianSeconds: { pitr: +m.pitr.toFixed(2), native: +m.native.toFixed(2) },
  nativeOverPitr: +(m.native / m.pitr).toFixed(2),
  goal: 'native/pitr >= 20',
  pitrPeakRssMb: Math.round(m.rss),
  exact: { pitr: true, native: true },
}));
if (f.keep) log(`kept: --source-id ${sourceId} --table ${db}.${table} --as-of ${L.isoUtc(cut)}`);
else {
  for (const d of [`${db}_p`, `${db}_n`]) await tgt.query(`DROP DATABASE IF EXISTS \`${d}\``);
  await src.query(`DROP DATABASE IF EXISTS \`${db}\``);
}
await src.end();
await tgt.end();
