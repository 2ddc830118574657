// Folds row changes into the net effect on a table, relative to what is already loaded in it:
// by key for tables with a primary (or non-null unique) key, by full image for keyless tables
// (duplicates kept). Pure.
import { Op, type RecordMsg, type RowChangeMsg, type Value } from '../log/record-types.js';
import { valuesKey, type LineRenderer } from './sql-values.js';
import type { RowRecordView } from '../log/record-codec.js';
import { LineSpill } from './line-spill.js';

export interface Row {
  columns: string[];
  values: Value[];
}

export interface FoldResult {
  /** Keyed tables: rows to remove by key (their key column values). */
  deleteKeys: Value[][];
  /** Keyless tables: full images to remove, with how many copies. */
  deleteImages: { row: Row; count: number }[];
  /** Rows to insert. */
  inserts: Row[];
}

export class RowFolder {
  private readonly keyed = new Map<string, { row: Row | null; key: Value[]; existedBefore: boolean }>();
  private readonly images = new Map<string, { row: Row; delta: number }>();
  private readonly keyIdx = new WeakMap<string[], number[]>();
  changes = 0;

  /**
   * @param keyColumns key columns of the table in this segment, or null for keyless tables.
   * @param loaded true when the table may already hold rows (a previous segment was loaded).
   */
  constructor(readonly keyColumns: string[] | null, private readonly loaded: boolean) {}

  private keyOf(columns: string[], values: Value[]): { k: string; key: Value[] } {
    let idx = this.keyIdx.get(columns);
    if (!idx) {
      idx = this.keyColumns!.map((c) => {
        const i = columns.indexOf(c);
        if (i < 0) throw new Error(`row image lacks key column ${c}`);
        return i;
      });
      this.keyIdx.set(columns, idx);
    }
    const key = idx.map((i) => values[i]!);
    return { k: valuesKey(key), key };
  }

  private imageKey(columns: string[], values: Value[]): string {
    return JSON.stringify(columns) + valuesKey(values);
  }

  /** Inserts a row (snapshot rows and INSERT changes). */
  insert(columns: string[], values: Value[]): void {
    this.changes++;
    const row = { columns, values };
    if (this.keyColumns) {
      const { k, key } = this.keyOf(columns, values);
      const prev = this.keyed.get(k);
      this.keyed.set(k, { row, key, existedBefore: prev ? prev.existedBefore : this.loaded });
    } else {
      const k = this.imageKey(columns, values);
      const e = this.images.get(k);
      if (e) e.delta++;
      else this.images.set(k, { row, delta: 1 });
    }
  }

  delete(columns: string[], values: Value[]): void {
    this.changes++;
    if (this.keyColumns) {
      const { k, key } = this.keyOf(columns, values);
      const prev = this.keyed.get(k);
      this.keyed.set(k, { row: null, key, existedBefore: prev ? prev.existedBefore : this.loaded });
    } else {
      const k = this.imageKey(columns, values);
      const e = this.images.get(k);
      if (e) e.delta--;
      else this.images.set(k, { row: { columns, values }, delta: -1 });
    }
  }

  apply(columns: string[], c: RowChangeMsg): void {
    switch (c.op) {
      case Op.INSERT:
        this.insert(columns, c.after!.values);
        break;
      case Op.DELETE:
        this.delete(columns, c.before!.values);
        break;
      case Op.UPDATE:
        this.delete(columns, c.before!.values);
        this.insert(columns, c.after!.values);
        break;
      default:
        throw new Error(`unknown row operation ${c.op}`);
    }
  }

  /** Folds a decoded record: its snapshot rows as inserts, or its row changes. */
  applyRecord(rec: RecordMsg): void {
    if (rec.snapshotRows) for (const row of rec.snapshotRows.rows) this.insert(rec.snapshotRows.columns, row.values);
    else for (const ch of rec.change!.changes) this.apply(rec.change!.columns, ch);
  }

  get size(): number {
    return this.keyColumns ? this.keyed.size : this.images.size;
  }

