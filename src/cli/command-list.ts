// The commands pitr has, with what the top-level help says of each, and how to load each one:
// main.ts imports only the command a run names, so `pitr --help` and light commands start without
// loading the drivers (kafkajs, mysql2, zongji) the others need.
import type { Command } from 'commander';

type Register = (program: Command) => void;

export interface CommandEntry {
  name: string;
  /** The top-level help's one line. */
  summary: string;
  /** Positional arguments as the top-level help lists them. */
  args: string[];
  /** Whether the command has options of its own (the help lists `[options]`). */
  options: boolean;
  load: () => Promise<Register>;
}

export const COMMANDS: CommandEntry[] = [
  {
    name: 'stack',
    summary: 'local embedded stack: source MariaDB (binlog on), recovery MariaDB, secured Kafka',
    args: [],
    options: false,
    load: async () => (await import('./stack-command.js')).registerStackCommand,
  },
  {
    name: 'capture',
    summary: 'tail the source binlog into the append-only Kafka log (snapshot on first start)',
    args: [],
    options: true,
    load: async () => (await import('./capture-command.js')).registerCaptureCommand,
  },
  {
    name: 'restore',
    summary: 'rebuild tables or a whole database exactly as they stood at a cut, into the recovery server',
    args: [],
    options: true,
    load: async () => (await import('./restore-command.js')).registerRestoreCommand,
  },
  {
    name: 'demo',
    summary: 'the incident drill on the local stack: a shop under load is captured, attacked and rebuilt as of the second before the attack',
    args: [],
    options: true,
    load: async () => (await import('./demo-command.js')).registerDemoCommand,
  },
  {
    name: 'guard',
    summary: 'watch the log for destructive changes and rebuild each victim, as it stood just before, into the recovery database',
    args: [],
    options: true,
    load: async () => (await import('./guard-command.js')).registerGuardCommand,
  },
  {
    name: 'history',
    summary: "every version of a row: operation, commit time, GTID, changed columns before/after. Cost: reads only the changes-topic partition that holds the table (1 of N), from the snapshot up to --to, and decodes only this table's records",
    args: ['<db.table>'],
    options: true,
    load: async () => (await import('./history-command.js')).registerHistoryCommand,
  },
  {
    name: 'diff',
    summary: 'rows inserted, deleted and changed (with changed columns) between two cuts, by key; counts first. Reads only the table\'s partition and folds only the changes inside the window',
    args: ['<db.table>'],
    options: true,
    load: async () => (await import('./diff-command.js')).registerDiffCommand,
  },
  {
    name: 'query',
    summary: 'run a read-only query over tables as they stood at a time: each table it names is materialized once per cut on the recovery server (LRU-bounded cache) and the query runs there in a READ ONLY transaction',
    args: ['<sql>'],
    options: true,
    load: async () => (await import('./query-command.js')).registerQueryCommand,
  },
  {
    name: 'flashback',
    summary: 'SQL that puts every row changed between --from and --to back to its state at --from, one transaction; rows changed again since --to are conflicts, left alone unless --force. Prints the SQL unless --execute',
    args: ['<db.table>'],
    options: true,
    load: async () => (await import('./flashback-command.js')).registerFlashbackCommand,
  },
  {
    name: 'verify',
    summary: "recompute every partition's hash chain and check the topics' settings; exit 1 on any finding",
    args: [],
    options: true,
    load: async () => (await import('./verify-command.js')).registerVerifyCommand,
  },
  {
    name: 'checkpoint',
    summary: 'write checkpoints (compacted table images derived from the log) of the tables that changed enough since their last one',
    args: [],
    options: true,
    load: async () => (await import('./checkpoint-command.js')).registerCheckpointCommand,
  },
  {
    name: 'log',
    summary: "the custodian's side of the log: provisioning topics and ACLs",
    args: [],
    options: false,
    load: async () => (await import('./log-command.js')).registerLogCommand,
  },
  {
    name: 'status',
    summary: "health of capture and the log: state, lag, restorable window per table, log size, last verify (exit 2 when unhealthy)",
    args: [],
    options: true,
    load: async () => (await import('./status-command.js')).registerStatusCommand,
  },
  {
    name: 'ui',
    summary: 'local web application over the log (reader only): timeline with destructive changes marked, tables at a moment, diffs, row history, restore with live progress',
    args: [],
    options: true,
    load: async () => (await import('./ui-command.js')).registerUiCommand,
  },
  {
    name: 'config',
    summary: 'inspect the configuration: pitr config check',
    args: [],
    options: false,
    load: async () => (await import('./config-command.js')).registerConfigCommand,
  },
];

export function commandSummary(name: string): string {
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) throw new Error(`unknown command ${name}`);
  return entry.summary;
}
