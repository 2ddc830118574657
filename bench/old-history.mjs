// Independence from a table's own old history (issue 14): a table of 100,000 rows with 10,000,000
// changes of history (the inserts, then update rounds of every row) on the shared log, checkpointed
// when this build has `pitr checkpoint` (`pitr checkpoint --once --source-id ID`), restored as of the
// end, vs the same rows restored from a fresh snapshot (a second source id whose capture starts after
// the history). Both checked against the source. Goal: checkpointed <= 1.5x fresh snapshot.
//
//   export PITR_HOME=...; node bench/old-history.mjs [--rows 100000] [--changes 10000000] [--runs 3]
//     [--budget 1g] [--source-id ID | --fresh]
//   validation size: node bench/old-history.mjs --rows 10000 --changes 200000 --runs 1
import * as L from './lib.mjs';
import { createTables, bulk } from './workload.mjs';

const f = L.flags();
const rows = Number(f.rows ?? 100_000);
const changes = Number(f.changes ?? 10_000_000);
const rounds = Math.max(0, Math.round(changes / rows) - 1);
const runs = Number(f.runs ?? 3);
const chunk = Number(f.chunk ?? 100_000);
const env = { PITR_MEMORY_BUDGET: f.budget ?? '1g' };
const log = (...a) => console.error(new Date().toISOString().slice(11, 19), ...a);

const st = await L.stack();
const src = await L.connect(st.info.source);
const tgt = await L.connect(st.info.target);
const db = `benchold_${L.tag()}`;
const lg = await L.benchLog(st, f, { name: 'old-history', db });
await createTables(st.info.source, db, ['t']);
await L.capture(lg.sourceId, lg.tables);
const w = await bulk({ url: st.info.source, db, table: 't', inserts: rows, updates: rounds ? rows : 0, rounds, chunk });
const history = rows * (1 + rounds);
const cut = await L.cutAfterNow();
const cap = await L.capture(lg.sourceId, lg.tables);
const oracle = await L.fingerprint(src, db, 't');
log(`history: ${rows} inserts + ${rounds} rounds updating every row = ${history} changes in ${L.fmt(w.seconds)} s; captured ${cap.rowChanges} in ${L.fmt(cap.wall)} s; oracle ${oracle}`);

let checkpoint = 'no checkpoint command';
let noCheckpointFlag = false;
if (await L.hasCheckpointCommand()) {
  const c = await L.pitr(['checkpoint', '--once', '--source-id', lg.sourceId]);
  checkpoint = { seconds: +c.seconds.toFixed(2), peakRssMb: Math.round(c.maxRssMb), output: c.stdout.trim().split('\n').at(-1)?.slice(0, 300) };
  log(`pitr checkpoint --once: ${L.fmt(c.seconds)} s, ${Math.round(c.maxRssMb)} MB`);
  noCheckpointFlag = /--no-checkpoint/.test((await L.pitr(['restore', '--help'])).stdout);
} else log('no checkpoint command (pitr checkpoint --help does not show its usage): measuring without one');

// The fresh snapshot: a second log whose capture starts after the history (snapshot of the final rows).
const fresh = await L.freshLog(st, 'oldsnap');
const snap = await L.capture(fresh, `${db}.*`);
const cutFresh = await L.cutAfterNow();
await L.capture(fresh, `${db}.*`); // the log's coverage reaches past the cut
log(`fresh log ${fresh}: snapshot of ${snap.snapshotRows} rows in ${L.fmt(snap.wall)} s`);

const routes = [
  ['history', lg.sourceId, cut, []],
  ['freshSnapshot', fresh, cutFresh, []],
];
if (noCheckpointFlag) routes.push(['historyNoCheckpoint', lg.sourceId, cut, ['--no-checkpoint']]);
const res = Object.fromEntries(routes.map(([n]) => [n, []]));
const rss = Object.fromEntries(routes.map(([n]) => [n, []]));
for (let i = 0; i < runs; i++) {
  for (const [name, id, at, extra] of routes) {
    const into = `${db}_${name.toLowerCase()}`;
    const r = await L.restore(id, `${db}.t`, L.isoUtc(at), into, { env, extra });
    const got = await L.fingerprint(tgt, into, 't');
    if (got !== oracle) throw new Error(`restore (${name}) gave ${got}, the source holds ${oracle}`);
    res[name].push(r.wall);
    rss[name].push(r.maxRssMb);
    log(`run ${i + 1}: ${name} ${L.fmt(r.wall)} s (${Math.round(r.maxRssMb)} MB), exact`);
  }
}
const m = Object.fromEntries(Object.entries(res).map(([k, v]) => [k, +L.median(v).toFixed(2)]));
console.log(JSON.stringify({
  bench: 'old-history',
  table: `${db}.t: ${rows} final rows, ${history} changes of history`,
  log: lg.shared ? `shared ${lg.sourceId} (held ${lg.before.changesRecords} change records before this run)` : `fresh ${lg.sourceId}`,
  freshSnapshotLog: fresh,
  checkpoint,
  runs,
  medianSeconds: m,
  peakRssMb: Object.fromEntries(Object.entries(rss).map(([k, v]) => [k, Math.round(L.median(v))])),
  historyOverFreshSnapshot: +(m.history / m.freshSnapshot).toFixed(2),
  goal: 'history (checkpointed) / fresh snapshot <= 1.5',
  exact: true,
}));
if (!f.keep) {
  for (const [name] of routes) await tgt.query(`DROP DATABASE IF EXISTS \`${db}_${name.toLowerCase()}\``);
  await src.query(`DROP DATABASE IF EXISTS \`${db}\``);
}
await src.end();
await tgt.end();
