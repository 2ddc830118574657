// Puts the two topics of a log back into commit order for guard: meta records (DDL, snapshots,
// transaction index) arrive on one partition, row changes on N others, each at its own pace.
// A TxnIndex's transactions are released only once every changes partition is known to hold no
// more of their records (a later position was seen there, or the partition was read up to its end
// as measured after the index was seen), with each transaction's row changes counted per table.
// A staged transaction's chunks (log.proto) are counted under their staged id until the TxnIndex
// that commits them is released; chunks of an attempt that never committed are dropped once the
// same GTID commits. Counting keeps memory in O(tables per transaction), whatever its size.
// Pure: records in, ordered items out.
import { comparePositions, type Position } from '../core/position.js';
import { tableId } from '../core/table-name.js';
import type { Gtid } from '../core/gtid.js';
import { fromPositionMsg, toBigInt, toNumber } from '../log/record-codec.js';
import { Op, type ChangeBatchMsg, type DdlMsg, type RecordMsg, type SnapshotBeginMsg, type SnapshotEndMsg, type TxnIndexMsg } from '../log/record-types.js';

export interface TableAgg {
  database: string;
  table: string;
  inserts: number;
  updates: number;
  deletes: number;
  /** Of the deletes and updates, those run with foreign_key_checks=0 (no referential action followed them); unset when none. */
  uncheckedDeletes?: number;
  uncheckedUpdates?: number;
}

/** One source transaction, complete: its DDL and its row changes counted per table. */
export interface TxnUnit {
  gtid: Gtid;
  position: Position;
  commitTime: number;
  ddl: DdlMsg[];
  tables: TableAgg[];
  /** Meta offset of the TxnIndex record that lists it. */
  indexOffset: bigint;
}

export type SequencedItem =
  | { kind: 'snapshotBegin'; msg: SnapshotBeginMsg }
  | { kind: 'snapshotEnd'; msg: SnapshotEndMsg }
  | { kind: 'txn'; txn: TxnUnit }
  /** Every transaction of the TxnIndex at this meta offset has been released. */
  | { kind: 'indexDone'; offset: bigint; txns: number };

type Queued =
  | { kind: 'snapshotBegin'; msg: SnapshotBeginMsg }
  | { kind: 'snapshotEnd'; msg: SnapshotEndMsg }
  | { kind: 'index'; offset: bigint; msg: TxnIndexMsg; horizon: Position | undefined; ends?: Map<number, bigint> };

const posKey = (p: Position): string => `${p.fileSeq}:${p.endPos}`;
const stagedKey = (id: string): string => `staged:${id}`;
const gtidKey = (g: { domain: number; serverId: number; seq: unknown }): string => `${g.domain}-${g.serverId}-${String(g.seq)}`;

interface PendingAgg extends TableAgg {
  partition: number;
  /** Offset of the first record of this transaction for this table. */
  offset: bigint;
}

export class LogSequencer {
  private readonly queue: Queued[] = [];
  private readonly ddl = new Map<string, DdlMsg[]>();
  private readonly aggs = new Map<string, Map<string, PendingAgg>>();
  private readonly reached = new Map<number, bigint>();
  private readonly maxPos = new Map<number, Position>();
  /** GTID of every staged id counted and not yet released (to drop abandoned attempts). */
  private readonly stagedGtid = new Map<string, string>();
  private metaNext = -1n;

  /** @param starts each changes partition with the offset reading starts at */
  constructor(starts: Map<number, bigint>, metaStart: bigint) {
    for (const [p, o] of starts) this.reached.set(p, o);
    this.metaNext = metaStart;
  }

  /** Next meta offset to read. */
  get metaReached(): bigint {
    return this.metaNext;
  }

  reachedOf(p: number): bigint {
    return this.reached.get(p) ?? 0n;
  }

  addMeta(offset: bigint, rec: RecordMsg): void {
    if (offset < this.metaNext) return; // seen before (a consumer rebalance replays)
    this.metaNext = offset + 1n;
    if (rec.ddl) {
      const k = posKey(fromPositionMsg(rec.ddl.position));
      const list = this.ddl.get(k);
      if (list) list.push(rec.ddl);
      else this.ddl.set(k, [rec.ddl]);
    } else if (rec.snapshotBegin) this.queue.push({ kind: 'snapshotBegin', msg: rec.snapshotBegin });
    else if (rec.snapshotEnd) this.queue.push({ kind: 'snapshotEnd', msg: rec.snapshotEnd });
    else if (rec.txnIndex) {
      const t = rec.txnIndex;
      const n = t.fileSeq.length;
      const horizon = n ? { fileSeq: t.fileSeq[n - 1]!, endPos: toNumber(t.endPos[n - 1]) } : undefined;
      this.queue.push({ kind: 'index', offset, msg: t, horizon });
    }
  }

  /** Meta offsets that carry nothing for guard still move the reading position. */
  skipMeta(offset: bigint): void {
    if (offset >= this.metaNext) this.metaNext = offset + 1n;
  }

  /**
   * Changes-topic end offsets measured after the meta records read so far were seen: every
   * transaction those TxnIndex records list has all its changes below these offsets.
   */
  setEnds(ends: Map<number, bigint>): void {
    for (const q of this.queue) if (q.kind === 'index' && !q.ends) q.ends = ends;
  }

