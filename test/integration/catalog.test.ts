// The catalog helpers (src/core/catalog.ts) against the recovery server: each answer checked against what
// the test made there and against the server's own SHOW statements.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type mysql from 'mysql2/promise';
import { arrayRows, createTableStatement, firstRow, rawRows, rowCount, rows, schemaExists, schemaHasTables, tableExists, tableHasRows } from '../../src/core/catalog.js';
import { connectMysql, type Connection } from '../../src/core/mysql-conn.js';
import { parseMysqlUrl } from '../../src/core/mysql-url.js';
import { connect, stack } from './helpers.js';

const DB = 'catalog_it';
const EMPTY_DB = 'catalog_it_empty';
let oracle: mysql.Connection;
let conn: Connection;

beforeAll(async () => {
  const info = await stack();
  oracle = await connect(info.target);
  await oracle.query(`DROP DATABASE IF EXISTS ${DB}; DROP DATABASE IF EXISTS ${EMPTY_DB}; CREATE DATABASE ${DB}; CREATE DATABASE ${EMPTY_DB}`);
  await oracle.query(`CREATE TABLE ${DB}.t (id INT PRIMARY KEY, name VARCHAR(20), raw VARBINARY(4)); CREATE TABLE ${DB}.empty (id INT PRIMARY KEY); CREATE VIEW ${DB}.v AS SELECT id FROM ${DB}.t`);
  await oracle.query(`INSERT INTO ${DB}.t VALUES (1, 'a', 0x00ff), (2, 'b', NULL), (3, 'ç', 0x41)`);
  conn = await connectMysql(parseMysqlUrl(info.target, 'target URL'), 'target');
}, 120_000);

afterAll(async () => {
  await oracle?.query(`DROP DATABASE IF EXISTS ${DB}; DROP DATABASE IF EXISTS ${EMPTY_DB}`);
  await oracle?.end();
  await conn?.end();
});

describe('catalog', () => {
  it('tells which schemas and tables exist, and whether a schema holds any', async () => {
    const [dbs] = await oracle.query('SHOW DATABASES');
    const names = (dbs as { Database: string }[]).map((d) => d.Database);
    expect(await schemaExists(conn, DB)).toBe(names.includes(DB));
    expect(await schemaExists(conn, 'catalog_it_never')).toBe(false);
    expect(await schemaHasTables(conn, DB)).toBe(true);
    expect(await schemaHasTables(conn, EMPTY_DB)).toBe(false);
    const [shown] = await oracle.query(`SHOW FULL TABLES FROM ${DB}`);
    const tables = (shown as Record<string, string>[]).map((r) => r[`Tables_in_${DB}`]!).sort();
    expect(tables).toEqual(['empty', 't', 'v']);
    for (const t of tables) expect(await tableExists(conn, DB, t)).toBe(true);
    expect(await tableExists(conn, DB, 'missing')).toBe(false);
    expect(await tableExists(conn, EMPTY_DB, 't')).toBe(false);
  });

  it('counts rows and says whether a table holds any', async () => {
    const [c] = await oracle.query(`SELECT id FROM ${DB}.t`);
    expect(await rowCount(conn, DB, 't')).toBe((c as unknown[]).length);
    expect(await rowCount(conn, DB, 'empty')).toBe(0);
    expect(await tableHasRows(conn, DB, 't')).toBe(true);
    expect(await tableHasRows(conn, DB, 'empty')).toBe(false);
  });

  it('returns typed rows, the first row, SHOW CREATE TABLE, arrays and raw bytes as the server sends them', async () => {
    expect(await rows<{ id: number; name: string }>(conn, `SELECT id, name FROM ${DB}.t WHERE id < ? ORDER BY id`, [3])).toEqual([
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
    ]);
    expect(await firstRow<{ n: string }>(conn, `SELECT name AS n FROM ${DB}.t WHERE id = 3`)).toEqual({ n: 'ç' });
    expect(await firstRow(conn, `SELECT 1 FROM ${DB}.empty`)).toBeUndefined();
    const [shown] = await oracle.query(`SHOW CREATE TABLE ${DB}.t`);
    expect(await createTableStatement(conn, DB, 't')).toBe((shown as Record<string, string>[])[0]!['Create Table']);
    expect(await arrayRows(conn, `SELECT id, name FROM ${DB}.t ORDER BY id`)).toEqual({ columns: ['id', 'name'], rows: [[1, 'a'], [2, 'b'], [3, 'ç']] });
    const raw = await rawRows(conn, `SELECT id, name, raw FROM ${DB}.t ORDER BY id`);
    expect(raw.columns.map((c) => c.name)).toEqual(['id', 'name', 'raw']);
    expect(raw.columns[2]!.characterSet).toBe(63); // binary
    expect(raw.columns[1]!.characterSet).not.toBe(63);
    expect(raw.rows).toEqual([
      [Buffer.from('1'), Buffer.from('a'), Buffer.from([0x00, 0xff])],
      [Buffer.from('2'), Buffer.from('b'), null],
      [Buffer.from('3'), Buffer.from('ç'), Buffer.from('A')],
    ]);
  });
});
