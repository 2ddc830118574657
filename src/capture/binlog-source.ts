// Adapter over @vlasky/zongji: connects to the source's binlog and turns its events into the
// driver-neutral BinlogEvents of binlog-events.ts. The only capture file that imports zongji.
import { querySqlMode, queryText } from './query-status.js';
import ZongJi from '@vlasky/zongji';
import type { BinlogEvent } from './binlog-events.js';
import type { MysqlUrl } from '../core/mysql-url.js';
import { BinlogPurgedError, ConnectionError, PitrError } from '../core/errors.js';

export interface BinlogStart {
  /** MariaDB GTID position to resume after (domain-server-seq list). Takes precedence. */
  gtidPos?: string;
  /** Or a file and position to start from (e.g. a snapshot's binlog position). */
  file?: string;
  position?: number;
}

export interface BinlogSourceOptions {
  source: MysqlUrl;
  /** Replica server id this reader presents (must be unique among the source's replicas). */
  serverId: number;
  start: BinlogStart;
  onEvent: (ev: BinlogEvent) => void;
  onError: (err: PitrError) => void;
}

const EVENTS = ['rotate', 'mariadbgtid', 'query', 'tablemap', 'writerows', 'updaterows', 'deleterows', 'xid'];

interface ZEvent {
  getEventName(): string;
  timestamp: number;
  nextPosition: number;
  [k: string]: unknown;
}

export class BinlogSource {
  private z: InstanceType<typeof ZongJi> | null = null;
  private file = '';

  constructor(private readonly opts: BinlogSourceOptions) {}

  start(): Promise<void> {
    const { source, serverId, start } = this.opts;
    const z = new ZongJi({
      host: source.host,
      port: source.port,
      user: source.user,
      password: source.password,
      // Exact values: temporal types as server text, TIMESTAMP rendered in UTC, JSON as text.
      dateStrings: true,
      jsonStrings: true,
      timezone: 'Z',
      supportBigNumbers: true,
      bigNumberStrings: true,
    } as never);
    // Geometry as the raw stored bytes (SRID + WKB): zongji otherwise decodes it into objects and
    // drops the SRID. Needs patches/@vlasky+zongji+*.patch (applied by patch-package on npm ci).
    (z as unknown as { rawGeometry: boolean }).rawGeometry = true;
    this.z = z;
    if (start.file) this.file = start.file;
    return new Promise((resolve, reject) => {
      let ready = false;
      z.on('ready', () => {
        ready = true;
        resolve();
      });
      z.on('error', (err: Error & { code?: string; errno?: number }) => {
        const wrapped = classify(err);
        if (!ready) reject(wrapped);
        else this.opts.onError(wrapped);
      });
      z.on('binlog', (raw: unknown) => {
        const e = raw as ZEvent;
        const ev = this.normalize(e);
        if (ev) this.opts.onEvent(ev);
      });
      const startOpts: Record<string, unknown> = { serverId, includeEvents: EVENTS };
      if (start.gtidPos !== undefined) startOpts.gtidSet = start.gtidPos;
      else {
        startOpts.filename = start.file;
        startOpts.position = start.position;
      }
      z.start(startOpts as never);
    });
  }

  /** Stops reading from the server's socket (backpressure); events already parsed still arrive. */
  pause(): void {
    (this.z as unknown as { connection?: { pause(): void } } | null)?.connection?.pause();
  }

  resume(): void {
    (this.z as unknown as { connection?: { resume(): void } } | null)?.connection?.resume();
  }

  stop(): Promise<void> {
    const z = this.z;
    this.z = null;
    if (!z) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, 2000);
      z.on('stopped', () => {
        clearTimeout(t);
        resolve();
      });
      z.stop();
    });
  }

  private normalize(e: ZEvent): BinlogEvent | null {
    const ts = Math.floor(e.timestamp / 1000);
    switch (e.getEventName()) {
      case 'rotate':
        this.file = e.binlogName as string;
        return { type: 'rotate', file: this.file, position: e.position as number };
      case 'mariadbgtid':
        return {
          type: 'gtid',
          domain: e.domainId as number,
          serverId: e.serverId as number,
          seq: BigInt(e.seqNo as number | string),
          isDdl: Boolean(e.isDdl),
          standalone: Boolean(e.standalone),
          timestamp: ts,
          file: this.file,
          nextPosition: e.nextPosition,
        };
      case 'query':
        return {
          type: 'query',
          statement: queryText(e.queryBuffer as Buffer | undefined, e.statusVarsBuffer as Buffer | undefined, e.query as string),
          defaultDatabase: (e.schema as string) ?? '',
          ...optional('sqlMode', querySqlMode(e.statusVarsBuffer as Buffer | undefined)),
          timestamp: ts,
          file: this.file,
          nextPosition: e.nextPosition,
        };
      case 'xid':
        return { type: 'xid', timestamp: ts, file: this.file, nextPosition: e.nextPosition };
      case 'writerows':
      case 'updaterows':
      case 'deleterows': {
        const tableMap = (e.tableMap as Record<number, { parentSchema: string; tableName: string; columns: { name: string; type: number }[] }>)[
          e.tableId as number
        ]!;
        const name = e.getEventName();
        return {
          type: 'rows',
          op: name === 'writerows' ? 'insert' : name === 'updaterows' ? 'update' : 'delete',
          database: tableMap.parentSchema,
          table: tableMap.tableName,
          columns: tableMap.columns.map((c) => c.name),
          columnTypes: tableMap.columns.map((c) => c.type),
          rows: e.rows as Array<Record<string, unknown>>,
          timestamp: ts,
          // Rows_log_event flag NO_FOREIGN_KEY_CHECKS_F: the session ran with foreign_key_checks=0 (no cascades).
          ...(((e.flags as number) & 0x0002) !== 0 ? { noForeignKeyChecks: true } : {}),
        };
      }
      default:
        return null;
    }
  }
}

function optional<K extends string, V>(k: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [k]: v }) as { [P in K]?: V };
}

/** Socket and protocol failures: the source went away (restart, network), reconnecting may help. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_SERVER_SHUTDOWN', 'ER_CONNECTION_KILLED',
]);

function classify(err: Error & { code?: string; errno?: number }): PitrError {
  // 1236 (ER_MASTER_FATAL_ERROR_READING_BINLOG, mysql2 sets errno from the server's error packet): the binlog
  // needed to resume is gone (purged) or the position is invalid; never retriable.
  if (err.errno === 1236) {
    return new BinlogPurgedError(`the source's binlog no longer holds what capture needs to resume: ${err.message}`, { cause: err });
  }
  if (err.code !== undefined && CONNECTION_CODES.has(err.code)) {
    return new ConnectionError(`lost the binlog connection to the source: ${err.message}`, { cause: err });
  }
  return new PitrError(`binlog reader failed: ${err.message}`, { cause: err });
}
