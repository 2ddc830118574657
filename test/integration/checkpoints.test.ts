// Checkpoints on a log of their own: the checkpointer writes images folded from the log, verify re-derives
// them, a forged checkpoint (valid protobuf, wrong rows, chain extended correctly by the checkpointer's own
// credentials) is named by verify, and rows a killed checkpointer left without a manifest are never used. Restores
// start from the newest manifest's meta image; an altered one is refused, a forged one named by verify.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type mysql from 'mysql2/promise';
import { connect, dumpTable, pitr, stack } from './helpers.js';
import type { StackInfo } from '../../src/core/settings.js';
import { provisionLog } from '../../src/log/provision.js';
import { kafkaClient, LogAppender } from '../../src/log/kafka-log.js';
import { checkpointerTransactionalId, logTopics } from '../../src/log/topics.js';
import { decodeRecord, encodeRecord, encodeRowsRecord, viewRowRecord } from '../../src/log/record-codec.js';
import { RECORD_VERSION } from '../../src/log/record-types.js';
import { MANIFEST_KEY, directoryAfter, readCheckpointRows, readCheckpoints } from '../../src/checkpoint/checkpoint-store.js';
import { digestViews } from '../../src/checkpoint/image-fold.js';
import { META_IMAGE_KEY, readMetaImage } from '../../src/checkpoint/meta-image-store.js';
import { imageDigest } from '../../src/log/meta-image.js';
import { CHECKPOINTER_GROUP_PREFIX } from '../../src/log/provision.js';

const RUN = Date.now().toString(36);
const DB = `cpt_${RUN}`;
/** A database without DDL after the snapshot: restores of it can start from checkpoints. */
const DB2 = `cpr_${RUN}`;
const SID = `cptest-${RUN}`;
let info: StackInfo;
let src: mysql.Connection;

