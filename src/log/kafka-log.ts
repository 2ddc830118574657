// Adapter over kafkajs, the one boundary every Kafka operation of pitr goes through: authenticated
// clients per principal (an opaque LogClient), a transactional appender that hash-chains every record
// (integrity-chain.ts), the chain heads at capture start, a reader that reads partitions from an offset
// up to the end as it stood when reading began (fetching from the leaders, no consumer group), a
// consumer-group follower (guard), and admin facts
// (partition layout, end offsets, offsets by time, topic-config check, committed offsets). No kafkajs
// type appears in what other modules call (kafkajsClient and checkTopicConfig, which do, serve
// provision.ts and tests). The only files that import kafkajs are this one and provision.ts (the
// custodian's topic and ACL provisioning, a second adapter).
import kafkajs from 'kafkajs';
import type { Admin, Producer, Transaction, Consumer, KafkaMessage, Kafka, LogEntry } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';

const { Kafka: KafkaCtor, logLevel, ConfigResourceTypes } = kafkajs;
import type { KafkaPrincipal, KafkaSettings } from '../core/settings.js';
import { ConnectionError, PitrError, ProducerFencedError, UsageError } from '../core/errors.js';
import { logger } from '../core/logger.js';
import type { OffsetRange } from './table-index.js';
import { REQUIRED_TOPIC_CONFIG } from './topics.js';
import { linkHeaders, nextLink, parseLinkHeaders, type ChainHead, type ChainHeads } from './integrity-chain.js';

// kafkajs logs to stdout by default, which would corrupt `--json` output, and it logs every retried
// attempt (refused connections, SASL failures, retried metadata, coordinator moves) at ERROR, some of
// them after the command already failed. What finally fails reaches the user as one pitr error
// (kafkaError); kafkajs' own lines go to pino at debug (PITR_LOG_LEVEL=debug shows them).
function pinoLogCreator() {
  return () =>
    ({ namespace, log }: LogEntry) => {
      const { message, ...extra } = log;
      logger().child({ kafkajs: namespace }).debug(extra, message);
    };
}

declare const logClientBrand: unique symbol;
/**
 * A Kafka client authenticated as one principal, opaque outside this adapter: modules hand it to the
 * operations below and never see kafkajs.
 */
export type LogClient = { readonly [logClientBrand]: true };

export interface ClientOptions {
  clientId?: string;
  /** Silences kafkajs entirely (readiness probes expect failures while the broker starts). */
  quiet?: boolean;
  retries?: number;
}

/** A client authenticated as one principal (SASL/SCRAM). */
export function kafkaClient(settings: KafkaSettings, principal: KafkaPrincipal, opts: ClientOptions = {}): LogClient {
  return kafkajsClient(settings, principal, opts) as unknown as LogClient;
}

/** The kafkajs client behind a LogClient. */
function driver(client: LogClient): Kafka {
  return client as unknown as Kafka;
}

/**
 * The raw kafkajs client, for the provision adapter and for tests that drive Kafka's own API (ACLs,
 * foreign producers); everything else uses kafkaClient.
 */
export function kafkajsClient(settings: KafkaSettings, principal: KafkaPrincipal, opts: ClientOptions = {}): Kafka {
  // pitr chooses every record's partition itself, so kafkajs' notice about its default partitioner is noise.
  process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
  const user = settings.users[principal];
  if (!user) {
    throw new UsageError(
      `no Kafka credentials for the ${principal} principal; set PITR_KAFKA_${principal.toUpperCase()}_USER and _PASSWORD or start the local stack.`,
    );
  }
  return new KafkaCtor({
    clientId: opts.clientId ?? `pitr-${principal}`,
    brokers: settings.brokers,
    ssl: false,
    sasl: { mechanism: settings.mechanism, username: user.username, password: user.password },
    connectionTimeout: 3_000,
    authenticationTimeout: 5_000,
    requestTimeout: 30_000,
    retry: { retries: opts.retries ?? 5, initialRetryTime: 200, maxRetryTime: 5_000 },
    logLevel: opts.quiet ? logLevel.NOTHING : logLevel.WARN,
    logCreator: pinoLogCreator(),
  });
}

/** Bytes per produce request within a transaction: record batches stay well under message size limits. */
const SEND_BYTES = 900 * 1024;

export interface OutMessage {
  topic: string;
  partition: number;
  key: string;
  value: Buffer;
}

/** Transaction timeouts capture asks for, longest first, until the broker's transaction.max.timeout.ms accepts one. */
const TXN_TIMEOUTS_MS = [300_000, 60_000, 15_000, 5_000, 2_000, 1_000];

/** Capture's producer: idempotent and transactional, so each source transaction lands exactly once. */
export class LogAppender {
  private producer: Producer;
  /** Chain heads per topic and partition as committed; undefined until loaded (or after an uncertain commit). */
  private heads: ChainHeads | undefined;
  private chainTopics: string[] = [];
  /** Leader broker of each partition, to send one broker's partitions at a time (see appendAtomically). */
  private leaders = new Map<string, Map<number, number>>();

  private readonly kafka: Kafka;

  constructor(
    private readonly client: LogClient,
    private readonly transactionalId: string,
    /** Consumer group prefix for reading the chain heads (the principal's own). */
    private readonly headsGroup = 'pitr-capture-heads',
  ) {
    this.kafka = driver(client);
    this.producer = this.newProducer(TXN_TIMEOUTS_MS[0]!);
  }

