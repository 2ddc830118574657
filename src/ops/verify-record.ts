// Where the last `pitr verify` result of each source is kept for `pitr status`: a small JSON file
// in the state folder ($PITR_HOME/status/last-verify-<sourceId>.json).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stackHome } from '../stack/local-stack.js';
import type { LastVerify } from './status.js';

export function lastVerifyFile(sourceId: string, home = stackHome()): string {
  return join(home, 'status', `last-verify-${sourceId}.json`);
}

/** Saves atomically (write then rename), so status never reads half a file. */
export function saveLastVerify(sourceId: string, v: LastVerify, home = stackHome()): void {
  const file = lastVerifyFile(sourceId, home);
  mkdirSync(join(home, 'status'), { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(v) + '\n');
  renameSync(`${file}.tmp`, file);
}

export function loadLastVerify(sourceId: string, home = stackHome()): LastVerify | undefined {
  try {
    const v = JSON.parse(readFileSync(lastVerifyFile(sourceId, home), 'utf8')) as LastVerify;
    return typeof v.ok === 'boolean' && typeof v.at === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}
