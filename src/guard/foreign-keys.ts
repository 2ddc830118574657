// The foreign keys guard needs to follow cascades MariaDB does not log: for each child table, which
// columns reference which parent and what ON DELETE / ON UPDATE do, as defined at each point of the
// log (snapshot CREATE TABLE texts, then CREATE/ALTER/RENAME/DROP statements). Read at token level
// like the rest of guard's DDL knowledge. `foreignKeyEdges` (src/schema) answers a coarser question
// for restore (is there any referential action at all); guard must tell ON DELETE CASCADE from ON
// UPDATE CASCADE and SET NULL, know the child columns (NULL keys escape a cascade) and the
// constraint names (ALTER ... DROP FOREIGN KEY), hence its own reading. Pure.
import { identName } from '../schema/ddl-rewriter.js';
import { significant, splitTopLevel } from './column-types.js';
import type { TableRef } from './ddl-effects.js';

type Tok = ReturnType<typeof significant>[number];

export type RefAction = 'CASCADE' | 'SET NULL' | 'SET DEFAULT' | 'RESTRICT' | 'NO ACTION';

export interface ForeignKey {
  /** Constraint name (generated as InnoDB does, `<table>_ibfk_<n>`, when the statement gives none). */
  name: string;
  child: TableRef;
  /** Child columns, in key order. */
  columns: string[];
  parent: TableRef;
  /** RESTRICT when the statement says nothing (InnoDB's default). */
  onDelete: RefAction;
  onUpdate: RefAction;
}

const isWord = (t: Tok | undefined, ...w: string[]): boolean => !!t && t.kind === 'word' && w.includes(t.text.toUpperCase());
const isPunct = (t: Tok | undefined, p: string): boolean => !!t && t.kind === 'punct' && t.text === p;

/** `name` or `db.name` at toks[i] (unqualified: `defaultDb`), and the index after it. */
export function readTableRef(toks: Tok[], i: number, defaultDb: string): { ref: TableRef; next: number } | null {
  const a = toks[i];
  if (!a) return null;
  const first = identName(a);
  if (first === null) return null;
  if (isPunct(toks[i + 1], '.') && toks[i + 2]) {
    const second = identName(toks[i + 2]!);
    if (second !== null) return { ref: { database: first, table: second }, next: i + 3 };
  }
  return { ref: { database: defaultDb, table: first }, next: i + 1 };
}

/** Identifiers of the parenthesized list at toks[i]; the index after its closing parenthesis. */
function readColumnList(toks: Tok[], i: number): { columns: string[]; next: number } | null {
  if (!isPunct(toks[i], '(')) return null;
  const columns: string[] = [];
  let depth = 0;
  let k = i;
  for (; k < toks.length; k++) {
    const t = toks[k]!;
    if (isPunct(t, '(')) depth++;
    else if (isPunct(t, ')')) {
      if (--depth === 0) break;
    } else if (depth === 1) {
      // Key parts may carry a length or ASC/DESC: the first identifier after "(" or "," names the column.
      const prev = toks[k - 1]!;
      if (isPunct(prev, '(') || isPunct(prev, ',')) {
        const n = identName(t);
        if (n !== null) columns.push(n);
      }
    }
  }
  return { columns, next: k + 1 };
}

function readAction(toks: Tok[], i: number): { action: RefAction; next: number } {
  if (isWord(toks[i], 'CASCADE')) return { action: 'CASCADE', next: i + 1 };
  if (isWord(toks[i], 'SET') && isWord(toks[i + 1], 'NULL')) return { action: 'SET NULL', next: i + 2 };
  if (isWord(toks[i], 'SET') && isWord(toks[i + 1], 'DEFAULT')) return { action: 'SET DEFAULT', next: i + 2 };
  if (isWord(toks[i], 'NO') && isWord(toks[i + 1], 'ACTION')) return { action: 'NO ACTION', next: i + 2 };
  return { action: 'RESTRICT', next: i + 1 };
}

/** `REFERENCES parent (cols) [MATCH ...] [ON DELETE a] [ON UPDATE a]` at toks[i]. */
function readReferences(toks: Tok[], i: number, childDb: string): { parent: TableRef; onDelete: RefAction; onUpdate: RefAction } | null {
  if (!isWord(toks[i], 'REFERENCES')) return null;
  // An unqualified parent lives in the child's database (SHOW CREATE TABLE qualifies only other databases').
  const p = readTableRef(toks, i + 1, childDb);
  if (!p) return null;
  let k = readColumnList(toks, p.next)?.next ?? p.next;
  let onDelete: RefAction = 'RESTRICT';
  let onUpdate: RefAction = 'RESTRICT';
  for (;;) {
    if (isWord(toks[k], 'MATCH')) k += 2;
    else if (isWord(toks[k], 'ON') && isWord(toks[k + 1], 'DELETE', 'UPDATE')) {
      const a = readAction(toks, k + 2);
      if (isWord(toks[k + 1], 'DELETE')) onDelete = a.action;
      else onUpdate = a.action;
      k = a.next;
    } else break;
  }
  return { parent: p.ref, onDelete, onUpdate };
}

