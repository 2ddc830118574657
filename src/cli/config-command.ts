// `pitr config check`: the effective configuration (file < PITR_* variables < flags), each value
// with where it came from, secrets masked; fails with the key's name when the file is invalid.
import { commandSummary } from './command-list.js';
import { addConnectionOptions } from './connection-options.js';
import type { Command } from 'commander';
import { activeConfig } from '../config/config-file.js';
import { COMMAND_SECTIONS, maskUrl, schemaKeys } from '../config/config-schema.js';
import { resolveConnections, type ConnectionFlags, type Explained } from '../config/resolve-connections.js';

export function registerConfigCommand(program: Command): void {
  const config = program.command('config').description(commandSummary('config'));
  const cmd = config
    .command('check')
    .description('validate the configuration file and print the effective settings with secrets masked');
  addConnectionOptions(cmd, { source: true, target: true, log: true, help: 'as the other commands take it' })
    .option('--keys', 'list every configuration key with its meaning')
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      `
Precedence, lowest first: pitr.config.json (or --config FILE / PITR_CONFIG) < PITR_* variables < flags;
the local stack fills whatever is still unset. See docs/configuration.md.

Examples:
  pitr config check                     effective settings and where each comes from
  pitr --config /etc/pitr/prod.json config check --json
  pitr config check --keys              every key of the file with its meaning`,
    )
    .action(async (opts: ConnectionFlags & { json?: boolean; keys?: boolean }) => {
      if (opts.keys) {
        const keys = schemaKeys();
        if (opts.json) process.stdout.write(JSON.stringify(keys.map((k) => ({ key: k.key, type: k.spec.type, doc: k.spec.doc }))) + '\n');
        else for (const k of keys) process.stdout.write(`${k.key.padEnd(24)} ${k.spec.type.padEnd(9)} ${k.spec.doc}\n`);
        return;
      }
      const loaded = activeConfig();
      const ex = await resolveConnections(opts).explain();
      const show = (e: Explained<string> | undefined, mask = false) => (e ? { value: mask ? maskUrl(e.value) : e.value, origin: e.origin, from: e.from } : null);
      const users: Record<string, unknown> = {};
      for (const [p, u] of Object.entries(ex.users)) users[p] = { username: u.value.username, password: '***', origin: u.origin, from: u.from };
      const sections: Record<string, unknown> = {};
      for (const s of COMMAND_SECTIONS) if (loaded.config[s]) sections[s] = loaded.config[s];
      const out = {
        file: loaded.file ?? null,
        sourceId: show(ex.sourceId),
        source: show(ex.source, true),
        target: show(ex.target, true),
        kafka: { brokers: ex.brokers ? { value: ex.brokers.value, origin: ex.brokers.origin, from: ex.brokers.from } : null, users },
        log: { level: process.env.PITR_LOG_LEVEL ?? loaded.config.log?.level ?? 'info' },
        commands: sections,
      };
      if (opts.json) {
        process.stdout.write(JSON.stringify(out) + '\n');
        return;
      }
      const line = (k: string, v: string, o?: { origin: string; from?: string } | null) =>
        process.stdout.write(`${k.padEnd(22)} ${v}${o ? `   (${o.origin}${o.from && o.from !== k ? `: ${o.from}` : ''})` : ''}\n`);
      line('config file', out.file ?? '(none: no --config, PITR_CONFIG or ./pitr.config.json)');
      line('sourceId', out.sourceId!.value, out.sourceId);
      line('source', out.source?.value ?? '(unset: start the local stack or set PITR_SOURCE)', out.source);
      line('target', out.target?.value ?? '(unset: start the local stack or set PITR_TARGET)', out.target);
      line('kafka.brokers', out.kafka.brokers?.value.join(',') ?? '(unset)', out.kafka.brokers);
      for (const [p, u] of Object.entries(ex.users)) line(`kafka.users.${p}`, `${u.value.username} / ***`, u);
      line('log.level', out.log.level);
      for (const [s, v] of Object.entries(sections)) {
        for (const [k, val] of Object.entries(v as Record<string, unknown>)) line(`${s}.${k}`, JSON.stringify(val), { origin: 'config file' });
      }
      process.stdout.write('configuration is valid.\n');
    });
}
