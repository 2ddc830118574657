// `pitr verify` engine: reads every partition of a source's log (read_committed) from its low watermark, or
// from an anchor on (`--since`), recomputes each partition's hash chain, checks the topics' retention settings,
// and builds or checks anchors. Partitions are verified in parallel worker threads, each with a capped heap,
// and nothing read is kept: memory stays within a fixed bound whatever the log's length or its records' sizes.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { kafkaClient, kafkaError, withAdmin, type PartitionEnds } from './kafka-log.js';
import { logTopics } from './topics.js';
import type { KafkaSettings } from '../core/settings.js';
import { PitrError, UsageError } from '../core/errors.js';
import { logger } from '../core/logger.js';
import { verifyCheckpoints } from '../checkpoint/checkpoint-verifier.js';
import { verifyPartitions, type PartitionJob, type PartitionOutcome, type ShareOutcome } from './partition-verify.js';
import type { VerifyWorkerData, VerifyWorkerMessage } from './verify-worker.js';
import { checkAnchor, decodeAnchor, encodeAnchor, type AnchorTopic, type Finding } from './integrity-chain.js';

/** Staged transactions whose chunks were seen and whose commit marker was not (yet), carried between runs. */
export type OpenStaged = Array<[string, { records: number; partition: number; offset: bigint }]>;

export interface VerifyOptions {
  kafka: KafkaSettings;
  sourceId: string;
  /** Anchor digest (from an earlier `--anchor`) the log must still extend. */
  expect?: string;
  /**
   * Anchor digest to verify from (`--since`): the log must extend it, and only the records after it are read.
   * The run that printed it verified everything before.
   */
  since?: string;
  /** The open staged transactions of the run that printed the `since` anchor (its saved state), if known. */
  openStaged?: OpenStaged;
  /** Worker threads (default: one per core, at most 4; 1 = in this thread). */
  parallel?: number;
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
  /** Kafka offset of the head record. */
  headOffset?: string;
}

export interface VerifyResult {
  sourceId: string;
  ok: boolean;
  findings: Finding[];
  partitions: PartitionSummary[];
  /** Records verified (with `since`: the records after the anchor). */
  records: number;
  /** Digest of the chain heads as read now (pitr verify --anchor, --since, --expect). */
  anchor: string;
  /** Set when only the records after this anchor were verified. */
  since?: string;
  /** Chunks of staged transactions whose capture never committed them (killed mid-way): in the chain, never applied. */
  abandonedStaged: { attempts: number; records: number };
  /** Staged transactions seen without their commit marker: what the next `--since` run carries over. */
  openStaged: OpenStaged;
  /** Checkpoints re-derived from their bases and the changes since (each table's image proven or a finding). */
  checkpoints: { checkpointId: string; offset: string; verifiedTables: string[]; findings: number }[];
  /** Worker threads used (0: read in the calling thread). */
  parallel: number;
  seconds: number;
}

/** Heap cap of each verify worker (V8 old generation, MB); buffers of the fetch in flight come on top. */
export const WORKER_HEAP_MB = 64;

/** Below this many offsets to read, verify reads in its own thread. */
const INLINE_OFFSETS = 100_000;

