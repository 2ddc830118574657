// pitr command line: registers the thin commands and turns every failure into one sentence and a
// non-zero exit.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { COMMANDS, type CommandEntry } from './command-list.js';
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

/**
 * The command a command line runs (`pitr [--config F] NAME ...`, `pitr help NAME`), or undefined
 * (top-level help, a bare `pitr`, an unknown command).
 */
export function selectedCommand(args: string[]): CommandEntry | undefined {
  const byName = (n: string | undefined) => COMMANDS.find((c) => c.name === n);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--config') i++;
    else if (a.startsWith('-')) continue;
    else return a === 'help' ? byName(args[i + 1]) : byName(a);
  }
  return undefined;
}

/**
 * The program with every command, or, given a command line, with only the command it runs loaded:
 * the others are listed (name, arguments, summary) for the help and for suggestions, but their
 * modules, and the drivers behind them, are never imported.
 */
export async function buildProgram(argv?: string[]): Promise<Command> {
  const program = new Command();
  program
    .name('pitr')
    .description('binlog-based point-in-time recovery for MariaDB into an append-only Kafka log')
    .version(packageVersion(), '-V, --version', 'print the version of pitr')
    .showSuggestionAfterError(true)
    .exitOverride();
  const selected = argv && selectedCommand(argv.slice(2));
  for (const entry of COMMANDS) {
    if (!argv || entry === selected) (await entry.load())(program);
    else {
      const listed = program.command(entry.name).description(entry.summary);
      for (const a of entry.args) listed.argument(a);
      if (entry.options) listed.addOption(new Option('--listed-only').hideHelp());
    }
  }
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
  const program = await buildProgram(argv);
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