  private newProducer(transactionTimeout: number): Producer {
    // No `idempotent: true`: kafkajs' transactions are idempotent on their own, while the flag adds
    // a second, non-transactional producer id at connect and, with retries bounded (which capture
    // needs to notice an outage), the "Limiting retries ... EoS" warning.
    return this.kafka.producer({
      transactionalId: this.transactionalId,
      maxInFlightRequests: 1,
      transactionTimeout,
      allowAutoTopicCreation: false,
    });
  }

  /**
   * Connects and registers the transactional id at once, which fences any earlier producer with it
   * and aborts the Kafka transaction it left open, so what is read afterwards is final. Every Kafka
   * transaction capture opens is short (a batch or one chunk of a staged source transaction), so a
   * broker whose transaction.max.timeout.ms is below our first choice gets a shorter timeout.
   */
  async connect(): Promise<void> {
    for (let k = 0; ; k++) {
      try {
        await this.producer.connect();
        // InitProducerId with our transactional id happens at a producer's first transaction: do it
        // now (an empty transaction, aborted without a request) so that connecting fences a previous
        // capture and waits out the abort of what it left open, instead of the first append racing
        // that abort on the coordinator.
        const tx = await this.producer.transaction();
        await tx.abort();
        return;
      } catch (err) {
        await this.producer.disconnect().catch(() => undefined);
        if (protocolErrorType(err, new Set(['INVALID_TRANSACTION_TIMEOUT'])) && k + 1 < TXN_TIMEOUTS_MS.length) {
          logger().child({ component: 'log' }).debug({ timeoutMs: TXN_TIMEOUTS_MS[k + 1] }, 'the broker allows shorter transactions: retrying');
          this.producer = this.newProducer(TXN_TIMEOUTS_MS[k + 1]!);
          continue;
        }
        throw kafkaError(err, 'could not connect the capture producer to Kafka');
      }
    }
  }

  /**
   * Reads the chain heads of `topics` from the log. Call after connect(): connecting fences and aborts any
   * transaction a previous capture left open, so what is read is final.
   */
  async loadChainHeads(topics: string[]): Promise<void> {
    this.chainTopics = [...topics];
    this.heads = await readChainHeads(this.client, topics, this.headsGroup);
    this.leaders = await partitionLeaders(this.kafka, topics).catch(() => new Map());
  }

  /**
   * Writes all messages atomically: either every one becomes visible to read_committed readers or none. Each
   * message gets the next link of its partition's hash chain (headers pitr-seq, pitr-hash). `trailer`, when
   * given, builds more messages from the offsets the first ones got, written after them in the same Kafka
   * transaction (capture's TxnIndex lists the offsets of its batch: the table index). Returns the Kafka offset
   * of every message, in the order given, the trailer's after the others.
   */
  async appendAtomically(messages: OutMessage[], trailer?: (offsets: bigint[]) => OutMessage[]): Promise<bigint[]> {
    if (messages.length === 0) return [];
    if (!this.heads) {
      if (!this.chainTopics.length) throw new PitrError('the capture producer appends before its chain heads were loaded (loadChainHeads).');
      this.heads = await readChainHeads(this.client, this.chainTopics, this.headsGroup);
    }
    // Links are computed on a copy: the in-memory heads only move once Kafka committed the transaction.
    const next = new Map<string, Map<number, ChainHead>>();
    const headOf = (topic: string, partition: number): ChainHead | undefined =>
      next.get(topic)?.get(partition) ?? this.heads!.get(topic)?.get(partition);
    const link = (msgs: OutMessage[], base: number) =>
      msgs.map((m, k) => {
        const l = nextLink(headOf(m.topic, m.partition), m.topic, m.partition, m.key, m.value);
        let t = next.get(m.topic);
        if (!t) next.set(m.topic, (t = new Map()));
        t.set(m.partition, l);
        return { topic: m.topic, index: base + k, message: { partition: m.partition, key: m.key, value: m.value, headers: linkHeaders(l) } };
      });
    let tx: Transaction | undefined;
    let aborted = false;
    const offsets: bigint[] = new Array<bigint>(messages.length).fill(-1n);
    try {
      const linked = link(messages, 0);
      tx = await this.producer.transaction();
      await this.sendLinked(tx, linked, offsets);
      if (trailer) {
        const more = trailer(offsets.slice());
        offsets.push(...more.map(() => -1n));
        await this.sendLinked(tx, link(more, messages.length), offsets);
      }
      await tx.commit();
    } catch (err) {
      if (tx && tx.isActive()) aborted = await tx.abort().then(() => true, () => false);
      else aborted = !tx;
      // Aborted (or never begun): the heads stay as they were. Otherwise the commit's outcome is unknown: read
      // the heads from the log again before the next append rather than guess.
      if (!aborted) this.heads = undefined;
      throw kafkaError(err, 'writing to the log failed');
    }
    for (const [topic, parts] of next) {
      let t = this.heads.get(topic);
      if (!t) this.heads.set(topic, (t = new Map()));
      for (const [p, l] of parts) t.set(p, l);
    }
    return offsets;
  }

