// Adapter over kafkajs for readers that follow a log as it grows (guard): one long-running
// read_committed consumer in a named consumer group of the reader principal, reading given
// partitions from given offsets, plus the group's committed offsets (the follower's saved
// position) and partition end offsets. The only guard file that imports kafkajs.
import type { Admin, Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { kafkaClient, kafkaError } from './kafka-log.js';
import type { KafkaSettings } from '../core/settings.js';
import { logger } from '../core/logger.js';

export interface FollowedMessage {
  offset: bigint;
  value: Buffer;
}

export interface FollowerHandlers {
  /** Messages of one partition in offset order; the next batch of that partition waits for the promise. */
  onBatch: (topic: string, partition: number, msgs: FollowedMessage[]) => Promise<void>;
  /** The consumer has read everything on this partition below `next` (control records included). */
  onReached: (topic: string, partition: number, next: bigint) => void;
  /** The consumer failed and will not recover by itself. */
  onFailure: (err: Error) => void;
}

type HwCluster = {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadataIfNecessary(): Promise<void>;
  findTopicPartitionMetadata(topic: string): { partitionId: number }[];
  fetchTopicsOffset(t: { topic: string; fromBeginning: boolean; partitions: { partition: number }[] }[]): Promise<{ partitions: { partition: number; offset: string }[] }[]>;
};

export class LogFollower {
  private readonly kafka: Kafka;
  private admin: Admin | undefined;
  private consumer: Consumer | undefined;
  private hw: HwCluster | null | undefined;

  constructor(
    settings: KafkaSettings,
    readonly groupId: string,
    private readonly topics: string[],
  ) {
    this.kafka = kafkaClient(settings, 'reader', { clientId: groupId });
  }

  private async adminClient(): Promise<Admin> {
    if (!this.admin) {
      const a = this.kafka.admin();
      await a.connect().catch((err) => {
        throw kafkaError(err, 'could not connect to Kafka');
      });
      this.admin = a;
    }
    return this.admin;
  }

  /** The group's committed offsets per topic and partition (partitions never committed are absent). */
  async committed(): Promise<Map<string, Map<number, bigint>>> {
    const admin = await this.adminClient();
    const out = new Map<string, Map<number, bigint>>();
    try {
      const res = await admin.fetchOffsets({ groupId: this.groupId, topics: this.topics });
      for (const t of res) {
        const m = new Map<number, bigint>();
        for (const p of t.partitions) if (p.offset !== '-1' && p.offset !== '') m.set(p.partition, BigInt(p.offset));
        out.set(t.topic, m);
      }
    } catch (err) {
      throw kafkaError(err, `could not read the saved position of consumer group ${this.groupId}`);
    }
    return out;
  }

  /** First offset and last stable offset (what read_committed readers can reach now) per partition. */
  async stableEnds(topic: string): Promise<Map<number, { low: bigint; high: bigint }>> {
    const admin = await this.adminClient();
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      return new Map(offsets.map((o) => [o.partition, { low: BigInt(o.low), high: BigInt(o.high) }]));
    } catch (err) {
      throw kafkaError(err, `could not read the offsets of topic ${topic}`);
    }
  }

  /**
   * High watermarks per partition: they include records of Kafka transactions whose commit markers
   * are not written yet. kafkajs' admin only lists read_committed (last stable) offsets, which on a
   * partition whose marker lags would hide records of a transaction already visible elsewhere; a
   * read_uncommitted ListOffsets is made through kafkajs' cluster factory (stable since kafkajs 2.2),
   * falling back to the stable offsets if that is unavailable.
   */
  async highWatermarks(topic: string): Promise<Map<number, bigint>> {
    if (this.hw === undefined) {
      const sym = Object.getOwnPropertySymbols(this.kafka).find((s) => s.description === 'private:Kafka:createCluster');
      const factory = sym ? (this.kafka as unknown as Record<symbol, (o: object) => HwCluster>)[sym] : undefined;
      this.hw = null;
      if (typeof factory === 'function') {
        const c = factory.call(this.kafka, { allowAutoTopicCreation: false, isolationLevel: 0 });
        try {
          await c.connect();
          this.hw = c;
        } catch (err) {
          logger().warn({ err: String(err) }, 'read_uncommitted offsets unavailable; using stable offsets');
        }
      }
    }
    if (this.hw) {
      try {
        await this.hw.addTargetTopic(topic);
        await this.hw.refreshMetadataIfNecessary();
        const parts = this.hw.findTopicPartitionMetadata(topic).map((p) => ({ partition: p.partitionId }));
        const [res] = await this.hw.fetchTopicsOffset([{ topic, fromBeginning: false, partitions: parts }]);
        return new Map(res!.partitions.map((p) => [p.partition, BigInt(p.offset)]));
      } catch (err) {
        throw kafkaError(err, `could not read the end offsets of topic ${topic}`);
      }
    }
    const ends = await this.stableEnds(topic);
    return new Map([...ends].map(([p, e]) => [p, e.high]));
  }

  /** Starts the consumer: each partition of `from` is read from its offset onwards, until stop(). */
  async start(from: Map<string, Map<number, bigint>>, h: FollowerHandlers): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: this.groupId,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      // A guard killed without leaving the group blocks the next one's join until its session expires.
      sessionTimeout: 10_000,
      rebalanceTimeout: 10_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 250,
      maxBytesPerPartition: 8 * 1024 * 1024,
      maxBytes: 32 * 1024 * 1024,
      retry: { retries: 10 },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.END_BATCH_PROCESS, (ev) => {
      const { topic, partition, lastOffset } = ev.payload as { topic: string; partition: number; lastOffset: string | null };
      if (lastOffset != null) h.onReached(topic, partition, BigInt(lastOffset) + 1n);
    });
    consumer.on(consumer.events.CRASH, (ev) => {
      const p = ev.payload as { error: Error; restart: boolean };
      if (!p.restart) h.onFailure(kafkaError(p.error, 'following the log failed'));
      else logger().warn({ err: p.error?.message }, 'log consumer restarts after an error');
    });
    try {
      await consumer.connect();
      for (const topic of from.keys()) await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        partitionsConsumedConcurrently: 8,
        eachBatchAutoResolve: true,
        eachBatch: async ({ batch, isRunning, isStale }) => {
          if (!isRunning() || isStale()) return;
          const msgs: FollowedMessage[] = (batch.messages as KafkaMessage[]).map((m) => ({ offset: BigInt(m.offset), value: m.value ?? Buffer.alloc(0) }));
          if (msgs.length) await h.onBatch(batch.topic, batch.partition, msgs);
        },
      });
      for (const [topic, parts] of from) for (const [partition, offset] of parts) consumer.seek({ topic, partition, offset: offset.toString() });
    } catch (err) {
      throw kafkaError(err, `could not start following the log as consumer group ${this.groupId}`);
    }
  }

  /** Saves the follower's position in its consumer group. */
  async commit(offsets: { topic: string; partition: number; offset: bigint }[]): Promise<void> {
    if (!this.consumer || !offsets.length) return;
    try {
      await this.consumer.commitOffsets(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset.toString() })));
    } catch (err) {
      throw kafkaError(err, `could not save the position of consumer group ${this.groupId}`);
    }
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
    if (this.hw) await this.hw.disconnect().catch(() => undefined);
  }
}
