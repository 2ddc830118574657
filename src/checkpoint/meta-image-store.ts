// Meta images on the checkpoints topic: the checkpointer writes one with each manifest; readers that fold the
// meta topic (restore) start from the newest manifest's image, checked against its digest and its binding to
// the meta chain, and read the meta topic only from where the image ends.
import { randomUUID } from 'node:crypto';
import { readPartitions, type LogAppender, type LogClient, type OutMessage, type ReadMessage } from '../log/kafka-log.js';
import type { LogTopics } from '../log/topics.js';
import { decodeRecord, encodeRecord, toBigInt } from '../log/record-codec.js';
import { RECORD_VERSION, type MetaImageMsg } from '../log/record-types.js';
import { MetaState } from '../log/meta-state.js';
import { readMeta } from '../log/meta-reader.js';
import { chunkBySize } from '../log/txn-records.js';
import { imageDigest, type MetaImageBuilder } from '../log/meta-image.js';
import type { ChainHead } from '../log/integrity-chain.js';
import { CorruptLogError, PitrError } from '../core/errors.js';
import { bindingMismatch, readDirectory } from './checkpoint-store.js';
import type { StoredCheckpoint } from './checkpoint-plan.js';

/** Kafka key of MetaImagePart records on the checkpoints topic. */
export const META_IMAGE_KEY = 'meta-image';

/** Encoded records per part: a part stays well under the broker's message size limit. */
const PART_BYTES = 512 * 1024;

/** Writes the builder's image as MetaImagePart records (Kafka transactions of their own); returns the manifest's entry. */
export async function writeMetaImage(
  appender: LogAppender,
  topics: LogTopics,
  sourceId: string,
  builder: MetaImageBuilder,
  end: { nextOffset: bigint; link: ChainHead | undefined },
): Promise<MetaImageMsg> {
  const imageId = randomUUID();
  const records = builder.records();
  const parts = chunkBySize(records, (r) => r.length + 4, PART_BYTES);
  const messages: OutMessage[] = parts.map((chunk, part) => ({
    topic: topics.checkpoints,
    partition: 0,
    key: META_IMAGE_KEY,
    value: encodeRecord({ version: RECORD_VERSION, sourceId, metaImagePart: { imageId, part, records: chunk } }),
  }));
  const offsets: bigint[] = [];
  for (const txn of chunkBySize(messages, (m) => m.value.length, 4 * PART_BYTES)) offsets.push(...(await appender.appendAtomically(txn)));
  if (offsets.some((o) => o < 0n)) throw new PitrError('Kafka did not report the offsets of the meta image written.');
  return {
    imageId,
    firstOffset: (offsets[0] ?? 0n).toString(),
    lastOffset: (offsets.at(-1) ?? 0n).toString(),
    parts: parts.length,
    digest: builder.digest(),
    records: records.length,
    metaRecords: builder.metaRecords,
    metaNextOffset: end.nextOffset.toString(),
    hasHead: end.link !== undefined,
    ...(end.link ? { headSeq: end.link.seq.toString(), headHash: end.link.hash } : {}),
    maxTxns: builder.maxTxns,
  };
}

/** The image's encoded records, read from its parts in order; a problem with them as a sentence (undefined: none). */
export async function readMetaImage(kafka: LogClient, topics: LogTopics, sourceId: string, image: MetaImageMsg): Promise<{ records: Uint8Array[]; problem?: string }> {
  const first = toBigInt(image.firstOffset);
  const last = toBigInt(image.lastOffset);
  const records: Uint8Array[] = [];
  let next = 0;
  let problem: string | undefined;
  if (image.parts > 0) {
    await readPartitions(kafka, topics.checkpoints, {
      partitions: [0],
      from: new Map([[0, first]]),
      to: new Map([[0, last + 1n]]),
      onMessages: (_p, msgs) => {
        for (const m of msgs) {
          if (m.key !== META_IMAGE_KEY) continue;
          const part = decodeRecord(m.value, { topic: topics.checkpoints, partition: 0, offset: m.offset }, sourceId).metaImagePart;
          if (!part || part.imageId !== image.imageId) continue;
          if (part.part !== next) {
            problem ??= `part ${part.part} of its meta image is at offset ${m.offset} where part ${next} belongs`;
            continue;
          }
          next++;
          records.push(...part.records);
        }
      },
    });
  }
  if (next !== image.parts) problem ??= `its meta image has ${next} of ${image.parts} parts at offsets ${first}..${last}`;
  else if (records.length !== image.records) problem ??= `its meta image holds ${records.length} records, not the ${image.records} its manifest says`;
  else if (!imageDigest(records).equals(Buffer.from(image.digest ?? []))) problem ??= 'its meta image does not match the digest its manifest gives';
  return problem ? { records, problem } : { records };
}