  /** Sends linked messages within `tx`, recording each one's offset at its index. */
  private async sendLinked(
    tx: Transaction,
    linked: { topic: string; index: number; message: { partition: number; key: string; value: Buffer; headers: Record<string, Buffer> } }[],
    offsets: bigint[],
  ): Promise<void> {
    // One leader broker's partitions per request: kafkajs sends to several leaders in parallel,
    // each first registering its partitions with the transaction coordinator, and two such
    // AddPartitionsToTxn at once on one transaction are refused (CONCURRENT_TRANSACTIONS) and
    // retried. Order within each partition is kept; the transaction makes them visible at once.
    const byLeader = new Map<number, typeof linked>();
    for (const l of linked) {
      const leader = this.leaders.get(l.topic)?.get(l.message.partition) ?? -1;
      let g = byLeader.get(leader);
      if (!g) byLeader.set(leader, (g = []));
      g.push(l);
    }
    // Several requests inside the one Kafka transaction: a record batch must stay under the
    // broker's message size limit, whatever the source transaction's size. Order is kept
    // (one request in flight).
    for (const group of byLeader.values()) {
      for (let i = 0; i < group.length; ) {
        const byTopic = new Map<string, (typeof linked)[number]['message'][]>();
        // Message indexes per topic-partition in send order: a partition's messages in one request form
        // one record batch, at consecutive offsets from its base offset.
        const sent = new Map<string, number[]>();
        let bytes = 0;
        for (; i < group.length && (bytes === 0 || bytes + group[i]!.message.value.length <= SEND_BYTES); i++) {
          const { topic, message, index } = group[i]!;
          let list = byTopic.get(topic);
          if (!list) byTopic.set(topic, (list = []));
          list.push(message);
          const tp = `${topic}\u0000${message.partition}`;
          let idx = sent.get(tp);
          if (!idx) sent.set(tp, (idx = []));
          idx.push(index);
          bytes += message.value.length + message.key.length + 64;
        }
        const meta = await tx.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, msgs]) => ({ topic, messages: msgs })) });
        for (const r of meta) {
          const idx = sent.get(`${r.topicName}\u0000${r.partition}`) ?? [];
          const base = r.baseOffset === undefined ? -1n : BigInt(r.baseOffset);
          idx.forEach((k, j) => (offsets[k] = base < 0n ? -1n : base + BigInt(j)));
        }
      }
    }
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect().catch(() => undefined);
  }
}

/**
 * The last committed chain link of every partition of `topics` (read_committed). A partition's tail may end in
 * transaction markers and aborted batches, which take offsets but hold no readable record: look back a few
 * offsets, then further, until a chained record turns up or the partition's start is reached.
 */
export async function readChainHeads(client: LogClient, topics: string[], groupPrefix = 'pitr-capture-heads'): Promise<ChainHeads> {
  const heads: ChainHeads = new Map();
  const admin = driver(client).admin();
  await admin.connect().catch((err) => {
    throw kafkaError(err, 'could not connect to Kafka');
  });
  const ends = new Map<string, PartitionEnds>();
  try {
    for (const t of topics) {
      try {
        ends.set(t, await endsOf(admin, t));
      } catch (err) {
        throw kafkaError(err, `could not read the offsets of topic ${t}`);
      }
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  for (const topic of topics) {
    const found = new Map<number, ChainHead>();
    heads.set(topic, found);
    // Partitions still searched, and how far back from the end the next read starts.
    let open = [...ends.get(topic)!].filter(([, e]) => e.high > e.low).map(([p]) => p);
    let back = 8n;
    while (open.length) {
      const from = new Map<number, bigint>();
      const stopAt = new Map<number, bigint>();
      for (const p of open) {
        const e = ends.get(topic)!.get(p)!;
        const start = e.high - back > e.low ? e.high - back : e.low;
        from.set(p, start);
        stopAt.set(p, start);
      }
      const last = new Map<number, ChainHead>();
      await readPartitions(client, topic, {
        partitions: open,
        from,
        groupPrefix,
        onMessages: (p, msgs) => {
          for (const m of msgs) {
            const link = parseLinkHeaders(m.headers);
            // Records without a link (written by something else than capture) do not move the chain.
            if (typeof link !== 'string') last.set(p, link);
          }
        },
      });
      for (const [p, link] of last) found.set(p, link);
      open = open.filter((p) => !last.has(p) && stopAt.get(p)! > ends.get(topic)!.get(p)!.low);
      back *= 16n;
    }
  }
  return heads;
}

export interface ReadMessage {
  partition: number;
  offset: bigint;
  key: string;
  value: Buffer;
  /** Kafka headers (pitr-seq and pitr-hash on records capture wrote). */
  headers: Record<string, Buffer | undefined>;
}

function headerBuffers(h: KafkaMessage['headers']): Record<string, Buffer | undefined> {
  const out: Record<string, Buffer | undefined> = {};
  for (const [k, v] of Object.entries(h ?? {})) {
    const one = Array.isArray(v) ? v[0] : v;
    out[k] = one === undefined ? undefined : Buffer.isBuffer(one) ? one : Buffer.from(one, 'utf8');
  }
  return out;
}

/** Leader broker id of every partition of `topics`. */
async function partitionLeaders(kafka: Kafka, topics: string[]): Promise<Map<string, Map<number, number>>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const md = await admin.fetchTopicMetadata({ topics });
    return new Map(md.topics.map((t) => [t.name, new Map(t.partitions.map((p) => [p.partitionId, p.leader]))]));
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** First offset and end offset (the next one to be written; read_committed: the last stable offset) of each partition. */
export type PartitionEnds = Map<number, { low: bigint; high: bigint }>;

async function endsOf(admin: Admin, topic: string): Promise<PartitionEnds> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return new Map(offsets.map((o) => [o.partition, { low: BigInt(o.low), high: BigInt(o.high) }]));
}

/**
 * Problems that would let the topic's history expire or be rewritten (retention not -1, compaction), or that it
 * is missing. Empty list = acceptable. Capture refuses to write when this is not empty. Needs DESCRIBE_CONFIGS
 * on the topic (granted to capture and reader by provisionLog). Takes a kafkajs admin: for the provision adapter
 * and tests; other modules ask a LogAdmin (configProblems).
 */
export async function checkTopicConfig(admin: Admin, topic: string): Promise<string[]> {
  let entries: Array<{ configName: string; configValue: string }>;
  try {
    const res = await admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
      includeSynonyms: false,
    });
    const r = res.resources.find((x) => x.resourceName === topic);
    if (!r || r.errorCode !== 0) {
      return [`topic ${topic} cannot be described (${r?.errorMessage ?? `error code ${r?.errorCode ?? 'none'}`})`];
    }
    entries = r.configEntries;
  } catch (err) {
    const e = err as { type?: string; message?: string };
    if (e.type === 'UNKNOWN_TOPIC_OR_PARTITION') return [`topic ${topic} does not exist`];
    throw err;
  }
  const got = new Map(entries.map((e) => [e.configName, e.configValue]));
  const problems: string[] = [];
  for (const [name, want] of Object.entries(REQUIRED_TOPIC_CONFIG)) {
    const value = got.get(name);
    if (name === 'cleanup.policy') {
      // "compact" or "compact,delete" would drop superseded row versions: history must stay whole.
      if (value !== want) problems.push(`topic ${topic} has cleanup.policy=${value ?? '(unset)'}, expected ${want}`);
    } else if (value !== want) {
      problems.push(`topic ${topic} has ${name}=${value ?? '(unset)'}, expected ${want}`);
    }
  }
  return problems;
}

