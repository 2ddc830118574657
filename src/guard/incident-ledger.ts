// Guard's tables next to its copies in the recovery database: the incident ledger (one row per copy made
// and reported, so a restart never reports one twice) and guard's saved state (what it knows about the
// tables at a position of the log, so a restart need not reread the log). The only guard file with SQL.
import { qualified, type Connection } from '../core/mysql-conn.js';
import { firstRow, returnsRows, rowCount, tableExists } from '../core/catalog.js';
import type { Incident } from './incident-detector.js';
import { copyName, type IncidentReport } from './incident-report.js';

export const LEDGER_TABLE = 'pitr_guard_incidents';
export const STATE_TABLE = 'pitr_guard_state';

export class IncidentLedger {
  constructor(
    private readonly db: Connection,
    /** The recovery database the copies and these tables live in. */
    readonly database: string,
    private readonly sourceId: string,
  ) {}

  async ensure(): Promise<void> {
    await this.db.query(
      `CREATE TABLE IF NOT EXISTS ${qualified(this.database, LEDGER_TABLE)} (name VARCHAR(64) PRIMARY KEY, source_id VARCHAR(100) NOT NULL,
        table_name VARCHAR(200) NOT NULL, cause VARCHAR(40) NOT NULL, gtid VARCHAR(64) NOT NULL, reported_at DATETIME(3) NOT NULL,
        report LONGTEXT NOT NULL)`,
    );
    await this.db.query(
      `CREATE TABLE IF NOT EXISTS ${qualified(this.database, STATE_TABLE)} (group_id VARCHAR(200) PRIMARY KEY, source_id VARCHAR(100) NOT NULL,
        saved_at DATETIME(3) NOT NULL, state LONGTEXT NOT NULL)`,
    );
  }

  /** Whether the copy of this name was made and reported. */
  has(name: string): Promise<boolean> {
    return returnsRows(this.db, `SELECT 1 FROM ${qualified(this.database, LEDGER_TABLE)} WHERE name = ?`, [name]);
  }

  /** Rows of the copy of this name, undefined when it is not there. */
  async copyRows(name: string): Promise<number | undefined> {
    return (await tableExists(this.db, this.database, name)) ? rowCount(this.db, this.database, name) : undefined;
  }

  async record(inc: Incident, r: IncidentReport): Promise<void> {
    await this.db.query(
      `INSERT IGNORE INTO ${qualified(this.database, LEDGER_TABLE)} (name, source_id, table_name, cause, gtid, reported_at, report) VALUES (?, ?, ?, ?, ?, NOW(3), ?)`,
      [copyName(inc.table, inc.gtid), this.sourceId, r.table, r.cause, r.gtid, JSON.stringify(r)],
    );
  }

  /** Guard's saved state for this consumer group (JSON text), if any. Reads only: it runs before the target is vetted. */
  async loadState(groupId: string): Promise<string | undefined> {
    if (!(await tableExists(this.db, this.database, STATE_TABLE))) return undefined;
    return (await firstRow<{ state: string }>(this.db, `SELECT state FROM ${qualified(this.database, STATE_TABLE)} WHERE group_id = ?`, [groupId]))?.state;
  }

  async saveState(groupId: string, state: string): Promise<void> {
    await this.db.query(
      `REPLACE INTO ${qualified(this.database, STATE_TABLE)} (group_id, source_id, saved_at, state) VALUES (?, ?, NOW(3), ?)`,
      [groupId, this.sourceId, state],
    );
  }

  async forgetState(groupId: string): Promise<void> {
    await this.db.query(`DELETE FROM ${qualified(this.database, STATE_TABLE)} WHERE group_id = ?`, [groupId]);
  }
}
