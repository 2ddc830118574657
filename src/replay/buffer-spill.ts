// An append-only temporary file of buffers (the fold's raw records once they outgrow its memory
// share), read back by offset. Removed on close.
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export class BufferSpill {
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'pitr-fold-'));
  private readonly fd = openSync(path.join(this.dir, 'records'), 'w+', 0o600);
  private size = 0;

  /** Appends a buffer and returns its offset. */
  append(buf: Buffer): number {
    const at = this.size;
    for (let off = 0; off < buf.length; ) off += writeSync(this.fd, buf, off, buf.length - off, at + off);
    this.size += buf.length;
    return at;
  }

  /** The `length` bytes written at `at`. */
  read(at: number, length: number): Buffer {
    const b = Buffer.allocUnsafe(length);
    for (let off = 0; off < length; ) {
      const got = readSync(this.fd, b, off, length - off, at + off);
      if (got === 0) throw new Error('fold spill file ended inside a record');
      off += got;
    }
    return b;
  }

  close(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
