// Resolves where the source, target and Kafka log are: flags first, then PITR_* variables, then
// the running local stack. Secrets never come from flags shown in `ps` unless the user insists.
import type { KafkaPrincipal, KafkaSettings, StackInfo } from '../core/settings.js';
import { parseMysqlUrl, type MysqlUrl } from '../core/mysql-url.js';
import { runningStackInfo } from '../stack/local-stack.js';
import { UsageError } from '../core/errors.js';

export interface ConnectionFlags {
  source?: string;
  target?: string;
  brokers?: string;
  sourceId?: string;
}

export interface Resolved {
  source: () => Promise<MysqlUrl>;
  target: () => Promise<MysqlUrl>;
  kafka: (principal: KafkaPrincipal) => Promise<KafkaSettings>;
  sourceId: string;
}

export function resolveConnections(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): Resolved {
  let stack: Promise<StackInfo> | undefined;
  const fromStack = () => (stack ??= runningStackInfo());
  const sourceId = flags.sourceId ?? env.PITR_SOURCE_ID ?? 'main';
  return {
    sourceId,
    source: async () => parseMysqlUrl(flags.source ?? env.PITR_SOURCE ?? (await fromStack()).source, 'source URL'),
    target: async () => parseMysqlUrl(flags.target ?? env.PITR_TARGET ?? (await fromStack()).target, 'target URL'),
    kafka: async (principal) => {
      const brokers = flags.brokers ?? env.PITR_KAFKA_BROKERS;
      const P = principal.toUpperCase();
      const user = env[`PITR_KAFKA_${P}_USER`];
      const password = env[`PITR_KAFKA_${P}_PASSWORD`];
      if (brokers) {
        if (!user || password === undefined) {
          throw new UsageError(`Kafka brokers are set but no ${principal} credentials: set PITR_KAFKA_${P}_USER and PITR_KAFKA_${P}_PASSWORD.`);
        }
        return { brokers: brokers.split(',').map((s) => s.trim()).filter(Boolean), mechanism: 'scram-sha-256', users: { [principal]: { username: user, password } } };
      }
      const info = await fromStack();
      if (user && password !== undefined) return { ...info.kafka, users: { ...info.kafka.users, [principal]: { username: user, password } } };
      return info.kafka;
    },
  };
}
