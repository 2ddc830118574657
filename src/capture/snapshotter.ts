// Consistent snapshot of the selected tables, tied to the exact binlog position, without a global
// read lock: MariaDB's START TRANSACTION WITH CONSISTENT SNAPSHOT + binlog_snapshot_file/position.
import { randomUUID } from 'node:crypto';
import type { MysqlUrl } from '../core/mysql-url.js';
import { connectMysql, mysqlError, qualified, qid, type Connection, type FieldPacket } from '../core/mysql-conn.js';
import { createTableStatement, firstRow, rows } from '../core/catalog.js';
import { encodeSnapshotValue } from './value-encoder.js';
import type { RowMsg, SchemaObjectMsg, SnapshotBeginMsg } from '../log/record-types.js';
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
    const st = await rows<{ Variable_name: string; Value: string }>(conn, "SHOW STATUS LIKE 'binlog_snapshot_%'");
    const status = Object.fromEntries(st.map((r) => [r.Variable_name, r.Value]));
    const file = status['Binlog_snapshot_file'];
    const pos = Number(status['Binlog_snapshot_position']);
    if (!file) throw new Error('the source has no binary log enabled (binlog_snapshot_file is empty); start it with log_bin');
    const { g: gtidPos, t } = (await firstRow<{ g: string | null; t: string }>(conn, 'SELECT BINLOG_GTID_POS(?, ?) AS g, UNIX_TIMESTAMP() AS t', [file, pos]))!;
    const listed = await rows<{ db: string; t: string }>(
      conn,
      `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t FROM information_schema.TABLES
       WHERE TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_SCHEMA, TABLE_NAME`,
    );
    const tables = listed.filter((r) => filter(r.db, r.t));
    const dbs = [...new Set(tables.map((r) => r.db))];
    const createDatabases: string[] = [];
    for (const db of dbs) {
      createDatabases.push((await firstRow<{ 'Create Database': string }>(conn, `SHOW CREATE DATABASE ${qid(db)}`))!['Create Database']);
    }
    const defs = [];
    for (const r of tables) {
      defs.push({ database: r.db, table: r.t, createSql: await createTableStatement(conn, r.db, r.t) });
    }
    const objects = await schemaObjects(conn, dbs);
    const begin: SnapshotBeginMsg = {
      ...(objects.length ? { objects } : {}),
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

const ACCESS_DENIED = new Set([1044, 1142, 1143, 1227, 1370]);

/** Views, triggers, routines and events of the databases, as SHOW CREATE gives them (restore recreates them). */
async function schemaObjects(conn: Connection, dbs: string[]): Promise<SchemaObjectMsg[]> {
  if (!dbs.length) return [];
  const out: SchemaObjectMsg[] = [];
  // A capture user without SHOW VIEW / TRIGGER / routine privileges still snapshots the rows.
  const show = async (sql: string) => {
    try {
      return await firstRow<Record<string, string>>(conn, sql);
    } catch (err) {
      if (ACCESS_DENIED.has((err as { errno?: number }).errno ?? 0)) return undefined;
      throw err;
    }
  };
  const list = (sql: string) => rows<Record<string, string>>(conn, sql, [dbs]);
  for (const r of await list('SELECT TABLE_SCHEMA AS db, TABLE_NAME AS name FROM information_schema.VIEWS WHERE TABLE_SCHEMA IN (?) ORDER BY TABLE_SCHEMA, TABLE_NAME')) {
    const c = await show(`SHOW CREATE VIEW ${qualified(r.db!, r.name!)}`);
    if (c?.['Create View']) out.push({ database: r.db!, kind: 'VIEW', name: r.name!, createSql: c['Create View'] });
  }
  for (const r of await list(
    'SELECT ROUTINE_SCHEMA AS db, ROUTINE_NAME AS name, ROUTINE_TYPE AS kind FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA IN (?) ORDER BY ROUTINE_SCHEMA, CREATED, ROUTINE_NAME',
  )) {
    const kind = r.kind === 'FUNCTION' ? 'FUNCTION' : 'PROCEDURE';
    const c = await show(`SHOW CREATE ${kind} ${qualified(r.db!, r.name!)}`);
    const sql = c?.[kind === 'FUNCTION' ? 'Create Function' : 'Create Procedure'];
    if (sql) out.push({ database: r.db!, kind, name: r.name!, createSql: sql, sqlMode: c!['sql_mode'] ?? '' });
  }
  for (const r of await list(
    'SELECT TRIGGER_SCHEMA AS db, TRIGGER_NAME AS name, EVENT_OBJECT_TABLE AS t FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA IN (?) ORDER BY TRIGGER_SCHEMA, EVENT_OBJECT_TABLE, ACTION_ORDER',
  )) {
    const c = await show(`SHOW CREATE TRIGGER ${qualified(r.db!, r.name!)}`);
    if (c?.['SQL Original Statement']) out.push({ database: r.db!, kind: 'TRIGGER', name: r.name!, table: r.t!, createSql: c['SQL Original Statement'], sqlMode: c['sql_mode'] ?? '' });
  }
  for (const r of await list('SELECT EVENT_SCHEMA AS db, EVENT_NAME AS name FROM information_schema.EVENTS WHERE EVENT_SCHEMA IN (?) ORDER BY EVENT_SCHEMA, EVENT_NAME')) {
    const c = await show(`SHOW CREATE EVENT ${qualified(r.db!, r.name!)}`);
    if (c?.['Create Event']) out.push({ database: r.db!, kind: 'EVENT', name: r.name!, createSql: c['Create Event'], sqlMode: c['sql_mode'] ?? '' });
  }
  return out;
}

/** Rows per primary-key range read in a snapshot: bounds memory whatever the table's size. */
export const SNAPSHOT_CHUNK_ROWS = 20_000;

async function snapshotTable(
  conn: Connection,
  db: string,
  table: string,
  sink: SnapshotSink,
): Promise<number> {
  // MariaDB's UUID/INET4/INET6 columns read as text here but arrive from the binlog as their stored
  // bytes: select the stored bytes so both paths give the same value.
  const columnList = await rows<{ name: string; type: string }>(
    conn,
    'SELECT COLUMN_NAME AS name, DATA_TYPE AS type FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
    [db, table],
  );
  const select = columnList
    .map(({ name, type }) => {
      const width = STORED_BYTES[type.toLowerCase()];
      return width ? `CAST(${qid(name)} AS BINARY(${width})) AS ${qid(name)}` : qid(name);
    })
    .join(', ');
  const pk = await rows<{ name: string }>(
    conn,
    `SELECT COLUMN_NAME AS name FROM information_schema.STATISTICS
      WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX`,
    [db, table],
  );
  const keyColumns = pk.map((r) => r.name);
  const from = `SELECT ${select || '*'} FROM ${qualified(db, table)}`;

  let columns: string[] = [];
  let chunk: RowMsg[] = [];
  let bytes = 0;
  let total = 0;
  const emit = async (values: RowMsg['values']) => {
    chunk.push({ values });
    bytes += rowSize(values);
    total++;
    if (bytes >= CHUNK_BYTES) {
      await sink.rows(db, table, columns, chunk);
      chunk = [];
      bytes = 0;
    }
  };

  if (!keyColumns.length) {
    // No primary key: one streamed scan (still one consistent snapshot, memory bounded by backpressure).
    await streamRows(conn, from, [], (names) => (columns = names), emit);
  } else {
    // Key ranges in primary-key order, all inside the one consistent-snapshot transaction: memory
    // stays bounded and the rows reach the log in key order (the order restore loads them in).
    const order = keyColumns.map(qid).join(', ');
    let after: (string | Buffer)[] | null = null;
    let lastBinary = new Map<string, boolean>();
    for (;;) {
      const where: string = after ? ` WHERE ${keyAfter(keyColumns)}` : '';
      const params: (string | Buffer)[] = after ? keyParams(after) : [];
      let last: Record<string, Buffer | null> | null = null;
      let n = 0;
      await streamRows(conn, `${from}${where} ORDER BY ${order} LIMIT ${SNAPSHOT_CHUNK_ROWS}`, params, (names) => (columns = names), async (values, row, binary) => {
        last = row;
        n++;
        await emit(values);
        lastBinary = binary;
      });
      if (n < SNAPSHOT_CHUNK_ROWS || !last) break;
      const lastRow: Record<string, Buffer | null> = last;
      after = keyColumns.map((c) => {
        const v = lastRow[c]!;
        return lastBinary.get(c) ? v : v.toString('utf8');
      });
    }
  }
  if (chunk.length || total === 0) await sink.rows(db, table, columns, chunk);
  return total;
}

/** WHERE clause for "key greater than the last one read", expanded so the range optimizer uses the key. */
function keyAfter(keyColumns: string[]): string {
  const ors: string[] = [];
  for (let i = 0; i < keyColumns.length; i++) {
    const eqs = keyColumns.slice(0, i).map((c) => `${qid(c)} = ?`);
    ors.push(`(${[...eqs, `${qid(keyColumns[i]!)} > ?`].join(' AND ')})`);
  }
  return ors.join(' OR ');
}

function keyParams(after: (string | Buffer)[]): (string | Buffer)[] {
  const out: (string | Buffer)[] = [];
  for (let i = 0; i < after.length; i++) out.push(...after.slice(0, i), after[i]!);
  return out;
}

/** Streams a query's rows as raw bytes and hands over the column names, then each row's exact encoding. */
async function streamRows(
  conn: Awaited<ReturnType<typeof connectMysql>>,
  sql: string,
  params: (string | Buffer)[],
  onFields: (names: string[]) => void,
  onRow: (values: RowMsg['values'], raw: Record<string, Buffer | null>, binary: Map<string, boolean>) => Promise<void>,
): Promise<void> {
  const rawConn = (conn as unknown as { connection: import('mysql2').Connection }).connection;
  const query = rawConn.query({ sql, values: params, typeCast: (field: { buffer(): Buffer | null }) => field.buffer() } as never);
  const stream = query.stream({ highWaterMark: 1000 });
  let fields: FieldPacket[] = [];
  let binary = new Map<string, boolean>();
  query.on('fields', (f: FieldPacket[]) => {
    fields = f;
    binary = new Map(f.map((x) => [x.name, (x as unknown as { characterSet: number }).characterSet === BINARY_CHARSET]));
    onFields(f.map((x) => x.name));
  });
  for await (const row of stream as AsyncIterable<Record<string, Buffer | null>>) {
    const values = fields.map((f) => {
      const v = row[f.name] ?? null;
      const isBinary = binary.get(f.name)!;
      const type = (f as unknown as { columnType: number }).columnType;
      return encodeSnapshotValue(v === null ? null : isBinary ? v : v.toString('utf8'), type, isBinary);
    });
    await onRow(values, row, binary);
  }
}
