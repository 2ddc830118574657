// The checkpoints directory: what a manifest carries, what follows from the manifests in log order, and how
// verify names a directory that lies.
import { describe, expect, it } from 'vitest';
import { carriedDirectory, directoryAfter, directoryOf } from '../../../src/checkpoint/checkpoint-store.js';
import { directoryMismatch } from '../../../src/checkpoint/checkpoint-verifier.js';
import type { StoredCheckpoint } from '../../../src/checkpoint/checkpoint-plan.js';

const manifest = (offset: number, tables: string[], directory?: [string, number][]): StoredCheckpoint => ({
  offset: BigInt(offset),
  position: { fileSeq: 1, endPos: offset },
  manifest: {
    checkpointId: `c${offset}`,
    position: { fileSeq: 1, endPos: offset },
    commitTime: 0,
    gtidPos: '',
    snapshotId: 's',
    bindings: [],
    tables: tables.map((t) => ({ database: 'd', table: t, rows: 0, digest: Buffer.alloc(32), firstOffset: 0, lastOffset: 0, records: 0, baseKind: 'snapshot', baseId: 's', basePosition: { fileSeq: 1, endPos: 1 }, changes: 0 })),
    ...(directory && { hasDirectory: true, directory: directory.map(([t, o]) => ({ database: 'd', table: t, offset: String(o) })) }),
  },
});

const offsets = (dir: Map<string, { database: string; table: string; offset: bigint }>) => Object.fromEntries([...dir.values()].map((v) => [`${v.database}.${v.table}`, Number(v.offset)]));

describe('manifest directory', () => {
  const log = [manifest(10, ['a', 'b']), manifest(20, ['b']), manifest(30, ['c', 'a'])];

  it('maps each table to the newest manifest holding it', () => {
    expect(offsets(directoryOf(log))).toEqual({ 'd.a': 30, 'd.b': 20, 'd.c': 30 });
    expect(offsets(directoryOf(log.slice(0, 2)))).toEqual({ 'd.a': 10, 'd.b': 20 });
    expect(directoryOf([]).size).toBe(0);
  });

  it('gives, from the newest manifest alone, what every manifest gives', () => {
    const newest = manifest(40, ['b'], [['a', 30], ['b', 20], ['c', 30]]);
    expect(offsets(carriedDirectory(newest.manifest))).toEqual({ 'd.a': 30, 'd.b': 20, 'd.c': 30 });
    expect(offsets(directoryAfter(newest))).toEqual(offsets(directoryOf([...log, newest])));
  });

  it('names what a lying directory leaves out, moves or invents', () => {
    const truth = directoryOf(log);
    expect(directoryMismatch(directoryOf(log), truth)).toBeUndefined();
    expect(directoryMismatch(carriedDirectory(manifest(40, [], [['a', 30], ['b', 20]]).manifest), truth)).toMatch(/omits d\.c/);
    expect(directoryMismatch(carriedDirectory(manifest(40, [], [['a', 10], ['b', 20], ['c', 30]]).manifest), truth)).toMatch(/offset 10 for d\.a.*at 30/);
    expect(directoryMismatch(carriedDirectory(manifest(40, [], [['a', 30], ['b', 20], ['c', 30], ['x', 5]]).manifest), truth)).toMatch(/d\.x at offset 5/);
  });
});
