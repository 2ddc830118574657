// Per-table knowledge guard keeps while following the log in commit order: which tables exist,
// how many rows each holds (snapshot count + inserts - deletes, and what cascades did to it), its
// column types and its foreign keys, so a transaction can be judged against the table as it stood
// just before it. Pure.
import { lossyChange, parseCreateColumns, type ColumnType } from './column-types.js';
import type { DdlEffect, TableRef } from './ddl-effects.js';
import { createForeignKeys, ForeignKeyMap, type ForeignKey } from './foreign-keys.js';

/**
 * How far a row count is from the truth after cascades guard could not count row by row: `atMost`
 * (some rows may have gone through ON DELETE CASCADE), `atLeast` (rows with a NULL key escaped a
 * cascade that emptied the rest), `either` (both happened). Undefined: exact.
 */
export type RowsEstimate = 'atMost' | 'atLeast' | 'either';

const mergeEstimate = (a: RowsEstimate | undefined, b: RowsEstimate): RowsEstimate => (a === undefined || a === b ? b : 'either');

export interface TableState {
  database: string;
  table: string;
  /** Rows just now, or undefined when unknown (no snapshot count). */
  rows: number | undefined;
  /** Column name (lower case) -> type, or undefined when unknown. */
  columns: Map<string, ColumnType> | undefined;
  /** Set when `rows` is an estimate (see RowsEstimate). */
  estimate?: RowsEstimate;
}

export const keyOf = (t: TableRef): string => `${t.database}.${t.table}`;

/** What the tracker knows, as plain JSON (guard saves it to start again without rereading the log). */
export interface TrackerState {
  tables: Array<{ database: string; table: string; rows: number | null; columns: Array<[string, ColumnType]> | null; estimate?: RowsEstimate }>;
  foreignKeys: Array<[string, ForeignKey[]]>;
}

export class TableTracker {
  private readonly tables = new Map<string, TableState>();
  /** Foreign keys as defined at the point reached. */
  readonly foreignKeys = new ForeignKeyMap();

  exportState(): TrackerState {
    return {
      tables: [...this.tables.values()].map((s) => ({
        database: s.database,
        table: s.table,
        rows: s.rows ?? null,
        columns: s.columns ? [...s.columns].map(([n, c]) => [n, { ...c, args: [...c.args] }]) : null,
        ...(s.estimate ? { estimate: s.estimate } : {}),
      })),
      foreignKeys: this.foreignKeys.entries(),
    };
  }

  static fromState(st: TrackerState): TableTracker {
    const t = new TableTracker();
    for (const s of st.tables) {
      t.tables.set(keyOf(s), {
        database: s.database,
        table: s.table,
        rows: s.rows ?? undefined,
        columns: s.columns ? new Map(s.columns) : undefined,
        ...(s.estimate ? { estimate: s.estimate } : {}),
      });
    }
    t.foreignKeys.load(st.foreignKeys);
    return t;
  }

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
      const t = { database: d.database, table: d.table };
      this.foreignKeys.define(t, createForeignKeys(d.createSql, t));
    }
  }

  snapshotEnd(counts: { database: string; table: string; rows: number }[]): void {
    for (const c of counts) {
      const s = this.tables.get(keyOf(c));
      if (s) {
        s.rows = c.rows;
        delete s.estimate;
      } else this.tables.set(keyOf(c), { database: c.database, table: c.table, rows: c.rows, columns: undefined });
    }
  }

  /** Row changes of one committed transaction on one table. */
  applyRows(t: TableRef, inserts: number, deletes: number): void {
    let s = this.tables.get(keyOf(t));
    // Rows for a table we never saw created (captured before guard's history): count from here on.
    if (!s) this.tables.set(keyOf(t), (s = { database: t.database, table: t.table, rows: undefined, columns: undefined }));
    if (s.rows !== undefined) s.rows = Math.max(0, s.rows + inserts - deletes);
  }

  /** Whether a column is NOT NULL; undefined when the table's columns are unknown. */
  notNull(t: TableRef, column: string): boolean | undefined {
    return this.tables.get(keyOf(t))?.columns?.get(column.toLowerCase())?.notNull;
  }

  /**
   * Rows a cascade took without events: `emptied` leaves no row (`nullKeys`: except rows holding a
   * NULL key, uncounted), `reduced` some unknown number fewer.
   */
  applyCascade(t: TableRef, effect: 'emptied' | 'reduced', nullKeys: boolean): void {
    const s = this.tables.get(keyOf(t));
    if (!s) return;
    if (effect === 'emptied') {
      s.rows = 0;
      // The count starts over at 0: what was known about its error no longer applies.
      if (nullKeys) s.estimate = 'atLeast';
      else delete s.estimate;
    } else if (s.rows !== undefined && s.rows > 0) s.estimate = mergeEstimate(s.estimate, 'atMost');
  }

  applyDdl(e: DdlEffect): void {
    switch (e.kind) {
      case 'dropTables':
        for (const t of e.tables) {
          this.tables.delete(keyOf(t));
          this.foreignKeys.drop(t);
        }
        return;
      case 'dropDatabase':
        for (const [k, s] of this.tables) if (s.database === e.database) this.tables.delete(k);
        this.foreignKeys.dropDatabase(e.database);
        return;
      case 'truncate': {
        const s = this.tables.get(keyOf(e.table));
        if (s) {
          s.rows = 0;
          delete s.estimate;
        }
        return;
      }
      case 'create': {
        if (this.tables.has(keyOf(e.table)) && !e.orReplace) return; // IF NOT EXISTS on an existing table
        const like = e.like ? this.tables.get(keyOf(e.like)) : undefined;
        const columns = e.columns ?? (like?.columns ? new Map(like.columns) : undefined);
        this.tables.set(keyOf(e.table), { database: e.table.database, table: e.table.table, rows: 0, columns });
        this.foreignKeys.define(e.table, e.foreignKeys);
        return;
      }
      case 'rename': {
        for (const { from, to } of e.pairs) {
          this.move(from, to);
          this.foreignKeys.rename(from, to);
        }
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
        for (const c of e.changes) if (c.kind === 'change' || c.kind === 'rename') this.foreignKeys.renameColumn(e.table, c.column, c.newName);
        if (e.keys.add.length || e.keys.drop.length) this.foreignKeys.alter(e.table, e.keys);
        if (e.renameTo) {
          this.move(e.table, e.renameTo);
          this.foreignKeys.rename(e.table, e.renameTo);
        }
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
