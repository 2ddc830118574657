// Replays recorded DDL into scratch databases without a SQL parser: a tokenizer finds database
// qualifiers (`db`.`t`, CREATE/DROP DATABASE db) and maps them to scratch names, and a keyword
// check decides which statements shape tables at all. Pure.

type Tok = { kind: 'ws' | 'comment' | 'str' | 'qid' | 'word' | 'punct'; text: string };

/** Tokens of a statement; under ANSI_QUOTES (`ansi`) "..." is an identifier, returned backtick-quoted. */
/** Whitespace as \s matches it in statements (charCode tests: tokenize runs over every DDL of a log). */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 160 || c === 0xfeff || (c >= 0x2000 && c <= 0x200a) || c === 0x1680 || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
}

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36 || c >= 0x80;
}

export function tokenize(sql: string, ansi = false): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (isSpace(sql.charCodeAt(i))) {
      let j = i + 1;
      while (j < n && isSpace(sql.charCodeAt(j))) j++;
      out.push({ kind: 'ws', text: sql.slice(i, j) });
      i = j;
    } else if (c === '#' || (c === '-' && sql[i + 1] === '-' && (i + 2 >= n || /\s/.test(sql[i + 2]!)))) {
      let j = sql.indexOf('\n', i);
      if (j < 0) j = n;
      out.push({ kind: 'comment', text: sql.slice(i, j) });
      i = j;
    } else if (c === '/' && sql[i + 1] === '*' && sql[i + 2] !== '!' && sql[i + 2] !== 'M') {
      let j = sql.indexOf('*/', i + 2);
      j = j < 0 ? n : j + 2;
      out.push({ kind: 'comment', text: sql.slice(i, j) });
      i = j;
    } else if (c === '/' && sql[i + 1] === '*') {
      // Executable comment /*!50100 ... */ or /*M! ... */: keep the opener, tokenize the body.
      let j = i + 2;
      if (sql[j] === 'M') j++;
      j++;
      while (j < n && /\d/.test(sql[j]!)) j++;
      out.push({ kind: 'punct', text: sql.slice(i, j) });
      i = j;
    } else if (c === '"' && ansi) {
      let j = i + 1;
      while (j < n) {
        if (sql[j] === '"' && sql[j + 1] === '"') j += 2;
        else if (sql[j] === '"') break;
        else j++;
      }
      out.push({ kind: 'qid', text: '`' + sql.slice(i + 1, j).replace(/""/g, '"').replace(/`/g, '``') + '`' });
      i = j + 1;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < n) {
        if (sql[j] === '\\') j += 2;
        else if (sql[j] === c && sql[j + 1] === c) j += 2;
        else if (sql[j] === c) break;
        else j++;
      }
      out.push({ kind: 'str', text: sql.slice(i, j + 1) });
      i = j + 1;
    } else if (c === '`') {
      let j = i + 1;
      while (j < n) {
        if (sql[j] === '`' && sql[j + 1] === '`') j += 2;
        else if (sql[j] === '`') break;
        else j++;
      }
      out.push({ kind: 'qid', text: sql.slice(i, j + 1) });
      i = j + 1;
    } else if (isWordChar(sql.charCodeAt(i))) {
      let j = i + 1;
      while (j < n && isWordChar(sql.charCodeAt(j))) j++;
      out.push({ kind: 'word', text: sql.slice(i, j) });
      i = j;
    } else {
      out.push({ kind: 'punct', text: c });
      i++;
    }
  }
  return out;
}

/**
 * The comma-separated items inside the parenthesis that opens at toks[open] (nested parentheses
 * kept inside their item), and the index just after the closing parenthesis.
 */
export function splitParenList<T extends { kind: string; text: string }>(toks: T[], open: number): { items: T[][]; end: number } {
  const items: T[][] = [];
  let cur: T[] = [];
  let depth = 0;
  let i = open + 1;
  for (; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.kind === 'punct' && t.text === '(') depth++;
    if (t.kind === 'punct' && t.text === ')') {
      if (depth === 0) break;
      depth--;
    }
    if (depth === 0 && t.kind === 'punct' && t.text === ',') {
      items.push(cur);
      cur = [];
    } else cur.push(t);
  }
  items.push(cur);
  return { items, end: i + 1 };
}

