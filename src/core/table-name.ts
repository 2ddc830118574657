// Database and table names as users type them and as pitr prints them, with MySQL's own quoting:
// backticks around a name, a doubled backtick for a backtick inside (`d.ot`.t3, db.`we``ird`).
// One parser for every flag that names a table or database, and one printer, so that what pitr
// prints can be pasted back. Pure.
import { UsageError } from './errors.js';

export interface QualifiedName {
  database: string;
  table: string;
}

/** One dot-separated part of a name as typed: its text, and whether it was backtick-quoted. */
export interface NamePart {
  text: string;
  quoted: boolean;
}

const HINT = 'quote a name holding a dot or backtick with backticks, doubling a backtick inside: `d.ot`.t3, db.`we``ird`';

/**
 * Splits `text` at each `sep` outside backticks ("a.b,`c,d`.e" at "," -> ["a.b", "`c,d`.e"]).
 * A backtick left open is an error: the rest of the text would silently become one name.
 */
export function splitOutsideQuotes(text: string, sep: string, what = 'the name'): string[] {
  const out: string[] = [];
  let cur = '';
  let inQuote = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '`') {
      // Inside quotes, a doubled backtick is a literal one and does not close the name.
      if (inQuote && text[i + 1] === '`') {
        cur += '``';
        i++;
        continue;
      }
      inQuote = !inQuote;
      cur += c;
    } else if (c === sep && !inQuote) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (inQuote) throw new UsageError(`${what} "${text}" has a backtick that is never closed; ${HINT}.`);
  out.push(cur);
  return out;
}

/** Parses "a.`b.c`" into its parts; unquoted parts may not hold a backtick. */
export function parseNameParts(text: string, what = 'the name'): NamePart[] {
  const parts: NamePart[] = [];
  const t = text.trim();
  for (const raw of splitOutsideQuotes(t, '.', what)) {
    if (raw.startsWith('`')) {
      if (raw.length < 2 || !raw.endsWith('`')) throw new UsageError(`${what} "${text}" is not a valid name; ${HINT}.`);
      const inner = raw.slice(1, -1);
      // A single backtick inside would have closed the quote: only doubled ones remain here.
      if (inner.replace(/``/g, '').includes('`')) throw new UsageError(`${what} "${text}" is not a valid name; ${HINT}.`);
      parts.push({ text: inner.replace(/``/g, '`'), quoted: true });
    } else {
      if (raw.includes('`')) throw new UsageError(`${what} "${text}" is not a valid name; ${HINT}.`);
      parts.push({ text: raw, quoted: false });
    }
  }
  if (parts.some((p) => p.text === '')) throw new UsageError(`${what} "${text}" has an empty name part; use database.table (${HINT}).`);
  return parts;
}

/** "db.t", "`d.ot`.t3", "db.`we``ird`" -> { database, table }. */
export function parseQualifiedName(text: string, what = 'table name'): QualifiedName {
  let parts: NamePart[];
  try {
    parts = parseNameParts(text, what);
  } catch (err) {
    if (text.trim() && !text.includes('.')) throw new UsageError(`"${text}" is not a table name; use database.table.`);
    throw err;
  }
  if (parts.length === 2) return { database: parts[0]!.text, table: parts[1]!.text };
  if (parts.length === 1) throw new UsageError(`"${text}" is not a table name; use database.table.`);
  const raw = text.trim();
  const dots = raw.split('.');
  const ways = [1, dots.length - 1].map((i) => formatQualifiedName(dots.slice(0, i).join('.'), dots.slice(i).join('.')));
  throw new UsageError(`"${text}" has more than one dot, so which part is the database is unclear: write ${[...new Set(ways)].join(' or ')} (backticks quote a name holding a dot).`);
}

/**
 * A database name given alone (--database, query --database): backticks quote as in a qualified
 * name, but an unquoted name is taken whole, dots and backticks included (there is nothing to
 * split it from).
 */
export function parseDatabaseName(text: string, what = 'database name'): string {
  const t = text.trim();
  if (!t) throw new UsageError(`${what} is empty.`);
  if (t.startsWith('`')) {
    const parts = parseNameParts(t, what);
    if (parts.length !== 1) throw new UsageError(`${what} "${text}" is not one database name; ${HINT}.`);
    return parts[0]!.text;
  }
  return t;
}

/** Whether a name can be written bare in SQL and on the command line (and read back the same). */
function isBare(name: string): boolean {
  return /^[A-Za-z0-9_$\u0080-\uFFFF]+$/.test(name) && !/^\d+$/.test(name) && !/^\d+e\d*$/i.test(name);
}

/** A name for printing: bare when it can be, else backtick-quoted with backticks doubled. */
export function formatName(name: string): string {
  return isBare(name) ? name : '`' + name.replace(/`/g, '``') + '`';
}

/** db.t as pitr prints it, quoting only the parts that need it: `d.ot`.t3. */
export function formatQualifiedName(database: string, table: string): string {
  return `${formatName(database)}.${formatName(table)}`;
}

/**
 * A collision-free map key for a table: the log's Kafka key "db.table" is the same for `a.b`.c and
 * a.`b.c`, this is not.
 */
export function tableId(database: string, table: string): string {
  return `${database}\u0000${table}`;
}

export function fromTableId(id: string): QualifiedName {
  const i = id.indexOf('\u0000');
  return { database: id.slice(0, i), table: id.slice(i + 1) };
}
