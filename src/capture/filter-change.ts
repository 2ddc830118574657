// What capture checks when its --tables filter is given or changes: every rule matches a table on
// the source (or is marked `+` for later), and a narrower filter than the log's is refused unless
// --narrow, which records where the coverage of the tables it leaves out ends (CoverageEnd).
import type { MysqlUrl } from '../core/mysql-url.js';
import { connectMysql } from '../core/mysql-conn.js';
import { rows } from '../core/catalog.js';
import { UsageError } from '../core/errors.js';
import { formatQualifiedName, type QualifiedName } from '../core/table-name.js';
import type { CoverageEndMsg } from '../log/record-types.js';
import { toPositionMsg } from '../log/record-codec.js';
import type { ResumePoint } from '../log/txn-records.js';

/** Every base table on the source (system databases included; filters leave them out). */
export async function listSourceTables(source: MysqlUrl): Promise<QualifiedName[]> {
  const conn = await connectMysql(source, 'source');
  try {
    const tables = await rows<{ d: string; t: string }>(
      conn,
      "SELECT TABLE_SCHEMA AS d, TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') ORDER BY 1, 2",
    );
    return tables.map((r) => ({ database: r.d, table: r.t }));
  } finally {
    await conn.end().catch(() => undefined);
  }
}

const MAX_LISTED = 8;

function list(tables: QualifiedName[]): string {
  const names = tables.map((t) => formatQualifiedName(t.database, t.table));
  return names.length > MAX_LISTED ? `${names.slice(0, MAX_LISTED).join(', ')} and ${names.length - MAX_LISTED} more` : names.join(', ');
}

/** The refusal of a narrower filter without --narrow. */
export function narrowingRefused(removed: QualifiedName[], previousFilter: string): UsageError {
  return new UsageError(
    `the --tables filter leaves out ${removed.length} table(s) the log has captured so far (${list(removed)}; the log's filter is ` +
      `${previousFilter ? `"${previousFilter}"` : 'every user database'}): capture refuses to stop capturing them silently; ` +
      'pass --narrow to stop and record in the log where their coverage ends, or keep them in --tables.',
  );
}

/** The CoverageEnd record for the tables a narrower filter leaves out, ending at the log's resume point. */
export function coverageEndRecord(removed: QualifiedName[], resume: ResumePoint, previousFilter: string, tableFilter: string): CoverageEndMsg {
  return {
    tables: removed.map((t) => ({ database: t.database, table: t.table })),
    after: toPositionMsg(resume.position),
    afterGtidPos: resume.gtidPos,
    afterTime: resume.time,
    previousFilter,
    tableFilter,
  };
}

export function describeTables(tables: QualifiedName[]): string {
  return list(tables);
}
