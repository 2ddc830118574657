// One source transaction far larger than capture's memory cap: captured staged (chunk by chunk as it
// is decoded, committed by its TxnIndex entry) within the cap plus the runtime slack; restored
// exactly just before and just after it; a capture SIGKILLed in the middle of it leaves chunks that
// are never applied; and on a broker whose transaction.max.timeout.ms is tiny, a transaction that
// takes many Kafka transactions to write still lands whole.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type mysql from 'mysql2/promise';
import { connect, dumpTable, pitr, stack, type CliResult } from './helpers.js';
import { cleanupOwnStacks, killChildren, killHard, ownStack, startCli, waitForOutput } from './own-stack.js';
import { provisionLog } from '../../src/log/provision.js';
import { readMeta } from '../../src/log/meta-reader.js';
import { kafkaClient, kafkajsClient } from '../../src/log/kafka-log.js';
import { logTopics } from '../../src/log/topics.js';
import { RUNTIME_SLACK } from '../../src/capture/capture-loop.js';
import type { StackInfo } from '../../src/core/settings.js';

const ID = Date.now().toString(36);
const SOURCE = `bigtx${ID}`;
const DB = `bigtx_${ID}`;
const CAP_MB = 32;
const SLACK_MB = RUNTIME_SLACK / 1024 / 1024;
// ~530 bytes of row images per updated row (before + after): 700,000 rows make ~370 MB > 10x the cap.
const ROWS = 700_000;

let info: StackInfo;
/** The large UPDATE of the first test and the table before it, for guard's case. */
let bigUpdate: { gtid: string; before: { rows: number; sum: string } } | undefined;
let src: mysql.Connection;
let dst: mysql.Connection;

afterEach(killChildren);
afterAll(async () => {
  await src?.end();
  await dst?.end();
  await cleanupOwnStacks();
});

beforeAll(async () => {
  info = await stack();
  await provisionLog({ kafka: info.kafka, sourceId: SOURCE });
  src = await connect(info.source);
  dst = await connect(info.target);
  await src.query(`CREATE DATABASE ${DB};
    CREATE TABLE ${DB}.t (id INT PRIMARY KEY, a INT NOT NULL, pad VARCHAR(255) NOT NULL);
    INSERT INTO ${DB}.t SELECT seq, seq, REPEAT(CHAR(65 + seq % 26), 250) FROM ${DB}.seq_1_to_${ROWS};
    CREATE TABLE ${DB}.side (id INT PRIMARY KEY, v INT NOT NULL);
    INSERT INTO ${DB}.side SELECT seq, seq FROM ${DB}.seq_1_to_20;
    CREATE TABLE ${DB}.bag (a INT, b VARCHAR(255));`);
  const snap = await capture([]);
  expect(snap.code, snap.stderr).toBe(0);
}, 600_000);

function capture(extra: string[], env: Record<string, string> = {}, sourceId = SOURCE): Promise<CliResult> {
  return pitr(['capture', '--source-id', sourceId, '--tables', `${DB}.*`, '--until-caught-up', '--json', ...extra], env);
}

async function binlogPos(c: mysql.Connection): Promise<{ file: string; pos: number }> {
  const [r] = await c.query('SHOW MASTER STATUS');
  const row = (r as { File: string; Position: number }[])[0]!;
  return { file: row.File, pos: Number(row.Position) };
}

async function lastGtid(c: mysql.Connection): Promise<string> {
  const [r] = await c.query('SELECT @@last_gtid AS g');
  return (r as { g: string }[])[0]!.g;
}

async function checksum(c: mysql.Connection, table: string): Promise<{ rows: number; sum: string }> {
  const [n] = await c.query(`SELECT COUNT(*) AS n FROM ${table}`);
  const [s] = await c.query(`CHECKSUM TABLE ${table} EXTENDED`);
  return { rows: Number((n as { n: number }[])[0]!.n), sum: String((s as { Checksum: string }[])[0]!.Checksum) };
}

async function restoreTables(sourceId: string, tables: string[], cut: string[], into: string, env: Record<string, string> = {}): Promise<void> {
  const r = await pitr(['restore', '--source-id', sourceId, ...tables.flatMap((t) => ['--table', `${DB}.${t}`]), ...cut, '--into-database', into, '--replace', '--json'], env);
  expect(r.code, r.stderr).toBe(0);
}

