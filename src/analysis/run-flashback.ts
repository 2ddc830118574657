// `pitr flashback`: puts every row of one table that changed in a window back to its state when the
// window opened. Rows that changed again after the window (current state on the source differs from
// the state at the window's end) are conflicts: reported and left alone unless forced. Prints a
// reviewable one-transaction script, or applies it in one transaction with explicit credentials,
// checking the rows under FOR UPDATE inside that same transaction.
import type { TableRef } from '../log/table-history-reader.js';
import { connectMysql, mysqlError, qid, qualified, type Connection } from '../core/mysql-conn.js';
import { rawRows } from '../core/catalog.js';
import type { MysqlUrl } from '../core/mysql-url.js';
import type { KafkaSettings } from '../core/settings.js';
import { PitrError, UsageError } from '../core/errors.js';
import { comparePositions } from '../core/position.js';
import { sqlLiteral } from '../replay/sql-values.js';
import { logger } from '../core/logger.js';
import { openLog, requireTable, planWindow } from './log-window.js';
import { windowOf } from './run-diff.js';
import { cascadeReach } from './materialized-window.js';
import { identName, tokenize } from '../schema/ddl-rewriter.js';
import type { KeyedEntry } from './window-fold.js';
import { displayImage } from './row-image.js';
import { formatQualifiedName } from '../core/table-name.js';
import {
  FLASHBACK_SESSION,
  flashbackStatements,
  logKeyString,
  type FlashbackStatements,
  renderScript,
  sameAsServer,
  serverKeyString,
} from './flashback-plan.js';

export interface FlashbackOptions {
  kafka: KafkaSettings;
  sourceId: string;
  table: TableRef;
  from: number;
  to: number;
  /** Where current rows are checked when only printing (the source, read-only use). */
  checkUrl: () => Promise<MysqlUrl>;
  /** Credentials given for applying; set means --execute. */
  executeUrl?: MysqlUrl;
  force?: boolean;
  /** The recovery server: a table that foreign-key actions change is compared as materialized there. */
  recovery?: () => Promise<MysqlUrl>;
}

export interface Conflict {
  key: Record<string, string | null>;
  reason: string;
}

export interface FlashbackResult {
  table: string;
  window: string;
  rows: number;
  statements: number;
  conflicts: Conflict[];
  script: string;
  executed: boolean;
  seconds: { log: number; check: number; apply: number; total: number };
}

interface ServerRow {
  names: string[];
  raw: (Buffer | null)[];
  types: string[];
}

/** Current rows of the given keys, raw bytes per column, optionally locked FOR UPDATE. */
async function currentRows(conn: Connection, t: TableRef, keyColumns: string[], entries: KeyedEntry[], lock: boolean): Promise<Map<string, ServerRow>> {
  const out = new Map<string, ServerRow>();
  const cols = keyColumns.map(qid).join(', ');
  for (let i = 0; i < entries.length; i += 1000) {
    const part = entries.slice(i, i + 1000);
    const tuples = part.map((e) => `(${e.key.map(sqlLiteral).join(', ')})`).join(', ');
    // Raw text-protocol bytes: compared with the log's exact values, never converted.
    const res = await rawRows(conn, `SELECT * FROM ${qualified(t.database, t.table)} WHERE (${cols}) IN (${tuples})${lock ? ' FOR UPDATE' : ''}`);
    const fnames = res.columns.map((f) => f.name);
    const ftypes = res.columns.map((f) => f.type);
    for (const r of res.rows) {
      const key = keyColumns.map((k) => r[fnames.indexOf(k)] ?? null);
      out.set(serverKeyString(key), { names: fnames, raw: r, types: ftypes });
    }
  }
  return out;
}

function conflictOf(e: KeyedEntry, cur: ServerRow | undefined): string | null {
  if (!e.end) return cur ? 'was inserted again after the window' : null;
  if (!cur) return 'was deleted after the window';
  const changed: string[] = [];
  e.end.columns.forEach((c, i) => {
    const j = cur.names.indexOf(c);
    if (j < 0) return; // dropped since: not a row change
    if (!sameAsServer(e.end!.values[i]!, cur.raw[j]!, cur.types[j] ?? '')) changed.push(c);
  });
  return changed.length ? `changed again after the window (${changed.join(', ')})` : null;
}

