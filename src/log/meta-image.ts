// Meta images: the meta topic's records up to an offset, compacted so that a reader folds a few large
// records instead of every TxnIndex capture ever wrote (see MetaImage in log.proto). Runs of consecutive
// TxnIndex records merge into one; every other record is kept as it is, in order. Folding the image
// and then the later meta records gives the MetaState folding the whole topic gives. Pure.
import { createHash, type Hash } from 'node:crypto';
import { encodeRecord } from './record-codec.js';
import type { RecordMsg, RecordSpanMsg, StagedTxnMsg, TxnIndexMsg } from './record-types.js';

/** Transactions per merged TxnIndex (about 20 bytes each encoded: a record stays far below Kafka's limit). */
export const DEFAULT_IMAGE_MAX_TXNS = 20_000;

/** Spans per merged TxnIndex (about 30 bytes each). */
const MAX_SPANS = 20_000;

/** The run being merged: arrays of the TxnIndex records so far, and the fields of the last one. */
interface Run {
  head: RecordMsg;
  txn: TxnIndexMsg;
  spans: RecordSpanMsg[];
  spanFirst: number[];
  spanLast: number[];
  staged: StagedTxnMsg[];
  /** Whether any record of the run listed a transaction (then `txn.indexed` is theirs). */
  hasTxns: boolean;
}

/**
 * Builds a meta image record by record, in meta-topic order. The encoded records of finished runs are
 * hashed as they close: `digest()` and `records()` at any point give the image as if it ended there.
 */
export class MetaImageBuilder {
  private readonly done: Buffer[] = [];
  private readonly hash: Hash = createHash('sha256');
  private run: Run | undefined;
  /** Meta records added (what the image stands for). */
  metaRecords = 0;

  constructor(readonly maxTxns = DEFAULT_IMAGE_MAX_TXNS) {}

  add(rec: RecordMsg): void {
    this.metaRecords++;
    const t = rec.txnIndex;
    if (!t) {
      // Records the fold ignores (none today) would still be kept: the image does not judge them.
      this.close();
      this.push(encodeRecord(rec));
      return;
    }
    if (this.run && !this.fits(this.run, t)) this.close();
    if (!this.run) {
      this.run = { head: rec, txn: emptyTxnIndex(), spans: [], spanFirst: [], spanLast: [], staged: [], hasTxns: false };
    }
    this.merge(this.run, t);
  }

  /** The image's encoded records so far (the open run included). */
  records(): Buffer[] {
    const open = this.openRecord();
    return open ? [...this.done, open] : [...this.done];
  }

  /** sha256 of the image's encoded records so far, in order. */
  digest(): Buffer {
    const h = this.hash.copy();
    const open = this.openRecord();
    if (open) h.update(open);
    return h.digest();
  }

  /** Whether `t` may join the run: same generation and index kind, time not going back, within the bounds. */
  private fits(run: Run, t: TxnIndexMsg): boolean {
    const n = t.fileSeq.length;
    // Unindexed batches (captures before the table index) stay apart: the fold keeps one commit range per batch.
    if (n && run.hasTxns && (!t.indexed || !run.txn.indexed)) return false;
    if ((t.epoch ?? 0) !== (run.txn.epoch ?? 0) && (n || run.hasTxns)) return false;
    // The fold's resume time is the last record's, its coverage end the largest: one merged time serves both only if it never goes back.
    if (t.time < run.txn.time) return false;
    if (run.txn.fileSeq.length + n > this.maxTxns) return false;
    if (run.spans.length + (t.spans?.length ?? 0) > MAX_SPANS) return false;
    return true;
  }

  private merge(run: Run, t: TxnIndexMsg): void {
    const m = run.txn;
    const base = m.fileSeq.length;
    const n = t.fileSeq.length;
    for (let i = 0; i < n; i++) {
      m.fileSeq.push(t.fileSeq[i]!);
      m.endPos.push(t.endPos[i]!);
      m.commitTime.push(t.commitTime[i]!);
      m.domain.push(t.domain[i]!);
      m.serverId.push(t.serverId[i]!);
      m.seq.push(t.seq[i]!);
    }
    for (const st of t.staged ?? []) run.staged.push({ ...st, txn: st.txn + base });
    if (n) {
      if (!run.hasTxns) m.indexed = Boolean(t.indexed);
      run.hasTxns = true;
      const first = t.spanFirstTxn ?? [];
      const last = t.spanLastTxn ?? [];
      (t.spans ?? []).forEach((sp, k) => {
        run.spans.push(sp);
        run.spanFirst.push(base + (k < first.length ? first[k]! : 0));
        run.spanLast.push(base + (k < last.length ? last[k]! : n - 1));
      });
    }
    // What the fold takes from the last record: where capture resumes, and the batch's own fields.
    m.binlogFile = t.binlogFile;
    m.resume = t.resume;
    m.gtidPos = t.gtidPos;
    m.time = t.time;
    if (n || !run.hasTxns) m.epoch = t.epoch ?? 0;
    m.sourceServer = t.sourceServer ?? '';
    m.tableFilter = t.tableFilter ?? '';
  }

  private openRecord(): Buffer | undefined {
    const run = this.run;
    if (!run) return undefined;
    const txnIndex: TxnIndexMsg = { ...run.txn, staged: run.staged, spans: run.spans, spanFirstTxn: run.spanFirst, spanLastTxn: run.spanLast };
    if (!run.hasTxns) txnIndex.indexed = false;
    return encodeRecord({ version: run.head.version, sourceId: run.head.sourceId, txnIndex });
  }

  private close(): void {
    const open = this.openRecord();
    this.run = undefined;
    if (open) this.push(open);
  }

  private push(buf: Buffer): void {
    this.done.push(buf);
    this.hash.update(buf);
  }
}

function emptyTxnIndex(): TxnIndexMsg {
  return { fileSeq: [], endPos: [], commitTime: [], domain: [], serverId: [], seq: [], binlogFile: '', resume: { fileSeq: 0, endPos: 0 }, gtidPos: '', time: 0, epoch: 0 };
}

/** sha256 over encoded records in order (what a reader checks an image's parts against). */
export function imageDigest(records: Uint8Array[]): Buffer {
  const h = createHash('sha256');
  for (const r of records) h.update(r);
  return h.digest();
}
