// Shared helpers of the integration tests: the running local stack, the CLI as a subprocess, and
// oracle dumps of tables (rows value for value, definition) to compare restores with.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import type { StackInfo } from '../../src/core/settings.js';
import { stackUp } from '../../src/stack/local-stack.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

let info: Promise<StackInfo> | undefined;
export function stack(): Promise<StackInfo> {
  return (info ??= stackUp());
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/pitr.js ...args` the way a user would. */
export function pitr(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO, 'bin/pitr.js'), ...args], {
      cwd: REPO,
      env: { ...process.env, PITR_LOG_FORMAT: 'json', PITR_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

export async function connect(url: string, database?: string): Promise<mysql.Connection> {
  const u = new URL(url);
  const conn = await mysql.createConnection({
    host: u.hostname,
    port: Number(u.port),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    timezone: 'Z',
    multipleStatements: true,
  });
  await conn.query("SET time_zone = '+00:00'");
  return conn;
}

export interface TableDump {
  create: string;
  rows: string[];
  /** AUTO_INCREMENT=N of SHOW CREATE TABLE (with `counters`; 'none' when it shows none). */
  counter?: string;
}

/** A table as the oracle sees it: normalized SHOW CREATE TABLE and every row, sorted. */
export async function dumpTable(conn: mysql.Connection, db: string, table: string, opts: { counters?: boolean } = {}): Promise<TableDump | null> {
  const [t] = await conn.query('SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [db, table]);
  if (!(t as unknown[]).length) return null;
  const [c] = await conn.query(`SHOW CREATE TABLE \`${db}\`.\`${table}\``);
  const shown = (c as Record<string, string>[])[0]!['Create Table']!;
  const create = shown.replace(/ AUTO_INCREMENT=\d+/, '');
  const counter = opts.counters ? (/ AUTO_INCREMENT=(\d+)/.exec(shown)?.[1] ?? 'none') : undefined;
  // Raw bytes of every column: compare byte for byte, whatever the type.
  const [rows] = await conn.query({ sql: `SELECT * FROM \`${db}\`.\`${table}\``, typeCast: (f: { buffer(): Buffer | null }) => f.buffer() } as never);
  const lines = (rows as Record<string, Buffer | null>[]).map((r) =>
    JSON.stringify(Object.entries(r).map(([k, v]) => [k, v === null ? null : v.toString('hex')])),
  );
  lines.sort();
  return counter === undefined ? { create, rows: lines } : { create, rows: lines, counter };
}

export async function dumpDatabase(conn: mysql.Connection, db: string, opts: { counters?: boolean } = {}): Promise<Record<string, TableDump>> {
  const [t] = await conn.query("SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'", [db]);
  const out: Record<string, TableDump> = {};
  for (const { t: name } of t as { t: string }[]) out[name] = (await dumpTable(conn, db, name, opts))!;
  return out;
}

/**
 * A database's views, triggers, routines and events as SHOW CREATE gives them (key "KIND name"), with
 * the database's own name written as {{db}} and an event's ENABLE / DISABLE as {{status}}
 * (`status` holds it), so a copy in another database compares equal.
 */
export async function dumpObjects(conn: mysql.Connection, db: string): Promise<{ objects: Record<string, string>; status: Record<string, string> }> {
  const objects: Record<string, string> = {};
  const status: Record<string, string> = {};
  const norm = (s: string) => s.split(db).join('{{db}}');
  const rows = async (sql: string) => (await conn.query(sql, [db]))[0] as Record<string, string>[];
  const show = async (sql: string) => ((await conn.query(sql))[0] as Record<string, string>[])[0]!;
  const q = (n: string) => '`' + n.replace(/`/g, '``') + '`';
  for (const r of await rows('SELECT TABLE_NAME AS n FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ?')) {
    objects[`VIEW ${r.n}`] = norm((await show(`SHOW CREATE VIEW ${q(db)}.${q(r.n!)}`))['Create View']!);
  }
  for (const r of await rows('SELECT TRIGGER_NAME AS n FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?')) {
    const c = await show(`SHOW CREATE TRIGGER ${q(db)}.${q(r.n!)}`);
    objects[`TRIGGER ${r.n}`] = norm(`${c['SQL Original Statement']} /* sql_mode=${c['sql_mode']} */`);
  }
  for (const r of await rows('SELECT ROUTINE_NAME AS n, ROUTINE_TYPE AS k FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?')) {
    const c = await show(`SHOW CREATE ${r.k} ${q(db)}.${q(r.n!)}`);
    objects[`${r.k} ${r.n}`] = norm(`${c[r.k === 'FUNCTION' ? 'Create Function' : 'Create Procedure']} /* sql_mode=${c['sql_mode']} */`);
  }
  for (const r of await rows('SELECT EVENT_NAME AS n, STATUS AS s FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?')) {
    const c = await show(`SHOW CREATE EVENT ${q(db)}.${q(r.n!)}`);
    objects[`EVENT ${r.n}`] = norm(`${c['Create Event']!.replace(/\b(ENABLE|DISABLE ON SLAVE|DISABLE)\b/, '{{status}}')} /* sql_mode=${c['sql_mode']} */`);
    status[`EVENT ${r.n}`] = r.s!;
  }
  return { objects, status };
}

/** Waits until the wall clock enters the next whole second (plus a margin). */
export async function nextSecond(margin = 80): Promise<number> {
  const now = Date.now();
  await new Promise((r) => setTimeout(r, 1000 - (now % 1000) + margin));
  return Math.floor(Date.now() / 1000);
}

export function iso(sec: number): string {
  return new Date(sec * 1000).toISOString().replace('.000Z', 'Z');
}

/** Column-level differences between two row lists of a dump, readable in a failure message. */
export function rowDiff(expected: string[], actual: string[], max = 8): string[] {
  const out: string[] = [];
  const parse = (r: string) => Object.fromEntries(JSON.parse(r) as [string, string | null][]);
  const n = Math.max(expected.length, actual.length);
  for (let i = 0; i < n && out.length < max; i++) {
    if (expected[i] === actual[i]) continue;
    if (!expected[i] || !actual[i]) {
      out.push(`row ${i}: ${expected[i] ? 'missing' : 'extra'} ${(expected[i] ?? actual[i])!.slice(0, 200)}`);
      continue;
    }
    const e = parse(expected[i]!);
    const a = parse(actual[i]!);
    for (const k of new Set([...Object.keys(e), ...Object.keys(a)])) {
      if (e[k] !== a[k]) {
        const show = (v: string | null | undefined) => (v == null ? String(v) : `${Buffer.from(v, 'hex').toString('latin1').slice(0, 60)} [${v.slice(0, 80)}]`);
        out.push(`row ${i} (${String(e.id ?? '')}) column ${k}: expected ${show(e[k])}, got ${show(a[k])}`);
      }
    }
  }
  return out;
}
