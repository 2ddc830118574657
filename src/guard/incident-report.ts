// What guard says about an incident: the copy's name (table and cut), the JSON line, the human
// form, and the exact commands to restore the table elsewhere or put it back. Pure.
import { createHash } from 'node:crypto';
import { formatGtid, type Gtid } from '../core/gtid.js';
import { formatPosition } from '../core/position.js';
import type { TableRef } from './ddl-effects.js';
import type { Incident } from './incident-detector.js';
import { formatQualifiedName } from '../core/table-name.js';

const MAX_IDENT = 64;

/** `shop__orders__0_1_1234`: table and cut, shortened with a hash when over MariaDB's 64 characters. */
export function copyName(t: TableRef, g: Gtid): string {
  const cut = `__${g.domain}_${g.serverId}_${g.seq}`;
  const full = `${t.database}__${t.table}${cut}`;
  if (full.length <= MAX_IDENT) return full;
  const hash = createHash('sha256').update(`${t.database}.${t.table}`).digest('hex').slice(0, 8);
  return `${full.slice(0, MAX_IDENT - cut.length - hash.length - 1)}_${hash}${cut}`;
}

export interface ReportContext {
  /** Recovery database the copies go to. */
  intoDatabase: string;
  /** Where copies live and where "restore elsewhere" points, without password (mysql://user@host:port). */
  recoveryUrl: string;
  /** The source, without password, for "put it back"; a placeholder when unknown. */
  sourceUrl?: string;
  /** Binlog basename for positions ("mariadb-bin"). */
  binlogBasename?: string;
}

export interface IncidentReport {
  table: string;
  cause: string;
  gtid: string;
  time: string;
  rows: number | null;
  into: string;
  statement?: string;
  detail: string;
  position: string;
  /** Rows in the copy. */
  copied?: number;
  /** Seconds from the destructive commit (source clock) to the copy being in place. */
  recoveredAfter?: number;
  restore: { elsewhere: string; putBack: string; sql?: string };
  /** Set when the copy could not be made. */
  error?: string;
  /** Set when the incident was found and recovered before (--from-start over a known incident). */
  known?: boolean;
  /** A table that lost rows through ON DELETE CASCADE: the parent whose deletes reached it, the key, and the table the delete began at. */
  cascadeFrom?: { parent: string; key: string; root: string };
  /** On the table a cascade began at: the tables rebuilt with it because the cascade emptied or reduced them. */
  cascade?: { table: string; effect: 'emptied' | 'reduced'; rows?: number; via: string }[];
  /** Tables whose rows the cascade (or a mass UPDATE's ON UPDATE actions) may have modified: not rebuilt; how to rebuild each. */
  possiblyAffected?: { table: string; action: string; via: string; atMostRows?: number; restore: string }[];
}

