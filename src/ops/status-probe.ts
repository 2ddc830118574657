// Gathers the facts `pitr status` judges (ops/status.ts): the meta topic folded, the source's binlog
// head and clock, topic offsets, whether anything reached the log in the last seconds (Kafka
// record timestamps), the saved verify result. Reads as the reader principal only.
import { kafkaClient, kafkaError, withAdmin, type LogClient } from '../log/kafka-log.js';
import { readMeta } from '../log/meta-reader.js';
import { logTopics } from '../log/topics.js';
import { sourceHead } from '../capture/capture-loop.js';
import type { KafkaSettings } from '../core/settings.js';
import type { MysqlUrl } from '../core/mysql-url.js';
import { assessStatus, STALE_AFTER_SECONDS, type StatusReport, type TopicSize } from './status.js';
import { loadLastVerify } from './verify-record.js';

export interface StatusOptions {
  kafka: KafkaSettings;
  sourceId: string;
  /** Undefined: lag is reported as unknown. */
  source?: MysqlUrl;
  maxLagSeconds: number;
  allowGaps?: boolean;
}

/** Offsets per topic, and whether any partition received a record within the last `seconds`. */
async function topicFacts(kafka: LogClient, topics: string[], seconds: number): Promise<{ sizes: TopicSize[]; recent: boolean }> {
  return withAdmin(kafka, async (admin) => {
    const sizes: TopicSize[] = [];
    let recent = false;
    for (const topic of topics) {
      const ends = await admin.ends(topic).catch((err) => {
        throw kafkaError(err, `could not read the offsets of topic ${topic}`);
      });
      let offsets = 0n;
      for (const e of ends.values()) offsets += e.high - e.low;
      sizes.push({ topic, partitions: ends.size, offsets: Number(offsets) });
      // The first offset written at or after (now - seconds): below the end means something was written since.
      const since = await admin.offsetsAtTime(topic, Date.now() - seconds * 1000);
      for (const [partition, off] of since) {
        const high = ends.get(partition)?.high;
        if (off >= 0n && high !== undefined && off < high) recent = true;
      }
    }
    return { sizes, recent };
  });
}

export async function collectStatus(opts: StatusOptions): Promise<StatusReport> {
  const kafka = kafkaClient(opts.kafka, 'reader', { clientId: `pitr-status-${opts.sourceId}` });
  const topics = logTopics(opts.sourceId);
  const [meta, facts, head] = await Promise.all([
    readMeta(kafka, topics, opts.sourceId),
    topicFacts(kafka, [topics.changes, topics.meta], STALE_AFTER_SECONDS),
    opts.source
      ? sourceHead(opts.source).then(
          (h) => ({ head: h, error: undefined }),
          (err: Error) => ({ head: undefined, error: err.message }),
        )
      : Promise.resolve({ head: undefined, error: 'no source URL given' }),
  ]);
  return assessStatus({
    sourceId: opts.sourceId,
    meta,
    head: head.head,
    headError: head.error,
    recentlyWritten: facts.recent,
    topics: facts.sizes,
    lastVerify: loadLastVerify(opts.sourceId),
    now: Math.floor(Date.now() / 1000),
    maxLagSeconds: opts.maxLagSeconds,
    allowGaps: opts.allowGaps,
  });
}
