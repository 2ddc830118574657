import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  GENESIS_HASH,
  HASH_HEADER,
  PartitionChainVerifier,
  SEQ_HEADER,
  chainHash,
  checkAnchor,
  decodeAnchor,
  encodeAnchor,
  linkHeaders,
  nextLink,
  parseLinkHeaders,
  type ChainHead,
  type ChainRecord,
} from '../../../src/log/integrity-chain.js';

const T = 'pitr.unit.changes';

/** A partition as capture writes it: offsets with gaps (transaction markers), chained records. */
function chain(n: number, topic = T, partition = 0): ChainRecord[] {
  const out: ChainRecord[] = [];
  let head: ChainHead | undefined;
  for (let i = 0; i < n; i++) {
    const key = `db.t${i % 3}`;
    const value = Buffer.from(`value-${i}`);
    head = nextLink(head, topic, partition, key, value);
    out.push({ offset: BigInt(i * 2), key, value, headers: linkHeaders(head) });
  }
  return out;
}

function verify(records: ChainRecord[], low = 0n, watch: bigint[] = []): PartitionChainVerifier {
  const v = new PartitionChainVerifier(T, 0, low, undefined, watch);
  for (const r of records) v.push(r);
  v.finish();
  return v;
}

const kinds = (v: PartitionChainVerifier) => v.findings.map((f) => [f.kind, f.offset]);

describe('chainHash', () => {
  it('is sha256 over length-prefixed prev, seq, topic, partition, key and value', () => {
    const want = createHash('sha256')
      .update(GENESIS_HASH)
      .update(Buffer.from([0, 0, 0, 0, 0, 0, 0, 5]))
      .update(Buffer.from([0, 0, 0, 1]))
      .update('t')
      .update(Buffer.from([0, 0, 0, 2]))
      .update(Buffer.from([0, 0, 0, 1]))
      .update('k')
      .update(Buffer.from([0, 0, 0, 1]))
      .update('v')
      .digest();
    expect(chainHash(GENESIS_HASH, 5n, 't', 2, 'k', Buffer.from('v'))).toEqual(want);
  });

  it('separates key from value and binds topic and partition', () => {
    const a = chainHash(GENESIS_HASH, 0n, T, 0, 'ab', Buffer.from('c'));
    expect(chainHash(GENESIS_HASH, 0n, T, 0, 'a', Buffer.from('bc'))).not.toEqual(a);
    expect(chainHash(GENESIS_HASH, 0n, T, 1, 'ab', Buffer.from('c'))).not.toEqual(a);
    expect(chainHash(GENESIS_HASH, 0n, 'pitr.other.changes', 0, 'ab', Buffer.from('c'))).not.toEqual(a);
    expect(chainHash(GENESIS_HASH, 1n, T, 0, 'ab', Buffer.from('c'))).not.toEqual(a);
  });

  it('starts at seq 0 from the genesis hash', () => {
    const l0 = nextLink(undefined, T, 0, 'k', Buffer.from('v'));
    expect(l0.seq).toBe(0n);
    expect(l0.hash).toEqual(chainHash(GENESIS_HASH, 0n, T, 0, 'k', Buffer.from('v')));
    const l1 = nextLink(l0, T, 0, 'k', Buffer.from('w'));
    expect(l1.seq).toBe(1n);
    expect(l1.hash).toEqual(chainHash(l0.hash, 1n, T, 0, 'k', Buffer.from('w')));
  });
});

describe('link headers', () => {
  it('round-trips', () => {
    const l = nextLink(undefined, T, 0, 'k', Buffer.from('v'));
    const h = linkHeaders({ ...l, seq: 123456789012n });
    expect(h[SEQ_HEADER]!.toString()).toBe('123456789012');
    expect(parseLinkHeaders(h)).toEqual({ seq: 123456789012n, hash: l.hash });
  });

  it('rejects missing or malformed headers with a reason', () => {
    expect(parseLinkHeaders({})).toMatch(/no pitr-seq/);
    expect(parseLinkHeaders({ [SEQ_HEADER]: Buffer.from('-1'), [HASH_HEADER]: Buffer.alloc(32) })).toMatch(/malformed pitr-seq/);
    expect(parseLinkHeaders({ [SEQ_HEADER]: Buffer.from('01'), [HASH_HEADER]: Buffer.alloc(32) })).toMatch(/malformed pitr-seq/);
    expect(parseLinkHeaders({ [SEQ_HEADER]: Buffer.from('1'), [HASH_HEADER]: Buffer.alloc(31) })).toMatch(/malformed pitr-hash/);
  });
});

