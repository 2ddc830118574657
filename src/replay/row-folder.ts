// Folds row changes into the net effect on a table, relative to what is already loaded in it:
// by key for tables with a primary (or non-null unique) key, by full image for keyless tables
// (duplicates kept). Pure.
import { Op, type RowChangeMsg, type Value } from '../log/record-types.js';
import { valuesKey } from './sql-values.js';

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
