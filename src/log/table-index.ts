// The table index: where each table's records sit on the changes topic. Capture collects the offsets
// its appends got into spans (SpanSet) and writes them with each TxnIndex and SnapshotEnd; readers
// turn the spans of the tables they need into offset ranges to fetch (readRanges). Pure.
import type { OutMessage } from './kafka-log.js';
import type { RecordSpanMsg } from './record-types.js';

/** Inclusive offset range of one partition. */
export interface OffsetRange {
  first: bigint;
  last: bigint;
}

/** Spans of records by key and partition, first..last offset each. */
export class SpanSet {
  private readonly spans = new Map<string, { key: string; partition: number; first: bigint; last: bigint; records: number; bytes: number }>();
  /** False once an append did not report an offset: the spans are then incomplete and must not be written as an index. */
  complete = true;

  /** Adds the records of `topic` among `msgs` at the offsets their append returned (same order). */
  addAppended(msgs: OutMessage[], offsets: bigint[], topic: string): this {
    for (let i = 0; i < msgs.length; i++) {
      const m = msgs[i]!;
      if (m.topic !== topic) continue;
      const off = offsets[i];
      if (off === undefined || off < 0n) {
        this.complete = false;
        continue;
      }
      const id = `${m.partition}\u0000${m.key}`;
      const s = this.spans.get(id);
      if (!s) this.spans.set(id, { key: m.key, partition: m.partition, first: off, last: off, records: 1, bytes: m.value.length });
      else {
        if (off < s.first) s.first = off;
        if (off > s.last) s.last = off;
        s.records++;
        s.bytes += m.value.length;
      }
    }
    return this;
  }

  /** Adds every span of `other` (a staged transaction's earlier chunks). */
  addAll(other: SpanSet): this {
    if (!other.complete) this.complete = false;
    for (const s of other.spans.values()) {
      const id = `${s.partition}\u0000${s.key}`;
      const t = this.spans.get(id);
      if (!t) this.spans.set(id, { ...s });
      else {
        if (s.first < t.first) t.first = s.first;
        if (s.last > t.last) t.last = s.last;
        t.records += s.records;
        t.bytes += s.bytes;
      }
    }
    return this;
  }

  /** The spans as written in TxnIndex / SnapshotEnd, or undefined when incomplete. */
  toMessages(): RecordSpanMsg[] | undefined {
    if (!this.complete) return undefined;
    return [...this.spans.values()].map((s) => ({
      key: s.key, partition: s.partition, first: s.first.toString(), last: s.last.toString(), records: s.records, bytes: s.bytes,
    }));
  }
}

/**
 * Bytes between two spans below which they are read as one range (the records between are fetched and
 * skipped by key): a fetch after a seek costs about a round trip, which reads about this much.
 */
export const MERGE_GAP_BYTES = 1 << 20;

/** Average record size per partition from the spans of every key (what a gap of N offsets weighs). */
export function averageRecordBytes(spans: Iterable<{ partition: number; records?: number; bytes?: number }>): Map<number, number> {
  const sums = new Map<number, { records: number; bytes: number }>();
  for (const s of spans) {
    if (!s.records) continue;
    let t = sums.get(s.partition);
    if (!t) sums.set(s.partition, (t = { records: 0, bytes: 0 }));
    t.records += s.records;
    t.bytes += s.bytes ?? 0;
  }
  return new Map([...sums].map(([p, t]) => [p, t.bytes / t.records]));
}

/**
 * Offset ranges per partition holding every record of the given spans, from `from` on (a checkpoint's
 * bound offset): sorted, overlapping spans merged, and spans merged across gaps that weigh less than
 * MERGE_GAP_BYTES at the partition's average record size (`avgBytes`, default: gaps never merged).
 */
export function readRanges(
  spans: Iterable<{ partition: number; first: bigint; last: bigint }>,
  from?: Map<number, bigint>,
  avgBytes?: Map<number, number>,
): Map<number, OffsetRange[]> {
  const byPart = new Map<number, OffsetRange[]>();
  for (const s of spans) {
    const start = from?.get(s.partition);
    const first = start !== undefined && start > s.first ? start : s.first;
    if (first > s.last) continue;
    let list = byPart.get(s.partition);
    if (!list) byPart.set(s.partition, (list = []));
    list.push({ first, last: s.last });
  }
  for (const [p, list] of byPart) {
    const avg = avgBytes?.get(p);
    const gap = avg ? BigInt(Math.floor(MERGE_GAP_BYTES / Math.max(avg, 1))) : 0n;
    list.sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
    const merged: OffsetRange[] = [];
    for (const r of list) {
      const cur = merged.at(-1);
      if (cur && r.first <= cur.last + 1n + gap) {
        if (r.last > cur.last) cur.last = r.last;
      } else merged.push({ ...r });
    }
    byPart.set(p, merged);
  }
  return byPart;
}

/** Offsets the ranges cover (for progress). */
export function rangeSize(ranges: OffsetRange[]): number {
  return ranges.reduce((n, r) => n + Number(r.last - r.first + 1n), 0);
}