type HwCluster = {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadataIfNecessary(): Promise<void>;
  findTopicPartitionMetadata(topic: string): { partitionId: number }[];
  fetchTopicsOffset(t: { topic: string; fromBeginning: boolean; partitions: { partition: number }[] }[]): Promise<{ partitions: { partition: number; offset: string }[] }[]>;
  findGroupCoordinator(g: { groupId: string }): Promise<{
    offsetCommit(r: {
      groupId: string;
      groupGenerationId: number;
      memberId: string;
      retentionTime?: number;
      topics: { topic: string; partitions: { partition: number; offset: string }[] }[];
    }): Promise<{ responses: { topic: string; partitions: { partition: number; errorCode: number }[] }[] }>;
  }>;
};

/**
 * One admin connection to the cluster and the facts pitr asks of it. Like kafkajs' own admin it must be
 * connected first and disconnected after; its methods throw the client's errors unmapped (callers name
 * what failed with kafkaError).
 */
export class LogAdmin {
  private readonly kafka: Kafka;
  private readonly admin: Admin;
  private hw: HwCluster | null | undefined;

  constructor(client: LogClient) {
    this.kafka = driver(client);
    this.admin = this.kafka.admin();
  }

  async connect(): Promise<void> {
    await this.admin.connect();
  }

  async disconnect(): Promise<void> {
    await this.admin.disconnect().catch(() => undefined);
    if (this.hw) await this.hw.disconnect().catch(() => undefined);
    this.hw = undefined;
  }

  /** Brokers the cluster lists (as seen by the broker asked). */
  async brokerCount(): Promise<number> {
    return (await this.admin.describeCluster()).brokers.length;
  }

  /** Partition count of a topic, from its metadata; a topic without partitions is an error. */
  async partitionCount(topic: string): Promise<number> {
    const md = await this.admin.fetchTopicMetadata({ topics: [topic] });
    const n = md.topics[0]?.partitions.length ?? 0;
    if (!n) throw new PitrError(`topic ${topic} has no partitions`);
    return n;
  }

  /** First and last stable offset (what read_committed readers can reach now) per partition. */
  async ends(topic: string): Promise<PartitionEnds> {
    return endsOf(this.admin, topic);
  }

  /** Per partition, the first offset of a record with a timestamp at or after `timestampMs` (-1 if none). */
  async offsetsAtTime(topic: string, timestampMs: number): Promise<Map<number, bigint>> {
    const res = await this.admin.fetchTopicOffsetsByTimestamp(topic, timestampMs);
    return new Map(res.map((o) => [o.partition, BigInt(o.offset)]));
  }

  /** What checkTopicConfig finds wrong with the topic's configuration (empty: acceptable). */
  async configProblems(topic: string): Promise<string[]> {
    return checkTopicConfig(this.admin, topic);
  }

  /** A consumer group's committed offsets per topic and partition (partitions never committed are absent). */
  async committed(groupId: string, topics: string[]): Promise<Map<string, Map<number, bigint>>> {
    const out = new Map<string, Map<number, bigint>>();
    const res = await this.admin.fetchOffsets({ groupId, topics });
    for (const t of res) {
      const m = new Map<number, bigint>();
      for (const p of t.partitions) if (p.offset !== '-1' && p.offset !== '') m.set(p.partition, BigInt(p.offset));
      out.set(t.topic, m);
    }
    return out;
  }

