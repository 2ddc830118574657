// The driver-neutral binlog events capture works on. The zongji adapter produces them; the
// transaction builder consumes them. Keeping this seam lets fixtures be decoded without a server.

export interface GtidEvent {
  type: 'gtid';
  domain: number;
  serverId: number;
  seq: bigint;
  /** The group is one DDL statement (no Xid follows). */
  isDdl: boolean;
  /** The group is a standalone statement without BEGIN/COMMIT. */
  standalone: boolean;
  timestamp: number;
  /** Binlog file and end position of the GTID event (set by the zongji adapter; fixtures may omit them). */
  file?: string;
  nextPosition?: number;
}

export interface QueryEvent {
  type: 'query';
  statement: string;
  defaultDatabase: string;
  /** Session sql_mode bits from the event's status variables, when logged. */
  sqlMode?: bigint;
  /** Seconds since epoch, as logged. */
  timestamp: number;
  file: string;
  nextPosition: number;
}

export interface RowsEvent {
  type: 'rows';
  op: 'insert' | 'update' | 'delete';
  database: string;
  table: string;
  columns: string[];
  /** Binlog column type codes, aligned with columns. */
  columnTypes: number[];
  /** insert/delete: plain images; update: { before, after } images. Keyed by column name. */
  rows: Array<Record<string, unknown>>;
  timestamp: number;
  /** The statement ran with foreign_key_checks=0: the server applied no referential actions for it. */
  noForeignKeyChecks?: boolean;
}

export interface XidEvent {
  type: 'xid';
  timestamp: number;
  file: string;
  nextPosition: number;
}

export interface RotateEvent {
  type: 'rotate';
  file: string;
  position: number;
}

export type BinlogEvent = GtidEvent | QueryEvent | RowsEvent | XidEvent | RotateEvent;
