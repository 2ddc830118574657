// The TIME2 decoder added to zongji by patches/@vlasky+zongji+0.9.0.patch (decodeTime2), on
// hand-built binlog images: encoded here as the server's my_time_packed_to_binary does, plus a few
// literal byte strings. Negative values with a zero fraction used to come out as 00:00:00 or ':60'.
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

// The package's "exports" hides lib/, so load the file itself.
const commonPath = createRequire(import.meta.url).resolve('@vlasky/zongji').replace(/index\.js$/, 'lib/common.js');
const { decodeTime2 } = (await import(pathToFileURL(commonPath).href)) as {
  decodeTime2: (buffer: Buffer, offset: number, dec: number) => string;
};

/** TIME_to_longlong_time_packed + my_time_packed_to_binary, in BigInt. */
function encode(text: string, dec: number): Buffer {
  const m = /^(-?)(\d+):(\d\d):(\d\d)(?:\.(\d+))?$/.exec(text)!;
  const micro = BigInt(((m[5] ?? '') + '000000').slice(0, 6));
  const hms = (BigInt(m[2]!) << 12n) | (BigInt(m[3]!) << 6n) | BigInt(m[4]!);
  let nr = (hms << 24n) + micro;
  if (m[1]) nr = -nr;
  const intPart = nr >> 24n; // arithmetic shift, as MY_PACKED_TIME_GET_INT_PART
  const fracPart = nr % (1n << 24n); // C remainder: sign of the dividend
  const out = Buffer.alloc(3 + Math.ceil(dec / 2));
  const u = (v: bigint, bytes: number) => Number(BigInt.asUintN(bytes * 8, v));
  if (dec >= 5) {
    out.writeUIntBE(u(nr + 0x800000000000n, 6), 0, 6);
  } else {
    out.writeUIntBE(u(intPart + 0x800000n, 3), 0, 3);
    if (dec >= 3) out.writeUInt16BE(u(fracPart / 100n, 2), 3);
    else if (dec >= 1) out[3] = u(fracPart / 10000n, 1);
  }
  return out;
}

const bases = ['01:00:00', '01:01:00', '00:00:00', '00:00:01', '01:01:01', '12:34:56', '100:00:00', '838:59:58'];
const fraction = (dec: number, kind: string) =>
  dec === 0 ? '' : '.' + ({ zero: '0'.repeat(dec), min: '0'.repeat(dec - 1) + '1', mid: '123456'.slice(0, dec), max: '9'.repeat(dec) } as Record<string, string>)[kind];

describe('zongji decodeTime2', () => {
  for (let dec = 0; dec <= 6; dec++) {
    it(`decodes TIME(${dec}) negative and positive, zero and non-zero fractions, range ends`, () => {
      const values: string[] = [];
      for (const b of bases) for (const kind of dec ? ['zero', 'min', 'mid', 'max'] : ['zero']) {
        values.push(b + fraction(dec, kind), '-' + b + fraction(dec, kind));
      }
      values.push('838:59:59' + fraction(dec, 'zero'), '-838:59:59' + fraction(dec, 'zero'));
      for (const v of values) {
        // -00:00:00 with a zero fraction packs to 0: the server has no negative zero either
        const want = /^-00:00:00(\.0*)?$/.test(v) ? v.slice(1) : v;
        expect(decodeTime2(encode(v, dec), 0, dec), `${v} TIME(${dec})`).toBe(want);
      }
    });
  }

  it('decodes literal images, at an offset', () => {
    // -01:00:00: int part -(1 << 12) + 0x800000
    expect(decodeTime2(Buffer.from([0x7f, 0xf0, 0x00]), 0, 0)).toBe('-01:00:00');
    expect(decodeTime2(Buffer.from([0xaa, 0x7f, 0xf0, 0x00, 0x00, 0x00, 0x00]), 1, 6)).toBe('-01:00:00.000000');
    // -01:01:01.000001 in TIME(6): -(0x1041 << 24 | 1) + 0x800000000000
    expect(decodeTime2(Buffer.from([0x7f, 0xef, 0xbe, 0xff, 0xff, 0xff]), 0, 6)).toBe('-01:01:01.000001');
    // -00:00:00.50 in TIME(2): int part -1, frac byte (unsigned char)-50
    expect(decodeTime2(Buffer.from([0x7f, 0xff, 0xff, 0xce]), 0, 2)).toBe('-00:00:00.50');
    expect(decodeTime2(Buffer.from([0x80, 0x00, 0x00]), 0, 0)).toBe('00:00:00');
    expect(decodeTime2(encode('838:59:59', 0), 0, 0)).toBe('838:59:59');
    expect(decodeTime2(encode('-838:59:59.000000', 6), 0, 6)).toBe('-838:59:59.000000');
  });
});
