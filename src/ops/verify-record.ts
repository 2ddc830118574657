// Where the last `pitr verify` result of each source is kept for `pitr status` and for the next
// `pitr verify --since last`: a small JSON file in the state folder of the host that runs verify
// ($PITR_HOME/status/last-verify-<sourceId>.json, folder 0700, file 0600). The capture principal is a
// Kafka identity with append rights only: it has no way to write here, so a capture host taken over
// cannot move the anchor a regular verify continues from (run verify as another OS user or host).
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stackHome } from '../stack/local-stack.js';
import type { LastVerify } from './status.js';
import type { OpenStaged } from '../log/log-verifier.js';

export function lastVerifyFile(sourceId: string, home = stackHome()): string {
  return join(home, 'status', `last-verify-${sourceId}.json`);
}

/** Saves atomically (write then rename), so status never reads half a file. */
export function saveLastVerify(sourceId: string, v: LastVerify, home = stackHome()): void {
  const file = lastVerifyFile(sourceId, home);
  mkdirSync(join(home, 'status'), { recursive: true, mode: 0o700 });
  writeFileSync(`${file}.tmp`, JSON.stringify(v) + '\n', { mode: 0o600 });
  chmodSync(`${file}.tmp`, 0o600);
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

/** Open staged transactions as stored (offsets as decimal strings: JSON has no bigint). */
export function storeOpenStaged(o: OpenStaged): Array<[string, { records: number; partition: number; offset: string }]> {
  return o.map(([id, s]) => [id, { ...s, offset: s.offset.toString() }]);
}

export function loadOpenStaged(o: Array<[string, { records: number; partition: number; offset: string }]> | undefined): OpenStaged | undefined {
  return o?.map(([id, s]) => [id, { ...s, offset: BigInt(s.offset) }]);
}