/**
 * A foreign key definition (`[CONSTRAINT [name]] FOREIGN KEY [IF NOT EXISTS] [index] (cols)
 * REFERENCES ...`) or a column definition with REFERENCES, as one element of a CREATE TABLE list or
 * the rest of an ALTER ... ADD. `name` undefined: to be generated.
 */
function readKeyElement(el: Tok[], child: TableRef): (Omit<ForeignKey, 'name'> & { name: string | undefined }) | null {
  let k = 0;
  let name: string | undefined;
  if (isWord(el[k], 'CONSTRAINT')) {
    k++;
    if (!isWord(el[k], 'FOREIGN', 'CHECK', 'UNIQUE', 'PRIMARY')) {
      name = el[k] ? (identName(el[k]!) ?? undefined) : undefined;
      k++;
    }
  }
  if (isWord(el[k], 'FOREIGN') && isWord(el[k + 1], 'KEY')) {
    k += 2;
    if (isWord(el[k], 'IF') && isWord(el[k + 1], 'NOT') && isWord(el[k + 2], 'EXISTS')) k += 3;
    if (!isPunct(el[k], '(')) k++; // index name
    const cols = readColumnList(el, k);
    if (!cols) return null;
    const ref = readReferences(el, cols.next, child.database);
    return ref ? { name, child, columns: cols.columns, ...ref } : null;
  }
  if (k > 0) return null; // a CONSTRAINT of another kind
  // A column definition: `col type ... REFERENCES parent (id) ...`.
  const col = el[0] ? identName(el[0]) : null;
  if (col === null) return null;
  const at = el.findIndex((t, i) => i > 0 && isWord(t, 'REFERENCES'));
  if (at < 0) return null;
  const ref = readReferences(el, at, child.database);
  return ref ? { name: undefined, child, columns: [col], ...ref } : null;
}

const NOT_KEY_HEADS = new Set(['PRIMARY', 'KEY', 'INDEX', 'UNIQUE', 'FULLTEXT', 'SPATIAL', 'CHECK', 'PERIOD', 'VECTOR']);

/** Gives the unnamed keys InnoDB's generated names: `<table>_ibfk_<n>`, n above any in use. */
function nameKeys(keys: (Omit<ForeignKey, 'name'> & { name: string | undefined })[], table: string, existing: ForeignKey[] = []): ForeignKey[] {
  const prefix = `${table}_ibfk_`.toLowerCase();
  let n = 0;
  for (const k of [...existing, ...keys]) {
    const nm = k.name?.toLowerCase();
    if (nm?.startsWith(prefix)) n = Math.max(n, Number(nm.slice(prefix.length)) || 0);
  }
  return keys.map((k) => ({ ...k, name: k.name ?? `${table}_ibfk_${++n}` }));
}

/** The foreign keys a CREATE TABLE statement declares ([] for CREATE ... LIKE, which copies none). */
export function createForeignKeys(statement: string, table: TableRef): ForeignKey[] {
  const toks = significant(statement).filter((t) => !(t.kind === 'punct' && (t.text.startsWith('/*') || t.text === '*')));
  const open = toks.findIndex((t) => isPunct(t, '('));
  if (open < 0) return [];
  if (toks.slice(0, open).some((t) => isWord(t, 'LIKE', 'SELECT', 'AS'))) return [];
  let depth = 0;
  let close = toks.length;
  for (let k = open; k < toks.length; k++) {
    if (isPunct(toks[k], '(')) depth++;
    else if (isPunct(toks[k], ')') && --depth === 0) {
      close = k;
      break;
    }
  }
  const found: (Omit<ForeignKey, 'name'> & { name: string | undefined })[] = [];
  for (const el of splitTopLevel(toks.slice(open + 1, close))) {
    if (isWord(el[0], ...NOT_KEY_HEADS)) continue;
    const fk = readKeyElement(el, table);
    if (fk) found.push(fk);
  }
  return nameKeys(found, table.table);
}

/** What an ALTER TABLE specification list does to the table's foreign keys. */
export interface AlterKeys {
  add: (Omit<ForeignKey, 'name'> & { name: string | undefined })[];
  /** Constraint names dropped (DROP FOREIGN KEY / DROP CONSTRAINT). */
  drop: string[];
}