export function identName(t: Tok): string | null {
  if (t.kind === 'qid') return t.text.slice(1, -1).replace(/``/g, '`');
  if (t.kind === 'word') return t.text;
  return null;
}

function quote(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}

/** Upper-cased leading keywords (comments and whitespace skipped). */
export function leadingWords(sql: string, count = 6): string[] {
  const words: string[] = [];
  for (const t of tokenize(sql)) {
    if (t.kind === 'ws' || t.kind === 'comment') continue;
    if (t.kind !== 'word') break;
    words.push(t.text.toUpperCase());
    if (words.length >= count) break;
  }
  return words;
}

export type DdlKind = 'table' | 'database' | 'other';

/** Which statements shape tables or databases (replayed), and which do not (views, users, routines...). */
export function classifyDdl(sql: string): DdlKind {
  const w = leadingWords(sql, 8).filter((x) => !['OR', 'REPLACE', 'ONLINE', 'IGNORE', 'UNIQUE', 'FULLTEXT', 'SPATIAL', 'DEFINER'].includes(x));
  const [a, b] = w;
  if (a === 'CREATE' || a === 'DROP' || a === 'ALTER') {
    if (b === 'TEMPORARY') return 'other';
    if (b === 'TABLE' || b === 'INDEX') return 'table';
    if (b === 'DATABASE' || b === 'SCHEMA') return 'database';
    return 'other';
  }
  if (a === 'RENAME' && b === 'TABLE') return 'table';
  if (a === 'TRUNCATE') return 'table';
  return 'other';
}

/**
 * Rewrites database names in a DDL statement through `map` (source db -> scratch db). Unknown
 * databases get a scratch name from `nameFor`. Returns the rewritten SQL.
 */
export function rewriteDatabases(sql: string, nameFor: (db: string) => string, ansi = false): string {
  const toks = tokenize(sql, ansi);
  const sig = (i: number): number => {
    let j = i;
    while (j < toks.length && (toks[j]!.kind === 'ws' || toks[j]!.kind === 'comment')) j++;
    return j;
  };
  // CREATE/DROP/ALTER DATABASE|SCHEMA [IF [NOT] EXISTS] name
  const words = toks.map((t, i) => ({ t, i })).filter((x) => x.t.kind !== 'ws' && x.t.kind !== 'comment');
  const dbStmt = words.findIndex((x) => x.t.kind === 'word' && /^(DATABASE|SCHEMA)$/i.test(x.t.text));
  if (dbStmt >= 0 && dbStmt <= 3 && classifyDdl(sql) === 'database') {
    let k = dbStmt + 1;
    while (k < words.length && words[k]!.t.kind === 'word' && /^(IF|NOT|EXISTS)$/i.test(words[k]!.t.text)) k++;
    const target = words[k];
    if (target) {
      const name = identName(target.t);
      if (name !== null) toks[target.i] = { kind: 'qid', text: quote(nameFor(name)) };
    }
    return toks.map((t) => t.text).join('');
  }
  // ident . ident  -> qualifier is a database (in table DDL, the only three-part names are db.t.col,
  // whose first part is a database too).
  for (let i = 0; i < toks.length; i++) {
    const name = identName(toks[i]!);
    if (name === null) continue;
    // A qualifier touches its dot (`db`.`t`); "DEFAULT .5" is a number, not a name.
    const d = i + 1;
    if (toks[d]?.kind === 'punct' && toks[d]!.text === '.') {
      const e = sig(d + 1);
      const next = toks[e];
      if (next && identName(next) !== null && !(next.kind === 'word' && /^\d+(e\d*)?$/i.test(next.text))) {
        // Skip the middle of a.b.c: only the first part is a database.
        const prev = i > 0 ? toks[i - 1] : undefined;
        if (prev && prev.kind === 'punct' && prev.text === '.') continue;
        if (toks[i]!.kind === 'word' && /^\d+$/.test(toks[i]!.text)) continue;
        toks[i] = { kind: 'qid', text: quote(nameFor(name)) };
        i = e;
      }
    }
  }
  return toks.map((t) => t.text).join('');
}

