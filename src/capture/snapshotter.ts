// Consistent snapshot of the selected tables, tied to the exact binlog position, without a global
// read lock: MariaDB's START TRANSACTION WITH CONSISTENT SNAPSHOT + binlog_snapshot_file/position.
import { randomUUID } from 'node:crypto';
import type { MysqlUrl } from '../core/mysql-url.js';
import { connectMysql, mysqlError, qualified, qid, type FieldPacket } from '../core/mysql-conn.js';
import { encodeSnapshotValue } from './value-encoder.js';
import type { RowMsg, SnapshotBeginMsg } from '../log/record-types.js';
import { binlogFileSeq } from '../core/position.js';
import { rowSize, CHUNK_BYTES } from '../log/txn-records.js';
import type { TableFilter } from './transaction-builder.js';

export interface SnapshotSink {
  begin(begin: SnapshotBeginMsg): Promise<void>;
  rows(database: string, table: string, columns: string[], rows: RowMsg[]): Promise<void>;
  end(counts: { database: string; table: string; rows: number }[]): Promise<void>;
}

const BINARY_CHARSET = 63;

/** Types whose binlog image is their stored bytes, by width. */
const STORED_BYTES: Record<string, number> = { uuid: 16, inet6: 16, inet4: 4 };

export async function takeSnapshot(source: MysqlUrl, filter: TableFilter, sink: SnapshotSink): Promise<SnapshotBeginMsg> {
  const conn = await connectMysql(source, 'source');
  try {
    await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
    const [st] = await conn.query("SHOW STATUS LIKE 'binlog_snapshot_%'");
    const status = Object.fromEntries((st as { Variable_name: string; Value: string }[]).map((r) => [r.Variable_name, r.Value]));
    const file = status['Binlog_snapshot_file'];
    const pos = Number(status['Binlog_snapshot_position']);
    if (!file) throw new Error('the source has no binary log enabled (binlog_snapshot_file is empty); start it with log_bin');
    const [g] = await conn.query('SELECT BINLOG_GTID_POS(?, ?) AS g, UNIX_TIMESTAMP() AS t', [file, pos]);
    const { g: gtidPos, t } = (g as { g: string | null; t: string }[])[0]!;
    const [tl] = await conn.query(
      `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t FROM information_schema.TABLES
       WHERE TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_SCHEMA, TABLE_NAME`,
    );
    const tables = (tl as { db: string; t: string }[]).filter((r) => filter(r.db, r.t));
    const dbs = [...new Set(tables.map((r) => r.db))];
    const createDatabases: string[] = [];
    for (const db of dbs) {
      const [r] = await conn.query(`SHOW CREATE DATABASE ${qid(db)}`);
      createDatabases.push((r as Record<string, string>[])[0]!['Create Database']!);
    }
    const defs = [];
    for (const r of tables) {
      const [c] = await conn.query(`SHOW CREATE TABLE ${qualified(r.db, r.t)}`);
      defs.push({ database: r.db, table: r.t, createSql: (c as Record<string, string>[])[0]!['Create Table']! });
    }
    const begin: SnapshotBeginMsg = {
      snapshotId: randomUUID(),
      position: { fileSeq: binlogFileSeq(file), endPos: pos },
      gtidPos: gtidPos ?? '',
      time: Number(t),
      tables: defs,
      createDatabases,
      binlogFile: file,
    };
    await sink.begin(begin);
    const counts: { database: string; table: string; rows: number }[] = [];
    for (const r of tables) counts.push({ database: r.db, table: r.t, rows: await snapshotTable(conn, r.db, r.t, sink) });
    await conn.query('COMMIT');
    await sink.end(counts);
    return begin;
  } catch (err) {
    throw mysqlError(err, 'snapshot of the source failed');
  } finally {
    await conn.end().catch(() => undefined);
  }
}

async function snapshotTable(
  conn: Awaited<ReturnType<typeof connectMysql>>,
  db: string,
  table: string,
  sink: SnapshotSink,
): Promise<number> {
  // MariaDB's UUID/INET4/INET6 columns read as text here but arrive from the binlog as their stored
  // bytes: select the stored bytes so both paths give the same value.
  const [cols] = await conn.query(
    'SELECT COLUMN_NAME AS name, DATA_TYPE AS type FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
    [db, table],
  );
  const select = (cols as { name: string; type: string }[])
    .map(({ name, type }) => {
      const width = STORED_BYTES[type.toLowerCase()];
      return width ? `CAST(${qid(name)} AS BINARY(${width})) AS ${qid(name)}` : qid(name);
    })
    .join(', ');
  // Stream rows as raw bytes (no driver conversion) and encode them exactly.
  const raw = (conn as unknown as { connection: import('mysql2').Connection }).connection;
  const query = raw.query({ sql: `SELECT ${select || '*'} FROM ${qualified(db, table)}`, typeCast: (field: { buffer(): Buffer | null }) => field.buffer() } as never);
  const stream = query.stream({ highWaterMark: 1000 });
  let fields: FieldPacket[] = [];
  let columns: string[] = [];
  query.on('fields', (f: FieldPacket[]) => {
    fields = f;
    columns = f.map((x) => x.name);
  });
  let chunk: RowMsg[] = [];
  let bytes = 0;
  let total = 0;
  for await (const row of stream as AsyncIterable<Record<string, Buffer | null>>) {
    const values = fields.map((f) => {
      const v = row[f.name] ?? null;
      const binary = (f as unknown as { characterSet: number }).characterSet === BINARY_CHARSET;
      const type = (f as unknown as { columnType: number }).columnType;
      return encodeSnapshotValue(v === null ? null : binary ? v : v.toString('utf8'), type, binary);
    });
    chunk.push({ values });
    bytes += rowSize(values);
    total++;
    if (bytes >= CHUNK_BYTES) {
      await sink.rows(db, table, columns, chunk);
      chunk = [];
      bytes = 0;
    }
  }
  if (chunk.length || total === 0) await sink.rows(db, table, columns, chunk);
  return total;
}
