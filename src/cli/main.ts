// pitr command line: registers the thin commands and turns every failure into one sentence and a
// non-zero exit.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerStackCommand } from './stack-command.js';
import { registerCaptureCommand } from './capture-command.js';
import { registerRestoreCommand } from './restore-command.js';
import { registerDemoCommand } from './demo-command.js';
import { registerGuardCommand } from './guard-command.js';
import { registerHistoryCommand } from './history-command.js';
import { registerDiffCommand } from './diff-command.js';
import { registerQueryCommand } from './query-command.js';
import { registerFlashbackCommand } from './flashback-command.js';
import { registerVerifyCommand } from './verify-command.js';
import { registerCheckpointCommand } from './checkpoint-command.js';
import { registerLogCommand } from './log-command.js';
import { registerStatusCommand } from './status-command.js';
import { registerConfigCommand } from './config-command.js';
import { installConfig } from '../config/apply-config.js';
import { addProgramHelp } from './help-text.js';
import { PitrError, redact } from '../core/errors.js';
import { logger } from '../core/logger.js';

/** The version in package.json (dist/cli/main.js sits two levels below it). */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('pitr')
    .description('binlog-based point-in-time recovery for MariaDB into an append-only Kafka log')
    .version(packageVersion(), '-V, --version', 'print the version of pitr')
    .showSuggestionAfterError(true)
    .exitOverride();
  registerStackCommand(program);
  registerCaptureCommand(program);
  registerRestoreCommand(program);
  registerDemoCommand(program);
  registerGuardCommand(program);
  registerHistoryCommand(program);
  registerDiffCommand(program);
  registerQueryCommand(program);
  registerFlashbackCommand(program);
  registerVerifyCommand(program);
  registerCheckpointCommand(program);
  registerLogCommand(program);
  registerStatusCommand(program);
  registerConfigCommand(program);
  installConfig(program);
  addProgramHelp(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  // Output piped into `head` and the like: a closed pipe ends the command quietly.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  const program = buildProgram();
  // A bare `pitr` asks what it can do: the help, and success.
  if (argv.length <= 2) {
    program.outputHelp();
    process.exitCode = 0;
    return;
  }
  try {
    await program.parseAsync(argv);
    process.exitCode = process.exitCode ?? 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    const msg = err instanceof Error ? err.message : String(err);
    logger().debug({ err: err instanceof PitrError ? { message: msg, position: err.position } : err instanceof Error ? err.stack : String(err) }, 'command failed');
    let sentence = redact(msg);
    if (!/[.!?]$/.test(sentence)) sentence += '.';
    process.stderr.write(`pitr: ${sentence}\n`);
    process.exitCode = 1;
  }
  // Drivers may keep sockets open; the command is done once what it printed has left (a pipe takes
  // large output, like a flashback script, in pieces: exiting earlier cut it short).
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  setTimeout(() => process.exit(process.exitCode ?? 0), 50).unref();
}

/** Resolves once everything written to the stream so far has been handed to the OS. */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) return resolve();
    stream.write('', () => resolve());
  });
}
