// What a logged DDL statement does to tables, as guard needs to know it: which tables it drops,
// empties, renames or creates, and which columns an ALTER drops, changes or adds. A token-level
// reading (no SQL parser): statements it does not understand have no effect. Pure.
import { identName } from '../schema/ddl-rewriter.js';
import { parseColumnType, parseCreateColumns, significant, splitTopLevel, type ColumnType } from './column-types.js';
import { alterForeignKeys, createForeignKeys, type AlterKeys, type ForeignKey } from './foreign-keys.js';

export interface TableRef {
  database: string;
  table: string;
}

export type ColumnChange =
  | { kind: 'drop'; column: string }
  | { kind: 'modify'; column: string; type: ColumnType }
  | { kind: 'change'; column: string; newName: string; type: ColumnType }
  | { kind: 'add'; column: string; type: ColumnType }
  | { kind: 'rename'; column: string; newName: string }
  | { kind: 'convert'; charset: string };

export type DdlEffect =
  | { kind: 'dropTables'; tables: TableRef[]; ifExists: boolean }
  | { kind: 'dropDatabase'; database: string }
  | { kind: 'truncate'; table: TableRef }
  /** `foreignKeys`: the keys the definition declares (none for LIKE: it copies no foreign keys). */
  | { kind: 'create'; table: TableRef; orReplace: boolean; columns: Map<string, ColumnType> | null; like?: TableRef; foreignKeys: ForeignKey[] }
  | { kind: 'alter'; table: TableRef; changes: ColumnChange[]; renameTo?: TableRef; keys: AlterKeys }
  | { kind: 'rename'; pairs: { from: TableRef; to: TableRef }[] }
  | { kind: 'none' };

type Tok = ReturnType<typeof significant>[number];

const isWord = (t: Tok | undefined, ...w: string[]): boolean => !!t && t.kind === 'word' && w.includes(t.text.toUpperCase());

/** Reads `name` or `db.name` at toks[i]; returns the reference and the index after it. */
function readName(toks: Tok[], i: number, defaultDb: string): { ref: TableRef; next: number } | null {
  const a = toks[i];
  if (!a) return null;
  const first = identName(a);
  if (first === null) return null;
  if (toks[i + 1]?.kind === 'punct' && toks[i + 1]!.text === '.' && toks[i + 2]) {
    const second = identName(toks[i + 2]!);
    if (second !== null) return { ref: { database: first, table: second }, next: i + 3 };
  }
  return { ref: { database: defaultDb, table: first }, next: i + 1 };
}

function skipIfExists(toks: Tok[], i: number): { i: number; found: boolean } {
  if (isWord(toks[i], 'IF') && isWord(toks[i + 1], 'EXISTS')) return { i: i + 2, found: true };
  if (isWord(toks[i], 'IF') && isWord(toks[i + 1], 'NOT') && isWord(toks[i + 2], 'EXISTS')) return { i: i + 3, found: true };
  return { i, found: false };
}

