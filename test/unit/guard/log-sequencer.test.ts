import { describe, expect, it } from 'vitest';
import { LogSequencer, type SequencedItem, type TxnUnit } from '../../../src/guard/log-sequencer.js';
import { examineTxn } from '../../../src/guard/incident-detector.js';
import { TableTracker } from '../../../src/guard/table-tracker.js';
import { ThresholdPolicy } from '../../../src/guard/thresholds.js';
import { Op, RECORD_VERSION, type ChangeBatchMsg, type RecordMsg } from '../../../src/log/record-types.js';

const idx = (seqs: number[]): RecordMsg => ({
  version: RECORD_VERSION,
  sourceId: 's',
  txnIndex: {
    fileSeq: seqs.map(() => 1), endPos: seqs.map((s) => s * 100), commitTime: seqs.map((s) => 1000 + s),
    domain: seqs.map(() => 0), serverId: seqs.map(() => 1), seq: seqs.map(String),
    binlogFile: 'mariadb-bin.000001', resume: { fileSeq: 1, endPos: seqs.at(-1)! * 100 }, gtidPos: '', time: 0,
  },
});
const ddl = (seq: number, statement: string, db = 'shop'): RecordMsg => ({
  version: RECORD_VERSION, sourceId: 's',
  ddl: { defaultDatabase: db, statement, gtid: { domain: 0, serverId: 1, seq }, position: { fileSeq: 1, endPos: seq * 100 }, commitTime: 1000 + seq },
});
const change = (seq: number, table: string, op: Op, n: number): ChangeBatchMsg => ({
  database: 'shop', table, columns: ['id'], gtid: { domain: 0, serverId: 1, seq }, position: { fileSeq: 1, endPos: seq * 100 }, commitTime: 1000 + seq,
  changes: Array.from({ length: n }, (_, i) => ({ op, index: i })),
});
const txns = (items: SequencedItem[]): TxnUnit[] => items.flatMap((i) => (i.kind === 'txn' ? [i.txn] : []));

describe('LogSequencer', () => {
  it('waits for every changes partition, then releases in commit order with chunks summed', () => {
    const s = new LogSequencer(new Map([[0, 0n], [1, 0n]]), 0n);
    s.addMeta(0n, idx([1, 2]));
    s.setEnds(new Map([[0, 3n], [1, 1n]]));
    expect(s.drain()).toEqual([]); // partition 0 not read yet
    s.addChange(0, 0n, change(1, 'a', Op.DELETE, 600));
    s.addChange(0, 1n, change(1, 'a', Op.DELETE, 500)); // same transaction, second chunk
    s.addChange(1, 0n, change(2, 'b', Op.UPDATE, 2));
    expect(s.drain()).toEqual([]); // partition 0 may still hold records of txn 2
    s.addChange(0, 1n, change(1, 'a', Op.DELETE, 500)); // a replay after a rebalance is ignored
    s.reachedTo(0, 3n); // commit marker read
    const out = txns(s.drain());
    expect(out.map((t) => Number(t.gtid.seq))).toEqual([1, 2]);
    expect(out[0]!.tables).toEqual([{ database: 'shop', table: 'a', inserts: 0, updates: 0, deletes: 1100 }]);
    expect(out[1]!.tables).toEqual([{ database: 'shop', table: 'b', inserts: 0, updates: 2, deletes: 0 }]);
    expect(s.idle).toBe(true);
  });

  it('counts the deletes and updates run with foreign_key_checks=0 apart', () => {
    const s = new LogSequencer(new Map([[0, 0n]]), 0n);
    s.addMeta(0n, idx([1]));
    s.setEnds(new Map([[0, 2n]]));
    const checked = change(1, 'a', Op.DELETE, 3);
    const unchecked = change(1, 'a', Op.DELETE, 2);
    for (const c of unchecked.changes) c.noFkChecks = true;
    const upd = change(1, 'a', Op.UPDATE, 4);
    upd.changes[0]!.noFkChecks = true;
    s.addChange(0, 0n, { ...checked, changes: [...checked.changes, ...unchecked.changes] });
    s.addChange(0, 1n, upd);
    const [t] = txns(s.drain());
    expect(t!.tables).toEqual([{ database: 'shop', table: 'a', inserts: 0, updates: 4, deletes: 5, uncheckedDeletes: 2, uncheckedUpdates: 1 }]);
  });

  it('releases once a later position shows on a partition, before its end is reached', () => {
    const s = new LogSequencer(new Map([[0, 0n]]), 0n);
    s.addMeta(0n, ddl(1, 'DROP TABLE t'));
    s.addMeta(1n, idx([1]));
    s.setEnds(new Map([[0, 100n]]));
    expect(s.drain()).toEqual([]);
    s.addChange(0, 0n, change(2, 'x', Op.INSERT, 1));
    const out = txns(s.drain());
    expect(out).toHaveLength(1);
    expect(out[0]!.ddl[0]!.statement).toBe('DROP TABLE t');
    expect(s.changesPosition().get(0)).toBe(0n); // txn 2's record is not released yet
  });
});

