// Which part of the log's schema history a restore replays: the databases its tables live in (under
// every name they had) and whatever databases the statements it needs refer to, closed under that
// relation. A one-table restore of a log covering 150 databases thus builds one scratch database,
// not 150: less debris on the target, and less time. Pure.
import type { DdlEntry } from '../log/meta-state.js';
import { classifyDdl, rewriteDatabases, usesDefaultDatabase } from '../schema/ddl-rewriter.js';

export interface ScopeInput {
  /** Databases the restored tables live in (every name of their lineage) or the restored database. */
  start: Iterable<string>;
  /** Table definitions of the starting snapshot. */
  snapshotTables: { database: string; createSql: string }[];
  /** CREATE DATABASE statements of the starting snapshot. */
  createDatabases: string[];
  /** DDL between the snapshot and the cut, in commit order. */
  ddl: DdlEntry[];
}

export interface Scope {
  databases: Set<string>;
  ddl: DdlEntry[];
  snapshotTables: number[];
  createDatabases: string[];
}

/** Databases a statement names (qualified names, the database of a database statement). */
export function referencedDatabases(sql: string): Set<string> {
  const out = new Set<string>();
  // Without a dot there is no qualified name (nor a database statement's own name to miss: see ddlDatabases).
  if (!sql.includes('.') && !/\b(database|schema)\b/i.test(sql)) return out;
  rewriteDatabases(sql, (db) => {
    out.add(db);
    return db;
  });
  return out;
}

/**
 * Databases a replayed DDL statement touches: what it names, plus its default for a table statement
 * that may name a table without its database (a session's leftover USE must not pull in the history
 * of a database the statement never touches).
 */
function ddlDatabases(d: DdlEntry): Set<string> {
  const dbs = referencedDatabases(d.ddl.statement);
  if (classifyDdl(d.ddl.statement) === 'table' && d.ddl.defaultDatabase && usesDefaultDatabase(d.ddl.statement)) dbs.add(d.ddl.defaultDatabase);
  return dbs;
}

export function schemaScope(input: ScopeInput): Scope {
  const dbs = new Set(input.start);
  const ddlRefs = input.ddl.map((d) => (classifyDdl(d.ddl.statement) === 'other' ? new Set<string>() : ddlDatabases(d)));
  const tableRefs = input.snapshotTables.map((t) => referencedDatabases(t.createSql));
  const touches = (refs: Set<string>) => [...refs].some((db) => dbs.has(db));
  // Closure: a needed statement or definition naming another database (CREATE TABLE a.t LIKE b.u,
  // a foreign key to b.u) needs that database's history too, which may need others in turn. A
  // definition is needed for its own database only: a table elsewhere pointing at ours is not.
  for (let grew = true; grew; ) {
    grew = false;
    const needed = [...ddlRefs.filter(touches), ...tableRefs.filter((_, i) => dbs.has(input.snapshotTables[i]!.database))];
    for (const refs of needed) {
      for (const db of refs) {
        if (!dbs.has(db)) {
          dbs.add(db);
          grew = true;
        }
      }
    }
  }
  return {
    databases: dbs,
    ddl: input.ddl.filter((_, i) => touches(ddlRefs[i]!)),
    snapshotTables: input.snapshotTables.map((t, i) => (dbs.has(t.database) ? i : -1)).filter((i) => i >= 0),
    createDatabases: input.createDatabases.filter((c) => touches(referencedDatabases(c))),
  };
}