describe('PartitionChainVerifier', () => {
  it('accepts an intact chain whatever the offset gaps', () => {
    const v = verify(chain(10));
    expect(v.findings).toEqual([]);
    expect(v.head?.seq).toBe(9n);
    expect(v.records).toBe(10);
  });

  it('accepts an empty partition', () => {
    expect(verify([]).findings).toEqual([]);
  });

  it('reports an altered record (content changed, hash kept) once, at its offset', () => {
    const rs = chain(6);
    rs[3] = { ...rs[3]!, value: Buffer.from('tampered') };
    const v = verify(rs);
    expect(kinds(v)).toEqual([['altered', 6n]]);
    expect(v.findings[0]!.message).toMatch(/seq 3 was altered/);
  });

  it('reports a forged record appended with a made-up hash as injected', () => {
    const rs = chain(4);
    rs.push({ offset: 100n, key: 'db.t0', value: Buffer.from('forged'), headers: linkHeaders({ seq: 4n, hash: Buffer.alloc(32, 7) }) });
    expect(kinds(verify(rs))).toEqual([['injected', 100n]]);
  });

  it('reports a forged record before the genuine one with the same seq as injected', () => {
    const rs = chain(5);
    const forged: ChainRecord = { offset: 5n, key: 'db.t0', value: Buffer.from('forged'), headers: linkHeaders({ seq: 3n, hash: Buffer.alloc(32, 1) }) };
    rs.splice(3, 0, forged);
    expect(kinds(verify(rs))).toEqual([['injected', 5n]]);
  });

  it('reports records without chain headers or with a foreign payload as injected', () => {
    const rs = chain(3);
    rs.splice(1, 0, { offset: 1n, key: 'x', value: Buffer.from('junk'), headers: {} });
    expect(kinds(verify(rs))).toEqual([['injected', 1n]]);
    const v = new PartitionChainVerifier(T, 0, 0n, (r) => (r.value.toString() === 'value-1' ? 'belongs to another source' : undefined));
    for (const r of chain(3)) v.push(r);
    v.finish();
    // The foreign record is reported once; its link still counts, so nothing looks removed.
    expect(kinds(v)).toEqual([['injected', 2n]]);
    expect(v.findings[0]!.message).toMatch(/another source/);
  });

  it('reports removed records as a seq gap, not as an offset gap', () => {
    const rs = chain(8);
    rs.splice(3, 2);
    const v = verify(rs);
    expect(kinds(v)).toEqual([['removed', 10n]]);
    expect(v.findings[0]!.message).toMatch(/seq 3\.\.4 \(2 records\)/);
  });

  it('reports reordered records', () => {
    const rs = chain(6);
    [rs[2], rs[3]] = [rs[3]!, rs[2]!];
    const v = verify(rs);
    expect(v.findings.map((f) => f.kind)).toEqual(['reordered']);
    expect(v.findings[0]!.offset).toBe(4n);
  });

  it('reports a duplicated record as injected', () => {
    const rs = chain(4);
    rs.push({ ...rs[1]!, offset: 50n });
    expect(kinds(verify(rs))).toEqual([['injected', 50n]]);
  });

  it('reports a deleted prefix by low watermark and by first seq', () => {
    const rs = chain(6).slice(2);
    const v = verify(rs, 4n);
    expect(kinds(v)).toEqual([['prefix-deleted', 4n]]);
    expect(v.findings[0]!.message).toMatch(/first record has seq 2.*low watermark 4/);
    expect(kinds(verify([], 7n))).toEqual([['prefix-deleted', 7n]]);
    expect(kinds(verify(chain(2), 1n))).toEqual([['prefix-deleted', 0n]]);
  });

  it('remembers the hash at watched seqs', () => {
    const rs = chain(5);
    const v = verify(rs, 0n, [2n, 9n]);
    expect(v.watched.get(2n)).toEqual(parseLinkHeaders(rs[2]!.headers) && (parseLinkHeaders(rs[2]!.headers) as ChainHead).hash);
    expect(v.watched.get(9n)!.length).toBe(0);
  });
});

describe('anchors', () => {
  const heads = (rs: ChainRecord[]) => parseLinkHeaders(rs.at(-1)!.headers) as ChainHead;

  it('round-trips and stays short', () => {
    const a = encodeAnchor([
      { topic: T, heads: [heads(chain(300)), undefined, heads(chain(5)), heads(chain(70000)), heads(chain(1)), heads(chain(2))] },
      { topic: 'pitr.unit.meta', heads: [heads(chain(1000))] },
    ]);
    expect(a).toMatch(/^pitr1-[A-Za-z0-9_-]+$/);
    expect(a.length).toBeLessThan(120);
    const d = decodeAnchor(a);
    expect(d.topics.map((t) => t.seqs)).toEqual([[299n, undefined, 4n, 69999n, 0n, 1n], [999n]]);
  });

  it('passes when the same links are found, fails when one differs or is gone', () => {
    const c0 = chain(10, T, 0);
    const c1 = chain(4, T, 1);
    const anchor = encodeAnchor([{ topic: T, heads: [parseLinkHeaders(c0[5]!.headers) as ChainHead, parseLinkHeaders(c1[3]!.headers) as ChainHead, undefined] }]);
    const d = decodeAnchor(anchor);
    const found = (x: Buffer | undefined) => [{ topic: T, partitions: 3, found: [(parseLinkHeaders(c0[5]!.headers) as ChainHead).hash, x, undefined] }];
    expect(checkAnchor(d, found((parseLinkHeaders(c1[3]!.headers) as ChainHead).hash))).toEqual([]);
    expect(checkAnchor(d, found(Buffer.alloc(32, 9)))[0]!).toMatchObject({ partition: 1, message: expect.stringMatching(/different hash/) });
    expect(checkAnchor(d, found(undefined))[0]!).toMatchObject({ partition: 1, message: expect.stringMatching(/no longer/) });
    // Same short hint, different full hash: only the full digest catches it.
    const h = Buffer.from((parseLinkHeaders(c1[3]!.headers) as ChainHead).hash);
    h[31] ^= 1;
    expect(checkAnchor(d, found(h))[0]!.message).toMatch(/do not reproduce the anchor digest/);
    // Another log with the same links under another name does not extend it.
    expect(checkAnchor(d, [{ ...found((parseLinkHeaders(c1[3]!.headers) as ChainHead).hash)[0]!, topic: 'pitr.x.changes' }])).toHaveLength(1);
    expect(checkAnchor(d, [{ ...found(undefined)[0]!, partitions: 4 }]).map((p) => p.message).join()).toMatch(/covers 3 partitions/);
  });

  it('refuses malformed digests with one sentence', () => {
    expect(() => decodeAnchor('hello')).toThrow(/is not a pitr anchor/);
    expect(() => decodeAnchor('pitr1-AAAA')).toThrow(/truncated or malformed/);
    const a = encodeAnchor([{ topic: T, heads: [heads(chain(3))] }]);
    expect(() => decodeAnchor(a.slice(0, -4))).toThrow(/truncated or malformed/);
  });
});

