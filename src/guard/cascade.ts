// Where a transaction's deletes reach through foreign keys. MariaDB writes only the statement's own
// rows to the binlog; InnoDB deletes the ON DELETE CASCADE children (and theirs) and nulls the ON
// DELETE SET NULL columns without a trace in the log. Guard knows which parent rows went, not which
// child rows referenced them, so it reasons on whole tables:
// - a parent left empty (tracked count 0) empties a CASCADE child whose key columns are all NOT NULL
//   (a non-NULL key must match a parent row); with a nullable key column the rows holding NULL stay
//   (guard cannot see how many), and below such a child only "some rows went" can be said;
// - any other delete of a parent may have deleted some child rows, how many is unknown;
// - SET NULL / SET DEFAULT children keep their rows, some of which may have been modified.
// Deletes run with foreign_key_checks=0 cascade nothing and are not passed in. Pure.
import type { TableRef } from './ddl-effects.js';
import type { ForeignKey } from './foreign-keys.js';

export interface CascadeStart {
  table: TableRef;
  /** No row left after the transaction (exact count 0) and every delete ran with foreign key checks. */
  emptied: boolean;
  /** The table's own deletes were judged destructive. */
  destructive: boolean;
}

export interface CascadeReach {
  table: TableRef;
  /** The key it was reached through (its `parent` is the nearest parent). */
  via: ForeignKey;
  /** The start table the chain began at. */
  root: TableRef;
  /** emptied: no row left whose key is not NULL; reduced: some rows may be gone. */
  effect: 'emptied' | 'reduced';
  /** Emptied, except rows holding NULL in a nullable key column (not counted by guard). */
  nullKeys: boolean;
  /** A destructive delete lies on the way from the root. */
  destructive: boolean;
}

export interface ModifiedReach {
  table: TableRef;
  via: ForeignKey;
  root: TableRef;
  action: 'SET NULL' | 'SET DEFAULT';
  /** The parent was left without rows (exactly): every non-NULL key of the child was set. */
  parentEmptied: boolean;
  destructive: boolean;
}

export interface CascadeResult {
  /** Tables that lost (or may have lost) rows through ON DELETE CASCADE, start tables included when reached. */
  deleted: CascadeReach[];
  /** Tables whose rows may have been modified through ON DELETE SET NULL / SET DEFAULT. */
  modified: ModifiedReach[];
}

const keyOf = (t: TableRef): string => `${t.database}.${t.table}`;

interface State {
  table: TableRef;
  via?: ForeignKey;
  root: TableRef;
  /** 2 emptied, 1 emptied except NULL keys, 0 reduced. */
  rank: number;
  destructive: boolean;
}

/**
 * Follows the deletes of `starts` down every ON DELETE CASCADE key (transitively, cycles included)
 * and collects the SET NULL / SET DEFAULT children on the way. `referencing` lists the keys whose
 * parent is a table; `notNull` tells whether a child column is NOT NULL (undefined: unknown, taken
 * as nullable).
 */
export function followCascades(
  starts: CascadeStart[],
  referencing: (parent: TableRef) => ForeignKey[],
  notNull: (table: TableRef, column: string) => boolean | undefined,
): CascadeResult {
  const states = new Map<string, State>();
  const modified = new Map<string, ModifiedReach>();
  const todo: State[] = [];
  for (const s of starts) {
    const st: State = { table: s.table, root: s.table, rank: s.emptied ? 2 : 0, destructive: s.destructive };
    states.set(keyOf(s.table), st);
    todo.push(st);
  }
  // Breadth first: tables come out nearest the starts first (parents before their children).
  for (let next = 0; next < todo.length; next++) {
    const p = todo[next]!;
    for (const k of referencing(p.table)) {
      if (k.onDelete === 'SET NULL' || k.onDelete === 'SET DEFAULT') {
        const id = `${keyOf(k.child)}/${k.name}`;
        const m = modified.get(id);
        const parentEmptied = p.rank === 2;
        if (!m) modified.set(id, { table: k.child, via: k, root: p.root, action: k.onDelete, parentEmptied, destructive: p.destructive });
        else {
          m.parentEmptied ||= parentEmptied;
          m.destructive ||= p.destructive;
        }
        continue;
      }
      if (k.onDelete !== 'CASCADE') continue;
      const keyNotNull = k.columns.length > 0 && k.columns.every((c) => notNull(k.child, c) === true);
      const rank = p.rank === 2 ? (keyNotNull ? 2 : 1) : 0;
      const id = keyOf(k.child);
      const old = states.get(id);
      if (!old) {
        const st: State = { table: k.child, via: k, root: p.root, rank, destructive: p.destructive };
        states.set(id, st);
        todo.push(st);
        continue;
      }
      // Reached again: keep the strongest knowledge (and the key that brought it); follow it again if it grew.
      let grew = false;
      if (rank > old.rank || (p.destructive && !old.destructive) || !old.via) {
        grew = rank > old.rank || (p.destructive && !old.destructive);
        old.rank = Math.max(old.rank, rank);
        old.destructive ||= p.destructive;
        old.via = k;
        old.root = p.root;
      }
      if (grew) todo.push(old);
    }
  }
  const deleted: CascadeReach[] = [];
  for (const s of states.values()) {
    // Start tables count only once something reached them through a key.
    if (!s.via) continue;
    deleted.push({ table: s.table, via: s.via, root: s.root, effect: s.rank > 0 ? 'emptied' : 'reduced', nullKeys: s.rank === 1, destructive: s.destructive });
  }
  return { deleted, modified: [...modified.values()] };
}
