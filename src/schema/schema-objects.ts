// The views, triggers, stored routines and events of a schema history: the snapshot's objects, then
// each CREATE / ALTER / DROP of them (and the DROP TABLE, RENAME TABLE and DROP DATABASE that take
// triggers along) in commit order. A restore recreates what the catalog holds at the cut. Pure.
import { identName, renamedTables, tokenize } from './ddl-rewriter.js';

export type ObjectKind = 'VIEW' | 'TRIGGER' | 'PROCEDURE' | 'FUNCTION' | 'EVENT';
const KINDS = new Set<string>(['VIEW', 'TRIGGER', 'PROCEDURE', 'FUNCTION', 'EVENT']);

export interface SchemaObject {
  kind: ObjectKind;
  database: string;
  name: string;
  /** A trigger's table. */
  table?: string;
  /** The CREATE statement, to run with `database` as the default database. */
  statement: string;
  /** sql_mode to create it under: bits as logged, or mode names from the snapshot; unset = unknown. */
  sqlMode?: string;
  /** Epoch seconds it was created at, when known (events start then; triggers and routines record it). */
  createdAt?: number;
  /** ALTER statements of routines and events since their CREATE, in order. */
  alters: { statement: string; sqlMode?: string; at?: number }[];
}

type Sig = { text: string; kind: string }[];

/** Whether an sql_mode (bits as logged, or names) makes "..." an identifier. */
export function ansiQuotes(sqlMode: string | undefined): boolean {
  if (sqlMode === undefined) return false;
  return /^\d+$/.test(sqlMode) ? (BigInt(sqlMode) & 4n) !== 0n : /\bANSI(_QUOTES)?\b/i.test(sqlMode);
}

/** Tokens, with "..." read as an identifier under ANSI_QUOTES. */
function tokens(sql: string, ansi: boolean): { kind: string; text: string; raw?: string }[] {
  if (!ansi) return tokenize(sql);
  // The text of each token as written, so a rewrite changes only what it replaces.
  const plain = tokenize(sql, true);
  let at = 0;
  return plain.map((t) => {
    if (t.kind !== 'qid' || sql[at] !== '"') {
      at += t.kind === 'qid' && sql[at] === '"' ? 0 : t.text.length;
      return t;
    }
    let j = at + 1;
    while (j < sql.length && !(sql[j] === '"' && sql[j + 1] !== '"')) j += sql[j] === '"' ? 2 : 1;
    const raw = sql.slice(at, j + 1);
    at = j + 1;
    return { ...t, raw };
  });
}

function significant(sql: string, ansi = false): Sig {
  return tokens(sql, ansi).filter((t) => t.kind !== 'ws' && t.kind !== 'comment');
}

const word = (s: Sig, k: number) => (s[k]?.kind === 'word' ? s[k]!.text.toUpperCase() : '');
const name = (s: Sig, k: number) => (s[k] ? identName(s[k] as Parameters<typeof identName>[0]) : null);

/** Reads [db.]name at k. */
function objectName(s: Sig, k: number, defaultDb: string): { database: string; name: string; next: number } | null {
  const a = name(s, k);
  if (a === null) return null;
  if (s[k + 1]?.text === '.') {
    const b = name(s, k + 2);
    if (b !== null) return { database: a, name: b, next: k + 3 };
  }
  return { database: defaultDb, name: a, next: k + 1 };
}

/** Skips CREATE/ALTER options before the object keyword: OR REPLACE, ALGORITHM=, DEFINER=, SQL SECURITY, AGGREGATE. */
function skipOptions(s: Sig, k: number): number {
  for (;;) {
    const w = word(s, k);
    if (w === 'OR' && word(s, k + 1) === 'REPLACE') k += 2;
    else if (w === 'ALGORITHM') k += s[k + 1]?.text === '=' ? 3 : 2;
    else if (w === 'SQL' && word(s, k + 1) === 'SECURITY') k += 3;
    else if (w === 'AGGREGATE') k += 1;
    else if (w === 'DEFINER') {
      k += s[k + 1]?.text === '=' ? 3 : 2; // the user (or CURRENT_USER)
      if (s[k]?.text === '@') k += 2;
      else if (s[k]?.text === '(' && s[k + 1]?.text === ')') k += 2;
    } else return k;
  }
}

export interface ObjectStatement {
  action: 'create' | 'alter' | 'drop';
  kind: ObjectKind;
  database: string;
  names: string[];
  /** CREATE TRIGGER: its table. */
  table?: string;
  /** ALTER EVENT ... RENAME TO: the new name. */
  renameTo?: string;
}

