// `pitr verify` engine: reads every partition of a source's log from its low watermark (read_committed),
// recomputes each partition's hash chain, checks the topics' retention settings, and builds or checks anchors.
import { kafkaError, LogAdmin, readPartitions, type LogClient } from './kafka-log.js';
import { decodeRecord } from './record-codec.js';
import { logTopics } from './topics.js';
import { logger } from '../core/logger.js';
import { verifyCheckpoints } from '../checkpoint/checkpoint-verifier.js';
import {
  PartitionChainVerifier,
  checkAnchor,
  decodeAnchor,
  encodeAnchor,
  type AnchorTopic,
  type ChainRecord,
  type Finding,
} from './integrity-chain.js';

export interface VerifyOptions {
  kafka: LogClient;
  sourceId: string;
  /** Anchor digest (from an earlier `--anchor`) the log must still extend. */
  expect?: string;
  /** Called as records are read: offsets covered so far and in total (for a progress bar). */
  onProgress?: (done: number, total: number) => void;
}

export interface PartitionSummary {
  topic: string;
  partition: number;
  low: string;
  high: string;
  records: number;
  /** Last link of the chain (absent for a partition without chained records). */
  headSeq?: string;
  headHash?: string;
}

export interface VerifyResult {
  sourceId: string;
  ok: boolean;
  findings: Finding[];
  partitions: PartitionSummary[];
  records: number;
  /** Digest of the chain heads as read now (pitr verify --anchor). */
  anchor: string;
  /** Chunks of staged transactions whose capture never committed them (killed mid-way): in the chain, never applied. */
  abandonedStaged: { attempts: number; records: number };
  /** Checkpoints re-derived from their bases and the changes since (each table's image proven or a finding). */
  checkpoints: { checkpointId: string; offset: string; verifiedTables: string[]; findings: number }[];
  seconds: number;
}

