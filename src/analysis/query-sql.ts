// Reads an analyst's query without a SQL parser: refuses anything that could write, finds the
// tables it names (identifiers after FROM and JOIN, comma lists included, CTE names excluded) and
// maps their databases to the as-of cache databases. Pure.
import { identName, leadingWords, rewriteDatabases, tokenize } from '../schema/ddl-rewriter.js';
import { UsageError } from '../core/errors.js';

const READ_ONLY_LEAD = new Set(['SELECT', 'WITH', 'SHOW', 'EXPLAIN', 'DESCRIBE', 'DESC', 'VALUES', 'TABLE']);

/** Throws unless the statement only reads (one statement, no INTO OUTFILE/DUMPFILE/@var, no locking writes). */
export function assertReadOnly(sql: string): void {
  const toks = tokenize(sql).filter((t) => t.kind !== 'ws' && t.kind !== 'comment');
  const first = toks[0];
  const lead = first?.kind === 'punct' && first.text === '(' ? 'SELECT' : leadingWords(sql, 1)[0];
  if (!lead || !READ_ONLY_LEAD.has(lead)) {
    throw new UsageError('pitr query runs read-only statements only (SELECT, WITH, SHOW, EXPLAIN, DESCRIBE).');
  }
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.kind === 'punct' && t.text === ';' && toks.slice(i + 1).length) {
      throw new UsageError('pitr query runs one statement at a time.');
    }
    if (t.kind === 'punct' && t.text.startsWith('/*')) throw new UsageError('pitr query refuses executable comments (/*! ... */).');
    if (t.kind === 'word' && t.text.toUpperCase() === 'INTO') {
      throw new UsageError('pitr query refuses SELECT ... INTO: it would write a file or variable.');
    }
    if (t.kind === 'word' && ['INSERT', 'UPDATE', 'DELETE', 'REPLACE', 'CREATE', 'DROP', 'ALTER', 'TRUNCATE', 'RENAME', 'GRANT', 'LOAD', 'CALL', 'SET', 'HANDLER', 'LOCK'].includes(t.text.toUpperCase())) {
      // FOR UPDATE and "ON DUPLICATE KEY UPDATE" cannot occur in a read-only statement either.
      const prev = toks[i - 1];
      const isLockingRead = t.text.toUpperCase() === 'UPDATE' && prev?.kind === 'word' && prev.text.toUpperCase() === 'FOR';
      const isFunction = toks[i + 1]?.kind === 'punct' && toks[i + 1]!.text === '(' && ['INSERT', 'REPLACE'].includes(t.text.toUpperCase());
      const inShow = lead === 'SHOW' && ['CREATE', 'GRANT'].includes(t.text.toUpperCase());
      const isCharset = t.text.toUpperCase() === 'SET' && prev?.kind === 'word' && prev.text.toUpperCase() === 'CHARACTER';
      const isShareLock = t.text.toUpperCase() === 'LOCK' && toks[i + 1]?.kind === 'word' && toks[i + 1]!.text.toUpperCase() === 'IN';
      if (!isLockingRead && !isFunction && !inShow && !isCharset && !isShareLock) {
        throw new UsageError(`pitr query runs read-only statements only; "${t.text}" writes.`);
      }
    }
  }
}

export interface TableRefs {
  /** Qualified references (db.t). */
  qualified: { database: string; table: string }[];
  /** Unqualified table names (resolved through --database). */
  unqualified: string[];
}

