// Folds row changes into the net effect on a table, relative to what is already loaded in it:
// by key for tables with a primary (or non-null unique) key, by full image for keyless tables
// (duplicates kept). Pure: a record that breaks the log's invariants throws a CorruptLogError, which the caller
// gives the record's place (wrapError).
import { Op, type RecordMsg, type RowChangeMsg, type Value } from '../log/record-types.js';
import { LineRenderer, valuesKey } from './sql-values.js';
import { viewRowRecord, type RowRecordView } from '../log/record-codec.js';
import { BufferSpill } from './buffer-spill.js';
import { KeyIndex } from './key-index.js';
import { CorruptLogError } from '../core/errors.js';

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
        if (i < 0) throw new CorruptLogError(`row image lacks key column ${c}`);
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
        throw new CorruptLogError(`unknown row operation ${c.op}`);
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
  /** The counter column's index in `columns` and a mask of it (-1: not in this list or not tracked). */
  counterIdx: number;
  counterMask: Uint8Array | null;
  /** The counter column is the whole key: its value is the key string. */
  counterIsKey: boolean;
}

/** The final rows of one column list: how many, and the lines themselves, read once. */
export interface LineInserts {
  cols: ColumnSet;
  count: number;
  lines: () => Iterable<string>;
}

export interface LineFoldResult {
  /** How many keys to remove. */
  deleteCount: number;
  /** Keys to remove (LOAD DATA lines of the key columns), read once. */
  deleteKeys: () => Iterable<string>;
  /** Lines to insert, per column list. */
  inserts: LineInserts[];
  /** The highest AUTO_INCREMENT value an insert wrote (decimal), when the folder tracks one. */
  counterMax?: string;
}

/** Bytes per key slot beyond the KeyIndex: record (4) and op (4) of its image, existed (1). */
const SLOT_BYTES = 9;
/** Bytes per record beyond its buffer: its slots in the arrays and its live-op map's header. */
const RECORD_OVERHEAD = 120;

/**
 * The keyed fold of the replay hot path, in two steps. Folding renders only the key of each row
 * change and keeps, per key, which record and which row change hold its current image (KeyIndex plus
 * typed arrays); a record none of whose images is current any more is dropped at once. The result
 * then renders the current images, and only those, into LOAD DATA lines as the load reads them, so
 * rendering overlaps the server's load and each final row is rendered and loaded once. Records still
 * holding current images move to a temporary file when they outgrow the memory share (`spill`):
 * memory is O(keys). Same semantics as RowFolder for keyed tables. `bytes` counts what it holds as
 * allocated, so a budget over it bounds the process.
 */
export class LineFolder {
  private readonly index = new KeyIndex();
  /** Per key: the record holding its current image (-1: deleted) and the row change in it. */
  private slotRec = new Int32Array(1024);
  private slotOp = new Int32Array(1024);
  /** 1 when the key may exist in the table already (its old row must be deleted first). */
  private existed = new Uint8Array(1024);
  /** Per record: its bytes while in memory, else null (spilled or dead). */
  private recBuf: (Buffer | null)[] = [];
  /** Which of its row changes are some key's current image (null once none is). */
  private recLiveOps: (Uint8Array | null)[] = [];
  private recLive = new Int32Array(256);
  private recCols = new Int32Array(256);
  /** Offset and length in the spill file, or -1. */
  private recAt = new Float64Array(256);
  private recLen = new Int32Array(256);
  private records = 0;
  private readonly sets = new Map<string, ColumnSet>();
  private readonly setList: ColumnSet[] = [];
  private lastColumns: string[] | undefined;
  private lastSet: ColumnSet | undefined;
  private file: BufferSpill | null = null;
  changes = 0;
  /** Bytes of records held in memory (what spilling frees). */
  heldBytes = 0;

  /**
   * @param keyColumns key columns of the table in this segment.
   * @param loaded true when the table may already hold rows (a previous batch or segment was loaded).
   */
  constructor(
    readonly keyColumns: string[],
    private readonly loaded: boolean,
    private readonly counterColumn?: string,
  ) {}

