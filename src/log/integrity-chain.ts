// Per-partition hash chain of the log (pure): the link every record carries in its Kafka headers, the
// verification of a partition's records in offset order, and the anchor digest of the chain heads.
import { createHash, hash } from 'node:crypto';
import { UsageError } from '../core/errors.js';

/** Kafka header with the record's position in its partition's chain: decimal, 0 for the partition's first record. */
export const SEQ_HEADER = 'pitr-seq';
/** Kafka header with the record's chain hash: 32 raw bytes. */
export const HASH_HEADER = 'pitr-hash';

/** The "previous hash" of a partition's first record. */
export const GENESIS_HASH: Buffer = Buffer.alloc(32);

/** Last link of a partition's chain. */
export interface ChainHead {
  seq: bigint;
  hash: Buffer;
}

/** Chain heads per topic, then per partition; a partition without any chained record is absent. */
export type ChainHeads = Map<string, Map<number, ChainHead>>;

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/**
 * sha256(prev ‖ seq ‖ topic ‖ partition ‖ key ‖ value), every variable-length part length-prefixed so no two
 * different records hash the same input. Topic and partition are covered so a record cannot be moved to
 * another partition or another source's log and still verify.
 */
export function chainHash(prev: Buffer, seq: bigint, topic: string, partition: number, key: string, value: Buffer): Buffer {
  return chainHasher(topic, partition)(prev, seq, key, value);
}

/**
 * chainHash for one partition, its topic-and-partition part encoded once: verify hashes every record of a
 * partition, and the per-record buffers were a fair share of its time.
 */
/** Largest record hashed through the reused buffer (bytes). */
const SCRATCH_MAX = 256 * 1024;

export function chainHasher(topic: string, partition: number): (prev: Buffer, seq: bigint, key: string, value: Buffer) => Buffer {
  const t = Buffer.from(topic, 'utf8');
  const where = Buffer.concat([u32(t.length), t, u32(partition)]);
  // One input buffer, reused and grown as needed, hashed in one call: a Hash object per record cost
  // more than the hashing itself.
  // Large records (their hashing dwarfs the object) stream through a Hash, so the scratch stays small.
  let scratch = Buffer.alloc(4096);
  const s8 = Buffer.alloc(8);
  return (prev, seq, key, value) => {
    const keyBytes = Buffer.byteLength(key, 'utf8');
    const size = 32 + 8 + where.length + 4 + keyBytes + 4 + value.length;
    if (size > SCRATCH_MAX) {
      s8.writeBigUInt64BE(seq);
      const k = Buffer.from(key, 'utf8');
      return createHash('sha256').update(prev).update(s8).update(where).update(u32(k.length)).update(k).update(u32(value.length)).update(value).digest();
    }
    if (size > scratch.length) scratch = Buffer.alloc(Math.min(SCRATCH_MAX, Math.max(size, scratch.length * 2)));
    prev.copy(scratch, 0);
    scratch.writeBigUInt64BE(seq, 32);
    let at = 40 + where.copy(scratch, 40);
    at = scratch.writeUInt32BE(keyBytes, at);
    at += scratch.write(key, at, 'utf8');
    at = scratch.writeUInt32BE(value.length, at);
    at += value.copy(scratch, at);
    return hash('sha256', scratch.subarray(0, at), 'buffer');
  };
}

/** The link that follows `head` (undefined = empty partition) for a record with this content. */
export function nextLink(head: ChainHead | undefined, topic: string, partition: number, key: string, value: Buffer): ChainHead {
  const seq = head ? head.seq + 1n : 0n;
  return { seq, hash: chainHash(head?.hash ?? GENESIS_HASH, seq, topic, partition, key, value) };
}

export function linkHeaders(link: ChainHead): Record<string, Buffer> {
  return { [SEQ_HEADER]: Buffer.from(link.seq.toString(), 'ascii'), [HASH_HEADER]: link.hash };
}

/** The link a record's headers claim, or a sentence saying why there is none. */
export function parseLinkHeaders(headers: Record<string, Buffer | undefined>): ChainHead | string {
  const seq = headers[SEQ_HEADER];
  const hash = headers[HASH_HEADER];
  if (!seq || !hash) return `no ${SEQ_HEADER}/${HASH_HEADER} headers`;
  const text = seq.toString('ascii');
  if (!/^(0|[1-9]\d{0,18})$/.test(text)) return `malformed ${SEQ_HEADER} header`;
  if (hash.length !== 32) return `malformed ${HASH_HEADER} header (${hash.length} bytes)`;
  return { seq: BigInt(text), hash };
}

