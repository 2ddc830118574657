import { describe, expect, it } from 'vitest';
import { querySqlMode } from '../../../src/capture/query-status.js';

describe('querySqlMode', () => {
  it('reads Q_SQL_MODE after Q_FLAGS2, as the server writes them', () => {
    const buf = Buffer.alloc(1 + 4 + 1 + 8 + 1 + 6);
    buf[0] = 0; // Q_FLAGS2_CODE + 4 bytes
    buf[5] = 1; // Q_SQL_MODE_CODE + 8 bytes
    buf.writeBigUInt64LE(1411383296n, 6);
    buf[14] = 4; // Q_CHARSET_CODE
    expect(querySqlMode(buf)).toBe(1411383296n);
  });

  it('says nothing when the mode is absent or behind an unknown code', () => {
    expect(querySqlMode(undefined)).toBeUndefined();
    expect(querySqlMode(Buffer.from([0, 0, 0, 0, 0]))).toBeUndefined();
    expect(querySqlMode(Buffer.from([99, 1, 2, 3]))).toBeUndefined();
  });
});
