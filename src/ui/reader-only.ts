// `pitr ui` reads the log as the reader principal and nothing more: credentials that are capture's or
// the custodian's (named as the reader, or shown to be by what the brokers let them do) are refused
// before the server starts. Pure: the brokers' answers come in as a PrincipalReach.
import { UsageError } from '../core/errors.js';
import type { KafkaPrincipal, KafkaUser } from '../core/settings.js';
import type { PrincipalReach } from '../log/kafka-log.js';

const WIDER: KafkaPrincipal[] = ['custodian', 'capture'];

/** Refuses reader credentials whose user is the capture or custodian user this configuration knows. */
export function refuseKnownWiderUser(reader: KafkaUser, known: Partial<Record<KafkaPrincipal, KafkaUser>>): void {
  for (const p of WIDER) {
    if (known[p] && known[p]!.username === reader.username) {
      throw new UsageError(`pitr ui takes reader credentials only, and the reader user given (${reader.username}) is the ${p} user; give the reader's (PITR_KAFKA_READER_USER/_PASSWORD or a credentials file's "reader").`);
    }
  }
}

/** Refuses credentials the brokers treat as more than a reader's. */
export function refuseWiderReach(username: string, reach: PrincipalReach): void {
  if (reach.clusterAdmin) {
    throw new UsageError(`pitr ui takes reader credentials only, and Kafka lets ${username} list ACLs, a right of the custodian; give the reader's credentials.`);
  }
  if (!reach.readerGroups) {
    throw new UsageError(`pitr ui takes reader credentials only, and Kafka does not give ${username} the reader's consumer groups (capture or checkpointer credentials?); give the reader's credentials.`);
  }
}
