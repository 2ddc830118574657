// Integration test of the local embedded stack: real MariaDB servers and a real secured Kafka, proving the
// binlog settings, idempotent `stack up`, and that the capture principal can append but not erase history.
import { readFileSync, readdirSync } from 'node:fs';
import kafkajs from 'kafkajs';
import type { Admin, Kafka as KafkaClient } from 'kafkajs';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { StackInfo } from '../../src/core/settings.js';
import { provisionLog } from '../../src/log/provision.js';
import { checkTopicConfig, kafkajsClient } from '../../src/log/kafka-log.js';
import { logTopics, transactionalId } from '../../src/log/topics.js';
import { stackStatus, stackUp } from '../../src/stack/local-stack.js';
import { pitr } from './helpers.js';

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes, ConfigResourceTypes } = kafkajs;

// The refusal tests append junk: they use their own source id (same provisioning code, same ACL scheme) so the
// "main" log that other test files capture into stays free of foreign records.
const ACL_SOURCE = 'stacktest';
const SCRATCH = `pitr-stacktest-scratch-${process.pid}`;
let scratchDeleted = false;

/** The kafkajs error type found anywhere in an error's chain (kafkajs wraps protocol errors in several ways). */
function errorTypes(err: unknown, seen = new Set<unknown>()): string[] {
  if (!err || typeof err !== 'object' || seen.has(err)) return [];
  seen.add(err);
  const e = err as { type?: string; cause?: unknown; originalError?: unknown; errors?: unknown[]; partitions?: Array<{ error?: unknown }> };
  const out = e.type ? [e.type] : [];
  out.push(...errorTypes(e.cause, seen), ...errorTypes(e.originalError, seen));
  for (const x of e.errors ?? []) out.push(...errorTypes(x, seen));
  for (const p of e.partitions ?? []) out.push(...errorTypes(p.error, seen));
  return out;
}

