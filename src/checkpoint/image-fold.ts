// A table's image as raw row encodings (the Row messages of the log, byte for byte), folded from a base image
// and row changes, and its order-independent digest. Pure: what the checkpointer writes and what verify and
// restore recompute.
import { createHash } from 'node:crypto';
import { Op } from '../log/record-types.js';
import type { RowRecordView } from '../log/record-codec.js';
import { LineRenderer } from '../replay/sql-values.js';
import { CorruptLogError } from '../core/errors.js';

/**
 * sum mod 2^256 of sha256(row) over a multiset of rows: the same whatever the order, and duplicate rows
 * (keyless tables) count each time. 32 bytes big-endian.
 */
export class RowDigest {
  private readonly limbs = new Uint32Array(8);
  count = 0;

  add(row: Uint8Array): void {
    const h = createHash('sha256').update(row).digest();
    let carry = 0;
    for (let i = 7; i >= 0; i--) {
      const s = this.limbs[i]! + h.readUInt32BE(4 * i) + carry;
      this.limbs[i] = s >>> 0;
      carry = s > 0xffffffff ? 1 : 0;
    }
    this.count++;
  }

  digest(): Buffer {
    const out = Buffer.alloc(32);
    for (let i = 0; i < 8; i++) out.writeUInt32BE(this.limbs[i]!, 4 * i);
    return out;
  }
}

/** A column list and the rows (Row encodings) that go with it. */
export interface RowGroup {
  columns: string[];
  rows: Buffer[];
}

interface ColumnInfo {
  columns: string[];
  keyIdx: number[];
  keyMask: Uint8Array;
}

/**
 * Folds row images by key (tables with a primary or non-null unique key) or by full image (keyless tables,
 * duplicates kept). Rows are kept as their encodings with their column list: a checkpoint writes them back
 * unchanged, so the digest of a checkpoint equals the digest of the log's own images.
 */
export class ImageFold {
  private readonly keyed = new Map<string, { row: Buffer; cols: ColumnInfo }>();
  private readonly images = new Map<string, { row: Buffer; cols: ColumnInfo; count: number }>();
  private readonly sets = new Map<string, ColumnInfo>();
  private readonly renderer = new LineRenderer();
  /** Row changes applied (base rows not counted). */
  changes = 0;
  /** Deletes that found no row (a base inconsistent with its changes): reported by callers. */
  misses = 0;

  constructor(readonly keyColumns: string[] | null) {}

  private info(columns: string[]): ColumnInfo {
    const sig = columns.join('\u0000');
    let s = this.sets.get(sig);
    if (!s) {
      const keyIdx = (this.keyColumns ?? []).map((c) => {
        const i = columns.indexOf(c);
        if (i < 0) throw new CorruptLogError(`row image lacks key column ${c}`);
        return i;
      });
      const keyMask = new Uint8Array(columns.length);
      for (const i of keyIdx) keyMask[i] = 1;
      this.sets.set(sig, (s = { columns, keyIdx, keyMask }));
    }
    return s;
  }

  private keyOf(cols: ColumnInfo, buf: Buffer, start: number, end: number): string {
    if (this.keyColumns) return this.renderer.key(buf, start, end, cols.keyIdx, cols.keyMask);
    return buf.toString('latin1', start, end);
  }

  private insert(cols: ColumnInfo, buf: Buffer, start: number, end: number): void {
    const key = this.keyOf(cols, buf, start, end);
    const row = Buffer.from(buf.subarray(start, end));
    if (this.keyColumns) {
      this.keyed.set(key, { row, cols });
      return;
    }
    const e = this.images.get(key);
    if (e) e.count++;
    else this.images.set(key, { row, cols, count: 1 });
  }

  private delete(cols: ColumnInfo, buf: Buffer, start: number, end: number): void {
    const key = this.keyOf(cols, buf, start, end);
    if (this.keyColumns) {
      if (!this.keyed.delete(key)) this.misses++;
      return;
    }
    const e = this.images.get(key);
    if (!e) {
      this.misses++;
      return;
    }
    if (--e.count === 0) this.images.delete(key);
  }

  /** Applies a record view: snapshot or checkpoint rows load as inserts; change batches count as changes. */
  apply(v: RowRecordView): void {
    const cols = this.info(v.columns);
    const { buf, ops, ranges } = v;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      const j = 4 * i;
      if (op === Op.DELETE || op === Op.UPDATE) {
        if (ranges[j]! < 0) throw new CorruptLogError('row change without its before image');
        this.delete(cols, buf, ranges[j]!, ranges[j + 1]!);
      }
      if (op === Op.INSERT || op === Op.UPDATE) {
        if (ranges[j + 2]! < 0) throw new CorruptLogError('row change without its after image');
        this.insert(cols, buf, ranges[j + 2]!, ranges[j + 3]!);
      } else if (op !== Op.DELETE) throw new CorruptLogError(`unknown row operation ${op}`);
    }
    if (v.kind === 'change') this.changes += ops.length;
  }

  /** The folded rows grouped by column list (one group unless the table's columns changed). */
  groups(): RowGroup[] {
    const out = new Map<ColumnInfo, Buffer[]>();
    const push = (cols: ColumnInfo, row: Buffer) => {
      let l = out.get(cols);
      if (!l) out.set(cols, (l = []));
      l.push(row);
    };
    for (const e of this.keyed.values()) push(e.cols, e.row);
    for (const e of this.images.values()) for (let i = 0; i < e.count; i++) push(e.cols, e.row);
    return [...out].map(([cols, rows]) => ({ columns: cols.columns, rows }));
  }

  /** Rows and digest of the folded image. */
  summary(): { rows: number; digest: Buffer } {
    const d = new RowDigest();
    for (const e of this.keyed.values()) d.add(e.row);
    for (const e of this.images.values()) for (let i = 0; i < e.count; i++) d.add(e.row);
    return { rows: d.count, digest: d.digest() };
  }
}

/** Rows and digest of the row images of SnapshotRows views (what a checkpoint holds, as loaded). */
export function digestViews(views: Iterable<RowRecordView>): { rows: number; digest: Buffer } {
  const d = new RowDigest();
  for (const v of views) {
    for (let i = 0; i < v.ops.length; i++) d.add(v.buf.subarray(v.ranges[4 * i + 2]!, v.ranges[4 * i + 3]!));
  }
  return { rows: d.count, digest: d.digest() };
}