export interface TableName {
  database: string;
  table: string;
}

/** Reads a possibly qualified table name at token index i; returns it and the index after it. */
function readTableName(toks: Tok[], i: number, defaultDb: string): { name: TableName; next: number } | null {
  const skip = (j: number) => {
    while (j < toks.length && (toks[j]!.kind === 'ws' || toks[j]!.kind === 'comment')) j++;
    return j;
  };
  let j = skip(i);
  const first = toks[j] ? identName(toks[j]!) : null;
  if (first === null) return null;
  j++;
  if (toks[j]?.kind === 'punct' && toks[j]!.text === '.') {
    const k = skip(j + 1);
    const second = toks[k] ? identName(toks[k]!) : null;
    if (second === null) return null;
    return { name: { database: first, table: second }, next: k + 1 };
  }
  return { name: { database: defaultDb, table: first }, next: j };
}

/**
 * Table renames a statement performs: RENAME TABLE a TO b[, c TO d] and ALTER TABLE a ... RENAME
 * [TO|AS] b. Unqualified names belong to the statement's default database.
 */
export function renamedTables(sql: string, defaultDb: string): { from: TableName; to: TableName }[] {
  if (!/rename/i.test(sql)) return [];
  const toks = tokenize(sql);
  const sig = toks.map((t, i) => ({ t, i })).filter((x) => x.t.kind !== 'ws' && x.t.kind !== 'comment');
  const word = (k: number) => (sig[k]?.t.kind === 'word' ? sig[k]!.t.text.toUpperCase() : '');
  const out: { from: TableName; to: TableName }[] = [];
  if (word(0) === 'RENAME' && (word(1) === 'TABLE' || word(1) === 'TABLES')) {
    let i = sig[1]!.i + 1;
    for (;;) {
      const a = readTableName(toks, i, defaultDb);
      if (!a) break;
      let j = a.next;
      while (j < toks.length && (toks[j]!.kind === 'ws' || toks[j]!.kind === 'comment')) j++;
      if (!(toks[j]?.kind === 'word' && toks[j]!.text.toUpperCase() === 'TO')) break;
      const b = readTableName(toks, j + 1, defaultDb);
      if (!b) break;
      out.push({ from: a.name, to: b.name });
      j = b.next;
      while (j < toks.length && (toks[j]!.kind === 'ws' || toks[j]!.kind === 'comment')) j++;
      if (toks[j]?.kind === 'punct' && toks[j]!.text === ',') i = j + 1;
      else break;
    }
    return out;
  }
  let k = 0;
  if (word(k) !== 'ALTER') return out;
  k++;
  while (word(k) === 'ONLINE' || word(k) === 'IGNORE') k++;
  if (word(k) !== 'TABLE') return out;
  const a = readTableName(toks, sig[k]!.i + 1, defaultDb);
  if (!a) return out;
  // A RENAME clause at top level (not RENAME COLUMN / INDEX / KEY).
  let depth = 0;
  for (let j = a.next; j < toks.length; j++) {
    const t = toks[j]!;
    if (t.kind === 'punct' && t.text === '(') depth++;
    else if (t.kind === 'punct' && t.text === ')') depth--;
    else if (depth === 0 && t.kind === 'word' && t.text.toUpperCase() === 'RENAME') {
      let n = j + 1;
      while (n < toks.length && (toks[n]!.kind === 'ws' || toks[n]!.kind === 'comment')) n++;
      const w = toks[n]?.kind === 'word' ? toks[n]!.text.toUpperCase() : '';
      if (w === 'COLUMN' || w === 'INDEX' || w === 'KEY') continue;
      const b = readTableName(toks, w === 'TO' || w === 'AS' ? n + 1 : n, defaultDb);
      if (b) out.push({ from: a.name, to: b.name });
      break;
    }
  }
  return out;
}

/**
 * Whether a table statement may name a table of its default database: false only when every table
 * it names is qualified (the forms capture logs: CREATE/ALTER/DROP/RENAME/TRUNCATE TABLE, CREATE/DROP
 * INDEX, with LIKE, REFERENCES and RENAME TO targets). Anything it cannot read counts as using it.
 */