export async function verifyLog(opts: VerifyOptions): Promise<VerifyResult> {
  const started = Date.now();
  const log = logger().child({ component: 'verify' });
  const topics = logTopics(opts.sourceId);
  // The checkpoints topic is chained and configured like the others (a log provisioned before checkpoints
  // existed gets it when `pitr log provision` runs again).
  const names = [topics.changes, topics.meta, topics.checkpoints];
  if (opts.since !== undefined && opts.expect !== undefined) throw new UsageError('give either --since or --expect, not both: --since also proves that the log extends its anchor.');
  const anchorText = opts.since ?? opts.expect;
  const expected = anchorText !== undefined ? decodeAnchor(anchorText) : undefined;
  let since = opts.since !== undefined ? expected : undefined;
  if (since && !since.topics.every((t) => t.offsets)) {
    // Printed before anchors carried offsets: the whole log is read, and the anchor checked as with --expect.
    log.warn('the --since anchor carries no offsets (printed by an older pitr): verifying the whole log against it');
    since = undefined;
  }
  const findings: Finding[] = [];

  const kafka = kafkaClient(opts.kafka, 'reader', { clientId: 'pitr-verify' });
  const ends = new Map<string, PartitionEnds>();
  await withAdmin(kafka, async (admin) => {
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
  });

  const jobs: PartitionJob[] = [];
  for (const [ti, topic] of names.entries()) {
    const e = ends.get(topic);
    if (!e) continue;
    for (const p of [...e.keys()].sort((a, b) => a - b)) {
      const { low, high } = e.get(p)!;
      const seq = expected?.topics[ti]?.seqs[p];
      const offset = since?.topics[ti]?.offsets?.[p];
      if (since && seq !== undefined && offset !== undefined) jobs.push({ topic, partition: p, low, from: offset, high, resume: { seq, offset } });
      else jobs.push({ topic, partition: p, low, from: low, high, watch: seq });
    }
  }
  const total = jobs.reduce((n, j) => n + Math.max(0, Number(j.high - (j.from > j.low ? j.from : j.low))), 0);
  let done = 0;
  opts.onProgress?.(0, total);
  const progress = (n: number) => {
    done += n;
    opts.onProgress?.(Math.min(done, total), total);
  };
  const parallel = Math.max(1, Math.min(opts.parallel ?? Math.min(4, availableParallelism()), jobs.filter((j) => j.high > j.from).length || 1));
  // A few records (an incremental run) are read in this thread: starting workers would cost more than they
  // save. Anything larger goes to workers, even one, whose capped heaps are what bounds verify's memory.
  const inline = total < INLINE_OFFSETS;
  const shares = inline ? [await verifyPartitions(kafka, opts.sourceId, jobs, progress)] : await runWorkers(opts, split(jobs, parallel), progress);
  opts.onProgress?.(total, total);
  log.debug({ parallel, jobs: jobs.length, seconds: (Date.now() - started) / 1000 }, 'partitions read');

  const outcome = new Map<string, PartitionOutcome>();
  for (const s of shares) for (const o of s.partitions) outcome.set(`${o.topic}/${o.partition}`, o);
  const partitions: PartitionSummary[] = [];
  const anchorTopics: AnchorTopic[] = [];
  let records = 0;
  for (const topic of names) {
    const e = ends.get(topic);
    const parts = e ? [...e.keys()].sort((a, b) => a - b) : [];
    const heads: AnchorTopic['heads'] = [];
    const offsets: bigint[] = [];
    for (const p of parts) {
      const o = outcome.get(`${topic}/${p}`)!;
      const job = jobs.find((j) => j.topic === topic && j.partition === p)!;
      findings.push(...o.findings);
      const head = o.head;
      heads.push(head ? { seq: head.seq, hash: Buffer.from(head.hash) } : undefined);
      offsets.push(head?.offset ?? 0n);
      const verified = o.records - (job.resume && o.records ? 1 : 0);
      records += verified;
      partitions.push({
        topic,
        partition: p,
        low: e!.get(p)!.low.toString(),
        high: e!.get(p)!.high.toString(),
        records: verified,
        headSeq: head?.seq.toString(),
        headHash: head ? Buffer.from(head.hash).toString('hex') : undefined,
        headOffset: head?.offset.toString(),
      });
    }
    anchorTopics.push({ topic, heads, offsets });
  }

  const staged = new StagedTally(topics.changes, since !== undefined && opts.openStaged === undefined);
  for (const [id, s] of opts.openStaged ?? []) staged.carry(id, s);
  for (const s of shares) {
    for (const [id, c] of s.chunks) staged.chunks(id, c);
    for (const [id, n] of s.markers) staged.marker(id, n);
  }
  findings.push(...staged.findings());

  const checkpoints: VerifyResult['checkpoints'] = [];
  // With --since and no record after the anchored one on the checkpoints topic, there is no new checkpoint.
  const cpRead = outcome.get(`${topics.checkpoints}/0`)?.records ?? 0;
  const newCheckpoints = !since || cpRead > (since.topics[names.indexOf(topics.checkpoints)]?.seqs[0] === undefined ? 0 : 1);
  if (ends.has(topics.checkpoints) && newCheckpoints) {
    // With --since, checkpoints at or before the anchored one were proven by the run that printed the anchor.
    const cpIndex = names.indexOf(topics.checkpoints);
    const after = since?.topics[cpIndex]?.offsets?.[0];
    for (const c of await verifyCheckpoints(kafka, opts.sourceId, 'pitr-verify', after)) {
      findings.push(...c.findings);
      checkpoints.push({ checkpointId: c.checkpointId, offset: c.offset.toString(), verifiedTables: c.verifiedTables, findings: c.findings.length });
    }
  }
  if (expected) {
    // Anchors taken before the checkpoints topic existed cover changes and meta only.
    const current = names.slice(0, Math.max(2, expected.topics.length)).map((topic, ti) => {
      const e = ends.get(topic);
      const parts = e ? [...e.keys()].sort((a, b) => a - b) : [];
      const seqs = expected.topics[ti]?.seqs ?? [];
      return {
        topic,
        partitions: parts.length,
        found: parts.map((p) => {
          const want = seqs[p];
          if (want === undefined) return undefined;
          const hit = outcome.get(`${topic}/${p}`)?.watched.find(([seq]) => seq === want);
          return hit && hit[1].length ? Buffer.from(hit[1]) : undefined;
        }),
      };
    });
    for (const p of checkAnchor(expected, current)) findings.push({ kind: 'anchor', topic: p.topic, partition: p.partition, message: p.message });
  }

  return {
    sourceId: opts.sourceId,
    ok: findings.length === 0,
    findings: dedupe(findings),
    partitions,
    records,
    anchor: encodeAnchor(anchorTopics),
    since: since ? opts.since : undefined,
    abandonedStaged: staged.abandoned(),
    openStaged: staged.open(),
    checkpoints,
    parallel: inline ? 0 : parallel,
    seconds: (Date.now() - started) / 1000,
  };
}

