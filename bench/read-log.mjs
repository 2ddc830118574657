// Floor of the log side: a process that only reads one table's partition of the changes topic (reader
// credentials, read_committed) and decodes that table's records, then prints JSON {records, rows, seconds}.
// Decoding uses restore's own wire view (every value of every image visited); --protobufjs decodes
// whole messages instead. Usage: node bench/read-log.mjs --source-id S --table db.t [--no-decode] [--protobufjs]
import { runningStackInfo } from '../dist/stack/local-stack.js';
import { countPartitions, kafkaClient, readPartitions } from '../dist/log/kafka-log.js';
import { logTopics } from '../dist/log/topics.js';
import { partitionFor } from '../dist/log/partitioner.js';
import { decodeRecord, viewRowRecord, visitImage } from '../dist/log/record-codec.js';
import { flags } from './lib.mjs';

const f = flags();
const t0 = Date.now();
const info = await runningStackInfo();
const kafka = kafkaClient(info.kafka, 'reader', { clientId: 'pitr-bench-read' });
const topics = logTopics(f['source-id']);
const partition = partitionFor(f.table, await countPartitions(kafka, topics.changes));
const sink = { null() {}, integer() {}, double() {}, float() {}, bytes() {} };
let records = 0;
let rows = 0;
let bytes = 0;
await readPartitions(kafka, topics.changes, {
  partitions: [partition],
  onMessages: (p, msgs) => {
    for (const m of msgs) {
      if (m.key !== f.table) continue;
      records++;
      bytes += m.value.length;
      if (f['no-decode']) continue;
      if (f.protobufjs) {
        const r = decodeRecord(m.value, 'bench');
        rows += r.change ? r.change.changes.length : r.snapshotRows ? r.snapshotRows.rows.length : 0;
        continue;
      }
      const v = viewRowRecord(m.value, 'bench');
      if (!v) continue;
      rows += v.ops.length;
      for (let i = 0; i < v.ranges.length; i += 2) if (v.ranges[i] >= 0) visitImage(v.buf, v.ranges[i], v.ranges[i + 1], sink);
    }
  },
});
process.stdout.write(JSON.stringify({ records, rows, bytes, seconds: (Date.now() - t0) / 1000 }) + '\n');
