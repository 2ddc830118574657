// The table index (issue 14 item 2): capture lists where each table's records sit on the changes
// topic, and a restore reads only those offsets. At cuts across bulk history, a staged transaction,
// RENAME, TRUNCATE and a partial snapshot (a widened filter), restores through the index and through
// whole partitions (--no-index) both equal the oracle dumped from the source at the cut, and a
// small table's restore (and its history) fetches a small part of what reading its whole partition fetches.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type mysql from 'mysql2/promise';
import { connect, dumpDatabase, dumpTable, pitr, stack, type TableDump } from './helpers.js';
import { provisionLog } from '../../src/log/provision.js';
import { partitionFor } from '../../src/log/partitioner.js';
import { tableKey } from '../../src/log/record-codec.js';

const RUN = Date.now().toString(36);
const DB = `ti_${RUN}`;
const LATE = `tix_${RUN}`;
const SOURCE_ID = `ti-${RUN}`;
const LOG = ['--source-id', SOURCE_ID];
// The bulk table shares the small table's partition (of two), so reading that partition whole
// fetches the bulk history too.
const BIG = ['big', 'big1', 'big2', 'big3', 'big4', 'big5'].find((t) => partitionFor(tableKey(DB, t), 2) === partitionFor(tableKey(DB, 's'), 2))!;

let src: mysql.Connection;
let dst: mysql.Connection;

interface Cut {
  gtid: string;
  db: Record<string, TableDump>;
  late: Record<string, TableDump>;
}
const cuts: Cut[] = [];

async function capture(filter: string, extra: string[] = []): Promise<void> {
  const r = await pitr(['capture', '--until-caught-up', ...LOG, '--tables', filter, ...extra]);
  expect(r.code, r.stderr).toBe(0);
}

/** Marks a cut: the last GTID, and the source's state there (nothing writes meanwhile). */
async function mark(): Promise<void> {
  const [g] = await src.query('SELECT @@last_gtid AS g');
  cuts.push({ gtid: String((g as { g: string }[])[0]!.g), db: await dumpDatabase(src, DB), late: await dumpDatabase(src, LATE) });
}

interface RestoreJson {
  tables: { into: string; rows: number }[];
  recordsRead: number;
  indexed: boolean;
}

