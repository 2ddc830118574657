import { describe, expect, it } from 'vitest';
import { TransactionBuilder, isSystemDatabase, type SourceTxn } from '../../../src/capture/transaction-builder.js';
import type { BinlogEvent, GtidEvent, RowsEvent } from '../../../src/capture/binlog-events.js';
import { T } from '../../../src/capture/value-encoder.js';
import { Op } from '../../../src/log/record-types.js';

const FILE = 'mariadb-bin.000007';

function gtid(seq: bigint, timestamp: number, isDdl = false): GtidEvent {
  return { type: 'gtid', domain: 0, serverId: 1, seq, isDdl, standalone: isDdl, timestamp };
}

function rows(database: string, table: string, op: RowsEvent['op'], rs: RowsEvent['rows'], timestamp = 1): RowsEvent {
  return {
    type: 'rows',
    op,
    database,
    table,
    columns: ['id', 'v'],
    columnTypes: [T.LONGLONG, T.VARCHAR],
    rows: rs,
    timestamp,
  };
}

function feed(b: TransactionBuilder, events: BinlogEvent[]): SourceTxn[] {
  const out: SourceTxn[] = [];
  for (const e of events) {
    const t = b.push(e);
    if (t) out.push(t);
  }
  return out;
}

describe('TransactionBuilder', () => {
  it('builds a row transaction from gtid -> rows -> xid', () => {
    const b = new TransactionBuilder();
    expect(b.inTransaction).toBe(false);
    const [txn, ...rest] = feed(b, [
      { type: 'rotate', file: FILE, position: 4 },
      gtid(10n, 100),
      { type: 'query', statement: 'BEGIN', defaultDatabase: 'shop', timestamp: 100, file: FILE, nextPosition: 300 },
      rows('shop', 'orders', 'insert', [{ id: 1, v: 'a' }, { id: 2, v: 'b' }], 101),
      rows('shop', 'items', 'update', [{ before: { id: 5, v: 'x' }, after: { id: 5, v: 'y' } }], 101),
      rows('shop', 'orders', 'delete', [{ id: 1, v: 'a' }], 102),
      { type: 'xid', timestamp: 103, file: FILE, nextPosition: 1234 },
    ]);
    expect(rest).toEqual([]);
    expect(txn).toBeDefined();
    expect(b.inTransaction).toBe(false);
    expect(txn!.gtid).toEqual({ domain: 0, serverId: 1, seq: 10n });
    expect(txn!.position).toEqual({ fileSeq: 7, endPos: 1234 });
    expect(txn!.binlogFile).toBe(FILE);
    expect(txn!.commitTime).toBe(103);
    expect(txn!.rowCount).toBe(4);
    expect(txn!.ddl).toEqual([]);
    expect([...txn!.tables.keys()]).toEqual(['shop.orders', 'shop.items']);
    const orders = txn!.tables.get('shop.orders')!;
    expect(orders.columns).toEqual(['id', 'v']);
    expect(orders.changes).toEqual([
      { op: Op.INSERT, index: 0, after: { values: [{ int: 1 }, { text: 'a' }] } },
      { op: Op.INSERT, index: 1, after: { values: [{ int: 2 }, { text: 'b' }] } },
      { op: Op.DELETE, index: 3, before: { values: [{ int: 1 }, { text: 'a' }] } },
    ]);
    expect(txn!.tables.get('shop.items')!.changes).toEqual([
      {
        op: Op.UPDATE,
        index: 2,
        before: { values: [{ int: 5 }, { text: 'x' }] },
        after: { values: [{ int: 5 }, { text: 'y' }] },
      },
    ]);
  });

  it('is in a transaction between gtid and commit', () => {
    const b = new TransactionBuilder();
    b.push({ type: 'rotate', file: FILE, position: 4 });
    b.push(gtid(1n, 1));
    expect(b.inTransaction).toBe(true);
    b.push(rows('shop', 't', 'insert', [{ id: 1, v: 'a' }]));
    expect(b.inTransaction).toBe(true);
  });

  it('builds a DDL group from gtid(isDdl) -> query', () => {
    const b = new TransactionBuilder();
    const txns = feed(b, [
      { type: 'rotate', file: FILE, position: 4 },
      gtid(11n, 200, true),
      { type: 'query', statement: '  ALTER TABLE orders ADD x INT  ', defaultDatabase: 'shop', timestamp: 201, file: FILE, nextPosition: 2000 },
    ]);
    expect(txns.length).toBe(1);
    expect(txns[0]!.ddl).toEqual([{ statement: 'ALTER TABLE orders ADD x INT', defaultDatabase: 'shop' }]);
    expect(txns[0]!.position).toEqual({ fileSeq: 7, endPos: 2000 });
    expect(txns[0]!.commitTime).toBe(201);
    expect(txns[0]!.tables.size).toBe(0);
    expect(txns[0]!.rowCount).toBe(0);
  });

  it('filters rows of the mysql system database but still emits the transaction', () => {
    const b = new TransactionBuilder();
    const txns = feed(b, [
      { type: 'rotate', file: FILE, position: 4 },
      gtid(12n, 300),
      rows('mysql', 'user', 'update', [{ before: { id: 1, v: 'a' }, after: { id: 1, v: 'b' } }]),
      rows('MySQL', 'proc', 'insert', [{ id: 1, v: 'a' }]),
      rows('shop', 'orders', 'insert', [{ id: 9, v: 'z' }]),
      { type: 'xid', timestamp: 301, file: FILE, nextPosition: 3000 },
      gtid(13n, 302),
      rows('mysql', 'gtid_slave_pos', 'insert', [{ id: 1, v: 'a' }]),
      { type: 'xid', timestamp: 303, file: FILE, nextPosition: 3100 },
    ]);
    expect(txns.map((t) => t.gtid.seq)).toEqual([12n, 13n]);
    expect([...txns[0]!.tables.keys()]).toEqual(['shop.orders']);
    expect(txns[0]!.tables.get('shop.orders')!.changes[0]!.index).toBe(0);
    expect(txns[0]!.rowCount).toBe(1);
    expect(txns[1]!.tables.size).toBe(0);
    expect(txns[1]!.rowCount).toBe(0);
    expect(txns[1]!.position).toEqual({ fileSeq: 7, endPos: 3100 });
  });

  it('applies a custom table filter', () => {
    const b = new TransactionBuilder((db, table) => db === 'shop' && table === 'orders');
    const [txn] = feed(b, [
      { type: 'rotate', file: FILE, position: 4 },
      gtid(1n, 1),
      rows('shop', 'items', 'insert', [{ id: 1, v: 'a' }]),
      rows('shop', 'orders', 'insert', [{ id: 2, v: 'b' }]),
      { type: 'xid', timestamp: 1, file: FILE, nextPosition: 50 },
    ]);
    expect([...txn!.tables.keys()]).toEqual(['shop.orders']);
  });

  it('ends a non-transactional group at its COMMIT query', () => {
    const b = new TransactionBuilder();
    const txns = feed(b, [
      { type: 'rotate', file: FILE, position: 4 },
      gtid(14n, 400),
      { type: 'query', statement: 'BEGIN', defaultDatabase: '', timestamp: 400, file: FILE, nextPosition: 4100 },
      rows('shop', 'myisam_t', 'insert', [{ id: 1, v: 'a' }]),
      { type: 'query', statement: 'COMMIT', defaultDatabase: '', timestamp: 401, file: FILE, nextPosition: 4200 },
    ]);
    expect(txns.length).toBe(1);
    expect(txns[0]!.position).toEqual({ fileSeq: 7, endPos: 4200 });
    expect(txns[0]!.commitTime).toBe(401);
    expect(txns[0]!.ddl).toEqual([]);
    expect(txns[0]!.rowCount).toBe(1);
    expect(b.inTransaction).toBe(false);
  });

  it('drops a rolled-back group', () => {
    const b = new TransactionBuilder();
    const txns = feed(b, [
      { type: 'rotate', file: FILE, position: 4 },
      gtid(15n, 500),
      rows('shop', 't', 'insert', [{ id: 1, v: 'a' }]),
      { type: 'query', statement: 'ROLLBACK', defaultDatabase: '', timestamp: 500, file: FILE, nextPosition: 5100 },
      { type: 'xid', timestamp: 501, file: FILE, nextPosition: 5200 },
    ]);
    expect(txns).toEqual([]);
    expect(b.inTransaction).toBe(false);
  });

  it('keeps going after ROLLBACK TO SAVEPOINT', () => {
    const b = new TransactionBuilder();
    const txns = feed(b, [
      { type: 'rotate', file: FILE, position: 4 },
      gtid(16n, 600),
      { type: 'query', statement: 'SAVEPOINT s', defaultDatabase: '', timestamp: 600, file: FILE, nextPosition: 6050 },
      { type: 'query', statement: 'ROLLBACK TO s', defaultDatabase: '', timestamp: 600, file: FILE, nextPosition: 6100 },
      rows('shop', 't', 'insert', [{ id: 1, v: 'a' }]),
      { type: 'xid', timestamp: 601, file: FILE, nextPosition: 6200 },
    ]);
    expect(txns.length).toBe(1);
    expect(txns[0]!.rowCount).toBe(1);
  });

  it('takes the commit time from the commit event, not the gtid or rows events', () => {
    const b = new TransactionBuilder();
    const [txn] = feed(b, [
      { type: 'rotate', file: FILE, position: 4 },
      gtid(17n, 700),
      rows('shop', 't', 'insert', [{ id: 1, v: 'a' }], 705),
      { type: 'xid', timestamp: 710, file: FILE, nextPosition: 7000 },
    ]);
    expect(txn!.commitTime).toBe(710);
  });

  it('takes the file from the commit event, else from the last rotate', () => {
    const b = new TransactionBuilder();
    const txns = feed(b, [
      { type: 'rotate', file: 'mariadb-bin.000008', position: 4 },
      gtid(18n, 800),
      { type: 'xid', timestamp: 800, file: 'mariadb-bin.000009', nextPosition: 77 },
      gtid(19n, 801),
      { type: 'xid', timestamp: 801, file: '', nextPosition: 88 },
    ]);
    expect(txns.map((t) => [t.binlogFile, t.position])).toEqual([
      ['mariadb-bin.000009', { fileSeq: 9, endPos: 77 }],
      ['mariadb-bin.000008', { fileSeq: 8, endPos: 88 }],
    ]);
  });

  it('ignores rows, queries and xids outside a transaction', () => {
    const b = new TransactionBuilder();
    const txns = feed(b, [
      { type: 'rotate', file: FILE, position: 4 },
      rows('shop', 't', 'insert', [{ id: 1, v: 'a' }]),
      { type: 'query', statement: 'COMMIT', defaultDatabase: '', timestamp: 1, file: FILE, nextPosition: 10 },
      { type: 'xid', timestamp: 1, file: FILE, nextPosition: 20 },
    ]);
    expect(txns).toEqual([]);
  });

  it('restarts row indexes for every transaction', () => {
    const b = new TransactionBuilder();
    const txns = feed(b, [
      { type: 'rotate', file: FILE, position: 4 },
      gtid(20n, 1),
      rows('shop', 't', 'insert', [{ id: 1, v: 'a' }, { id: 2, v: 'b' }]),
      { type: 'xid', timestamp: 1, file: FILE, nextPosition: 100 },
      gtid(21n, 2),
      rows('shop', 't', 'insert', [{ id: 3, v: 'c' }]),
      { type: 'xid', timestamp: 2, file: FILE, nextPosition: 200 },
    ]);
    expect(txns.map((t) => t.tables.get('shop.t')!.changes.map((c) => c.index))).toEqual([[0, 1], [0]]);
  });

  it('encodes row values by column type', () => {
    const b = new TransactionBuilder();
    const ev: RowsEvent = {
      type: 'rows',
      op: 'insert',
      database: 'shop',
      table: 'types',
      columns: ['u', 'i', 'bit', 'dec', 'dt', 'blob', 'n'],
      columnTypes: [T.LONGLONG, T.LONGLONG, T.BIT, T.NEWDECIMAL, T.DATETIME2, T.BLOB, T.LONG],
      rows: [{
        u: '18446744073709551615',
        i: -42,
        bit: Buffer.from([0x80, 0x01]),
        dec: '12345.678900',
        dt: '2020-02-23 18:56:01.123456',
        blob: Buffer.from([0, 1, 0]),
        n: null,
      }],
      timestamp: 1,
    };
    const [txn] = feed(b, [
      { type: 'rotate', file: FILE, position: 4 },
      gtid(30n, 1),
      ev,
      { type: 'xid', timestamp: 1, file: FILE, nextPosition: 100 },
    ]);
    const values = txn!.tables.get('shop.types')!.changes[0]!.after!.values;
    expect(values.slice(0, 5)).toEqual([
      { uint: '18446744073709551615' },
      { int: -42 },
      { bit: '32769' },
      { decimal: '12345.678900' },
      { temporal: '2020-02-23 18:56:01.123456' },
    ]);
    expect(Object.keys(values[5]!)).toEqual(['bytes']);
    expect(Array.from(values[5]!.bytes!)).toEqual([0, 1, 0]);
    expect(values[6]).toEqual({ null: true });
  });
});

