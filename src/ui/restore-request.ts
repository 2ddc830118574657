// A restore as the UI's restore panel asks for it: checked with the command line's own parsers into
// RestoreOptions fields, and written out as the exact `pitr restore ...` command that does the same. Pure.
import { UsageError } from '../core/errors.js';
import { parseDatabaseName } from '../core/table-name.js';
import { cutSpecFromFlags, parseTableName, type CutSpec } from '../replay/cut-planner.js';

/** The JSON body of POST /api/restore and /api/restore/command (docs/ui.md). */
export interface RestoreRequest {
  tables?: string[];
  database?: string;
  asOf?: string;
  beforeGtid?: string;
  throughGtid?: string;
  intoDatabase?: string;
  replace?: boolean;
}

export interface CheckedRestore {
  tables?: { database: string; table: string }[];
  database?: string;
  cut: CutSpec;
  intoDatabase?: string;
  replace: boolean;
  /** The command line that runs the same restore. */
  command: string;
}

const str = (v: unknown, what: string): string | undefined => {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new UsageError(`${what} must be a string.`);
  return v.trim();
};

/** Quotes a word for a POSIX shell when it holds anything beyond plain name characters. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_.,:@%+=\/-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function checkRestoreRequest(body: unknown): CheckedRestore {
  if (typeof body !== 'object' || body === null) throw new UsageError('the restore request must be a JSON object.');
  const b = body as Record<string, unknown>;
  const tablesIn = b.tables === undefined || b.tables === null ? [] : b.tables;
  if (!Array.isArray(tablesIn) || tablesIn.some((t) => typeof t !== 'string')) throw new UsageError('tables must be a list of db.table names.');
  const tableNames = (tablesIn as string[]).map((t) => t.trim()).filter(Boolean);
  const databaseName = str(b.database, 'database');
  if (!tableNames.length && !databaseName) throw new UsageError('say what to restore: one or more tables, or a database.');
  if (tableNames.length && databaseName) throw new UsageError('restore either tables or a database, not both.');
  const flags = { asOf: str(b.asOf, 'asOf'), beforeGtid: str(b.beforeGtid, 'beforeGtid'), throughGtid: str(b.throughGtid, 'throughGtid') };
  const cut = cutSpecFromFlags(flags);
  const tables = tableNames.map(parseTableName);
  const database = databaseName === undefined ? undefined : parseDatabaseName(databaseName, 'database');
  const intoName = str(b.intoDatabase, 'intoDatabase');
  const intoDatabase = intoName === undefined ? undefined : parseDatabaseName(intoName, 'intoDatabase');
  if (b.replace !== undefined && typeof b.replace !== 'boolean') throw new UsageError('replace must be true or false.');
  const replace = b.replace === true;

  const words = ['pitr', 'restore'];
  for (const t of tableNames) words.push('--table', shellWord(t));
  if (databaseName) words.push('--database', shellWord(databaseName));
  if (flags.asOf !== undefined) words.push('--as-of', shellWord(flags.asOf));
  if (flags.beforeGtid !== undefined) words.push('--before-gtid', shellWord(flags.beforeGtid));
  if (flags.throughGtid !== undefined) words.push('--through-gtid', shellWord(flags.throughGtid));
  if (intoName) words.push('--into-database', shellWord(intoName));
  if (replace) words.push('--replace');
  return {
    ...(tables.length ? { tables } : {}),
    ...(database !== undefined ? { database } : {}),
    cut,
    ...(intoDatabase !== undefined ? { intoDatabase } : {}),
    replace,
    command: words.join(' '),
  };
}
