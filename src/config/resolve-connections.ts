// Resolves where the source, target and Kafka log are: flags first, then PITR_* variables, then
// the configuration file (pitr.config.json), then the running local stack. Kafka passwords never come from flags (they would show in `ps`): they come from
// PITR_KAFKA_<PRINCIPAL>_PASSWORD, a credentials file only its owner can read, or the local stack.
import type { KafkaPrincipal, KafkaSettings, KafkaUser, StackInfo } from '../core/settings.js';
import { parseMysqlUrl, type MysqlUrl } from '../core/mysql-url.js';
import { runningStackInfo } from '../stack/local-stack.js';
import { UsageError } from '../core/errors.js';
import { activeConfig } from './config-file.js';
import type { PitrConfig } from './config-schema.js';
import { KAFKA_PRINCIPALS, readCredentialsFile, type CredentialsFile } from './credentials-file.js';

const warned = new Set<string>();

/** One line on stderr, once per flag and process. */
function warnPasswordFlag(flag: string, urlEnv: string, passwordEnv: string): void {
  if (warned.has(flag)) return;
  warned.add(flag);
  process.stderr.write(
    `pitr: warning: the ${flag} URL holds a password, which other users of this machine can read in \`ps\`; put it in ${passwordEnv} (or the whole URL in ${urlEnv}) instead.\n`,
  );
}

export interface ConnectionFlags {
  source?: string;
  target?: string;
  brokers?: string;
  sourceId?: string;
  /** JSON file with Kafka users (see readCredentialsFile). */
  credentials?: string;
}

/** Where a setting came from, as `pitr config check` prints it. */
export type Origin = 'flag' | 'env' | 'config file' | 'credentials file' | 'local stack' | 'default';

export interface Explained<T> {
  value: T;
  origin: Origin;
  /** The variable, flag or file that gave it. */
  from?: string;
}

export interface Resolved {
  source: () => Promise<MysqlUrl>;
  target: () => Promise<MysqlUrl>;
  kafka: (principal: KafkaPrincipal) => Promise<KafkaSettings>;
  sourceId: string;
  /** Each setting with its origin (for `pitr config check`); stack values only if the stack runs. */
  explain: () => Promise<{
    sourceId: Explained<string>;
    source?: Explained<string>;
    target?: Explained<string>;
    brokers?: Explained<string[]>;
    users: Partial<Record<KafkaPrincipal, Explained<KafkaUser>>>;
  }>;
}

/**
 * Precedence, highest first: flags, PITR_* variables, the configuration file, the local stack. Kafka
 * credentials: --credentials file, PITR_KAFKA_<P>_USER/_PASSWORD, PITR_CREDENTIALS_FILE, the config
 * file's kafka.credentials, the local stack.
 */
