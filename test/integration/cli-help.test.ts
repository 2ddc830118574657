// Help that teaches, as a new user meets it: every command's --help runs and shows examples,
// misspelled flags, commands and config keys get a suggestion, `pitr config check` masks secrets.
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { pitr } from './helpers.js';
import type { Command } from 'commander';

function commandPaths(c: Command, prefix: string[] = []): string[][] {
  return c.commands.flatMap((s) => [[...prefix, s.name()], ...commandPaths(s, [...prefix, s.name()])]);
}

describe('pitr help', () => {
  it('pitr --help lists every command and how to start', async () => {
    const r = await pitr(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['stack', 'capture', 'restore', 'verify', 'guard', 'status', 'config', 'demo']) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    expect(r.stdout).toMatch(/Getting started/);
  });

  it("every command's --help runs", async () => {
    const paths = commandPaths(await buildProgram());
    expect(paths.length).toBeGreaterThanOrEqual(15);
    const results = await Promise.all(paths.map((p) => pitr([...p, '--help']).then((r) => ({ p, r }))));
    for (const { p, r } of results) {
      expect(r.code, `pitr ${p.join(' ')} --help: ${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: pitr ${p.join(' ')}`));
    }
    const withExamples = results.filter(({ r }) => /Examples?:/.test(r.stdout)).map(({ p }) => p.join(' '));
    for (const c of ['capture', 'restore', 'verify', 'guard', 'status', 'history', 'diff', 'query', 'flashback', 'stack', 'config check']) {
      expect(withExamples).toContain(c);
    }
  });

  it('suggests the flag or command meant', async () => {
    const a = await pitr(['restore', '--as-off', '2020-01-01']);
    expect(a.code).not.toBe(0);
    expect(a.stderr).toMatch(/unknown option '--as-off'[\s\S]*Did you mean --as-of\?/);
    const b = await pitr(['capture', '--metrics-prot', '1']);
    expect(b.stderr).toMatch(/Did you mean --metrics-port\?/);
    const c = await pitr(['stauts']);
    expect(c.stderr).toMatch(/Did you mean status\?/);
  });

  it('accepts the mariadb-binlog datetime names', async () => {
    for (const cmd of ['history', 'diff', 'flashback']) {
      const r = await pitr([cmd, '--help']);
      expect(r.stdout).toMatch(/--start-datetime <time>\s+alias of --from/);
      expect(r.stdout).toMatch(/--stop-datetime <time>\s+alias of --to/);
    }
    expect((await pitr(['restore', '--help'])).stdout).toMatch(/--stop-datetime <time>\s+alias of --as-of/);
    expect((await pitr(['query', '--help'])).stdout).toMatch(/--stop-datetime <time>\s+alias of --as-of/);
  });
});

describe('configuration file', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pitr-config-'));

  it('names a misspelled key and suggests the right one', async () => {
    const f = path.join(dir, 'typo.json');
    writeFileSync(f, JSON.stringify({ capture: { tabels: 'shop.*' } }));
    const r = await pitr(['--config', f, 'config', 'check']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown key "capture\.tabels"; did you mean "capture\.tables"\?/);
    const e = await pitr(['status', '--json'], { PITR_CONFIG: f });
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(/did you mean "capture\.tables"/);
  });

  it('config check prints the effective settings with secrets masked and origins', async () => {
    const f = path.join(dir, 'pitr.config.json');
    writeFileSync(f, JSON.stringify({ sourceId: 'fromfile', source: 'mysql://admin:Hunter2pw@db1.example:3306', capture: { tables: 'shop.*' } }));
    chmodSync(f, 0o644);
    const loose = await pitr(['--config', f, 'config', 'check']);
    expect(loose.code).toBe(1);
    expect(loose.stderr).toMatch(/holds a password but group or others may read it; run chmod 600/);
    expect(loose.stderr).not.toMatch(/Hunter2pw/);
    chmodSync(f, 0o600);
    const r = await pitr(['config', 'check', '--json'], { PITR_CONFIG: f, PITR_SOURCE_ID: 'fromenv', PITR_TARGET: 'mysql://root:TargetPw9@rec:3307' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/Hunter2pw|TargetPw9/);
    const out = JSON.parse(r.stdout);
    expect(out.file).toBe(f);
    expect(out.sourceId).toMatchObject({ value: 'fromenv', origin: 'env' });
    expect(out.source).toMatchObject({ value: 'mysql://admin:***@db1.example:3306', origin: 'config file' });
    expect(out.target).toMatchObject({ value: 'mysql://root:***@rec:3307', origin: 'env' });
    expect(out.commands.capture).toEqual({ tables: 'shop.*' });
    for (const u of Object.values(out.kafka.users) as { password: string }[]) expect(u.password).toBe('***');
    const flag = await pitr(['--config', f, 'config', 'check', '--source-id', 'fromflag']);
    expect(flag.stdout).toMatch(/sourceId\s+fromflag\s+\(flag: --source-id\)/);
    expect(flag.stdout).toMatch(/configuration is valid/);
  });
});
