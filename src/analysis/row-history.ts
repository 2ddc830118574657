// Collects every version of one row (by key) from a table's snapshot rows and changes in commit
// order: the state when the window opens (the snapshot image is a version of its own when the
// history starts at the snapshot), then one entry per change (operation, commit time, GTID,
// changed columns with before and after), ending with the DROP or TRUNCATE that removed the row,
// which never reaches the binlog as row events. Pure.
import { Op, type ChangeBatchMsg, type Value } from '../log/record-types.js';
import { toBigInt } from '../log/record-codec.js';
import { formatPosition, type Position } from '../core/position.js';
import { changedColumns, displayImage, imageMatches, type ColumnChange, type Image } from './row-image.js';

export interface RowVersion {
  /** snapshot: the row as capture's snapshot read it; drop/truncate: a DDL statement removed it. */
  op: 'snapshot' | 'insert' | 'update' | 'delete' | 'drop' | 'truncate';
  commitTime: number;
  gtid: string;
  position: string;
  /** Changed columns (every column for insert and delete). */
  changed: ColumnChange[];
  /** The row after this change (null after a delete). */
  row: Record<string, string | null> | null;
  /** UPDATE that moved the row to or from another key. */
  keyChanged?: boolean;
}

export class RowHistory {
  /** Row state when the window opens (null: no such row then). */
  initial: Image | null = null;
  current: Image | null = null;
  readonly versions: RowVersion[] = [];

  constructor(
    readonly key: { column: string; value: string }[],
    private readonly windowStart: (p: Position) => boolean,
    private readonly basename = 'binlog',
  ) {}

  snapshotRow(columns: string[], values: Value[]): void {
    const img = { columns, values };
    if (imageMatches(img, this.key)) this.current = this.initial = img;
  }

  /**
   * Ends the snapshot: with `at` (the history starts at the snapshot), a row found in it becomes
   * the first version, dated and placed where the snapshot was taken.
   */
  snapshotDone(at?: { time: number; gtid: string; position: Position }): void {
    if (!at || !this.current) return;
    this.versions.push({
      op: 'snapshot',
      commitTime: at.time,
      gtid: at.gtid,
      position: formatPosition(at.position, this.basename),
      changed: changedColumns(null, this.current),
      row: displayImage(this.current),
    });
  }

  /** A DROP or TRUNCATE of the table (or DROP DATABASE of its database) committed at `position`. */
  removed(op: 'drop' | 'truncate', ddl: { commitTime: number; gtid: string }, position: Position): void {
    const prev = this.current;
    if (!prev) return;
    this.current = null;
    if (!this.windowStart(position)) {
      this.initial = null;
      return;
    }
    this.versions.push({ op, commitTime: ddl.commitTime, gtid: ddl.gtid, position: formatPosition(position, this.basename), changed: changedColumns(prev, null), row: null });
  }

  /** One change record of the table; `inWindow` false folds it into the initial state silently. */
  change(batch: ChangeBatchMsg, position: Position): void {
    const inWindow = this.windowStart(position);
    for (const ch of batch.changes) {
      const before = ch.before ? { columns: batch.columns, values: ch.before.values } : null;
      const after = ch.after ? { columns: batch.columns, values: ch.after.values } : null;
      const bm = before ? imageMatches(before, this.key) : false;
      const am = after ? imageMatches(after, this.key) : false;
      if (!bm && !am) continue;
      let op: RowVersion['op'];
      let next: Image | null;
      if (ch.op === Op.INSERT) [op, next] = ['insert', after];
      else if (ch.op === Op.DELETE) [op, next] = ['delete', null];
      else {
        op = 'update';
        next = am ? after : null; // the row left this key
      }
      const prev = ch.op === Op.INSERT ? null : bm ? before : null;
      this.current = next;
      if (!inWindow) {
        this.initial = next;
        continue;
      }
      const v: RowVersion = {
        op,
        commitTime: batch.commitTime,
        gtid: `${batch.gtid.domain}-${batch.gtid.serverId}-${toBigInt(batch.gtid.seq)}`,
        position: formatPosition(position, this.basename),
        changed: changedColumns(prev, ch.op === Op.DELETE ? null : after),
        row: next ? displayImage(next) : null,
      };
      if (op === 'update' && bm !== am) v.keyChanged = true;
      this.versions.push(v);
    }
  }
}
