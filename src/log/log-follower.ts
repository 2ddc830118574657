// Guard's reader of a log as it grows: a long-running subscription of the reader principal (kafka-log.ts
// followLog), reading given partitions from given offsets, plus a named consumer group's committed offsets
// (the follower's saved position, committed to that group) and partition end offsets.
import { followLog, kafkaClient, kafkaError, LogAdmin, type FollowHandlers, type LogClient, type LogSubscription, type PartitionEnds } from './kafka-log.js';
import type { KafkaSettings } from '../core/settings.js';

export type { FollowedMessage } from './kafka-log.js';
export type FollowerHandlers = FollowHandlers;

export class LogFollower {
  private readonly kafka: LogClient;
  private admin: LogAdmin | undefined;
  private subscription: LogSubscription | undefined;

  constructor(
    settings: KafkaSettings,
    readonly groupId: string,
    private readonly topics: string[],
  ) {
    this.kafka = kafkaClient(settings, 'reader', { clientId: groupId });
  }

  private async adminClient(): Promise<LogAdmin> {
    if (!this.admin) {
      const a = new LogAdmin(this.kafka);
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
    try {
      return await admin.committed(this.groupId, this.topics);
    } catch (err) {
      throw kafkaError(err, `could not read the saved position of consumer group ${this.groupId}`);
    }
  }

  /** First offset and last stable offset (what read_committed readers can reach now) per partition. */
  async stableEnds(topic: string): Promise<PartitionEnds> {
    const admin = await this.adminClient();
    try {
      return await admin.ends(topic);
    } catch (err) {
      throw kafkaError(err, `could not read the offsets of topic ${topic}`);
    }
  }

  /** High watermarks per partition, records of not yet committed Kafka transactions included (LogAdmin.highWatermarks). */
  async highWatermarks(topic: string): Promise<Map<number, bigint>> {
    return (await this.adminClient()).highWatermarks(topic);
  }

  /** Starts the consumer: each partition of `from` is read from its offset onwards, until stop(). */
  async start(from: Map<string, Map<number, bigint>>, h: FollowerHandlers): Promise<void> {
    this.subscription = await followLog(this.kafka, this.groupId, from, h);
  }

  /** Saves the follower's position in its consumer group. */
  async commit(offsets: { topic: string; partition: number; offset: bigint }[]): Promise<void> {
    await this.subscription?.commit(offsets);
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
    await this.admin?.disconnect();
  }
}