/** Whether the chain link the log holds before the image's end is the one the image is bound to (else why not). */
export async function imageBindingMismatch(kafka: LogClient, topics: LogTopics, image: MetaImageMsg): Promise<string | undefined> {
  const wrong = await bindingMismatch(kafka, { topic: topics.meta, partition: 0, nextOffset: image.metaNextOffset, hasHead: image.hasHead, headSeq: image.headSeq, headHash: image.headHash }, 'pitr-reader');
  return wrong && `its meta image is ${wrong}`;
}

export interface MetaRead {
  meta: MetaState;
  /** The newest checkpoint manifest when the checkpoints topic was read (its directory serves the restore's checkpoints too). */
  directory?: Awaited<ReturnType<typeof readDirectory>>;
  /** The checkpoint whose meta image the fold started from. */
  imageOf?: StoredCheckpoint;
}

/**
 * The meta topic's fold, from the newest checkpoint's meta image (checked) plus the meta records after it; the
 * whole meta topic when no checkpoint carries an image or `whole` is set. Refuses an image that fails its checks.
 * The whole topic is fetched while the newest manifest is looked up (most logs have none): held undecoded until
 * the manifest says whether it is needed, and dropped after a fetch if an image serves.
 */
export async function readMetaFromImage(kafka: LogClient, topics: LogTopics, sourceId: string, opts: { whole?: boolean } = {}): Promise<MetaRead> {
  if (opts.whole) return { meta: await readMeta(kafka, topics, sourceId) };
  const meta = new MetaState();
  const fold = (msgs: ReadMessage[]) => {
    for (const m of msgs) meta.add(decodeRecord(m.value, { topic: topics.meta, partition: 0, offset: m.offset }, sourceId));
  };
  let route: 'whole' | 'image' | undefined;
  const held: ReadMessage[] = [];
  const wholeRead = readPartitions(kafka, topics.meta, {
    partitions: [0],
    onMessages: (_p, msgs) => {
      if (route === 'image') return false;
      if (route === 'whole') fold(msgs);
      else held.push(...msgs);
    },
  });
  wholeRead.catch(() => undefined);
  // A log without a checkpoints topic (older provisioning) has no images.
  const directory = await readDirectory(kafka, topics, sourceId, 'pitr-reader').catch(() => undefined);
  const newest = directory?.newest;
  const image = newest?.manifest.hasMetaImage ? newest.manifest.metaImage : undefined;
  if (!image) {
    route = 'whole';
    fold(held.splice(0));
    await wholeRead;
    return { meta, directory };
  }
  route = 'image';
  held.length = 0;
  const tail: ReadMessage[] = [];
  const [parts, unbound] = await Promise.all([
    readMetaImage(kafka, topics, sourceId, image),
    imageBindingMismatch(kafka, topics, image),
    readPartitions(kafka, topics.meta, { partitions: [0], from: new Map([[0, toBigInt(image.metaNextOffset)]]), onMessages: (_p, msgs) => void tail.push(...msgs) }),
  ]);
  const problem = parts.problem ?? unbound;
  if (problem) {
    throw new CorruptLogError(
      `checkpoint ${newest!.manifest.checkpointId} failed its checks (${problem}); restore refuses it: pass --no-checkpoint to read the log from its start, and run pitr verify.`,
      { place: { topic: topics.checkpoints, partition: 0, offset: newest!.offset } },
    );
  }
  for (const [k, r] of parts.records.entries()) meta.add(decodeRecord(r, `meta image ${image.imageId} record ${k}`, sourceId));
  meta.records = Number(toBigInt(image.metaRecords));
  fold(tail);
  return { meta, directory, imageOf: newest };
}
