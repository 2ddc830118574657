// Folds the meta topic (snapshots, DDL, transaction index) into what capture and restore need:
// the resume point, the coverage window, the commit-order index of transactions, the DDL history.
// Pure: records in, state out.
import type { CoverageEndMsg, DdlMsg, GapMsg, PositionMsg, RecordMsg, RecordSpanMsg, SnapshotBeginMsg, SnapshotEndMsg } from './record-types.js';
import { fromPositionMsg, toBigInt, toNumber } from './record-codec.js';
import { comparePositions, type Position } from '../core/position.js';
import type { Gtid } from '../core/gtid.js';

export interface SnapshotInfo {
  id: string;
  begin: SnapshotBeginMsg;
  position: Position;
  end?: SnapshotEndMsg;
}

export interface DdlEntry {
  ddl: DdlMsg;
  position: Position;
}

export interface ResumeState {
  binlogFile: string;
  position: Position;
  gtidPos: string;
  time: number;
  sourceServer: string;
  tableFilter: string;
}

/** Where a staged transaction committed: what its TxnIndex entry says (its chunks carry none of it). */
export interface StagedCommit {
  position: Position;
  commitTime: number;
  gtid: Gtid;
  rowChanges: number;
  records: number;
}

export interface GapInfo {
  gap: GapMsg;
  /** Last position the log holds before the gap. */
  after: Position;
}

export interface CoverageEndInfo {
  end: CoverageEndMsg;
  /** Last position the log holds changes of `end.tables` at. */
  after: Position;
}

/** One span of the table index (see table-index.ts) with the commit range of the records it holds. */
export interface IndexedSpan {
  partition: number;
  first: bigint;
  last: bigint;
  records: number;
  bytes: number;
  /** Snapshot rows: the snapshot's id. */
  snapshotId?: string;
  /** Row changes: first and last transaction of the TxnIndex that wrote the span. */
  from?: Position;
  to?: Position;
}

/** A stretch of source time every cut inside of which the log can restore. */
export interface CoverageWindow {
  from: number;
  to: number;
}

export class MetaState {
  readonly snapshots: SnapshotInfo[] = [];
  readonly ddl: DdlEntry[] = [];
  // Transaction index in commit order (parallel arrays).
  readonly txnFile: number[] = [];
  readonly txnPos: number[] = [];
  readonly txnTime: number[] = [];
  readonly txnDomain: number[] = [];
  readonly txnServer: number[] = [];
  readonly txnSeq: bigint[] = [];
  readonly txnEpoch: number[] = [];
  readonly gaps: GapInfo[] = [];
  /** Committed staged transactions by staged id. */
  readonly staged = new Map<string, StagedCommit>();
  /** Tables capture stopped capturing (capture --narrow), in log order. */
  readonly coverageEnds: CoverageEndInfo[] = [];
  /** The table index by Kafka key (db.table), in log order. */
  readonly spans = new Map<string, IndexedSpan[]>();
  /** Transactions listed by a TxnIndex without a complete table index (captures before the index): first and last. */
  readonly unindexed: { from: Position; to: Position }[] = [];
  /** Snapshots whose SnapshotEnd carries a complete table index. */
  readonly indexedSnapshots = new Set<string>();
  resume: ResumeState | undefined;
  /** Latest source time up to which every commit is in the log. */
  coveredUntil = 0;
  records = 0;

  add(rec: RecordMsg): void {
    this.records++;
    if (rec.snapshotBegin) {
      const b = rec.snapshotBegin;
      this.snapshots.push({ id: b.snapshotId, begin: b, position: fromPositionMsg(b.position) });
    } else if (rec.snapshotEnd) {
      const s = this.snapshots.find((x) => x.id === rec.snapshotEnd!.snapshotId);
      if (s) {
        s.end = rec.snapshotEnd;
        if (rec.snapshotEnd.indexed) {
          this.indexedSnapshots.add(s.id);
          for (const sp of rec.snapshotEnd.spans ?? []) this.addSpan(sp, { snapshotId: s.id });
        }
        // Only a complete snapshot extends what the log covers.
        this.coveredUntil = Math.max(this.coveredUntil, s.begin.time);
      }
    } else if (rec.gap) {
      this.gaps.push({ gap: rec.gap, after: fromPositionMsg(rec.gap.after) });
    } else if (rec.coverageEnd) {
      this.coverageEnds.push({ end: rec.coverageEnd, after: fromPositionMsg(rec.coverageEnd.after) });
    } else if (rec.ddl) {
      this.ddl.push({ ddl: rec.ddl, position: fromPositionMsg(rec.ddl.position) });
    } else if (rec.txnIndex) {
      const t = rec.txnIndex;
      const base = this.txnFile.length;
      for (let i = 0; i < t.fileSeq.length; i++) {
        this.txnFile.push(t.fileSeq[i]!);
        this.txnPos.push(toNumber(t.endPos[i]));
        this.txnTime.push(t.commitTime[i]!);
        this.txnDomain.push(t.domain[i]!);
        this.txnServer.push(t.serverId[i]!);
        this.txnSeq.push(toBigInt(t.seq[i]));
        this.txnEpoch.push(t.epoch ?? 0);
        if (t.commitTime[i]! > this.coveredUntil) this.coveredUntil = t.commitTime[i]!;
      }
      if (t.fileSeq.length) {
        const range = { from: this.txnPosition(base), to: this.txnPosition(this.txnFile.length - 1) };
        // A meta image's merged TxnIndex says which of its transactions each span was written for.
        const first = t.spanFirstTxn ?? [];
        const last = t.spanLastTxn ?? [];
        if (t.indexed) {
          (t.spans ?? []).forEach((sp, k) =>
            this.addSpan(sp, k < first.length ? { from: this.txnPosition(base + first[k]!), to: this.txnPosition(base + last[k]!) } : range),
          );
        }
        else this.unindexed.push(range);
      }
      for (const st of t.staged ?? []) {
        const i = base + st.txn;
        this.staged.set(st.id, {
          position: this.txnPosition(i),
          commitTime: this.txnTime[i]!,
          gtid: { domain: this.txnDomain[i]!, serverId: this.txnServer[i]!, seq: this.txnSeq[i]! },
          rowChanges: toNumber(st.rowChanges),
          records: st.records,
        });
      }
      this.resume = {
        binlogFile: t.binlogFile,
        position: fromPositionMsg(t.resume),
        gtidPos: t.gtidPos,
        time: t.time,
        sourceServer: t.sourceServer ?? '',
        tableFilter: t.tableFilter ?? '',
      };
      if (t.time > this.coveredUntil) this.coveredUntil = t.time;
    }
  }

