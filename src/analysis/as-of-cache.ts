// Tables materialized as of a cut on the recovery server, for `pitr query --as-of`: one cache
// database per (source, database, cut position), built once through runRestore and kept under an
// LRU bound on disk use. The catalog lives on the recovery server itself (pitr_asof.entries), so
// every invocation sees what earlier ones built and in which order they were last used.
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { qid, qualified, type Connection } from '../core/mysql-conn.js';
import { firstRow, rows, schemaHasTables, tableExists } from '../core/catalog.js';
import type { MysqlUrl } from '../core/mysql-url.js';
import type { KafkaSettings } from '../core/settings.js';
import type { Cut } from '../core/position.js';
import { PitrError } from '../core/errors.js';
import { logger } from '../core/logger.js';
import { runRestore } from '../replay/restore.js';
import type { TableRef } from '../log/table-history-reader.js';

export const CATALOG_DB = 'pitr_asof';

export interface CacheEntry {
  cacheDb: string;
  table: string;
  sourceDb: string;
  cut: string;
  bytes: number;
  lastUsed: number;
}

export interface Materialized {
  table: string;
  into: string;
  cache: 'hit' | 'built';
  bytes: number;
  seconds: number;
}

/** Stable cut text: the same position means the same state forever (the log is append-only). */
export function cutKey(cut: Cut): string {
  return `${cut.at.fileSeq}:${cut.at.endPos}:${cut.inclusive ? 'i' : 'x'}`;
}

export function cacheDatabase(sourceId: string, database: string, cut: Cut): string {
  const h = createHash('sha256').update(`${sourceId}\0${database}\0${cutKey(cut)}`).digest('hex').slice(0, 16);
  return `pitr_asof_${h}`;
}

export class AsOfCache {
  private lru!: LRUCache<string, CacheEntry>;
  private readonly evicted: CacheEntry[] = [];
  private readonly inUse = new Set<string>();

  constructor(
    private readonly conn: Connection,
    private readonly maxBytes: number,
  ) {}

  async open(): Promise<void> {
    await this.conn.query(`CREATE DATABASE IF NOT EXISTS ${qid(CATALOG_DB)}`);
    await this.conn.query(
      `CREATE TABLE IF NOT EXISTS ${qualified(CATALOG_DB, 'entries')} (cache_db VARCHAR(64) NOT NULL, tbl VARCHAR(64) NOT NULL,
         source_db VARCHAR(64) NOT NULL, cut VARCHAR(64) NOT NULL, bytes BIGINT NOT NULL, last_used DOUBLE NOT NULL,
         PRIMARY KEY (cache_db, tbl)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
    );
    this.lru = new LRUCache<string, CacheEntry>({
      maxSize: Math.max(1, this.maxBytes),
      sizeCalculation: (e) => Math.max(1, Math.min(e.bytes, this.maxBytes)),
      dispose: (e, _k, reason) => {
        if (reason === 'evict') this.evicted.push(e);
      },
    });
    const entries = await rows<CacheEntry>(
      this.conn,
      `SELECT cache_db AS cacheDb, tbl AS \`table\`, source_db AS sourceDb, cut, bytes, last_used AS lastUsed FROM ${qualified(CATALOG_DB, 'entries')} ORDER BY last_used`,
    );
    // Oldest first, so the LRU order is the order of last use.
    for (const r of entries) this.lru.set(key(r.cacheDb, r.table), { ...r, bytes: Number(r.bytes), lastUsed: Number(r.lastUsed) });
    await this.dropEvicted();
  }

  /** Returns the cache table for db.t at the cut, building it with runRestore when missing. */
  async materialize(
    t: TableRef,
    cut: Cut,
    asOf: number,
    ctx: { kafka: KafkaSettings; sourceId: string; target: MysqlUrl },
  ): Promise<Materialized> {
    const started = Date.now();
    const cacheDb = cacheDatabase(ctx.sourceId, t.database, cut);
    const k = key(cacheDb, t.table);
    this.inUse.add(k);
    const known = this.lru.get(k);
    if (known && (await this.exists(cacheDb, t.table))) {
      known.lastUsed = Date.now() / 1000;
      await this.record(known);
      return { table: `${t.database}.${t.table}`, into: `${cacheDb}.${t.table}`, cache: 'hit', bytes: known.bytes, seconds: (Date.now() - started) / 1000 };
    }
    const res = await runRestore({ kafka: ctx.kafka, sourceId: ctx.sourceId, target: ctx.target, tables: [t], cut: { asOf }, intoDatabase: cacheDb, replace: true, noObjects: true });
    if (cutKey(res.cut) !== cutKey(cut)) {
      await this.conn.query(`DROP TABLE IF EXISTS ${qualified(cacheDb, t.table)}`);
      throw new PitrError('the log grew while the table was being materialized and the cut moved; run the query again.');
    }
    await this.conn.query(`ANALYZE TABLE ${qualified(cacheDb, t.table)}`).catch(() => undefined);
    const sz = await firstRow<{ b: number | string }>(
      this.conn,
      'SELECT COALESCE(DATA_LENGTH, 0) + COALESCE(INDEX_LENGTH, 0) AS b FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
      [cacheDb, t.table],
    );
    const bytes = Number(sz?.b ?? 0);
    const entry: CacheEntry = { cacheDb, table: t.table, sourceDb: t.database, cut: cutKey(cut), bytes, lastUsed: Date.now() / 1000 };
    await this.record(entry);
    this.lru.set(k, entry);
    await this.dropEvicted();
    return { table: `${t.database}.${t.table}`, into: `${cacheDb}.${t.table}`, cache: 'built', bytes, seconds: (Date.now() - started) / 1000 };
  }

  private exists(db: string, table: string): Promise<boolean> {
    return tableExists(this.conn, db, table);
  }

  private async record(e: CacheEntry): Promise<void> {
    await this.conn.query(
      `INSERT INTO ${qualified(CATALOG_DB, 'entries')} (cache_db, tbl, source_db, cut, bytes, last_used) VALUES (?, ?, ?, ?, ?, ?)
         ON DUPLICATE KEY UPDATE bytes = VALUES(bytes), last_used = VALUES(last_used)`,
      [e.cacheDb, e.table, e.sourceDb, e.cut, e.bytes, e.lastUsed],
    );
  }

  /** Drops what the LRU pushed out (never a table the running query needs). */
  private async dropEvicted(): Promise<void> {
    const log = logger().child({ component: 'as-of-cache' });
    while (this.evicted.length) {
      const e = this.evicted.shift()!;
      if (this.inUse.has(key(e.cacheDb, e.table))) continue;
      log.info({ table: `${e.cacheDb}.${e.table}`, bytes: e.bytes }, 'evicting an as-of table from the cache');
      await this.conn.query(`DROP TABLE IF EXISTS ${qualified(e.cacheDb, e.table)}`);
      await this.conn.query(`DELETE FROM ${qualified(CATALOG_DB, 'entries')} WHERE cache_db = ? AND tbl = ?`, [e.cacheDb, e.table]);
      if (!(await schemaHasTables(this.conn, e.cacheDb))) await this.conn.query(`DROP DATABASE IF EXISTS ${qid(e.cacheDb)}`);
    }
  }

  /** Bytes the cache holds now. */
  get size(): number {
    return this.lru.calculatedSize;
  }
}

function key(db: string, table: string): string {
  return `${db}\0${table}`;
}
