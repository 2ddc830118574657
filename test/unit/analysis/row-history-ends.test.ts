import { describe, expect, it } from 'vitest';
import { RowHistory } from '../../../src/analysis/row-history.js';
import { tableRemovals } from '../../../src/analysis/run-history.js';
import { MetaState } from '../../../src/log/meta-state.js';
import { Op, type Value } from '../../../src/log/record-types.js';
import { BASE, ddl } from '../log/meta-fixtures.js';

const COLS = ['id', 'v'];
const r = (id: number, v: string): { values: Value[] } => ({ values: [{ int: id }, { text: v }] });
const key = [{ column: 'id', value: '5' }];

describe('RowHistory ends', () => {
  it('starts with the snapshot image as a version and ends with the DROP that removed the row', () => {
    const h = new RowHistory(key, () => true, 'mariadb-bin');
    h.snapshotRow(COLS, r(5, 'snap').values);
    h.snapshotDone({ time: BASE, gtid: '0-1-1', position: { fileSeq: 1, endPos: 500 } });
    h.change(
      { database: 'd', table: 't', columns: COLS, gtid: { domain: 0, serverId: 1, seq: 2 }, position: { fileSeq: 1, endPos: 600 }, commitTime: BASE + 1, changes: [{ op: Op.UPDATE, index: 0, before: r(5, 'snap'), after: r(5, 'b') }] },
      { fileSeq: 1, endPos: 600 },
    );
    h.removed('drop', { commitTime: BASE + 2, gtid: '0-1-3' }, { fileSeq: 1, endPos: 700 });
    // A second removal finds no row: nothing more to say.
    h.removed('truncate', { commitTime: BASE + 3, gtid: '0-1-4' }, { fileSeq: 1, endPos: 800 });
    expect(h.versions.map((v) => [v.op, v.gtid, v.position])).toEqual([
      ['snapshot', '0-1-1', 'mariadb-bin.000001:500'],
      ['update', '0-1-2', 'mariadb-bin.000001:600'],
      ['drop', '0-1-3', 'mariadb-bin.000001:700'],
    ]);
    expect(h.versions[0]!.row).toEqual({ id: '5', v: 'snap' });
    expect(h.versions[2]!.changed).toEqual([{ column: 'id', before: '5', after: null }, { column: 'v', before: 'b', after: null }]);
    expect(h.current).toBeNull();
  });

  it('folds a removal before the window into the initial state', () => {
    const h = new RowHistory(key, (p) => p.endPos > 650);
    h.snapshotRow(COLS, r(5, 'snap').values);
    h.snapshotDone(undefined);
    h.removed('truncate', { commitTime: BASE, gtid: '0-1-3' }, { fileSeq: 1, endPos: 600 });
    expect(h.versions).toEqual([]);
    expect(h.initial).toBeNull();
  });
});

describe('tableRemovals', () => {
  it('finds DROP TABLE, TRUNCATE, DROP DATABASE and CREATE OR REPLACE of the table only', () => {
    const m = new MetaState();
    m.add(ddl('TRUNCATE TABLE orders', 1, 100, BASE, 2));
    m.add(ddl('DROP TABLE `shop`.`items`, orders', 1, 200, BASE, 3));
    m.add(ddl('DROP TABLE other', 1, 300, BASE, 4));
    m.add(ddl('CREATE OR REPLACE TABLE orders (id INT)', 1, 400, BASE, 5));
    m.add(ddl('DROP DATABASE shop', 1, 500, BASE, 6));
    m.add(ddl('ALTER TABLE orders ADD x INT', 1, 600, BASE, 7));
    expect(tableRemovals(m, { database: 'shop', table: 'orders' }).map((x) => [x.op, x.gtid])).toEqual([
      ['truncate', '0-1-2'],
      ['drop', '0-1-3'],
      ['drop', '0-1-5'],
      ['drop', '0-1-6'],
    ]);
  });
});