  addChange(partition: number, offset: bigint, c: ChangeBatchMsg): void {
    if (offset < this.reachedOf(partition)) return;
    this.reached.set(partition, offset + 1n);
    let pk: string;
    if (c.stagedTxn) {
      pk = stagedKey(c.stagedTxn);
      this.stagedGtid.set(pk, gtidKey(c.gtid));
    } else {
      const pos = fromPositionMsg(c.position);
      const mp = this.maxPos.get(partition);
      if (!mp || comparePositions(pos, mp) > 0) this.maxPos.set(partition, pos);
      pk = posKey(pos);
    }
    let byTable = this.aggs.get(pk);
    if (!byTable) this.aggs.set(pk, (byTable = new Map()));
    const tk = tableId(c.database, c.table);
    let a = byTable.get(tk);
    if (!a) byTable.set(tk, (a = { database: c.database, table: c.table, inserts: 0, updates: 0, deletes: 0, partition, offset }));
    for (const ch of c.changes) {
      if (ch.op === Op.INSERT) a.inserts++;
      else if (ch.op === Op.UPDATE) {
        a.updates++;
        if (ch.noFkChecks) a.uncheckedUpdates = (a.uncheckedUpdates ?? 0) + 1;
      } else if (ch.op === Op.DELETE) {
        a.deletes++;
        if (ch.noFkChecks) a.uncheckedDeletes = (a.uncheckedDeletes ?? 0) + 1;
      }
    }
  }

  /** A changes record guard does not need (snapshot rows): only the reading position moves. */
  skipChange(partition: number, offset: bigint): void {
    if (offset >= this.reachedOf(partition)) this.reached.set(partition, offset + 1n);
  }

  /** The consumer is past `next - 1` on this partition (control records, aborted transactions). */
  reachedTo(partition: number, next: bigint): void {
    if (next > this.reachedOf(partition)) this.reached.set(partition, next);
  }

  private complete(q: Extract<Queued, { kind: 'index' }>): boolean {
    if (!q.horizon) return true;
    for (const [p, r] of this.reached) {
      const mp = this.maxPos.get(p);
      if (mp && comparePositions(mp, q.horizon) > 0) continue;
      if (q.ends && r >= (q.ends.get(p) ?? 0n)) continue;
      return false;
    }
    return true;
  }

  /** Releases every item whose transactions are complete, in commit order. */
  drain(): SequencedItem[] {
    const out: SequencedItem[] = [];
    while (this.queue.length) {
      const q = this.queue[0]!;
      if (q.kind === 'index') {
        if (!this.complete(q)) break;
        const t = q.msg;
        const stagedAt = new Map((t.staged ?? []).map((st) => [st.txn, st.id] as const));
        for (let i = 0; i < t.fileSeq.length; i++) {
          const position = { fileSeq: t.fileSeq[i]!, endPos: toNumber(t.endPos[i]) };
          const k = posKey(position);
          const ddl = this.ddl.get(k) ?? [];
          this.ddl.delete(k);
          const stagedId = stagedAt.get(i);
          const ak = stagedId ? stagedKey(stagedId) : k;
          const tables = [...(this.aggs.get(ak)?.values() ?? [])].map(({ database, table, inserts, updates, deletes, uncheckedDeletes, uncheckedUpdates }) => ({
            database,
            table,
            inserts,
            updates,
            deletes,
            ...(uncheckedDeletes ? { uncheckedDeletes } : {}),
            ...(uncheckedUpdates ? { uncheckedUpdates } : {}),
          }));
          this.aggs.delete(ak);
          const gtid = { domain: t.domain[i]!, serverId: t.serverId[i]!, seq: toBigInt(t.seq[i]) };
          this.dropAbandoned(gtidKey(gtid));
          out.push({
            kind: 'txn',
            txn: {
              gtid,
              position,
              commitTime: t.commitTime[i]!,
              ddl,
              tables,
              indexOffset: q.offset,
            },
          });
        }
        // Anything left at or before the horizon belongs to no indexed transaction: drop it.
        if (q.horizon) this.dropUpTo(q.horizon);
        out.push({ kind: 'indexDone', offset: q.offset, txns: t.fileSeq.length });
      } else out.push(q);
      this.queue.shift();
    }
    return out;
  }

  /** Chunks staged by attempts at this transaction that never committed (a capture killed mid-way). */
  private dropAbandoned(gtid: string): void {
    for (const [k, g] of this.stagedGtid) {
      if (g !== gtid) continue;
      this.aggs.delete(k);
      this.stagedGtid.delete(k);
    }
  }

  private dropUpTo(h: Position): void {
    for (const k of [...this.aggs.keys()]) if (!k.startsWith('staged:') && comparePositions(parseKey(k), h) <= 0) this.aggs.delete(k);
    for (const k of [...this.ddl.keys()]) if (comparePositions(parseKey(k), h) <= 0) this.ddl.delete(k);
  }

  /** Per changes partition, the first offset whose record has not been released yet. */
  changesPosition(): Map<number, bigint> {
    const out = new Map(this.reached);
    for (const byTable of this.aggs.values()) {
      for (const a of byTable.values()) if (a.offset < (out.get(a.partition) ?? a.offset + 1n)) out.set(a.partition, a.offset);
    }
    return out;
  }

  /** True when nothing read so far is held: no item queued, no transaction's changes or DDL half read. */
  get empty(): boolean {
    return this.queue.length === 0 && this.aggs.size === 0 && this.ddl.size === 0;
  }

  /** True when nothing read so far waits for more records. */
  get idle(): boolean {
    return this.queue.length === 0;
  }
}

function parseKey(k: string): Position {
  const i = k.indexOf(':');
  return { fileSeq: Number(k.slice(0, i)), endPos: Number(k.slice(i + 1)) };
}
