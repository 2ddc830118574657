// Connection settings shared by every command: where the source, the recovery target and the
// Kafka log are, and which principal's credentials to use. Resolved by the CLI from flags,
// PITR_* variables, then the running local stack.

export interface KafkaUser {
  username: string;
  password: string;
}

export type KafkaPrincipal = 'custodian' | 'capture' | 'reader' | 'checkpointer';

export interface KafkaSettings {
  brokers: string[];
  /** SASL mechanism of the client listener. */
  mechanism: 'scram-sha-256';
  users: Partial<Record<KafkaPrincipal, KafkaUser>>;
}

/** What `pitr stack status --json` prints, and what every command needs to connect. */
export interface StackInfo {
  /** mysql://user:password@host:port of the source server. */
  source: string;
  /** mysql://user:password@host:port of the recovery (restore target) server. */
  target: string;
  kafka: KafkaSettings;
}
