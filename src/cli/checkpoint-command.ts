// `pitr checkpoint`: write checkpoints of the tables that changed enough, once (--once, cron) or in a loop
// (thin: flags, runCheckpointPass, output). Runs as the checkpointer principal.
import { commandSummary } from './command-list.js';
import { addConnectionOptions } from './connection-options.js';
import type { Command } from 'commander';
import { DEFAULT_MIN_CHANGES, runCheckpointPass, type CheckpointPassResult } from '../checkpoint/checkpointer.js';
import { resolveConnections, type ConnectionFlags } from '../config/resolve-connections.js';
import { UsageError } from '../core/errors.js';
import { logger } from '../core/logger.js';

interface CheckpointFlags extends ConnectionFlags {
  once?: boolean;
  every: string;
  minChanges: string;
  json?: boolean;
}

/** "30s", "10m", "6h", "1d" or plain seconds, in milliseconds. */
export function parseEvery(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$/i.exec(text);
  if (!m) throw new UsageError(`--every ${text} is not a duration such as 30s, 10m, 6h or 1d.`);
  const ms = Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 's').toLowerCase() as 's']!;
  if (ms < 1000) throw new UsageError(`--every ${text} is below one second.`);
  return ms;
}

export function registerCheckpointCommand(program: Command): void {
  const cmd = program
    .command('checkpoint')
    .description(commandSummary('checkpoint'))
    .option('--once', 'one pass, then exit (cron, tests)')
    .option('--every <duration>', 'time between passes when looping (30s, 10m, 6h)', '10m')
    .option('--min-changes <n>', 'row changes since a table\'s last checkpoint (or snapshot) that call for a new one', String(DEFAULT_MIN_CHANGES));
  addConnectionOptions(cmd, { log: 'checkpointer' })
    .option('--json', 'print each pass\'s result as one JSON line')
    .action(async (opts: CheckpointFlags) => {
      const minChanges = Number(opts.minChanges);
      if (!Number.isInteger(minChanges) || minChanges < 1) throw new UsageError(`--min-changes ${opts.minChanges} is not a whole number of at least 1.`);
      const every = parseEvery(opts.every);
      const conn = resolveConnections(opts);
      const kafka = await conn.kafka('checkpointer');
      let stop = false;
      const onSignal = () => (stop = true);
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      for (;;) {
        const res = await runCheckpointPass({ kafka, sourceId: conn.sourceId, minChanges });
        process.stdout.write((opts.json ? JSON.stringify(res) : describePass(res)) + '\n');
        if (opts.once || stop) break;
        const until = Date.now() + every;
        while (!stop && Date.now() < until) await new Promise((r) => setTimeout(r, Math.min(500, until - Date.now())));
        if (stop) break;
      }
      logger().debug('checkpointer stopped');
    });
}

function describePass(r: CheckpointPassResult): string {
  const skipped = r.skipped.map((s) => `\n  skipped ${s.database}.${s.table}: ${s.reason}`).join('');
  if (!r.checkpointId) return `no checkpoint written (${r.unchanged} table(s) below the threshold)${skipped}`;
  const tables = r.tables.map((t) => `\n  ${t.database}.${t.table}: ${t.rows} rows (${t.changes} changes onto ${t.base})`).join('');
  return `checkpoint ${r.checkpointId} at ${r.position}${tables}${skipped}`;
}