async function expectRefused(p: Promise<unknown>, type: string): Promise<void> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected ${type}, but the call succeeded`).toBeDefined();
  expect(errorTypes(caught), String((caught as Error).message)).toContain(type);
}

async function scalar(conn: mysql.Connection, sql: string): Promise<string> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>(sql);
  return String(Object.values(rows[0]!)[0]);
}

describe('local stack', () => {
  let info: StackInfo;
  let custodian: Admin;
  let capture: KafkaClient;
  let captureAdmin: Admin;
  let reader: KafkaClient;
  const topics = logTopics(ACL_SOURCE);

  beforeAll(async () => {
    info = await stackUp();
    await provisionLog({ kafka: info.kafka, sourceId: ACL_SOURCE });
    custodian = kafkajsClient(info.kafka, 'custodian', { clientId: 'stack-test-custodian' }).admin();
    // Idempotent producers need retries > 0; authorization errors are not retried anyway.
    capture = kafkajsClient(info.kafka, 'capture', { clientId: 'stack-test-capture', quiet: true, retries: 2 });
    captureAdmin = capture.admin();
    reader = kafkajsClient(info.kafka, 'reader', { clientId: 'stack-test-reader', quiet: true, retries: 0 });
    await Promise.all([custodian.connect(), captureAdmin.connect()]);
  });

  afterAll(async () => {
    // The stack itself stays up: other test files reuse it.
    // Best effort: the last test already deleted the scratch topic unless it failed early.
    if (!scratchDeleted) await custodian?.deleteTopics({ topics: [SCRATCH], timeout: 5_000 }).catch(() => undefined);
    await Promise.all([custodian?.disconnect(), captureAdmin?.disconnect()]);
  });

  it('is idempotent: a second up returns the same settings', async () => {
    const again = await stackUp();
    expect(again).toEqual(info);
    const st = await stackStatus();
    expect(st.running).toBe(true);
    expect(st.info).toEqual(info);
    expect(info.source).toMatch(/^mysql:\/\/root:@127\.0\.0\.1:\d+$/);
    expect(info.target).toMatch(/^mysql:\/\/root:@127\.0\.0\.1:\d+$/);
    expect(info.kafka.mechanism).toBe('scram-sha-256');
    expect(Object.keys(info.kafka.users).sort()).toEqual(['capture', 'checkpointer', 'custodian', 'reader']);
  });

  it('runs a source with a full row-based binlog', async () => {
    const conn = await mysql.createConnection(info.source);
    try {
      expect(await scalar(conn, "SELECT @@log_bin")).toBe('1');
      expect(await scalar(conn, 'SELECT @@binlog_format')).toBe('ROW');
      expect(await scalar(conn, 'SELECT @@binlog_row_image')).toBe('FULL');
      expect(await scalar(conn, 'SELECT @@binlog_row_metadata')).toBe('FULL');
      expect(await scalar(conn, 'SELECT @@server_id')).toBe('1');
      expect(await scalar(conn, 'SELECT @@local_infile')).toBe('1');
    } finally {
      await conn.end();
    }
  });

  it('runs a reachable recovery server without binlog', async () => {
    const conn = await mysql.createConnection(info.target);
    try {
      expect(await scalar(conn, 'SELECT @@log_bin')).toBe('0');
      expect(await scalar(conn, 'SELECT @@server_id')).toBe('2');
      expect(await scalar(conn, 'SELECT @@local_infile')).toBe('1');
    } finally {
      await conn.end();
    }
  });

  it('keeps passwords off every command line', async () => {
    const secrets = Object.values(info.kafka.users).map((u) => u!.password);
    for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      let cmd = '';
      try {
        cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      for (const s of secrets) expect(cmd.includes(s), `pid ${pid} shows a password`).toBe(false);
    }
  });

  it('provisions the main log with history-keeping topics', async () => {
    const main = logTopics('main');
    const names = await custodian.listTopics();
    expect(names).toEqual(expect.arrayContaining([main.changes, main.meta]));
    for (const t of [main.changes, main.meta]) {
      const res = await custodian.describeConfigs({
        resources: [{ type: ConfigResourceTypes.TOPIC, name: t }],
        includeSynonyms: false,
      });
      const cfg = Object.fromEntries(res.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]));
      expect(cfg['retention.ms']).toBe('-1');
      expect(cfg['retention.bytes']).toBe('-1');
      expect(cfg['cleanup.policy']).toBe('delete');
      // Capture can check the same settings itself before it writes.
      expect(await checkTopicConfig(captureAdmin, t)).toEqual([]);
    }
    const md = await custodian.fetchTopicMetadata({ topics: [main.meta] });
    expect(md.topics[0]!.partitions).toHaveLength(1);
  });

  it('`pitr log provision` (custodian credentials only) creates a new log that capture can append to', async () => {
    const id = `cliprov${Date.now().toString(36)}`;
    const info = await stackUp();
    // Only the custodian's credentials, as a custodian would hold them: brokers and users from the environment.
    const env = {
      PITR_KAFKA_BROKERS: info.kafka.brokers.join(','),
      PITR_KAFKA_CUSTODIAN_USER: info.kafka.users.custodian!.username,
      PITR_KAFKA_CUSTODIAN_PASSWORD: info.kafka.users.custodian!.password,
    };
    const r = await pitr(['log', 'provision', '--source-id', id, '--partitions', '3', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const topics = logTopics(id);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!).created.sort()).toEqual([topics.changes, topics.checkpoints, topics.meta].sort());
    for (const t of [topics.changes, topics.meta]) expect(await checkTopicConfig(captureAdmin, t)).toEqual([]);
    const md = await custodian.fetchTopicMetadata({ topics: [topics.changes] });
    expect(md.topics[0]!.partitions).toHaveLength(3);
    const again = await pitr(['log', 'provision', '--source-id', id], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/already present/);
    const p = kafkajsClient(info.kafka, 'capture', { clientId: 'stack-test-cliprov', quiet: true }).producer();
    await p.connect();
    await p.send({ topic: topics.changes, messages: [{ partition: 0, key: 'k', value: 'v' }] });
    await p.disconnect();
    for (const t of [topics.changes, topics.meta, topics.checkpoints]) await custodian.deleteTopics({ topics: [t] }).catch(() => undefined);
  });

  it('lets capture append, plainly and in a transaction', async () => {
    const producer = capture.producer({ idempotent: true, allowAutoTopicCreation: false });
    await producer.connect();
    try {
      await producer.send({ topic: topics.changes, acks: -1, messages: [{ key: 'db.t', value: 'stack-test' }] });
    } finally {
      await producer.disconnect();
    }
    const tx = capture.producer({
      transactionalId: transactionalId(ACL_SOURCE),
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    await tx.connect();
    try {
      const t = await tx.transaction();
      await t.send({ topic: topics.meta, messages: [{ key: 'tx', value: 'stack-test' }] });
      await t.commit();
    } finally {
      await tx.disconnect();
    }
  });

  it('refuses produce to the reader', async () => {
    const producer = reader.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
    await producer.connect();
    try {
      await expectRefused(
        producer.send({ topic: topics.changes, acks: -1, messages: [{ key: 'x', value: 'reader-write' }] }),
        'TOPIC_AUTHORIZATION_FAILED',
      );
    } finally {
      await producer.disconnect();
    }
  });

  describe('capture cannot erase or reshape history', () => {
    beforeAll(async () => {
      // Positive controls run against a scratch topic the custodian owns.
      // On a 3-node stack a new topic reaches each broker's metadata a moment later: poll instead of kafkajs'
      // waitForLeaders (which gives up on UNKNOWN_TOPIC_OR_PARTITION).
      await custodian.createTopics({ waitForLeaders: false, topics: [{ topic: SCRATCH, numPartitions: 1 }] });
      await vi.waitFor(
        async () => {
          const md = await custodian.fetchTopicMetadata({ topics: [SCRATCH] });
          expect(md.topics[0]!.partitions[0]!.leader).toBeGreaterThanOrEqual(0);
        },
        { timeout: 15_000, interval: 200 },
      );
      const p = kafkajsClient(info.kafka, 'custodian', { clientId: 'stack-test-custodian-p' }).producer();
      await p.connect();
      await p.send({ topic: SCRATCH, acks: -1, messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });
      await p.disconnect();
    });

    it('DeleteRecords', async () => {
      await expectRefused(
        captureAdmin.deleteTopicRecords({ topic: topics.changes, partitions: [{ partition: 0, offset: '-1' }] }),
        'TOPIC_AUTHORIZATION_FAILED',
      );
      await custodian.deleteTopicRecords({ topic: SCRATCH, partitions: [{ partition: 0, offset: '1' }] });
      const [off] = await custodian.fetchTopicOffsets(SCRATCH);
      expect(off!.low).toBe('1');
    });

    it('CreatePartitions', async () => {
      await expectRefused(
        captureAdmin.createPartitions({ topicPartitions: [{ topic: topics.changes, count: 12 }] }),
        'TOPIC_AUTHORIZATION_FAILED',
      );
      await custodian.createPartitions({ topicPartitions: [{ topic: SCRATCH, count: 2 }] });
    });

    it('AlterConfigs', async () => {
      await expectRefused(
        captureAdmin.alterConfigs({
          validateOnly: false,
          resources: [{ type: ConfigResourceTypes.TOPIC, name: topics.changes, configEntries: [{ name: 'retention.ms', value: '1000' }] }],
        }),
        'TOPIC_AUTHORIZATION_FAILED',
      );
      await custodian.alterConfigs({
        validateOnly: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: SCRATCH, configEntries: [{ name: 'retention.ms', value: '60000' }] }],
      });
      expect(await checkTopicConfig(custodian, topics.changes)).toEqual([]);
    });

    it('ACL changes', async () => {
      const grant = {
        resourceType: AclResourceTypes.TOPIC,
        resourceName: topics.changes,
        resourcePatternType: ResourcePatternTypes.LITERAL,
        principal: 'User:capture',
        host: '*',
        operation: AclOperationTypes.DELETE,
        permissionType: AclPermissionTypes.ALLOW,
      };
      await expectRefused(captureAdmin.createAcls({ acl: [grant] }), 'CLUSTER_AUTHORIZATION_FAILED');
      await expectRefused(captureAdmin.deleteAcls({ filters: [{ ...grant, operation: AclOperationTypes.ANY }] }), 'CLUSTER_AUTHORIZATION_FAILED');
      const scratchGrant = { ...grant, resourceName: SCRATCH, principal: 'User:reader', operation: AclOperationTypes.READ };
      await custodian.createAcls({ acl: [scratchGrant] });
      await custodian.deleteAcls({ filters: [scratchGrant] });
    });

    it('DeleteTopics, while it can still append', async () => {
      await expectRefused(captureAdmin.deleteTopics({ topics: [topics.changes], timeout: 5_000 }), 'TOPIC_AUTHORIZATION_FAILED');
      expect(await custodian.listTopics()).toContain(topics.changes);
      const producer = capture.producer({ idempotent: true, allowAutoTopicCreation: false });
      await producer.connect();
      await producer.send({ topic: topics.changes, acks: -1, messages: [{ key: 'db.t', value: 'still-appending' }] });
      await producer.disconnect();
      await custodian.deleteTopics({ topics: [SCRATCH], timeout: 10_000 });
      scratchDeleted = true;
      await vi.waitFor(async () => expect(await custodian.listTopics()).not.toContain(SCRATCH), { timeout: 15_000, interval: 200 });
    });
  });
});