const cli = (args: string[]) => pitr([...args, '--source-id', SID]);
const capture = async () => {
  const r = await cli(['capture', '--until-caught-up', '--tables', `${DB}.*,${DB2}.*`]);
  expect(r.code, r.stderr).toBe(0);
};
const checkpoint = async () => {
  const r = await cli(['checkpoint', '--once', '--min-changes', '1', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { checkpointId?: string; tables: { table: string; rows: number; base: string }[]; skipped: { table: string }[] };
};
const verify = async () => {
  const r = await cli(['verify', '--json']);
  return { code: r.code, res: JSON.parse(r.stdout.trim().split('\n').pop()!) as { ok: boolean; findings: { kind: string; offset?: string; message: string }[]; checkpoints: { checkpointId: string; verifiedTables: string[] }[] } };
};
const appender = async () => {
  const kafka = kafkaClient(info.kafka, 'checkpointer', { clientId: 'cp-test' });
  const a = new LogAppender(kafka, checkpointerTransactionalId(SID), CHECKPOINTER_GROUP_PREFIX + 'test');
  await a.connect();
  await a.loadChainHeads([logTopics(SID).checkpoints]);
  return a;
};

/**
 * Appends, with the checkpointer's own credentials (so the chain extends correctly), a copy of the newest
 * checkpoint of db.table with one row changed; the manifest's digest is the forged rows' (`matchForged`) or the
 * real ones'. Returns the forged checkpoint's id.
 */
async function forgeCheckpoint(db: string, table: string, matchForged: boolean, lie?: 'directory'): Promise<string> {
  const topics = logTopics(SID);
  const kafka = kafkaClient(info.kafka, 'reader', { clientId: 'cp-test-reader' });
  const real = (await readCheckpoints(kafka, topics, SID, 'pitr-cp-test')).filter((c) => c.manifest.tables.some((t) => t.database === db && t.table === table)).at(-1)!;
  const entry = real.manifest.tables.find((t) => t.database === db && t.table === table)!;
  const { views } = await readCheckpointRows(kafka, topics, SID, 'pitr-cp-test', real.manifest.checkpointId, entry);
  const id = randomUUID();
  const rec = decodeRecord(views[0]!.buf, 'forge', SID);
  rec.snapshotRows!.snapshotId = id;
  rec.snapshotRows!.rows[0]!.values[1] = { text: 'forged' };
  const value = encodeRecord(rec);
  const a = await appender();
  try {
    const [offset] = await a.appendAtomically([{ topic: topics.checkpoints, partition: 0, key: `${db}.${table}`, value }]);
    const d = digestViews([viewRowRecord(value, 'forge', SID)!]);
    expect(d.digest.equals(Buffer.from(entry.digest))).toBe(false);
    const claimed = matchForged ? { rows: d.rows, digest: d.digest } : {};
    // A careful forger also writes the directory of the manifests before its own, as the checkpointer does.
    const truth = [...directoryAfter((await readCheckpoints(kafka, topics, SID, 'pitr-cp-test')).at(-1)!).values()];
    const directory = (lie ? truth.slice(1) : truth).map((d) => ({ ...d, offset: d.offset.toString() }));
    const manifest = { ...real.manifest, checkpointId: id, directory, tables: [{ ...entry, ...claimed, firstOffset: offset!.toString(), lastOffset: offset!.toString(), records: 1 }] };
    await a.appendAtomically([{ topic: topics.checkpoints, partition: 0, key: MANIFEST_KEY, value: encodeRecord({ version: RECORD_VERSION, sourceId: SID, checkpointManifest: manifest }) }]);
  } finally {
    await a.disconnect();
  }
  return id;
}

beforeAll(async () => {
  info = await stack();
  await provisionLog({ kafka: info.kafka, sourceId: SID, partitions: 3 });
  src = await connect(info.source);
  await src.query(`CREATE DATABASE ${DB}`);
  await src.query(`CREATE TABLE ${DB}.k (id INT PRIMARY KEY, v VARCHAR(40))`);
  await src.query(`CREATE TABLE ${DB}.nk (a INT, b VARCHAR(10))`);
  await src.query(`CREATE TABLE ${DB}.alt (id INT PRIMARY KEY, v INT)`);
  await src.query(`CREATE DATABASE ${DB2}`);
  await src.query(`CREATE TABLE ${DB2}.r (id INT PRIMARY KEY, v VARCHAR(40))`);
  await src.query(`INSERT INTO ${DB2}.r VALUES (1,'a'),(2,'b'),(3,'c')`);
  await src.query(`INSERT INTO ${DB}.k VALUES (1,'a'),(2,'b'),(3,'c'); INSERT INTO ${DB}.nk VALUES (1,'x'),(1,'x'),(2,'y'); INSERT INTO ${DB}.alt VALUES (1,1)`);
  await capture();
}, 120_000);

afterAll(async () => {
  await src?.query(`DROP DATABASE IF EXISTS ${DB}`).catch(() => undefined);
  await src?.query(`DROP DATABASE IF EXISTS ${DB2}`).catch(() => undefined);
  const tgt = await connect(info.target).catch(() => undefined);
  for (const d of ['rc', 'rn', 'rf']) await tgt?.query(`DROP DATABASE IF EXISTS ${DB2}_${d}`).catch(() => undefined);
  await tgt?.end();
  await src?.end();
});

describe('checkpoints', () => {
  it('folds images from the snapshot, then from checkpoints and CREATE/TRUNCATE, and verify re-derives them', async () => {
    await src.query(`UPDATE ${DB}.k SET v='z' WHERE id=2; DELETE FROM ${DB}.k WHERE id=3; INSERT INTO ${DB}.k VALUES (4,'d'); DELETE FROM ${DB}.nk WHERE a=1 LIMIT 1; INSERT INTO ${DB}.nk VALUES (3,'w'); UPDATE ${DB}.alt SET v=2`);
    await capture();
    const first = await checkpoint();
    expect(first.checkpointId).toBeDefined();
    expect(Object.fromEntries(first.tables.map((t) => [t.table, t.rows]))).toEqual({ k: 3, nk: 3, alt: 1 });

    await src.query(`UPDATE ${DB}.k SET v='q' WHERE id=1; TRUNCATE ${DB}.nk; INSERT INTO ${DB}.nk VALUES (9,'n'),(9,'n'); ALTER TABLE ${DB}.alt ADD COLUMN w INT; UPDATE ${DB}.alt SET v=3`);
    await capture();
    const second = await checkpoint();
    const byTable = Object.fromEntries(second.tables.map((t) => [t.table, t]));
    expect(byTable.k!.base).toBe(`checkpoint ${first.checkpointId}`);
    expect(byTable.k!.rows).toBe(3);
    expect(byTable.nk!.base).toBe('ddl');
    expect(byTable.nk!.rows).toBe(2);
    // ALTER since its base: left out (a fold without a server cannot reshape rows), and said so.
    expect(second.skipped.map((s) => s.table)).toContain('alt');

    const { code, res } = await verify();
    expect(res.findings).toEqual([]);
    expect(code).toBe(0);
    expect(res.checkpoints.map((c) => c.verifiedTables.length)).toEqual([3, 2]);
  }, 120_000);

  it('ignores rows a killed checkpointer wrote without a manifest', async () => {
    const a = await appender();
    try {
      await a.appendAtomically([
        {
          topic: logTopics(SID).checkpoints,
          partition: 0,
          key: `${DB}.k`,
          value: encodeRowsRecord(SID, { snapshotId: randomUUID(), database: DB, table: 'k', columns: ['id', 'v'], rows: [], position: { fileSeq: 1, endPos: 4 } }),
        },
      ]);
    } finally {
      await a.disconnect();
    }
    const { code, res } = await verify();
    expect(res.findings).toEqual([]);
    expect(code).toBe(0);
    expect(res.checkpoints).toHaveLength(2);
    // The next checkpoint builds on the last one with a manifest.
    await src.query(`INSERT INTO ${DB}.k VALUES (5,'e')`);
    await capture();
    const next = await checkpoint();
    expect(next.tables.find((t) => t.table === 'k')!.rows).toBe(4);
  }, 120_000);

  it('names a forged checkpoint (valid records, wrong rows, chain extended by the checkpointer itself)', async () => {
    // A copy of the real rows with one row changed, and a manifest whose digest matches the forged rows.
    const id = await forgeCheckpoint(DB, 'k', true);
    const { code, res } = await verify();
    expect(code).toBe(1);
    const found = res.findings.filter((f) => f.kind === 'checkpoint');
    expect(found).toHaveLength(1);
    expect(found[0]!.message).toContain(`checkpoint ${id}`);
    expect(found[0]!.message).toContain(`${DB}.k`);
    expect(found[0]!.message).toMatch(/does not re-derive/);
    // Only the forgery: the chains themselves are intact (the forger held the checkpointer's rights).
    expect(res.findings.filter((f) => f.kind !== 'checkpoint')).toEqual([]);
  }, 120_000);

  it('restores from a checkpoint exactly as from the snapshot, and refuses a forged one', async () => {
    await src.query(`UPDATE ${DB2}.r SET v='z' WHERE id=2; DELETE FROM ${DB2}.r WHERE id=3; INSERT INTO ${DB2}.r VALUES (4,'d')`);
    await capture();
    const cp = await checkpoint();
    expect(cp.tables.map((t) => t.table)).toContain('r');
    await src.query(`UPDATE ${DB2}.r SET v='y' WHERE id=1; INSERT INTO ${DB2}.r VALUES (5,'e')`);
    await capture();
    const oracle = (await dumpTable(src, DB2, 'r'))!;
    const [[g]] = (await src.query('SELECT @@gtid_binlog_pos AS pos')) as unknown as [{ pos: string }[]];
    const lastGtid = g!.pos.split(',').find((x) => x.startsWith('0-'))!;
    const tgt = await connect(info.target);
    const restore = (into: string, extra: string[] = []) =>
      pitr(['restore', '--table', `${DB2}.r`, '--through-gtid', lastGtid, '--into-database', `${DB2}_${into}`, '--source-id', SID, ...extra], { PITR_LOG_LEVEL: 'info' });
    try {
      const withCp = await restore('rc');
      expect(withCp.code, withCp.stderr).toBe(0);
      expect(withCp.stderr).toContain('restoring from a checkpoint');
      const without = await restore('rn', ['--no-checkpoint']);
      expect(without.code, without.stderr).toBe(0);
      expect(without.stderr).not.toContain('restoring from a checkpoint');
      expect((await dumpTable(tgt, `${DB2}_rc`, 'r'))!.rows).toEqual(oracle.rows);
      expect((await dumpTable(tgt, `${DB2}_rn`, 'r'))!.rows).toEqual(oracle.rows);
      const [[a]] = (await tgt.query(`CHECKSUM TABLE ${DB2}_rc.r`)) as unknown as [{ Checksum: string }[]];
      const [[b]] = (await tgt.query(`CHECKSUM TABLE ${DB2}_rn.r`)) as unknown as [{ Checksum: string }[]];
      expect(a!.Checksum).toBe(b!.Checksum);

      // Forge the newest checkpoint of r: one row changed; its manifest claims the real rows' digest, which
      // restore checks over the rows it loads.
      const id = await forgeCheckpoint(DB2, 'r', false);
      const refused = await restore('rf');
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain(`checkpoint ${id} of ${DB2}.r failed its checks`);
      expect(refused.stderr).toContain('--no-checkpoint');
      const v = await verify();
      expect(v.code).toBe(1);
      expect(v.res.findings.some((f) => f.kind === 'checkpoint' && f.message.includes(`checkpoint ${id}`) && f.message.includes(`${DB2}.r`))).toBe(true);
      const exact = await restore('rf', ['--no-checkpoint']);
      expect(exact.code, exact.stderr).toBe(0);
      expect((await dumpTable(tgt, `${DB2}_rf`, 'r'))!.rows).toEqual(oracle.rows);

      // A manifest whose directory of earlier checkpoints leaves one out (readers would miss that checkpoint).
      const liar = await forgeCheckpoint(DB2, 'r', true, 'directory');
      const lied = await verify();
      expect(lied.res.findings.some((f) => f.message.includes(`checkpoint ${liar}: its directory of earlier checkpoints is wrong`))).toBe(true);
    } finally {
      await tgt.end();
    }
  }, 180_000);

  it('restores from the newest meta image, refuses an altered one, and verify names a forged one', async () => {
    await src.query(`INSERT INTO ${DB2}.r VALUES (6,'f')`);
    await capture();
    const cp = await checkpoint();
    expect(cp.checkpointId).toBeDefined();
    const oracle = (await dumpTable(src, DB2, 'r'))!;
    const tgt = await connect(info.target);
    const [[g]] = (await src.query('SELECT @@gtid_binlog_pos AS pos')) as unknown as [{ pos: string }[]];
    const lastGtid = g!.pos.split(',').find((x) => x.startsWith('0-'))!;
    const restore = (into: string, extra: string[] = []) =>
      pitr(['restore', '--table', `${DB2}.r`, '--through-gtid', lastGtid, '--into-database', `${DB2}_${into}`, '--source-id', SID, ...extra], { PITR_LOG_LEVEL: 'debug', PITR_LOG_FORMAT: 'json' });
    try {
      const imaged = await restore('mi');
      expect(imaged.code, imaged.stderr).toBe(0);
      expect(imaged.stderr).toContain(`"checkpoint":"${cp.checkpointId}"`);
      expect(imaged.stderr).toContain('meta read from a checkpoint image');
      expect((await dumpTable(tgt, `${DB2}_mi`, 'r'))!.rows).toEqual(oracle.rows);

      // Altered after the checkpointer wrote it: the manifest's digest no longer matches the image.
      const altered = await forgeMetaImage(false);
      const refused = await restore('ma');
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain(`checkpoint ${altered} failed its checks (its meta image does not match the digest its manifest gives)`);
      const exact = await restore('ma', ['--no-checkpoint']);
      expect(exact.code, exact.stderr).toBe(0);
      expect(exact.stderr).not.toContain('meta read from a checkpoint image');
      expect((await dumpTable(tgt, `${DB2}_ma`, 'r'))!.rows).toEqual(oracle.rows);

      // Forged with a matching digest (the forger held the checkpointer's rights): verify re-derives the image.
      const forged = await forgeMetaImage(true);
      const v = await verify();
      expect(v.code).toBe(1);
      const about = (id: string) => v.res.findings.filter((f) => f.kind === 'checkpoint' && f.message.includes(`checkpoint ${id}`));
      expect(about(altered).map((f) => f.message).join('\n')).toMatch(/meta image does not match the digest/);
      expect(about(forged).map((f) => f.message).join('\n')).toMatch(/meta image does not re-derive from the meta topic/);
    } finally {
      for (const d of ['mi', 'ma']) await tgt.query(`DROP DATABASE IF EXISTS ${DB2}_${d}`).catch(() => undefined);
      await tgt.end();
    }
  }, 180_000);
});

/**
 * Appends, with the checkpointer's credentials, a manifest (no tables) whose meta image is the newest one with
 * the last transaction's commit time moved; its digest is the forged image's (`matchForged`) or the real one's.
 */
async function forgeMetaImage(matchForged: boolean): Promise<string> {
  const topics = logTopics(SID);
  const kafka = kafkaClient(info.kafka, 'reader', { clientId: 'cp-test-reader' });
  const all = await readCheckpoints(kafka, topics, SID, 'pitr-cp-test');
  // The newest the checkpointer wrote (forged manifests here hold no tables).
  const real = all.filter((c) => c.manifest.hasMetaImage && c.manifest.tables.length).at(-1)!;
  const image = real.manifest.metaImage!;
  const { records, problem } = await readMetaImage(kafka, topics, SID, image);
  expect(problem).toBeUndefined();
  const decoded = records.map((r) => decodeRecord(r, 'forge', SID));
  const last = decoded.findLast((r) => r.txnIndex?.commitTime.length)!.txnIndex!;
  last.commitTime[last.commitTime.length - 1] = last.commitTime.at(-1)! + 3600;
  const forged = decoded.map((r) => encodeRecord(r));
  const id = randomUUID();
  const imageId = randomUUID();
  const a = await appender();
  try {
    const [offset] = await a.appendAtomically([{ topic: topics.checkpoints, partition: 0, key: META_IMAGE_KEY, value: encodeRecord({ version: RECORD_VERSION, sourceId: SID, metaImagePart: { imageId, part: 0, records: forged } }) }]);
    const directory = [...directoryAfter(all.at(-1)!).values()].map((d) => ({ ...d, offset: d.offset.toString() }));
    const metaImage = { ...image, imageId, firstOffset: offset!.toString(), lastOffset: offset!.toString(), parts: 1, records: forged.length, digest: matchForged ? imageDigest(forged) : image.digest };
    const manifest = { ...real.manifest, checkpointId: id, directory, tables: [], metaImage };
    await a.appendAtomically([{ topic: topics.checkpoints, partition: 0, key: MANIFEST_KEY, value: encodeRecord({ version: RECORD_VERSION, sourceId: SID, checkpointManifest: manifest }) }]);
  } finally {
    await a.disconnect();
  }
  return id;
}
