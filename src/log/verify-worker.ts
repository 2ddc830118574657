// Worker thread of `pitr verify`: verifies its share of the log's partitions (partition-verify.ts) and posts
// progress and the outcome to the parent. Its heap is capped by the parent (resourceLimits).
import { parentPort, workerData } from 'node:worker_threads';
import { verifyPartitions, type PartitionJob } from './partition-verify.js';
import { kafkaClient } from './kafka-log.js';
import type { KafkaSettings } from '../core/settings.js';
import { PitrError } from '../core/errors.js';

export interface VerifyWorkerData {
  kafka: KafkaSettings;
  sourceId: string;
  jobs: PartitionJob[];
}

/** Messages a verify worker posts. */
export type VerifyWorkerMessage =
  | { kind: 'progress'; offsets: number }
  | { kind: 'done'; outcome: Awaited<ReturnType<typeof verifyPartitions>> }
  | { kind: 'error'; name: string; message: string; retriable: boolean };

const data = workerData as VerifyWorkerData;
const port = parentPort!;
const post = (m: VerifyWorkerMessage) => port.postMessage(m);
let pending = 0;
let lastPost = 0;
try {
  const kafka = kafkaClient(data.kafka, 'reader', { clientId: 'pitr-verify' });
  const outcome = await verifyPartitions(kafka, data.sourceId, data.jobs, (n) => {
    pending += n;
    // A few progress messages a second, not one per batch.
    if (Date.now() - lastPost >= 200) {
      post({ kind: 'progress', offsets: pending });
      pending = 0;
      lastPost = Date.now();
    }
  });
  if (pending) post({ kind: 'progress', offsets: pending });
  post({ kind: 'done', outcome });
} catch (err) {
  const e = err as Error;
  post({ kind: 'error', name: e.name ?? 'Error', message: e.message ?? String(err), retriable: err instanceof PitrError && err.retriable });
}