/** Effects of one statement run with `defaultDb` as the session's database. */
export function ddlEffect(statement: string, defaultDb: string): DdlEffect {
  // Executable comments (/*!40101 ... */) open with a punct token; drop their markers.
  const toks = significant(statement).filter((t) => !(t.kind === 'punct' && (t.text.startsWith('/*') || t.text === '*')));
  let i = 0;
  const kw = () => (toks[i]?.kind === 'word' ? toks[i]!.text.toUpperCase() : '');
  const verb = kw();
  i++;
  if (verb === 'DROP') {
    if (isWord(toks[i], 'DATABASE', 'SCHEMA')) {
      const s = skipIfExists(toks, i + 1);
      const name = toks[s.i] ? identName(toks[s.i]!) : null;
      return name === null ? { kind: 'none' } : { kind: 'dropDatabase', database: name };
    }
    if (isWord(toks[i], 'TEMPORARY')) return { kind: 'none' };
    if (!isWord(toks[i], 'TABLE', 'TABLES')) return { kind: 'none' };
    const s = skipIfExists(toks, i + 1);
    const tables: TableRef[] = [];
    for (const part of splitTopLevel(toks.slice(s.i))) {
      const r = readName(part, 0, defaultDb);
      if (r) tables.push(r.ref);
    }
    return { kind: 'dropTables', tables, ifExists: s.found };
  }
  if (verb === 'TRUNCATE') {
    if (isWord(toks[i], 'TABLE')) i++;
    const r = readName(toks, i, defaultDb);
    return r ? { kind: 'truncate', table: r.ref } : { kind: 'none' };
  }
  if (verb === 'CREATE') {
    let orReplace = false;
    if (isWord(toks[i], 'OR') && isWord(toks[i + 1], 'REPLACE')) {
      orReplace = true;
      i += 2;
    }
    if (isWord(toks[i], 'TEMPORARY')) return { kind: 'none' };
    if (!isWord(toks[i], 'TABLE')) return { kind: 'none' };
    const s = skipIfExists(toks, i + 1);
    const r = readName(toks, s.i, defaultDb);
    if (!r) return { kind: 'none' };
    let like: TableRef | undefined;
    const likeAt = toks.findIndex((t, k) => k >= r.next && k <= r.next + 1 && isWord(t, 'LIKE'));
    if (likeAt >= 0) like = readName(toks, likeAt + 1, defaultDb)?.ref;
    return { kind: 'create', table: r.ref, orReplace, columns: like ? null : parseCreateColumns(statement), like, foreignKeys: like ? [] : createForeignKeys(statement, r.ref) };
  }
  if (verb === 'RENAME') {
    if (!isWord(toks[i], 'TABLE', 'TABLES')) return { kind: 'none' };
    const pairs: { from: TableRef; to: TableRef }[] = [];
    for (const part of splitTopLevel(toks.slice(i + 1))) {
      const a = readName(part, 0, defaultDb);
      if (!a) continue;
      let k = a.next;
      if (isWord(part[k], 'WAIT')) k += 2;
      else if (isWord(part[k], 'NOWAIT')) k++;
      if (!isWord(part[k], 'TO')) continue;
      const b = readName(part, k + 1, defaultDb);
      if (b) pairs.push({ from: a.ref, to: b.ref });
    }
    return { kind: 'rename', pairs };
  }
  if (verb === 'ALTER') {
    while (isWord(toks[i], 'ONLINE', 'IGNORE')) i++;
    if (!isWord(toks[i], 'TABLE')) return { kind: 'none' };
    const s = skipIfExists(toks, i + 1);
    const r = readName(toks, s.i, defaultDb);
    if (!r) return { kind: 'none' };
    const changes: ColumnChange[] = [];
    let renameTo: TableRef | undefined;
    const specs = splitTopLevel(toks.slice(r.next));
    for (const spec of specs) {
      let k = 0;
      // Leading options like WAIT n / NOWAIT apply to the whole statement.
      if (isWord(spec[k], 'WAIT')) k += 2;
      else if (isWord(spec[k], 'NOWAIT')) k++;
      const op = spec[k]?.kind === 'word' ? spec[k]!.text.toUpperCase() : '';
      k++;
      if (op === 'DROP') {
        if (isWord(spec[k], 'INDEX', 'KEY', 'PRIMARY', 'FOREIGN', 'CONSTRAINT', 'CHECK', 'PARTITION', 'SYSTEM', 'PERIOD')) continue;
        if (isWord(spec[k], 'COLUMN')) k++;
        k = skipIfExists(spec, k).i;
        const name = spec[k] ? identName(spec[k]!) : null;
        if (name !== null) changes.push({ kind: 'drop', column: name });
      } else if (op === 'MODIFY') {
        if (isWord(spec[k], 'COLUMN')) k++;
        k = skipIfExists(spec, k).i;
        const name = spec[k] ? identName(spec[k]!) : null;
        const type = parseColumnType(spec.slice(k + 1));
        if (name !== null && type) changes.push({ kind: 'modify', column: name, type });
      } else if (op === 'CHANGE') {
        if (isWord(spec[k], 'COLUMN')) k++;
        k = skipIfExists(spec, k).i;
        const name = spec[k] ? identName(spec[k]!) : null;
        const newName = spec[k + 1] ? identName(spec[k + 1]!) : null;
        const type = parseColumnType(spec.slice(k + 2));
        if (name !== null && newName !== null && type) changes.push({ kind: 'change', column: name, newName, type });
      } else if (op === 'ADD') {
        if (isWord(spec[k], 'INDEX', 'KEY', 'PRIMARY', 'UNIQUE', 'FOREIGN', 'CONSTRAINT', 'CHECK', 'PARTITION', 'FULLTEXT', 'SPATIAL', 'SYSTEM', 'PERIOD')) continue;
        if (isWord(spec[k], 'COLUMN')) k++;
        k = skipIfExists(spec, k).i;
        if (spec[k]?.kind === 'punct' && spec[k]!.text === '(') {
          // ADD (a INT, b INT): a parenthesized list of definitions.
          const inner = parseCreateColumns(`CREATE TABLE x ${spec.slice(k).map((t) => t.text).join(' ')}`);
          for (const [column, type] of inner ?? []) changes.push({ kind: 'add', column, type });
          continue;
        }
        const name = spec[k] ? identName(spec[k]!) : null;
        const type = parseColumnType(spec.slice(k + 1));
        if (name !== null && type) changes.push({ kind: 'add', column: name, type });
      } else if (op === 'RENAME') {
        if (isWord(spec[k], 'COLUMN')) {
          const a = spec[k + 1] ? identName(spec[k + 1]!) : null;
          const b = spec[k + 3] ? identName(spec[k + 3]!) : null;
          if (a !== null && b !== null) changes.push({ kind: 'rename', column: a, newName: b });
        } else if (isWord(spec[k], 'INDEX', 'KEY')) continue;
        else {
          if (isWord(spec[k], 'TO', 'AS')) k++;
          renameTo = readName(spec, k, r.ref.database)?.ref;
        }
      } else if (op === 'CONVERT') {
        // CONVERT TO CHARACTER SET x
        const at = spec.findIndex((t) => isWord(t, 'SET', 'CHARSET'));
        const cs = at >= 0 && spec[at + 1] ? (identName(spec[at + 1]!) ?? spec[at + 1]!.text) : '';
        if (cs) changes.push({ kind: 'convert', charset: cs.replace(/^'|'$/g, '').toLowerCase() });
      }
    }
    return { kind: 'alter', table: r.ref, changes, renameTo, keys: alterForeignKeys(specs, r.ref) };
  }
  return { kind: 'none' };
}
