// Reads a whole log once for the UI's timeline (as the reader principal): the meta topic, every changes
// partition (snapshot rows skipped unread), the checkpoint manifests, and guard's incident ledger on the
// recovery server; puts them in commit order with guard's sequencer and builds the Timeline.
import { kafkaClient, kafkaError, readPartitions, topicLayout, withAdmin } from '../log/kafka-log.js';
import { decodeRecord, RecordField, recordBodyField } from '../log/record-codec.js';
import { MetaState } from '../log/meta-state.js';
import { logTopics } from '../log/topics.js';
import { readCheckpoints } from '../checkpoint/checkpoint-store.js';
import { LogSequencer } from '../guard/log-sequencer.js';
import { LEDGER_TABLE } from '../guard/guard.js';
import type { ThresholdPolicy } from '../guard/thresholds.js';
import { connectMysql, qualified } from '../core/mysql-conn.js';
import type { MysqlUrl } from '../core/mysql-url.js';
import type { KafkaSettings } from '../core/settings.js';
import { formatPosition } from '../core/position.js';
import { formatQualifiedName } from '../core/table-name.js';
import { logger } from '../core/logger.js';
import { TimelineBuilder, type Timeline } from './timeline.js';

/** Consumer groups of the UI's reads: within the readers' prefix (pitr-). */
export const UI_GROUP_PREFIX = 'pitr-ui';

export interface ScanOptions {
  kafka: KafkaSettings;
  sourceId: string;
  policy: ThresholdPolicy;
  /** Where guard keeps its ledger of incidents: the recovery server and guard's database. */
  guardLedger?: { target: MysqlUrl; database: string };
}

export interface LogScan {
  timeline: Timeline;
  meta: MetaState;
  /** When the scan finished (ms). */
  at: number;
  seconds: number;
  /** Why guard's incidents are missing, when they are. */
  ledgerNote?: string;
}

export async function scanLog(opts: ScanOptions): Promise<LogScan> {
  const started = Date.now();
  const kafka = kafkaClient(opts.kafka, 'reader', { clientId: `pitr-ui-${opts.sourceId}` });
  const topics = logTopics(opts.sourceId);
  // Checkpoint manifests have their own topic: read them while the log is read.
  const checkpointsRead = readCheckpoints(kafka, topics, opts.sourceId, UI_GROUP_PREFIX).catch((err: Error) => {
    // A log without a checkpoints topic (or without the right to it) simply has no checkpoint markers.
    logger().debug({ err: err.message }, 'no checkpoints read');
    return [];
  });
  const meta = new MetaState();
  const builder = new TimelineBuilder(opts.policy);
  // Every changes partition starts at offset 0 (the log keeps its whole history).
  const { partitions: count } = await topicLayout(kafka, topics.changes);
  const partitions = Array.from({ length: count }, (_, p) => p);
  const sequencer = new LogSequencer(new Map(partitions.map((p) => [p, 0n])), 0n);
  await readPartitions(kafka, topics.meta, {
    partitions: [0],
    groupPrefix: UI_GROUP_PREFIX,
    onMessages: (_p, msgs) => {
      for (const m of msgs) {
        const rec = decodeRecord(m.value, `${topics.meta}/0@${m.offset}`, opts.sourceId);
        meta.add(rec);
        sequencer.addMeta(m.offset, rec);
      }
    },
  });
  // Measured after the meta topic was read: every transaction it lists has its changes below these
  // ends, so the sequencer releases transactions while the changes are read (memory stays bounded).
  const ends = await withAdmin(kafka, async (a) => {
    const e = await a.ends(topics.changes).catch((err) => {
      throw kafkaError(err, `could not read the offsets of topic ${topics.changes}`);
    });
    return new Map([...e].map(([p, x]) => [p, x.high]));
  });
  sequencer.setEnds(ends);
  const release = () => {
    for (const item of sequencer.drain()) builder.add(item);
  };
  await readPartitions(kafka, topics.changes, {
    partitions,
    groupPrefix: UI_GROUP_PREFIX,
    onMessages: (p, msgs) => {
      for (const m of msgs) {
        if (recordBodyField(m.value) === RecordField.SnapshotRows) {
          sequencer.skipChange(p, m.offset);
          continue;
        }
        const rec = decodeRecord(m.value, `${topics.changes}/${p}@${m.offset}`, opts.sourceId);
        if (rec.change) sequencer.addChange(p, m.offset, rec.change);
        else sequencer.skipChange(p, m.offset);
      }
      release();
    },
  });
  // Read to the end (control records after the last change included).
  for (const [p, end] of ends) sequencer.reachedTo(p, end);
  release();

  for (const g of meta.gaps) {
    builder.addGap(g.gap.afterTime, `gap after ${g.gap.afterGtidPos || formatPosition(g.after)}: ${g.gap.reason}`);
  }
  for (const c of await checkpointsRead) {
    const m = c.manifest;
    const tables = (m.tables ?? []).map((t) => formatQualifiedName(t.database, t.table));
    builder.addCheckpoint(m.commitTime, `checkpoint ${m.checkpointId} of ${tables.length} table(s) at ${m.gtidPos}`, tables, formatPosition(c.position));
  }
  let ledgerNote: string | undefined;
  if (opts.guardLedger) {
    try {
      for (const r of await readLedger(opts.guardLedger.target, opts.guardLedger.database, opts.sourceId)) {
        builder.addIncident(r.gtid, `guard: ${r.cause} on ${r.table_name}`, r.table_name, Math.floor(new Date(r.reported_at).getTime() / 1000));
      }
    } catch (err) {
      ledgerNote = `guard's incidents are not shown: ${(err as Error).message}`;
    }
  }
  return { timeline: builder.build(), meta, at: Date.now(), seconds: (Date.now() - started) / 1000, ...(ledgerNote ? { ledgerNote } : {}) };
}

interface LedgerRow {
  table_name: string;
  cause: string;
  gtid: string;
  reported_at: string;
}

async function readLedger(target: MysqlUrl, database: string, sourceId: string): Promise<LedgerRow[]> {
  const db = await connectMysql(target, 'recovery');
  try {
    const [t] = await db.query('SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [database, LEDGER_TABLE]);
    if (!(t as unknown[]).length) return [];
    const [rows] = await db.query(`SELECT table_name, cause, gtid, DATE_FORMAT(reported_at, '%Y-%m-%dT%H:%i:%sZ') AS reported_at FROM ${qualified(database, LEDGER_TABLE)} WHERE source_id = ?`, [sourceId]);
    return rows as LedgerRow[];
  } finally {
    await db.end().catch(() => undefined);
  }
}
