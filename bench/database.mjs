// Database restore (issue 14): a database of 8 tables x 500,000 rows restored with one
// `pitr restore --database` vs 8 sequential `pitr restore --table` runs, with the CPU use of every
// core during each (sampled from /proc/stat: busy % of each core over the restore, share of samples
// with every core >= 80% busy, and the CPU seconds of the pitr process (from /usr/bin/time -v) and
// of the recovery server's mariadbd (from /proc/<pid>/stat)). Every table checked against the source.
// The history goes into the shared log (--source-id, default bench-shared); --fresh for a log of its own.
//
//   export PITR_HOME=...; node bench/database.mjs [--tables 8] [--rows 500000] [--runs 1] [--budget 1g]
//     [--source-id ID | --fresh] [--keep]
//   validation size: node bench/database.mjs --rows 20000
import * as L from './lib.mjs';
import { createTables, bulk } from './workload.mjs';

const f = L.flags();
const ntables = Number(f.tables ?? 8);
const rows = Number(f.rows ?? 500_000);
const runs = Number(f.runs ?? 1);
const env = { PITR_MEMORY_BUDGET: f.budget ?? '1g' };
const log = (...a) => console.error(new Date().toISOString().slice(11, 19), ...a);

const st = await L.stack();
const src = await L.connect(st.info.source);
const tgt = await L.connect(st.info.target);
const db = `benchdb_${L.tag()}`;
const lg = await L.benchLog(st, f, { name: 'database', db });
const names = Array.from({ length: ntables }, (_, i) => `t${i + 1}`);
await createTables(st.info.source, db, names);
await L.capture(lg.sourceId, lg.tables);
const w = Date.now();
for (const n of names) await bulk({ url: st.info.source, db, table: n, inserts: rows, chunk: Number(f.chunk ?? 100_000) });
const cut = await L.cutAfterNow();
const cap = await L.capture(lg.sourceId, lg.tables);
const oracle = {};
for (const n of names) oracle[n] = await L.fingerprint(src, db, n);
log(`${ntables} x ${rows} rows written in ${L.fmt((Date.now() - w) / 1000)} s, captured ${cap.rowChanges} row changes in ${L.fmt(cap.wall)} s`);
const targetPid = await L.serverPid(tgt);
const cores = (await import('node:os')).cpus().length;

// (pitr + recovery mariadbd CPU seconds) / wall: the cores the restore itself kept busy (the Kafka
// broker's share is only in the machine-wide /proc/stat figures, with everything else running).
const coresUsed = (cpu, wall) => +((cpu.processCpuSeconds.pitr + cpu.processCpuSeconds.recoveryMariadbd) / wall).toFixed(2);
const check = async (into, route) => {
  for (const n of names) {
    const got = await L.fingerprint(tgt, into, n);
    if (got !== oracle[n]) throw new Error(`${route}: ${into}.${n} holds ${got}, the source ${oracle[n]}`);
  }
};
const res = { database: [], sequential: [] };
let cpuDb;
let cpuSeq;
for (let i = 0; i < runs; i++) {
  const d = await L.withCpuSampling(() => L.restore(lg.sourceId, db, L.isoUtc(cut), `${db}_d`, { env }), { pids: { recoveryMariadbd: targetPid } });
  await check(`${db}_d`, 'restore --database');
  d.cpu.processCpuSeconds.pitr = +d.result.cpuSeconds.toFixed(2);
  res.database.push(d.result.wall);
  cpuDb = { ...d.cpu, coresUsedByPitrAndMariadbd: coresUsed(d.cpu, d.result.wall), peakRssMb: Math.round(d.result.maxRssMb) };
  log(`run ${i + 1}: restore --database ${L.fmt(d.result.wall)} s, cores busy ${d.cpu.coreBusyPct.join('% / ')}% (machine-wide), pitr CPU ${d.cpu.processCpuSeconds.pitr} s, mariadbd CPU ${d.cpu.processCpuSeconds.recoveryMariadbd} s, exact`);

  let pitrCpu = 0;
  const s = await L.withCpuSampling(async () => {
    const t0 = Date.now();
    for (const n of names) pitrCpu += (await L.restore(lg.sourceId, `${db}.${n}`, L.isoUtc(cut), `${db}_s`, { env })).cpuSeconds;
    return (Date.now() - t0) / 1000;
  }, { pids: { recoveryMariadbd: targetPid } });
  await check(`${db}_s`, 'restore --table x 8');
  s.cpu.processCpuSeconds.pitr = +pitrCpu.toFixed(2);
  res.sequential.push(s.result);
  cpuSeq = { ...s.cpu, coresUsedByPitrAndMariadbd: coresUsed(s.cpu, s.result) };
  log(`run ${i + 1}: ${ntables} sequential restore --table ${L.fmt(s.result)} s, cores busy ${s.cpu.coreBusyPct.join('% / ')}%, exact`);
}
const m = { database: L.median(res.database), sequential: L.median(res.sequential) };
console.log(JSON.stringify({
  bench: 'database',
  database: `${db}: ${ntables} tables x ${rows} rows (bulk inserts of 100,000-row statements)`,
  log: lg.shared ? `shared ${lg.sourceId} (held ${lg.before.changesRecords} change records before this run)` : `fresh ${lg.sourceId}`,
  runs,
  cores,
  medianSeconds: { database: +m.database.toFixed(2), sequential: +m.sequential.toFixed(2) },
  sequentialOverDatabase: +(m.sequential / m.database).toFixed(2),
  cpuDuringDatabaseRestore: cpuDb,
  cpuDuringSequentialRestores: cpuSeq,
  goal: 'the database restore uses both cores',
  exact: true,
}));
if (!f.keep) {
  for (const d of [`${db}_d`, `${db}_s`]) await tgt.query(`DROP DATABASE IF EXISTS \`${d}\``);
  await src.query(`DROP DATABASE IF EXISTS \`${db}\``);
}
await src.end();
await tgt.end();
