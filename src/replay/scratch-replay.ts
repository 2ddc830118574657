// The restore's scratch schemas on the target: the schema as of the snapshot, then each DDL
// statement of the plan replayed in commit order (tolerating the errors of tables outside capture's
// filter), and finally which of the requested tables exist at the cut.
import type { Logger } from 'pino';
import { classifyDdl, identName, rewriteDatabases, tokenize, usesDefaultDatabase } from '../schema/ddl-rewriter.js';
import { mysqlError, qid, type Connection } from '../core/mysql-conn.js';
import { formatPosition } from '../core/position.js';
import { CoverageError } from '../core/errors.js';
import { rows, schemaExists, tableExists } from '../core/catalog.js';
import { formatQualifiedName, type QualifiedName } from '../core/table-name.js';
import type { ScratchSchemas } from './scratch-schemas.js';
import { ansiQuotes } from '../schema/schema-objects.js';
import { RESTORE_SESSION } from './load-pool.js';
import { restoresTable, type RestorePlan, type RestoreRequest } from './restore-plan.js';

/** No such table / database, or already exists: what DDL of uncaptured tables runs into. */
const MISSING_OBJECT_ERRORS = new Set([1146, 1049, 1051, 1050, 1007, 1008, 1091, 1054]);

export class ScratchReplay {
  constructor(
    private readonly conn: Connection,
    private readonly scratch: ScratchSchemas,
    private readonly plan: RestorePlan,
    private readonly req: Pick<RestoreRequest, 'database' | 'tables'>,
    private readonly log: Logger,
  ) {}

  /** The scratch schema standing for a source database. */
  nameFor(db: string): string {
    return this.scratch.nameFor(db);
  }

  /** Creates the needed databases and tables as the snapshot had them. */
  async createAtSnapshot(): Promise<void> {
    const nameFor = (db: string) => this.scratch.nameFor(db);
    for (const create of this.plan.createDatabases) await this.conn.query(rewriteDatabases(create, nameFor));
    for (const db of new Set(this.plan.snapshotTables.map((t) => t.database))) {
      if (!this.scratch.bySource.has(db)) await this.conn.query(`CREATE DATABASE ${qid(nameFor(db))}`);
    }
    for (const def of this.plan.snapshotTables) {
      await this.conn.query(`USE ${qid(nameFor(def.database))}`);
      await this.conn.query(rewriteDatabases(def.createSql, nameFor));
    }
  }

  /** Replays plan.ddl[k] in the scratch schemas. */
  async replay(k: number): Promise<void> {
    const entry = this.plan.ddl[k]!;
    const d = entry.ddl;
    const kind = classifyDdl(d.statement);
    if (kind === 'other') return;
    const nameFor = (db: string) => this.scratch.nameFor(db);
    // CREATE/DROP DATABASE log the named database as their default: nothing to switch to; nor does a
    // statement whose every table is qualified (its default may be a database outside the restore).
    if (d.defaultDatabase && kind === 'table' && usesDefaultDatabase(d.statement)) {
      const s = nameFor(d.defaultDatabase);
      await this.conn.query(`CREATE DATABASE IF NOT EXISTS ${qid(s)}`);
      await this.conn.query(`USE ${qid(s)}`);
    }
    // The statement's own sql_mode (ANSI_QUOTES changes how it parses; strict modes what it accepts).
    const mode = d.sqlMode !== undefined && String(d.sqlMode) !== '0' ? String(d.sqlMode) : undefined;
    try {
      if (mode !== undefined) await this.conn.query('SET SESSION sql_mode = ?', [Number(mode)]);
      await this.conn.query(rewriteDatabases(d.statement, nameFor, ansiQuotes(mode)));
    } catch (err) {
      // Tables outside capture's --tables filter have DDL in the log but no definition in the
      // snapshot: their statements may fail here, harmlessly, unless they touch what we restore.
      const errno = (err as { errno?: number }).errno;
      const restoring = (db: string, t: string) => restoresTable(this.plan, this.req, db, t) || (this.req.database !== undefined && t === this.req.database);
      if (errno !== undefined && MISSING_OBJECT_ERRORS.has(errno) && !mentionsAny(d.statement, d.defaultDatabase, restoring)) {
        this.log.debug({ statement: d.statement.slice(0, 200), errno }, 'skipped DDL of a table outside the restore');
        return;
      }
      throw mysqlError(err, `replaying DDL at ${formatPosition(entry.position, this.plan.basename)} ("${d.statement.slice(0, 80)}") failed`);
    } finally {
      if (mode !== undefined) await this.conn.query(RESTORE_SESSION);
    }
  }

  /** The tables to move into place: the requested ones, or every base table of the database, as they exist at the cut. */
  async finalTables(): Promise<QualifiedName[]> {
    const label = this.plan.cut.label;
    if (this.req.tables) {
      for (const t of this.req.tables) {
        if (!(await tableExists(this.conn, this.nameFor(t.database), t.table))) throw new CoverageError(`table ${formatQualifiedName(t.database, t.table)} did not exist ${label}.`);
      }
      return this.req.tables;
    }
    const db = this.req.database!;
    if (!this.scratch.bySource.has(db)) throw new CoverageError(`database ${db} did not exist ${label}.`);
    if (!(await schemaExists(this.conn, this.nameFor(db)))) throw new CoverageError(`database ${db} did not exist ${label}.`);
    const tables = await rows<{ t: string }>(
      this.conn,
      "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
      [this.nameFor(db)],
    );
    return tables.map((x) => ({ database: db, table: x.t }));
  }
}

/** Whether a statement names any of the tables (or, for "db.*" entries, databases) being restored. */
function mentionsAny(sql: string, defaultDb: string, restoring: (db: string, t: string) => boolean): boolean {
  const toks = tokenize(sql);
  for (let i = 0; i < toks.length; i++) {
    const name = identName(toks[i]!);
    if (name === null) continue;
    if (restoring(defaultDb, name)) return true;
    if (toks[i + 1]?.text === '.' && toks[i + 2] && identName(toks[i + 2]!) !== null && restoring(name, identName(toks[i + 2]!)!)) return true;
  }
  return false;
}