/** Tables named after FROM / JOIN (and in FROM a, b lists), minus CTE names. */
export function tableRefs(sql: string): TableRefs {
  const toks = tokenize(sql).filter((t) => t.kind !== 'ws' && t.kind !== 'comment');
  const up = (i: number) => (toks[i]?.kind === 'word' ? toks[i]!.text.toUpperCase() : '');
  const isPunct = (i: number, p: string) => toks[i]?.kind === 'punct' && toks[i]!.text === p;
  const ctes = new Set<string>();
  if (up(0) === 'WITH') {
    // WITH [RECURSIVE] name [(cols)] AS (...) [, name AS (...)]
    let i = up(1) === 'RECURSIVE' ? 2 : 1;
    for (;;) {
      const n = toks[i] ? identName(toks[i]!) : null;
      if (n === null) break;
      ctes.add(n.toLowerCase());
      i++;
      if (isPunct(i, '(')) i = skipParens(toks, i);
      if (up(i) !== 'AS') break;
      i++;
      if (!isPunct(i, '(')) break;
      i = skipParens(toks, i);
      if (!isPunct(i, ',')) break;
      i++;
    }
  }
  const out: TableRefs = { qualified: [], unqualified: [] };
  const seen = new Set<string>();
  const readRef = (i: number): number => {
    const a = toks[i] ? identName(toks[i]!) : null;
    if (a === null || (toks[i]!.kind === 'word' && ['SELECT', 'LATERAL', 'JSON_TABLE', 'DUAL'].includes(up(i)))) return i;
    if (isPunct(i + 1, '.')) {
      const b = toks[i + 2] ? identName(toks[i + 2]!) : null;
      if (b !== null) {
        const k = `q:${a}.${b}`;
        if (!seen.has(k)) {
          seen.add(k);
          out.qualified.push({ database: a, table: b });
        }
        return i + 3;
      }
    }
    if (!ctes.has(a.toLowerCase()) && !seen.has(`u:${a}`)) {
      seen.add(`u:${a}`);
      out.unqualified.push(a);
    }
    return i + 1;
  };
  for (let i = 0; i < toks.length; i++) {
    const w = up(i);
    if (w !== 'FROM' && w !== 'JOIN') continue;
    // SHOW ... FROM db / DELETE never reach here as table lists; EXTRACT(x FROM y) is a function.
    if (w === 'FROM' && isInsideFunction(toks, i)) continue;
    let j = i + 1;
    for (;;) {
      if (isPunct(j, '(')) break; // derived table: its own FROM is found by the loop
      j = readRef(j);
      // Skip an alias, index hints and an ON/USING condition up to a comma (another table) or the
      // end of the list.
      while (j < toks.length && !isPunct(j, ',') && !isPunct(j, ')') && !['JOIN', 'WHERE', 'GROUP', 'ORDER', 'LIMIT', 'HAVING', 'UNION', 'WINDOW', 'FOR', 'INNER', 'LEFT', 'RIGHT', 'CROSS', 'NATURAL', 'STRAIGHT_JOIN', 'EXCEPT', 'INTERSECT'].includes(up(j))) {
        if (isPunct(j, '(')) j = skipParens(toks, j);
        else j++;
      }
      if (!isPunct(j, ',')) break;
      j++;
    }
  }
  return out;
}

function skipParens(toks: { kind: string; text: string }[], i: number): number {
  let depth = 0;
  for (let j = i; j < toks.length; j++) {
    if (toks[j]!.kind === 'punct' && toks[j]!.text === '(') depth++;
    else if (toks[j]!.kind === 'punct' && toks[j]!.text === ')') {
      depth--;
      if (depth === 0) return j + 1;
    }
  }
  return toks.length;
}

/** FROM inside EXTRACT(... FROM ...), TRIM(... FROM ...), SUBSTRING(x FROM n): not a table list. */
function isInsideFunction(toks: { kind: string; text: string }[], i: number): boolean {
  let depth = 0;
  for (let j = i - 1; j >= 0; j--) {
    const t = toks[j]!;
    if (t.kind === 'punct' && t.text === ')') depth++;
    else if (t.kind === 'punct' && t.text === '(') {
      if (depth === 0) {
        const f = toks[j - 1];
        return !!f && f.kind === 'word' && ['EXTRACT', 'TRIM', 'SUBSTRING', 'SUBSTR', 'POSITION', 'OVERLAY'].includes(f.text.toUpperCase());
      }
      depth--;
    }
  }
  return false;
}

/**
 * Maps the databases the query names to the cache databases: only names in `map` change (aliases
 * and column qualifiers such as o.total stay as written).
 */
export function mapDatabases(sql: string, map: Map<string, string>): string {
  return rewriteDatabases(sql, (db) => map.get(db) ?? db);
}
