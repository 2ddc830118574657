// Commit-to-log latency under a steady OLTP load: capture runs continuously, a reader-credential
// consumer tails the changes topic, and each row's client-side millisecond stamp (column ts, set
// just before the autocommit statement) is compared with the record's arrival at the consumer.
// Usage: node bench/latency.mjs [--rate 3000] [--seconds 30] [--connections 16] [--quick]
import path from 'node:path';
import { spawn } from 'node:child_process';
import { kafkajsClient } from '../dist/log/kafka-log.js';
import { logTopics } from '../dist/log/topics.js';
import { viewRowRecord, visitImage } from '../dist/log/record-codec.js';
import * as L from './lib.mjs';
import { createTables, oltp } from './workload.mjs';

const f = L.flags();
const rate = Number(f.rate ?? 3000);
const seconds = Number(f.seconds ?? (f.quick ? 5 : 30));
const st = await L.stack();
const db = `blat_${L.tag()}`;
const names = ['t1', 't2', 't3', 't4', 't5', 't6', 't7', 't8'];
await createTables(st.info.source, db, names);
const sourceId = await L.freshLog(st, 'lat');
await L.capture(sourceId, `${db}.*`);

// Continuous capture (its own process, as in production).
const cap = spawn(process.execPath, [path.join(L.REPO, 'bin/pitr.js'), 'capture', '--source-id', sourceId, '--tables', `${db}.*`], {
  env: { ...process.env, PITR_LOG_FORMAT: 'json', PITR_LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'ignore', 'inherit'],
});

// The consumer: after-image ts column of every row change, against arrival time.
const kafka = kafkajsClient(st.info.kafka, 'reader', { clientId: 'pitr-bench-latency' });
const consumer = kafka.consumer({ groupId: `pitr-bench-lat-${L.tag()}`, readUncommitted: false, maxWaitTimeInMs: 20 });
await consumer.connect();
await consumer.subscribe({ topic: logTopics(sourceId).changes, fromBeginning: true });
const lat = [];
let tsCol = -1;
const grab = {
  col: 0,
  v: 0,
  null() { this.col++; },
  integer(x) { if (this.col++ === tsCol) this.v = Number(x); },
  double() { this.col++; },
  float() { this.col++; },
  bytes() { this.col++; },
};
await consumer.run({
  eachBatch: async ({ batch }) => {
    const now = Date.now();
    for (const m of batch.messages) {
      const v = viewRowRecord(m.value, 'lat', sourceId);
      if (!v || v.kind !== 'change') continue;
      tsCol = v.columns.indexOf('ts');
      for (let i = 0; i < v.ops.length; i++) {
        const a = v.ranges[4 * i + 2];
        const b = v.ranges[4 * i + 3];
        if (a < 0) continue;
        grab.col = 0;
        grab.v = 0;
        visitImage(v.buf, a, b, grab);
        if (grab.v > 0) lat.push(now - grab.v);
      }
    }
  },
});
await L.sleep(3000); // capture connected and tailing
const t0 = Date.now();
const work = await oltp({ url: st.info.source, db, tables: names, txns: rate * seconds, connections: Number(f.connections ?? 16), rate });
await L.sleep(3000); // drain
cap.kill('SIGTERM');
await consumer.disconnect();
const s = lat.sort((a, b) => a - b);
const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
const out = {
  bench: 'latency',
  targetRate: rate,
  achievedRate: Math.round(work.rate),
  seconds: work.seconds,
  rowsMeasured: s.length,
  p50ms: q(0.5),
  p99ms: q(0.99),
  maxMs: s.at(-1),
  wallSeconds: (Date.now() - t0) / 1000,
};
console.log(JSON.stringify(out));
const src = await L.connect(st.info.source);
await src.query(`DROP DATABASE IF EXISTS \`${db}\``);
await src.end();
process.exit(0);
