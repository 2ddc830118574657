import { describe, expect, it } from 'vitest';
import { MetaImageBuilder, imageDigest } from '../../../src/log/meta-image.js';
import { MetaState } from '../../../src/log/meta-state.js';
import { decodeRecord, encodeRecord } from '../../../src/log/record-codec.js';
import type { RecordMsg } from '../../../src/log/record-types.js';
import { BASE, ddl, snapshotBegin, snapshotEnd, txnIndex } from './meta-fixtures.js';

/** A meta topic with what a fold must keep apart: spans per batch, staged commits, heartbeats, DDL between batches, unindexed batches, a clock going back, a new epoch. */
function metaTopic(): RecordMsg[] {
  const recs: RecordMsg[] = [snapshotBegin('s1', 1, 100, BASE), snapshotEnd('s1', 1, 100)];
  let pos = 100;
  let seq = 1;
  const batch = (n: number, time: number, extra: (r: RecordMsg) => void = () => undefined) => {
    const txns = Array.from({ length: n }, () => ({ file: 1, pos: (pos += 10), time, seq: ++seq }));
    const r = txnIndex(txns, { file: 1, pos, time });
    extra(r);
    recs.push(r);
  };
  const indexed = (key: string, first: number) => (r: RecordMsg) => {
    r.txnIndex!.indexed = true;
    r.txnIndex!.spans = [{ key, partition: 0, first, last: first + 2, records: 3, bytes: 90 }, { key: 'shop.other', partition: 1, first, last: first, records: 1, bytes: 30 }];
  };
  batch(3, BASE + 1, indexed('shop.orders', 0));
  batch(2, BASE + 2, indexed('shop.orders', 3));
  batch(0, BASE + 3, (r) => (r.txnIndex!.indexed = true)); // heartbeat
  batch(2, BASE + 4, (r) => {
    indexed('shop.orders', 5)(r);
    r.txnIndex!.staged = [{ txn: 1, id: 'st-1', rowChanges: 5000, records: 4 }];
  });
  recs.push(ddl('ALTER TABLE orders ADD c INT', 1, (pos += 10), BASE + 5, ++seq));
  batch(2, BASE + 5, indexed('shop.orders', 9));
  batch(2, BASE + 4); // unindexed, clock went back
  batch(1, BASE + 6); // unindexed
  batch(2, BASE + 7, (r) => {
    indexed('shop.orders', 20)(r);
    r.txnIndex!.epoch = 2;
  });
  batch(3, BASE + 8, (r) => {
    indexed('shop.orders', 24)(r);
    r.txnIndex!.epoch = 2;
    r.txnIndex!.sourceServer = 'uuid-2';
    r.txnIndex!.tableFilter = 'shop.*';
  });
  // As a reader gets them: decoded from the wire.
  return recs.map((r) => decodeRecord(encodeRecord(r), 'test'));
}

function fold(recs: RecordMsg[]): MetaState {
  const m = new MetaState();
  for (const r of recs) m.add(r);
  return m;
}

/** The fold of the image of recs[0..cut) and then recs[cut..], as a reader starting from the image does it. */
function viaImage(recs: RecordMsg[], cut: number, maxTxns: number): { meta: MetaState; imageRecords: number } {
  const b = new MetaImageBuilder(maxTxns);
  for (const r of recs.slice(0, cut)) b.add(r);
  const encoded = b.records();
  expect(imageDigest(encoded)).toEqual(b.digest());
  const m = new MetaState();
  for (const e of encoded) m.add(decodeRecord(e, 'image'));
  m.records = b.metaRecords;
  for (const r of recs.slice(cut)) m.add(r);
  return { meta: m, imageRecords: encoded.length };
}

describe('meta image', () => {
  const recs = metaTopic();
  const whole = fold(recs);

  it.each([1, 2, 3, 20_000])('folds to the same state as the whole topic, wherever the image ends (at most %i transactions merged)', (maxTxns) => {
    for (let cut = 0; cut <= recs.length; cut++) expect(viaImage(recs, cut, maxTxns).meta, `image of the first ${cut} records`).toEqual(whole);
  });

  it('merges runs of TxnIndex records and keeps every other record', () => {
    const { imageRecords } = viaImage(recs, recs.length, 20_000);
    // snapshot begin + end, a run of 4 batches, the DDL, a run of 1, two unindexed batches apart, the new epoch's run.
    expect(imageRecords).toBe(2 + 1 + 1 + 1 + 2 + 1);
    expect(imageRecords).toBeLessThan(recs.length);
    // The spans keep the commit ranges of the batches that wrote them.
    expect(whole.spans.get('shop.orders')!.map((s) => [s.from!.endPos, s.to!.endPos])).toEqual([
      [110, 130],
      [140, 150],
      [160, 170],
      [190, 200],
      [240, 250],
      [260, 280],
    ]);
  });

  it('gives the same digest to the same records, and another to other records', () => {
    const a = new MetaImageBuilder();
    const b = new MetaImageBuilder();
    for (const r of recs) {
      a.add(r);
      b.add(r);
    }
    expect(a.digest()).toEqual(b.digest());
    const c = new MetaImageBuilder();
    for (const r of recs.slice(0, -1)) c.add(r);
    expect(c.digest()).not.toEqual(a.digest());
  });
});
