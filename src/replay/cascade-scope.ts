// Which tables a restore replays change by change in commit order, so that the recovery server applies
// the foreign keys' referential actions as the source did (MariaDB does not log cascaded changes).
// Pure: from the definitions and DDL text of the restore's history.
import { foreignKeyEdges, renamedTables } from '../schema/ddl-rewriter.js';
import { fromTableId, tableId } from '../core/table-name.js';

export interface CascadeScopeInput {
  /** Every definition and schema statement between the snapshot and the cut (snapshot CREATE TABLEs included). */
  statements: { sql: string; defaultDb: string }[];
  /** A database restore: the database. */
  database?: string;
  /** A table restore: every name of the requested tables. */
  lineage: Set<string>;
}

/**
 * The tables to replay in order: in a database restore every table connected by foreign keys to one
 * with a referential action; in a table restore the requested tables so connected, with every table
 * they reference, transitively (their deletes and updates cascade down, and their rows must exist for
 * the children's inserts). Renamed tables count under all their names. Empty when no action applies.
 */
export function cascadeScope(input: CascadeScopeInput): Set<string> {
  const parentOf = new Map<string, Set<string>>();
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (parent.has(r) && parent.get(r) !== r) r = parent.get(r)!;
    parent.set(x, r);
    return r;
  };
  const union = (a: string, b: string) => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(ra, rb);
  };
  const acting = new Set<string>();
  const nodes = new Set<string>();
  const renames: [string, string][] = [];
  for (const s of input.statements) {
    for (const e of foreignKeyEdges(s.sql, s.defaultDb)) {
      const c = tableId(e.child.database, e.child.table);
      const p = tableId(e.parent.database, e.parent.table);
      nodes.add(c).add(p);
      union(c, p);
      if (e.acts) acting.add(c);
      let ps = parentOf.get(c);
      if (!ps) parentOf.set(c, (ps = new Set()));
      ps.add(p);
    }
    for (const r of renamedTables(s.sql, s.defaultDb)) renames.push([tableId(r.from.database, r.from.table), tableId(r.to.database, r.to.table)]);
  }
  if (!acting.size) return new Set();
  for (const [a, b] of renames) {
    nodes.add(a).add(b);
    union(a, b);
  }
  const actingRoots = new Set([...acting].map(find));
  const inActing = (id: string) => nodes.has(id) && actingRoots.has(find(id));
  if (input.database !== undefined) return new Set([...nodes].filter((id) => inActing(id) && fromTableId(id).database === input.database));
  const out = new Set<string>();
  const todo = [...input.lineage].filter(inActing);
  const renamed = (id: string) => renames.flatMap(([a, b]) => (a === id ? [b] : b === id ? [a] : []));
  while (todo.length) {
    const id = todo.pop()!;
    if (out.has(id)) continue;
    out.add(id);
    for (const p of parentOf.get(id) ?? []) todo.push(p);
    for (const n of renamed(id)) todo.push(n);
  }
  return out;
}

/**
 * Tables whose rows the server changes through a referential action (the child of an FK with ON
 * DELETE/UPDATE CASCADE, SET NULL or SET DEFAULT): their own records miss those changes.
 */
export function cascadeVictims(statements: { sql: string; defaultDb: string }[]): Set<string> {
  const out = new Set<string>();
  for (const s of statements) for (const e of foreignKeyEdges(s.sql, s.defaultDb)) if (e.acts) out.add(tableId(e.child.database, e.child.table));
  return out;
}

/**
 * The tables a delete or key update of `table` reaches through referential actions, nearest first
 * (children, then theirs): what a flashback of the table must put back with it.
 */
export function cascadeDescendants(statements: { sql: string; defaultDb: string }[], table: string): string[] {
  const children = new Map<string, Set<string>>();
  for (const s of statements) {
    for (const e of foreignKeyEdges(s.sql, s.defaultDb)) {
      if (!e.acts) continue;
      const p = tableId(e.parent.database, e.parent.table);
      const c = tableId(e.child.database, e.child.table);
      if (p === c) continue;
      let set = children.get(p);
      if (!set) children.set(p, (set = new Set()));
      set.add(c);
    }
  }
  const out: string[] = [];
  const seen = new Set([table]);
  for (let i = -1; i < out.length; i++) {
    for (const c of children.get(i < 0 ? table : out[i]!) ?? []) {
      if (seen.has(c)) continue;
      seen.add(c);
      out.push(c);
    }
  }
  return out;
}