async function metaOf(k: StackInfo, sourceId: string) {
  return readMeta(kafkaClient(k.kafka, 'reader'), logTopics(sourceId), sourceId);
}

describe('a source transaction larger than the memory cap', () => {
  it('is captured staged within the cap plus slack, and restores exactly just before and after it', async () => {
    const before = { t: await checksum(src, `${DB}.t`), side: await dumpTable(src, DB, 'side') };
    // A fresh binlog file, so the transaction's size is the difference of two positions in one file.
    await src.query('FLUSH BINARY LOGS');
    const p0 = await binlogPos(src);
    await src.query(`START TRANSACTION;
      UPDATE ${DB}.t SET a = a + 1, pad = CONCAT(SUBSTRING(pad, 2), 'z');
      UPDATE ${DB}.side SET v = -v;
      COMMIT;`);
    const gtid = await lastGtid(src);
    const p1 = await binlogPos(src);
    expect(p1.file, 'one binlog file holds the whole transaction').toBe(p0.file);
    const imageBytes = p1.pos - p0.pos;
    expect(imageBytes).toBeGreaterThan(10 * CAP_MB * 1024 * 1024);
    const after = { t: await checksum(src, `${DB}.t`), side: await dumpTable(src, DB, 'side') };
    bigUpdate = { gtid, before: before.t };

    const cap = await capture(['--memory-cap', String(CAP_MB)]);
    expect(cap.code, cap.stderr).toBe(0);
    const res = JSON.parse(cap.stdout.trim().split('\n').pop()!) as { transactions: number; rowChanges: number; peakRssMb: number };
    expect(res.transactions).toBe(1);
    expect(res.rowChanges).toBe(ROWS + 20);
    console.log(`capture of one ${Math.round(imageBytes / 1048576)} MB transaction: peak RSS ${res.peakRssMb} MB (cap ${CAP_MB} MB + slack ${SLACK_MB} MB)`);
    expect(res.peakRssMb).toBeLessThanOrEqual(CAP_MB + SLACK_MB);

    // The log holds it staged: its TxnIndex entry is the commit marker of its chunks.
    const meta = await metaOf(info, SOURCE);
    const staged = [...meta.staged.values()].filter((s) => `${s.gtid.domain}-${s.gtid.serverId}-${s.gtid.seq}` === gtid);
    expect(staged).toHaveLength(1);
    expect(staged[0]!.rowChanges).toBe(ROWS + 20);
    expect(staged[0]!.records).toBeGreaterThan(10);

    await restoreTables(SOURCE, ['t', 'side'], ['--before-gtid', gtid], `${DB}_before`);
    expect(await checksum(dst, `${DB}_before.t`)).toEqual(before.t);
    expect(await dumpTable(dst, `${DB}_before`, 'side')).toEqual(before.side);
    await restoreTables(SOURCE, ['t', 'side'], ['--through-gtid', gtid], `${DB}_after`);
    expect(await checksum(dst, `${DB}_after.t`)).toEqual(after.t);
    expect(await dumpTable(dst, `${DB}_after`, 'side')).toEqual(after.side);
  });

  it('makes guard report it as one incident and rebuild the table as it was just before', async () => {
    expect(bigUpdate, 'the first test ran').toBeDefined();
    const into = `${DB}_guard`;
    const g = await pitr(['guard', '--source-id', SOURCE, '--from-start', '--once', '--json', '--watch', `${DB}.t`, '--into-database', into]);
    expect(g.code, g.stderr).toBe(0);
    const reports = g.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { gtid: string; cause: string; into: string });
    const mine = reports.filter((r) => r.gtid === bigUpdate!.gtid);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.cause).toBe('UPDATE');
    expect(await checksum(dst, mine[0]!.into)).toEqual(bigUpdate!.before);
  });

  it('leaves nothing applied twice when capture is SIGKILLed in the middle of it', async () => {
    // Keyless rows: a chunk applied twice would show as duplicate rows.
    await src.query(`INSERT INTO ${DB}.bag SELECT seq % 1000, REPEAT('b', 200 + seq % 50) FROM ${DB}.seq_1_to_300000`);
    const gtid = await lastGtid(src);
    const oracle = await checksum(src, `${DB}.bag`);
    const topics = logTopics(SOURCE);
    const admin = kafkajsClient(info.kafka, 'reader').admin();
    await admin.connect();
    const offsets = async () => (await admin.fetchTopicOffsets(topics.changes)).reduce((n, p) => n + Number(p.high), 0);
    const offsetsBefore = await offsets();

    const cap = startCli(['capture', '--source-id', SOURCE, '--tables', `${DB}.*`, '--memory-cap', String(CAP_MB)]);
    await waitForOutput(cap.output, /writing it to the log in chunks/, 120_000);
    // Let a few chunks commit in Kafka transactions of their own, then kill it mid-transaction.
    const deadline = Date.now() + 60_000;
    while ((await offsets()) < offsetsBefore + 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await killHard(cap.child);
    const leftBehind = (await offsets()) - offsetsBefore;
    await admin.disconnect();
    expect(leftBehind, 'chunks of the killed attempt are in the log').toBeGreaterThan(0);
    expect((await metaOf(info, SOURCE)).findGtid(parseGtid(gtid)), 'the transaction is not committed in the log').toBe(-1);

    const again = await capture(['--memory-cap', String(CAP_MB)]);
    expect(again.code, again.stderr).toBe(0);
    await restoreTables(SOURCE, ['bag'], ['--through-gtid', gtid], `${DB}_bag`);
    expect(await checksum(dst, `${DB}_bag.bag`)).toEqual(oracle);
    const verify = await pitr(['verify', '--source-id', SOURCE, '--json']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    // Verify counts the killed attempt's chunks once, as records of the chain, and says they were never applied.
    const v = JSON.parse(verify.stdout) as { abandonedStaged: { attempts: number; records: number } };
    expect(v.abandonedStaged.attempts).toBeGreaterThanOrEqual(1);
    expect(v.abandonedStaged.records).toBeGreaterThan(0);
  });

  it('lands whole although writing it takes many Kafka transactions longer than the broker allows one', async () => {
    const TIMEOUT_MS = 2000;
    const s = await ownStack('bigtx-timeout', {
      kafkaConfig: { 'transaction.max.timeout.ms': String(TIMEOUT_MS), 'transaction.abort.timed.out.transaction.cleanup.interval.ms': '1000' },
    });
    const sid = 'main';
    const c = await connect(s.info.source);
    try {
      await c.query(`CREATE DATABASE ${DB};
        CREATE TABLE ${DB}.t (id INT PRIMARY KEY, a INT NOT NULL, pad VARCHAR(255) NOT NULL);
        INSERT INTO ${DB}.t SELECT seq, seq, REPEAT('p', 250) FROM ${DB}.seq_1_to_300000;`);
      const snap = await capture([], s.env, sid);
      expect(snap.code, snap.stderr).toBe(0);
      await c.query(`UPDATE ${DB}.t SET a = -a`);
      const gtid = await lastGtid(c);
      const oracle = await checksum(c, `${DB}.t`);
      const t0 = Date.now();
      const cap = await capture(['--memory-cap', String(CAP_MB)], s.env, sid);
      const seconds = (Date.now() - t0) / 1000;
      expect(cap.code, cap.stderr).toBe(0);
      console.log(`one 300,000-row transaction written in ${seconds.toFixed(1)} s on a broker allowing ${TIMEOUT_MS} ms per Kafka transaction`);
      expect(seconds * 1000).toBeGreaterThan(2 * TIMEOUT_MS);
      const meta = await metaOf(s.info, sid);
      expect([...meta.staged.values()].some((x) => x.rowChanges === 300_000)).toBe(true);
      const t = await connect(s.info.target);
      try {
        await restoreTables(sid, ['t'], ['--through-gtid', gtid], `${DB}_r`, s.env);
        expect(await checksum(t, `${DB}_r.t`)).toEqual(oracle);
      } finally {
        await t.end();
      }
    } finally {
      await c.end();
    }
  });
});

function parseGtid(g: string): { domain: number; serverId: number; seq: bigint } {
  const [d, s, n] = g.split('-');
  return { domain: Number(d), serverId: Number(s), seq: BigInt(n!) };
}