  /** The highest non-negative integer an INSERT wrote to the counter column, as decimal digits. */
  private counterMax: string | undefined;

  private noteCounter(v: string): void {
    // Decimal digits without leading zeros compare by length, then text; negative values never raise it.
    if (!v.length || v.charCodeAt(0) === 0x2d) return;
    const m = this.counterMax;
    if (m === undefined || v.length > m.length || (v.length === m.length && v > m)) this.counterMax = v;
  }

  /** Bytes held: the keys, the records' bookkeeping, and the records held in memory. */
  get bytes(): number {
    return this.keyBytes + this.heldBytes;
  }

  /** Bytes the keys and records' bookkeeping take (what spilling cannot free). */
  get keyBytes(): number {
    return this.index.bytes + this.slotRec.length * SLOT_BYTES + this.recLive.length * RECORD_OVERHEAD;
  }

  /** The interned column set of a record's column list. */
  columnSet(columns: string[]): ColumnSet {
    if (columns === this.lastColumns) return this.lastSet!;
    const sig = columns.join('\u0000');
    let s = this.sets.get(sig);
    if (!s) {
      const keyIdx = this.keyColumns.map((c) => {
        const i = columns.indexOf(c);
        if (i < 0) throw new CorruptLogError(`row image lacks key column ${c}`);
        return i;
      });
      const keyMask = new Uint8Array(columns.length);
      for (const i of keyIdx) keyMask[i] = 1;
      const counterIdx = this.counterColumn === undefined ? -1 : columns.indexOf(this.counterColumn);
      const counterIsKey = counterIdx >= 0 && keyIdx.length === 1 && keyIdx[0] === counterIdx;
      let counterMask: Uint8Array | null = null;
      if (counterIdx >= 0 && !counterIsKey) (counterMask = new Uint8Array(columns.length))[counterIdx] = 1;
      this.sets.set(sig, (s = { id: this.setList.length, columns, keyIdx, keyMask, counterIdx, counterMask, counterIsKey }));
      this.setList.push(s);
    }
    this.lastColumns = columns;
    this.lastSet = s;
    return s;
  }

  /** The slot of a key, created (as deleted, never loaded here) on first sight. */
  private slot(key: string): number {
    const n = this.index.size;
    const i = this.index.add(key);
    if (i !== n) return i;
    if (i === this.slotRec.length) {
      const size = Math.ceil(i * 1.5);
      this.slotRec = grown(this.slotRec, size);
      this.slotOp = grown(this.slotOp, size);
      this.existed = grown(this.existed, size);
    }
    this.slotRec[i] = -1;
    this.existed[i] = this.loaded ? 1 : 0;
    return i;
  }

  /** The key's current image is no longer where its slot says. */
  private supersede(slot: number, current: number): void {
    const r = this.slotRec[slot]!;
    if (r < 0) return;
    this.recLiveOps[r]![this.slotOp[slot]!] = 0;
    if (--this.recLive[r]! === 0 && r !== current) this.drop(r);
    this.slotRec[slot] = -1;
  }

  private drop(r: number): void {
    const b = this.recBuf[r];
    if (b) this.heldBytes -= b.length;
    this.recBuf[r] = null;
    this.recLiveOps[r] = null;
  }

