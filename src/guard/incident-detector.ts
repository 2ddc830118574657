// Judges each source transaction, in commit order, against the tables as they stood just before
// it: destructive DDL (DROP TABLE/DATABASE, TRUNCATE, CREATE OR REPLACE of an existing table, an
// ALTER that drops columns or narrows a type), mass deletes/updates over the thresholds, and the
// tables those deletes emptied or reduced through ON DELETE CASCADE foreign keys (not in the
// binlog, see cascade.ts). Then applies the transaction to the tracked state. Pure.
import type { Gtid } from '../core/gtid.js';
import type { Position } from '../core/position.js';
import { formatQualifiedName } from '../core/table-name.js';
import { ddlEffect, type TableRef } from './ddl-effects.js';
import { destructiveColumnChanges, keyOf, type TableTracker } from './table-tracker.js';
import { massChangeReason, type ThresholdPolicy } from './thresholds.js';
import type { TableAgg, TxnUnit } from './log-sequencer.js';
import { followCascades, type CascadeReach, type CascadeStart } from './cascade.js';

export type Cause = 'DROP TABLE' | 'DROP DATABASE' | 'TRUNCATE' | 'CREATE OR REPLACE TABLE' | 'ALTER TABLE' | 'DELETE' | 'UPDATE' | 'DELETE and UPDATE';

export interface Incident {
  table: TableRef;
  cause: Cause;
  /** One phrase saying what was destroyed and why it counts. */
  detail: string;
  /** The statement as logged, for DDL. Row changes carry none in the log. */
  statement?: string;
  gtid: Gtid;
  position: Position;
  commitTime: number;
  /** Rows affected: the table's rows for DROP/TRUNCATE/ALTER (when known), deleted+updated rows otherwise. */
  rows: number | undefined;
  /** Set for DROP DATABASE: the copies are rebuilt from the database as it stood. */
  database?: string;
  /** Set on a table that lost rows through ON DELETE CASCADE: the nearest parent, the key, and the table the delete began at. */
  cascadeFrom?: { parent: TableRef; key: string; root: TableRef };
  /** On the incident of the table a cascade began at: the tables rebuilt with it because of the cascade. */
  cascade?: CascadeVictim[];
  /** On that incident: tables whose rows the cascade may have modified, not rebuilt (see docs/guard.md). */
  possiblyAffected?: PossiblyAffected[];
  /** Every table rebuilt together for one cascade, parents first (the restore commands name them all). */
  group?: TableRef[];
}

export interface CascadeVictim {
  table: TableRef;
  /** emptied: no row left whose key is not NULL; reduced: an unknown number of rows deleted. */
  effect: 'emptied' | 'reduced';
  /** Rows it lost, when known. */
  rows?: number;
  via: TableRef;
}

export interface PossiblyAffected {
  table: TableRef;
  /** The referential action: "ON DELETE SET NULL", "ON UPDATE CASCADE", ... */
  action: string;
  via: TableRef;
  /** Rows that may have been modified: at most this many. */
  atMostRows?: number;
}

