// Reads the status variables of a binlog Query event (the session state the statement ran in). Pure.
// Only the leading, fixed-size codes are walked: the server writes Q_FLAGS2 and Q_SQL_MODE first.

const Q_FLAGS2_CODE = 0;
const Q_SQL_MODE_CODE = 1;
const Q_CATALOG_NZ_CODE = 6;
const Q_AUTO_INCREMENT = 3;
const Q_CHARSET_CODE = 4;

interface QueryStatus {
  sqlMode?: bigint;
  /** character_set_client as a collation id. */
  clientCharset?: number;
}

/** The leading status variables (stops at the first code whose length it does not know, rather than misread). */
function queryStatus(status: Uint8Array | undefined): QueryStatus {
  const out: QueryStatus = {};
  if (!status) return out;
  const buf = Buffer.from(status.buffer, status.byteOffset, status.byteLength);
  let i = 0;
  while (i < buf.length) {
    const code = buf[i++]!;
    if (code === Q_SQL_MODE_CODE) {
      if (i + 8 > buf.length) break;
      out.sqlMode = buf.readBigUInt64LE(i);
      i += 8;
    } else if (code === Q_CHARSET_CODE) {
      if (i + 6 > buf.length) break;
      out.clientCharset = buf.readUInt16LE(i);
      i += 6;
    } else if (code === Q_FLAGS2_CODE) i += 4;
    else if (code === Q_AUTO_INCREMENT) i += 4;
    else if (code === Q_CATALOG_NZ_CODE) i += 1 + (buf[i] ?? 0);
    else break;
  }
  return out;
}

/** The session sql_mode bits the statement ran with, if the event logged them. */
export function querySqlMode(status: Uint8Array | undefined): bigint | undefined {
  return queryStatus(status).sqlMode;
}

/** latin1 collations (MariaDB's latin1 is Windows-1252). */
const LATIN1 = new Set([5, 8, 15, 31, 47, 48, 49, 94]);
/** Windows-1252 at 0x80-0x9F (ISO-8859-1 elsewhere); MariaDB maps the five unassigned bytes through. */
const CP1252_HIGH = '€\x81‚ƒ„…†‡ˆ‰Š‹Œ\x8dŽ\x8f\x90‘’“”•–—˜™š›œ\x9džŸ';

function decodeCp1252(b: Uint8Array): string {
  let out = '';
  for (const c of b) out += c >= 0x80 && c <= 0x9f ? CP1252_HIGH[c - 0x80]! : String.fromCharCode(c);
  return out;
}

/**
 * The statement text, decoded from the session's character_set_client: a client that ran SET NAMES
 * latin1 sent its statement in latin1 bytes (read as UTF-8 they would turn into U+FFFD).
 */
export function queryText(statement: Uint8Array | undefined, status: Uint8Array | undefined, fallback: string): string {
  if (!statement) return fallback;
  const cs = queryStatus(status).clientCharset;
  if (cs !== undefined && LATIN1.has(cs)) return decodeCp1252(statement);
  return fallback;
}
