// Capture's --tables filter and names that need quoting, against the real stack: a narrower filter
// is refused unless --narrow, which ends the left-out tables' coverage in the log (restore past it
// refuses, status says so, a wider filter snapshots them again); rules that match nothing are
// refused, globs match; names holding a dot or backtick restore with MySQL quoting, and tables whose
// Kafka keys collide stay apart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type mysql from 'mysql2/promise';
import { connect, iso, nextSecond, pitr, stack } from './helpers.js';
import { provisionLog } from '../../src/log/provision.js';

const RUN = Date.now().toString(36);
let src: mysql.Connection;
let dst: mysql.Connection;

beforeAll(async () => {
  const info = await stack();
  src = await connect(info.source);
  dst = await connect(info.target);
}, 300_000);

afterAll(async () => {
  await src?.end();
  await dst?.end();
});

async function provisioned(name: string): Promise<string> {
  const sourceId = `${name}${RUN}`;
  await provisionLog({ kafka: (await stack()).kafka, sourceId });
  return sourceId;
}

async function ids(db: string, table: string): Promise<number[]> {
  const q = (s: string) => '`' + s.replace(/`/g, '``') + '`';
  const [rows] = await dst.query(`SELECT id FROM ${q(db)}.${q(table)} ORDER BY id`);
  return (rows as { id: number }[]).map((r) => Number(r.id));
}

describe('narrowing --tables', () => {
  it('is refused without --narrow; with it, restore and status end the left-out table there', async () => {
    const sid = await provisioned('narrow');
    const db = `narrow_${RUN}`;
    await src.query(`CREATE DATABASE ${db}; CREATE TABLE ${db}.a (id INT PRIMARY KEY); CREATE TABLE ${db}.b (id INT PRIMARY KEY);
      INSERT INTO ${db}.a VALUES (1); INSERT INTO ${db}.b VALUES (1);`);
    const all = await pitr(['capture', '--source-id', sid, '--tables', `${db}.*`, '--until-caught-up']);
    expect(all.code, all.stderr).toBe(0);
    await src.query(`INSERT INTO ${db}.b VALUES (2)`);
    const covered = await nextSecond();
    await nextSecond();
    // The log covers b up to its resume point: catch up before narrowing.
    expect((await pitr(['capture', '--source-id', sid, '--tables', `${db}.*`, '--until-caught-up'])).code).toBe(0);

    const refused = await pitr(['capture', '--source-id', sid, '--tables', `${db}.a`, '--until-caught-up']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(new RegExp(`leaves out 1 table\\(s\\) the log has captured so far \\(${db}\\.b;.*pass --narrow`));

    const narrowed = await pitr(['capture', '--source-id', sid, '--tables', `${db}.a`, '--narrow', '--until-caught-up']);
    expect(narrowed.code, narrowed.stderr).toBe(0);
    expect(narrowed.stdout).toMatch(new RegExp(`no longer capturing ${db}\\.b: the log covers them up to `));
    // Changes after the narrowing: b's are not in the log, a's are.
    await src.query(`INSERT INTO ${db}.b VALUES (3); INSERT INTO ${db}.a VALUES (3)`);
    const later = await nextSecond();
    await nextSecond();
    const more = await pitr(['capture', '--source-id', sid, '--tables', `${db}.a`, '--until-caught-up']);
    expect(more.code, more.stderr).toBe(0);

    const missing = await pitr(['restore', '--source-id', sid, '--table', `${db}.b`, '--as-of', iso(later), '--into-database', `${db}_late`]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(new RegExp(`pitr: ${db}\\.b was not captured after \\S+Z`));
    const whole = await pitr(['restore', '--source-id', sid, '--database', db, '--as-of', iso(later), '--into-database', `${db}_whole`]);
    expect(whole.code).not.toBe(0);
    expect(whole.stderr).toMatch(/was not captured after/);
    const diff = await pitr(['diff', `${db}.b`, '--source-id', sid, '--from', iso(covered), '--to', iso(later)]);
    expect(diff.code).not.toBe(0);
    expect(diff.stderr).toMatch(/was not captured after/);
    const [none] = await dst.query('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN (?, ?)', [`${db}_late`, `${db}_whole`]);
    expect(none).toEqual([]);
    const early = await pitr(['restore', '--source-id', sid, '--table', `${db}.b`, '--as-of', iso(covered), '--into-database', `${db}_early`]);
    expect(early.code, early.stderr).toBe(0);
    expect(await ids(`${db}_early`, 'b')).toEqual([1, 2]);
    const a = await pitr(['restore', '--source-id', sid, '--table', `${db}.a`, '--as-of', iso(later), '--into-database', `${db}_a`]);
    expect(a.code, a.stderr).toBe(0);
    expect(await ids(`${db}_a`, 'a')).toEqual([1, 3]);

    const status = JSON.parse((await pitr(['status', '--source-id', sid, '--json'])).stdout);
    expect(status.healthy).toBe(false);
    expect(status.problems.join(' ')).toMatch(new RegExp(`no longer captured \\(capture --narrow\\): ${db}\\.b after`));
    const bWin = status.tables.find((t: { table: string }) => t.table === `${db}.b`);
    expect(bWin.windows.at(-1).toEvent).toBe('not captured');

    // Widening again snapshots b alone and says so; b restores whole after that.
    const widened = await pitr(['capture', '--source-id', sid, '--tables', `${db}.*`, '--until-caught-up']);
    expect(widened.code, widened.stderr).toBe(0);
    expect(widened.stdout).toMatch(new RegExp(`snapshotted only the tables the wider --tables adds: ${db}\\.b\\n`));
    const after = await nextSecond();
    await nextSecond();
    expect((await pitr(['capture', '--source-id', sid, '--tables', `${db}.*`, '--until-caught-up'])).code).toBe(0);
    const back = await pitr(['restore', '--source-id', sid, '--table', `${db}.b`, '--as-of', iso(after), '--into-database', `${db}_back`]);
    expect(back.code, back.stderr).toBe(0);
    expect(await ids(`${db}_back`, 'b')).toEqual([1, 2, 3]);
  });
});

describe('--tables rules', () => {
  it('refuses a rule that matches nothing, names the closest databases, and accepts globs and +future rules', async () => {
    const sid = await provisioned('rules');
    const db = `globshop_${RUN}`;
    await src.query(`CREATE DATABASE ${db}; CREATE TABLE ${db}.orders (id INT PRIMARY KEY); CREATE TABLE ${db}.order_items (id INT PRIMARY KEY);
      CREATE TABLE ${db}.notes (id INT PRIMARY KEY); INSERT INTO ${db}.orders VALUES (1), (2); INSERT INTO ${db}.order_items VALUES (1); INSERT INTO ${db}.notes VALUES (1);`);
    const typo = await pitr(['capture', '--source-id', sid, '--tables', `globshp_${RUN}.*`, '--until-caught-up']);
    expect(typo.code).not.toBe(0);
    expect(typo.stderr).toMatch(new RegExp(`matches no table on the source \\(closest databases: ${db}`));
    const badTable = await pitr(['capture', '--source-id', sid, '--tables', `${db}.ordrs`, '--until-caught-up']);
    expect(badTable.code).not.toBe(0);
    expect(badTable.stderr).toMatch(new RegExp(`closest tables there: ${db}\\.orders`));
    const globs = await pitr(['capture', '--source-id', sid, '--tables', `globshop_${RUN.slice(0, -1)}?.order*,+later_${RUN}.*`, '--until-caught-up', '--json']);
    expect(globs.code, globs.stderr).toBe(0);
    expect(JSON.parse(globs.stdout.trim().split('\n').pop()!).snapshotRows).toBe(3);
  });
});

describe('names that need quoting', () => {
  it('captures, lists and restores `d.ot`.t3, tick`db and db.`we``ird`; colliding keys stay apart', async () => {
    const sid = await provisioned('quoted');
    const dot = `d.ot_${RUN}`;
    const tick = `tick\`db_${RUN}`;
    const plain = `plainq_${RUN}`;
    const q = (s: string) => '`' + s.replace(/`/g, '``') + '`';
    // `c.a`.t and c.`a.t` share the Kafka key "c.a.t".
    const coll = `coll_${RUN}`;
    await src.query(`CREATE DATABASE ${q(dot)}; CREATE TABLE ${q(dot)}.t3 (id INT PRIMARY KEY); INSERT INTO ${q(dot)}.t3 VALUES (1), (2);
      CREATE DATABASE ${q(tick)}; CREATE TABLE ${q(tick)}.t (id INT PRIMARY KEY); INSERT INTO ${q(tick)}.t VALUES (7);
      CREATE DATABASE ${plain}; CREATE TABLE ${plain}.${q('we`ird')} (id INT PRIMARY KEY); INSERT INTO ${plain}.${q('we`ird')} VALUES (5);
      CREATE DATABASE ${q(coll + '.a')}; CREATE TABLE ${q(coll + '.a')}.t (id INT PRIMARY KEY); INSERT INTO ${q(coll + '.a')}.t VALUES (10), (11);
      CREATE DATABASE ${coll}; CREATE TABLE ${coll}.${q('a.t')} (id INT PRIMARY KEY); INSERT INTO ${coll}.${q('a.t')} VALUES (20);`);
    const tables = [`${q(dot)}.*`, `${q(tick)}.*`, `${plain}.*`, `${q(coll + '.a')}.t`, `${coll}.${q('a.t')}`].join(',');
    const cap = await pitr(['capture', '--source-id', sid, '--tables', tables, '--until-caught-up']);
    expect(cap.code, cap.stderr).toBe(0);
    await src.query(`INSERT INTO ${q(dot)}.t3 VALUES (3); INSERT INTO ${q(coll + '.a')}.t VALUES (12); INSERT INTO ${coll}.${q('a.t')} VALUES (21)`);
    const t = await nextSecond();
    await nextSecond();
    expect((await pitr(['capture', '--source-id', sid, '--tables', tables, '--until-caught-up'])).code).toBe(0);

    // status prints names quoted, and what it prints restores as it is.
    const status = JSON.parse((await pitr(['status', '--source-id', sid, '--json'])).stdout);
    const listed = status.tables.map((x: { table: string }) => x.table);
    expect(listed).toEqual(expect.arrayContaining([`${q(dot)}.t3`, `${q(tick)}.t`, `${plain}.${q('we`ird')}`, `${q(coll + '.a')}.t`, `${coll}.${q('a.t')}`]));

    const into = `quoted_r_${RUN}`;
    const r1 = await pitr(['restore', '--source-id', sid, '--table', `${q(dot)}.t3`, '--as-of', iso(t), '--into-database', into]);
    expect(r1.code, r1.stderr).toBe(0);
    expect(await ids(into, 't3')).toEqual([1, 2, 3]);
    const r2 = await pitr(['restore', '--source-id', sid, '--database', q(tick), '--as-of', iso(t)]);
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.stdout).toContain(`${q(tick)}.t (1)`);
    expect(await ids(tick, 't')).toEqual([7]);
    const r3 = await pitr(['restore', '--source-id', sid, '--table', `${plain}.${q('we`ird')}`, '--as-of', iso(t), '--into-database', into]);
    expect(r3.code, r3.stderr).toBe(0);
    expect(await ids(into, 'we`ird')).toEqual([5]);
    const r4 = await pitr(['restore', '--source-id', sid, '--table', `${q(coll + '.a')}.t`, '--as-of', iso(t), '--into-database', `${into}_c1`]);
    expect(r4.code, r4.stderr).toBe(0);
    expect(await ids(`${into}_c1`, 't')).toEqual([10, 11, 12]);
    const r5 = await pitr(['restore', '--source-id', sid, '--table', `${coll}.${q('a.t')}`, '--as-of', iso(t), '--into-database', `${into}_c2`]);
    expect(r5.code, r5.stderr).toBe(0);
    expect(await ids(`${into}_c2`, 'a.t')).toEqual([20, 21]);

    const ambiguous = await pitr(['restore', '--source-id', sid, '--table', `${dot}.t3`, '--as-of', iso(t)]);
    expect(ambiguous.code).not.toBe(0);
    expect(ambiguous.stderr).toMatch(/more than one dot.*`d\.ot_\w+`\.t3/);
  });
});