/** Incidents of one transaction (judged before it), then the transaction applied to `tracker`. */
export function examineTxn(txn: TxnUnit, tracker: TableTracker, policy: ThresholdPolicy): Incident[] {
  const out: Incident[] = [];
  const base = { gtid: txn.gtid, position: txn.position, commitTime: txn.commitTime };
  const watched = (t: TableRef) => !policy.for(t.database, t.table).off;
  for (const d of txn.ddl) {
    const e = ddlEffect(d.statement, d.defaultDatabase);
    const statement = d.statement;
    switch (e.kind) {
      case 'dropTables':
        for (const t of e.tables) {
          const s = tracker.get(t);
          if (!s || !watched(t)) continue;
          out.push({ ...base, table: t, cause: 'DROP TABLE', statement, rows: s.rows, detail: `dropped the table${rowsNote(s.rows)}` });
        }
        break;
      case 'dropDatabase':
        for (const s of tracker.tablesOf(e.database)) {
          const t = { database: s.database, table: s.table };
          if (!watched(t)) continue;
          out.push({ ...base, table: t, cause: 'DROP DATABASE', statement, rows: s.rows, database: e.database, detail: `dropped database ${e.database}${rowsNote(s.rows)}` });
        }
        break;
      case 'truncate': {
        const s = tracker.get(e.table);
        if (s && s.rows !== 0 && watched(e.table)) {
          out.push({ ...base, table: e.table, cause: 'TRUNCATE', statement, rows: s.rows, detail: `emptied the table${rowsNote(s.rows)}` });
        }
        break;
      }
      case 'create': {
        const s = tracker.get(e.table);
        if (e.orReplace && s && watched(e.table)) {
          out.push({ ...base, table: e.table, cause: 'CREATE OR REPLACE TABLE', statement, rows: s.rows, detail: `replaced the table${rowsNote(s.rows)}` });
        }
        break;
      }
      case 'alter': {
        const s = tracker.get(e.table);
        const why = destructiveColumnChanges(s, e);
        if (s && why.length && watched(e.table)) {
          out.push({ ...base, table: e.table, cause: 'ALTER TABLE', statement, rows: s.rows, detail: why.join('; ') });
        }
        break;
      }
      default:
        break;
    }
    tracker.applyDdl(e);
  }
  for (const a of txn.tables) {
    const t = { database: a.database, table: a.table };
    const touched = a.deletes + a.updates;
    const before = tracker.get(t)?.rows;
    const why = massChangeReason(policy.for(a.database, a.table), touched, before);
    if (why) {
      const cause: Cause = a.updates === 0 ? 'DELETE' : a.deletes === 0 ? 'UPDATE' : 'DELETE and UPDATE';
      const verb = a.updates === 0 ? 'deleted' : a.deletes === 0 ? 'updated' : 'deleted or updated';
      // After cascades guard could not count row by row the table's size is an estimate: say so.
      const about = tracker.get(t)?.estimate ? 'about ' : '';
      const of = before !== undefined ? ` of ${about}${before} (${before > 0 ? Math.round((touched * 1000) / before) / 10 : 100}%)` : '';
      out.push({ ...base, table: t, cause, rows: touched, detail: `${verb} ${touched} rows${of}: ${why}` });
    }
    tracker.applyRows(t, a.inserts, a.deletes);
  }
  cascadeIncidents(txn.tables, tracker, policy, out, base);
  return out;
}

const q = (t: TableRef): string => formatQualifiedName(t.database, t.table);
const UPDATE_ACTIONS = new Set(['CASCADE', 'SET NULL', 'SET DEFAULT']);

/**
 * The cascade pass of one transaction, after its own rows were applied: follows its deletes (those
 * run with foreign key checks) down the foreign keys, adds the incidents of the tables they emptied
 * or reduced, corrects the tracked counts, and notes the possibly modified tables on the incidents.
 * Victims: every CASCADE descendant of a destructive delete (how many rows it lost is unknown unless
 * the parent was emptied), and a descendant emptied (exactly known) by more rows than its own
 * threshold allows; with a victim come the tables between it and the start, the start included.
 */
