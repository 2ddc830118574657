// Custodian provisioning of one source's log: creates its topics with history-keeping settings, checks existing
// ones without changing them, and grants the capture (append-only) and reader principals exactly their rights.
// A second adapter over kafkajs (topic creation and ACLs, the custodian's admin API): with kafka-log.ts, the only
// files that import kafkajs.
import kafkajs from 'kafkajs';
import type { Admin, AclEntry } from 'kafkajs';
import { ConnectionError, PitrError } from '../core/errors.js';
import type { KafkaSettings } from '../core/settings.js';
import { checkTopicConfig, kafkajsClient } from './kafka-log.js';
import { logger } from '../core/logger.js';
import { DEFAULT_CHANGE_PARTITIONS, REQUIRED_TOPIC_CONFIG, checkpointerTransactionalId, logTopics, transactionalId, type LogTopics } from './topics.js';

const { AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes, ConfigResourceTypes } =
  kafkajs;

/** Largest record a log topic accepts (one row image with big BLOBs must fit). */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** Consumer groups capture may use to read the log's tail (resume point, chain heads). */
export const CAPTURE_GROUP_PREFIX = 'pitr-capture-';
/** Consumer groups readers (restore, guard, verify, analysts) may use. */
export const READER_GROUP_PREFIX = 'pitr-';
/** Consumer groups the checkpointer reads changes, meta and checkpoints with. */
export const CHECKPOINTER_GROUP_PREFIX = 'pitr-checkpointer-';

export interface ProvisionOptions {
  kafka: KafkaSettings;
  sourceId: string;
  /** Partitions of the changes topic when it is created (default DEFAULT_CHANGE_PARTITIONS). */
  partitions?: number;
  /**
   * Brokers the cluster is meant to have. Defaults to what describeCluster reports, which right after a
   * multi-node start may still miss a broker and would yield a too-small replication factor.
   */
  brokerCount?: number;
}

export interface ProvisionResult {
  topics: LogTopics;
  /** Topics this call created (empty when they all existed and passed the checks). */
  created: string[];
  replicationFactor: number;
  minInsyncReplicas: number;
}



interface TopicPlan {
  name: string;
  partitions: number;
  /** Whether the partition count of an existing topic must equal `partitions`. */
  strictPartitions: boolean;
}

async function topicShape(admin: Admin, topic: string): Promise<{ partitions: number; replicationFactor: number }> {
  const md = await admin.fetchTopicMetadata({ topics: [topic] });
  const t = md.topics.find((x) => x.name === topic);
  const parts = t?.partitions ?? [];
  return { partitions: parts.length, replicationFactor: Math.min(...parts.map((p) => p.replicas.length)) };
}

function acl(
  principal: string,
  resourceType: number,
  resourceName: string,
  operation: number,
  pattern: number = ResourcePatternTypes.LITERAL,
): AclEntry {
  return {
    principal,
    host: '*',
    resourceType,
    resourceName,
    resourcePatternType: pattern,
    operation,
    permissionType: AclPermissionTypes.ALLOW,
  };
}