  result(): FoldResult {
    const res: FoldResult = { deleteKeys: [], deleteImages: [], inserts: [] };
    if (this.keyColumns) {
      for (const e of this.keyed.values()) {
        if (e.existedBefore) res.deleteKeys.push(e.key);
        if (e.row) res.inserts.push(e.row);
      }
    } else {
      for (const e of this.images.values()) {
        if (e.delta < 0) res.deleteImages.push({ row: e.row, count: -e.delta });
        for (let i = 0; i < e.delta; i++) res.inserts.push(e.row);
      }
    }
    return res;
  }
}

/** A column list shared by the rows rendered with it (records decode their own arrays: interned by content). */
export interface ColumnSet {
  /** Its number within its folder (how spilled lines name it). */
  id: number;
  columns: string[];
  /** Index of each key column in `columns`. */
  keyIdx: number[];
  /** 1 at key column positions (for rendering only the key of a before image). */
  keyMask: Uint8Array;
}

/** The final rows of one column list: how many, and the lines themselves, read once. */
export interface LineInserts {
  cols: ColumnSet;
  count: number;
  lines: () => Iterable<string>;
}

export interface LineFoldResult {
  /** Keys to remove (LOAD DATA lines of the key columns). */
  deleteKeys: string[];
  /** Lines to insert, per column list. */
  inserts: LineInserts[];
}

/**
 * Approximate heap bytes per folded key beyond its key string's characters: its Map slot and string
 * header (~64) and its slots in the parallel arrays (~20).
 */
export const KEY_OVERHEAD = 84;

/**
 * The keyed fold of the replay hot path: rows as rendered LOAD DATA lines keyed by their key
 * fields (LineRenderer), with the same semantics as RowFolder for keyed tables. Per key it holds a
 * Map slot and a few array slots; `spill` moves the lines to a temporary file (keeping key ->
 * offset), so a fold larger than memory holds O(keys) and still loads each final row once.
 */
export class LineFolder {
  /** Key -> slot in the parallel arrays below. */
  private readonly index = new Map<string, number>();
  /** The key's current image when held in memory (null: spilled or deleted). */
  private lines: (string | null)[] = [];
  /** Its offset in the spill file, or -1 (with a null line: the key is deleted). */
  private at = new Float64Array(1024);
  /** Column set id of the current image, or -1 when deleted. */
  private colIds = new Int32Array(1024);
  /** 1 when the key may exist in the table already (its old row must be deleted first). */
  private existed = new Uint8Array(1024);
  private readonly sets = new Map<string, ColumnSet>();
  private readonly setList: ColumnSet[] = [];
  private lastColumns: string[] | undefined;
  private lastSet: ColumnSet | undefined;
  private file: LineSpill | null = null;
  changes = 0;
  /** Estimated heap bytes held: keys plus lines. */
  bytes = 0;
  /** The part of `bytes` that is lines (what spilling frees). */
  lineBytes = 0;

  /**
   * @param keyColumns key columns of the table in this segment.
   * @param loaded true when the table may already hold rows (a previous batch or segment was loaded).
   */
  constructor(readonly keyColumns: string[], private readonly loaded: boolean) {}

  /** The interned column set of a record's column list. */
  columnSet(columns: string[]): ColumnSet {
    if (columns === this.lastColumns) return this.lastSet!;
    const sig = columns.join('\u0000');
    let s = this.sets.get(sig);
    if (!s) {
      const keyIdx = this.keyColumns.map((c) => {
        const i = columns.indexOf(c);
        if (i < 0) throw new Error(`row image lacks key column ${c}`);
        return i;
      });
      const keyMask = new Uint8Array(columns.length);
      for (const i of keyIdx) keyMask[i] = 1;
      this.sets.set(sig, (s = { id: this.setList.length, columns, keyIdx, keyMask }));
      this.setList.push(s);
    }
    this.lastColumns = columns;
    this.lastSet = s;
    return s;
  }