  /** Folds every row change (or snapshot row, as an INSERT) of a record view; returns how many. */
  add(v: RowRecordView, r: LineRenderer): number {
    const cols = this.columnSet(v.columns);
    const { buf, ops, ranges } = v;
    const rec = this.records++;
    if (rec === this.recLive.length) {
      const size = Math.ceil(rec * 1.5);
      this.recLive = grown(this.recLive, size);
      this.recCols = grown(this.recCols, size);
      this.recAt = grown(this.recAt, size);
      this.recLen = grown(this.recLen, size);
    }
    const live = new Uint8Array(ops.length);
    this.recLiveOps.push(live);
    this.recBuf.push(null);
    this.recCols[rec] = cols.id;
    this.recAt[rec] = -1;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      const j = 4 * i;
      if (op === Op.DELETE || op === Op.UPDATE) {
        if (ranges[j]! < 0) throw new CorruptLogError('row change without its before image');
        this.supersede(this.slot(r.key(buf, ranges[j]!, ranges[j + 1]!, cols.keyIdx, cols.keyMask)), rec);
      }
      if (op === Op.INSERT || op === Op.UPDATE) {
        if (ranges[j + 2]! < 0) throw new CorruptLogError('row change without its after image');
        const key = r.key(buf, ranges[j + 2]!, ranges[j + 3]!, cols.keyIdx, cols.keyMask);
        if (op === Op.INSERT && cols.counterIdx >= 0) this.noteCounter(cols.counterIsKey ? key : r.key(buf, ranges[j + 2]!, ranges[j + 3]!, [cols.counterIdx], cols.counterMask!));
        const slot = this.slot(key);
        this.supersede(slot, rec);
        this.slotRec[slot] = rec;
        this.slotOp[slot] = i;
        live[i] = 1;
        this.recLive[rec]!++;
      } else if (op !== Op.DELETE) throw new CorruptLogError(`unknown row operation ${op}`);
    }
    this.changes += ops.length;
    if (this.recLive[rec]! === 0) this.recLiveOps[rec] = null;
    else {
      // A copy: the consumer's fetch buffer would otherwise stay alive for one record.
      this.recBuf[rec] = Buffer.from(buf);
      this.recLen[rec] = buf.length;
      this.heldBytes += buf.length;
    }
    return ops.length;
  }

  get size(): number {
    return this.index.size;
  }

  /** Whether some records live in the spill file. */
  get spilled(): boolean {
    return this.file !== null;
  }

  /** Moves every record held in memory to the spill file (in record order, so the file reads forward). */
  spill(): void {
    const file = (this.file ??= new BufferSpill());
    for (let rec = 0; rec < this.records; rec++) {
      const b = this.recBuf[rec];
      if (!b) continue;
      this.recAt[rec] = file.append(b);
      this.recBuf[rec] = null;
    }
    this.heldBytes = 0;
  }

  result(): LineFoldResult {
    const counts = new Map<number, number>();
    let deleteCount = 0;
    const n = this.index.size;
    for (let i = 0; i < n; i++) if (this.existed[i]) deleteCount++;
    for (let rec = 0; rec < this.records; rec++) {
      const live = this.recLive[rec]!;
      if (live) counts.set(this.recCols[rec]!, (counts.get(this.recCols[rec]!) ?? 0) + live);
    }
    const inserts = [...counts].map(([id, count]) => ({ cols: this.setList[id]!, count, lines: () => this.linesOf(id) }));
    return { deleteCount, deleteKeys: () => this.existingKeys(), inserts, ...(this.counterMax !== undefined ? { counterMax: this.counterMax } : {}) };
  }

  private *existingKeys(): Generator<string> {
    const n = this.index.size;
    for (let i = 0; i < n; i++) if (this.existed[i]) yield this.index.keyAt(i);
  }

  /** The current images of one column set, rendered as they are read, in record order. */
  private *linesOf(id: number): Generator<string> {
    const r = new LineRenderer();
    for (let rec = 0; rec < this.records; rec++) {
      const live = this.recLiveOps[rec];
      if (!live || this.recCols[rec] !== id) continue;
      const buf = this.recBuf[rec] ?? this.file!.read(this.recAt[rec]!, this.recLen[rec]!);
      const v = viewRowRecord(buf, 'the fold\'s records')!;
      for (let i = 0; i < live.length; i++) if (live[i]) yield r.line(buf, v.ranges[4 * i + 2]!, v.ranges[4 * i + 3]!, null).line;
    }
  }

  /** Removes the spill file (the fold's result is unusable afterwards). */
  close(): void {
    this.file?.close();
    this.file = null;
  }
}

function grown<T extends Float64Array | Int32Array | Uint8Array>(a: T, size: number): T {
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a);
  return b;
}

/** Folds every row change (or snapshot row) of a record view into a LineFolder. */
export function foldView(folder: LineFolder, v: RowRecordView, r: LineRenderer): number {
  return folder.add(v, r);
}
