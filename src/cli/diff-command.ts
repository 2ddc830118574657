// `pitr diff db.t --from T1 --to T2`: rows inserted, deleted and changed between two cuts (thin).
import { commandSummary } from './command-list.js';
import { addConnectionOptions } from './connection-options.js';
import type { Command } from 'commander';
import { parseTableName } from '../replay/cut-planner.js';
import { parseCutTime } from '../core/cut-time.js';
import { UsageError } from '../core/errors.js';
import { resolveConnections, type ConnectionFlags } from '../config/resolve-connections.js';
import { runDiff } from '../analysis/run-diff.js';

interface DiffFlags extends ConnectionFlags {
  from?: string;
  to?: string;
  limit?: number;
  json?: boolean;
}

export function registerDiffCommand(program: Command): void {
  const cmd = program
    .command('diff')
    .argument('<db.table>', 'table to compare between two cuts')
    .description(commandSummary('diff'))
    .option('--from <time>', 'first cut (ISO-8601 or @epoch)')
    .option('--to <time>', 'second cut')
    .option('--limit <n>', 'list at most n rows per kind (counts stay complete)', (v) => Number(v));
  addConnectionOptions(cmd, { target: 'where a table that foreign-key actions change is materialized (the recovery server; default: PITR_TARGET, the config file or the local stack)', log: 'reader' })
    .option('--json', 'print the result as JSON')
    .action(async (tableName: string, opts: DiffFlags) => {
      if (opts.from === undefined || opts.to === undefined) throw new UsageError('give both cuts: --from T1 --to T2.');
      if (opts.limit !== undefined && !(opts.limit >= 0)) throw new UsageError('--limit takes a number of rows.');
      const conn = resolveConnections(opts);
      const res = await runDiff({
        kafka: await conn.kafka('reader'),
        sourceId: conn.sourceId,
        table: parseTableName(tableName),
        from: parseCutTime(opts.from),
        to: parseCutTime(opts.to),
        limit: opts.limit,
        recovery: () => conn.target(),
      });
      if (opts.json) {
        process.stdout.write(JSON.stringify(res) + '\n');
        return;
      }
      const k = (key: Record<string, string | null>, row?: Record<string, string | null>) => JSON.stringify(Object.keys(key).length ? key : row);
      const out = [
        `${res.table} ${res.window}: ${res.counts.inserted} inserted, ${res.counts.deleted} deleted, ${res.counts.changed} changed (${res.changesRead} changes read, ${res.seconds.toFixed(2)} s)`,
      ];
      for (const r of res.inserted) out.push(`+ ${k(r.key, r.row)} ${Object.keys(r.key).length ? JSON.stringify(r.row) : ''}`.trimEnd());
      for (const r of res.deleted) out.push(`- ${k(r.key, r.row)} ${Object.keys(r.key).length ? JSON.stringify(r.row) : ''}`.trimEnd());
      for (const r of res.changed) out.push(`~ ${k(r.key)} ${r.changed!.map((c) => `${c.column}: ${JSON.stringify(c.before)} -> ${JSON.stringify(c.after)}`).join('; ')}`);
      process.stdout.write(out.join('\n') + '\n');
    });
}