/** The ACLs of one source's log: what capture and reader may do, nothing more. */
export function logAcls(sourceId: string, kafka: KafkaSettings): AclEntry[] {
  const { changes, meta, checkpoints } = logTopics(sourceId);
  const capture = `User:${kafka.users.capture?.username ?? 'capture'}`;
  const reader = `User:${kafka.users.reader?.username ?? 'reader'}`;
  const checkpointer = `User:${kafka.users.checkpointer?.username ?? 'checkpointer'}`;
  const T = AclResourceTypes.TOPIC;
  const O = AclOperationTypes;
  const out: AclEntry[] = [];
  for (const topic of [changes, meta]) {
    // Capture appends; READ lets it find its resume point and chain heads in the log's tail. DESCRIBE_CONFIGS
    // lets it check the retention settings before writing. None of these can delete, alter or truncate.
    for (const op of [O.WRITE, O.DESCRIBE, O.READ, O.DESCRIBE_CONFIGS]) out.push(acl(capture, T, topic, op));
    for (const op of [O.READ, O.DESCRIBE, O.DESCRIBE_CONFIGS]) out.push(acl(reader, T, topic, op));
    // The checkpointer derives its images from changes and meta: it reads them, never writes them.
    for (const op of [O.READ, O.DESCRIBE]) out.push(acl(checkpointer, T, topic, op));
  }
  // Checkpoints: written by the checkpointer alone (capture has no right on them), read by readers.
  for (const op of [O.WRITE, O.DESCRIBE, O.READ, O.DESCRIBE_CONFIGS]) out.push(acl(checkpointer, T, checkpoints, op));
  for (const op of [O.READ, O.DESCRIBE, O.DESCRIBE_CONFIGS]) out.push(acl(reader, T, checkpoints, op));
  out.push(acl(checkpointer, AclResourceTypes.CLUSTER, 'kafka-cluster', O.IDEMPOTENT_WRITE));
  out.push(acl(checkpointer, AclResourceTypes.TRANSACTIONAL_ID, checkpointerTransactionalId(sourceId), O.WRITE));
  out.push(acl(checkpointer, AclResourceTypes.TRANSACTIONAL_ID, checkpointerTransactionalId(sourceId), O.DESCRIBE));
  out.push(acl(checkpointer, AclResourceTypes.GROUP, CHECKPOINTER_GROUP_PREFIX, O.READ, ResourcePatternTypes.PREFIXED));
  // Idempotent producer ids (exactly-once appends) and its own transactional id (a second capture is fenced).
  out.push(acl(capture, AclResourceTypes.CLUSTER, 'kafka-cluster', O.IDEMPOTENT_WRITE));
  out.push(acl(capture, AclResourceTypes.TRANSACTIONAL_ID, transactionalId(sourceId), O.WRITE));
  out.push(acl(capture, AclResourceTypes.TRANSACTIONAL_ID, transactionalId(sourceId), O.DESCRIBE));
  out.push(acl(capture, AclResourceTypes.GROUP, CAPTURE_GROUP_PREFIX, O.READ, ResourcePatternTypes.PREFIXED));
  out.push(acl(reader, AclResourceTypes.GROUP, READER_GROUP_PREFIX, O.READ, ResourcePatternTypes.PREFIXED));
  return out;
}

// Operations that would let capture or reader erase or rewrite history, or change who may do so.
const DANGEROUS_OPS = new Set<number>([
  AclOperationTypes.ALL,
  AclOperationTypes.DELETE,
  AclOperationTypes.ALTER,
  AclOperationTypes.ALTER_CONFIGS,
  AclOperationTypes.CREATE,
  AclOperationTypes.CLUSTER_ACTION,
]);

/** ALLOW ACLs held by capture/reader that go beyond append/read (found, reported, never removed silently). */
async function excessGrants(admin: Admin, principals: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const principal of principals) {
    const res = await admin.describeAcls({
      resourceType: AclResourceTypes.ANY,
      resourcePatternType: ResourcePatternTypes.ANY,
      principal,
      operation: AclOperationTypes.ANY,
      permissionType: AclPermissionTypes.ALLOW,
    });
    for (const r of res.resources) {
      for (const a of r.acls) {
        const clusterOp = r.resourceType === AclResourceTypes.CLUSTER && a.operation !== AclOperationTypes.IDEMPOTENT_WRITE;
        if (DANGEROUS_OPS.has(a.operation) || clusterOp) {
          found.push(`${principal} may ${AclOperationTypes[a.operation] ?? a.operation} on ${AclResourceTypes[r.resourceType]} ${r.resourceName}`);
        }
      }
    }
  }
  return found;
}

/**
 * WRITE grants that cross the principals' lanes: only capture appends to changes and meta, only the
 * checkpointer to checkpoints, and reader writes nowhere. A checkpointer that could append to changes could
 * forge history; a capture that could write checkpoints could forge the images restore starts from.
 */