/** One anchor finding per partition: the verifier and the digest check may both see a moved anchored record. */
function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    if (f.kind !== 'anchor' || f.partition === undefined) return true;
    const k = `${f.topic}/${f.partition}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Jobs into `n` shares of about equal offsets (largest first, each to the lightest share). */
export function split(jobs: PartitionJob[], n: number): PartitionJob[][] {
  const shares = Array.from({ length: n }, () => ({ jobs: [] as PartitionJob[], size: 0 }));
  const size = (j: PartitionJob) => Number(j.high - (j.from > j.low ? j.from : j.low));
  for (const j of [...jobs].sort((a, b) => size(b) - size(a))) {
    const s = shares.reduce((a, b) => (b.size < a.size ? b : a));
    s.jobs.push(j);
    s.size += Math.max(0, size(j));
  }
  return shares.filter((s) => s.jobs.length).map((s) => s.jobs);
}

/** Runs each share in a worker thread with a capped heap; the first failure fails verify. */
async function runWorkers(opts: VerifyOptions, shares: PartitionJob[][], progress: (n: number) => void): Promise<ShareOutcome[]> {
  const workers: Worker[] = [];
  try {
    return await Promise.all(
      shares.map(
        (jobs) =>
          new Promise<ShareOutcome>((resolve, reject) => {
            const data: VerifyWorkerData = { kafka: opts.kafka, sourceId: opts.sourceId, jobs };
            const w = new Worker(new URL('./verify-worker.js', import.meta.url), {
              workerData: data,
              resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB, maxYoungGenerationSizeMb: 16 },
            });
            workers.push(w);
            let settled = false;
            w.on('message', (m: VerifyWorkerMessage) => {
              if (m.kind === 'progress') progress(m.offsets);
              else if (m.kind === 'done') {
                settled = true;
                resolve(m.outcome);
              } else {
                settled = true;
                reject(new PitrError(m.message, { retriable: m.retriable }));
              }
            });
            w.on('error', (err) => {
              settled = true;
              reject(new PitrError(`a verify worker failed: ${err.message}`, { cause: err }));
            });
            w.on('exit', (code) => {
              if (!settled) reject(new PitrError(`a verify worker stopped (exit code ${code}) before it finished`));
            });
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate().catch(() => undefined)));
  }
}

/**
 * Staged chunks per id against their commit markers: a committed id must have exactly the records its marker
 * counts; ids no marker names are abandoned attempts (reported, not findings) or, at the log's end, still open.
 * `partial` (a `--since` run without the previous run's open transactions): chunks before the anchor were not
 * read, so a marker with fewer chunks than it counts is not a finding (more still is).
 */
export class StagedTally {
  private readonly seen = new Map<string, { records: number; partition: number; offset: bigint }>();
  private readonly committed = new Map<string, number>();

  constructor(
    private readonly topic: string,
    private readonly partial = false,
  ) {}

  chunk(id: string, partition: number, offset: bigint): void {
    this.chunks(id, { records: 1, partition, offset });
  }

  /** `c.records` chunks of `id`, the first of them at `c.partition`/`c.offset` (the earliest share wins). */
  chunks(id: string, c: { records: number; partition: number; offset: bigint }): void {
    const s = this.seen.get(id);
    if (s) {
      s.records += c.records;
      if (c.offset < s.offset) Object.assign(s, { partition: c.partition, offset: c.offset });
    } else this.seen.set(id, { ...c });
  }

  /** Chunks counted by an earlier run (its open staged transactions). */
  carry(id: string, c: { records: number; partition: number; offset: bigint }): void {
    this.chunks(id, c);
  }

  marker(id: string, records: number): void {
    this.committed.set(id, records);
  }

  findings(): Finding[] {
    const out: Finding[] = [];
    for (const [id, want] of this.committed) {
      const s = this.seen.get(id);
      const got = s?.records ?? 0;
      if (got === want || (this.partial && got < want)) continue;
      out.push({
        kind: 'staged', topic: this.topic, partition: s?.partition, offset: s?.offset,
        message: `staged transaction ${id} has ${got} chunk records in the log, its commit marker says ${want}`,
      });
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

  /** Ids with chunks and no marker yet: abandoned, or still being written. */
  open(): OpenStaged {
    return [...this.seen].filter(([id]) => !this.committed.has(id)).map(([id, s]) => [id, { ...s }]);
  }
}

/** One line per finding: where, what kind, what is wrong. */
export function formatFinding(f: Finding): string {
  const where = f.partition === undefined ? f.topic : f.offset === undefined ? `${f.topic}/${f.partition}` : `${f.topic}/${f.partition}@${f.offset}`;
  return `${where}: ${f.kind}: ${f.message}`;
}
