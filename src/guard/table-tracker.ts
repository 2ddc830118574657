// Per-table knowledge guard keeps while following the log in commit order: which tables exist,
// how many rows each holds (snapshot count + inserts - deletes) and its column types, so a
// transaction can be judged against the table as it stood just before it. Pure.
import { lossyChange, parseCreateColumns, type ColumnType } from './column-types.js';
import type { DdlEffect, TableRef } from './ddl-effects.js';

export interface TableState {
  database: string;
  table: string;
  /** Rows just now, or undefined when unknown (no snapshot count). */
  rows: number | undefined;
  /** Column name (lower case) -> type, or undefined when unknown. */
  columns: Map<string, ColumnType> | undefined;
}

export const keyOf = (t: TableRef): string => `${t.database}.${t.table}`;

export class TableTracker {
  private readonly tables = new Map<string, TableState>();

  get(t: TableRef): TableState | undefined {
    return this.tables.get(keyOf(t));
  }

  exists(t: TableRef): boolean {
    return this.tables.has(keyOf(t));
  }

  /** Tables of one database, sorted by name. */
  tablesOf(database: string): TableState[] {
    return [...this.tables.values()].filter((s) => s.database === database).sort((a, b) => (a.table < b.table ? -1 : a.table > b.table ? 1 : 0));
  }

  /** A snapshot replaces what is known about its tables (definitions now, counts at its end). */
  snapshotBegin(defs: { database: string; table: string; createSql: string }[]): void {
    for (const d of defs) {
      this.tables.set(keyOf(d), { database: d.database, table: d.table, rows: undefined, columns: parseCreateColumns(d.createSql) ?? undefined });
    }
  }

  snapshotEnd(counts: { database: string; table: string; rows: number }[]): void {
    for (const c of counts) {
      const s = this.tables.get(keyOf(c));
      if (s) s.rows = c.rows;
      else this.tables.set(keyOf(c), { database: c.database, table: c.table, rows: c.rows, columns: undefined });
    }
  }

  /** Row changes of one committed transaction on one table. */
  applyRows(t: TableRef, inserts: number, deletes: number): void {
    let s = this.tables.get(keyOf(t));
    // Rows for a table we never saw created (captured before guard's history): count from here on.
    if (!s) this.tables.set(keyOf(t), (s = { database: t.database, table: t.table, rows: undefined, columns: undefined }));
    if (s.rows !== undefined) s.rows = Math.max(0, s.rows + inserts - deletes);
  }

  applyDdl(e: DdlEffect): void {
    switch (e.kind) {
      case 'dropTables':
        for (const t of e.tables) this.tables.delete(keyOf(t));
        return;
      case 'dropDatabase':
        for (const [k, s] of this.tables) if (s.database === e.database) this.tables.delete(k);
        return;
      case 'truncate': {
        const s = this.tables.get(keyOf(e.table));
        if (s) s.rows = 0;
        return;
      }
      case 'create': {
        if (this.tables.has(keyOf(e.table)) && !e.orReplace) return; // IF NOT EXISTS on an existing table
        const like = e.like ? this.tables.get(keyOf(e.like)) : undefined;
        const columns = e.columns ?? (like?.columns ? new Map(like.columns) : undefined);
        this.tables.set(keyOf(e.table), { database: e.table.database, table: e.table.table, rows: 0, columns });
        return;
      }
      case 'rename': {
        for (const { from, to } of e.pairs) this.move(from, to);
        return;
      }
      case 'alter': {
        const s = this.tables.get(keyOf(e.table));
        if (s?.columns) {
          for (const c of e.changes) {
            if (c.kind === 'drop') s.columns.delete(c.column.toLowerCase());
            else if (c.kind === 'modify' || c.kind === 'add') s.columns.set(c.column.toLowerCase(), c.type);
            else if (c.kind === 'change') {
              s.columns.delete(c.column.toLowerCase());
              s.columns.set(c.newName.toLowerCase(), c.type);
            } else if (c.kind === 'rename') {
              const ty = s.columns.get(c.column.toLowerCase());
              s.columns.delete(c.column.toLowerCase());
              if (ty) s.columns.set(c.newName.toLowerCase(), ty);
            } else if (c.kind === 'convert') {
              for (const ty of s.columns.values()) if (ty.charset !== undefined || /char|text|enum|set/.test(ty.base)) ty.charset = c.charset;
            }
          }
        }
        if (e.renameTo) this.move(e.table, e.renameTo);
        return;
      }
      case 'none':
        return;
    }
  }

  private move(from: TableRef, to: TableRef): void {
    const s = this.tables.get(keyOf(from));
    this.tables.delete(keyOf(from));
    if (s) this.tables.set(keyOf(to), { ...s, database: to.database, table: to.table });
  }
}

/** Column changes of an ALTER that can lose data, as short phrases ("drops column x"). */
export function destructiveColumnChanges(before: TableState | undefined, e: Extract<DdlEffect, { kind: 'alter' }>): string[] {
  const out: string[] = [];
  for (const c of e.changes) {
    if (c.kind === 'drop') out.push(`drops column ${c.column}`);
    else if (c.kind === 'modify' || c.kind === 'change') {
      const why = lossyChange(before?.columns?.get(c.column.toLowerCase()), c.type);
      if (why) out.push(`changes column ${c.column}: ${why}`);
    } else if (c.kind === 'convert' && !c.charset.startsWith('utf8mb4')) {
      out.push(`converts to character set ${c.charset}`);
    }
  }
  return out;
}
