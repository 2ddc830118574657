// `pitr ui`: the local web application over the log (thin: flags, the reader-only check, the server).
import { randomBytes } from 'node:crypto';
import { commandSummary } from './command-list.js';
import { addConnectionOptions } from './connection-options.js';
import type { Command } from 'commander';
import { resolveConnections, type ConnectionFlags } from '../config/resolve-connections.js';
import { UsageError, ConnectionError } from '../core/errors.js';
import { DEFAULT_THRESHOLD, parseThresholdRule, ThresholdPolicy } from '../guard/thresholds.js';
import { kafkaClient, principalReach } from '../log/kafka-log.js';
import { parseDatabaseName } from '../core/table-name.js';
import { UI_GROUP_PREFIX } from '../ui/log-scan.js';
import { refuseKnownWiderUser, refuseWiderReach } from '../ui/reader-only.js';
import { UiBackend } from '../ui/ui-backend.js';
import { createUiServer, isLoopback } from '../ui/ui-server.js';
import type { KafkaPrincipal, KafkaUser } from '../core/settings.js';

interface UiFlags extends ConnectionFlags {
  port: string;
  bind: string;
  guardDatabase: string;
  threshold?: string[];
  cacheMb: string;
}

export function registerUiCommand(program: Command): void {
  const cmd = program
    .command('ui')
    .description(commandSummary('ui'))
    .option('--port <port>', 'port to listen on (0: any free port)', '8765')
    .option('--bind <address>', 'address to listen on; beyond loopback every request needs the token printed at start', '127.0.0.1')
    .option('--guard-database <name>', "where guard keeps its incident ledger on the recovery server (guard's --into-database)", 'pitr_recovery')
    .option('--threshold <rule>', "what the timeline marks as destructive, as guard's --threshold (repeatable, later wins)", (v: string, acc: string[] = []) => [...acc, v])
    .option('--cache-mb <n>', "space of the as-of cache on the recovery server (as query's --cache-mb)", '1024');
  addConnectionOptions(cmd, { source: 'source server, only for capture lag in the status panel (optional)', target: true, log: 'reader' })
    .addHelpText(
      'after',
      `
Reads the log with the reader principal only: capture or custodian credentials are refused. Restores
run in this process into the recovery server, as \`pitr restore\` does; the page shows the command.
The JSON API the page is built from is described in docs/ui.md.

Examples:
  npx pitr demo --keep && pitr ui          the drill's log in the browser at http://127.0.0.1:8765/
  pitr ui --port 9000 --bind 0.0.0.0       reachable from elsewhere; open the printed URL (it holds the token)`,
    )
    .action(async (opts: UiFlags) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port ${opts.port} is not a port number.`);
      const cacheMb = Number(opts.cacheMb);
      if (!(cacheMb > 0)) throw new UsageError('--cache-mb takes a positive number of MiB.');
      const guardDatabase = parseDatabaseName(opts.guardDatabase, '--guard-database');
      const policy = new ThresholdPolicy(DEFAULT_THRESHOLD, (opts.threshold ?? []).map(parseThresholdRule));
      const conn = resolveConnections(opts);
      const settings = await conn.kafka('reader');
      const reader = settings.users.reader;
      if (!reader) throw new UsageError('pitr ui needs reader credentials: set PITR_KAFKA_READER_USER and _PASSWORD or give a credentials file with "reader".');
      const explained = await conn.explain();
      const known: Partial<Record<KafkaPrincipal, KafkaUser>> = { ...settings.users };
      for (const [p, x] of Object.entries(explained.users)) if (p !== 'reader' && x) known[p as KafkaPrincipal] = x.value;
      refuseKnownWiderUser(reader, known);
      // Only the reader's credentials stay in this process.
      const kafka = { ...settings, users: { reader } };
      refuseWiderReach(reader.username, await principalReach(kafkaClient(kafka, 'reader', { clientId: 'pitr-ui-check', retries: 2 }), `${UI_GROUP_PREFIX}-probe`));

      const backend = new UiBackend({ kafka, sourceId: conn.sourceId, target: conn.target, source: conn.source, policy, guardDatabase, cacheBytes: Math.floor(cacheMb * 1024 * 1024) });
      const token = isLoopback(opts.bind) ? undefined : randomBytes(24).toString('base64url');
      const server = createUiServer({ backend, port, bind: opts.bind, token });
      await new Promise<void>((resolve, reject) => {
        server.once('error', (err: NodeJS.ErrnoException) =>
          reject(err.code === 'EADDRINUSE' ? new UsageError(`port ${port} on ${opts.bind} is in use; pick another with --port.`) : new ConnectionError(`cannot listen on ${opts.bind}:${port} (${err.code ?? err.message}).`)),
        );
        server.listen(port, opts.bind, () => resolve());
      });
      const addr = server.address();
      const actual = typeof addr === 'object' && addr ? addr.port : port;
      const host = opts.bind.includes(':') ? `[${opts.bind}]` : opts.bind;
      process.stdout.write(`pitr ui: log ${conn.sourceId} as ${reader.username}, open http://${host}:${actual}/${token ? `?token=${token}` : ''}\n`);
      if (token) process.stdout.write('pitr ui: bound beyond loopback: every request needs that token (query ?token=, a cookie set by the link, or Authorization: Bearer).\n');
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          server.closeAllConnections();
          server.close(() => resolve());
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
