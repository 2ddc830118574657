// Column definitions as guard needs them: parsed from CREATE TABLE / ALTER column specs (token
// lists), and the judgement whether changing a column from one type to another can lose data. Pure.
import { identName, splitParenList, tokenize } from '../schema/ddl-rewriter.js';

type Tok = ReturnType<typeof tokenize>[number];

export interface ColumnType {
  /** Lower-case base type name ("int", "varchar", "decimal", "enum"...). */
  base: string;
  /** Parenthesized arguments as written: lengths, precision/scale, enum members (unquoted). */
  args: string[];
  unsigned: boolean;
  notNull: boolean;
  /** Character set named in the definition, lower-case, if any. */
  charset?: string;
}

/** Significant tokens (no whitespace or comments). */
export function significant(sql: string): Tok[] {
  return tokenize(sql).filter((t) => t.kind !== 'ws' && t.kind !== 'comment');
}

/** Splits tokens at top-level commas (parentheses respected). */
export function splitTopLevel(toks: Tok[]): Tok[][] {
  const out: Tok[][] = [];
  let cur: Tok[] = [];
  let depth = 0;
  for (const t of toks) {
    if (t.kind === 'punct' && t.text === '(') depth++;
    else if (t.kind === 'punct' && t.text === ')') depth--;
    if (depth === 0 && t.kind === 'punct' && t.text === ',') {
      out.push(cur);
      cur = [];
    } else cur.push(t);
  }
  if (cur.length) out.push(cur);
  return out;
}

function unquote(t: Tok): string {
  if (t.kind === 'str') {
    const q = t.text[0]!;
    return t.text.slice(1, -1).split(q + q).join(q).replace(/\\(.)/g, '$1');
  }
  return identName(t) ?? t.text;
}

const ALIASES: Record<string, string> = {
  integer: 'int', int4: 'int', int8: 'bigint', int1: 'tinyint', int2: 'smallint', int3: 'mediumint', middleint: 'mediumint',
  bool: 'tinyint', boolean: 'tinyint', numeric: 'decimal', dec: 'decimal', fixed: 'decimal', real: 'double', float8: 'double',
  float4: 'float', character: 'char', nchar: 'char', nvarchar: 'varchar', long: 'mediumtext',
};

/** Parses a column type starting at toks[0] (the type keyword) up to the end of the definition. */
export function parseColumnType(toks: Tok[]): ColumnType | null {
  const first = toks[0];
  if (!first || first.kind !== 'word') return null;
  let base = first.text.toLowerCase();
  let i = 1;
  if (base === 'double' && toks[1]?.text.toLowerCase() === 'precision') i++;
  if ((base === 'character' || base === 'char') && toks[1]?.text.toLowerCase() === 'varying') {
    base = 'varchar';
    i++;
  }
  if (base === 'national') {
    base = (toks[1]?.text.toLowerCase() ?? 'char') === 'varchar' ? 'varchar' : 'char';
    i++;
  }
  base = ALIASES[base] ?? base;
  if (first.text.toLowerCase().startsWith('bool')) {
    return { base: 'tinyint', args: ['1'], unsigned: false, notNull: hasNotNull(toks), charset: undefined };
  }
  const args: string[] = [];
  if (toks[i]?.kind === 'punct' && toks[i]!.text === '(') {
    const list = splitParenList(toks, i);
    args.push(...list.items.map((item) => item.map(unquote).join('')));
    i = list.end;
  }
  let unsigned = false;
  let charset: string | undefined;
  for (let k = i; k < toks.length; k++) {
    const w = toks[k]!.text.toLowerCase();
    if (w === 'unsigned' || w === 'zerofill') unsigned = true;
    else if ((w === 'charset' || (w === 'character' && toks[k + 1]?.text.toLowerCase() === 'set')) && toks.length > k + 1) {
      const name = w === 'charset' ? toks[k + 1] : toks[k + 2];
      if (name) charset = unquote(name).toLowerCase();
    } else if (w === 'default' || w === 'comment' || w === 'as' || w === 'generated') break;
  }
  return { base, args, unsigned, notNull: hasNotNull(toks), charset };
}

