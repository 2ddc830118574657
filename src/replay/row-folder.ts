// Folds row changes into the net effect on a table, relative to what is already loaded in it:
// by key for tables with a primary (or non-null unique) key, by full image for keyless tables
// (duplicates kept). Pure.
import { Op, type RowChangeMsg, type Value } from '../log/record-types.js';
import { valuesKey, type LineRenderer } from './sql-values.js';
import type { RowRecordView } from '../log/record-codec.js';

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
  columns: string[];
  /** Index of each key column in `columns`. */
  keyIdx: number[];
  /** 1 at key column positions (for rendering only the key of a before image). */
  keyMask: Uint8Array;
}

interface LineEntry {
  line: string | null;
  cols: ColumnSet | null;
  existedBefore: boolean;
}

export interface LineFoldResult {
  /** Keys to remove (LOAD DATA lines of the key columns). */
  deleteKeys: string[];
  /** Lines to insert, per column list. */
  inserts: Map<ColumnSet, string[]>;
}

/** Approximate heap bytes per folded key beyond its strings (map slot, entry object, string headers). */
const ENTRY_OVERHEAD = 160;

/**
 * The keyed fold of the replay hot path: rows as rendered LOAD DATA lines keyed by their key
 * fields (LineRenderer), with the same semantics as RowFolder for keyed tables. Tracks an estimate
 * of its heap size so restore can apply it to the target before it outgrows the memory budget.
 */
export class LineFolder {
  private readonly rows = new Map<string, LineEntry>();
  private readonly sets = new Map<string, ColumnSet>();
  private lastColumns: string[] | undefined;
  private lastSet: ColumnSet | undefined;
  changes = 0;
  /** Estimated heap bytes held. */
  bytes = 0;

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
      this.sets.set(sig, (s = { columns, keyIdx, keyMask }));
    }
    this.lastColumns = columns;
    this.lastSet = s;
    return s;
  }

  insert(cols: ColumnSet, key: string, line: string): void {
    this.changes++;
    const e = this.rows.get(key);
    if (e) {
      this.bytes += line.length - (e.line?.length ?? 0);
      e.line = line;
      e.cols = cols;
    } else {
      this.bytes += ENTRY_OVERHEAD + key.length + line.length;
      this.rows.set(key, { line, cols, existedBefore: this.loaded });
    }
  }

  delete(key: string): void {
    this.changes++;
    const e = this.rows.get(key);
    if (e) {
      this.bytes -= e.line?.length ?? 0;
      e.line = null;
      e.cols = null;
    } else {
      this.bytes += ENTRY_OVERHEAD + key.length;
      this.rows.set(key, { line: null, cols: null, existedBefore: this.loaded });
    }
  }

  get size(): number {
    return this.rows.size;
  }

  result(): LineFoldResult {
    const res: LineFoldResult = { deleteKeys: [], inserts: new Map() };
    let lastCols: ColumnSet | null = null;
    let lastList: string[] = [];
    for (const [key, e] of this.rows) {
      if (e.existedBefore) res.deleteKeys.push(key);
      if (e.line === null) continue;
      if (e.cols !== lastCols) {
        lastCols = e.cols;
        let l = res.inserts.get(e.cols!);
        if (!l) res.inserts.set(e.cols!, (l = []));
        lastList = l;
      }
      lastList.push(e.line);
    }
    return res;
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
