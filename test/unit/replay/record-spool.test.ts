// RecordSpool keeps records and where they came from, in memory and past its budget in its file.
import { describe, expect, it } from 'vitest';
import { RecordSpool } from '../../../src/replay/record-spool.js';

describe('RecordSpool', () => {
  it('gives back records in order with their log places or descriptions, from memory and from its file', () => {
    const budget = { left: 10 };
    const spool = new RecordSpool(budget);
    const pushed = [
      { buf: Buffer.from('abc'), where: { topic: 'pitr.s.changes', partition: 2, offset: 5n } },
      { buf: Buffer.from('past the budget'), where: { topic: 'pitr.s.changes', partition: 7, offset: 2n ** 40n } },
      { buf: Buffer.from('xyz'), where: 'pitr.s.checkpoints/0 (checkpoint c1)' },
      { buf: Buffer.from(''), where: { topic: 't', partition: 0, offset: 0n } },
    ];
    for (const p of pushed) spool.push(p.buf, p.where);
    expect(spool.firstWhere).toBe('pitr.s.changes/2@5');
    expect([...spool.records()].map((r) => ({ buf: r.buf.toString(), where: r.where }))).toEqual(pushed.map((p) => ({ buf: p.buf.toString(), where: p.where })));
    spool.close();
    expect(budget.left).toBe(10);
  });
});
