// Guard's saved state (pure): what it knows about the tables (TableTracker) at a position of the log where
// nothing was in flight, and, per partition, the chain link of the last record read before that position. A
// restart reads on from there; the first record it reads on each partition must be that record, with that
// link, or the log was rewritten since and the state is dropped (the log is read from its start instead).
import type { ChainHead } from '../log/integrity-chain.js';
import type { TrackerState } from './table-tracker.js';

export const GUARD_STATE_VERSION = 1;

export interface PartitionMark {
  /** Next offset to read. */
  next: bigint;
  /** The last chained record read before `next`, if any. */
  check?: { offset: bigint; link: ChainHead };
}

export interface GuardState {
  sourceId: string;
  meta: PartitionMark;
  changes: Map<number, PartitionMark>;
  tracker: TrackerState;
  binlogBasename?: string;
  /** Transactions examined from the log's start up to this state. */
  transactions: number;
  /** Every source server identity the log recorded up to this state (the copies must never go there). */
  sourceServers: string[];
}

interface StoredMark {
  next: string;
  check?: { offset: string; seq: string; hash: string };
}

const storeMark = (m: PartitionMark): StoredMark => ({
  next: m.next.toString(),
  ...(m.check ? { check: { offset: m.check.offset.toString(), seq: m.check.link.seq.toString(), hash: m.check.link.hash.toString('hex') } } : {}),
});
const loadMark = (m: StoredMark): PartitionMark => ({
  next: BigInt(m.next),
  ...(m.check ? { check: { offset: BigInt(m.check.offset), link: { seq: BigInt(m.check.seq), hash: Buffer.from(m.check.hash, 'hex') } } } : {}),
});

export function encodeGuardState(s: GuardState): string {
  return JSON.stringify({
    version: GUARD_STATE_VERSION,
    sourceId: s.sourceId,
    meta: storeMark(s.meta),
    changes: [...s.changes].map(([p, m]) => [p, storeMark(m)]),
    tracker: s.tracker,
    binlogBasename: s.binlogBasename,
    transactions: s.transactions,
    sourceServers: s.sourceServers,
  });
}

/** The state, or a sentence saying why it cannot be used (another version, another source, unreadable). */
export function decodeGuardState(text: string, sourceId: string): GuardState | string {
  let j: { version?: number; sourceId?: string; meta?: StoredMark; changes?: Array<[number, StoredMark]>; tracker?: TrackerState; binlogBasename?: string; transactions?: number; sourceServers?: string[] };
  try {
    j = JSON.parse(text);
  } catch {
    return 'the saved state is not JSON';
  }
  if (j.version !== GUARD_STATE_VERSION) return `the saved state has version ${j.version}, this guard writes ${GUARD_STATE_VERSION}`;
  if (j.sourceId !== sourceId) return `the saved state belongs to source "${j.sourceId}"`;
  if (!j.meta || !Array.isArray(j.changes) || !j.tracker ) return 'the saved state is incomplete';
  try {
    return {
      sourceId,
      meta: loadMark(j.meta),
      changes: new Map(j.changes.map(([p, m]) => [p, loadMark(m)])),
      tracker: j.tracker,
      binlogBasename: j.binlogBasename,
      transactions: j.transactions ?? 0,
      sourceServers: Array.isArray(j.sourceServers) ? j.sourceServers : [],
    };
  } catch {
    return 'the saved state holds malformed offsets';
  }
}

/** Where to start reading a partition from a mark: at its check record (read again, to compare), else at next. */
export const resumeOffset = (m: PartitionMark): bigint => m.check?.offset ?? m.next;

/**
 * The checks of a resumed start: each partition's first record read must be its mark's check record. Returns
 * undefined when the batch passes (or the partition has no check, or passed before), else why it does not.
 */
export class ResumeCheck {
  private readonly open = new Map<string, PartitionMark>();

  constructor(marks: Array<{ topic: string; partition: number; mark: PartitionMark }>) {
    for (const m of marks) if (m.mark.check) this.open.set(`${m.topic}/${m.partition}`, m.mark);
  }

  get done(): boolean {
    return this.open.size === 0;
  }

  check(topic: string, partition: number, first: { offset: bigint; link?: ChainHead }): string | undefined {
    const k = `${topic}/${partition}`;
    const m = this.open.get(k);
    if (!m?.check) return undefined;
    this.open.delete(k);
    const c = m.check;
    if (first.offset !== c.offset) return `${k}: the record guard read last (offset ${c.offset}) is not there; the first record is at offset ${first.offset}`;
    if (!first.link || first.link.seq !== c.link.seq || !first.link.hash.equals(c.link.hash)) {
      return `${k}@${c.offset}: the record guard read last has another chain link now (seq ${first.link?.seq ?? 'none'}, was ${c.link.seq})`;
    }
    return undefined;
  }
}
