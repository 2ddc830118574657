// Runs every scenario folder in test/scenarios/ against the local stack: setup, capture, workload
// with cut markers (oracle dumps in quiet seconds), capture, then restores at every cut compared
// with the oracle, definition and rows byte for byte.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type mysql from 'mysql2/promise';
import { REPO, connect, dumpDatabase, dumpObjects, iso, nextSecond, pitr, rowDiff, stack, type TableDump } from './helpers.js';

const DIR = path.join(REPO, 'test/scenarios');
const only = process.env.PITR_SCENARIO;
const scenarios = readdirSync(DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory() && (!only || d.name === only))
  .map((d) => d.name)
  .sort();

interface Expect {
  absent?: Record<string, string[]>;
  tables?: string[];
  /** Compare views, triggers, routines and events too (events must come back disabled). */
  objects?: boolean;
}

/** Statements of a SQL file, split at `;` ending a line, with cut markers kept in order. */
export function parseScript(text: string): ({ sql: string } | { cut: string })[] {
  const out: ({ sql: string } | { cut: string })[] = [];
  let buf: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^--\s*cut:\s*(\S+)/.exec(line.trim());
    if (m) {
      if (buf.join('').trim()) out.push({ sql: buf.join('\n') });
      buf = [];
      out.push({ cut: m[1]! });
      continue;
    }
    if (/^\s*--/.test(line)) continue;
    buf.push(line);
    if (/;\s*$/.test(line)) {
      out.push({ sql: buf.join('\n').replace(/;\s*$/, '') });
      buf = [];
    }
  }
  if (buf.join('').trim()) out.push({ sql: buf.join('\n') });
  return out;
}

let src: mysql.Connection;
let work: mysql.Connection;
let dst: mysql.Connection;

beforeAll(async () => {
  const info = await stack();
  src = await connect(info.source);
  // Scenario SQL runs on its own session: its SET time_zone / sql_mode must not touch the oracle's.
  work = await connect(info.source);
  dst = await connect(info.target);
});

afterAll(async () => {
  await src?.end();
  await work?.end();
  await dst?.end();
});

describe.each(scenarios)('scenario %s', (name) => {
  const db = `sc_${name.replace(/[^a-z0-9]/gi, '_')}_${Date.now().toString(36)}`;
  const cuts: { name: string; time: number; dbExists: boolean; oracle: Record<string, TableDump>; objects?: Record<string, string> }[] = [];
  const expectations: Expect = existsSync(path.join(DIR, name, 'expect.json'))
    ? JSON.parse(readFileSync(path.join(DIR, name, 'expect.json'), 'utf8'))
    : {};
  const read = (f: string) => readFileSync(path.join(DIR, name, f), 'utf8').replaceAll('{{db}}', db);

  const databaseExists = async () => {
    const [r] = await src.query('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [db]);
    return (r as unknown[]).length > 0;
  };
  const objectsOf = async () => (expectations.objects ? { objects: (await dumpObjects(src, db)).objects } : {});
  const run = async (file: string) => {
    for (const step of parseScript(read(file))) {
      if ('sql' in step) await work.query(step.sql);
      else {
        const time = await nextSecond();
        cuts.push({ name: step.cut, time, dbExists: await databaseExists(), oracle: await dumpDatabase(src, db, { counters: true }), ...(await objectsOf()) });
        await nextSecond();
      }
    }
  };

  beforeAll(async () => {
    await work.query(`CREATE DATABASE ${db}`);
    await run('setup.sql');
    const c = await pitr(['capture', '--until-caught-up']);
    expect(c.code, c.stderr).toBe(0);
    const time = await nextSecond();
    cuts.push({ name: 'setup', time, dbExists: true, oracle: await dumpDatabase(src, db, { counters: true }), ...(await objectsOf()) });
    await nextSecond();
    await run('workload.sql');
    const c2 = await pitr(['capture', '--until-caught-up']);
    expect(c2.code, c2.stderr).toBe(0);
  }, 600_000);

  it('restores the whole database exactly at every cut', async () => {
    for (const [i, c] of cuts.entries()) {
      const into = `${db}_r${i}`;
      const r = await pitr(['restore', '--database', db, '--as-of', iso(c.time), '--into-database', into]);
      if (!c.dbExists) {
        expect(r.code, `cut ${c.name}: the database did not exist`).not.toBe(0);
        expect(r.stderr).toMatch(/did not exist/);
        continue;
      }
      expect(r.code, `cut ${c.name}: ${r.stderr}`).toBe(0);
      const got = await dumpDatabase(dst, into, { counters: true });
      expect(Object.keys(got).sort(), `cut ${c.name}`).toEqual(Object.keys(c.oracle).sort());
      for (const t of Object.keys(c.oracle)) {
        expect(got[t]!.create, `cut ${c.name} table ${t} definition`).toBe(c.oracle[t]!.create);
        expect(got[t]!.rows.length, `cut ${c.name} table ${t} row count`).toBe(c.oracle[t]!.rows.length);
        expect(rowDiff(c.oracle[t]!.rows, got[t]!.rows), `cut ${c.name} table ${t} rows`).toEqual([]);
        expect(got[t]!.counter, `cut ${c.name} table ${t} AUTO_INCREMENT`).toBe(c.oracle[t]!.counter);
      }
      if (c.objects) {
        const restored = await dumpObjects(dst, into);
        expect(restored.objects, `cut ${c.name}: views, triggers, routines, events`).toEqual(c.objects);
        for (const [k, s] of Object.entries(restored.status)) expect(s, `cut ${c.name}: ${k} is created disabled`).toBe('DISABLED');
      }
    }
  }, 300_000);

  it('restores single tables and refuses tables that did not exist', async () => {
    for (const [i, c] of cuts.entries()) {
      for (const t of expectations.tables ?? []) {
        if (!c.oracle[t]) continue;
        const into = `${db}_t${i}`;
        const r = await pitr(['restore', '--table', `${db}.${t}`, '--as-of', iso(c.time), '--into-database', into]);
        expect(r.code, `cut ${c.name} table ${t}: ${r.stderr}`).toBe(0);
        const got = await dumpDatabase(dst, into, { counters: true });
        expect(got[t], `cut ${c.name} table ${t}`).toEqual(c.oracle[t]);
        if (c.objects) {
          // A table restore brings back that table's own triggers, and nothing else.
          // (Tables restored before it at this cut share the destination: compare triggers on `t`.)
          const on = ([k, v]: [string, string]) => k.startsWith('TRIGGER ') && new RegExp(`\\bON\\s+(\\S*\\.)?\`?${t}\`?\\s`, 'i').test(v);
          const restored = Object.entries((await dumpObjects(dst, into)).objects);
          expect(restored.every(([k]) => k.startsWith('TRIGGER ')), `cut ${c.name} table ${t}: only triggers`).toBe(true);
          expect(Object.fromEntries(restored.filter(on)), `cut ${c.name} table ${t}: its triggers`).toEqual(Object.fromEntries(Object.entries(c.objects).filter(on)));
        }
      }
      for (const t of expectations.absent?.[c.name] ?? []) {
        expect(c.oracle[t], `oracle says ${t} exists at ${c.name}`).toBeUndefined();
        const r = await pitr(['restore', '--table', `${db}.${t}`, '--as-of', iso(c.time), '--into-database', `${db}_x`]);
        expect(r.code).not.toBe(0);
        expect(r.stderr).toMatch(/did not exist/);
      }
    }
  }, 300_000);
});
