// An append-only temporary file of rendered rows (key, column-set number, LOAD DATA line), read back
// in the order written. A fold that outgrows its memory share moves its lines here and keeps only
// key -> offset, so folding holds O(keys) in memory and still loads every final row once.
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const HEAD = 10; // key length u32, line length u32, column set u16
const CHUNK = 1 << 20;

export interface SpilledLine {
  /** Offset of the record in the file (what append returned). */
  at: number;
  key: string;
  cols: number;
  line: string;
}

export class LineSpill {
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'pitr-fold-'));
  private readonly fd = openSync(path.join(this.dir, 'lines'), 'w+', 0o600);
  private buf = Buffer.allocUnsafe(CHUNK);
  private n = 0;
  /** Bytes written to the file (the next record's offset once the buffer is flushed). */
  private flushed = 0;

  /** Appends one line (latin1 strings: one char per byte) and returns its offset. */
  append(key: string, cols: number, line: string): number {
    const size = HEAD + key.length + line.length;
    if (this.n + size > this.buf.length) {
      this.flush();
      if (size > this.buf.length) this.buf = Buffer.allocUnsafe(size);
    }
    const at = this.flushed + this.n;
    const b = this.buf;
    b.writeUInt32LE(key.length, this.n);
    b.writeUInt32LE(line.length, this.n + 4);
    b.writeUInt16LE(cols, this.n + 8);
    this.n += HEAD;
    this.n += b.write(key, this.n, 'latin1');
    this.n += b.write(line, this.n, 'latin1');
    return at;
  }

  private flush(): void {
    for (let off = 0; off < this.n; ) off += writeSync(this.fd, this.buf, off, this.n - off, this.flushed + off);
    this.flushed += this.n;
    this.n = 0;
  }

  /** Every record in the order appended. */
  *scan(): Generator<SpilledLine> {
    this.flush();
    let chunk = Buffer.allocUnsafe(CHUNK);
    let have = 0; // valid bytes in chunk
    let pos = 0; // parse position in chunk
    let fileAt = 0; // file offset of chunk[0]
    const fill = (need: number): boolean => {
      if (have - pos >= need) return true;
      // Keep the unparsed tail, then read more after it.
      chunk.copy(chunk, 0, pos, have);
      fileAt += pos;
      have -= pos;
      pos = 0;
      if (need > chunk.length) {
        const bigger = Buffer.allocUnsafe(need);
        chunk.copy(bigger, 0, 0, have);
        chunk = bigger;
      }
      while (have < need) {
        const got = readSync(this.fd, chunk, have, chunk.length - have, fileAt + have);
        if (got === 0) return false;
        have += got;
      }
      return true;
    };
    while (fileAt + pos < this.flushed) {
      if (!fill(HEAD)) throw new Error('fold spill file ended inside a record header');
      const kn = chunk.readUInt32LE(pos);
      const ln = chunk.readUInt32LE(pos + 4);
      const cols = chunk.readUInt16LE(pos + 8);
      if (!fill(HEAD + kn + ln)) throw new Error('fold spill file ended inside a record');
      const at = fileAt + pos;
      const k0 = pos + HEAD;
      yield { at, key: chunk.toString('latin1', k0, k0 + kn), cols, line: chunk.toString('latin1', k0 + kn, k0 + kn + ln) };
      pos = k0 + kn + ln;
    }
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