  /**
   * High watermarks per partition: they include records of Kafka transactions whose commit markers
   * are not written yet. kafkajs' admin only lists read_committed (last stable) offsets, which on a
   * partition whose marker lags would hide records of a transaction already visible elsewhere; a
   * read_uncommitted ListOffsets is made through kafkajs' cluster factory (stable since kafkajs 2.2),
   * falling back to the stable offsets if that is unavailable. Errors are mapped (kafkaError).
   */
  async highWatermarks(topic: string): Promise<Map<number, bigint>> {
    await this.cluster();
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
    const ends = await this.ends(topic).catch((err) => {
      throw kafkaError(err, `could not read the offsets of topic ${topic}`);
    });
    return new Map([...ends].map(([p, e]) => [p, e.high]));
  }

  /**
   * Saves offsets in a consumer group that has no members (its reader consumes in a group of its own): an
   * OffsetCommit outside any generation, as Kafka allows for an empty group. Errors are mapped (kafkaError).
   */
  async commitGroupOffsets(groupId: string, offsets: { topic: string; partition: number; offset: bigint }[]): Promise<void> {
    if (!offsets.length) return;
    const byTopic = new Map<string, { partition: number; offset: string }[]>();
    for (const o of offsets) {
      const list = byTopic.get(o.topic) ?? [];
      byTopic.set(o.topic, list);
      list.push({ partition: o.partition, offset: o.offset.toString() });
    }
    try {
      const c = await this.cluster();
      if (!c) {
        for (const [topic, partitions] of byTopic) await this.admin.setOffsets({ groupId, topic, partitions });
        return;
      }
      const coordinator = await c.findGroupCoordinator({ groupId });
      const res = await coordinator.offsetCommit({ groupId, groupGenerationId: -1, memberId: '', retentionTime: -1, topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) });
      const bad = res.responses.flatMap((t) => t.partitions.filter((p) => p.errorCode !== 0).map((p) => `${t.topic}/${p.partition}: error ${p.errorCode}`));
      if (bad.length) throw new PitrError(`Kafka refused the offsets (${bad.join(', ')})`);
    } catch (err) {
      throw kafkaError(err, `could not save the position of consumer group ${groupId}`);
    }
  }

  /** kafkajs' cluster (read_uncommitted) behind highWatermarks and commitGroupOffsets; null where this kafkajs has none. */
  private async cluster(): Promise<HwCluster | null> {
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
    return this.hw;
  }
}

