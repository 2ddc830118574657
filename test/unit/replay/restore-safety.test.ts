import { describe, expect, it } from 'vitest';
import { isSystemSchema, recordedSourceIdentities, refuseSystemSchema, targetIsSource } from '../../../src/replay/target-guard.js';
import { hideScratchNames, scratchByTag, scratchTag } from '../../../src/replay/scratch-schemas.js';
import { schemaScope } from '../../../src/replay/schema-scope.js';
import { describeCut, formatCutReport } from '../../../src/replay/cut-report.js';
import { planCut } from '../../../src/replay/cut-planner.js';
import { MetaState, type DdlEntry } from '../../../src/log/meta-state.js';
import { UsageError } from '../../../src/core/errors.js';
import { BASE, snapshotBegin, snapshotEnd, txnIndex } from '../log/meta-fixtures.js';

describe('target guard', () => {
  it('knows the system schemas in any case', () => {
    for (const s of ['mysql', 'MYSQL', 'Performance_Schema', 'sys', 'information_schema']) expect(isSystemSchema(s)).toBe(true);
    expect(isSystemSchema('mysql_restore')).toBe(false);
    expect(() => refuseSystemSchema('Sys', '--into-database Sys')).toThrow(UsageError);
  });

  it('recognises the source by the live server or the identity the log recorded', () => {
    const target = { serverId: 1, host: 'vm', port: 3306 };
    expect(targetIsSource(target, [], { serverId: 1, host: 'vm', port: 3306 })).toBe(true);
    expect(targetIsSource(target, [{ serverId: 1, host: 'vm', port: 3306 }], undefined)).toBe(true);
    expect(targetIsSource(target, [{ serverId: 2, host: 'vm', port: 3307 }], { serverId: 2, host: 'vm', port: 3307 })).toBe(false);
    // An old log (server_id only): decisive only without a live source to ask.
    expect(targetIsSource(target, [{ serverId: 1 }], undefined)).toBe(true);
    expect(targetIsSource(target, [{ serverId: 1 }], { serverId: 1, host: 'db1', port: 3306 })).toBe(false);
  });

  it('collects every recorded source identity (after a failover there are several)', () => {
    const m = new MetaState();
    const b1 = snapshotBegin('s1', 1, 500, BASE);
    b1.snapshotBegin!.sourceServer = 'server_id=1';
    m.add(b1);
    const t = txnIndex([{ file: 1, pos: 600, time: BASE + 1, seq: 2 }], { file: 1, pos: 600, time: BASE + 1 });
    t.txnIndex!.sourceServer = 'server_id=2 host=db2:3306';
    m.add(t);
    expect(recordedSourceIdentities(m)).toEqual([{ serverId: 2, host: 'db2', port: 3306 }, { serverId: 1 }]);
  });
});

describe('scratch schema names', () => {
  it('reads the owning tag and groups by it', () => {
    expect(scratchTag('pitr_tmp_1a2b3c4d')).toBe('1a2b3c4d');
    expect(scratchTag('pitr_tmp_1a2b3c4d_12')).toBe('1a2b3c4d');
    expect(scratchTag('pitr_tmp_notatag_1')).toBeNull();
    expect(scratchTag('shop')).toBeNull();
    expect(scratchByTag(['pitr_tmp_aaaaaa_0', 'shop', 'pitr_tmp_bbbbbbbb', 'pitr_tmp_aaaaaa_1'])).toEqual(
      new Map([['aaaaaa', ['pitr_tmp_aaaaaa_0', 'pitr_tmp_aaaaaa_1']], ['bbbbbbbb', ['pitr_tmp_bbbbbbbb']]]),
    );
  });

  it('speaks of the source databases in messages, never of scratch schemas', () => {
    const names = new Map([['pitr_tmp_1a2b3c4d_0', 'shop']]);
    expect(hideScratchNames("Table 'pitr_tmp_1a2b3c4d_0.t' doesn't exist", names)).toBe("Table 'shop.t' doesn't exist");
    expect(hideScratchNames('`pitr_tmp_1a2b3c4d_0`.`t` and pitr_tmp_ffffffff_3', names)).toBe('`shop`.`t` and a scratch schema');
  });
});

