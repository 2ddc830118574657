// OLTP / bulk history benchmark: pitr restore of one table vs the native mariadb-binlog | mariadb route
// vs the LOAD DATA floor and a read-only log consumer, all checked against the source (the oracle).
// The history goes into the shared log (--source-id, default bench-shared, reused across runs so it
// already holds other history); --fresh gives the run a log of its own (the old behaviour).
// After capture, one `pitr checkpoint --once` pass runs as the checkpointer service would (skip: --no-checkpoint).
// Usage: node bench/history.mjs oltp|bulk [--runs 3] [--quick] [--txns N] [--inserts N --updates N] [--chunk N] [--no-checkpoint]
//   [--budget 1g] [--no-native] [--source-id ID | --fresh] [--keep]
// Bulk defaults (issue 14 acceptance): 2,000,000 inserts + 2,000,000 updates; 10M: --inserts 10000000 --updates 10000000.
import * as L from './lib.mjs';
import { createTables, oltp, bulk } from './workload.mjs';

const parseSize = (x) => {
  const m = /^(\d+(?:\.\d+)?)([kmg]?)$/i.exec(String(x));
  if (!m) throw new Error(`--budget ${x}: expected e.g. 512m or 1g`);
  return Number(m[1]) * { '': 1 / 1048576, k: 1 / 1024, m: 1, g: 1024 }[m[2].toLowerCase()];
};

const f = L.flags();
const kind = process.argv[2];
if (kind !== 'oltp' && kind !== 'bulk') throw new Error('usage: node bench/history.mjs oltp|bulk [--runs N] [--quick]');
const runs = Number(f.runs ?? (f.quick ? 1 : 3));
const st = await L.stack();
const src = await L.connect(st.info.source);
const tgt = await L.connect(st.info.target);
const db = `bench${kind}_${L.tag()}`;
const names = kind === 'oltp' ? ['t1', 't2', 't3', 't4', 't5', 't6', 't7', 't8'] : ['t1'];
const table = kind === 'oltp' ? 't3' : 't1';
const budget = f.budget ?? '1g';
const budgetMb = parseSize(budget);
const env = { PITR_MEMORY_BUDGET: budget };
const log = await L.benchLog(st, f, { name: kind, db });
await createTables(st.info.source, db, names);
const sourceId = log.sourceId;
await L.capture(sourceId, log.tables); // the (empty) tables enter the log: the history starts here
const start = await L.masterStatus(src);

let work;
if (kind === 'oltp') {
  const txns = Number(f.txns ?? (f.quick ? 5000 : 100000));
  work = await oltp({ url: st.info.source, db, tables: names, txns, connections: 8 });
  work.label = `${txns} single-row transactions over 8 tables (8 connections)`;
} else {
  const inserts = Number(f.inserts ?? (f.quick ? 50000 : 2000000));
  const updates = Number(f.updates ?? inserts);
  work = await bulk({ url: st.info.source, db, table, inserts, updates, chunk: Number(f.chunk ?? 100000) });
  work.label = `${inserts} inserted + ${updates} updated rows in statements of ${f.chunk ?? 100000} rows`;
}
const cut = await L.cutAfterNow();
const cap = await L.capture(sourceId, log.tables);
const oracle = await L.fingerprint(src, db, table);
const checkpoint = await L.checkpointPass(sourceId, f);
console.error(`workload: ${work.label} in ${L.fmt(work.seconds)} s; capture ${cap.rowChanges} row changes in ${L.fmt(cap.seconds)} s (${Math.round(cap.rowChanges / cap.seconds)}/s); oracle ${oracle}`);

const res = { pitr: [], native: [], load: [], dump: [], read: [], rss: [] };
const check = async (route, into) => {
  const got = await L.fingerprint(tgt, into, table);
  if (got !== oracle) throw new Error(`${route} restored ${got}, the source holds ${oracle}`);
};
for (let i = 0; i < runs; i++) {
  const p = await L.restore(sourceId, `${db}.${table}`, L.isoUtc(cut), `${db}_p`, { env });
  await check('pitr', `${db}_p`);
  res.pitr.push(p.wall);
  res.rss.push(p.maxRssMb);

  let n = { seconds: NaN };
  if (!f['no-native']) {
    await L.createEmptyLike(src, tgt, db, table, `${db}_n`);
    n = await L.nativeReplay(st, { start, stopSecond: cut, db, table, into: `${db}_n` });
    await check('native', `${db}_n`);
  }
  res.native.push(n.seconds);

  const fl = await L.loadFloor(st, src, tgt, { db, table, into: `${db}_f` });
  await check('LOAD DATA', `${db}_f`);
  res.load.push(fl.loadSeconds);
  res.dump.push(fl.dumpSeconds);

  const r = await L.readOnly(sourceId, `${db}.${table}`);
  res.read.push(r.wall);
  console.error(`run ${i + 1}: pitr ${L.fmt(p.wall)} s (${p.rows} rows, ${L.fmt(p.maxRssMb, 0)} MB), native ${L.fmt(n.seconds)} s, LOAD DATA ${L.fmt(fl.loadSeconds)} s, read-only ${L.fmt(r.wall)} s (${r.records} records, ${r.rows} row changes)`);
}
const m = Object.fromEntries(Object.entries(res).map(([k, v]) => [k, L.median(v)]));
const summary = {
  bench: kind,
  workload: work.label,
  log: log.shared ? `shared ${sourceId} (held ${log.before.changesRecords} change records + ${log.before.metaRecords} meta records before this run)` : `fresh ${sourceId}`,
  runs,
  finalRows: Number(oracle.split('/')[0]),
  captureRowChanges: cap.rowChanges,
  captureSeconds: cap.seconds,
  checkpoint,
  medianSeconds: m,
  nativeOverPitr: m.native / m.pitr,
  pitrOverNative: m.pitr / m.native,
  pitrOverLoadFloor: m.pitr / m.load,
  pitrOverReadOnly: m.pitr / m.read,
  pitrPeakRssMb: Math.round(m.rss),
  memoryBudgetMb: budgetMb,
  rssWithinBudget: m.rss <= budgetMb,
  nativeCommand: `mariadb-binlog --start-position=${start.pos} --stop-datetime=... --database=${db} --table=${table} --rewrite-db=... ${start.file}.. | mariadb`,
  exact: true,
};
console.log(JSON.stringify(summary));
if (f.keep) console.error(`kept: --source-id ${sourceId} --table ${db}.${table} --as-of ${L.isoUtc(cut)}`);
else {
  for (const d of [`${db}_p`, `${db}_n`, `${db}_f`]) await tgt.query(`DROP DATABASE IF EXISTS \`${d}\``);
  await src.query(`DROP DATABASE IF EXISTS \`${db}\``);
}
await src.end();
await tgt.end();
