// `pitr guard`: follow the log and rebuild the victims of destructive transactions into the
// recovery database automatically (thin: parses flags, calls runGuard, prints reports).
import { commandSummary } from './command-list.js';
import { addConnectionOptions } from './connection-options.js';
import type { Command } from 'commander';
import { runGuard } from '../guard/guard.js';
import { humanReport, type IncidentReport } from '../guard/incident-report.js';
import { DEFAULT_THRESHOLD, parseThresholdRule, ThresholdPolicy } from '../guard/thresholds.js';
import { resolveConnections, type ConnectionFlags } from '../config/resolve-connections.js';
import { UsageError } from '../core/errors.js';
import { logger } from '../core/logger.js';
import { guardMetrics, startMetricsServer } from '../metrics/metrics.js';

interface GuardFlags extends ConnectionFlags {
  intoDatabase: string;
  maxRows: number;
  maxPercent: number;
  minRows: number;
  threshold?: string[];
  watch?: string;
  name?: string;
  fromStart?: boolean;
  once?: boolean;
  concurrency: number;
  notify?: string;
  json?: boolean;
  metricsPort?: string;
}

const int = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${what} must be a non-negative number, not "${v}".`);
  return n;
};

export function registerGuardCommand(program: Command): void {
  const cmd = program
    .command('guard')
    .description(commandSummary('guard'))
    .option('--into-database <name>', 'recovery database for the copies (named db__table__<gtid>)', 'pitr_recovery')
    .option('--max-rows <n>', 'a transaction deleting/updating more than N rows of a table is destructive', int('--max-rows'), DEFAULT_THRESHOLD.rows)
    .option('--max-percent <p>', '...or more than P % of the table', int('--max-percent'), DEFAULT_THRESHOLD.pct)
    .option('--min-rows <n>', 'the percent rule applies from this many rows on', int('--min-rows'), DEFAULT_THRESHOLD.minRows)
    .option(
      '--threshold <rule>',
      'per-table rule, repeatable, later wins: db.t=rows:500,pct:20,min:5 | db.*=off | *.*=on',
      (v: string, acc: string[] = []) => [...acc, v],
    )
    .option('--watch <list>', 'only these tables: db.t,db2.* (default: every table in the log)')
    .option('--name <name>', 'guard name: the consumer group is pitr-guard-<source-id>-<name> (one running guard per name)')
    .option('--from-start', 'forget the saved position and re-examine the whole log (known incidents are listed, not rebuilt)')
    .option('--once', 'process everything in the log now, then exit')
    .option('--concurrency <n>', 'rebuilds at once', int('--concurrency'), 4)
    .option('--notify <url>', 'POST each incident report as JSON to this webhook');
  addConnectionOptions(cmd, { target: true, log: 'reader' })
    .option('--json', 'print one JSON object per incident on its own line')
    .option('--metrics-port <port>', 'serve Prometheus metrics at http://127.0.0.1:<port>/metrics (or host:port)')
    .addHelpText(
      'after',
      `
Destructive: DROP TABLE, DROP DATABASE (every table), TRUNCATE, CREATE OR REPLACE of an existing
table, ALTER TABLE that drops a column or changes a type lossily, and a transaction that deletes or
updates more than --max-rows rows of a table or more than --max-percent % of it (counted from
--min-rows rows). Each victim is rebuilt as of just before that transaction (--before-gtid) into
<into-database>.<db>__<table>__<domain>_<server>_<seq>; the report says how to restore it elsewhere
or put it back. The position is saved in Kafka (consumer group pitr-guard-<source-id>[-<name>]);
a restart continues after the last reported incident. On first start guard watches from the log's
current end; --from-start examines all of it.`,
    )
    .action(async (opts: GuardFlags) => {
      const rules = (opts.threshold ?? []).map(parseThresholdRule);
      const policy = new ThresholdPolicy({ rows: opts.maxRows, pct: opts.maxPercent, minRows: opts.minRows, off: false }, rules, opts.watch);
      if (opts.name !== undefined && !/^[A-Za-z0-9_-]{1,60}$/.test(opts.name)) throw new UsageError(`--name "${opts.name}" may only hold letters, digits, "_" and "-".`);
      if (opts.notify !== undefined && !/^https?:\/\//.test(opts.notify)) throw new UsageError('--notify needs an http:// or https:// URL.');
      if (opts.concurrency < 1) throw new UsageError('--concurrency must be at least 1.');
      const conn = resolveConnections(opts);
      const source = await conn.source().catch(() => undefined);
      if (opts.metricsPort !== undefined) {
        const m = await startMetricsServer(String(opts.metricsPort));
        logger().info({ url: m.url }, 'serving metrics');
      }
      const print = (r: IncidentReport) => {
        if (!r.known) {
          guardMetrics.incidents.inc({ kind: r.cause });
          if (!r.error) guardMetrics.rebuilds.inc();
        }
        process.stdout.write(opts.json ? JSON.stringify(r) + '\n' : humanReport(r));
      };
      const res = await runGuard({
        kafka: await conn.kafka('reader'),
        sourceId: conn.sourceId,
        target: await conn.target(),
        source,
        intoDatabase: opts.intoDatabase,
        policy,
        name: opts.name,
        fromStart: opts.fromStart,
        once: opts.once,
        concurrency: opts.concurrency,
        notify: opts.notify,
        onReport: print,
      });
      logger().info(res, 'guard stopped');
    });
}