export function usesDefaultDatabase(sql: string): boolean {
  const toks = tokenize(sql);
  const sig = toks.map((t, i) => ({ t, i })).filter((x) => x.t.kind !== 'ws' && x.t.kind !== 'comment');
  const word = (k: number) => (sig[k]?.t.kind === 'word' ? sig[k]!.t.text.toUpperCase() : '');
  // A name at sig[k]: null when none can be read there, else whether it is qualified; `next` is its end in sig.
  const nameAt = (k: number): { qualified: boolean; next: number } | null => {
    if (!sig[k]) return null;
    const n = readTableName(toks, sig[k]!.i, '');
    if (!n) return null;
    const next = sig.findIndex((x) => x.i >= n.next);
    return { qualified: n.name.database !== '', next: next < 0 ? sig.length : next };
  };
  // Every name of a comma list (DROP TABLE a, b / RENAME TABLE a TO b, c TO d) from sig[k].
  const list = (k: number, pairs: boolean): boolean => {
    for (;;) {
      const a = nameAt(k);
      if (!a || !a.qualified) return true;
      k = a.next;
      if (pairs) {
        if (word(k) !== 'TO') return true;
        const b = nameAt(k + 1);
        if (!b || !b.qualified) return true;
        k = b.next;
      }
      if (sig[k]?.t.text === ',') k++;
      else return sig[k] !== undefined && !['WAIT', 'NOWAIT', 'RESTRICT', 'CASCADE'].includes(word(k));
    }
  };
  let k = 0;
  const verb = word(k++);
  while (['OR', 'REPLACE', 'ONLINE', 'IGNORE', 'UNIQUE', 'FULLTEXT', 'SPATIAL'].includes(word(k))) k++;
  const object = word(k++);
  if (object === 'INDEX') {
    // CREATE INDEX [IF NOT EXISTS] i [USING ...] ON t (...) / DROP INDEX [IF EXISTS] i ON t
    const on = sig.findIndex((x, j) => j > k && word(j) === 'ON');
    const t = on < 0 ? null : nameAt(on + 1);
    return !t || !t.qualified;
  }
  if (verb === 'TRUNCATE') {
    const t = nameAt(object === 'TABLE' ? k : k - 1);
    return !t || !t.qualified || sig[t.next] !== undefined;
  }
  if (object !== 'TABLE' && object !== 'TABLES') return true;
  if (word(k) === 'IF') k += word(k + 1) === 'NOT' ? 3 : 2;
  if (verb === 'DROP') return list(k, false);
  if (verb === 'RENAME') return list(k, true);
  if (verb !== 'CREATE' && verb !== 'ALTER') return true;
  const subject = nameAt(k);
  if (!subject || !subject.qualified) return true;
  // Other names inside the statement: LIKE t, REFERENCES t, a top-level RENAME [TO|AS] t; a SELECT
  // (CREATE TABLE ... SELECT) reads tables this reader does not follow.
  let depth = 0;
  for (let j = subject.next; j < sig.length; j++) {
    const text = sig[j]!.t.text;
    if (text === '(') depth++;
    else if (text === ')') depth--;
    const w = word(j);
    if (w === 'SELECT' || w === 'FROM' || w === 'JOIN') return true;
    if (w === 'LIKE' || w === 'REFERENCES') {
      const t = nameAt(j + 1);
      if (!t || !t.qualified) return true;
    } else if (w === 'RENAME' && depth === 0 && !['COLUMN', 'INDEX', 'KEY'].includes(word(j + 1))) {
      const t = nameAt(word(j + 1) === 'TO' || word(j + 1) === 'AS' ? j + 2 : j + 1);
      if (!t || !t.qualified) return true;
    }
  }
  return false;
}

/** A foreign key a statement declares: `child` references `parent`; `acts` when it has a referential action (CASCADE, SET NULL, SET DEFAULT). */
export interface ForeignKeyEdge {
  child: TableName;
  parent: TableName;
  acts: boolean;
}