/** Reads ADD ... FOREIGN KEY / ADD COLUMN ... REFERENCES and DROP FOREIGN KEY / CONSTRAINT from ALTER specs. */
export function alterForeignKeys(specs: Tok[][], table: TableRef): AlterKeys {
  const out: AlterKeys = { add: [], drop: [] };
  for (const spec of specs) {
    let k = 0;
    if (isWord(spec[k], 'WAIT')) k += 2;
    else if (isWord(spec[k], 'NOWAIT')) k++;
    if (isWord(spec[k], 'ADD')) {
      k++;
      if (isWord(spec[k], 'COLUMN')) k++;
      if (isWord(spec[k], 'IF') && isWord(spec[k + 1], 'NOT') && isWord(spec[k + 2], 'EXISTS')) k += 3;
      if (isWord(spec[k], ...NOT_KEY_HEADS)) continue;
      const fk = readKeyElement(spec.slice(k), table);
      if (fk) out.add.push(fk);
    } else if (isWord(spec[k], 'DROP') && (isWord(spec[k + 1], 'CONSTRAINT') || (isWord(spec[k + 1], 'FOREIGN') && isWord(spec[k + 2], 'KEY')))) {
      k += isWord(spec[k + 1], 'CONSTRAINT') ? 2 : 3;
      if (isWord(spec[k], 'IF') && isWord(spec[k + 1], 'EXISTS')) k += 2;
      const n = spec[k] ? identName(spec[k]!) : null;
      if (n !== null) out.drop.push(n);
    }
  }
  return out;
}

const keyOf = (t: TableRef): string => `${t.database}.${t.table}`;
const same = (a: TableRef, b: TableRef): boolean => a.database === b.database && a.table === b.table;

/** Every table's foreign keys as they stand at the point of the log guard has reached. */
export class ForeignKeyMap {
  private readonly byChild = new Map<string, ForeignKey[]>();
  /** Parent -> keys referencing it; rebuilt after a change. */
  private byParent: Map<string, ForeignKey[]> | undefined;

  /** The table's definition (a snapshot's CREATE TABLE text or a CREATE TABLE statement) replaces its keys. */
  define(table: TableRef, keys: ForeignKey[]): void {
    if (keys.length) this.byChild.set(keyOf(table), keys);
    else this.byChild.delete(keyOf(table));
    this.byParent = undefined;
  }

  /** Every table's keys (for guard's saved state). */
  entries(): Array<[string, ForeignKey[]]> {
    return [...this.byChild];
  }

  /** Replaces every key with saved ones (entries()). */
  load(entries: Array<[string, ForeignKey[]]>): void {
    this.byChild.clear();
    for (const [k, keys] of entries) this.byChild.set(k, keys);
    this.byParent = undefined;
  }

  /** Keys declared by the table (as child). */
  of(table: TableRef): ForeignKey[] {
    return this.byChild.get(keyOf(table)) ?? [];
  }

  /** Keys referencing the table (as parent), self-references included. */
  referencing(parent: TableRef): ForeignKey[] {
    if (!this.byParent) {
      this.byParent = new Map();
      for (const keys of this.byChild.values()) {
        for (const k of keys) {
          const p = keyOf(k.parent);
          const list = this.byParent.get(p);
          if (list) list.push(k);
          else this.byParent.set(p, [k]);
        }
      }
    }
    return this.byParent.get(keyOf(parent)) ?? [];
  }

  alter(table: TableRef, change: AlterKeys): void {
    const drop = new Set(change.drop.map((n) => n.toLowerCase()));
    const kept = this.of(table).filter((k) => !drop.has(k.name.toLowerCase()));
    this.define(table, [...kept, ...nameKeys(change.add, table.table, kept)]);
  }

  /** A column renamed (CHANGE / RENAME COLUMN): InnoDB renames it in the keys too. */
  renameColumn(table: TableRef, from: string, to: string): void {
    const keys = this.of(table);
    if (!keys.some((k) => k.columns.some((c) => c.toLowerCase() === from.toLowerCase()))) return;
    this.define(table, keys.map((k) => ({ ...k, columns: k.columns.map((c) => (c.toLowerCase() === from.toLowerCase() ? to : c)) })));
  }

  /** A table renamed: its own keys move, and InnoDB points the keys referencing it at the new name. */
  rename(from: TableRef, to: TableRef): void {
    const own = this.of(from);
    this.byChild.delete(keyOf(from));
    for (const [k, keys] of this.byChild) {
      if (keys.some((x) => same(x.parent, from))) this.byChild.set(k, keys.map((x) => (same(x.parent, from) ? { ...x, parent: to } : x)));
    }
    this.byParent = undefined;
    this.define(to, own.map((x) => ({ ...x, child: to, parent: same(x.parent, from) ? to : x.parent })));
  }

  /**
   * A table dropped: its own keys go. Keys referencing it stay (possible under foreign_key_checks=0):
   * InnoDB keeps them, and they bind again to a table created under that name.
   */
  drop(table: TableRef): void {
    this.define(table, []);
  }

  dropDatabase(database: string): void {
    for (const k of [...this.byChild.keys()]) if (this.byChild.get(k)![0]!.child.database === database) this.byChild.delete(k);
    this.byParent = undefined;
  }
}
