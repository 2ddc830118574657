// One huge source transaction, the attack pitr exists for: (1) capture of a single UPDATE of every
// row of a large table under --memory-cap (peak RSS, row changes/s), then exact restores of the
// table just before and just after it; (2) guard on a mass UPDATE: one incident and an exact copy of
// the table as it was before, with guard's peak RSS. Runs on a shared log that already holds other
// history (`--source-id`, default bench-shared; reused across runs), not a fresh one. Not part of CI.
//
//   export PITR_HOME=/tmp/pitr-bench
//   node bench/big-transaction.mjs capture --rows 10000000 --cap 256
//   node bench/big-transaction.mjs guard --rows 2000000
import { flags, stack, connect, pitr, fingerprint, tag, benchLog } from './lib.mjs';

const [mode = 'capture'] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const f = flags();
const rows = Number(f.rows ?? (mode === 'guard' ? 2_000_000 : 10_000_000));
const cap = Number(f.cap ?? 256);
const st = await stack();
const db = `benchbig_${tag()}`;
// The shared log (bench-shared unless --source-id; --fresh for a log of its own) and its one filter.
const lg = await benchLog(st, f, { name: 'big', db });
const sourceId = lg.sourceId;
const src = await connect(st.info.source);
const tgt = await connect(st.info.target);
const env = { PITR_MEMORY_BUDGET: f.budget ?? '1g' };
const log = (...a) => console.error(new Date().toISOString().slice(11, 19), ...a);

await src.query(`CREATE DATABASE ${db}`);
// sysbench's sbtest shape: a narrow key, an indexed int, two fixed strings.
await src.query(`CREATE TABLE ${db}.t (id INT PRIMARY KEY, k INT NOT NULL, c CHAR(60) NOT NULL, pad CHAR(30) NOT NULL, KEY (k))`);
for (let i = 1; i <= rows; i += 500_000) {
  const to = Math.min(rows, i + 499_999);
  await src.query(`INSERT INTO ${db}.t SELECT seq, seq % 100000, LPAD(seq, 60, 'c'), LPAD(seq, 30, 'p') FROM ${db}.seq_${i}_to_${to}`);
}
log(`filled ${rows} rows`);
// One filter for every run on the shared log (narrowing it is refused): the log's, else bench*_*.*.
const captureArgs = ['capture', '--until-caught-up', '--json', '--source-id', sourceId, '--tables', lg.tables, '--memory-cap', String(cap)];
const snap = await pitr(captureArgs);
log(`snapshot in ${snap.seconds.toFixed(1)} s`);
const before = await fingerprint(src, db, 't');

await src.query(`UPDATE ${db}.t SET k = k + 1`);
const [[g]] = await src.query('SELECT @@last_gtid AS g');
const gtid = g.g;
const after = await fingerprint(src, db, 't');
log(`one UPDATE of ${rows} rows committed as GTID ${gtid}`);

const result = { mode, rows, sourceId, gtid };
if (mode === 'capture') {
  const c = await pitr(captureArgs);
  const out = JSON.parse(c.stdout.trim().split('\n').at(-1));
  Object.assign(result, {
    memoryCapMb: cap,
    captureSeconds: +c.seconds.toFixed(2),
    rowChanges: out.rowChanges,
    rowChangesPerSecond: Math.round(out.rowChanges / c.seconds),
    capturePeakRssMb: Math.round(c.maxRssMb),
  });
  log(`captured in ${c.seconds.toFixed(1)} s, peak RSS ${Math.round(c.maxRssMb)} MB`);
  for (const [name, cut, expected] of [['before', '--before-gtid', before], ['after', '--through-gtid', after]]) {
    const into = `${db}_${name}`;
    const r = await pitr(['restore', '--table', `${db}.t`, cut, gtid, '--into-database', into, '--replace', '--json', '--source-id', sourceId], { env });
    const got = await fingerprint(tgt, into, 't');
    result[`restore_${name}`] = { seconds: +r.seconds.toFixed(2), peakRssMb: Math.round(r.maxRssMb), exact: got === expected };
    log(`restore ${name}: ${r.seconds.toFixed(1)} s, ${got === expected ? 'EXACT' : `DIFFERENT ${got} vs ${expected}`}`);
  }
} else {
  const c = await pitr(captureArgs);
  log(`captured in ${c.seconds.toFixed(1)} s, peak RSS ${Math.round(c.maxRssMb)} MB`);
  const into = `benchguard_${tag()}`;
  const gd = await pitr(['guard', '--source-id', sourceId, '--from-start', '--once', '--json', '--watch', `${db}.*`, '--into-database', into], { env });
  const incidents = gd.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const mine = incidents.filter((i) => i.gtid === gtid);
  const copy = mine[0]?.into?.split('.')[1];
  const got = copy ? await fingerprint(tgt, into, copy) : null;
  Object.assign(result, {
    incidents: mine.length,
    cause: mine[0]?.cause,
    guardSeconds: +gd.seconds.toFixed(2),
    guardPeakRssMb: Math.round(gd.maxRssMb),
    copyExact: got === before,
  });
  log(`guard: ${mine.length} incident(s), copy ${got === before ? 'EXACT' : `DIFFERENT ${got} vs ${before}`}, peak RSS ${Math.round(gd.maxRssMb)} MB`);
}
console.log(JSON.stringify(result));
await src.query(`DROP DATABASE ${db}`);
await src.end();
await tgt.end();
process.exit(0);
