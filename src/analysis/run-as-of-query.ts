// `pitr query --as-of T`: materializes every table the query names as of T on the recovery server
// (through the as-of cache), maps the query's database names to the cache databases and runs it
// in a READ ONLY transaction.
import { refuseSourceAsTarget } from '../replay/target-guard.js';
import { connectMysql, mysqlError, qid } from '../core/mysql-conn.js';
import { arrayRows } from '../core/catalog.js';
import type { MysqlUrl } from '../core/mysql-url.js';
import type { KafkaSettings } from '../core/settings.js';
import { UsageError } from '../core/errors.js';
import { formatPosition } from '../core/position.js';
import { planCut } from '../replay/cut-planner.js';
import type { TableRef } from '../log/table-history-reader.js';
import { openLog } from './log-window.js';
import { assertReadOnly, mapDatabases, tableRefs } from './query-sql.js';
import { AsOfCache, cacheDatabase, type Materialized } from './as-of-cache.js';

export interface AsOfQueryOptions {
  kafka: KafkaSettings;
  sourceId: string;
  target: MysqlUrl;
  sql: string;
  asOf: number;
  database?: string;
  cacheBytes: number;
}

export interface AsOfQueryResult {
  columns: string[];
  rows: unknown[][];
  cut: string;
  position: string;
  materialized: Materialized[];
  sql: string;
  seconds: number;
}

export async function runAsOfQuery(opts: AsOfQueryOptions): Promise<AsOfQueryResult> {
  const started = Date.now();
  assertReadOnly(opts.sql);
  const refs = tableRefs(opts.sql);
  const tables: TableRef[] = [...refs.qualified];
  if (refs.unqualified.length && !opts.database) {
    throw new UsageError(`the query names ${refs.unqualified.join(', ')} without a database; qualify them (db.t) or pass --database db.`);
  }
  for (const t of refs.unqualified) {
    if (!tables.some((x) => x.database === opts.database && x.table === t)) tables.push({ database: opts.database!, table: t });
  }
  if (!tables.length && !opts.database) throw new UsageError('the query names no table (after FROM or JOIN); pitr query reads tables as of a time.');
  const log = await openLog(opts.kafka, opts.sourceId, 'query');
  const { cut } = planCut(log.meta, { asOf: opts.asOf });

  const conn = await connectMysql(opts.target, 'target');
  try {
    // The cache is written on the target: never on the source the log captures.
    await refuseSourceAsTarget(conn, { meta: log.meta }, "query's cache server");
    const cache = new AsOfCache(conn, opts.cacheBytes);
    await cache.open();
    const materialized: Materialized[] = [];
    for (const t of tables) {
      materialized.push(await cache.materialize(t, cut, opts.asOf, { kafka: opts.kafka, sourceId: opts.sourceId, target: opts.target }));
    }
    const map = new Map<string, string>();
    for (const t of tables) map.set(t.database, cacheDatabase(opts.sourceId, t.database, cut));
    if (opts.database) map.set(opts.database, cacheDatabase(opts.sourceId, opts.database, cut));
    const sql = mapDatabases(opts.sql, map);
    if (opts.database) {
      await conn.query(`CREATE DATABASE IF NOT EXISTS ${qid(map.get(opts.database)!)}`);
      await conn.query(`USE ${qid(map.get(opts.database)!)}`);
    }
    await conn.query('START TRANSACTION READ ONLY');
    let res: { columns: string[]; rows: unknown[][] };
    try {
      res = await arrayRows(conn, sql);
    } catch (err) {
      throw mysqlError(err, 'the query failed');
    } finally {
      await conn.query('ROLLBACK').catch(() => undefined);
    }
    return {
      columns: res.columns,
      rows: res.rows.map((r) => r.map(plainValue)),
      cut: cut.label,
      position: formatPosition(cut.at, log.basename),
      materialized,
      sql,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await conn.end().catch(() => undefined);
  }
}

/** Buffers as UTF-8 text when they are, else 0x-hex; everything else as the driver gives it. */
function plainValue(v: unknown): unknown {
  if (Buffer.isBuffer(v)) {
    const s = v.toString('utf8');
    return Buffer.from(s, 'utf8').equals(v) ? s : '0x' + v.toString('hex');
  }
  return v;
}
