// Tamper evidence and secrets against the real broker: `pitr verify` passes on an untouched log and catches a
// forged record, a deleted prefix and a rewritten record; anchors prove a later log extends an earlier one, and
// `verify --since` reads only what follows one yet catches changes after it and rewrites before it;
// the reader cannot write; capture refuses history-losing topics; no password shows in any output.
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import kafkajs from 'kafkajs';
import type { Admin, Kafka as KafkaClient } from 'kafkajs';
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { StackInfo } from '../../src/core/settings.js';
import { provisionLog } from '../../src/log/provision.js';
import { kafkaClient, kafkajsClient, readPartitions, type ReadMessage } from '../../src/log/kafka-log.js';
import { logTopics, transactionalId } from '../../src/log/topics.js';
import { decodeRecord, encodeRecord } from '../../src/log/record-codec.js';
import { chainHash, GENESIS_HASH, linkHeaders, parseLinkHeaders, type ChainHead } from '../../src/log/integrity-chain.js';
import type { RecordMsg } from '../../src/log/record-types.js';
import { runCapture } from '../../src/capture/capture-loop.js';
import { parseMysqlUrl } from '../../src/core/mysql-url.js';
import { parseTableFilter } from '../../src/cli/capture-command.js';
import { connect, pitr, stack, type CliResult } from './helpers.js';

const { ConfigResourceTypes } = kafkajs;

const RUN = `${Date.now().toString(36)}${process.pid.toString(36)}`;
const DB = `sec_${RUN}`;
const PARTITIONS = 3;
/** Every CLI run of this file: grepped for passwords at the end. */
const outputs: CliResult[] = [];

let info: StackInfo;
let src: mysql.Connection;
let custodian: Admin;
let custodianKafka: KafkaClient;

async function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const r = await pitr(args, env);
  outputs.push(r);
  return r;
}

interface Finding {
  kind: string;
  topic: string;
  partition?: number;
  offset?: string;
  message: string;
}

async function verify(sourceId: string, extra: string[] = []): Promise<{ r: CliResult; ok: boolean; findings: Finding[]; anchor: string }> {
  const r = await cli(['verify', '--source-id', sourceId, '--json', ...extra]);
  let out: { ok: boolean; findings: Finding[]; anchor: string };
  try {
    out = JSON.parse(r.stdout);
  } catch {
    throw new Error(`verify printed no JSON (exit ${r.code}): ${r.stderr}`);
  }
  expect(r.code, r.stderr).toBe(out.ok ? 0 : 1);
  return { r, ...out };
}

let rowId = 0;
/** A few source transactions over three tables (so several partitions get several records). */
async function workload(txns = 4): Promise<void> {
  for (let i = 0; i < txns; i++) {
    rowId++;
    await src.query(`INSERT INTO ${DB}.a VALUES (${rowId}, 'a${rowId}'); INSERT INTO ${DB}.b VALUES (${rowId}, 'b${rowId}');`);
    await src.query(`INSERT INTO ${DB}.c VALUES (${rowId}, 'c${rowId}')`);
  }
}

/** A fresh log of its own (so tampering never touches the shared `main` log), with the DB captured into it. */
async function capturedLog(name: string): Promise<string> {
  const sourceId = `sectest-${RUN}-${name}`;
  await provisionLog({ kafka: info.kafka, sourceId, partitions: PARTITIONS });
  // First run: snapshot (one record per table). Second run: the workload's transactions, one record each per table.
  const r = await cli(['capture', '--until-caught-up', '--source-id', sourceId, '--tables', `${DB}.*`]);
  expect(r.code, r.stderr).toBe(0);
  await workload(3);
  const tail = await cli(['capture', '--until-caught-up', '--source-id', sourceId, '--tables', `${DB}.*`]);
  expect(tail.code, tail.stderr).toBe(0);
  return sourceId;
}

async function readAll(topic: string): Promise<ReadMessage[]> {
  const reader = kafkaClient(info.kafka, 'reader', { clientId: 'sec-test-reader' });
  const md = await custodian.fetchTopicMetadata({ topics: [topic] });
  const out: ReadMessage[] = [];
  await readPartitions(reader, topic, {
    partitions: md.topics[0]!.partitions.map((p) => p.partitionId),
    onMessages: (_p, msgs) => void out.push(...msgs),
  });
  return out.sort((x, y) => x.partition - y.partition || Number(x.offset - y.offset));
}