// ---------------------------------------------------------------------------------------------------------
// Verification of one partition.

export type FindingKind = 'altered' | 'injected' | 'removed' | 'reordered' | 'prefix-deleted' | 'config' | 'anchor' | 'staged' | 'checkpoint';

export interface Finding {
  kind: FindingKind;
  topic: string;
  /** Absent for topic-wide findings (configuration). */
  partition?: number;
  /** Kafka offset of the record concerned (absent for configuration and anchor findings). */
  offset?: bigint;
  /** The table concerned (database.table as formatQualifiedName writes it), for findings about one table. */
  table?: string;
  message: string;
}

export interface ChainRecord {
  offset: bigint;
  key: string;
  value: Buffer;
  headers: Record<string, Buffer | undefined>;
}

/** How many recent links a verifier remembers to check records that turn up late (reordered) or twice. */
const RECENT_LINKS = 10_000;
const RING = BigInt(RECENT_LINKS);

interface PendingMismatch {
  offset: bigint;
  claimed: ChainHead;
  /** The head the mismatching record should have extended. */
  before: ChainHead | undefined;
}

/**
 * Walks one partition's committed records in offset order and reports every break of its chain.
 *
 * Kafka offsets of committed records are NOT contiguous: every Kafka transaction ends with a control record
 * (commit/abort marker) that takes an offset, and aborted batches keep theirs but are invisible to read_committed
 * readers. So a hole in the offsets proves nothing. The per-partition sequence number is what does: capture
 * numbers every committed record 0, 1, 2, ... inside the hash chain, so a removed record leaves a gap in the
 * sequence (and the next record's hash no longer chains), whatever the offsets look like.
 */
export class PartitionChainVerifier {
  readonly findings: Finding[] = [];
  /** Last link of the chain as verified so far. */
  head: ChainHead | undefined;
  /** Kafka offset of the head's record (what an anchor points `verify --since` at). */
  headOffset: bigint | undefined;
  /** Records seen. */
  records = 0;
  private firstSeen = false;
  private pending: PendingMismatch | undefined;
  /** Sequence ranges skipped so far: [from, to] inclusive, with the offset where the gap showed. */
  private gaps: Array<{ from: bigint; to: bigint; offset: bigint }> = [];
  /**
   * The last RECENT_LINKS links by seq, a ring (slot seq mod RECENT_LINKS) of copies: a hash read from Kafka is a
   * slice of its whole fetch response, and keeping slices would keep thousands of responses alive.
   */
  private readonly recentSeq = new BigInt64Array(RECENT_LINKS).fill(-1n);
  private readonly recentOffset = new BigInt64Array(RECENT_LINKS);
  private readonly recentHash = Buffer.alloc(RECENT_LINKS * 32);
  private readonly hash: (prev: Buffer, seq: bigint, key: string, value: Buffer) => Buffer;
  /** Stored hash of the record at each watched sequence number (for anchors). */
  readonly watched = new Map<bigint, Buffer>();

  constructor(
    readonly topic: string,
    readonly partition: number,
    /** Low watermark: > 0 means DeleteRecords removed the partition's beginning. */
    readonly lowWatermark: bigint,
    /** Checks a record's payload (pitr record of this source); returns a sentence when it is not. */
    private readonly checkPayload: (r: ChainRecord) => string | undefined = () => undefined,
    watch: Iterable<bigint> = [],
    /**
     * Incremental verify (`--since`): reading starts at the anchored record, at this offset with this seq,
     * which the run that made the anchor verified; the chain continues from its stored hash.
     */
    private readonly resume?: { seq: bigint; offset: bigint },
  ) {
    this.hash = chainHasher(topic, partition);
    for (const s of watch) this.watched.set(s, Buffer.alloc(0));
    if (resume) this.watched.set(resume.seq, Buffer.alloc(0));
  }

  private add(kind: FindingKind, offset: bigint | undefined, message: string): void {
    // One finding per record and kind: a forged record is often both foreign and off the chain.
    const last = this.findings.at(-1);
    if (offset !== undefined && last && last.offset === offset && last.kind === kind) return;
    this.findings.push({ kind, topic: this.topic, partition: this.partition, offset, message });
  }

  private remember(link: ChainHead, offset: bigint): void {
    const slot = Number(link.seq % RING);
    this.recentSeq[slot] = link.seq;
    this.recentOffset[slot] = offset;
    link.hash.copy(this.recentHash, slot * 32);
    if (this.watched.size === 0) return;
    const w = this.watched.get(link.seq);
    if (w !== undefined && w.length === 0) this.watched.set(link.seq, Buffer.from(link.hash));
  }

