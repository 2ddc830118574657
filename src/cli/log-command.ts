// `pitr log provision`: the custodian creates a source's log topics with history-keeping settings
// and grants capture append-only and readers read rights (thin: flags, provisionLog, output).
import { commandSummary } from './command-list.js';
import { addConnectionOptions } from './connection-options.js';
import { InvalidArgumentError, type Command } from 'commander';
import { provisionLog } from '../log/provision.js';
import { resolveConnections, type ConnectionFlags } from '../config/resolve-connections.js';

interface ProvisionFlags extends ConnectionFlags {
  partitions?: number;
  brokerCount?: number;
  captureUser?: string;
  readerUser?: string;
  checkpointerUser?: string;
  json?: boolean;
}

function positive(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 1000) throw new InvalidArgumentError('must be a whole number from 1 to 1000.');
  return n;
}

export function registerLogCommand(program: Command): void {
  const log = program.command('log').description(commandSummary('log'));
  const cmd = log
    .command('provision')
    .description(
      'create the source\'s topics (retention.ms=-1, retention.bytes=-1, cleanup.policy=delete, RF and min ISR from the cluster size) and grant capture append-only, checkpointer checkpoint-writing and reader read rights; idempotent, and an existing topic that would let history expire is reported, never changed',
    );
  addConnectionOptions(cmd, { log: 'custodian' })
    .option('--partitions <n>', 'partitions of the changes topic when it is created (default 6)', positive)
    .option('--broker-count <n>', 'brokers the cluster is meant to have (default: as the cluster reports)', positive)
    .option('--capture-user <name>', 'SCRAM user of the capture principal (default: the credentials\' capture user, else "capture")')
    .option('--reader-user <name>', 'SCRAM user of the reader principal (default: the credentials\' reader user, else "reader")')
    .option('--checkpointer-user <name>', 'SCRAM user of the checkpointer principal, which alone writes the checkpoints topic (default: the credentials\' checkpointer user, else "checkpointer")')
    .option('--json', 'print the result as JSON')
    .action(async (opts: ProvisionFlags) => {
      const conn = resolveConnections(opts);
      const kafka = await conn.kafka('custodian');
      const users = { ...kafka.users };
      // Only the principals' names matter for the ACLs: the custodian need not hold their passwords.
      if (opts.captureUser) users.capture = { username: opts.captureUser, password: '' };
      if (opts.readerUser) users.reader = { username: opts.readerUser, password: '' };
      if (opts.checkpointerUser) users.checkpointer = { username: opts.checkpointerUser, password: '' };
      const res = await provisionLog({ kafka: { ...kafka, users }, sourceId: conn.sourceId, partitions: opts.partitions, brokerCount: opts.brokerCount });
      if (opts.json) process.stdout.write(JSON.stringify(res) + '\n');
      else {
        process.stdout.write(
          `log of source "${conn.sourceId}" provisioned: ${res.topics.changes} and ${res.topics.meta}` +
            ` (replication factor ${res.replicationFactor}, min.insync.replicas ${res.minInsyncReplicas}` +
            `${res.created.length ? `, created ${res.created.join(', ')}` : ', already present'}); ACLs granted\n`,
        );
      }
    });
}