function link(m: ReadMessage): ChainHead {
  const l = parseLinkHeaders(m.headers);
  if (typeof l === 'string') throw new Error(l);
  return l;
}

/** Changes a row value inside a record, keeping it a well-formed record of the same source. */
function tamper(rec: RecordMsg): RecordMsg {
  const rows = rec.snapshotRows?.rows ?? rec.change?.changes?.map((c) => c.after ?? c.before!);
  const row = rows?.find((r) => r?.values?.length);
  if (!row) throw new Error('no row to tamper with');
  row.values![1] = { text: 'tampered by the custodian' } as never;
  return rec;
}

/** Deletes a topic and creates it again (as provisioned), then writes `msgs` into it as the custodian. */
async function recreate(sourceId: string, topic: string, msgs: ReadMessage[]): Promise<void> {
  await custodian.deleteTopics({ topics: [topic], timeout: 10_000 });
  await vi.waitFor(async () => expect(await custodian.listTopics()).not.toContain(topic), { timeout: 30_000, interval: 200 });
  await vi.waitFor(() => provisionLog({ kafka: info.kafka, sourceId, partitions: PARTITIONS }), { timeout: 30_000, interval: 500 });
  const p = custodianKafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await p.connect();
  try {
    await p.send({
      topic,
      acks: -1,
      messages: msgs.map((m) => ({ partition: m.partition, key: m.key, value: m.value, headers: m.headers as Record<string, Buffer> })),
    });
  } finally {
    await p.disconnect();
  }
}

/**
 * Like recreate, but every record gets back its offset: each run of consecutive offsets of a partition is written
 * in one Kafka transaction, whose commit marker takes the one offset between runs (as capture's did).
 */
async function recreateKeepingOffsets(sourceId: string, topic: string, msgs: ReadMessage[]): Promise<void> {
  await custodian.deleteTopics({ topics: [topic], timeout: 10_000 });
  await vi.waitFor(async () => expect(await custodian.listTopics()).not.toContain(topic), { timeout: 30_000, interval: 200 });
  await vi.waitFor(() => provisionLog({ kafka: info.kafka, sourceId, partitions: PARTITIONS }), { timeout: 30_000, interval: 500 });
  const p = custodianKafka.producer({ transactionalId: `sec-test-rewrite-${RUN}`, idempotent: true, maxInFlightRequests: 1 });
  await p.connect();
  try {
    for (const part of [...new Set(msgs.map((m) => m.partition))]) {
      const mine = msgs.filter((m) => m.partition === part);
      let next = 0n;
      for (let i = 0; i < mine.length; ) {
        if (mine[i]!.offset !== next) throw new Error(`cannot reproduce offset ${mine[i]!.offset} of partition ${part} (next free offset ${next})`);
        let j = i + 1;
        while (j < mine.length && mine[j]!.offset === mine[j - 1]!.offset + 1n) j++;
        const tx = await p.transaction();
        await tx.send({ topic, acks: -1, messages: mine.slice(i, j).map((m) => ({ partition: part, key: m.key, value: m.value, headers: m.headers as Record<string, Buffer> })) });
        await tx.commit();
        next = mine[j - 1]!.offset + 2n;
        i = j;
      }
    }
  } finally {
    await p.disconnect();
  }
  const back = await readAll(topic);
  expect(back.map((m) => `${m.partition}@${m.offset}`)).toEqual(msgs.map((m) => `${m.partition}@${m.offset}`));
}

beforeAll(async () => {
  info = await stack();
  custodianKafka = kafkajsClient(info.kafka, 'custodian', { clientId: 'sec-test-custodian' });
  custodian = custodianKafka.admin();
  await custodian.connect();
  src = await connect(info.source);
  await src.query(`CREATE DATABASE ${DB}`);
  for (const t of ['a', 'b', 'c']) await src.query(`CREATE TABLE ${DB}.${t} (id INT PRIMARY KEY, v VARCHAR(40))`);
  await workload(3);
});

afterAll(async () => {
  await src?.query(`DROP DATABASE IF EXISTS ${DB}`).catch(() => undefined);
  await src?.end();
  // This run's logs go (tampered ones included), so repeated runs do not pile up topics on the shared stack.
  const mine = (await custodian?.listTopics().catch(() => [] as string[])) ?? [];
  const ours = mine.filter((t) => t.startsWith(`pitr.sectest-${RUN}-`));
  if (ours.length) await custodian.deleteTopics({ topics: ours, timeout: 10_000 }).catch(() => undefined);
  await custodian?.disconnect();
});