async function restore(args: string[]): Promise<RestoreJson> {
  // A fresh target each time: --replace replaces the restored tables, not others left by an earlier cut.
  await dst.query(`DROP DATABASE IF EXISTS \`${args[args.indexOf('--into-database') + 1]}\``);
  const r = await pitr(['restore', ...LOG, ...args, '--replace', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as RestoreJson;
}

beforeAll(async () => {
  const info = await stack();
  src = await connect(info.source);
  dst = await connect(info.target);
  await src.query(`
    CREATE DATABASE ${DB};
    CREATE DATABASE ${LATE};
    CREATE TABLE ${DB}.s (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL);
    CREATE TABLE ${DB}.${BIG} (id INT PRIMARY KEY, pad CHAR(100) NOT NULL);
    CREATE TABLE ${DB}.k (x INT, y VARCHAR(10));
    CREATE TABLE ${DB}.r (id INT PRIMARY KEY, v INT);
    CREATE TABLE ${LATE}.late (id INT PRIMARY KEY, v VARCHAR(20));
    INSERT INTO ${DB}.s VALUES (1, 'one'), (2, 'two');
    INSERT INTO ${DB}.r SELECT seq, seq FROM ${DB}.seq_1_to_50;
    INSERT INTO ${LATE}.late SELECT seq, 'before' FROM ${DB}.seq_1_to_30;`);
  // Two partitions: the small table shares one with others' history.
  await provisionLog({ kafka: info.kafka, sourceId: SOURCE_ID, partitions: 2 });
  await capture(`${DB}.*`);

  // 1: bulk history of other tables, a few changes of the small one.
  await src.query(`
    INSERT INTO ${DB}.${BIG} SELECT seq, LPAD(seq, 100, 'b') FROM ${DB}.seq_1_to_30000;
    INSERT INTO ${DB}.s VALUES (3, 'three');
    INSERT INTO ${DB}.k SELECT seq % 5, 'k' FROM ${DB}.seq_1_to_500;
    UPDATE ${DB}.${BIG} SET pad = LPAD(id, 100, 'u') WHERE id % 2 = 0;
    UPDATE ${DB}.s SET v = 'TWO' WHERE id = 2;`);
  await capture(`${DB}.*`);
  await mark();

  // 2: one transaction large enough to be staged (chunks in Kafka transactions of their own).
  await src.query(`UPDATE ${DB}.${BIG} SET pad = LPAD(id, 100, 'x')`);
  await src.query(`UPDATE ${DB}.s SET v = 'uno' WHERE id = 1`);
  await capture(`${DB}.*`, ['--memory-cap', '16']);
  await mark();

  // 3: RENAME, TRUNCATE, and a widened filter (a partial snapshot of the other database).
  await src.query(`
    RENAME TABLE ${DB}.r TO ${DB}.r2;
    UPDATE ${DB}.r2 SET v = v * 10 WHERE id <= 10;
    TRUNCATE TABLE ${DB}.k;
    INSERT INTO ${DB}.k VALUES (9, 'after');
    DELETE FROM ${DB}.s WHERE id = 3;`);
  await capture(`${DB}.*`);
  await capture(`${DB}.*,${LATE}.*`);
  await src.query(`
    UPDATE ${LATE}.late SET v = 'after' WHERE id <= 10;
    DELETE FROM ${DB}.${BIG} WHERE id > 29000;
    INSERT INTO ${DB}.s VALUES (4, 'four');`);
  await capture(`${DB}.*,${LATE}.*`);
  await mark();
}, 300_000);

afterAll(async () => {
  for (const db of [DB, LATE]) await src?.query(`DROP DATABASE IF EXISTS ${db}`).catch(() => undefined);
  for (const db of [`${DB}_i`, `${DB}_w`, `${DB}_si`, `${DB}_sw`, `${LATE}_i`]) await dst?.query(`DROP DATABASE IF EXISTS ${db}`).catch(() => undefined);
  await src?.end();
  await dst?.end();
});

describe('table index', () => {
  it('restores each database through the index and through whole partitions exactly at every cut', async () => {
    for (const [i, c] of cuts.entries()) {
      const viaIndex = await restore(['--database', DB, '--through-gtid', c.gtid, '--into-database', `${DB}_i`]);
      expect(viaIndex.indexed, `cut ${i}`).toBe(true);
      const whole = await restore(['--database', DB, '--through-gtid', c.gtid, '--into-database', `${DB}_w`, '--no-index']);
      expect(whole.indexed).toBe(false);
      expect(await dumpDatabase(dst, `${DB}_i`), `cut ${i} via the index`).toEqual(c.db);
      expect(await dumpDatabase(dst, `${DB}_w`), `cut ${i} whole partitions`).toEqual(c.db);
    }
    const last = cuts.at(-1)!;
    const late = await restore(['--database', LATE, '--through-gtid', last.gtid, '--into-database', `${LATE}_i`]);
    expect(late.indexed).toBe(true);
    expect(await dumpDatabase(dst, `${LATE}_i`)).toEqual(last.late);
  });

  it("reads only a small table's own records, and the same rows as whole partitions", async () => {
    for (const [i, c] of cuts.entries()) {
      const viaIndex = await restore(['--table', `${DB}.s`, '--through-gtid', c.gtid, '--into-database', `${DB}_si`]);
      const whole = await restore(['--table', `${DB}.s`, '--through-gtid', c.gtid, '--into-database', `${DB}_sw`, '--no-index']);
      expect(await dumpTable(dst, `${DB}_si`, 's'), `cut ${i}`).toEqual(c.db.s);
      expect(await dumpTable(dst, `${DB}_sw`, 's'), `cut ${i}`).toEqual(c.db.s);
      expect(viaIndex.indexed).toBe(true);
      // Its partition holds the bulk history of the others (or their records sit between its own).
      expect(viaIndex.recordsRead, `cut ${i}: ${viaIndex.recordsRead} vs ${whole.recordsRead}`).toBeLessThan(whole.recordsRead / 4);
    }
  });

  it("gives history the same versions through the index, reading a small part of the partition", async () => {
    const run = async (extra: string[]) => {
      const r = await pitr(['history', `${DB}.s`, '--pk', '2', '--pk', '3', ...LOG, '--json', ...extra]);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { rows: unknown[]; cost: { messagesScanned: number; indexed: boolean } };
    };
    const viaIndex = await run([]);
    const whole = await run(['--no-index']);
    expect(viaIndex.cost.indexed).toBe(true);
    expect(whole.cost.indexed).toBe(false);
    expect(viaIndex.rows).toEqual(whole.rows);
    expect(viaIndex.cost.messagesScanned, `${viaIndex.cost.messagesScanned} vs ${whole.cost.messagesScanned}`).toBeLessThan(whole.cost.messagesScanned / 4);
  });
});
