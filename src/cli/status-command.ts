// `pitr status`: one source's capture state, lag, restorable windows, log size and last verify;
// exits 2 when unhealthy so it serves as a health check (thin: flags, collectStatus, output).
import { commandSummary } from './command-list.js';
import { addConnectionOptions } from './connection-options.js';
import type { Command } from 'commander';
import { collectStatus } from '../ops/status-probe.js';
import { formatStatus } from '../ops/status.js';
import { resolveConnections, type ConnectionFlags } from '../config/resolve-connections.js';
import { UsageError } from '../core/errors.js';

interface StatusFlags extends ConnectionFlags {
  json?: boolean;
  maxLagSeconds: number;
  allowGaps?: boolean;
}

export function registerStatusCommand(program: Command): void {
  const cmd = program
    .command('status')
    .description(commandSummary('status'))
    .option('--max-lag-seconds <s>', 'unhealthy when capture lags (or has been stopped) longer than this', (v) => Number(v), 60)
    .option('--allow-gaps', 'gaps, and tables no longer captured (capture --narrow), already recorded in the log do not make the status unhealthy');
  addConnectionOptions(cmd, { source: true, log: 'reader' })
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      `
States: running (writes or heartbeats reach the log every second), lagging (the log misses source
transactions older than --max-lag-seconds), stopped (nothing reached the log for ${5} s), never-ran.
Unhealthy (exit 2): lagging or stopped beyond --max-lag-seconds, a gap in the log, the last
\`pitr verify\` on this machine failed, or the source unreachable. Exit 1: status itself failed.

Examples:
  pitr status                                   human report of the local stack's source
  pitr status --json | jq .capture.lagSeconds   lag for a dashboard
  pitr status --max-lag-seconds 30 || page-oncall   as a cron or container health check`,
    )
    .action(async (opts: StatusFlags) => {
      if (!(opts.maxLagSeconds >= 0)) throw new UsageError('--max-lag-seconds takes a number of seconds.');
      const conn = resolveConnections(opts);
      const source = await conn.source().catch(() => undefined);
      const report = await collectStatus({
        kafka: await conn.kafka('reader'),
        sourceId: conn.sourceId,
        source,
        maxLagSeconds: opts.maxLagSeconds,
        allowGaps: opts.allowGaps,
      });
      process.stdout.write(opts.json ? JSON.stringify(report) + '\n' : formatStatus(report));
      if (!report.healthy) process.exitCode = 2;
    });
}