describe('isSystemDatabase', () => {
  it('knows the system databases, case-insensitively', () => {
    for (const db of ['mysql', 'MYSQL', 'sys', 'information_schema', 'performance_schema']) expect(isSystemDatabase(db)).toBe(true);
    for (const db of ['shop', 'mysql2', 'sysx']) expect(isSystemDatabase(db)).toBe(false);
  });
});

describe('TransactionBuilder and foreign_key_checks', () => {
  it('marks the row changes of a statement the source ran without foreign key checks', () => {
    const b = new TransactionBuilder();
    const [txn] = feed(b, [
      { type: 'rotate', file: FILE, position: 4 },
      gtid(11n, 100),
      { type: 'query', statement: 'BEGIN', defaultDatabase: 'shop', timestamp: 100, file: FILE, nextPosition: 300 },
      { ...rows('shop', 'customers', 'delete', [{ id: 3, v: 'c' }]), noForeignKeyChecks: true },
      rows('shop', 'customers', 'delete', [{ id: 4, v: 'd' }]),
      { type: 'xid', timestamp: 103, file: FILE, nextPosition: 900 },
    ]);
    const ch = txn!.tables.get('shop.customers')!.changes;
    expect(ch.map((c) => c.noFkChecks ?? false)).toEqual([true, false]);
  });
});
