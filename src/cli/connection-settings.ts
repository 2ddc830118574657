// Resolves where the source, target and Kafka log are: flags first, then PITR_* variables, then
// the running local stack. Kafka passwords never come from flags (they would show in `ps`): they come from
// PITR_KAFKA_<PRINCIPAL>_PASSWORD, a credentials file only its owner can read, or the local stack.
import { readFileSync, statSync } from 'node:fs';
import type { KafkaPrincipal, KafkaSettings, KafkaUser, StackInfo } from '../core/settings.js';
import { parseMysqlUrl, type MysqlUrl } from '../core/mysql-url.js';
import { runningStackInfo } from '../stack/local-stack.js';
import { UsageError } from '../core/errors.js';

export interface ConnectionFlags {
  source?: string;
  target?: string;
  brokers?: string;
  sourceId?: string;
  /** JSON file with Kafka users (see readCredentialsFile). */
  credentials?: string;
}

export interface Resolved {
  source: () => Promise<MysqlUrl>;
  target: () => Promise<MysqlUrl>;
  kafka: (principal: KafkaPrincipal) => Promise<KafkaSettings>;
  sourceId: string;
}

export interface CredentialsFile {
  brokers?: string[];
  users: Partial<Record<KafkaPrincipal, KafkaUser>>;
}

const PRINCIPALS: KafkaPrincipal[] = ['custodian', 'capture', 'reader'];

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
  for (const p of PRINCIPALS) {
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

export function resolveConnections(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): Resolved {
  let stack: Promise<StackInfo> | undefined;
  const fromStack = () => (stack ??= runningStackInfo());
  const sourceId = flags.sourceId ?? env.PITR_SOURCE_ID ?? 'main';
  let creds: { flag?: CredentialsFile; env?: CredentialsFile } | undefined;
  const files = () => {
    if (!creds) {
      creds = {
        flag: flags.credentials ? readCredentialsFile(flags.credentials) : undefined,
        env: env.PITR_CREDENTIALS_FILE ? readCredentialsFile(env.PITR_CREDENTIALS_FILE) : undefined,
      };
    }
    return creds;
  };
  return {
    sourceId,
    source: async () => parseMysqlUrl(flags.source ?? env.PITR_SOURCE ?? (await fromStack()).source, 'source URL'),
    target: async () => parseMysqlUrl(flags.target ?? env.PITR_TARGET ?? (await fromStack()).target, 'target URL'),
    kafka: async (principal) => {
      const P = principal.toUpperCase();
      const f = files();
      // Credentials: --credentials file, then PITR_KAFKA_<P>_USER/_PASSWORD, then PITR_CREDENTIALS_FILE.
      const envUser = env[`PITR_KAFKA_${P}_USER`];
      const envPassword = env[`PITR_KAFKA_${P}_PASSWORD`];
      const user: KafkaUser | undefined =
        f.flag?.users[principal] ??
        (envUser && envPassword !== undefined ? { username: envUser, password: envPassword } : undefined) ??
        f.env?.users[principal];
      const brokers = flags.brokers?.split(',') ?? env.PITR_KAFKA_BROKERS?.split(',') ?? f.flag?.brokers ?? f.env?.brokers;
      if (brokers) {
        if (!user) {
          throw new UsageError(
            `Kafka brokers are set but no ${principal} credentials: set PITR_KAFKA_${P}_USER and PITR_KAFKA_${P}_PASSWORD or give a credentials file (--credentials or PITR_CREDENTIALS_FILE).`,
          );
        }
        return { brokers: brokers.map((s) => s.trim()).filter(Boolean), mechanism: 'scram-sha-256', users: { [principal]: user } };
      }
      const info = await fromStack();
      if (user) return { ...info.kafka, users: { ...info.kafka.users, [principal]: user } };
      return info.kafka;
    },
  };
}