/** What a statement does to views, triggers, routines or events; null for anything else. */
export function parseObjectStatement(sql: string, defaultDb: string, ansi = false): ObjectStatement | null {
  const s = significant(sql, ansi);
  const verb = word(s, 0);
  if (verb !== 'CREATE' && verb !== 'ALTER' && verb !== 'DROP') return null;
  let k = verb === 'DROP' ? 1 : skipOptions(s, 1);
  const kind = word(s, k);
  if (!KINDS.has(kind)) return null;
  k++;
  if (word(s, k) === 'IF') k += word(s, k + 1) === 'NOT' ? 3 : 2;
  const first = objectName(s, k, defaultDb);
  if (!first) return null;
  const out: ObjectStatement = { action: verb.toLowerCase() as ObjectStatement['action'], kind: kind as ObjectKind, database: first.database, names: [first.name] };
  k = first.next;
  if (verb === 'DROP' && kind === 'VIEW') {
    while (s[k]?.text === ',') {
      const n = objectName(s, k + 1, defaultDb);
      if (!n) break;
      out.names.push(n.name);
      k = n.next;
    }
  }
  if (verb === 'CREATE' && kind === 'TRIGGER') {
    for (; k < s.length; k++) {
      if (word(s, k) === 'ON') {
        const t = objectName(s, k + 1, first.database);
        if (t) out.table = t.name;
        break;
      }
    }
  }
  if (verb === 'ALTER' && kind === 'EVENT') {
    for (; k < s.length; k++) {
      if (word(s, k) === 'DO') break;
      if (word(s, k) === 'RENAME' && word(s, k + 1) === 'TO') {
        const n = objectName(s, k + 2, first.database);
        if (n) out.renameTo = n.name;
        break;
      }
    }
  }
  return out;
}

