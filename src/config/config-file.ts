// Finds and reads the configuration file: --config FILE, else PITR_CONFIG, else ./pitr.config.json
// when present. Cached per process; the schema and its checks live in config-schema.ts.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import { holdsSecret, validateConfig, type PitrConfig } from './config-schema.js';

export const DEFAULT_CONFIG_FILE = 'pitr.config.json';

export interface LoadedConfig {
  /** Absolute path of the file read, undefined when none applies. */
  file?: string;
  config: PitrConfig;
}

let explicit: string | undefined;
let cached: LoadedConfig | undefined;

/** Called by the CLI for --config FILE before any command runs. */
export function useConfigFile(file: string | undefined): void {
  explicit = file;
  cached = undefined;
}

/** Which file applies, if any: --config, PITR_CONFIG, then ./pitr.config.json if it exists. */
export function configPath(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): { file?: string; required: boolean } {
  if (explicit) return { file: resolve(cwd, explicit), required: true };
  if (env.PITR_CONFIG) return { file: resolve(cwd, env.PITR_CONFIG), required: true };
  const local = resolve(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(local) ? { file: local, required: false } : { required: false };
}

export function readConfigFile(file: string): PitrConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read the configuration file ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'}).`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    // Position only: the parser's message may quote the file, passwords included.
    const at = /position (\d+)/.exec((err as Error).message)?.[1];
    throw new UsageError(`configuration file ${file} is not valid JSON${at ? ` (near character ${at})` : ''}.`);
  }
  const cfg = validateConfig(doc, file);
  if (holdsSecret(cfg) && statSync(file).mode & 0o077) {
    throw new UsageError(`configuration file ${file} holds a password but group or others may read it; run chmod 600 ${file} or move the passwords to PITR_SOURCE/PITR_TARGET.`);
  }
  return cfg;
}

/** The configuration that applies to this process (empty when there is no file). */
export function activeConfig(env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  if (cached) return cached;
  const { file } = configPath(env);
  cached = file ? { file, config: readConfigFile(file) } : { config: {} };
  return cached;
}
