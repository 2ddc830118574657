import { describe, expect, it } from 'vitest';
import { StagedTally, split } from '../../../src/log/log-verifier.js';
import type { PartitionJob } from '../../../src/log/partition-verify.js';

const job = (partition: number, size: number, from = 0n): PartitionJob => ({ topic: 't', partition, low: 0n, from, high: from + BigInt(size) });

describe('split', () => {
  it('shares partitions out by offsets to read, largest first to the lightest share', () => {
    const shares = split([job(0, 100), job(1, 10), job(2, 60), job(3, 50), job(4, 0)], 2);
    const size = (s: PartitionJob[]) => s.reduce((n, j) => n + Number(j.high - j.from), 0);
    expect(shares).toHaveLength(2);
    expect(shares.flat().map((j) => j.partition).sort()).toEqual([0, 1, 2, 3, 4]);
    expect(shares.map(size).sort((a, b) => a - b)).toEqual([110, 110]);
    expect(split([job(0, 5)], 4)).toEqual([[job(0, 5)]]);
  });
});

describe('StagedTally', () => {
  it('adds up chunks from several shares and the previous run, against the commit markers', () => {
    const t = new StagedTally('c');
    t.carry('a', { records: 2, partition: 1, offset: 5n });
    t.chunks('a', { records: 3, partition: 2, offset: 900n });
    t.marker('a', 5);
    t.chunk('b', 0, 10n);
    t.marker('b', 2);
    t.chunk('open', 0, 11n);
    expect(t.findings()).toEqual([expect.objectContaining({ kind: 'staged', partition: 0, offset: 10n, message: expect.stringMatching(/staged transaction b has 1 chunk records in the log, its commit marker says 2/) })]);
    expect(t.open()).toEqual([['open', { records: 1, partition: 0, offset: 11n }]]);
    expect(t.abandoned()).toEqual({ attempts: 1, records: 1 });
  });

  it('without the earlier chunks (--since with an anchor of unknown origin) only too many chunks are a finding', () => {
    const t = new StagedTally('c', true);
    t.chunk('a', 0, 10n);
    t.marker('a', 4);
    t.chunk('b', 0, 11n);
    t.chunk('b', 0, 12n);
    t.marker('b', 1);
    expect(t.findings().map((f) => f.message)).toEqual(['staged transaction b has 2 chunk records in the log, its commit marker says 1']);
  });
});