function hasNotNull(toks: Tok[]): boolean {
  for (let k = 0; k + 1 < toks.length; k++) {
    if (toks[k]!.text.toLowerCase() === 'not' && toks[k + 1]!.text.toLowerCase() === 'null') return true;
    if (toks[k]!.text.toLowerCase() === 'primary' && toks[k + 1]!.text.toLowerCase() === 'key') return true;
  }
  return false;
}

const NON_COLUMN = new Set(['PRIMARY', 'KEY', 'INDEX', 'UNIQUE', 'CONSTRAINT', 'FOREIGN', 'FULLTEXT', 'SPATIAL', 'CHECK', 'PERIOD', 'VECTOR']);

/** Column name -> type from a CREATE TABLE statement's column list; null when it has none (LIKE, AS SELECT). */
export function parseCreateColumns(sql: string): Map<string, ColumnType> | null {
  const toks = significant(sql);
  const open = toks.findIndex((t) => t.kind === 'punct' && t.text === '(');
  if (open < 0) return null;
  // CREATE TABLE t LIKE u / AS SELECT: no column list before the first parenthesis' keyword.
  const before = toks.slice(0, open).map((t) => t.text.toUpperCase());
  if (before.includes('LIKE') || before.includes('SELECT') || before.includes('AS')) return null;
  let depth = 0;
  let close = -1;
  for (let k = open; k < toks.length; k++) {
    if (toks[k]!.kind === 'punct' && toks[k]!.text === '(') depth++;
    else if (toks[k]!.kind === 'punct' && toks[k]!.text === ')' && --depth === 0) {
      close = k;
      break;
    }
  }
  const body = toks.slice(open + 1, close < 0 ? toks.length : close);
  const cols = new Map<string, ColumnType>();
  for (const el of splitTopLevel(body)) {
    const head = el[0];
    if (!head) continue;
    if (head.kind === 'word' && NON_COLUMN.has(head.text.toUpperCase())) continue;
    const name = identName(head);
    if (name === null) continue;
    const type = parseColumnType(el.slice(1));
    if (type) cols.set(name.toLowerCase(), type);
  }
  return cols;
}

const INT_RANK: Record<string, number> = { tinyint: 1, smallint: 2, mediumint: 3, int: 4, bigint: 5 };
const INT_DIGITS: Record<number, number> = { 1: 3, 2: 5, 3: 8, 4: 10, 5: 20 };
const TEXT_BYTES: Record<string, number> = { tinytext: 255, text: 65535, mediumtext: 16777215, longtext: 4294967295 };
const BLOB_BYTES: Record<string, number> = { tinyblob: 255, blob: 65535, mediumblob: 16777215, longblob: 4294967295 };
const TEMPORAL = new Set(['date', 'datetime', 'timestamp', 'time', 'year']);

function num(s: string | undefined, dflt: number): number {
  const n = Number(s);
  return s === undefined || s === '' || !Number.isFinite(n) ? dflt : n;
}

/** Capacity in characters of a character column, Infinity-ish for LONGTEXT. */
function charCapacity(t: ColumnType): number | undefined {
  if (t.base === 'char' || t.base === 'varchar') return num(t.args[0], 1);
  if (t.base in TEXT_BYTES) return Math.floor(TEXT_BYTES[t.base]! / 4);
  return undefined;
}

function byteCapacity(t: ColumnType): number | undefined {
  if (t.base === 'binary' || t.base === 'varbinary') return num(t.args[0], 1);
  if (t.base in BLOB_BYTES) return BLOB_BYTES[t.base]!;
  return undefined;
}

/**
 * Why changing a column from `from` to `to` can lose or alter stored values, or null when every
 * value of `from` survives unchanged. Unknown combinations count as lossy: guard errs towards
 * keeping a copy.
 */