  private recentLink(seq: bigint): { hash: Buffer; offset: bigint } | undefined {
    const slot = Number(seq % RING);
    if (this.recentSeq[slot] !== seq) return undefined;
    return { hash: this.recentHash.subarray(slot * 32, slot * 32 + 32), offset: this.recentOffset[slot]! };
  }

  private accept(link: ChainHead, offset: bigint): void {
    this.head = link;
    this.headOffset = offset;
    this.remember(link, offset);
  }

  /** Resolves a hash mismatch seen on the previous record, now that its successor (or the end) is known. */
  private settle(next: { r: ChainRecord; link: ChainHead } | undefined): boolean {
    const p = this.pending;
    if (!p) return false;
    this.pending = undefined;
    if (next && next.link.seq === p.claimed.seq + 1n && this.hash(p.claimed.hash, next.link.seq, next.r.key, next.r.value).equals(next.link.hash)) {
      // The successor chains from the hash this record claims: that hash is the original and the content changed.
      this.add('altered', p.offset, `record seq ${p.claimed.seq} was altered: its content no longer matches its hash, which the next record chains from`);
      this.accept(p.claimed, p.offset);
      return false;
    }
    if (next && next.link.seq === p.claimed.seq && this.hash(p.before?.hash ?? GENESIS_HASH, next.link.seq, next.r.key, next.r.value).equals(next.link.hash)) {
      this.add('injected', p.offset, `forged record claims seq ${p.claimed.seq} but does not chain to the previous record; the genuine seq ${p.claimed.seq} follows it`);
      return false;
    }
    this.add('injected', p.offset, `record claims seq ${p.claimed.seq} but its hash does not chain to the previous record (forged, or altered together with what follows)`);
    // Continue from what it claims, so one bad record is reported once rather than breaking every later link.
    this.accept(p.claimed, p.offset);
    return false;
  }

  push(r: ChainRecord): void {
    this.records++;
    const parsed = parseLinkHeaders(r.headers);
    if (typeof parsed === 'string') {
      this.settle(undefined);
      this.add('injected', r.offset, `record has ${parsed}: it was not written by pitr capture`);
      return;
    }
    const link = parsed;
    if (this.pending) this.settle({ r, link });
    // A payload that is not this source's pitr record is reported, but its link still counts in the chain (it
    // took a seq), so one foreign record is not also reported as a removal.
    const payload = this.checkPayload(r);
    if (payload) this.add('injected', r.offset, payload);
    if (!this.firstSeen && this.resume) {
      this.firstSeen = true;
      if (link.seq !== this.resume.seq || r.offset !== this.resume.offset) {
        this.add('anchor', r.offset, `the anchored record (seq ${this.resume.seq} at offset ${this.resume.offset}) is not where the anchor says: the first record from there is seq ${link.seq} at offset ${r.offset}; the log was rewritten`);
      }
      this.accept(link, r.offset);
      return;
    }
    if (!this.firstSeen) {
      this.firstSeen = true;
      if (link.seq !== 0n) {
        const low = this.lowWatermark > 0n ? ` (low watermark ${this.lowWatermark}: DeleteRecords ran)` : '';
        const gone = link.seq === 1n ? 'record 0 is gone' : `records 0..${link.seq - 1n} are gone`;
        this.add('prefix-deleted', r.offset, `the partition's first record has seq ${link.seq}: ${gone}${low}`);
        this.accept(link, r.offset);
        return;
      }
      if (this.lowWatermark > 0n) {
        this.add('prefix-deleted', r.offset, `low watermark is ${this.lowWatermark}: records before it were deleted (DeleteRecords)`);
      }
    }
    const expected = this.head ? this.head.seq + 1n : 0n;
    if (link.seq === expected) {
      const want = this.hash(this.head?.hash ?? GENESIS_HASH, link.seq, r.key, r.value);
      if (want.equals(link.hash)) {
        this.accept(link, r.offset);
      } else {
        this.pending = { offset: r.offset, claimed: link, before: this.head };
      }
      return;
    }
    if (link.seq > expected) {
      this.gaps.push({ from: expected, to: link.seq - 1n, offset: r.offset });
      // Continue from this record's own link: the records in between are unknown, its predecessor's hash too.
      this.accept(link, r.offset);
      return;
    }
    // link.seq < expected: either a record that belongs earlier (reordered) or a second record with a used seq.
    const gap = this.gaps.findIndex((g) => link.seq >= g.from && link.seq <= g.to);
    if (gap >= 0) {
      const g = this.gaps[gap]!;
      const parts = [];
      if (g.from < link.seq) parts.push({ from: g.from, to: link.seq - 1n, offset: g.offset });
      if (link.seq < g.to) parts.push({ from: link.seq + 1n, to: g.to, offset: g.offset });
      this.gaps.splice(gap, 1, ...parts);
      const prev = link.seq === 0n ? { hash: GENESIS_HASH } : this.recentLink(link.seq - 1n);
      const bad = prev && !this.hash(prev.hash, link.seq, r.key, r.value).equals(link.hash);
      this.add('reordered', r.offset, `record seq ${link.seq} comes after seq ${this.head?.seq ?? 0n}: the partition's order was changed${bad ? ', and its hash does not chain either' : ''}`);
      this.remember(link, r.offset);
      return;
    }
    const seen = this.recentLink(link.seq);
    const where = seen ? ` (already at offset ${seen.offset})` : '';
    this.add('injected', r.offset, `a second record claims seq ${link.seq}${where}`);
  }

