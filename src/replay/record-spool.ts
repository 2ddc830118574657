// Buffers one table's raw change records of a later segment in arrival (commit) order: in memory
// while a shared byte budget lasts, then in an unlinked-on-close temporary file, so a long history
// after a DDL statement never has to fit in memory.
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describePlace, type RecordPlace } from '../log/record-codec.js';

const HEAD = 20;

export class RecordSpool {
  private readonly mem: { buf: Buffer; where: RecordPlace }[] = [];
  private file: { dir: string; fd: number; bytes: number } | null = null;
  /** Where the first record came from, for messages. */
  firstWhere = '';

  /** @param budget bytes all spools together may still hold in memory (shared, decremented). */
  constructor(private readonly budget: { left: number }) {}

  push(buf: Buffer, where: RecordPlace): void {
    if (!this.firstWhere) this.firstWhere = describePlace(where);
    if (!this.file && buf.length <= this.budget.left) {
      this.budget.left -= buf.length;
      // A copy: the consumer's fetch buffer would otherwise stay alive for one small record.
      this.mem.push({ buf: Buffer.from(buf), where });
      return;
    }
    if (!this.file) {
      const dir = mkdtempSync(path.join(tmpdir(), 'pitr-spool-'));
      this.file = { dir, fd: openSync(path.join(dir, 'records'), 'w+', 0o600), bytes: 0 };
    }
    // Head: record length, text length, partition (-1: the text is a description, not a topic), offset.
    const text = typeof where === 'string' ? where : where.topic;
    const w = Buffer.from(text, 'utf8');
    const head = Buffer.allocUnsafe(HEAD);
    head.writeUInt32LE(buf.length, 0);
    head.writeUInt32LE(w.length, 4);
    head.writeInt32LE(typeof where === 'string' ? -1 : where.partition, 8);
    head.writeBigInt64LE(typeof where === 'string' ? 0n : where.offset, 12);
    for (const b of [head, w, buf]) this.file.bytes += writeSync(this.file.fd, b, 0, b.length, this.file.bytes);
  }

  /** The records in the order pushed. */
  *records(): Generator<{ buf: Buffer; where: RecordPlace }> {
    yield* this.mem;
    if (!this.file) return;
    const { fd, bytes } = this.file;
    const head = Buffer.allocUnsafe(HEAD);
    for (let at = 0; at < bytes; ) {
      readFully(fd, head, at);
      const n = head.readUInt32LE(0);
      const wn = head.readUInt32LE(4);
      const partition = head.readInt32LE(8);
      const body = Buffer.allocUnsafe(wn + n);
      readFully(fd, body, at + HEAD);
      at += HEAD + wn + n;
      const text = body.toString('utf8', 0, wn);
      const where = partition < 0 ? text : { topic: text, partition, offset: head.readBigInt64LE(12) };
      yield { where, buf: body.subarray(wn) };
    }
  }

  close(): void {
    for (const m of this.mem) this.budget.left += m.buf.length;
    this.mem.length = 0;
    if (this.file) {
      closeSync(this.file.fd);
      rmSync(this.file.dir, { recursive: true, force: true });
      this.file = null;
    }
  }
}

function readFully(fd: number, buf: Buffer, at: number): void {
  for (let got = 0; got < buf.length; ) {
    const n = readSync(fd, buf, got, buf.length - got, at + got);
    if (n === 0) throw new Error('spool file ended early');
    got += n;
  }
}
