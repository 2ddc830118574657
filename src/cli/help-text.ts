// Help that teaches: examples after every command's --help, mariadb-binlog-style aliases
// (--start-datetime/--stop-datetime) where a command takes a time window, and the global options
// shown on every command. Applied by command name after registration, so command files stay thin.
import type { Command } from 'commander';
import { UsageError } from '../core/errors.js';

const EXAMPLES: Record<string, string> = {
  log: `
Examples (run by the custodian, who holds credentials the DBAs do not):
  PITR_KAFKA_BROKERS=k1:9092,k2:9092,k3:9092 PITR_CREDENTIALS_FILE=/etc/pitr/custodian.json \\
    pitr log provision --source-id db1 --capture-user pitr_capture_db1 --reader-user pitr_reader
  pitr log provision --source-id db2 --partitions 12 --json

Topics: pitr.<source-id>.changes and pitr.<source-id>.meta. Capture refuses topics whose settings
would let history expire; provisioning never changes an existing topic, it reports the problem.`,
  stack: `
Examples:
  pitr stack up                      start (or reuse) the local source, recovery server and Kafka
  pitr stack status --json           connection settings, passwords included (keep it private)
  pitr stack down --purge            stop and delete the local data`,
  capture: `
Examples:
  pitr capture                                  run beside the source until stopped (SIGINT/SIGTERM)
  pitr capture --until-caught-up                catch up once and exit (cron, tests)
  pitr capture --tables shop.*,crm.customers --metrics-port 9464
  pitr capture --tables 'shop_*.*,*.orders,+newdb.*'  globs; + for a database created later
  pitr capture --tables shop.* --narrow         stop capturing the rest; the log records where it ends
  PITR_SOURCE=mysql://pitr_capture:...@db1:3306 PITR_KAFKA_BROKERS=k1:9092,k2:9092 \\
    PITR_CREDENTIALS_FILE=/etc/pitr/capture.json pitr capture --source-id db1

The source needs log_bin, binlog_format=ROW, binlog_row_image=FULL, binlog_row_metadata=FULL and a
user with REPLICATION SLAVE, REPLICATION CLIENT, SELECT, RELOAD (for the first snapshot).`,
  restore: `
Examples:
  pitr restore --database shop --as-of 2026-05-12T09:59:59Z --into-database shop_restored
  pitr restore --table shop.orders --stop-datetime "2026-05-12 11:59:59+02:00" --replace
  pitr restore --database shop --before-gtid 0-1-4711        everything before the bad transaction
  pitr restore --table shop.orders --through-gtid 0-1-4710 --target mysql://root@recovery:3306
  pitr restore --table '\`d.ot\`.t3' --as-of -10m             names quoted as in MySQL; relative time
  pitr restore --table shop.orders --as-of -1h --no-checkpoint  from the snapshot, ignoring checkpoints

Times are ISO-8601 (no offset = UTC), @epoch, now or -30s/-5m/-2h/-1d. As with mariadb-binlog --stop-datetime, the cut
keeps every commit up to the end of the given second. Tables are built
in scratch databases and renamed into place in one RENAME TABLE, so a failed restore leaves nothing.`,
  verify: `
Examples:
  pitr verify                                   every chain and topic setting; exit 1 on a finding
  pitr verify --anchor > anchor-$(date +%F).txt  keep the chain heads somewhere the log's admins cannot write
  pitr verify --expect "$(cat anchor-2026-05-01.txt)"   the log still extends that day's state
  pitr verify --since last                      only the records since the last clean verify on this host (cron)
  pitr verify --since "$(cat anchor-2026-05-01.txt)"   only the records after that anchor, which the log must extend

The result, and the anchor of the last clean run that --since last continues from, is saved for
\`pitr status\` ($PITR_HOME/status/last-verify-<source-id>.json, readable by its owner only): keep
$PITR_HOME on a host and account the capture principal has no access to.`,
  checkpoint: `
Examples:
  pitr checkpoint --once                         one pass: tables with >= 100000 changes since their last checkpoint
  pitr checkpoint --every 1h --min-changes 50000 run beside capture until stopped
  PITR_CREDENTIALS_FILE=/etc/pitr/checkpointer.json pitr checkpoint --once --source-id db1   (cron)

Runs as the checkpointer principal: it reads changes and meta and writes only pitr.<source-id>.checkpoints.
Tables that DDL reshaped since their last base (other than CREATE or TRUNCATE) are left out until then.`,
  guard: `
Examples:
  pitr guard                                     watch from now on, rebuild victims into pitr_recovery
  pitr guard --threshold shop.audit=off --threshold shop.*=rows:500,pct:20 --notify https://hooks/pitr
  pitr guard --once --from-start --json          examine the whole log once (audit)
  pitr guard --metrics-port 9465                 Prometheus metrics while it runs`,
  history: `
Examples:
  pitr history shop.customers --pk 42
  pitr history shop.order_items --pk order_id=7,line=2 --start-datetime 2026-05-12T09:00:00Z --json`,
  diff: `
Examples:
  pitr diff shop.customers --from 2026-05-12T09:00:00Z --to 2026-05-12T10:00:00Z
  pitr diff shop.orders --start-datetime @1778576400 --stop-datetime @1778580000 --limit 20 --json`,
  query: `
Examples:
  pitr query --as-of 2026-05-12T09:59:59Z "SELECT COUNT(*) FROM shop.orders"
  pitr query --stop-datetime @1778579999 --database shop --format json "SELECT * FROM customers WHERE id = 42"`,
  flashback: `
Examples:
  pitr flashback shop.customers --from 2026-05-12T10:00:00Z --to 2026-05-12T10:05:00Z > undo.sql
  pitr flashback shop.customers --from T1 --to T2 --execute --execute-url mysql://fixer:...@db1:3306`,
  demo: `
Runs in about a minute on a laptop, without prompts; exit 1 if any table differs from its state
before the attack. It starts the local stack (\`pitr stack up\`) and leaves it running.

Examples:
  npx pitr demo
  npx pitr demo --keep && pitr ui    then open http://127.0.0.1:8765/ to see the attack on the timeline`,
  status: '',
  config: `
Examples:
  pitr config check
  pitr config check --keys`,
};