function cascadeIncidents(aggs: TableAgg[], tracker: TableTracker, policy: ThresholdPolicy, out: Incident[], base: Pick<Incident, 'gtid' | 'position' | 'commitTime'>): void {
  const incidentOf = new Map(out.map((i) => [keyOf(i.table), i] as const));
  const starts: CascadeStart[] = [];
  const aggOf = new Map<string, TableAgg>();
  for (const a of aggs) {
    const unchecked = a.uncheckedDeletes ?? 0;
    if (a.deletes <= unchecked) continue;
    const t = { database: a.database, table: a.table };
    const s = tracker.get(t);
    const own = incidentOf.get(keyOf(t));
    aggOf.set(keyOf(t), a);
    starts.push({
      table: t,
      // A count of 0 that is only a lower bound says nothing about the rows left.
      emptied: s?.rows === 0 && (s.estimate === undefined || s.estimate === 'atMost') && unchecked === 0,
      destructive: !!own && own.cause !== 'UPDATE',
    });
  }
  const found = starts.length ? followCascades(starts, (p) => tracker.foreignKeys.referencing(p), (t, c) => tracker.notNull(t, c)) : { deleted: [], modified: [] };
  const reachOf = new Map(found.deleted.map((r) => [keyOf(r.table), r] as const));
  const watched = (t: TableRef) => !policy.for(t.database, t.table).off;
  const before = new Map(found.deleted.map((r) => [keyOf(r.table), tracker.get(r.table)] as const));
  const victims = new Map<string, CascadeReach>();
  const rowsLost = (r: CascadeReach): number | undefined => {
    const s = before.get(keyOf(r.table));
    return r.effect === 'emptied' && !r.nullKeys && s?.rows !== undefined && s.estimate === undefined ? s.rows : undefined;
  };

  for (const r of found.deleted) {
    const id = keyOf(r.table);
    if (incidentOf.has(id) || !watched(r.table)) continue;
    const s = before.get(id);
    let why: string | null = null;
    if (r.destructive) why = `the delete on ${q(r.root)} was destructive`;
    else if (r.effect === 'emptied' && s?.rows !== undefined && s.estimate !== 'atLeast' && s.estimate !== 'either') why = massChangeReason(policy.for(r.table.database, r.table.table), s.rows, s.rows);
    if (!why) continue;
    victims.set(id, r);
    out.push(victimIncident(r, s, why, base));
    incidentOf.set(id, out.at(-1)!);
  }
  // A victim's parents up to the start join the incident: the copies then reference each other as the tables did.
  for (const r of [...victims.values()]) {
    const seen = new Set<string>([keyOf(r.table)]);
    for (let p = r.via.parent; !seen.has(keyOf(p)); ) {
      seen.add(keyOf(p));
      const pr = reachOf.get(keyOf(p));
      if (!incidentOf.has(keyOf(p)) && watched(p)) {
        if (pr) {
          victims.set(keyOf(p), pr);
          out.push(victimIncident(pr, before.get(keyOf(p)), `the tables below it lost rows through it (${q(r.table)})`, base));
        } else {
          const a = aggOf.get(keyOf(p));
          if (!a) break;
          const touched = a.deletes + a.updates;
          out.push({ ...base, table: p, cause: a.updates === 0 ? 'DELETE' : 'DELETE and UPDATE', rows: touched, detail: `deleted ${a.deletes} rows` });
        }
        incidentOf.set(keyOf(p), out.at(-1)!);
      }
      if (!pr) break;
      p = pr.via.parent;
    }
  }

  // Where each cascade began: the incident that lists its victims and the possibly modified tables.
  const rootOf = (t: TableRef): Incident | undefined => {
    const r = reachOf.get(keyOf(t));
    return incidentOf.get(keyOf(r ? r.root : t));
  };
  const depth = (r: CascadeReach): number => {
    let n = 0;
    for (let x: CascadeReach | undefined = r; x && n < reachOf.size; x = reachOf.get(keyOf(x.via.parent))) n++;
    return n;
  };
  for (const [id, r] of [...victims].sort((a, b) => depth(a[1]) - depth(b[1]))) {
    const root = rootOf(r.table);
    if (!root || root === incidentOf.get(id)) continue;
    (root.cascade ??= []).push({ table: r.table, effect: r.effect, ...(rowsLost(r) !== undefined ? { rows: rowsLost(r)! } : {}), via: r.via.parent });
  }
  for (const m of found.modified) {
    // Worth naming when the rows going away were destructive: their parent is rebuilt.
    if (!incidentOf.has(keyOf(m.via.parent)) || incidentOf.has(keyOf(m.table))) continue;
    const root = rootOf(m.via.parent);
    if (!root || root.possiblyAffected?.some((x) => keyOf(x.table) === keyOf(m.table))) continue;
    const rows = tracker.get(m.table)?.rows;
    (root.possiblyAffected ??= []).push({ table: m.table, action: `ON DELETE ${m.action}`, via: m.via.parent, ...(rows !== undefined ? { atMostRows: rows } : {}) });
  }
  // A mass UPDATE of a parent changes its children's rows when it changed the referenced key, which guard cannot tell.
  for (const a of aggs) {
    const t = { database: a.database, table: a.table };
    const inc = incidentOf.get(keyOf(t));
    if (!inc || a.updates <= (a.uncheckedUpdates ?? 0) || (inc.cause !== 'UPDATE' && inc.cause !== 'DELETE and UPDATE')) continue;
    for (const k of tracker.foreignKeys.referencing(t)) {
      if (!UPDATE_ACTIONS.has(k.onUpdate) || incidentOf.has(keyOf(k.child)) || inc.possiblyAffected?.some((x) => keyOf(x.table) === keyOf(k.child))) continue;
      const rows = tracker.get(k.child)?.rows;
      (inc.possiblyAffected ??= []).push({ table: k.child, action: `ON UPDATE ${k.onUpdate}`, via: t, ...(rows !== undefined ? { atMostRows: rows } : {}) });
    }
  }
  // One rebuild for each cascade: the start and its victims, parents first.
  for (const inc of out) {
    if (!inc.cascade?.length) continue;
    const group = [inc.table, ...inc.cascade.map((c) => c.table)];
    inc.group = group;
    for (const c of inc.cascade) incidentOf.get(keyOf(c.table))!.group = group;
    const all = inc.cascade.every((c) => c.effect === 'emptied');
    const list = inc.cascade.map((c) => {
      const note = [...(all ? [] : [c.effect]), ...(c.rows !== undefined ? [`${c.rows} rows`] : [])].join(', ');
      return `${q(c.table)}${note ? ` (${note})` : ''}`;
    });
    inc.detail += `; through ON DELETE CASCADE foreign keys this also ${all ? 'emptied' : 'deleted rows of'} ${list.join(', ')}`;
  }

  for (const r of found.deleted) tracker.applyCascade(r.table, r.effect, r.nullKeys);
}

