// Net effect of a window of changes on a table, per row: its state when the window opens and when it
// closes. With full row images the opening state of a keyed row is the before image of its first
// change in the window (absent when that change is an INSERT), so neither the snapshot nor anything
// before the window has to be folded. Keyless tables fold by full image (a multiset delta). Pure.
import { Op, type RowChangeMsg, type Value } from '../log/record-types.js';
import { valuesKey } from '../replay/sql-values.js';
import { changedColumns, displayImage, type ColumnChange, type Image } from './row-image.js';

export interface KeyedEntry {
  key: Value[];
  keyColumns: string[];
  start: Image | null;
  end: Image | null;
  /** Changes to this row inside the window. */
  changes: number;
}

export interface DiffRow {
  key: Record<string, string | null>;
  row?: Record<string, string | null>;
  changed?: ColumnChange[];
}

export interface DiffResult {
  counts: { inserted: number; deleted: number; changed: number; unchangedTouched: number };
  inserted: DiffRow[];
  deleted: DiffRow[];
  changed: DiffRow[];
}

export class WindowFolder {
  readonly keyed = new Map<string, KeyedEntry>();
  private readonly images = new Map<string, { row: Image; delta: number }>();
  private readonly idx = new WeakMap<string[], number[] | null>();
  changes = 0;

  constructor(readonly keyColumns: string[] | null) {}

  private keyOf(columns: string[], values: Value[]): Value[] {
    let idx = this.idx.get(columns);
    if (idx === undefined) {
      idx = this.keyColumns!.map((c) => {
        const i = columns.indexOf(c);
        if (i < 0) throw new Error(`row image lacks key column ${c}`);
        return i;
      });
      this.idx.set(columns, idx);
    }
    return idx!.map((i) => values[i]!);
  }

  private touch(img: Image, startIfNew: Image | null): KeyedEntry {
    const key = this.keyOf(img.columns, img.values);
    const k = valuesKey(key);
    let e = this.keyed.get(k);
    if (!e) this.keyed.set(k, (e = { key, keyColumns: this.keyColumns!, start: startIfNew, end: startIfNew, changes: 0 }));
    e.changes++;
    return e;
  }

  apply(columns: string[], c: RowChangeMsg): void {
    this.changes++;
    const before = c.before ? { columns, values: c.before.values } : null;
    const after = c.after ? { columns, values: c.after.values } : null;
    if (!this.keyColumns) {
      if (before && c.op !== Op.INSERT) this.image(before, -1);
      if (after && c.op !== Op.DELETE) this.image(after, +1);
      return;
    }
    switch (c.op) {
      case Op.INSERT:
        this.touch(after!, null).end = after;
        break;
      case Op.DELETE:
        this.touch(before!, before).end = null;
        break;
      case Op.UPDATE: {
        const b = this.touch(before!, before);
        const bk = valuesKey(this.keyOf(before!.columns, before!.values));
        const ak = valuesKey(this.keyOf(after!.columns, after!.values));
        if (bk === ak) b.end = after;
        else {
          b.end = null;
          this.touch(after!, null).end = after;
        }
        break;
      }
      default:
        throw new Error(`unknown row operation ${c.op}`);
    }
  }

  private image(img: Image, d: number): void {
    const k = JSON.stringify(img.columns) + valuesKey(img.values);
    const e = this.images.get(k);
    if (e) e.delta += d;
    else this.images.set(k, { row: img, delta: d });
  }

  /** Rows inserted, deleted and changed between the window's two ends, by key (or by image). */
  diff(limit = Infinity): DiffResult {
    const res: DiffResult = { counts: { inserted: 0, deleted: 0, changed: 0, unchangedTouched: 0 }, inserted: [], deleted: [], changed: [] };
    if (!this.keyColumns) {
      for (const { row, delta } of this.images.values()) {
        if (delta === 0) {
          res.counts.unchangedTouched++;
          continue;
        }
        const list = delta > 0 ? res.inserted : res.deleted;
        for (let i = 0; i < Math.abs(delta); i++) {
          if (delta > 0) res.counts.inserted++;
          else res.counts.deleted++;
          if (list.length < limit) list.push({ key: {}, row: displayImage(row) });
        }
      }
      return res;
    }
    for (const e of this.keyed.values()) {
      const key: Record<string, string | null> = {};
      const kimg = { columns: e.keyColumns, values: e.key };
      Object.assign(key, displayImage(kimg));
      if (!e.start && e.end) {
        res.counts.inserted++;
        if (res.inserted.length < limit) res.inserted.push({ key, row: displayImage(e.end) });
      } else if (e.start && !e.end) {
        res.counts.deleted++;
        if (res.deleted.length < limit) res.deleted.push({ key, row: displayImage(e.start) });
      } else if (e.start && e.end) {
        const changed = changedColumns(e.start, e.end);
        if (!changed.length) res.counts.unchangedTouched++;
        else {
          res.counts.changed++;
          if (res.changed.length < limit) res.changed.push({ key, changed });
        }
      } else res.counts.unchangedTouched++;
    }
    return res;
  }
}