describe('incremental verify (resume at an anchored record)', () => {
  const resume = (records: ChainRecord[], at: number) => {
    const head = parseLinkHeaders(records[at]!.headers) as ChainHead;
    const v = new PartitionChainVerifier(T, 0, 0n, undefined, [], { seq: head.seq, offset: records[at]!.offset });
    for (const r of records.slice(at)) v.push(r);
    v.finish();
    return v;
  };

  it('continues the chain from the anchored record and records its stored hash', () => {
    const records = chain(10);
    const v = resume(records, 6);
    expect(v.findings).toEqual([]);
    expect(v.head!.seq).toBe(9n);
    expect(v.headOffset).toBe(18n);
    expect(v.watched.get(6n)).toEqual((parseLinkHeaders(records[6]!.headers) as ChainHead).hash);
  });

  it('catches a record altered after the anchor', () => {
    const records = chain(10);
    records[8] = { ...records[8]!, value: Buffer.from('changed') };
    expect(kinds(resume(records, 6))).toEqual([['altered', 16n]]);
  });

  it('says so when the anchored record is not where the anchor points', () => {
    const records = chain(10);
    const head = parseLinkHeaders(records[6]!.headers) as ChainHead;
    const v = new PartitionChainVerifier(T, 0, 0n, undefined, [], { seq: head.seq, offset: 12n });
    for (const r of records.slice(7)) v.push(r);
    v.finish();
    expect(kinds(v)).toEqual([['anchor', 14n]]);
    const gone = new PartitionChainVerifier(T, 0, 0n, undefined, [], { seq: 6n, offset: 12n });
    gone.finish();
    expect(kinds(gone)).toEqual([['anchor', 12n]]);
  });
});

describe('anchors with offsets', () => {
  it('carry the head offsets for --since and decode to the same digest as without them', () => {
    const c0 = chain(6);
    const heads = [parseLinkHeaders(c0[5]!.headers) as ChainHead, undefined];
    const withOffsets = encodeAnchor([{ topic: T, heads, offsets: [10n, undefined] }]);
    const without = encodeAnchor([{ topic: T, heads }]);
    expect(withOffsets).toMatch(/^pitr1-[A-Za-z0-9_-]+$/);
    const a = decodeAnchor(withOffsets);
    const b = decodeAnchor(without);
    expect(a.topics[0]!.offsets).toEqual([10n, undefined]);
    expect(b.topics[0]!.offsets).toBeUndefined();
    expect(a.digest).toEqual(b.digest);
    expect(a.topics[0]!.seqs).toEqual(b.topics[0]!.seqs);
    expect(() => decodeAnchor(withOffsets.slice(0, -4))).toThrow(/truncated or malformed/);
  });

  it('hashes large records the same way as small ones (streamed past the reused buffer)', () => {
    const big = Buffer.alloc(300 * 1024, 7);
    const small = chainHash(GENESIS_HASH, 1n, 't', 3, 'é', big.subarray(0, 1000));
    const ref = (v: Buffer) =>
      createHash('sha256')
        .update(GENESIS_HASH)
        .update(Buffer.from([0, 0, 0, 0, 0, 0, 0, 1]))
        .update(Buffer.from([0, 0, 0, 1]))
        .update('t')
        .update(Buffer.from([0, 0, 0, 3]))
        .update(Buffer.from([0, 0, 0, 2]))
        .update('é')
        .update(Buffer.from([(v.length >>> 24) & 255, (v.length >>> 16) & 255, (v.length >>> 8) & 255, v.length & 255]))
        .update(v)
        .digest();
    expect(small).toEqual(ref(big.subarray(0, 1000)));
    expect(chainHash(GENESIS_HASH, 1n, 't', 3, 'é', big)).toEqual(ref(big));
  });
});