/** Runs `fn` with a connected LogAdmin (connection failures mapped), disconnecting after. */
export async function withAdmin<T>(client: LogClient, fn: (admin: LogAdmin) => Promise<T>): Promise<T> {
  const admin = new LogAdmin(client);
  await admin.connect().catch((err) => {
    throw kafkaError(err, 'could not connect to Kafka');
  });
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Partition count of a topic (the changes topic's layout: partitionFor needs it). */
export async function countPartitions(client: LogClient, topic: string): Promise<number> {
  return withAdmin(client, (a) => a.partitionCount(topic));
}

/** A topic's partition count and each partition's offsets, over one admin connection. */
export async function topicLayout(client: LogClient, topic: string): Promise<{ partitions: number; ends: PartitionEnds }> {
  return withAdmin(client, async (a) => ({ partitions: await a.partitionCount(topic), ends: await a.ends(topic) }));
}

export interface FollowedMessage {
  offset: bigint;
  value: Buffer;
  /** The chain link the record's headers claim (absent on a record without one). */
  link?: ChainHead;
}

export interface FollowHandlers {
  /** Messages of one partition in offset order; the next batch of that partition waits for the promise. */
  onBatch: (topic: string, partition: number, msgs: FollowedMessage[]) => Promise<void>;
  /** The consumer has read everything on this partition below `next` (control records included). */
  onReached: (topic: string, partition: number, next: bigint) => void;
  /** The consumer failed and will not recover by itself. */
  onFailure: (err: Error) => void;
}

/** A running consumer-group subscription (followLog). */
export interface LogSubscription {
  /** Saves the position in the consumer group. */
  commit(offsets: { topic: string; partition: number; offset: bigint }[]): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Follows the log as it grows: one long-running read_committed consumer, each partition of `from` read from
 * its offset onwards, until stop(); commit() saves the position in consumer group `groupId`. The consumer
 * reads in a group of its own, not `groupId`: a follower killed without leaving its group holds up the next
 * join to that group until its session expires (10 s and more), and a restart must watch at once.
 */
export async function followLog(client: LogClient, groupId: string, from: Map<string, Map<number, bigint>>, h: FollowHandlers): Promise<LogSubscription> {
  let admin: LogAdmin | undefined;
  const consumer = driver(client).consumer({
    groupId: `${groupId}-run-${randomUUID().slice(0, 8)}`,
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
  const subscription: LogSubscription = {
    async commit(offsets) {
      if (!offsets.length) return;
      if (!admin) {
        const a = new LogAdmin(client);
        await a.connect().catch((err) => {
          throw kafkaError(err, 'could not connect to Kafka');
        });
        admin = a;
      }
      await admin.commitGroupOffsets(groupId, offsets);
    },
    async stop() {
      await consumer.disconnect().catch(() => undefined);
      await admin?.disconnect();
    },
  };
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
        const msgs: FollowedMessage[] = (batch.messages as KafkaMessage[]).map((m) => {
          const link = parseLinkHeaders(headerBuffers(m.headers));
          return { offset: BigInt(m.offset), value: m.value ?? Buffer.alloc(0), link: typeof link === 'string' ? undefined : link };
        });
        if (msgs.length) await h.onBatch(batch.topic, batch.partition, msgs);
      },
    });
    for (const [topic, parts] of from) for (const [partition, offset] of parts) consumer.seek({ topic, partition, offset: offset.toString() });
  } catch (err) {
    await consumer.disconnect().catch(() => undefined);
    throw kafkaError(err, `could not start following the log as consumer group ${groupId}`);
  }
  return subscription;
}
/**
 * Reads the given partitions of a topic (read_committed) from `from` (default: the start) up to
 * their end at the time of the call, handing over messages in offset order per partition.
 * `onMessages` may return false to stop reading that partition early.
 */
export async function readPartitions(
  client: LogClient,
  topic: string,
  opts: {
    partitions: number[];
    from?: Map<number, bigint>;
    /** Only the last `fromEnd` offsets of each partition (the tail; with `from`, whichever starts later). */
    fromEnd?: bigint;
    /**
     * Only these offset ranges of each partition (the table index): the reader seeks from one range to the
     * next; a partition of `partitions` without ranges is not read. Messages outside the ranges are not passed on.
     */
    ranges?: Map<number, OffsetRange[]>;
    onMessages: (partition: number, msgs: ReadMessage[]) => Promise<boolean | void> | boolean | void;
    /** Unused since reads join no consumer group (kept so callers can still name their reads). */
    groupPrefix?: string;
    /** Stop each of these partitions at this offset (exclusive) if its end is further: an end measured earlier. */
    to?: Map<number, bigint>;
    /** Fetch sizes (bytes) when the default ones (8 MB a partition, 32 MB a fetch) hold more than the reader needs. */
    fetch?: { maxBytesPerPartition: number; maxBytes: number };
  },
): Promise<void> {
  const reader = await directReader(driver(client), topic, opts.fetch);
  try {
    await readFrom(reader, topic, opts);
  } finally {
    await reader.close();
  }
}

async function readFrom(reader: DirectReader, topic: string, opts: Parameters<typeof readPartitions>[2]): Promise<void> {
  let ends: PartitionEnds;
  try {
    ends = await reader.ends();
  } catch (err) {
    throw kafkaError(err, `could not read the offsets of topic ${topic}`);
  }
  const pending = new Set<number>();
  const starts = new Map<number, bigint>();
  const ranges = opts.ranges;
  /** Per partition with ranges: the range being read. */
  const cursor = new Map<number, number>();
  for (const p of opts.partitions) {
    const e = ends.get(p);
    if (!e) throw new PitrError(`topic ${topic} has no partition ${p}`);
    const to = opts.to?.get(p);
    if (to !== undefined && to < e.high) ends.set(p, { low: e.low, high: to });
    let start = opts.from?.get(p) ?? e.low;
    if (opts.fromEnd !== undefined && e.high - opts.fromEnd > start) start = e.high - opts.fromEnd;
    if (ranges) {
      const list = ranges.get(p);
      if (!list?.length) continue;
      if (list[0]!.first > start) start = list[0]!.first;
      // Read up to the last range's end (never past the partition's end).
      const last = list.at(-1)!.last + 1n;
      if (last < ends.get(p)!.high) ends.set(p, { low: e.low, high: last });
      cursor.set(p, 0);
    }
    starts.set(p, start > e.low ? start : e.low);
    if ((starts.get(p) ?? 0n) < ends.get(p)!.high) pending.add(p);
  }
  if (pending.size === 0) return;

  const next = new Map(starts);
  let active = [...pending];
  while (active.length) {
    const batches = await reader.fetch(active.map((p) => ({ partition: p, offset: next.get(p)! }))).catch((err) => {
      throw kafkaError(err, `reading ${topic} failed`);
    });
    const still: number[] = [];
    for (const p of active) {
      const batch = batches.get(p);
      const end = ends.get(p)!.high;
      if (!batch) {
        still.push(p);
        continue;
      }
      const msgs: ReadMessage[] = [];
      const list = ranges?.get(p);
      let past = false;
      for (const m of batch.messages) {
        const off = BigInt(m.offset);
        if (off >= end) {
          past = true;
          break;
        }
        if (list) {
          // Records between two ranges came in the same fetch: skip them.
          let k = cursor.get(p)!;
          while (k < list.length && off > list[k]!.last) k++;
          cursor.set(p, k);
          if (k === list.length) {
            past = true;
            break;
          }
          if (off < list[k]!.first) continue;
        }
        msgs.push({ partition: p, offset: off, key: m.key ? m.key.toString('utf8') : '', value: m.value ?? Buffer.alloc(0), headers: headerBuffers(m.headers) });
      }
      if (msgs.length && (await opts.onMessages(p, msgs)) === false) continue;
      if (past) continue;
      // The last offset the fetch covered, control records and aborted records included.
      const last = batch.lastOffset === null ? next.get(p)! - 1n : BigInt(batch.lastOffset);
      let from = last + 1n;
      if (list) {
        // The batch ended in a gap: fetch from the next range's start rather than through the gap.
        let k = cursor.get(p)!;
        while (k < list.length && last >= list[k]!.last) k++;
        cursor.set(p, k);
        if (k === list.length) continue;
        if (list[k]!.first > from) from = list[k]!.first;
      }
      if (from >= end) continue;
      next.set(p, from);
      still.push(p);
    }
    active = still;
  }
}

/** What a fetch returned for one partition: its committed records (aborted ones and control records dropped). */
interface FetchedBatch {
  messages: KafkaMessage[];
  /** The last offset the fetch covered, including what was dropped; null when it returned nothing. */
  lastOffset: string | null;
}

/** kafkajs' own pieces for reading without a consumer group (kafkajs 2.x internals, pinned in package.json). */
interface KafkajsBroker {
  fetch(req: {
    replicaId?: number;
    isolationLevel: number;
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[];
  }): Promise<{ responses: { topicName: string; partitions: { partition: number }[] }[] }>;
}
interface KafkajsCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadata(): Promise<void>;
  findTopicPartitionMetadata(topic: string): { partitionId: number; leader: number }[];
  findBroker(b: { nodeId: string }): Promise<KafkajsBroker>;
  fetchTopicsOffset(t: { topic: string; fromBeginning: boolean; partitions: { partition: number }[] }[]): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
}
type DirectReader = Awaited<ReturnType<typeof directReader>>;
const requireCjs = createRequire(import.meta.url);
const KafkajsBatch = requireCjs('kafkajs/src/consumer/batch') as new (topic: string, fetchedOffset: string, data: unknown) => {
  messages: KafkaMessage[];
  isEmptyIncludingFiltered(): boolean;
  lastOffset(): string;
};
const READ_COMMITTED = 1;
/** Kafka's answers after which the leaders are looked up again and the fetch retried. */
const STALE_LEADER_TYPES = new Set(['NOT_LEADER_OR_FOLLOWER', 'LEADER_NOT_AVAILABLE', 'UNKNOWN_TOPIC_OR_PARTITION', 'FENCED_LEADER_EPOCH', 'UNKNOWN_LEADER_EPOCH']);