describe('examineTxn', () => {
  const policy = new ThresholdPolicy();
  const unit = (seq: number, ddlStmts: string[], tables: TxnUnit['tables'] = []): TxnUnit => ({
    gtid: { domain: 0, serverId: 1, seq: BigInt(seq) }, position: { fileSeq: 1, endPos: seq }, commitTime: 1000,
    ddl: ddlStmts.map((s) => ddl(seq, s).ddl!), tables, indexOffset: 0n,
  });

  it('judges against the table as it stood just before, then applies the transaction', () => {
    const t = new TableTracker();
    t.snapshotBegin([{ database: 'shop', table: 'o', createSql: 'CREATE TABLE `o` (`id` int NOT NULL, `v` varchar(10))' }]);
    t.snapshotEnd([{ database: 'shop', table: 'o', rows: 100 }]);
    expect(examineTxn(unit(1, [], [{ database: 'shop', table: 'o', inserts: 0, updates: 0, deletes: 5 }]), t, policy)).toEqual([]);
    expect(t.get({ database: 'shop', table: 'o' })!.rows).toBe(95);
    const [inc] = examineTxn(unit(2, [], [{ database: 'shop', table: 'o', inserts: 0, updates: 0, deletes: 60 }]), t, policy);
    expect(inc).toMatchObject({ cause: 'DELETE', rows: 60, detail: 'deleted 60 rows of 95 (63.2%): more than 50% of the table' });
    expect(examineTxn(unit(3, ['ALTER TABLE o MODIFY v VARCHAR(20)']), t, policy)).toEqual([]);
    expect(examineTxn(unit(4, ['ALTER TABLE o MODIFY v VARCHAR(5)']), t, policy)[0]).toMatchObject({ cause: 'ALTER TABLE', rows: 35 });
    expect(examineTxn(unit(5, ['RENAME TABLE o TO p']), t, policy)).toEqual([]);
    expect(examineTxn(unit(6, ['DROP TABLE IF EXISTS o']), t, policy)).toEqual([]);
    expect(examineTxn(unit(7, ['TRUNCATE p']), t, policy)[0]).toMatchObject({ cause: 'TRUNCATE', table: { database: 'shop', table: 'p' }, rows: 35 });
    expect(examineTxn(unit(8, ['TRUNCATE p']), t, policy)).toEqual([]); // already empty
    examineTxn(unit(9, ['CREATE TABLE q (id INT)']), t, policy);
    const drop = examineTxn(unit(10, ['DROP DATABASE shop'], []), t, policy);
    expect(drop.map((i) => `${i.cause}:${i.table.table}:${i.database}`)).toEqual(['DROP DATABASE:p:shop', 'DROP DATABASE:q:shop']);
    expect(t.tablesOf('shop')).toEqual([]);
  });
});