/**
 * Foreign keys declared by CREATE TABLE or ALTER TABLE (constraint clauses and column REFERENCES).
 * Unqualified names belong to the statement's default database. Errs on the side of finding one:
 * a restore that replays an FK's actions it need not is only slower.
 */
export function foreignKeyEdges(sql: string, defaultDb: string): ForeignKeyEdge[] {
  if (!/references/i.test(sql)) return [];
  const toks = tokenize(sql);
  const sig = toks.map((t, i) => ({ t, i })).filter((x) => x.t.kind !== 'ws' && x.t.kind !== 'comment');
  const word = (k: number) => (sig[k]?.t.kind === 'word' ? sig[k]!.t.text.toUpperCase() : '');
  let k = 0;
  if (word(k) !== 'CREATE' && word(k) !== 'ALTER') return [];
  k++;
  while (['OR', 'REPLACE', 'ONLINE', 'IGNORE', 'TEMPORARY'].includes(word(k))) k++;
  if (word(k) !== 'TABLE') return [];
  k++;
  if (word(k) === 'IF') k += word(k + 1) === 'NOT' ? 3 : 2;
  if (!sig[k]) return [];
  const child = readTableName(toks, sig[k]!.i, defaultDb);
  if (!child) return [];
  const out: ForeignKeyEdge[] = [];
  for (let s = k + 1; s < sig.length; s++) {
    if (word(s) !== 'REFERENCES') continue;
    const p = readTableName(toks, sig[s]!.i + 1, child.name.database);
    if (!p) continue;
    // Skip to the column list's end, then read MATCH / ON DELETE / ON UPDATE clauses.
    let j = sig.findIndex((x) => x.i >= p.next);
    if (j < 0) break;
    if (sig[j]!.t.text === '(') {
      let depth = 0;
      for (; j < sig.length; j++) {
        if (sig[j]!.t.text === '(') depth++;
        else if (sig[j]!.t.text === ')' && --depth === 0) break;
      }
      j++;
    }
    let acts = false;
    for (;;) {
      if (word(j) === 'MATCH') j += 2;
      else if (word(j) === 'ON' && (word(j + 1) === 'DELETE' || word(j + 1) === 'UPDATE')) {
        const a = word(j + 2);
        if (a === 'CASCADE') j += 3, (acts = true);
        else if (a === 'SET') j += 4, (acts = true);
        else if (a === 'NO') j += 4;
        else j += 3;
      } else break;
    }
    out.push({ child: child.name, parent: p.name, acts });
    s = j - 1;
  }
  return out;
}

/**
 * A CREATE TABLE statement (SHOW CREATE TABLE text) under another table name, with each REFERENCES
 * target replaced by what `target` returns for it (null keeps it). `database` of an unqualified
 * target is null.
 */
export function rewriteCreateTable(sql: string, newName: string, target: (database: string | null, table: string) => string | null): string {
  const toks = tokenize(sql);
  const next = (i: number) => {
    let j = i;
    while (j < toks.length && (toks[j]!.kind === 'ws' || toks[j]!.kind === 'comment')) j++;
    return j;
  };
  let named = false;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.kind !== 'word') continue;
    const w = t.text.toUpperCase();
    if (!named && w === 'TABLE') {
      const j = next(i + 1);
      if (toks[j] && identName(toks[j]!) !== null) toks[j] = { kind: 'qid', text: quote(newName) };
      named = true;
      i = j;
    } else if (w === 'REFERENCES') {
      const a = next(i + 1);
      const first = toks[a] ? identName(toks[a]!) : null;
      if (first === null) continue;
      let end = a;
      let db: string | null = null;
      let table = first;
      if (toks[a + 1]?.kind === 'punct' && toks[a + 1]!.text === '.') {
        const b = next(a + 2);
        const second = toks[b] ? identName(toks[b]!) : null;
        if (second !== null) {
          db = first;
          table = second;
          end = b;
        }
      }
      const repl = target(db, table);
      if (repl !== null) {
        toks.splice(a, end - a + 1, { kind: 'punct', text: repl });
      }
      i = a;
    }
  }
  return toks.map((t) => t.text).join('');
}