export async function runFlashback(opts: FlashbackOptions): Promise<FlashbackResult> {
  const t0 = Date.now();
  const log = logger().child({ component: 'flashback' });
  const lg = await openLog(opts.kafka, opts.sourceId, 'flashback');
  requireTable(lg, opts.table);
  const name = formatQualifiedName(opts.table.database, opts.table.table);
  const w = planWindow(lg.meta, opts.from, opts.to, opts.table);
  const ddl = lg.meta.ddl.find((d) => {
    if (comparePositions(d.position, w.from.at) < (w.from.inclusive ? 1 : 0)) return false;
    const c = comparePositions(d.position, w.to.at);
    if (w.to.inclusive ? c > 0 : c >= 0) return false;
    // Any statement naming the table as an identifier (ALTER, RENAME, TRUNCATE, DROP, CREATE).
    return tokenize(d.ddl.statement).some((tok) => identName(tok) === opts.table.table);
  });
  if (ddl) throw new UsageError(`${name} had a schema change in the window ("${ddl.ddl.statement.slice(0, 60)}"); flashback works within one table definition.`);
  // The rows the table's changes reached through ON DELETE / ON UPDATE actions go back with it.
  const tables = [opts.table, ...cascadeReach(lg, opts.table, w)];
  const plans: { table: TableRef; name: string; keyColumns: string[]; entries: KeyedEntry[] }[] = [];
  for (const t of tables) {
    const folder = await windowOf(lg, t, w, { from: opts.from, to: opts.to }, opts.kafka, opts.recovery);
    const tname = formatQualifiedName(t.database, t.table);
    if (!folder.keyColumns) throw new UsageError(`${tname} has no primary key or NOT NULL unique key the log knows of; flashback needs one to address rows.`);
    plans.push({ table: t, name: tname, keyColumns: folder.keyColumns, entries: [...folder.keyed.values()].filter((e) => e.start || e.end) });
  }
  const tLog = Date.now();

  const conn = opts.executeUrl
    ? await connectMysql(opts.executeUrl, 'flashback target', { multipleStatements: true })
    : await connectMysql(await opts.checkUrl(), 'source');
  let tCheck = tLog;
  try {
    if (opts.executeUrl) {
      for (const s of FLASHBACK_SESSION) await conn.query(s);
      await conn.query('START TRANSACTION');
    }
    const conflicts: Conflict[] = [];
    const per: FlashbackStatements[] = [];
    let rows = 0;
    for (const p of plans) {
      const cur = await currentRows(conn, p.table, p.keyColumns, p.entries, Boolean(opts.executeUrl));
      const apply: KeyedEntry[] = [];
      for (const e of p.entries) {
        const reason = conflictOf(e, cur.get(logKeyString(e.key)));
        if (reason) conflicts.push({ key: displayImage({ columns: e.keyColumns, values: e.key }), reason: p === plans[0] ? reason : `${p.name} ${reason}` });
        if (!reason || opts.force) apply.push(e);
      }
      rows += apply.length;
      per.push(flashbackStatements(p.table.database, p.table.table, apply));
    }
    tCheck = Date.now();
    // Children's rows leave before their parents' and come back after them (foreign keys are checked).
    const statements = [...[...per].reverse().flatMap((x) => x.deletes), ...per.flatMap((x) => x.updates), ...per.flatMap((x) => x.inserts)];
    const label = plans.length > 1 ? `${qualified(opts.table.database, opts.table.table)} (with ${plans.slice(1).map((p) => p.name).join(', ')}, reached by its foreign-key actions)` : qualified(opts.table.database, opts.table.table);
    const script = renderScript({ table: label, window: `${w.from.label}, undoing the changes ${w.label}`, rows, conflicts, forced: Boolean(opts.force) }, statements);
    if (opts.executeUrl) {
      try {
        for (let i = 0; i < statements.length; i += 500) await conn.query(statements.slice(i, i + 500).join(';\n'));
        await conn.query('COMMIT');
      } catch (err) {
        await conn.query('ROLLBACK').catch(() => undefined);
        throw mysqlError(err, `applying the flashback of ${name} failed and was rolled back`);
      }
      log.info({ statements: statements.length, conflicts: conflicts.length }, 'flashback applied');
    }
    const end = Date.now();
    return {
      table: name,
      window: w.label,
      rows,
      statements: statements.length,
      conflicts,
      script,
      executed: Boolean(opts.executeUrl),
      seconds: { log: (tLog - t0) / 1000, check: (tCheck - tLog) / 1000, apply: (end - tCheck) / 1000, total: (end - t0) / 1000 },
    };
  } catch (err) {
    if (opts.executeUrl) await conn.query('ROLLBACK').catch(() => undefined);
    throw err instanceof PitrError ? err : mysqlError(err, `flashback of ${name} failed`);
  } finally {
    await conn.end().catch(() => undefined);
  }
}