async function crossedWrites(admin: Admin, sourceId: string, kafka: KafkaSettings): Promise<string[]> {
  const { changes, meta, checkpoints } = logTopics(sourceId);
  const writer = new Map([
    [changes, kafka.users.capture?.username ?? 'capture'],
    [meta, kafka.users.capture?.username ?? 'capture'],
    [checkpoints, kafka.users.checkpointer?.username ?? 'checkpointer'],
  ]);
  const found: string[] = [];
  for (const [topic, owner] of writer) {
    const res = await admin.describeAcls({
      resourceType: AclResourceTypes.TOPIC,
      resourceName: topic,
      // MATCH: literal, prefixed and wildcard grants that cover this topic.
      resourcePatternType: ResourcePatternTypes.MATCH,
      operation: AclOperationTypes.WRITE,
      permissionType: AclPermissionTypes.ALLOW,
    });
    for (const r of res.resources) {
      for (const a of r.acls) if (a.principal !== `User:${owner}`) found.push(`${a.principal} may WRITE on TOPIC ${topic}`);
    }
  }
  return found;
}

/**
 * Waits until every broker authorizes with the new ACLs: each broker applies the metadata log on its
 * own, and a client that reaches a lagging one right after provisioning would be refused.
 */
async function waitForAclsEverywhere(kafka: KafkaSettings, expected: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const broker of kafka.brokers) {
    const admin = kafkajsClient({ ...kafka, brokers: [broker] }, 'custodian', { clientId: 'pitr-provision-check', quiet: true, retries: 2 }).admin();
    try {
      await admin.connect();
      for (;;) {
        const res = await admin
          .describeAcls({
            resourceType: AclResourceTypes.ANY,
            resourcePatternType: ResourcePatternTypes.ANY,
            operation: AclOperationTypes.ANY,
            permissionType: AclPermissionTypes.ALLOW,
          })
          .catch(() => ({ resources: [] as { acls: unknown[] }[] }));
        const seen = res.resources.reduce((n, r) => n + r.acls.length, 0);
        if (seen >= expected || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 200));
      }
    } catch {
      // An unreachable broker (a node down) is not provisioning's concern.
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}

/** Waits until every partition of `topics` has a leader, as seen by the broker kafkajs asks. */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const md = await admin.fetchTopicMetadata({ topics });
      const ready = topics.every((t) => {
        const parts = md.topics.find((x) => x.name === t)?.partitions ?? [];
        return parts.length > 0 && parts.every((p) => p.leader >= 0);
      });
      if (ready) return;
    } catch (err) {
      if (!isUnknownTopic(err) || Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) throw new PitrError(`topics ${topics.join(', ')} got no partition leaders within ${timeoutMs / 1000} s.`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Everything about the existing topics that differs from the plan (empty = as provisioned). */
async function topicProblems(admin: Admin, plans: TopicPlan[], replicationFactor: number, minInsyncReplicas: number): Promise<string[]> {
  const problems: string[] = [];
  for (const p of plans) {
    const configProblems = await checkTopicConfig(admin, p.name);
    problems.push(...configProblems);
    if (configProblems.some((x) => x.includes('does not exist'))) continue;
    const shape = await topicShape(admin, p.name);
    if (shape.partitions === 0) {
      problems.push(`topic ${p.name} does not exist`);
      continue;
    }
    if (p.strictPartitions && shape.partitions !== p.partitions) {
      problems.push(`topic ${p.name} has ${shape.partitions} partitions, expected ${p.partitions}`);
    }
    if (shape.replicationFactor !== replicationFactor) {
      problems.push(`topic ${p.name} has replication factor ${shape.replicationFactor}, expected ${replicationFactor}`);
    }
    const cfg = await admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: p.name, configNames: ['min.insync.replicas'] }],
      includeSynonyms: false,
    });
    const minIsr = cfg.resources[0]?.configEntries.find((e) => e.configName === 'min.insync.replicas')?.configValue;
    if (minIsr !== String(minInsyncReplicas)) {
      problems.push(`topic ${p.name} has min.insync.replicas=${minIsr ?? '(unset)'}, expected ${minInsyncReplicas}`);
    }
  }
  return problems;
}

function isUnknownTopic(err: unknown): boolean {
  const t = (err as { type?: string })?.type;
  return t === 'UNKNOWN_TOPIC_OR_PARTITION' || t === 'LEADER_NOT_AVAILABLE';
}

