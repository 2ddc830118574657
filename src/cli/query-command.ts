// `pitr query --as-of T "SELECT ..."`: a read-only query over tables as they stood at T (thin).
import { commandSummary } from './command-list.js';
import { addConnectionOptions } from './connection-options.js';
import type { Command } from 'commander';
import { parseCutTime } from '../core/cut-time.js';
import { UsageError } from '../core/errors.js';
import { parseDatabaseName } from '../core/table-name.js';
import { resolveConnections, type ConnectionFlags } from '../config/resolve-connections.js';
import { runAsOfQuery } from '../analysis/run-as-of-query.js';
import { renderTable, renderTsv } from '../analysis/text-table.js';

interface QueryFlags extends ConnectionFlags {
  asOf?: string;
  database?: string;
  format?: string;
  cacheMb?: number;
  json?: boolean;
}

export function registerQueryCommand(program: Command): void {
  const cmd = program
    .command('query')
    .argument('<sql>', 'one read-only statement (SELECT, WITH, SHOW, EXPLAIN)')
    .description(commandSummary('query'))
    .option('--as-of <time>', 'ISO-8601 time (no offset = UTC) or @epoch')
    .option('--database <db>', 'database of unqualified table names')
    .option('--format <fmt>', 'table | tsv | json (default: table on a terminal, tsv otherwise)')
    .option('--json', 'same as --format json')
    .option('--cache-mb <n>', 'disk bound of the as-of cache in MiB (default: PITR_ASOF_CACHE_MB or 1024)', (v) => Number(v));
  addConnectionOptions(cmd, { target: true, log: 'reader' })
    .action(async (sql: string, opts: QueryFlags) => {
      if (opts.asOf === undefined) throw new UsageError('say when: --as-of T.');
      const format = opts.json ? 'json' : (opts.format ?? (process.stdout.isTTY ? 'table' : 'tsv'));
      if (!['table', 'tsv', 'json'].includes(format)) throw new UsageError(`--format ${format} is not one of table, tsv, json.`);
      const mb = opts.cacheMb ?? Number(process.env.PITR_ASOF_CACHE_MB ?? 1024);
      if (!(mb > 0)) throw new UsageError('--cache-mb takes a positive number of MiB.');
      const conn = resolveConnections(opts);
      const res = await runAsOfQuery({
        kafka: await conn.kafka('reader'),
        sourceId: conn.sourceId,
        target: await conn.target(),
        sql,
        asOf: parseCutTime(opts.asOf),
        database: opts.database === undefined ? undefined : parseDatabaseName(opts.database, '--database'),
        cacheBytes: Math.floor(mb * 1024 * 1024),
      });
      if (format === 'json') process.stdout.write(JSON.stringify(res) + '\n');
      else if (format === 'tsv') process.stdout.write(renderTsv(res.columns, res.rows));
      else {
        const built = res.materialized.filter((m) => m.cache === 'built').length;
        process.stdout.write(renderTable(res.columns, res.rows));
        process.stdout.write(`${res.cut} (cut ${res.position}); ${res.materialized.length} table(s), ${built} built, ${res.materialized.length - built} from cache; ${res.seconds.toFixed(2)} s\n`);
      }
    });
}
