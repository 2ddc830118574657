// The connection flags of every command, declared in one place so each command that reaches the
// log takes the same --brokers, --credentials and --source-id (resolved by config/resolve-connections.ts).
import type { Command } from 'commander';
import type { KafkaPrincipal } from '../core/settings.js';

export interface ConnectionOptionSpec {
  /** --source: true for the usual help line, or a line saying what this command does with the source. */
  source?: true | string;
  /** --target: true for the usual help line, or a line saying what this command does with the target. */
  target?: true | string;
  /** The principal the command reaches the log as (true: whichever it is asked about): adds --brokers, --credentials and --source-id. */
  log?: KafkaPrincipal | true;
  /** One help line for every flag instead of the usual ones (`pitr config check`). */
  help?: string;
}

/** Adds the connection flags the spec names, in one order: --source, --target, --brokers, --credentials, --source-id. */
export function addConnectionOptions(cmd: Command, spec: ConnectionOptionSpec): Command {
  const line = (usual: string, own?: true | string) => spec.help ?? (typeof own === 'string' ? own : usual);
  if (spec.source) cmd.option('--source <url>', line('source server mysql://user:pass@host:port (default: PITR_SOURCE, the config file or the local stack)', spec.source));
  if (spec.target) cmd.option('--target <url>', line('recovery server mysql://user:pass@host:port (default: PITR_TARGET, the config file or the local stack)', spec.target));
  if (spec.log) {
    cmd
      .option('--brokers <list>', line('Kafka brokers host:port,... (default: PITR_KAFKA_BROKERS, the config file or the local stack)'))
      .option(
        '--credentials <file>',
        line(`JSON file with Kafka users (mode 600), shaped like kafka.users of \`pitr stack status --json\`${spec.log === true ? '' : `; needs the ${spec.log}`}`),
      )
      .option('--source-id <id>', line('log name of the source (default: main)'));
  }
  return cmd;
}