  /** Call once after the last record: reports what could only be decided at the end. */
  finish(): Finding[] {
    this.settle(undefined);
    if (!this.firstSeen && this.resume) {
      this.add('anchor', this.resume.offset, `the anchored record (seq ${this.resume.seq} at offset ${this.resume.offset}) is no longer in the partition: the log was rewritten or truncated`);
    } else if (!this.firstSeen && this.lowWatermark > 0n) {
      this.add('prefix-deleted', this.lowWatermark, `low watermark is ${this.lowWatermark} and no chained record remains: the partition's records were deleted`);
    }
    for (const g of this.gaps) {
      const what = g.from === g.to ? `seq ${g.from} is` : `seq ${g.from}..${g.to} (${g.to - g.from + 1n} records) are`;
      this.add('removed', g.offset, `${what} missing before this record: records were removed`);
    }
    this.gaps = [];
    return this.findings;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Anchors: a short digest of every partition's chain head that a custodian stores elsewhere; a later log
// "extends" it when each partition's chain still passes through the anchored (seq, hash).

const ANCHOR_PREFIX = 'pitr1-';
/** Bytes of each partition's hash kept in the clear, only to name the partition that diverged. */
const HINT_BYTES = 4;

export interface AnchorTopic {
  topic: string;
  /** Per partition 0..n-1: the head link, or undefined for a partition without records. */
  heads: Array<ChainHead | undefined>;
  /** Per partition: Kafka offset of the head record (where `verify --since` starts reading). */
  offsets?: Array<bigint | undefined>;
}

export interface DecodedAnchor {
  /**
   * Per topic (in the order given when encoding): anchored seq per partition (undefined = empty), and the
   * Kafka offset of the anchored record when the anchor carries offsets (anchors printed before `--since`
   * existed do not).
   */
  topics: Array<{ seqs: Array<bigint | undefined>; hints: Array<Buffer | undefined>; offsets?: Array<bigint | undefined> }>;
  digest: Buffer;
}

function writeVarint(out: number[], v: bigint): void {
  let x = v;
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
}

function readVarint(buf: Buffer, at: { i: number }): bigint {
  let v = 0n;
  let shift = 0n;
  for (;;) {
    if (at.i >= buf.length || shift > 63n) throw new UsageError('the anchor digest is truncated or malformed.');
    const b = buf[at.i++]!;
    v |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
    shift += 7n;
  }
}

/** sha256 over the topic names and every partition's (seq, full hash): what --expect must reproduce. */
function anchorDigest(topics: Array<{ topic: string; links: Array<ChainHead | undefined> }>): Buffer {
  const h = createHash('sha256').update('pitr-anchor-v1');
  for (const t of topics) {
    const name = Buffer.from(t.topic, 'utf8');
    h.update(u32(name.length)).update(name).update(u32(t.links.length));
    for (const l of t.links) {
      const s = Buffer.alloc(8);
      if (l) s.writeBigUInt64BE(l.seq + 1n);
      h.update(s);
      if (l) h.update(l.hash);
    }
  }
  return h.digest();
}

/** One short string (about 100 characters for a 6-partition log): seqs, short hints, and a full sha256. */
export function encodeAnchor(topics: AnchorTopic[]): string {
  const out: number[] = [];
  writeVarint(out, BigInt(topics.length));
  for (const t of topics) {
    writeVarint(out, BigInt(t.heads.length));
    for (const h of t.heads) {
      writeVarint(out, h ? h.seq + 1n : 0n);
      if (h) out.push(...h.hash.subarray(0, HINT_BYTES));
    }
  }
  // Offsets of the anchored records, one per anchored partition, after the links and before the digest:
  // locators only (the digest covers seqs and hashes, so a wrong offset finds a record that does not
  // match); an anchor without them decodes as before.
  if (topics.every((t) => t.offsets)) {
    for (const t of topics) t.heads.forEach((h, p) => h && writeVarint(out, t.offsets![p] ?? 0n));
  }
  const digest = anchorDigest(topics.map((t) => ({ topic: t.topic, links: t.heads })));
  return ANCHOR_PREFIX + Buffer.concat([Buffer.from(out), digest]).toString('base64url');
}

export function decodeAnchor(text: string): DecodedAnchor {
  const s = text.trim();
  if (!s.startsWith(ANCHOR_PREFIX) || !/^[A-Za-z0-9_-]+$/.test(s.slice(ANCHOR_PREFIX.length))) {
    throw new UsageError(`"${s.slice(0, 20)}" is not a pitr anchor (it starts with ${ANCHOR_PREFIX}, as printed by pitr verify --anchor).`);
  }
  const buf = Buffer.from(s.slice(ANCHOR_PREFIX.length), 'base64url');
  const at = { i: 0 };
  const n = Number(readVarint(buf, at));
  if (n > 64) throw new UsageError('the anchor digest is truncated or malformed.');
  const topics: DecodedAnchor['topics'] = [];
  for (let t = 0; t < n; t++) {
    const parts = Number(readVarint(buf, at));
    if (parts > 100_000) throw new UsageError('the anchor digest is truncated or malformed.');
    const seqs: Array<bigint | undefined> = [];
    const hints: Array<Buffer | undefined> = [];
    for (let p = 0; p < parts; p++) {
      const v = readVarint(buf, at);
      if (v === 0n) {
        seqs.push(undefined);
        hints.push(undefined);
      } else {
        if (at.i + HINT_BYTES > buf.length) throw new UsageError('the anchor digest is truncated or malformed.');
        seqs.push(v - 1n);
        hints.push(buf.subarray(at.i, at.i + HINT_BYTES));
        at.i += HINT_BYTES;
      }
    }
    topics.push({ seqs, hints });
  }
  if (buf.length - at.i > 32) {
    for (const t of topics) t.offsets = t.seqs.map((seq) => (seq === undefined ? undefined : readVarint(buf, at)));
  }
  if (buf.length - at.i !== 32) throw new UsageError('the anchor digest is truncated or malformed.');
  return { topics, digest: buf.subarray(at.i) };
}

/**
 * Whether the links found now at the anchored seqs reproduce the anchor: one sentence per problem, empty when
 * the log extends the anchored state. `found[t][p]` is the hash now stored at the anchored seq (undefined when
 * that seq is no longer in the partition).
 */
export function checkAnchor(
  anchor: DecodedAnchor,
  current: Array<{ topic: string; partitions: number; found: Array<Buffer | undefined> }>,
): Array<{ topic: string; partition?: number; message: string }> {
  const problems: Array<{ topic: string; partition?: number; message: string }> = [];
  if (anchor.topics.length !== current.length) {
    return [{ topic: current[0]?.topic ?? '?', message: `the anchor covers ${anchor.topics.length} topics, the log has ${current.length}` }];
  }
  const links: Array<{ topic: string; links: Array<ChainHead | undefined> }> = [];
  anchor.topics.forEach((a, t) => {
    const c = current[t]!;
    if (a.seqs.length !== c.partitions) {
      problems.push({ topic: c.topic, message: `the anchor covers ${a.seqs.length} partitions, the topic now has ${c.partitions}` });
    }
    const tl: Array<ChainHead | undefined> = [];
    a.seqs.forEach((seq, p) => {
      if (seq === undefined) {
        tl.push(undefined);
        return;
      }
      const hash = c.found[p];
      if (!hash || hash.length === 0) {
        problems.push({ topic: c.topic, partition: p, message: `the anchored record seq ${seq} is no longer in the partition` });
        tl.push({ seq, hash: Buffer.alloc(32) });
        return;
      }
      if (!hash.subarray(0, HINT_BYTES).equals(a.hints[p]!)) {
        problems.push({ topic: c.topic, partition: p, message: `the record at anchored seq ${seq} has a different hash: the chain was rewritten` });
      }
      tl.push({ seq, hash });
    });
    links.push({ topic: c.topic, links: tl });
  });
  if (problems.length === 0 && !anchorDigest(links).equals(anchor.digest)) {
    problems.push({ topic: current[0]?.topic ?? '?', message: 'the chain heads do not reproduce the anchor digest: the log does not extend the anchored state (or the digest was mistyped)' });
  }
  return problems;
}
