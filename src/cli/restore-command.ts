// `pitr restore`: rebuild tables or a database as of a cut into the recovery server (thin).
import type { Command } from 'commander';
import { parseByteSize, runRestore } from '../replay/restore.js';
import { startProgress } from './progress.js';
import { restoreMetrics } from '../metrics/metrics.js';
import { parseTableName, type CutSpec } from '../replay/cut-planner.js';
import { parseCutTime } from '../core/cut-time.js';
import { parseGtid } from '../core/gtid.js';
import { resolveConnections, type ConnectionFlags } from './connection-settings.js';
import { UsageError } from '../core/errors.js';
import { parseDatabaseName } from '../core/table-name.js';

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
}

export function cutSpecFromFlags(f: { asOf?: string; stopDatetime?: string; beforeGtid?: string; throughGtid?: string }): CutSpec {
  const flags: [string, string | undefined][] = [
    ['--as-of', f.asOf],
    ['--stop-datetime', f.stopDatetime],
    ['--before-gtid', f.beforeGtid],
    ['--through-gtid', f.throughGtid],
  ];
  const given = flags.filter(([, v]) => v !== undefined).map(([name]) => name);
  // Two cuts (even an alias and its flag) would let one win silently.
  if (given.length > 1) throw new UsageError(`give one cut, not ${given.length}: ${given.join(' and ')} are both set.`);
  if (given.length !== 1) throw new UsageError('give exactly one cut: --as-of T, --before-gtid G or --through-gtid G.');
  const asOf = f.asOf ?? f.stopDatetime;
  if (asOf !== undefined) return { asOf: parseCutTime(asOf) };
  if (f.beforeGtid !== undefined) return { beforeGtid: parseGtid(f.beforeGtid) };
  return { throughGtid: parseGtid(f.throughGtid!) };
}

export function registerRestoreCommand(program: Command): void {
  program
    .command('restore')
    .description('rebuild tables or a whole database exactly as they stood at a cut, into the recovery server')
    .option('--table <db.t>', 'table to restore (repeatable)', (v: string, acc: string[] = []) => [...acc, v])
    .option('--database <db>', 'restore every table of this database')
    .option('--as-of <time>', 'ISO-8601 time (no offset = UTC) or @epoch; cut is truncated to the second')
    .option('--stop-datetime <time>', 'alias of --as-of (as in mariadb-binlog)')
    .option('--before-gtid <gtid>', 'everything strictly before transaction G (domain-server-seq)')
    .option('--through-gtid <gtid>', 'everything up to and including transaction G')
    .option('--into-database <name>', 'database on the target to restore into (default: the original name)')
    .option('--memory-budget <size>', 'memory for folded rows and buffered records, e.g. 512m, 2g (default 1g; larger tables load in batches)')
    .option('--replace', 'replace tables that already exist in the target')
    .option('--target <url>', 'target server mysql://user:pass@host:port (default: PITR_TARGET or the local stack)')
    .option('--brokers <list>', 'Kafka brokers (default: PITR_KAFKA_BROKERS or the local stack)')
    .option('--credentials <file>', 'JSON file with Kafka users (mode 600), shaped like kafka.users of `pitr stack status --json`')
    .option('--source-id <id>', 'log name of the source (default: main)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: RestoreFlags) => {
      if (!opts.table?.length && !opts.database) throw new UsageError('say what to restore: --table db.t (repeatable) or --database db.');
      if (opts.table?.length && opts.database) throw new UsageError('use either --table or --database, not both.');
      const cut = cutSpecFromFlags(opts);
      const tables = opts.table?.map(parseTableName);
      const database = opts.database === undefined ? undefined : parseDatabaseName(opts.database, '--database');
      const intoDatabase = opts.intoDatabase === undefined ? undefined : parseDatabaseName(opts.intoDatabase, '--into-database');
      const conn = resolveConnections(opts);
      const progress = startProgress({ label: 'restoring', unit: 'records', json: opts.json });
      const res = await runRestore({
        kafka: await conn.kafka('reader'),
        sourceId: conn.sourceId,
        target: await conn.target(),
        tables,
        database,
        cut,
        intoDatabase,
        replace: opts.replace,
        memoryBudget: opts.memoryBudget ? parseByteSize(opts.memoryBudget) : undefined,
        onProgress: (done, total) => progress.update(done, total),
      }).finally(() => progress.stop());
      restoreMetrics.tables.inc(res.tables.length);
      restoreMetrics.rows.inc(res.tables.reduce((n, t) => n + t.rows, 0));
      const rows = res.tables.reduce((n, t) => n + t.rows, 0);
      if (opts.json) {
        process.stdout.write(JSON.stringify({ tables: res.tables, rows, cut: res.cutLabel, position: res.position, seconds: res.seconds }) + '\n');
      } else {
        const names = res.tables.map((t) => `${t.into} (${t.rows})`).join(', ');
        process.stdout.write(`restored ${res.tables.length} table(s), ${rows} rows ${res.cutLabel} (cut ${res.position}) in ${res.seconds.toFixed(2)} s: ${names}\n`);
      }
    });
}