export function lossyChange(from: ColumnType | undefined, to: ColumnType): string | null {
  if (!from) return 'the previous type is unknown';
  if (!from.notNull && to.notNull) return 'NULLs become defaults under NOT NULL';
  if (to.charset && to.charset !== from.charset && !to.charset.startsWith('utf8mb4') && from.charset !== undefined) {
    return `character set changes to ${to.charset}`;
  }
  const a = from.base;
  const b = to.base;
  const same = a === b && from.args.join(',') === to.args.join(',') && from.unsigned === to.unsigned;
  if (same) return null;
  const narrower = `${a}${from.args.length ? `(${from.args.join(',')})` : ''}${from.unsigned ? ' unsigned' : ''} to ${b}${to.args.length ? `(${to.args.join(',')})` : ''}${to.unsigned ? ' unsigned' : ''}`;
  if (a in INT_RANK) {
    const ra = INT_RANK[a]!;
    if (b in INT_RANK) {
      const rb = INT_RANK[b]!;
      if (from.unsigned === to.unsigned && rb >= ra) return null;
      if (from.unsigned && !to.unsigned && rb > ra) return null;
      return `integer range shrinks (${narrower})`;
    }
    if (b === 'decimal') {
      const p = num(to.args[0], 10);
      const s = num(to.args[1], 0);
      return p - s >= INT_DIGITS[ra]! ? null : `integer digits do not fit (${narrower})`;
    }
    if (b === 'double' && ra <= 4) return null;
    return `type changes ${narrower}`;
  }
  if (a === 'decimal' && b === 'decimal') {
    const [pa, sa, pb, sb] = [num(from.args[0], 10), num(from.args[1], 0), num(to.args[0], 10), num(to.args[1], 0)];
    if (pb - sb >= pa - sa && sb >= sa && (to.unsigned ? from.unsigned : true)) return null;
    return `decimal precision or scale shrinks (${narrower})`;
  }
  if (a === 'float' && b === 'double') return null;
  if (a === 'float' && b === 'float') return null;
  if (a === 'double' && b === 'double') return null;
  if (a === 'bit' && b === 'bit') return num(to.args[0], 1) >= num(from.args[0], 1) ? null : `bit width shrinks (${narrower})`;
  const ca = charCapacity(from);
  const cb = charCapacity(to);
  if (ca !== undefined && cb !== undefined) {
    // CHAR pads and strips trailing spaces: VARCHAR -> CHAR changes values.
    if (b === 'char' && a !== 'char') return `trailing spaces are lost (${narrower})`;
    return cb >= ca ? null : `character length shrinks (${narrower})`;
  }
  const ba = byteCapacity(from);
  const bb = byteCapacity(to);
  if (ba !== undefined && bb !== undefined) {
    if (b === 'binary' && a !== 'binary') return `binary values get padded (${narrower})`;
    return bb >= ba ? null : `byte length shrinks (${narrower})`;
  }
  if ((a === 'enum' && b === 'enum') || (a === 'set' && b === 'set')) {
    const missing = from.args.filter((m) => !to.args.includes(m));
    if (missing.length) return `${a} members removed: ${missing.join(', ')}`;
    // ENUM values are stored by index: reordering existing members is fine for the text value.
    return null;
  }
  if (TEMPORAL.has(a) && TEMPORAL.has(b)) {
    const fa = num(from.args[0], 0);
    const fb = num(to.args[0], 0);
    if (a === b) return fb >= fa ? null : `fractional seconds shrink (${narrower})`;
    if (a === 'date' && b === 'datetime') return null;
    if (a === 'timestamp' && b === 'datetime') return fb >= fa ? null : `fractional seconds shrink (${narrower})`;
    return `type changes ${narrower}`;
  }
  if (a === 'year' && b in INT_RANK && INT_RANK[b]! >= 2) return null;
  if (a === 'json' && b === 'longtext') return null;
  return `type changes ${narrower}`;
}
