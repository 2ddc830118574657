// Every command that reaches the log declares the same connection flags (addConnectionOptions).
import { describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { buildProgram } from '../../../src/cli/main.js';

const find = (program: Command, path: string[]): Command =>
  path.reduce((c, name) => c.commands.find((s) => s.name() === name)!, program);
const flags = (c: Command) => c.options.map((o) => o.long);

describe('connection flags', () => {
  it('every command that reaches the log takes --brokers, --credentials and --source-id', async () => {
    const program = await buildProgram();
    const logCommands = [['capture'], ['restore'], ['status'], ['verify'], ['history'], ['diff'], ['query'], ['flashback'], ['guard'], ['checkpoint'], ['log', 'provision'], ['config', 'check']];
    for (const path of logCommands) {
      expect(flags(find(program, path)), path.join(' ')).toEqual(expect.arrayContaining(['--brokers', '--credentials', '--source-id']));
    }
  });

  // diff and flashback materialize tables that foreign-key actions change on the recovery server.
  it('servers only where the command uses them', async () => {
    const program = await buildProgram();
    for (const name of ['restore', 'query', 'guard', 'diff', 'flashback']) expect(flags(find(program, [name]))).toContain('--target');
    for (const name of ['capture', 'status', 'flashback']) expect(flags(find(program, [name]))).toContain('--source');
    for (const name of ['history', 'verify', 'checkpoint']) expect(flags(find(program, [name]))).not.toContain('--target');
  });
});
