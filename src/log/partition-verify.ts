// One share of `pitr verify`: reads a set of partitions of a log from given offsets up to their end
// (read_committed, through the adapter), streams every record through its partition's chain verifier and
// a wire peek of its payload, and returns small, cloneable outcomes (a worker thread posts them back).
// Memory follows the fetch size, not the records: nothing read is kept.
import { readPartitions, type LogClient } from './kafka-log.js';
import { peekRecord } from './record-codec.js';
import { CorruptLogError } from '../core/errors.js';
import { PartitionChainVerifier, type ChainRecord, type Finding } from './integrity-chain.js';

export interface PartitionJob {
  topic: string;
  partition: number;
  /** Low watermark of the partition. */
  low: bigint;
  /** First offset to read: the low watermark, or the anchored record's offset (`--since`). */
  from: bigint;
  /** End offset when verify began: records past it are left to the next run. */
  high: bigint;
  /** `--since`: the anchored record read first (see PartitionChainVerifier). */
  resume?: { seq: bigint; offset: bigint };
  /** `--expect`: the anchored seq whose stored hash is reported. */
  watch?: bigint;
}

export interface PartitionOutcome {
  topic: string;
  partition: number;
  /** Records read (the anchored record included when resuming). */
  records: number;
  head?: { seq: bigint; hash: Uint8Array; offset: bigint };
  findings: Finding[];
  /** Stored hash at each watched seq (empty when the seq was not in what was read). */
  watched: Array<[bigint, Uint8Array]>;
}

export interface ShareOutcome {
  partitions: PartitionOutcome[];
  /** Staged chunks seen: id -> count and where the first was. */
  chunks: Array<[string, { records: number; partition: number; offset: bigint }]>;
  /** Commit markers of staged transactions seen (TxnIndex.staged): id -> chunk records. */
  markers: Array<[string, number]>;
}

/** Fetch sizes for verify: small enough that a fetch's decoded messages stay a few MB of heap. */
const FETCH = { maxBytesPerPartition: 1024 * 1024, maxBytes: 2 * 1024 * 1024 };

export async function verifyPartitions(
  kafka: LogClient,
  sourceId: string,
  jobs: PartitionJob[],
  onProgress: (offsets: number) => void = () => undefined,
): Promise<ShareOutcome> {
  const chunks = new Map<string, { records: number; partition: number; offset: bigint }>();
  const markers = new Map<string, number>();
  const verifiers = jobs.map((j) => {
    const check = (r: ChainRecord): string | undefined => {
      try {
        const peek = peekRecord(r.value, { topic: j.topic, partition: j.partition, offset: r.offset }, sourceId);
        if (peek.stagedTxn) {
          const s = chunks.get(peek.stagedTxn);
          if (s) s.records++;
          else chunks.set(peek.stagedTxn, { records: 1, partition: j.partition, offset: r.offset });
        }
        for (const st of peek.staged) markers.set(st.id, st.records);
        return undefined;
      } catch (err) {
        if (err instanceof CorruptLogError) return err.message.replace(/\.$/, '');
        throw err;
      }
    };
    return { job: j, v: new PartitionChainVerifier(j.topic, j.partition, j.low, check, j.watch === undefined ? [] : [j.watch], j.resume) };
  });
  const byTopic = new Map<string, typeof verifiers>();
  for (const x of verifiers) {
    if (x.job.from >= x.job.high) continue;
    const list = byTopic.get(x.job.topic) ?? [];
    byTopic.set(x.job.topic, list);
    list.push(x);
  }
  // Topics at once: each reader's setup (a consumer joining its group) overlaps the others'.
  await Promise.all(
    [...byTopic].map(([topic, list]) => {
      const at = new Map(list.map((x) => [x.job.partition, x]));
      const next = new Map(list.map((x) => [x.job.partition, x.job.from]));
      return readPartitions(kafka, topic, {
        partitions: list.map((x) => x.job.partition),
        from: new Map(next),
        to: new Map(list.map((x) => [x.job.partition, x.job.high])),
        fetch: FETCH,
        groupPrefix: 'pitr-verify',
        onMessages: (p, msgs) => {
          const x = at.get(p)!;
          for (const m of msgs) x.v.push(m);
          const to = msgs.at(-1)!.offset + 1n;
          onProgress(Number(to - next.get(p)!));
          next.set(p, to);
        },
      });
    }),
  );
  const partitions = verifiers.map(({ job, v }): PartitionOutcome => ({
    topic: job.topic,
    partition: job.partition,
    records: v.records,
    findings: v.finish(),
    head: v.head && v.headOffset !== undefined ? { seq: v.head.seq, hash: v.head.hash, offset: v.headOffset } : undefined,
    watched: [...v.watched],
  }));
  return { partitions, chunks: [...chunks], markers: [...markers] };
}
