// Capture benchmarks: (1) the consistent snapshot of a large table (rows/s, capture's peak RSS, and
// the longest wait of a concurrent writer on the source while the snapshot runs); (2) capture
// throughput on bulk writes (row changes/s into the log). Each is checked by restoring the table
// and comparing CHECKSUM TABLE with the source. Not part of CI.
//
//   export PITR_HOME=/tmp/pitr-bench
//   node bench/capture.mjs snapshot --rows 2000000
//   node bench/capture.mjs bulk --rows 500000 --updates 250000
import { flags, stack, freshLog, connect, capture, restore, fingerprint, isoUtc, sleep, tag } from './lib.mjs';

const [mode = 'snapshot'] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const f = flags();
const st = await stack();
const db = `benchcap_${tag()}`;
const src = await connect(st.info.source);
const tgt = await connect(st.info.target);
await src.query(`CREATE DATABASE ${db}`);
await src.query(`CREATE TABLE ${db}.t (id BIGINT PRIMARY KEY, a VARCHAR(40), b DECIMAL(12,2), c DATETIME(6), d INT, KEY (d))`);
const fill = (from, to) =>
  src.query(`INSERT INTO ${db}.t SELECT seq, CONCAT('row ', seq), seq / 7, '2024-01-01' + INTERVAL seq SECOND, seq % 1000 FROM ${db}.seq_${from}_to_${to}`);

const result = { mode, db };
if (mode === 'snapshot') {
  const rows = Number(f.rows ?? 2_000_000);
  for (let i = 1; i <= rows; i += 500_000) await fill(i, Math.min(rows, i + 499_999));
  const sourceId = await freshLog(st, 'snapshot');
  // A writer on another table of the source, timing every INSERT while the snapshot runs.
  await src.query(`CREATE TABLE ${db}.side (id INT AUTO_INCREMENT PRIMARY KEY, at DATETIME(6))`);
  const writer = await connect(st.info.source);
  let stop = false;
  let worst = 0;
  let writes = 0;
  const writing = (async () => {
    while (!stop) {
      const t0 = Date.now();
      await writer.query(`INSERT INTO ${db}.side (at) VALUES (NOW(6))`);
      worst = Math.max(worst, Date.now() - t0);
      writes++;
      await sleep(10);
    }
  })();
  const cap = await capture(sourceId, `${db}.t`);
  stop = true;
  await writing;
  await writer.end();
  Object.assign(result, {
    rows,
    snapshotRows: cap.snapshotRows,
    seconds: cap.wall,
    rowsPerSecond: Math.round(cap.snapshotRows / cap.wall),
    captureMaxRssMb: Math.round(cap.maxRssMb),
    concurrentWrites: writes,
    worstWriteMs: worst,
  });
  await check(sourceId);
} else {
  const rows = Number(f.rows ?? 500_000);
  const updates = Number(f.updates ?? 250_000);
  const sourceId = await freshLog(st, 'bulk');
  await capture(sourceId, `${db}.t`);
  for (let i = 1; i <= rows; i += 100_000) await fill(i, Math.min(rows, i + 99_999));
  for (let i = 1; i <= updates; i += 50_000) await src.query(`UPDATE ${db}.t SET d = d + 1 WHERE id BETWEEN ${i} AND ${Math.min(updates, i + 49_999)}`);
  const cap = await capture(sourceId, `${db}.t`);
  Object.assign(result, {
    rowChanges: cap.rowChanges,
    seconds: cap.wall,
    rowChangesPerSecond: Math.round(cap.rowChanges / cap.wall),
    captureMaxRssMb: Math.round(cap.maxRssMb),
  });
  await check(sourceId);
}
console.log(JSON.stringify(result));
await src.end();
await tgt.end();
process.exit(0);

async function check(sourceId) {
  const t = Math.floor(Date.now() / 1000) + 1;
  await sleep(2200);
  await capture(sourceId, `${db}.t`);
  const r = await restore(sourceId, `${db}.t`, isoUtc(t), `${db}_r`);
  const want = await fingerprint(src, db, 't');
  const got = await fingerprint(tgt, `${db}_r`, 't');
  result.exact = JSON.stringify(want) === JSON.stringify(got);
  result.restoreSeconds = r.wall;
  if (!result.exact) throw new Error(`restore differs: ${JSON.stringify({ want, got })}`);
}
