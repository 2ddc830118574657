// Names and shape of one source's log: a small fixed set of custodian-provisioned topics, so the
// capture principal never needs CREATE (whoever can create a topic can create it with a short
// retention first).

/** Partitions of the changes topic unless the custodian chose otherwise at provisioning. */
export const DEFAULT_CHANGE_PARTITIONS = 6;

export interface LogTopics {
  /** Row changes and snapshot rows, keyed by table: all records of one table live in one partition. */
  changes: string;
  /** One partition: DDL, snapshot boundaries and per-flush transaction index (commit order, times, GTIDs). */
  meta: string;
  /**
   * One partition: checkpoints (compacted table images at a position, derived from changes and meta), written
   * by the checkpointer principal only.
   */
  checkpoints: string;
}

export function logTopics(sourceId: string): LogTopics {
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(sourceId)) {
    throw new Error(`source id "${sourceId}" may only contain letters, digits, "_" and "-"`);
  }
  return { changes: `pitr.${sourceId}.changes`, meta: `pitr.${sourceId}.meta`, checkpoints: `pitr.${sourceId}.checkpoints` };
}

/** Capture's Kafka transactional id: one per source, so a second capture for it is fenced off. */
export function transactionalId(sourceId: string): string {
  return `pitr-capture-${sourceId}`;
}

/** The checkpointer's Kafka transactional id: one per source, so a second checkpointer for it is fenced off. */
export function checkpointerTransactionalId(sourceId: string): string {
  return `pitr-checkpointer-${sourceId}`;
}

/** Topic configuration that keeps history forever; capture refuses topics that differ. */
export const REQUIRED_TOPIC_CONFIG: Readonly<Record<string, string>> = {
  'retention.ms': '-1',
  'retention.bytes': '-1',
  'cleanup.policy': 'delete',
};
