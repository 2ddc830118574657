// Wires the configuration file into commander: a global --config option, and before each command
// runs, the command's section of the file fills every option the user did not give as a flag
// (precedence: file < PITR_* variables < flags; connection settings get the same order in
// resolve-connections.ts).
import type { Command } from 'commander';
import { activeConfig, useConfigFile } from './config-file.js';
import { COMMAND_SECTIONS } from './config-schema.js';

export function installConfig(program: Command): void {
  program
    .option('--config <file>', 'configuration file (default: PITR_CONFIG, else ./pitr.config.json when present)')
    .hook('preAction', (root, action) => {
      useConfigFile((root.opts() as { config?: string }).config);
      const { config } = activeConfig();
      if (config.log?.level && !process.env.PITR_LOG_LEVEL) process.env.PITR_LOG_LEVEL = config.log.level;
      const name = action.name() as (typeof COMMAND_SECTIONS)[number];
      if (!COMMAND_SECTIONS.includes(name)) return;
      const section = config[name] ?? {};
      for (const [key, value] of Object.entries(section)) {
        const option = action.options.find((o) => o.attributeName() === key);
        if (!option) continue;
        const origin = action.getOptionValueSource(key);
        if (origin === undefined || origin === 'default') action.setOptionValueWithSource(key, value, 'config');
      }
    });
}
