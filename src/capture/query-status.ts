// Reads the status variables of a binlog Query event (the session state the statement ran in). Pure.
// Only the leading, fixed-size codes are walked: the server writes Q_FLAGS2 and Q_SQL_MODE first.

const Q_FLAGS2_CODE = 0;
const Q_SQL_MODE_CODE = 1;
const Q_CATALOG_NZ_CODE = 6;
const Q_AUTO_INCREMENT = 3;
const Q_CHARSET_CODE = 4;

/** The session sql_mode bits the statement ran with, if the event logged them. */
export function querySqlMode(status: Uint8Array | undefined): bigint | undefined {
  if (!status) return undefined;
  const buf = Buffer.from(status.buffer, status.byteOffset, status.byteLength);
  let i = 0;
  while (i < buf.length) {
    const code = buf[i++]!;
    if (code === Q_SQL_MODE_CODE) return i + 8 <= buf.length ? buf.readBigUInt64LE(i) : undefined;
    if (code === Q_FLAGS2_CODE) i += 4;
    else if (code === Q_AUTO_INCREMENT) i += 4;
    else if (code === Q_CHARSET_CODE) i += 6;
    else if (code === Q_CATALOG_NZ_CODE) i += 1 + (buf[i] ?? 0);
    else return undefined; // a code whose length this reader does not know: stop rather than misread
  }
  return undefined;
}
