// Reads a Kafka credentials file (--credentials, PITR_CREDENTIALS_FILE, kafka.credentials of the
// configuration file): refused unless only its owner can read it, and never quoted in an error.
import { readFileSync, statSync } from 'node:fs';
import type { KafkaPrincipal, KafkaUser } from '../core/settings.js';
import { UsageError } from '../core/errors.js';

export interface CredentialsFile {
  brokers?: string[];
  users: Partial<Record<KafkaPrincipal, KafkaUser>>;
}

export const KAFKA_PRINCIPALS: KafkaPrincipal[] = ['custodian', 'capture', 'reader', 'checkpointer'];

/**
 * Reads a credentials file: `{"capture": {"username": ..., "password": ...}, "reader": {...}}` (the shape of
 * kafka.users in `pitr stack status --json`), or a whole `{"kafka": {"brokers": [...], "users": {...}}}`.
 * Refuses a file that group or others may read, as ssh does with private keys.
 */
export function readCredentialsFile(file: string): CredentialsFile {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (err) {
    throw new UsageError(`cannot read the credentials file ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'}).`);
  }
  if (mode & 0o077) {
    throw new UsageError(`credentials file ${file} is accessible by group or others (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${file}.`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    // The parser's message may quote the file's content, passwords included: never pass it on.
    throw new UsageError(`credentials file ${file} is not valid JSON.`);
  }
  const root = doc as { kafka?: { brokers?: unknown; users?: unknown } } & Record<string, unknown>;
  const usersDoc = (root?.kafka?.users ?? root) as Record<string, unknown>;
  const users: CredentialsFile['users'] = {};
  for (const p of KAFKA_PRINCIPALS) {
    const u = usersDoc?.[p] as { username?: unknown; password?: unknown } | undefined;
    if (u === undefined) continue;
    if (typeof u?.username !== 'string' || typeof u?.password !== 'string') {
      throw new UsageError(`credentials file ${file}: "${p}" needs a string username and password.`);
    }
    users[p] = { username: u.username, password: u.password };
  }
  const brokers = root?.kafka?.brokers;
  return { users, brokers: Array.isArray(brokers) ? brokers.map(String) : undefined };
}
