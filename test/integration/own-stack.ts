// Stacks of a test's own (never the shared one) and CLI processes running in the background: for
// tests that kill servers or capture, or need broker settings of their own. Call
// `cleanupOwnStacks()` in afterAll and `killChildren()` in afterEach.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { REPO, pitr, type CliResult } from './helpers.js';
import type { StackInfo } from '../../src/core/settings.js';

export interface Stack {
  home: string;
  env: Record<string, string>;
  info: StackInfo;
  run: (args: string[]) => Promise<CliResult>;
  state: () => { source: { pid: number }; kafka: { nodes: { nodeId: number; pid: number }[] } };
}

const stacks: Stack[] = [];
const children: ChildProcess[] = [];

/** A new local stack under a temp PITR_HOME; `kafkaConfig` holds broker settings for it. */
export async function ownStack(name: string, opts: { kafkaNodes?: number; kafkaConfig?: Record<string, string> } = {}): Promise<Stack> {
  const home = `/tmp/pitr-${name}-${process.pid}-${Date.now().toString(36)}`;
  const env = { PITR_HOME: home };
  const config = Object.entries(opts.kafkaConfig ?? {}).flatMap(([k, v]) => ['--kafka-config', `${k}=${v}`]);
  const up = await pitr(['stack', 'up', '--kafka-nodes', String(opts.kafkaNodes ?? 1), ...config, '--json'], env);
  expect(up.code, up.stderr).toBe(0);
  const info = JSON.parse(up.stdout.trim().split('\n').pop()!) as StackInfo;
  const s: Stack = {
    home,
    env,
    info,
    run: (args) => pitr(args, env),
    state: () => JSON.parse(readFileSync(path.join(home, 'stack/state.json'), 'utf8')),
  };
  stacks.push(s);
  return s;
}

export async function cleanupOwnStacks(): Promise<void> {
  for (const s of stacks.splice(0)) {
    await pitr(['stack', 'down'], s.env);
    rmSync(s.home, { recursive: true, force: true });
  }
}

/** `pitr <args>` running in the background until it exits or is killed; output is stdout + stderr. */
export function startCli(args: string[], env: Record<string, string> = {}): { child: ChildProcess; output: () => string } {
  let out = '';
  const child = spawn(process.execPath, [path.join(REPO, 'bin/pitr.js'), ...args], {
    cwd: REPO,
    env: { ...process.env, PITR_LOG_FORMAT: 'json', PITR_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  children.push(child);
  return { child, output: () => out };
}

/** A failed test must not leave its processes running into the next one. */
export async function killChildren(): Promise<void> {
  for (const c of children.splice(0)) await killHard(c);
}

export function killHard(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

export function stopGently(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

/** Resolves once `output()` matches `re` (or rejects after `ms`). */
export async function waitForOutput(output: () => string, re: RegExp, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!re.test(output())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${re} in:\n${output().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
