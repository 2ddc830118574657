// `pitr restore`: rebuild tables or a database as of a cut into the recovery server (thin).
import { commandSummary } from './command-list.js';
import { addConnectionOptions } from './connection-options.js';
import type { Command } from 'commander';
import { parseByteSize, runRestore } from '../replay/restore.js';
import { startProgress } from './progress.js';
import { restoreMetrics } from '../metrics/metrics.js';
import { cutSpecFromFlags, parseTableName } from '../replay/cut-planner.js';
import { resolveConnections, type ConnectionFlags } from '../config/resolve-connections.js';
import { UsageError } from '../core/errors.js';
import { parseDatabaseName } from '../core/table-name.js';
import { connectMysql } from '../core/mysql-conn.js';
import { removeStaleScratch } from '../replay/scratch-schemas.js';
import { interruptRestores } from '../replay/restore-interrupt.js';
import { formatCutReport } from '../replay/cut-report.js';

interface RestoreFlags extends ConnectionFlags {
  table?: string[];
  database?: string;
  asOf?: string;
  stopDatetime?: string;
  beforeGtid?: string;
  throughGtid?: string;
  intoDatabase?: string;
  replace?: boolean;
  json?: boolean;
  memoryBudget?: string;
  cleanup?: boolean;
  /** false with --no-checkpoint. */
  checkpoint?: boolean;
  /** false with --no-index. */
  index?: boolean;
}

/**
 * On SIGINT/SIGTERM: undo the running restore (scratch schemas, an empty destination database it
 * created), say so in one sentence and exit non-zero. Returns the promise a failing restore waits on
 * meanwhile, so its own error (its connection is killed) never reaches the user instead.
 */
function onInterrupt(beforeExit: () => void): { pending: () => Promise<void> | undefined; remove: () => void } {
  let cleaning: Promise<void> | undefined;
  const handler = (signal: NodeJS.Signals) => {
    if (cleaning) return;
    cleaning = (async () => {
      await interruptRestores();
      beforeExit();
      const message = 'restore interrupted; scratch schemas removed.';
      process.stderr.write(`pitr: ${message}\n`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    })();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    pending: () => cleaning,
    remove: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

export function registerRestoreCommand(program: Command): void {
  const cmd = program
    .command('restore')
    .description(commandSummary('restore'))
    .option('--table <db.t>', 'table to restore (repeatable)', (v: string, acc: string[] = []) => [...acc, v])
    .option('--database <db>', 'restore every table of this database')
    .option('--as-of <time>', 'ISO-8601 time (no offset = UTC) or @epoch; cut is truncated to the second')
    .option('--stop-datetime <time>', 'alias of --as-of (as in mariadb-binlog)')
    .option('--before-gtid <gtid>', 'everything strictly before transaction G (domain-server-seq)')
    .option('--through-gtid <gtid>', 'everything up to and including transaction G')
    .option('--into-database <name>', 'database on the target to restore into (default: the original name)')
    .option('--memory-budget <size>', 'memory for folded rows and buffered records, e.g. 512m, 2g (default 1g; larger tables load in batches)')
    .option('--replace', 'replace tables that already exist in the target')
    .option('--no-checkpoint', 'read from the snapshot at the log\'s start instead of the newest checkpoint within the cut')
    .option('--no-index', 'read the restored tables\' whole partitions instead of only the offsets the log\'s table index lists');
  addConnectionOptions(cmd, { target: true, log: 'reader' })
    .option('--cleanup', 'only remove scratch schemas (pitr_tmp_*) that restores no longer running left on the target')
    .option('--json', 'print the result as JSON')
    .action(async (opts: RestoreFlags) => {
      if (opts.cleanup) {
        if (opts.table?.length || opts.database) throw new UsageError('--cleanup restores nothing; run it without --table or --database.');
        const conn = resolveConnections(opts);
        const db = await connectMysql(await conn.target(), 'target');
        try {
          const removed = await removeStaleScratch(db);
          if (opts.json) process.stdout.write(JSON.stringify({ removed }) + '\n');
          else process.stdout.write(removed.length ? `removed ${removed.length} scratch schema(s) of restores no longer running: ${removed.join(', ')}\n` : 'no scratch schemas of stopped restores found\n');
        } finally {
          await db.end().catch(() => undefined);
        }
        return;
      }
      if (!opts.table?.length && !opts.database) throw new UsageError('say what to restore: --table db.t (repeatable) or --database db.');
      if (opts.table?.length && opts.database) throw new UsageError('use either --table or --database, not both.');
      const cut = cutSpecFromFlags(opts);
      const tables = opts.table?.map(parseTableName);
      const database = opts.database === undefined ? undefined : parseDatabaseName(opts.database, '--database');
      const intoDatabase = opts.intoDatabase === undefined ? undefined : parseDatabaseName(opts.intoDatabase, '--into-database');
      const conn = resolveConnections(opts);
      const progress = startProgress({ label: 'restoring', unit: 'records', json: opts.json });
      const interrupt = onInterrupt(() => progress.stop());
      const res = await runRestore({
        kafka: await conn.kafka('reader'),
        sourceId: conn.sourceId,
        target: await conn.target(),
        // Known only when configured; the log's record of the source is checked regardless.
        source: await conn.source().catch(() => undefined),
        tables,
        database,
        cut,
        intoDatabase,
        replace: opts.replace,
        memoryBudget: opts.memoryBudget ? parseByteSize(opts.memoryBudget) : undefined,
        noCheckpoint: opts.checkpoint === false,
        noIndex: opts.index === false,
        onProgress: (done, total) => progress.update(done, total),
      })
        .catch(async (err: unknown) => {
          // Interrupted: the handler reports and exits; this error is only the killed connection.
          const cleaning = interrupt.pending();
          if (cleaning) await cleaning.then(() => new Promise<never>(() => undefined));
          throw err;
        })
        .finally(() => {
          progress.stop();
          interrupt.remove();
        });
      restoreMetrics.tables.inc(res.tables.length);
      restoreMetrics.rows.inc(res.tables.reduce((n, t) => n + t.rows, 0));
      const rows = res.tables.reduce((n, t) => n + t.rows, 0);
      if (opts.json) {
        const c = res.cutReport;
        process.stdout.write(
          JSON.stringify({ tables: res.tables, objects: res.objects, rows, cut: res.cutLabel, position: res.position, included: c.included, firstExcluded: c.firstExcluded, seconds: res.seconds, recordsRead: res.recordsRead, indexed: res.indexed }) + '\n',
        );
      } else {
        const names = res.tables.map((t) => `${t.into} (${t.rows})`).join(', ');
        process.stdout.write(`restored ${res.tables.length} table(s), ${rows} rows ${res.cutLabel} (${formatCutReport(res.cutReport)}) in ${res.seconds.toFixed(2)} s: ${names}\n`);
        for (const o of res.objects) process.stdout.write(`  recreated ${o.kind.toLowerCase()} ${o.name}${o.note ? `: ${o.note}` : ''}\n`);
      }
    });
}