function victimIncident(r: CascadeReach, s: { rows: number | undefined; estimate?: string } | undefined, why: string, base: Pick<Incident, 'gtid' | 'position' | 'commitTime'>): Incident {
  const from = `through ON DELETE CASCADE (${r.via.name}) from ${q(r.via.parent)}${keyOf(r.root) !== keyOf(r.via.parent) ? `, cascading from ${q(r.root)}` : ''}`;
  const had = s?.rows === undefined ? '' : `${s.estimate ? 'about ' : ''}${s.rows}`;
  let what: string;
  let rows: number | undefined;
  if (r.effect === 'emptied' && !r.nullKeys) {
    what = `emptied ${from}${had ? `: ${had} rows` : ''}`;
    rows = s?.estimate === undefined ? s?.rows : undefined;
  } else if (r.effect === 'emptied') {
    what = `emptied ${from}${had ? `: up to ${had} rows` : ''}, except rows holding NULL in ${r.via.columns.join(', ')} (guard cannot see them)`;
  } else {
    what = `reduced ${from}: how many rows went is unknown${had ? ` (it had ${had})` : ''}`;
  }
  return { ...base, table: r.table, cause: 'DELETE', rows, detail: `${what}; cascaded deletes are not in the binlog; ${why}`, cascadeFrom: { parent: r.via.parent, key: r.via.name, root: r.root } };
}

function rowsNote(rows: number | undefined): string {
  return rows === undefined ? '' : ` with ${rows} rows`;
}
