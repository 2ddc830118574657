// Reads a source's whole meta topic (read_committed) into a MetaState: what capture needs to resume
// and what every reader needs to plan a cut.
import { readPartitions, type LogClient } from './kafka-log.js';
import { decodeRecord } from './record-codec.js';
import { MetaState } from './meta-state.js';
import type { LogTopics } from './topics.js';

/** Reads the whole meta topic into a MetaState (read_committed). */
export async function readMeta(kafka: LogClient, topics: LogTopics, sourceId: string, groupPrefix = 'pitr-reader'): Promise<MetaState> {
  const meta = new MetaState();
  await readPartitions(kafka, topics.meta, {
    partitions: [0],
    groupPrefix,
    onMessages: (_p, msgs) => {
      for (const m of msgs) meta.add(decodeRecord(m.value, { topic: topics.meta, partition: 0, offset: m.offset }, sourceId));
    },
  });
  return meta;
}