  private addSpan(sp: RecordSpanMsg, where: Pick<IndexedSpan, 'snapshotId' | 'from' | 'to'>): void {
    let list = this.spans.get(sp.key);
    if (!list) this.spans.set(sp.key, (list = []));
    list.push({ partition: sp.partition, first: toBigInt(sp.first), last: toBigInt(sp.last), records: sp.records ?? 0, bytes: toNumber(sp.bytes ?? 0), ...where });
  }

  /**
   * The table index's spans of the wanted keys' records: snapshot rows of the given snapshots, and
   * row changes of the transactions a `needed` commit range (first..last transaction of a TxnIndex)
   * says the reader wants. Undefined when part of what it needs is not indexed (captures before the
   * index): the reader then reads whole partitions.
   */
  spansFor(
    snapshots: string[],
    needed: (range: { from: Position; to: Position }) => boolean,
    wantedKey: (key: string) => boolean,
  ): IndexedSpan[] | undefined {
    if (!snapshots.every((id) => this.indexedSnapshots.has(id))) return undefined;
    if (this.unindexed.some(needed)) return undefined;
    const out: IndexedSpan[] = [];
    for (const [key, spans] of this.spans) {
      if (!wantedKey(key)) continue;
      for (const s of spans) if (s.snapshotId !== undefined ? snapshots.includes(s.snapshotId) : needed({ from: s.from!, to: s.to! })) out.push(s);
    }
    return out;
  }

  get txnCount(): number {
    return this.txnFile.length;
  }

  txnPosition(i: number): Position {
    const epoch = this.txnEpoch[i] ?? 0;
    return epoch ? { epoch, fileSeq: this.txnFile[i]!, endPos: this.txnPos[i]! } : { fileSeq: this.txnFile[i]!, endPos: this.txnPos[i]! };
  }

  /**
   * The stretches of time the log can restore: from the first complete snapshot to the first gap,
   * then from the first complete snapshot after each gap to the next gap or the end.
   */
  coverageWindows(): CoverageWindow[] {
    const snaps = this.completeSnapshots();
    if (!snaps.length) return [];
    const out: CoverageWindow[] = [];
    let from: number | undefined = snaps[0]!.begin.time;
    let startPos = snaps[0]!.position;
    for (const g of this.gaps) {
      if (comparePositions(g.after, startPos) < 0) continue;
      if (from !== undefined) out.push({ from, to: g.gap.afterTime });
      const next = snaps.find((s) => comparePositions(s.position, g.after) > 0);
      if (!next) {
        from = undefined;
        break;
      }
      from = next.begin.time;
      startPos = next.position;
    }
    if (from !== undefined) out.push({ from, to: Math.max(from, this.coveredUntil) });
    return out;
  }

  /**
   * Where a ChangeBatch belongs in commit order: its own position, or for a staged chunk the
   * position its commit marker gives; undefined for a chunk no TxnIndex (read so far) commits.
   */
  batchCommit(b: { stagedTxn?: string; position?: PositionMsg | null; commitTime?: number }): { position: Position; commitTime: number } | undefined {
    if (!b.stagedTxn) return { position: fromPositionMsg(b.position), commitTime: b.commitTime ?? 0 };
    return this.staged.get(b.stagedTxn);
  }

  /** Index of the transaction with this GTID, or -1. */
  findGtid(g: Gtid): number {
    for (let i = 0; i < this.txnSeq.length; i++) {
      if (this.txnSeq[i] === g.seq && this.txnDomain[i] === g.domain && this.txnServer[i] === g.serverId) return i;
    }
    return -1;
  }

  /** Complete full snapshots (the bases a restore starts from). */
  completeSnapshots(): SnapshotInfo[] {
    return this.snapshots.filter((s) => s.end && !s.begin.partial);
  }

  /** Complete snapshots of tables added to capture's filter later (see SnapshotBegin.partial). */
  partialSnapshots(): SnapshotInfo[] {
    return this.snapshots.filter((s) => s.end && s.begin.partial);
  }

  /** The last position the log covers: the resume point, else the newest complete snapshot's. */
  endPosition(): Position | undefined {
    if (this.resume) return this.resume.position;
    const snaps = this.completeSnapshots();
    return snaps.length ? snaps[snaps.length - 1]!.position : undefined;
  }

  /** Incomplete snapshots whose rows readers must ignore. */
  isCompleteSnapshot(id: string): boolean {
    return this.snapshots.some((s) => s.id === id && s.end);
  }

  /** DDL entries with after < position <= upTo (upTo inclusive). */
  ddlBetween(after: Position, upTo: Position, inclusive = true): DdlEntry[] {
    return this.ddl.filter((d) => {
      const a = comparePositions(d.position, after) > 0;
      const c = comparePositions(d.position, upTo);
      return a && (inclusive ? c <= 0 : c < 0);
    });
  }
}