const PROGRAM_HELP = `
Getting started (local stack, no setup):
  npx pitr demo                                 the whole job: capture, attack, restore, compare
  npx pitr demo --keep && pitr ui               the same, then the log in the browser (http://127.0.0.1:8765/)
  pitr stack up && pitr capture --until-caught-up
  pitr restore --database shop --as-of 2026-05-12T09:59:59Z --into-database shop_restored

Every day:
  pitr status                                   healthy? lag, restorable window per table
  pitr verify                                   the log is intact (hash chains, retention settings)

Settings: flags > PITR_* variables > pitr.config.json (--config FILE, PITR_CONFIG) > local stack.
Run \`pitr <command> --help\` for examples; docs/ has the operations guide and the restore cookbook.`;

/**
 * Adds --start-datetime/--stop-datetime as aliases of a window's --from/--to (or --as-of), as
 * mariadb-binlog names them: the alias fills the option it stands for unless that was given too.
 */
function addDatetimeAliases(cmd: Command, map: { start?: string; stop?: string }): void {
  if (map.start) cmd.option('--start-datetime <time>', `alias of --${map.start.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} (as in mariadb-binlog)`);
  if (map.stop) cmd.option('--stop-datetime <time>', `alias of --${map.stop.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} (as in mariadb-binlog)`);
  cmd.hook('preAction', (c) => {
    const o = c.opts() as Record<string, unknown>;
    const flag = (k: string) => `--${k.replace(/[A-Z]/g, (ch) => '-' + ch.toLowerCase())}`;
    // Both the flag and its alias: one of them would win silently.
    if (map.start && o.startDatetime !== undefined && o[map.start] !== undefined) {
      throw new UsageError(`give one start, not two: ${flag(map.start)} and --start-datetime are both set.`);
    }
    if (map.stop && o.stopDatetime !== undefined && o[map.stop] !== undefined) {
      throw new UsageError(`give one cut, not two: ${flag(map.stop)} and --stop-datetime are both set.`);
    }
    if (map.start && o.startDatetime !== undefined && o[map.start] === undefined) c.setOptionValueWithSource(map.start, o.startDatetime, 'cli');
    if (map.stop && o.stopDatetime !== undefined && o[map.stop] === undefined) c.setOptionValueWithSource(map.stop, o.stopDatetime, 'cli');
  });
}

export function addProgramHelp(program: Command): void {
  program.addHelpText('after', PROGRAM_HELP + '\n');
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const cmd of all(program)) {
    cmd.configureHelp({ showGlobalOptions: true, sortOptions: false });
    cmd.showSuggestionAfterError(true);
  }
  for (const cmd of program.commands) {
    const text = EXAMPLES[cmd.name()];
    if (text) cmd.addHelpText('after', text + '\n');
    if (cmd.name() === 'history' || cmd.name() === 'diff' || cmd.name() === 'flashback') addDatetimeAliases(cmd, { start: 'from', stop: 'to' });
    if (cmd.name() === 'query') addDatetimeAliases(cmd, { stop: 'asOf' });
  }
}