/**
 * A reader that fetches partitions from their leaders directly (read_committed), as kafkajs' consumer does
 * but without joining a consumer group: a read up to a known end needs no group, and every group join costs
 * round trips to a coordinator (and, on a broker with the default group.initial.rebalance.delay.ms, 3 s).
 */
async function directReader(kafka: Kafka, topic: string, sizes: { maxBytesPerPartition: number; maxBytes: number } = { maxBytesPerPartition: 8 * 1024 * 1024, maxBytes: 32 * 1024 * 1024 }) {
  const createCluster = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  if (!createCluster) throw new PitrError('this kafkajs build has no cluster factory pitr can read with (kafkajs 2.x expected).');
  // No isolation level for the cluster: its ListOffsets answer the same ends as the admin client's; fetches say READ_COMMITTED.
  const cluster = (kafka as unknown as Record<symbol, (o: object) => KafkajsCluster>)[createCluster]!({ allowAutoTopicCreation: false });
  await cluster.connect().catch((err) => {
    throw kafkaError(err, 'could not connect to Kafka');
  });
  try {
    await cluster.addTargetTopic(topic);
  } catch (err) {
    await cluster.disconnect().catch(() => undefined);
    throw kafkaError(err, `could not read the offsets of topic ${topic}`);
  }
  const leaderOf = (p: number) => {
    const m = cluster.findTopicPartitionMetadata(topic).find((x) => x.partitionId === p);
    if (!m) throw new PitrError(`topic ${topic} has no partition ${p}`);
    return m.leader;
  };
  /** One Fetch request to one broker for some of its partitions. */
  const fetchFrom = async (leader: number, parts: { partition: number; offset: bigint }[], out: Map<number, FetchedBatch>) => {
    const broker = await cluster.findBroker({ nodeId: String(leader) });
    const { responses } = await broker.fetch({
      replicaId: -1,
      isolationLevel: READ_COMMITTED,
      // Reading up to a known end: a broker with nothing more for us (an open transaction ahead) answers soon.
      maxWaitTime: 100,
      minBytes: 1,
      maxBytes: sizes.maxBytes,
      topics: [{ topic, partitions: parts.map((x) => ({ partition: x.partition, fetchOffset: x.offset.toString(), maxBytes: sizes.maxBytesPerPartition })) }],
    });
    for (const r of responses) {
      for (const data of r.partitions) {
        const asked = parts.find((x) => x.partition === data.partition);
        if (!asked) continue;
        const b = new KafkajsBatch(topic, asked.offset.toString(), data);
        out.set(data.partition, { messages: b.messages, lastOffset: b.isEmptyIncludingFiltered() ? null : b.lastOffset() });
      }
    }
  };
  const offsets = async (fromBeginning: boolean) => {
    const partitions = cluster.findTopicPartitionMetadata(topic).map((p) => ({ partition: p.partitionId }));
    const [t] = await cluster.fetchTopicsOffset([{ topic, fromBeginning, partitions }]);
    return new Map((t?.partitions ?? []).map((x) => [x.partition, BigInt(x.offset)]));
  };
  return {
    /** Each partition's first offset and end (high watermark), as the admin client answers them. */
    async ends(): Promise<PartitionEnds> {
      const [high, low] = await Promise.all([offsets(false), offsets(true)]);
      return new Map([...high].map(([p, h]) => [p, { low: low.get(p) ?? 0n, high: h }]));
    },
    /** The next records of each partition, every leader asked side by side; leaders looked up again after a move. */
    async fetch(parts: { partition: number; offset: bigint }[]): Promise<Map<number, FetchedBatch>> {
      for (let attempt = 0; ; attempt++) {
        try {
          const byLeader = new Map<number, { partition: number; offset: bigint }[]>();
          for (const x of parts) byLeader.set(leaderOf(x.partition), [...(byLeader.get(leaderOf(x.partition)) ?? []), x]);
          const out = new Map<number, FetchedBatch>();
          await Promise.all([...byLeader].map(([leader, group]) => fetchFrom(leader, group, out)));
          return out;
        } catch (err) {
          // A moved leader, a broker restarting, a timeout: kafkajs marks those retriable.
          const retriable = (err as { retriable?: boolean }).retriable === true || protocolErrorType(err, STALE_LEADER_TYPES) !== undefined;
          if (attempt >= 8 || !retriable) throw err;
          await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** attempt, 3000)));
          await cluster.refreshMetadata().catch(() => undefined);
        }
      }
    },
    close: () => cluster.disconnect().catch(() => undefined),
  };
}

