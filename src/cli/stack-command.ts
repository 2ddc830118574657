// `pitr stack up|down|status`: the command-line face of the local embedded stack (src/stack/local-stack.ts).
import { commandSummary } from './command-list.js';
import { InvalidArgumentError, type Command } from 'commander';
import type { StackInfo } from '../core/settings.js';
import { runningStackInfo, stackDown, stackStatus, stackUp, type StackStatus } from '../stack/local-stack.js';

function parseNodes(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 9) throw new InvalidArgumentError('must be a whole number from 1 to 9.');
  return n;
}

/** Passwords are shown only with --json (scripts need them); the human summary hides them. */
function mask(secret: string): string {
  return secret ? '********' : '';
}

function summary(info: StackInfo): string {
  const users = Object.entries(info.kafka.users)
    .map(([role, u]) => `${role}=${u!.username}:${mask(u!.password)}`)
    .join(' ');
  return [
    `source    ${info.source}`,
    `target    ${info.target}`,
    `kafka     ${info.kafka.brokers.join(',')} (SASL ${info.kafka.mechanism.toUpperCase()})`,
    `users     ${users}`,
  ].join('\n');
}

function statusText(st: StackStatus): string {
  const c = st.components!;
  const flag = (running: boolean) => (running ? 'running' : 'stopped');
  const lines = [
    `stack     ${st.running ? 'running' : 'not fully running'} (state in ${st.home})`,
    `source    ${flag(c.source.running)}  127.0.0.1:${c.source.port}${c.source.pid ? `  pid ${c.source.pid}` : ''}`,
    `recovery  ${flag(c.recovery.running)}  127.0.0.1:${c.recovery.port}${c.recovery.pid ? `  pid ${c.recovery.pid}` : ''}`,
    ...c.kafka.map((n) => `kafka ${n.nodeId}   ${flag(n.running)}  127.0.0.1:${n.clientPort}${n.pid ? `  pid ${n.pid}` : ''}`),
  ];
  if (st.info) lines.push(summary(st.info));
  return lines.join('\n');
}

function collectSetting(v: string, acc: Record<string, string>): Record<string, string> {
  const m = /^([a-z][a-z0-9.]*)=(.+)$/.exec(v);
  if (!m) throw new InvalidArgumentError(`--kafka-config takes key=value with a Kafka broker setting, not "${v}".`);
  if (/^(listeners|advertised\.listeners|listener\.|sasl\.|authorizer\.|super\.users|allow\.everyone|log\.dirs|node\.id|process\.roles|controller\.)/.test(m[1]!)) {
    throw new InvalidArgumentError(`--kafka-config cannot change ${m[1]}: the stack sets listeners, security and storage itself.`);
  }
  return { ...acc, [m[1]!]: m[2]! };
}

function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function registerStackCommand(program: Command): Command {
  const stack = program
    .command('stack')
    .description(commandSummary('stack'));

  stack
    .command('up')
    .description('start the local stack (creating it on first use) and provision the log; does nothing if it runs')
    .option('--kafka-nodes <n>', 'Kafka nodes of a new stack (an existing stack keeps its count)', parseNodes)
    .option('--kafka-config <key=value>', 'broker setting of a new stack, e.g. transaction.max.timeout.ms=5000 (repeatable)', collectSetting, {})
    .option('--json', 'print the connection settings as JSON (includes the generated passwords)')
    .action(async (opts: { kafkaNodes?: number; kafkaConfig: Record<string, string>; json?: boolean }) => {
      const info = await stackUp({ kafkaNodes: opts.kafkaNodes, kafkaConfig: opts.kafkaConfig });
      print(opts.json ? JSON.stringify(info) : `local stack is up\n${summary(info)}`);
    });

  stack
    .command('down')
    .description('stop the local stack, keeping its data')
    .option('--purge', 'also delete its databases, Kafka log and credentials')
    .action(async (opts: { purge?: boolean }) => {
      const r = await stackDown({ purge: opts.purge });
      const what = r.stopped ? 'local stack stopped' : 'local stack was not running';
      print(r.purged ? `${what}; its data was deleted` : what);
    });

  stack
    .command('status')
    .description('show whether the local stack runs and how to connect to it')
    .option('--json', 'print only the connection settings as JSON (includes the generated passwords)')
    .action(async (opts: { json?: boolean }) => {
      if (opts.json) {
        // Exactly the StackInfo shape other commands and scripts consume; an error when anything is down.
        print(JSON.stringify(await runningStackInfo()));
        return;
      }
      const st = await stackStatus();
      if (!st.exists) {
        await runningStackInfo(); // throws the "not running; start it with `pitr stack up`" error
        return;
      }
      print(statusText(st));
      if (!st.running) process.exitCode = 1;
    });

  return stack;
}
