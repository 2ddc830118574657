// `pitr capture`: tail the source's binlog into the log (thin: parses flags, calls runCapture).
import { commandSummary } from './command-list.js';
import { addConnectionOptions } from './connection-options.js';
import type { Command } from 'commander';
import { runCapture } from '../capture/capture-loop.js';
import { normalizeTableFilter, parseTableFilter } from '../capture/table-filter.js';
import { resolveConnections, type ConnectionFlags } from '../config/resolve-connections.js';
import { UsageError } from '../core/errors.js';
import { formatEpoch } from '../core/cut-time.js';
import { logger } from '../core/logger.js';
import { startMetricsServer } from '../metrics/metrics.js';

export { parseTableFilter };

export function registerCaptureCommand(program: Command): void {
  const cmd = program
    .command('capture')
    .description(commandSummary('capture'))
    .option('--until-caught-up', 'exit 0 once everything written to the source before start is in the log')
    .option('--tables <list>', 'only these tables: db.t,db2.*,shop_*.*,*.orders (globs * and ?; `quoted`.names; +db.* for a database created later; default: every user database)')
    .option('--narrow', 'accept a --tables filter narrower than the log\'s: the left-out tables are no longer captured, and the log records where their coverage ends')
    .option('--resnapshot', 'if the binlog needed to resume was purged: record the gap in the log and take a fresh snapshot')
    .option('--memory-cap <MB>', 'resident memory cap; above it capture pauses reading the binlog (default 256)', (v) => Number(v));
  addConnectionOptions(cmd, { source: true, log: 'capture' })
    .option('--server-id <n>', 'replica server id presented to the source', (v) => Number(v))
    .option('--metrics-port <port>', 'serve Prometheus metrics at http://127.0.0.1:<port>/metrics (or host:port)')
    .option('--json', 'print the summary as JSON')
    .action(async (opts: ConnectionFlags & { untilCaughtUp?: boolean; tables?: string; narrow?: boolean; serverId?: number; json?: boolean; resnapshot?: boolean; memoryCap?: number; metricsPort?: string }) => {
      if (opts.memoryCap !== undefined && !(opts.memoryCap >= 16)) throw new UsageError('--memory-cap takes a number of megabytes, at least 16.');
      const conn = resolveConnections(opts);
      if (opts.metricsPort !== undefined) {
        const m = await startMetricsServer(String(opts.metricsPort));
        logger().info({ url: m.url }, 'serving metrics');
      }
      const res = await runCapture({
        source: await conn.source(),
        kafka: await conn.kafka('capture'),
        sourceId: conn.sourceId,
        filter: parseTableFilter(opts.tables),
        tableFilterSpec: normalizeTableFilter(opts.tables),
        tables: opts.tables,
        narrow: opts.narrow,
        untilCaughtUp: opts.untilCaughtUp,
        resnapshot: opts.resnapshot,
        memoryCapBytes: opts.memoryCap ? opts.memoryCap * 1024 * 1024 : undefined,
        serverId: opts.serverId,
      });
      const rate = res.seconds > 0 ? Math.round((res.rowChanges + res.snapshotRows) / res.seconds) : 0;
      if (opts.json) process.stdout.write(JSON.stringify(res) + '\n');
      else {
        if (res.narrowedTables?.length) {
          process.stdout.write(`no longer capturing ${res.narrowedTables.join(', ')}: the log covers them up to ${formatEpoch(res.narrowedAfter!)} (capture --narrow)\n`);
        }
        if (res.addedTables?.length) process.stdout.write(`snapshotted only the tables the wider --tables adds: ${res.addedTables.join(', ')}\n`);
        process.stdout.write(
          `captured ${res.transactions} transactions, ${res.rowChanges} row changes and ${res.snapshotRows} snapshot rows in ${res.seconds.toFixed(1)} s (${rate} rows/s)\n`,
        );
      }
      logger().debug(res, 'capture finished');
    });
}
