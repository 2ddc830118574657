// Scale benchmark: restore time and peak RSS of the restore process for tables of N final rows with
// histories of 1x (N inserts) and 10x (N inserts + 9 rounds updating every row) their size, plus
// capture throughput (row changes/s into the log) for each bulk history. Every restore is checked
// against the source. Usage: node bench/scale.mjs [--sizes 100000,1000000,5000000] [--factors 1,10]
//   [--max-changes 12000000] (skips combinations whose history is larger) [--budget 1g] [--chunk 100000]
//   [--snapshot] (rows enter the log through capture's snapshot instead of the binlog) [--quick]
import * as L from './lib.mjs';
import { createTables, bulk } from './workload.mjs';

const f = L.flags();
const sizes = String(f.sizes ?? (f.quick ? '20000' : '100000,1000000,5000000')).split(',').map(Number);
const factors = String(f.factors ?? '1,10').split(',').map(Number);
const maxChanges = Number(f['max-changes'] ?? 12_000_000);
const env = f.budget ? { PITR_MEMORY_BUDGET: f.budget } : {};
const st = await L.stack();
const src = await L.connect(st.info.source);
const tgt = await L.connect(st.info.target);
const rows = [];
for (const n of sizes) {
  for (const x of factors) {
    if (n * x > maxChanges) {
      console.error(`skipped ${n} rows x${x}: ${n * x} row changes is over --max-changes ${maxChanges}`);
      continue;
    }
    const db = `bscale_${L.tag()}`;
    await createTables(st.info.source, db, ['t']);
    const sourceId = await L.freshLog(st, 'scale');
    let w;
    let cap;
    if (f.snapshot) {
      // The rows reach the log through capture's snapshot (chunked SnapshotRows), then x-1 update rounds.
      w = await bulk({ url: st.info.source, db, table: 't', inserts: n, chunk: Number(f.chunk ?? 100000) });
      const snap = await L.capture(sourceId, `${db}.*`);
      console.error(`snapshot of ${snap.snapshotRows} rows in ${L.fmt(snap.seconds)} s (${Math.round(snap.snapshotRows / snap.seconds)} rows/s)`);
      if (x > 1) await bulk({ url: st.info.source, db, table: 't', inserts: 0, updates: n, rounds: x - 1, chunk: Number(f.chunk ?? 100000) });
      const cut0 = await L.cutAfterNow();
      cap = await L.capture(sourceId, `${db}.*`);
      cap.rowChanges += snap.snapshotRows;
      cap.seconds += snap.seconds;
      cap.cut = cut0;
    } else {
      await L.capture(sourceId, `${db}.*`);
      w = await bulk({ url: st.info.source, db, table: 't', inserts: n, updates: x > 1 ? n : 0, rounds: x - 1, chunk: Number(f.chunk ?? 100000) });
    }
    const cut = cap?.cut ?? (await L.cutAfterNow());
    cap ??= await L.capture(sourceId, `${db}.*`);
    const oracle = await L.fingerprint(src, db, 't');
    const r = await L.pitr(['restore', '--table', `${db}.t`, '--as-of', L.isoUtc(cut), '--into-database', `${db}_r`, '--replace', '--json', '--source-id', sourceId], { env });
    const got = await L.fingerprint(tgt, `${db}_r`, 't');
    if (got !== oracle) throw new Error(`restore of ${n} x${x} gave ${got}, the source holds ${oracle}`);
    const row = {
      finalRows: n,
      history: x,
      rowChanges: cap.rowChanges,
      workloadSeconds: w.seconds,
      captureSeconds: cap.seconds,
      captureRowsPerSecond: Math.round(cap.rowChanges / cap.seconds),
      restoreSeconds: r.seconds,
      restorePeakRssMb: Math.round(r.maxRssMb),
      exact: true,
    };
    console.error(JSON.stringify(row));
    rows.push(row);
    await tgt.query(`DROP DATABASE IF EXISTS \`${db}_r\``);
    await src.query(`DROP DATABASE IF EXISTS \`${db}\``);
  }
}
console.log(JSON.stringify({ bench: 'scale', snapshot: Boolean(f.snapshot), budget: f.budget ?? '1g (default)', rows }));
await src.end();
await tgt.end();
