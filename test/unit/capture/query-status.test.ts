import { describe, expect, it } from 'vitest';
import { querySqlMode, queryText } from '../../../src/capture/query-status.js';

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

describe('queryText', () => {
  const status = (collation: number) => {
    const b = Buffer.alloc(1 + 4 + 1 + 6);
    b[5] = 4; // Q_CHARSET_CODE: character_set_client, collation_connection, collation_server
    b.writeUInt16LE(collation, 6);
    return b;
  };
  it('decodes a latin1 client statement as latin1 (Windows-1252), UTF-8 otherwise', () => {
    const latin1 = Buffer.from([0x27, 0xe4, 0x80, 0x27]); // 'ä€'
    expect(queryText(latin1, status(8), 'x')).toBe("'ä€'");
    expect(queryText(Buffer.from("'ä'", 'utf8'), status(45), "'ä'")).toBe("'ä'");
    expect(queryText(undefined, status(8), 'fallback')).toBe('fallback');
  });
});
