// `pitr history db.t --pk V`: every version of rows of one table (thin).
import { commandSummary } from './command-list.js';
import { addConnectionOptions } from './connection-options.js';
import type { Command } from 'commander';
import { parseTableName } from '../replay/cut-planner.js';
import { parseCutTime, formatEpoch } from '../core/cut-time.js';
import { UsageError } from '../core/errors.js';
import { resolveConnections, type ConnectionFlags } from '../config/resolve-connections.js';
import { runHistory } from '../analysis/run-history.js';
import { parseKeySpec } from '../analysis/row-image.js';

interface HistoryFlags extends ConnectionFlags {
  pk?: string[];
  from?: string;
  to?: string;
  json?: boolean;
  /** false with --no-index. */
  index?: boolean;
}

export function registerHistoryCommand(program: Command): void {
  const cmd = program
    .command('history')
    .argument('<db.table>', 'table whose rows to follow')
    .description(commandSummary('history'))
    .option('--pk <value>', 'key of the row: V for a one-column key, a=1,b=x for a composite one (repeatable)', (v: string, acc: string[] = []) => [...acc, v])
    .option('--from <time>', 'list changes after this time (the row as of then is shown as the initial state)')
    .option('--to <time>', 'list changes up to this time (default: the end of the log)');
  addConnectionOptions(cmd, { log: 'reader' })
    .option('--json', 'print the result as JSON')
    .option('--no-index', "read the table's whole partition, not only the offsets the log's table index lists")
    .action(async (tableName: string, opts: HistoryFlags) => {
      if (!opts.pk?.length) throw new UsageError('say which row: --pk V (or --pk a=1,b=x for a composite key).');
      const table = parseTableName(tableName);
      const keys = opts.pk.map(parseKeySpec);
      const conn = resolveConnections(opts);
      const res = await runHistory({
        kafka: await conn.kafka('reader'),
        sourceId: conn.sourceId,
        table,
        keys,
        from: opts.from !== undefined ? parseCutTime(opts.from) : undefined,
        to: opts.to !== undefined ? parseCutTime(opts.to) : undefined,
        noIndex: opts.index === false,
      });
      if (opts.json) {
        process.stdout.write(JSON.stringify(res) + '\n');
        return;
      }
      const out: string[] = [];
      for (const r of res.rows) {
        const k = Object.entries(r.key).map(([c, v]) => `${c}=${v}`).join(',');
        out.push(`${res.table} row ${k}: ${r.versions.length} version(s) from ${res.from} to ${res.to}`);
        out.push(r.initial ? `  initial: ${JSON.stringify(r.initial)}` : '  initial: (no such row)');
        for (const v of r.versions) {
          out.push(`  ${formatEpoch(v.commitTime)}  ${v.gtid.padEnd(12)} ${v.op.toUpperCase()}${v.keyChanged ? ' (key changed)' : ''}  ${v.position}`);
          for (const c of v.changed) out.push(`      ${c.column}: ${JSON.stringify(c.before)} -> ${JSON.stringify(c.after)}`);
        }
      }
      out.push(`read partition ${res.cost.partitionsRead.join(',')} of ${res.cost.partitions}${res.cost.indexed ? ' through the table index' : ''}: ${res.cost.messagesScanned} records scanned, ${res.cost.recordsDecoded} decoded, ${res.seconds.toFixed(2)} s`);
      process.stdout.write(out.join('\n') + '\n');
    });
}
