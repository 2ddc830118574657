// Finds a table's row identity (primary key, else a unique key over NOT NULL columns) from the
// definitions the log holds: the snapshot's SHOW CREATE TABLE text, or a later CREATE TABLE
// statement. Pure: no server is needed to read a row's history.
import { splitParenList, tokenize, identName } from '../schema/ddl-rewriter.js';
import { comparePositions, type Position } from '../core/position.js';
import type { MetaState } from '../log/meta-state.js';

/** Key columns declared by a CREATE TABLE statement, or null when it has none usable. */
export function keyColumnsFromCreate(sql: string): string[] | null {
  const toks = tokenize(sql).filter((t) => t.kind !== 'ws' && t.kind !== 'comment');
  const open = toks.findIndex((t) => t.kind === 'punct' && t.text === '(');
  if (open < 0) return null;
  // Split the top-level definition list on commas.
  const defs = splitParenList(toks, open).items.filter((d) => d.length);
  const up = (t: (typeof toks)[number] | undefined) => (t && t.kind === 'word' ? t.text.toUpperCase() : '');
  const notNull = new Set<string>();
  let primary: string[] | null = null;
  const uniques: string[][] = [];
  const listAfter = (d: typeof toks, from: number): string[] => {
    const start = d.findIndex((t, i) => i >= from && t.kind === 'punct' && t.text === '(');
    if (start < 0) return [];
    const cols: string[] = [];
    let lvl = 0;
    let expectName = true;
    for (let i = start + 1; i < d.length; i++) {
      const t = d[i]!;
      if (t.kind === 'punct' && t.text === '(') lvl++;
      else if (t.kind === 'punct' && t.text === ')') {
        if (lvl === 0) break;
        lvl--;
      } else if (lvl === 0 && t.kind === 'punct' && t.text === ',') expectName = true;
      else if (lvl === 0 && expectName) {
        const n = identName(t);
        if (n !== null) cols.push(n);
        expectName = false;
      }
    }
    return cols;
  };
  for (const d of defs) {
    const w0 = up(d[0]);
    const hasPrefix = (from: number) => {
      // `col`(10): a prefix index cannot identify rows.
      const s = d.findIndex((t, i) => i >= from && t.kind === 'punct' && t.text === '(');
      let lvl = 0;
      for (let i = s + 1; s >= 0 && i < d.length; i++) {
        const t = d[i]!;
        if (t.kind === 'punct' && t.text === '(') {
          if (lvl === 0) return true;
          lvl++;
        } else if (t.kind === 'punct' && t.text === ')') {
          if (lvl === 0) break;
          lvl--;
        }
      }
      return false;
    };
    if (w0 === 'PRIMARY' || (w0 === 'CONSTRAINT' && d.some((t) => up(t) === 'PRIMARY'))) {
      const at = d.findIndex((t) => up(t) === 'PRIMARY');
      if (!hasPrefix(at)) primary = listAfter(d, at);
    } else if (w0 === 'UNIQUE' || (w0 === 'CONSTRAINT' && d.some((t) => up(t) === 'UNIQUE'))) {
      const at = d.findIndex((t) => up(t) === 'UNIQUE');
      if (!hasPrefix(at)) uniques.push(listAfter(d, at));
    } else if (['KEY', 'INDEX', 'FULLTEXT', 'SPATIAL', 'FOREIGN', 'CHECK', 'PERIOD', 'CONSTRAINT'].includes(w0)) {
      continue;
    } else {
      const name = d[0] ? identName(d[0]) : null;
      if (name === null) continue;
      const words = d.slice(1).map(up);
      if (words.some((w, i) => w === 'NOT' && words[i + 1] === 'NULL')) notNull.add(name);
      if (words.some((w, i) => w === 'PRIMARY' && words[i + 1] === 'KEY')) {
        primary = [name];
        notNull.add(name);
      } else if (words.includes('UNIQUE')) uniques.push([name]);
    }
  }
  if (primary && primary.length) return primary;
  for (const u of uniques) if (u.length && u.every((c) => notNull.has(c))) return u;
  return null;
}

export interface TableDefinition {
  createSql: string;
  position: Position;
}

/** The newest definition of db.t the log holds: snapshot CREATE TABLE texts and CREATE TABLE DDL. */
export function latestDefinition(meta: MetaState, database: string, table: string, upTo?: Position): TableDefinition | null {
  let best: TableDefinition | null = null;
  const consider = (d: TableDefinition) => {
    if (upTo && comparePositions(d.position, upTo) > 0) return;
    if (!best || comparePositions(d.position, best.position) >= 0) best = d;
  };
  // Partial snapshots too: a table added to capture's filter later is defined only there.
  for (const s of meta.snapshots) {
    if (!s.end) continue;
    const def = s.begin.tables.find((t) => t.database === database && t.table === table);
    if (def) consider({ createSql: def.createSql, position: s.position });
  }
  for (const e of meta.ddl) {
    const named = createdTable(e.ddl.statement, e.ddl.defaultDatabase);
    if (named && named.database === database && named.table === table) consider({ createSql: e.ddl.statement, position: e.position });
  }
  return best;
}

/** db.t that a CREATE TABLE statement creates (null for any other statement or CREATE ... LIKE/SELECT). */
export function createdTable(sql: string, defaultDb: string): { database: string; table: string } | null {
  const toks = tokenize(sql).filter((t) => t.kind !== 'ws' && t.kind !== 'comment');
  let i = 0;
  const up = (k: number) => (toks[k]?.kind === 'word' ? toks[k]!.text.toUpperCase() : '');
  if (up(i) !== 'CREATE') return null;
  i++;
  if (up(i) === 'OR' && up(i + 1) === 'REPLACE') i += 2;
  if (up(i) !== 'TABLE') return null;
  i++;
  if (up(i) === 'IF' && up(i + 1) === 'NOT' && up(i + 2) === 'EXISTS') i += 3;
  const a = toks[i] ? identName(toks[i]!) : null;
  if (a === null) return null;
  if (toks[i + 1]?.kind === 'punct' && toks[i + 1]!.text === '.') {
    const b = toks[i + 2] ? identName(toks[i + 2]!) : null;
    return b === null ? null : { database: a, table: b };
  }
  return { database: defaultDb, table: a };
}

/** Key columns of db.t as of `upTo` (default: the newest definition), or null when keyless/unknown. */
export function tableKeyColumns(meta: MetaState, database: string, table: string, upTo?: Position): string[] | null {
  const def = latestDefinition(meta, database, table, upTo);
  return def ? keyColumnsFromCreate(def.createSql) : null;
}