describe('schema scope', () => {
  const entry = (statement: string, defaultDatabase: string, n: number): DdlEntry => ({
    position: { fileSeq: 1, endPos: n },
    ddl: { statement, defaultDatabase, gtid: { domain: 0, serverId: 1, seq: n }, position: { fileSeq: 1, endPos: n }, commitTime: 0 },
  });

  it('keeps the databases of the restored tables and what their history refers to', () => {
    const scope = schemaScope({
      start: ['shop'],
      snapshotTables: [
        { database: 'shop', createSql: 'CREATE TABLE `orders` (`id` int, CONSTRAINT f FOREIGN KEY (`id`) REFERENCES `ref`.`c` (`id`))' },
        { database: 'ref', createSql: 'CREATE TABLE `c` (`id` int)' },
        { database: 'blog', createSql: 'CREATE TABLE `posts` (`id` int, FOREIGN KEY (`id`) REFERENCES `shop`.`orders` (`id`))' },
        { database: 'other', createSql: 'CREATE TABLE `x` (`id` int)' },
      ],
      createDatabases: ['CREATE DATABASE `shop`', 'CREATE DATABASE `ref`', 'CREATE DATABASE `blog`', 'CREATE DATABASE `other`'],
      ddl: [
        entry('ALTER TABLE other.x ADD y INT', 'other', 1),
        entry('CREATE TABLE shop.copy LIKE tpl.base', 'shop', 2),
        entry('CREATE TABLE base (id INT)', 'tpl', 0),
        entry('ALTER TABLE orders ADD z INT', 'shop', 3),
        entry('CREATE VIEW v AS SELECT 1', 'other', 4),
      ],
    });
    expect([...scope.databases].sort()).toEqual(['ref', 'shop', 'tpl']);
    expect(scope.ddl.map((d) => d.ddl.statement)).toEqual(['CREATE TABLE shop.copy LIKE tpl.base', 'CREATE TABLE base (id INT)', 'ALTER TABLE orders ADD z INT']);
    expect(scope.snapshotTables).toEqual([0, 1]);
    expect(scope.createDatabases).toEqual(['CREATE DATABASE `shop`', 'CREATE DATABASE `ref`']);
  });

  it('does not follow the default database of a statement whose tables are all qualified', () => {
    // A session that ran USE corpus earlier logs corpus as the default of everything it does later.
    const corpus = { start: ['shop'], snapshotTables: [{ database: 'corpus', createSql: 'CREATE TABLE `t1` (`a` time)' }], createDatabases: ['CREATE DATABASE `corpus`'] };
    const scope = schemaScope({
      ...corpus,
      ddl: [
        entry('CREATE TABLE t1 (a TIME)', 'corpus', 1),
        entry('CREATE TABLE shop.items (id INT PRIMARY KEY)', 'corpus', 2),
        entry('ALTER TABLE `shop`.items RENAME TO shop.goods', 'corpus', 3),
        entry('DROP TABLE t1', 'corpus', 4),
        entry('RENAME TABLE shop.goods TO products', 'corpus', 5),
      ],
    });
    // The last one names corpus.products (unqualified target): corpus is needed from there on.
    expect([...scope.databases].sort()).toEqual(['corpus', 'shop']);
    const narrow = schemaScope({ ...corpus, ddl: [entry('CREATE TABLE t1 (a TIME)', 'corpus', 1), entry('CREATE TABLE shop.items (id INT PRIMARY KEY)', 'corpus', 2), entry('DROP TABLE t1', 'corpus', 4)] });
    expect([...narrow.databases]).toEqual(['shop']);
    expect(narrow.ddl.map((d) => d.ddl.statement)).toEqual(['CREATE TABLE shop.items (id INT PRIMARY KEY)']);
    expect(narrow.snapshotTables).toEqual([]);
  });
});

describe('cut report', () => {
  // Snapshot at 1:500 (GTID position 0-1-1); transactions 0-1-2 at 1:600, 0-1-3 at 1:700.
  function meta(): MetaState {
    const m = new MetaState();
    m.add(snapshotBegin('s1', 1, 500, BASE));
    m.add(snapshotEnd('s1', 1, 500));
    m.add(txnIndex([
      { file: 1, pos: 600, time: BASE + 5, seq: 2 },
      { file: 1, pos: 700, time: BASE + 10, seq: 3 },
    ], { file: 1, pos: 700, time: BASE + 10 }));
    return m;
  }

  it('names the last included transaction and the first excluded one, not the exclusive cut position', () => {
    const m = meta();
    const { cut, snapshot } = planCut(m, { beforeGtid: { domain: 0, serverId: 1, seq: 3n } });
    expect(cut.at).toEqual({ fileSeq: 1, endPos: 700 });
    const r = describeCut(m, cut, snapshot, 'mariadb-bin');
    expect(r).toEqual({ included: { gtid: '0-1-2', position: 'mariadb-bin.000001:600' }, firstExcluded: { gtid: '0-1-3', position: 'mariadb-bin.000001:700' } });
    expect(formatCutReport(r)).toBe('includes up to GTID 0-1-2 (mariadb-bin.000001:600); first excluded GTID 0-1-3');
  });

  it('names the snapshot when nothing after it is included, and says when nothing is excluded', () => {
    const m = meta();
    const at = planCut(m, { asOf: BASE + 1 });
    expect(describeCut(m, at.cut, at.snapshot, 'mariadb-bin').included).toEqual({ gtid: '0-1-1', position: 'mariadb-bin.000001:500' });
    const end = planCut(m, { asOf: BASE + 10 });
    const r = describeCut(m, end.cut, end.snapshot, 'mariadb-bin');
    expect(r.included?.gtid).toBe('0-1-3');
    expect(r.firstExcluded).toBeNull();
    expect(formatCutReport(r)).toMatch(/; nothing later in the log$/);
  });
});