const sh = (s: string): string => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
const q = (s: string): string => '`' + s.replace(/`/g, '``') + '`';

export function buildReport(
  inc: Incident,
  ctx: ReportContext,
  outcome: { copied?: number; finishedAt?: number; error?: string; known?: boolean } = {},
): IncidentReport {
  const name = copyName(inc.table, inc.gtid);
  const g = formatGtid(inc.gtid);
  // Quoted where needed, so the printed commands work for names holding a dot or backtick.
  const table = formatQualifiedName(inc.table.database, inc.table.table);
  const source = ctx.sourceUrl ?? 'mysql://USER@SOURCE-HOST:3306';
  // A cascade's tables are put back together: the children's rows need their parents' rows.
  const what =
    inc.database !== undefined
      ? `--database ${sh(inc.database)}`
      : (inc.group && inc.group.length > 1 ? inc.group : [inc.table]).map((t) => `--table ${sh(formatQualifiedName(t.database, t.table))}`).join(' ');
  const gone = inc.cause === 'DROP TABLE' || inc.cause === 'DROP DATABASE';
  const restore: IncidentReport['restore'] = {
    elsewhere: `pitr restore ${what} --before-gtid ${g} --target ${sh(ctx.recoveryUrl)} --into-database ${sh(`${ctx.intoDatabase}_${inc.gtid.seq}`)}`,
    putBack: `pitr restore ${what} --before-gtid ${g} --target ${sh(source)}${gone ? '' : ' --replace'}`,
  };
  const copy = `${q(ctx.intoDatabase)}.${q(name)}`;
  const live = `${q(inc.table.database)}.${q(inc.table.table)}`;
  if (gone) restore.sql = `RENAME TABLE ${copy} TO ${live}  -- when the copy is on the source server`;
  else if (inc.cause === 'DELETE') restore.sql = `INSERT IGNORE INTO ${live} SELECT * FROM ${copy}  -- re-adds the deleted rows when the copy is on the source server`;
  else if (inc.cause === 'UPDATE' || inc.cause === 'DELETE and UPDATE') restore.sql = `REPLACE INTO ${live} SELECT * FROM ${copy}  -- puts every row back as it was when the copy is on the source server`;
  const r: IncidentReport = {
    table,
    cause: inc.cause,
    gtid: g,
    time: new Date(inc.commitTime * 1000).toISOString().replace('.000Z', 'Z'),
    rows: inc.rows ?? null,
    into: formatQualifiedName(ctx.intoDatabase, name),
    ...(inc.statement !== undefined ? { statement: inc.statement } : {}),
    detail: inc.detail,
    position: formatPosition(inc.position, ctx.binlogBasename ?? 'binlog'),
    restore,
  };
  const qn = (t: TableRef) => formatQualifiedName(t.database, t.table);
  if (inc.cascadeFrom) r.cascadeFrom = { parent: qn(inc.cascadeFrom.parent), key: inc.cascadeFrom.key, root: qn(inc.cascadeFrom.root) };
  if (inc.cascade?.length) r.cascade = inc.cascade.map((c) => ({ table: qn(c.table), effect: c.effect, ...(c.rows !== undefined ? { rows: c.rows } : {}), via: qn(c.via) }));
  if (inc.possiblyAffected?.length) {
    r.possiblyAffected = inc.possiblyAffected.map((p) => ({
      table: qn(p.table),
      action: p.action,
      via: qn(p.via),
      ...(p.atMostRows !== undefined ? { atMostRows: p.atMostRows } : {}),
      restore: `pitr restore --table ${sh(qn(p.table))} --before-gtid ${g} --target ${sh(ctx.recoveryUrl)} --into-database ${sh(`${ctx.intoDatabase}_${inc.gtid.seq}`)}`,
    }));
  }
  if (outcome.copied !== undefined) r.copied = outcome.copied;
  if (outcome.finishedAt !== undefined) r.recoveredAfter = Math.max(0, Math.round((outcome.finishedAt / 1000 - inc.commitTime) * 10) / 10);
  if (outcome.error !== undefined) r.error = outcome.error;
  if (outcome.known) r.known = true;
  return r;
}

/** The report for a person at a terminal. */
export function humanReport(r: IncidentReport): string {
  const lines = [
    `INCIDENT ${r.cause} on ${r.table} at ${r.time} (GTID ${r.gtid}, ${r.position})${r.known ? ' [recovered before]' : ''}`,
    `  what:      ${r.detail}${r.rows !== null ? ` (${r.rows} rows affected)` : ''}`,
  ];
  if (r.cascadeFrom) lines.push(`  cascade:   from ${r.cascadeFrom.root}${r.cascadeFrom.parent !== r.cascadeFrom.root ? ` via ${r.cascadeFrom.parent}` : ''} (foreign key ${r.cascadeFrom.key}); rebuilt with it`);
  if (r.cascade?.length) {
    const list = r.cascade.map((c) => `${c.table} ${c.effect}${c.rows !== undefined ? ` (${c.rows} rows)` : ''}`).join(', ');
    lines.push(`  cascade:   ${list}, through ON DELETE CASCADE; rebuilt with it (put back parents first)`);
  }
  for (const p of r.possiblyAffected ?? []) {
    lines.push(`  maybe:     ${p.table}: ${p.action} from ${p.via}${p.atMostRows !== undefined ? `, at most ${p.atMostRows} rows modified` : ''}; not rebuilt: ${p.restore}`);
  }
  if (r.statement) lines.push(`  statement: ${r.statement.length > 200 ? `${r.statement.slice(0, 200)}...` : r.statement}`);
  if (r.error) lines.push(`  copy:      FAILED: ${r.error}`);
  else lines.push(`  copy:      ${r.into}${r.copied !== undefined ? ` (${r.copied} rows, as it stood just before)` : ''}${r.recoveredAfter !== undefined ? `, ready ${r.recoveredAfter} s after the commit` : ''}`);
  lines.push(`  elsewhere: ${r.restore.elsewhere}`);
  lines.push(`  put back:  ${r.restore.putBack}`);
  if (r.restore.sql) lines.push(`  or SQL:    ${r.restore.sql}`);
  return lines.join('\n') + '\n';
}