  /** The slot of a key, created (as deleted, never loaded here) on first sight. */
  private slot(key: string): number {
    let i = this.index.get(key);
    if (i !== undefined) return i;
    i = this.index.size;
    if (i === this.at.length) {
      const grow = <T extends Float64Array | Int32Array | Uint8Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.at = grow(this.at);
      this.colIds = grow(this.colIds);
      this.existed = grow(this.existed);
    }
    this.index.set(key, i);
    this.lines.push(null);
    this.at[i] = -1;
    this.colIds[i] = -1;
    this.existed[i] = this.loaded ? 1 : 0;
    this.bytes += KEY_OVERHEAD + key.length;
    return i;
  }

  insert(cols: ColumnSet, key: string, line: string): void {
    this.changes++;
    const i = this.slot(key);
    const held = this.lines[i]?.length ?? 0;
    this.bytes += line.length - held;
    this.lineBytes += line.length - held;
    this.lines[i] = line;
    this.at[i] = -1;
    this.colIds[i] = cols.id;
  }

  delete(key: string): void {
    this.changes++;
    const i = this.slot(key);
    const held = this.lines[i]?.length ?? 0;
    this.bytes -= held;
    this.lineBytes -= held;
    this.lines[i] = null;
    this.at[i] = -1;
    this.colIds[i] = -1;
  }

  get size(): number {
    return this.index.size;
  }

  /** Whether some lines live in the spill file. */
  get spilled(): boolean {
    return this.file !== null;
  }

  /** Moves every line held in memory to the spill file. */
  spill(): void {
    const file = (this.file ??= new LineSpill());
    for (const [key, i] of this.index) {
      const line = this.lines[i];
      if (line === null || line === undefined) continue;
      this.at[i] = file.append(key, this.colIds[i]!, line);
      this.lines[i] = null;
    }
    this.bytes -= this.lineBytes;
    this.lineBytes = 0;
  }

  result(): LineFoldResult {
    const deleteKeys: string[] = [];
    const counts = new Map<number, number>();
    for (const [key, i] of this.index) {
      if (this.existed[i]) deleteKeys.push(key);
      const c = this.colIds[i]!;
      if (c >= 0) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    const inserts = [...counts].map(([id, count]) => ({ cols: this.setList[id]!, count, lines: () => this.linesOf(id) }));
    return { deleteKeys, inserts };
  }

  /** The final lines of one column set: the spilled ones still current, in file order, then those in memory. */
  private *linesOf(id: number): Generator<string> {
    if (this.file) {
      for (const r of this.file.scan()) {
        if (r.cols !== id) continue;
        const i = this.index.get(r.key);
        if (i !== undefined && this.lines[i] === null && this.at[i] === r.at) yield r.line;
      }
    }
    for (let i = 0; i < this.lines.length; i++) {
      const line = this.lines[i];
      if (line !== null && line !== undefined && this.colIds[i] === id) yield line;
    }
  }

  /** Removes the spill file (the fold's result is unusable afterwards). */
  close(): void {
    this.file?.close();
    this.file = null;
  }
}

/** Folds every row change (or snapshot row) of a record view into a LineFolder. */
export function foldView(folder: LineFolder, v: RowRecordView, r: LineRenderer): number {
  const cols = folder.columnSet(v.columns);
  const { buf, ops, ranges } = v;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    const j = 4 * i;
    if (op === Op.DELETE || op === Op.UPDATE) {
      if (ranges[j]! < 0) throw new Error('row change without its before image');
      folder.delete(r.key(buf, ranges[j]!, ranges[j + 1]!, cols.keyIdx, cols.keyMask));
    }
    if (op === Op.INSERT || op === Op.UPDATE) {
      if (ranges[j + 2]! < 0) throw new Error('row change without its after image');
      const { line, key } = r.line(buf, ranges[j + 2]!, ranges[j + 3]!, cols.keyIdx);
      folder.insert(cols, key, line);
    } else if (op !== Op.DELETE) throw new Error(`unknown row operation ${op}`);
  }
  return ops.length;
}
