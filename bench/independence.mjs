// Independence from other tables (issue 14): a 100-row table restored from the shared log, which also
// holds >= 4,000,000 changes of other tables (written by this run, on top of whatever earlier runs
// left), vs the same table restored from a log that holds that table alone (a second source id whose
// capture filter is just its database). Same history of the small table in both logs; both restores
// checked against the source. Goal: shared <= 1.3x alone.
//
//   export PITR_HOME=...; node bench/independence.mjs [--rows 100] [--other-tables 8] [--other-rows 500000]
//     [--rounds 0] (update rounds of every other row) [--runs 3] [--source-id ID]
//     [--checkpoint] (a `pitr checkpoint --once --min-changes 1` pass on both logs first: the shared log's
//     checkpoints topic then holds the other tables' images too, which a restore of the small table must not read)
//   validation size: node bench/independence.mjs --other-rows 25000 --runs 1
import * as L from './lib.mjs';
import { createTables, bulk } from './workload.mjs';
import { parseTableFilter } from '../dist/capture/table-filter.js';

const f = L.flags();
if (f.fresh) throw new Error('independence compares the shared log against a log of its own: --fresh does not apply');
const rows = Number(f.rows ?? 100);
const otherTables = Number(f['other-tables'] ?? 8);
const otherRows = Number(f['other-rows'] ?? 500_000);
const rounds = Number(f.rounds ?? 0);
const runs = Number(f.runs ?? 3);
const chunk = Number(f.chunk ?? 100_000);
const log = (...a) => console.error(new Date().toISOString().slice(11, 19), ...a);

const st = await L.stack();
const src = await L.connect(st.info.source);
const tgt = await L.connect(st.info.target);
const t = L.tag();
const db = `benchind_${t}`;
const other = `benchindo_${t}`;
const shared = await L.benchLog(st, f, { name: 'independence', db });
if (!parseTableFilter(shared.tables)(other, 't1')) throw new Error(`the shared log's filter "${shared.tables}" does not cover ${other}`);
const names = Array.from({ length: otherTables }, (_, i) => `t${i + 1}`);
await createTables(st.info.source, db, ['t']);
await createTables(st.info.source, other, names);
const alone = await L.freshLog(st, 'alone');
const aloneTables = `${db}.*`;
await L.capture(shared.sourceId, shared.tables);
await L.capture(alone, aloneTables); // snapshot of the (empty) small table
const part = await L.partitionOf(st, shared.sourceId, `${db}.t`);
const samePart = [];
for (const n of names) if ((await L.partitionOf(st, shared.sourceId, `${other}.${n}`)) === part) samePart.push(n);

// The small table's history: rows inserted before the churn, half of them updated after it.
await bulk({ url: st.info.source, db, table: 't', inserts: rows });
const w0 = Date.now();
for (const n of names) await bulk({ url: st.info.source, db: other, table: n, inserts: otherRows, updates: rounds ? otherRows : 0, rounds, chunk });
const otherChanges = otherTables * otherRows * (1 + rounds);
log(`${otherChanges} changes of ${otherTables} other tables written in ${L.fmt((Date.now() - w0) / 1000)} s`);
await src.query(`UPDATE ${db}.t SET k = k + 1 WHERE id <= ${Math.ceil(rows / 2)}`);
const cut = await L.cutAfterNow();
const capS = await L.capture(shared.sourceId, shared.tables);
const capA = await L.capture(alone, aloneTables);
const oracle = await L.fingerprint(src, db, 't');
const size = await L.logSize(st, shared.sourceId);
log(`captured: shared ${capS.rowChanges} row changes in ${L.fmt(capS.wall)} s, alone ${capA.rowChanges}; oracle ${oracle}; ` +
  `shared log now ${size.changesRecords} change records, ${size.metaRecords} meta records`);

let checkpoints = 'none';
if (f.checkpoint) {
  const passes = {};
  for (const [name, id] of [['shared', shared.sourceId], ['alone', alone]]) {
    const c = await L.pitr(['checkpoint', '--once', '--min-changes', '1', '--source-id', id]);
    passes[name] = { seconds: +c.seconds.toFixed(2), output: c.stdout.trim().split('\n').at(-1)?.slice(0, 200) };
    log(`checkpoint pass on the ${name} log: ${L.fmt(c.seconds)} s`);
  }
  checkpoints = passes;
}

const res = { shared: [], alone: [] };
for (let i = 0; i < runs; i++) {
  for (const [name, id] of [['shared', shared.sourceId], ['alone', alone]]) {
    const into = `${db}_${name}`;
    const r = await L.restore(id, `${db}.t`, L.isoUtc(cut), into);
    const got = await L.fingerprint(tgt, into, 't');
    if (got !== oracle) throw new Error(`restore from the ${name} log gave ${got}, the source holds ${oracle}`);
    res[name].push(r.wall);
    log(`run ${i + 1}: ${name} log ${L.fmt(r.wall)} s (${L.fmt(r.maxRssMb, 0)} MB), exact`);
  }
}
const m = { shared: L.median(res.shared), alone: L.median(res.alone) };
console.log(JSON.stringify({
  bench: 'independence',
  table: `${db}.t (${rows} rows, partition ${part} of the shared log; other tables in that partition: ${samePart.join(',') || 'none'})`,
  otherChanges: `${otherChanges} (this run) in ${other}; shared log ${shared.sourceId} held ${shared.before.changesRecords} change records before this run, ${size.changesRecords} after`,
  aloneLog: `${alone} (--tables ${aloneTables})`,
  runs,
  checkpoints,
  medianSeconds: { shared: +m.shared.toFixed(2), alone: +m.alone.toFixed(2) },
  sharedOverAlone: +(m.shared / m.alone).toFixed(2),
  goal: 'shared/alone <= 1.3',
  exact: true,
}));
if (!f.keep) {
  for (const d of [`${db}_shared`, `${db}_alone`]) await tgt.query(`DROP DATABASE IF EXISTS \`${d}\``);
  await src.query(`DROP DATABASE IF EXISTS \`${db}\`; DROP DATABASE IF EXISTS \`${other}\``);
}
await src.end();
await tgt.end();