export async function verifyLog(opts: VerifyOptions): Promise<VerifyResult> {
  const started = Date.now();
  const topics = logTopics(opts.sourceId);
  // The checkpoints topic is chained and configured like the others (a log provisioned before checkpoints
  // existed gets it when `pitr log provision` runs again).
  const names = [topics.changes, topics.meta, topics.checkpoints];
  const expected = opts.expect !== undefined ? decodeAnchor(opts.expect) : undefined;
  const findings: Finding[] = [];

  const admin = new LogAdmin(opts.kafka);
  await admin.connect().catch((err) => {
    throw kafkaError(err, 'could not connect to Kafka');
  });
  const ends = new Map<string, Map<number, { low: bigint; high: bigint }>>();
  try {
    for (const t of names) {
      const problems = await admin.configProblems(t).catch((err) => {
        throw kafkaError(err, `could not read the configuration of topic ${t}`);
      });
      for (const message of problems) findings.push({ kind: 'config', topic: t, message });
      if (problems.some((p) => p.includes('does not exist'))) continue;
      ends.set(t, await admin.ends(t).catch((err) => {
        throw kafkaError(err, `could not read the offsets of topic ${t}`);
      }));
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
  }

  const staged = new StagedTally(topics.changes);
  let total = 0;
  for (const e of ends.values()) for (const { low, high } of e.values()) total += Number(high - low);
  let done = 0;
  opts.onProgress?.(0, total);

  const verifiers = new Map<string, PartitionChainVerifier[]>();
  for (const [ti, topic] of names.entries()) {
    const e = ends.get(topic);
    if (!e) continue;
    const parts = [...e.keys()].sort((a, b) => a - b);
    const list = parts.map((p) => {
      const payload = (r: ChainRecord): string | undefined => {
        try {
          const rec = decodeRecord(r.value, { topic, partition: p, offset: r.offset }, opts.sourceId);
          if (rec.change?.stagedTxn) staged.chunk(rec.change.stagedTxn, p, r.offset);
          for (const st of rec.txnIndex?.staged ?? []) staged.marker(st.id, st.records);
          return undefined;
        } catch (err) {
          return (err as Error).message.replace(/\.$/, '');
        }
      };
      const watch = expected?.topics[ti]?.seqs[p];
      return new PartitionChainVerifier(topic, p, e.get(p)!.low, payload, watch === undefined ? [] : [watch]);
    });
    verifiers.set(topic, list);
    if (!parts.length) continue;
    const last = new Map<number, bigint>(parts.map((p) => [p, e.get(p)!.low]));
    await readPartitions(opts.kafka, topic, {
      partitions: parts,
      groupPrefix: 'pitr-verify',
      onMessages: (p, msgs) => {
        const v = list[parts.indexOf(p)]!;
        for (const m of msgs) v.push({ offset: m.offset, key: m.key, value: m.value, headers: m.headers });
        const to = msgs.at(-1)!.offset + 1n;
        done += Number(to - last.get(p)!);
        last.set(p, to);
        opts.onProgress?.(Math.min(done, total), total);
      },
    });
  }
  opts.onProgress?.(total, total);

  const partitions: PartitionSummary[] = [];
  const anchorTopics: AnchorTopic[] = [];
  for (const topic of names) {
    const list = verifiers.get(topic) ?? [];
    anchorTopics.push({ topic, heads: list.map((v) => v.head) });
    for (const v of list) {
      findings.push(...v.finish());
      const e = ends.get(topic)!.get(v.partition)!;
      logger().debug({ topic, partition: v.partition, records: v.records, headSeq: v.head?.seq.toString(), findings: v.findings.length }, 'partition verified');
      partitions.push({
        topic,
        partition: v.partition,
        low: e.low.toString(),
        high: e.high.toString(),
        records: v.records,
        headSeq: v.head?.seq.toString(),
        headHash: v.head?.hash.toString('hex'),
      });
    }
  }

  findings.push(...staged.findings());
  const checkpoints: VerifyResult['checkpoints'] = [];
  if (ends.has(topics.checkpoints)) {
    for (const c of await verifyCheckpoints(opts.kafka, opts.sourceId)) {
      findings.push(...c.findings);
      checkpoints.push({ checkpointId: c.checkpointId, offset: c.offset.toString(), verifiedTables: c.verifiedTables, findings: c.findings.length });
    }
  }
  if (expected) {
    // Anchors taken before the checkpoints topic existed cover changes and meta only.
    const current = names.slice(0, Math.max(2, expected.topics.length)).map((topic, ti) => {
      const list = verifiers.get(topic) ?? [];
      const seqs = expected.topics[ti]?.seqs ?? [];
      return { topic, partitions: list.length, found: list.map((v, p) => (seqs[p] === undefined ? undefined : v.watched.get(seqs[p]!))) };
    });
    for (const p of checkAnchor(expected, current)) findings.push({ kind: 'anchor', topic: p.topic, partition: p.partition, message: p.message });
  }

  return {
    sourceId: opts.sourceId,
    ok: findings.length === 0,
    findings,
    partitions,
    records: partitions.reduce((n, p) => n + p.records, 0),
    anchor: encodeAnchor(anchorTopics),
    abandonedStaged: staged.abandoned(),
    checkpoints,
    seconds: (Date.now() - started) / 1000,
  };
}

/**
 * Staged chunks per id against their commit markers: a committed id must have exactly the records
 * its marker counts; ids no marker names are abandoned attempts (reported, not findings).
 */
export class StagedTally {
  private readonly seen = new Map<string, { records: number; partition: number; offset: bigint }>();
  private readonly committed = new Map<string, number>();

  constructor(private readonly topic: string) {}

  chunk(id: string, partition: number, offset: bigint): void {
    const s = this.seen.get(id);
    if (s) s.records++;
    else this.seen.set(id, { records: 1, partition, offset });
  }

  marker(id: string, records: number): void {
    this.committed.set(id, records);
  }

  findings(): Finding[] {
    const out: Finding[] = [];
    for (const [id, want] of this.committed) {
      const s = this.seen.get(id);
      if ((s?.records ?? 0) !== want) {
        out.push({
          kind: 'staged', topic: this.topic, partition: s?.partition, offset: s?.offset,
          message: `staged transaction ${id} has ${s?.records ?? 0} chunk records in the log, its commit marker says ${want}`,
        });
      }
    }
    return out;
  }

  abandoned(): { attempts: number; records: number } {
    let attempts = 0;
    let records = 0;
    for (const [id, s] of this.seen) {
      if (this.committed.has(id)) continue;
      attempts++;
      records += s.records;
    }
    return { attempts, records };
  }
}

/** One line per finding: where, what kind, what is wrong. */
export function formatFinding(f: Finding): string {
  const where = f.partition === undefined ? f.topic : f.offset === undefined ? `${f.topic}/${f.partition}` : `${f.topic}/${f.partition}@${f.offset}`;
  return `${where}: ${f.kind}: ${f.message}`;
}
