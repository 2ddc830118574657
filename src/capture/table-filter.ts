// Capture's --tables filter: rules such as db.t, db2.*, shop_*.*, *.orders, db.t?, `d.ot`.t3,
// separated by commas. `*` and `?` in an unquoted part are globs (any run of characters, one
// character); inside backticks they are literal. A rule must match a table on the source when
// capture starts, except a rule marked `+` (`+newdb.*`): a database or table that will exist later.
// Parsing, matching and the checks against the source's table list. Pure.
import { ALL_USER_TABLES, isSystemDatabase, type TableFilter } from './transaction-builder.js';
import { UsageError } from '../core/errors.js';
import { formatName, formatQualifiedName, parseNameParts, splitOutsideQuotes, type NamePart, type QualifiedName } from '../core/table-name.js';
import { editDistance } from '../config/suggest.js';

export interface FilterRule {
  database: NamePart;
  table: NamePart;
  /** Written with a leading `+`: may match nothing yet. */
  future: boolean;
  /** Normal form as recorded in the log (without the `+`). */
  text: string;
}

const isGlob = (p: NamePart) => !p.quoted && /[*?]/.test(p.text);

/** A part in normal form: globs as typed, names quoted only when they need it. */
function partText(p: NamePart): string {
  return isGlob(p) ? p.text : formatName(p.text);
}

function partMatcher(p: NamePart): (name: string) => boolean {
  if (!isGlob(p)) return (name) => name === p.text;
  const re = new RegExp(
    '^' +
      p.text
        .split('')
        .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
        .join('') +
      '$',
    's',
  );
  return (name) => re.test(name);
}

/** The rules of a --tables text; [] for "" or undefined (every user database). */
export function parseFilterRules(spec: string | undefined): FilterRule[] {
  if (!spec || !spec.trim()) return [];
  return splitOutsideQuotes(spec, ',', '--tables')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((raw) => {
      const future = raw.startsWith('+');
      const body = future ? raw.slice(1).trim() : raw;
      const parts = parseNameParts(body, '--tables rule');
      if (parts.length !== 2) {
        throw new UsageError(
          `"${raw}" in --tables is not db.table, db.* or a glob such as shop_*.*; quote a name holding a dot with backticks (\`d.ot\`.t3).`,
        );
      }
      const [database, table] = parts as [NamePart, NamePart];
      return { database, table, future, text: `${partText(database)}.${partText(table)}` };
    });
}

export function ruleMatches(rule: FilterRule, db: string, table: string): boolean {
  return partMatcher(rule.database)(db) && partMatcher(rule.table)(table);
}

/** Normal form of a filter spec, so the one recorded in the log compares with today's. */
export function normalizeTableFilter(spec: string | undefined): string {
  return [...new Set(parseFilterRules(spec).map((r) => r.text))].sort().join(',');
}

/** --tables text -> filter; "" or undefined = every user database. System databases never match. */
export function parseTableFilter(spec: string | undefined): TableFilter {
  const rules = parseFilterRules(spec);
  if (!rules.length) return ALL_USER_TABLES;
  const matchers = rules.map((r) => ({ db: partMatcher(r.database), t: partMatcher(r.table) }));
  return (db, t) => !isSystemDatabase(db) && matchers.some((m) => m.db(db) && m.t(t));
}

/** The `n` candidates closest to `word` by edit distance (case-insensitive), closest first. */
function closest(word: string, candidates: Iterable<string>, n = 3): string[] {
  const w = word.toLowerCase().replace(/[*?]/g, '');
  return [...new Set(candidates)]
    .map((c) => ({ c, d: editDistance(w, c.toLowerCase()) - (c.toLowerCase().includes(w) && w ? 2 : 0) }))
    .sort((a, b) => a.d - b.d || a.c.localeCompare(b.c))
    .slice(0, n)
    .map((x) => x.c);
}

/**
 * Refuses rules that match no table on the source (a misspelled or too narrow rule would capture
 * nothing without a word), naming the closest databases or tables. `+` rules are exempt.
 */
export function checkRulesMatch(rules: FilterRule[], tables: QualifiedName[]): void {
  const user = tables.filter((t) => !isSystemDatabase(t.database));
  for (const r of rules) {
    if (r.future || user.some((t) => ruleMatches(r, t.database, t.table))) continue;
    const dbMatch = partMatcher(r.database);
    const inDbs = user.filter((t) => dbMatch(t.database));
    let hint: string;
    if (inDbs.length) {
      // The table part alone was wrong: suggest tables of the databases that did match.
      hint = `closest tables there: ${closest(r.table.text, inDbs.map((t) => t.table))
        .map((t) => formatQualifiedName(inDbs.find((x) => x.table === t)!.database, t))
        .join(', ')}`;
    } else {
      const dbs = [...new Set(user.map((t) => t.database))];
      hint = dbs.length ? `closest databases: ${closest(r.database.text, dbs).map(formatName).join(', ')}` : 'the source has no user tables';
    }
    throw new UsageError(
      `--tables rule "${r.text}" matches no table on the source (${hint}); for a database or table created later, write it as "+${r.text}".`,
    );
  }
}

/** Tables the old filter captured and the new one leaves out (what narrowing would stop capturing). */
export function removedTables(before: TableFilter, after: TableFilter, tables: QualifiedName[]): QualifiedName[] {
  return tables.filter((t) => before(t.database, t.table) && !after(t.database, t.table));
}