/** Kafka's answers that mean a newer producer with our transactional id exists. */
const FENCED_TYPES = new Set(['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH']);

/** The first kafkajs protocol error type in `types` along the error's cause chain (retries wrap the original). */
function protocolErrorType(err: unknown, types: Set<string>): string | undefined {
  for (let e = err as { type?: string; cause?: unknown; originalError?: unknown } | undefined, depth = 0; e && depth < 8; depth++) {
    if (e.type && types.has(e.type)) return e.type;
    e = (e.originalError ?? e.cause) as typeof e;
  }
  return undefined;
}

/** host:port of the broker a kafkajs error names, if any. */
function brokerOf(err: { host?: string; port?: number; broker?: string; message?: string; cause?: unknown }): string | undefined {
  if (err?.host && err?.port) return `${err.host}:${err.port}`;
  if (err?.broker) return err.broker;
  const m = /(?:ECONNREFUSED|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|ECONNRESET)\s+([^\s,)]+:\d+)/.exec(err?.message ?? '') ?? /broker[^\w]+([\w.-]+:\d+)/i.exec(err?.message ?? '');
  if (m) return m[1];
  const cause = err?.cause as typeof err | undefined;
  return cause && cause !== err ? brokerOf(cause) : undefined;
}

/** The network reason in a few words. */
function connectionReason(msg: string): string {
  if (/ECONNREFUSED/.test(msg)) return 'connection refused';
  if (/ENOTFOUND|EAI_AGAIN/.test(msg)) return 'no such host';
  if (/ETIMEDOUT|timed? ?out/i.test(msg)) return 'timed out';
  if (/EHOSTUNREACH|ENETUNREACH/.test(msg)) return 'host unreachable';
  if (/ECONNRESET|closed/i.test(msg)) return 'connection closed';
  return msg.replace(/^Connection error: /, '');
}

/** Maps kafkajs errors to pitr errors with one clear sentence that names Kafka. */
export function kafkaError(err: unknown, what: string): PitrError {
  if (err instanceof PitrError) return err;
  const e = err as { name?: string; type?: string; message?: string; retriable?: boolean; host?: string; port?: number; cause?: unknown };
  const msg = e?.message ?? String(err);
  const fenced = protocolErrorType(err, FENCED_TYPES);
  if (fenced) return new ProducerFencedError(`${what}: another producer with the same transactional id took over (${fenced})`, { cause: err });
  // "could not connect to Kafka: cannot reach Kafka ..." says the same twice.
  const prefix = /^could not connect/.test(what) ? '' : `${what}: `;
  const at = brokerOf(e);
  if (e?.type === 'SASL_AUTHENTICATION_FAILED' || /SASL|authentication/i.test(msg)) {
    return new PitrError(
      `${prefix}Kafka${at ? ` at ${at}` : ''} refused the credentials (SASL authentication failed); check PITR_KAFKA_<PRINCIPAL>_USER/_PASSWORD or the credentials file`,
    );
  }
  if (/AUTHORIZATION_FAILED|not authorized/i.test(`${e?.type} ${msg}`)) {
    return new PitrError(`${prefix}Kafka says this principal is not authorized (${e?.type ?? msg})`);
  }
  if (e?.name === 'KafkaJSConnectionError' || e?.name === 'KafkaJSNumberOfRetriesExceeded' || /ECONN|ENOTFOUND|ETIMEDOUT|Connection/i.test(msg)) {
    return new ConnectionError(`${prefix}cannot reach Kafka${at ? ` at ${at}` : ''} (${connectionReason(msg)})`, { cause: err });
  }
  return new PitrError(`${prefix}${msg}`, { retriable: Boolean(e?.retriable), cause: err });
}

/** What a principal may do beyond reading, as the brokers answer (see principalReach). */
export interface PrincipalReach {
  /** The broker let it list ACLs: a cluster-wide right only the custodian (a super user) holds. */
  clusterAdmin: boolean;
  /** It may describe a consumer group of the readers' prefix: capture and the checkpointer may not. */
  readerGroups: boolean;
}

/**
 * Asks the brokers, with two harmless requests that change nothing, what the client's principal may
 * do: list ACLs (custodian only) and describe a group named with the readers' prefix.
 */
export async function principalReach(client: LogClient, readerGroup: string): Promise<PrincipalReach> {
  const admin = driver(client).admin();
  await admin.connect().catch((err) => {
    throw kafkaError(err, 'could not connect to Kafka');
  });
  try {
    const clusterAdmin = await admin
      .describeAcls({
        resourceType: kafkajs.AclResourceTypes.ANY,
        resourcePatternType: kafkajs.ResourcePatternTypes.ANY,
        operation: kafkajs.AclOperationTypes.ANY,
        permissionType: kafkajs.AclPermissionTypes.ANY,
      })
      .then(
        () => true,
        () => false,
      );
    const readerGroups = await admin.describeGroups([readerGroup]).then(
      (r) => r.groups.every((g) => !(g as { errorCode?: number }).errorCode),
      () => false,
    );
    return { clusterAdmin, readerGroups };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