describe('untouched log and anchors', () => {
  let sourceId: string;
  let anchor: string;

  beforeAll(async () => {
    sourceId = await capturedLog('clean');
  });

  it('verifies an untouched log (reader credentials), text and JSON', async () => {
    const v = await verify(sourceId);
    expect(v.findings).toEqual([]);
    expect(v.ok).toBe(true);
    const text = await cli(['verify', '--source-id', sourceId]);
    expect(text.code, text.stderr).toBe(0);
    // 3 changes partitions, meta and checkpoints.
    expect(text.stdout).toMatch(/verified: \d+ records in 5 partitions, every chain intact/);
    // Every record carries a chain link, numbered from 0 per partition.
    const msgs = await readAll(logTopics(sourceId).changes);
    expect(msgs.length).toBeGreaterThan(PARTITIONS);
    for (let p = 0; p < PARTITIONS; p++) {
      const seqs = msgs.filter((m) => m.partition === p).map((m) => link(m).seq);
      expect(seqs).toEqual(seqs.map((_, i) => BigInt(i)));
    }
  });

  it('prints an anchor that a later log extends, and that a rewritten log does not', async () => {
    const a = await cli(['verify', '--anchor', '--source-id', sourceId]);
    expect(a.code, a.stderr).toBe(0);
    anchor = a.stdout.trim();
    expect(anchor).toMatch(/^pitr1-[A-Za-z0-9_-]{40,140}$/);

    await workload(3);
    const more = await cli(['capture', '--until-caught-up', '--source-id', sourceId, '--tables', `${DB}.*`]);
    expect(more.code, more.stderr).toBe(0);
    const after = await verify(sourceId, ['--expect', anchor]);
    expect(after.findings).toEqual([]);
    expect(after.anchor).not.toBe(anchor);
    // The new chain links continue the old ones (capture restarted from the heads in the log).
    expect((await verify(sourceId)).ok).toBe(true);

    // Aborted transactions at a partition's tail (a capture that died mid-batch) take offsets but hold no
    // committed record: the next capture must find the real heads behind them and the abort markers.
    const t = logTopics(sourceId);
    const cap = kafkajsClient(info.kafka, 'capture', { clientId: 'sec-test-capture' }).producer({
      transactionalId: transactionalId(sourceId),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await cap.connect();
    for (let i = 0; i < 6; i++) {
      const tx = await cap.transaction();
      const junk = (partition: number) => ({ partition, key: 'x', value: Buffer.from('aborted'), headers: linkHeaders({ seq: 999n, hash: randomBytes(32) }) });
      await tx.sendBatch({
        topicMessages: [
          { topic: t.changes, messages: [0, 1, 2, 0, 1, 2].map(junk) },
          { topic: t.meta, messages: [junk(0), junk(0)] },
        ],
      });
      await tx.abort();
    }
    await cap.disconnect();
    await workload(2);
    const again = await cli(['capture', '--until-caught-up', '--source-id', sourceId, '--tables', `${DB}.*`]);
    expect(again.code, again.stderr).toBe(0);
    const resumed = await verify(sourceId, ['--expect', anchor]);
    expect(resumed.findings).toEqual([]);

    const bad = await cli(['verify', '--source-id', sourceId, '--expect', 'pitr1-nonsense']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/pitr: the anchor digest is truncated or malformed\.\n$/);
  });

  it('reads credentials from a file only its owner can read', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pitr-sec-'));
    const file = path.join(dir, 'reader.json');
    writeFileSync(file, JSON.stringify({ kafka: { brokers: info.kafka.brokers, users: { reader: info.kafka.users.reader } } }), { mode: 0o600 });
    // No stack settings needed: brokers and the reader come from the file.
    const ok = await cli(['verify', '--source-id', sourceId, '--credentials', file], { PITR_HOME: dir });
    expect(ok.code, ok.stderr).toBe(0);
    chmodSync(file, 0o644);
    const refused = await cli(['verify', '--source-id', sourceId], { PITR_CREDENTIALS_FILE: file });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^pitr: credentials file .* is accessible by group or others \(mode 644\); run chmod 600 .*\.\n$/);
  });

  it('keeps passwords out of errors and trace logs', async () => {
    const wrong = `${info.kafka.users.reader!.password}-wrong`;
    const bad = await cli(['verify', '--source-id', sourceId], { PITR_KAFKA_READER_USER: 'reader', PITR_KAFKA_READER_PASSWORD: wrong, PITR_LOG_LEVEL: 'trace' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/pitr: Kafka refused the credentials/);
    expect(bad.stderr + bad.stdout).not.toContain(wrong);
    // Every log line at the most verbose level (the final grep checks them for the real passwords).
    const traced = await cli(['verify', '--source-id', sourceId], { PITR_LOG_LEVEL: 'trace' });
    expect(traced.code, traced.stderr).toBe(0);
    expect(traced.stderr.length).toBeGreaterThan(0);
  });

  it('keeps passwords out of the records themselves', async () => {
    const secrets = Object.values(info.kafka.users).map((u) => u!.password);
    const t = logTopics(sourceId);
    for (const m of [...(await readAll(t.changes)), ...(await readAll(t.meta))]) {
      const bytes = Buffer.concat([Buffer.from(m.key), m.value, ...Object.values(m.headers).map((h) => h ?? Buffer.alloc(0))]);
      for (const s of secrets) expect(bytes.includes(Buffer.from(s))).toBe(false);
    }
  });

  it('refuses writes by the reader', async () => {
    const reader = kafkajsClient(info.kafka, 'reader', { clientId: 'sec-test-reader-w', quiet: true, retries: 0 });
    const producer = reader.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
    await producer.connect();
    try {
      const err = await producer
        .send({ topic: logTopics(sourceId).changes, acks: -1, messages: [{ key: 'x', value: 'reader-write' }] })
        .then(() => undefined, (e: unknown) => e);
      expect(err, 'the reader could write').toBeDefined();
      expect(JSON.stringify(err, Object.getOwnPropertyNames(err)) + String(err)).toMatch(/TOPIC_AUTHORIZATION_FAILED|not authorized/i);
    } finally {
      await producer.disconnect();
    }
    // Positive control: the same reader reads the same topic (verify just did, as the reader).
    expect((await verify(sourceId)).ok).toBe(true);
  });

  it('keeps the writers in their lanes: checkpointer cannot write changes or meta, capture cannot write checkpoints', async () => {
    const t = logTopics(sourceId);
    const refused = async (principal: 'capture' | 'checkpointer', topic: string) => {
      const producer = kafkajsClient(info.kafka, principal, { clientId: `sec-test-${principal}-lane`, quiet: true, retries: 0 }).producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
      await producer.connect();
      try {
        const err = await producer.send({ topic, acks: -1, messages: [{ key: 'x', value: `${principal}-write` }] }).then(() => undefined, (e: unknown) => e);
        expect(err, `${principal} could write ${topic}`).toBeDefined();
        expect(JSON.stringify(err, Object.getOwnPropertyNames(err)) + String(err)).toMatch(/TOPIC_AUTHORIZATION_FAILED|not authorized/i);
      } finally {
        await producer.disconnect();
      }
    };
    await refused('checkpointer', t.changes);
    await refused('checkpointer', t.meta);
    await refused('capture', t.checkpoints);
    expect((await verify(sourceId)).ok).toBe(true);
  });
});

describe('tampering by the custodian (who could)', () => {
  it('catches a forged record appended with a valid-looking chain link', async () => {
    const sourceId = await capturedLog('forge');
    const topic = logTopics(sourceId).changes;
    const msgs = await readAll(topic);
    const last = msgs.filter((m) => m.partition === msgs[0]!.partition).at(-1)!;
    // A well-formed record of this source with the next seq, but a hash the forger cannot make chain.
    const forged = custodianKafka.producer();
    await forged.connect();
    const [meta] = await forged.send({
      topic,
      acks: -1,
      messages: [{ partition: last.partition, key: last.key, value: last.value, headers: linkHeaders({ seq: link(last).seq + 1n, hash: randomBytes(32) }) }],
    });
    await forged.disconnect();
    const v = await verify(sourceId);
    expect(v.ok).toBe(false);
    expect(v.findings).toEqual([
      expect.objectContaining({ kind: 'injected', topic, partition: last.partition, offset: String(meta!.baseOffset) }),
    ]);
    const text = await cli(['verify', '--source-id', sourceId]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`${topic}/${last.partition}@${meta!.baseOffset}: injected: record claims seq ${link(last).seq + 1n}`);
  });

  it('catches a deleted prefix (DeleteRecords)', async () => {
    const sourceId = await capturedLog('prefix');
    const topic = logTopics(sourceId).changes;
    const msgs = await readAll(topic);
    const part = [...new Set(msgs.map((m) => m.partition))].find((p) => msgs.filter((m) => m.partition === p).length >= 2)!;
    const second = msgs.filter((m) => m.partition === part)[1]!;
    const anchor = (await cli(['verify', '--anchor', '--source-id', sourceId])).stdout.trim();
    await custodian.deleteTopicRecords({ topic, partitions: [{ partition: part, offset: second.offset.toString() }] });
    const v = await verify(sourceId, ['--expect', anchor]);
    expect(v.ok).toBe(false);
    expect(v.findings).toContainEqual(
      expect.objectContaining({ kind: 'prefix-deleted', topic, partition: part, offset: second.offset.toString(), message: expect.stringMatching(/first record has seq 1: record 0 is gone/) }),
    );
    expect(v.findings.every((f) => f.kind === 'prefix-deleted' || f.kind === 'anchor')).toBe(true);
  });

  it('catches a rewritten record, and an anchor catches a rewrite with a recomputed chain', async () => {
    const sourceId = await capturedLog('rewrite');
    const topic = logTopics(sourceId).changes;
    const anchor = (await cli(['verify', '--anchor', '--source-id', sourceId])).stdout.trim();
    const msgs = await readAll(topic);
    const part = [...new Set(msgs.map((m) => m.partition))].find((p) => msgs.filter((m) => m.partition === p).length >= 2)!;
    const victim = msgs.findIndex((m) => m.partition === part);
    const rewritten = msgs.map((m, i) =>
      i === victim ? { ...m, value: encodeRecord(tamper(decodeRecord(m.value, 'test', sourceId))) } : m,
    );
    await recreate(sourceId, topic, rewritten);
    const v = await verify(sourceId);
    expect(v.ok).toBe(false);
    // Re-created without transactions, offsets are now 0, 1, 2... per partition: the victim is its partition's first.
    expect(v.findings).toEqual([expect.objectContaining({ kind: 'altered', topic, partition: part, offset: '0', message: expect.stringMatching(/seq 0 was altered/) })]);

    // A careful forger recomputes every hash after the change: the chains verify, but the anchor does not.
    const heads = new Map<number, ChainHead | undefined>();
    const rechained = rewritten.map((m) => {
      const prev = heads.get(m.partition);
      const seq = prev ? prev.seq + 1n : 0n;
      const l = { seq, hash: chainHash(prev?.hash ?? GENESIS_HASH, seq, topic, m.partition, m.key, m.value) };
      heads.set(m.partition, l);
      return { ...m, headers: linkHeaders(l) };
    });
    await recreate(sourceId, topic, rechained);
    const chainsOnly = await verify(sourceId);
    expect(chainsOnly.findings).toEqual([]);
    const anchored = await verify(sourceId, ['--expect', anchor]);
    expect(anchored.ok).toBe(false);
    expect(anchored.findings).toContainEqual(expect.objectContaining({ kind: 'anchor', topic, partition: part }));
  });
});

describe('incremental verify (--since an anchor)', () => {
  it('reads only what follows the anchor, and catches a record altered after it and a log rewritten before it', async () => {
    const sourceId = await capturedLog('since');
    const topic = logTopics(sourceId).changes;
    const first = await verify(sourceId);
    expect(first.findings).toEqual([]);
    const heads = new Map((JSON.parse(first.r.stdout).partitions as { topic: string; partition: number; headOffset?: string }[]).filter((x) => x.topic === topic).map((x) => [x.partition, BigInt(x.headOffset ?? -1)]));
    await workload(3);
    const more = await cli(['capture', '--until-caught-up', '--source-id', sourceId, '--tables', `${DB}.*`]);
    expect(more.code, more.stderr).toBe(0);

    const inc = await verify(sourceId, ['--since', first.anchor]);
    expect(inc.findings).toEqual([]);
    const full = await verify(sourceId);
    const records = (v: { r: CliResult }) => JSON.parse(v.r.stdout).records as number;
    expect(records(inc)).toBe(records(full) - records(first));
    expect(records(inc)).toBeGreaterThan(0);
    // The last clean verify on this host (the full one) is where --since last continues: nothing new since.
    const last = await verify(sourceId, ['--since', 'last']);
    expect(last.findings).toEqual([]);
    expect(records(last)).toBe(0);

    // A record after the anchor altered (its stored link kept, every offset as it was).
    const msgs = await readAll(topic);
    const part = [...heads.keys()].find((p) => msgs.filter((m) => m.partition === p && m.offset > heads.get(p)!).length >= 2)!;
    expect(part).toBeDefined();
    const victim = msgs.findIndex((m) => m.partition === part && m.offset > heads.get(part)!);
    const altered = msgs.map((m, i) => (i === victim ? { ...m, value: encodeRecord(tamper(decodeRecord(m.value, 'test', sourceId))) } : m));
    await recreateKeepingOffsets(sourceId, topic, altered);
    const bad = await verify(sourceId, ['--since', first.anchor]);
    expect(bad.ok).toBe(false);
    expect(bad.findings).toEqual([expect.objectContaining({ kind: 'altered', topic, partition: part, offset: String(msgs[victim]!.offset) })]);

    // The partition rewritten before the anchor, every hash after the change recomputed: the chains verify,
    // but the anchored record no longer carries the anchored link.
    let head: ChainHead | undefined;
    const rechained = msgs.map((m) => {
      if (m.partition !== part) return m;
      const value = head === undefined ? encodeRecord(tamper(decodeRecord(m.value, 'test', sourceId))) : m.value;
      const seq = head ? head.seq + 1n : 0n;
      head = { seq, hash: chainHash(head?.hash ?? GENESIS_HASH, seq, topic, m.partition, m.key, value) };
      return { ...m, value, headers: linkHeaders(head) };
    });
    await recreateKeepingOffsets(sourceId, topic, rechained);
    expect((await verify(sourceId)).findings).toEqual([]);
    const rewritten = await verify(sourceId, ['--since', first.anchor]);
    expect(rewritten.ok).toBe(false);
    expect(rewritten.findings).toEqual([expect.objectContaining({ kind: 'anchor', topic, partition: part, message: expect.stringMatching(/different hash: the chain was rewritten/) })]);
  });
});

describe('topics that would lose history', () => {
  const sourceId = `sectest-${RUN}-cfg`;
  const topics = logTopics(sourceId);

  beforeAll(async () => {
    await provisionLog({ kafka: info.kafka, sourceId, partitions: PARTITIONS });
  });

  async function alter(topic: string, entries: Record<string, string>): Promise<void> {
    // AlterConfigs replaces the topic's dynamic settings as a whole: state every one that matters.
    const all = { 'retention.ms': '-1', 'retention.bytes': '-1', 'cleanup.policy': 'delete', ...entries };
    await custodian.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: Object.entries(all).map(([name, value]) => ({ name, value })) }],
    });
  }

  const capture = () =>
    runCapture({ source: parseMysqlUrl(info.source, 'source URL'), kafka: info.kafka, sourceId, filter: parseTableFilter(`${DB}.*`), untilCaughtUp: true });

  it('refuses retention.ms=86400000 with one sentence naming the topic, and verify reports it', async () => {
    await alter(topics.changes, { 'retention.ms': '86400000' });
    await expect(capture()).rejects.toThrow(
      new RegExp(`^capture refuses to write to ${topics.changes.replace(/\./g, '\\.')}: topic ${topics.changes.replace(/\./g, '\\.')} has retention\\.ms=86400000, expected -1\\.$`),
    );
    const v = await verify(sourceId);
    expect(v.findings).toEqual([expect.objectContaining({ kind: 'config', topic: topics.changes, message: expect.stringMatching(/retention\.ms=86400000/) })]);
    await alter(topics.changes, {});
  });

  it('refuses cleanup.policy=compact', async () => {
    await alter(topics.meta, { 'cleanup.policy': 'compact' });
    await expect(capture()).rejects.toThrow(/^capture refuses to write to pitr\.\S+\.meta: topic pitr\.\S+\.meta has cleanup\.policy=compact, expected delete\.$/);
    await alter(topics.meta, {});
  });
});

describe('secrets', () => {
  it('shows no password in any output of the CLI runs above', () => {
    expect(outputs.length).toBeGreaterThan(10);
    const secrets = Object.values(info.kafka.users).map((u) => u!.password);
    const srcPassword = decodeURIComponent(new URL(info.source).password);
    if (srcPassword) secrets.push(srcPassword);
    for (const o of outputs) {
      for (const s of secrets) {
        expect(o.stdout.includes(s), 'a password in stdout').toBe(false);
        expect(o.stderr.includes(s), 'a password in stderr').toBe(false);
      }
    }
  });
});
