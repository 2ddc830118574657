// `pitr flashback db.t --from T1 --to T2`: undo SQL for a window, or its application (thin).
import { commandSummary } from './command-list.js';
import { addConnectionOptions } from './connection-options.js';
import type { Command } from 'commander';
import { parseTableName } from '../replay/cut-planner.js';
import { parseCutTime } from '../core/cut-time.js';
import { UsageError } from '../core/errors.js';
import { parseMysqlUrl } from '../core/mysql-url.js';
import { resolveConnections, type ConnectionFlags } from '../config/resolve-connections.js';
import { runFlashback } from '../analysis/run-flashback.js';

interface FlashbackFlags extends ConnectionFlags {
  from?: string;
  to?: string;
  execute?: boolean;
  executeUrl?: string;
  force?: boolean;
  json?: boolean;
}

export function registerFlashbackCommand(program: Command): void {
  const cmd = program
    .command('flashback')
    .argument('<db.table>', 'table to put back')
    .description(commandSummary('flashback'))
    .option('--from <time>', 'state to go back to (ISO-8601 or @epoch)')
    .option('--to <time>', 'end of the window to undo')
    .option('--execute', 'apply it in one transaction with the credentials of --execute-url or PITR_FLASHBACK_URL')
    .option('--execute-url <url>', 'mysql://user:pass@host:port allowed to write the table (required with --execute)')
    .option('--force', 'also overwrite rows that changed again after the window');
  addConnectionOptions(cmd, { source: 'server whose current rows are checked when printing (default: PITR_SOURCE, the config file or the local stack)', target: 'where a table that foreign-key actions change is materialized (the recovery server; default: PITR_TARGET, the config file or the local stack)', log: 'reader' })
    .option('--json', 'print a JSON summary (with the script) instead of the script')
    .action(async (tableName: string, opts: FlashbackFlags) => {
      if (opts.from === undefined || opts.to === undefined) throw new UsageError('give the window: --from T1 --to T2.');
      const urlText = opts.executeUrl ?? process.env.PITR_FLASHBACK_URL;
      if (opts.execute && !urlText) {
        throw new UsageError('--execute writes to the source: give credentials for that explicitly with --execute-url or PITR_FLASHBACK_URL.');
      }
      if (!opts.execute && opts.executeUrl) throw new UsageError('--execute-url is used only with --execute.');
      const conn = resolveConnections(opts);
      const res = await runFlashback({
        kafka: await conn.kafka('reader'),
        sourceId: conn.sourceId,
        table: parseTableName(tableName),
        from: parseCutTime(opts.from),
        to: parseCutTime(opts.to),
        checkUrl: () => conn.source(),
        recovery: () => conn.target(),
        executeUrl: opts.execute ? parseMysqlUrl(urlText!, '--execute-url') : undefined,
        force: opts.force,
      });
      if (opts.json) process.stdout.write(JSON.stringify(res) + '\n');
      else if (!res.executed) process.stdout.write(res.script);
      else {
        process.stdout.write(
          `flashback of ${res.table} applied: ${res.rows} row(s) back to their state at the window's start in ${res.statements} statement(s), ${res.conflicts.length} conflict(s) ${opts.force ? 'overwritten' : 'left as they are'}; ${res.seconds.total.toFixed(2)} s\n`,
        );
        for (const c of res.conflicts) process.stdout.write(`conflict: ${JSON.stringify(c.key)} ${c.reason}\n`);
      }
    });
}