/** Replaces the table a CREATE TRIGGER statement names after ON. */
function retargetTrigger(sql: string, table: string): string {
  const toks = tokenize(sql);
  let seenTrigger = false;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.kind !== 'word') continue;
    const w = t.text.toUpperCase();
    if (w === 'TRIGGER') seenTrigger = true;
    else if (seenTrigger && w === 'ON') {
      let j = i + 1;
      while (toks[j] && (toks[j]!.kind === 'ws' || toks[j]!.kind === 'comment')) j++;
      if (toks[j] && identName(toks[j]!) !== null) {
        let end = j;
        if (toks[j + 1]?.text === '.' && toks[j + 2] && identName(toks[j + 2]!) !== null) end = j + 2;
        toks.splice(j, end - j + 1, { kind: 'qid', text: '`' + table.replace(/`/g, '``') + '`' });
      }
      break;
    }
  }
  return toks.map((t) => t.text).join('');
}

/** Routine and event names are case-insensitive; views and triggers follow the table names' case. */
function keyOf(kind: ObjectKind, database: string, n: string): string {
  const folded = kind === 'PROCEDURE' || kind === 'FUNCTION' || kind === 'EVENT' ? n.toLowerCase() : n;
  return `${kind}\u0000${database}\u0000${folded}`;
}

const OBJECT_WORDS = /\b(view|trigger|procedure|function|event)\b/i;
const TABLE_WORDS = /^\s*(drop|rename|alter)\b/i;
const DROP_DATABASE = /^\s*drop\s+(database|schema)\b/i;

export class ObjectCatalog {
  private readonly byKey = new Map<string, SchemaObject>();

  private hasTriggers(): boolean {
    for (const o of this.byKey.values()) if (o.kind === 'TRIGGER') return true;
    return false;
  }

  constructor(initial: { database: string; kind: string; name: string; createSql: string; sqlMode?: string; table?: string }[] = []) {
    for (const o of initial) {
      if (!KINDS.has(o.kind)) continue;
      const kind = o.kind as ObjectKind;
      this.byKey.set(keyOf(kind, o.database, o.name), {
        kind,
        database: o.database,
        name: o.name,
        ...(o.table ? { table: o.table } : {}),
        statement: o.createSql,
        ...(o.sqlMode !== undefined ? { sqlMode: o.sqlMode } : {}),
        alters: [],
      });
    }
  }

  /** Applies one logged statement. */
  apply(sql: string, defaultDb: string, sqlMode?: string, at?: number): void {
    // Most of a log's DDL touches none of this: skip it before tokenizing (every restore plans over all of it).
    if (!OBJECT_WORDS.test(sql) && !(this.byKey.size && (DROP_DATABASE.test(sql) || (this.hasTriggers() && TABLE_WORDS.test(sql))))) return;
    const ansi = ansiQuotes(sqlMode);
    const st = parseObjectStatement(sql, defaultDb, ansi);
    if (st) return this.applyObject(st, sql, sqlMode, at);
    const s = significant(sql, ansi);
    if (word(s, 0) === 'DROP' && (word(s, 1) === 'DATABASE' || word(s, 1) === 'SCHEMA')) {
      const db = name(s, word(s, 2) === 'IF' ? 4 : 2);
      if (db !== null) for (const [k, o] of this.byKey) if (o.database === db) this.byKey.delete(k);
      return;
    }
    if (word(s, 0) === 'DROP' && word(s, 1) === 'TABLE') {
      let k = word(s, 2) === 'IF' ? 4 : 2;
      for (;;) {
        const t = objectName(s, k, defaultDb);
        if (!t) break;
        for (const [key, o] of this.byKey) if (o.kind === 'TRIGGER' && o.database === t.database && o.table === t.name) this.byKey.delete(key);
        if (s[t.next]?.text !== ',') break;
        k = t.next + 1;
      }
      return;
    }
    for (const r of renamedTables(sql, defaultDb)) {
      for (const o of this.byKey.values()) {
        if (o.kind !== 'TRIGGER' || o.database !== r.from.database || o.table !== r.from.table) continue;
        // MariaDB refuses to move a table with triggers to another database: the database stays.
        o.table = r.to.table;
        o.statement = retargetTrigger(o.statement, r.to.table);
      }
    }
  }

  private applyObject(st: ObjectStatement, sql: string, sqlMode?: string, at?: number): void {
    if (st.action === 'drop') {
      for (const n of st.names) this.byKey.delete(keyOf(st.kind, st.database, n));
      return;
    }
    const key = keyOf(st.kind, st.database, st.names[0]!);
    if (st.action === 'create' || st.kind === 'VIEW') {
      // ALTER VIEW is CREATE OR REPLACE VIEW under another verb.
      const statement = st.action === 'alter' ? sql.replace(/^\s*ALTER\b/i, 'CREATE OR REPLACE') : sql;
      const existing = this.byKey.get(key);
      if (existing && st.action === 'create' && !/^\s*CREATE\s+OR\s+REPLACE\b/i.test(sql)) return; // IF NOT EXISTS kept the old one
      this.byKey.delete(key);
      this.byKey.set(key, {
        kind: st.kind,
        database: st.database,
        name: st.names[0]!,
        ...(st.table ? { table: st.table } : {}),
        statement,
        ...(sqlMode !== undefined ? { sqlMode } : {}),
        ...(at !== undefined ? { createdAt: at } : {}),
        alters: [],
      });
      return;
    }
    const o = this.byKey.get(key);
    if (!o) return;
    o.alters.push({ statement: sql, ...(sqlMode !== undefined ? { sqlMode } : {}), ...(at !== undefined ? { at } : {}) });
    if (st.renameTo !== undefined) {
      this.byKey.delete(key);
      o.name = st.renameTo;
      this.byKey.set(keyOf(o.kind, o.database, o.name), o);
    }
  }

  /** The objects of a database (or all), in the order they were created: views may use earlier views. */
  objects(database?: string): SchemaObject[] {
    return [...this.byKey.values()].filter((o) => database === undefined || o.database === database);
  }
}

/** The statement with database qualifiers `from` replaced by `to` (names only, never strings or NEW.col). */
export function retargetDatabase(sql: string, from: string, to: string, ansi = false): string {
  if (from === to) return sql;
  const toks: { kind: string; text: string; raw?: string }[] = tokens(sql, ansi);
  for (let i = 0; i + 1 < toks.length; i++) {
    const t = toks[i]!;
    if (identName(t as Parameters<typeof identName>[0]) !== from || toks[i + 1]!.text !== '.') continue;
    if (i > 0 && toks[i - 1]!.text === '.') continue;
    // Keep the statement's own quoting (routine and trigger bodies are stored as written).
    toks[i] = t.kind === 'word' && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(to) ? { kind: 'word', text: to } : { kind: 'qid', text: '`' + to.replace(/`/g, '``') + '`' };
  }
  return toks.map((x) => x.raw ?? x.text).join('');
}