async function retryWhileUnknown(fn: () => Promise<string[]>, timeoutMs = 30_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const problems = await fn();
      if (!problems.some((p) => p.includes('does not exist')) || Date.now() > deadline) return problems;
    } catch (err) {
      if (!isUnknownTopic(err) || Date.now() > deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

/**
 * Creates the source's topics if missing and grants the ACLs (idempotent: Kafka ignores an ACL that exists).
 * Existing topics are checked, never changed: a mismatch is an error for the custodian to resolve.
 */
export async function provisionLog(opts: ProvisionOptions): Promise<ProvisionResult> {
  const topics = logTopics(opts.sourceId);
  const admin = kafkajsClient(opts.kafka, 'custodian', { clientId: 'pitr-provision' }).admin();
  try {
    await admin.connect();
  } catch (err) {
    throw new ConnectionError(
      `cannot connect to Kafka at ${opts.kafka.brokers.join(',')} as the custodian: ${(err as Error).message}`,
      { cause: err },
    );
  }
  try {
    const cluster = await admin.describeCluster();
    const replicationFactor = Math.min(3, opts.brokerCount ?? cluster.brokers.length);
    const minInsyncReplicas = replicationFactor >= 3 ? 2 : 1;
    const plans: TopicPlan[] = [
      { name: topics.changes, partitions: opts.partitions ?? DEFAULT_CHANGE_PARTITIONS, strictPartitions: opts.partitions !== undefined },
      // One partition: the meta topic's order is the commit order.
      { name: topics.meta, partitions: 1, strictPartitions: true },
      // One partition: a checkpoint's manifest follows its rows, and its offsets name them.
      { name: topics.checkpoints, partitions: 1, strictPartitions: true },
    ];
    const existing = new Set(await admin.listTopics());
    const missing = plans.filter((p) => !existing.has(p.name));
    const created: string[] = [];
    if (missing.length > 0) {
      await admin.createTopics({
        // kafkajs' own wait gives up on UNKNOWN_TOPIC_OR_PARTITION, which a multi-node cluster answers until the
        // new topic reached the broker asked: waitForLeaders below retries that.
        waitForLeaders: false,
        topics: missing.map((p) => ({
          topic: p.name,
          numPartitions: p.partitions,
          replicationFactor,
          configEntries: [
            ...Object.entries(REQUIRED_TOPIC_CONFIG).map(([name, value]) => ({ name, value })),
            { name: 'min.insync.replicas', value: String(minInsyncReplicas) },
            // A single row can carry a multi-megabyte BLOB; records are chunked near 512 KiB otherwise.
            { name: 'max.message.bytes', value: String(MAX_MESSAGE_BYTES) },
          ],
        })),
      });
      created.push(...missing.map((p) => p.name));
      await waitForLeaders(admin, created);
      logger().info({ topics: created, replicationFactor, minInsyncReplicas }, 'created log topics');
    }

    // On a multi-node cluster a new topic reaches the other brokers' metadata a moment after CreateTopics
    // returns: retry the checks on "unknown topic" for a while instead of reporting a false problem.
    const problems = await retryWhileUnknown(() => topicProblems(admin, plans, replicationFactor, minInsyncReplicas));
    if (problems.length > 0) {
      throw new PitrError(`the log of source "${opts.sourceId}" is misconfigured and was left unchanged: ${problems.join('; ')}.`);
    }

    const acls = logAcls(opts.sourceId, opts.kafka);
    await admin.createAcls({ acl: acls });
    await waitForAclsEverywhere(opts.kafka, acls.length);
    const principals = (['capture', 'reader', 'checkpointer'] as const).map((p) => `User:${opts.kafka.users[p]?.username ?? p}`);
    const excess = [...(await excessGrants(admin, principals)), ...(await crossedWrites(admin, opts.sourceId, opts.kafka))];
    if (excess.length > 0) {
      throw new PitrError(`Kafka ACLs grant more than append/read rights and were left unchanged: ${excess.join('; ')}.`);
    }
    return { topics, created, replicationFactor, minInsyncReplicas };
  } catch (err) {
    if (err instanceof PitrError) throw err;
    throw new PitrError(`provisioning the log of source "${opts.sourceId}" failed: ${(err as Error).message}`, { cause: err });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