export function resolveConnections(
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv = process.env,
  config: PitrConfig = activeConfig(env).config,
): Resolved {
  let stack: Promise<StackInfo> | undefined;
  const fromStack = () => (stack ??= runningStackInfo());
  const pick = (flag: string | undefined, flagName: string, envName: string, file: string | undefined, key: string): Explained<string> | undefined =>
    flag !== undefined
      ? { value: flag, origin: 'flag', from: flagName }
      : env[envName] !== undefined && env[envName] !== ''
        ? { value: env[envName]!, origin: 'env', from: envName }
        : file !== undefined
          ? { value: file, origin: 'config file', from: key }
          : undefined;
  const sourceIdX = pick(flags.sourceId, '--source-id', 'PITR_SOURCE_ID', config.sourceId, 'sourceId') ?? { value: 'main', origin: 'default' as Origin };
  const sourceId = sourceIdX.value;
  let creds: { flag?: CredentialsFile; env?: CredentialsFile; config?: CredentialsFile } | undefined;
  const files = () => {
    if (!creds) {
      creds = {
        flag: flags.credentials ? readCredentialsFile(flags.credentials) : undefined,
        env: env.PITR_CREDENTIALS_FILE ? readCredentialsFile(env.PITR_CREDENTIALS_FILE) : undefined,
        config: config.kafka?.credentials ? readCredentialsFile(config.kafka.credentials) : undefined,
      };
    }
    return creds;
  };
  const userOf = (principal: KafkaPrincipal): Explained<KafkaUser> | undefined => {
    const P = principal.toUpperCase();
    const f = files();
    const envUser = env[`PITR_KAFKA_${P}_USER`];
    const envPassword = env[`PITR_KAFKA_${P}_PASSWORD`];
    if (f.flag?.users[principal]) return { value: f.flag.users[principal]!, origin: 'credentials file', from: flags.credentials };
    if (envUser && envPassword !== undefined) return { value: { username: envUser, password: envPassword }, origin: 'env', from: `PITR_KAFKA_${P}_USER/_PASSWORD` };
    if (f.env?.users[principal]) return { value: f.env.users[principal]!, origin: 'credentials file', from: env.PITR_CREDENTIALS_FILE };
    if (f.config?.users[principal]) return { value: f.config.users[principal]!, origin: 'credentials file', from: config.kafka?.credentials };
    return undefined;
  };
  const brokersOf = (): Explained<string[]> | undefined => {
    const f = files();
    const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);
    if (flags.brokers !== undefined) return { value: list(flags.brokers), origin: 'flag', from: '--brokers' };
    if (env.PITR_KAFKA_BROKERS) return { value: list(env.PITR_KAFKA_BROKERS), origin: 'env', from: 'PITR_KAFKA_BROKERS' };
    if (f.flag?.brokers) return { value: f.flag.brokers, origin: 'credentials file', from: flags.credentials };
    if (f.env?.brokers) return { value: f.env.brokers, origin: 'credentials file', from: env.PITR_CREDENTIALS_FILE };
    if (config.kafka?.brokers) return { value: config.kafka.brokers, origin: 'config file', from: 'kafka.brokers' };
    if (f.config?.brokers) return { value: f.config.brokers, origin: 'credentials file', from: config.kafka?.credentials };
    return undefined;
  };
  const sourceX = () => pick(flags.source, '--source', 'PITR_SOURCE', config.source, 'source');
  const targetX = () => pick(flags.target, '--target', 'PITR_TARGET', config.target, 'target');
  // A password in a flag shows in `ps` to every user of the machine: accepted, with one warning
  // line (never the password) naming the safer places. PITR_<SOURCE|TARGET>_PASSWORD fills in
  // the password of a URL that has none.
  const server = async (which: 'source' | 'target', x: Explained<string> | undefined): Promise<MysqlUrl> => {
    const u = parseMysqlUrl(x?.value ?? (await fromStack())[which], `${which} URL`);
    const envName = `PITR_${which.toUpperCase()}_PASSWORD`;
    if (x?.origin === 'flag' && u.password !== '') warnPasswordFlag(`--${which}`, `PITR_${which.toUpperCase()}`, envName);
    if (u.password === '' && env[envName]) u.password = env[envName]!;
    return u;
  };
  return {
    sourceId,
    source: () => server('source', sourceX()),
    target: () => server('target', targetX()),
    kafka: async (principal) => {
      const P = principal.toUpperCase();
      const user = userOf(principal)?.value;
      const brokers = brokersOf()?.value;
      if (brokers) {
        if (!user) {
          throw new UsageError(
            `Kafka brokers are set but no ${principal} credentials: set PITR_KAFKA_${P}_USER and PITR_KAFKA_${P}_PASSWORD or give a credentials file (--credentials, PITR_CREDENTIALS_FILE or kafka.credentials in the configuration file).`,
          );
        }
        return { brokers, mechanism: 'scram-sha-256', users: { [principal]: user } };
      }
      const info = await fromStack();
      if (user) return { ...info.kafka, users: { ...info.kafka.users, [principal]: user } };
      return info.kafka;
    },
    explain: async () => {
      const info = await fromStack().catch(() => undefined);
      const st = <T>(value: T | undefined): Explained<T> | undefined => (info && value !== undefined ? { value, origin: 'local stack' } : undefined);
      const brokers = brokersOf();
      const users: Partial<Record<KafkaPrincipal, Explained<KafkaUser>>> = {};
      for (const p of KAFKA_PRINCIPALS) {
        const u = userOf(p) ?? (brokers ? undefined : st(info?.kafka.users[p]));
        if (u) users[p] = u;
      }
      return {
        sourceId: sourceIdX,
        source: sourceX() ?? st(info?.source),
        target: targetX() ?? st(info?.target),
        brokers: brokers ?? st(info?.kafka.brokers),
        users,
      };
    },
  };
}
