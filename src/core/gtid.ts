// MariaDB GTIDs (domain-server-seq): parsing, formatting and exact comparison of sequence numbers.
import { UsageError } from './errors.js';

export interface Gtid {
  domain: number;
  serverId: number;
  /** Sequence numbers are u64: kept exact as bigint. */
  seq: bigint;
}

const GTID_RE = /^(\d{1,10})-(\d{1,10})-(\d{1,20})$/;

export function parseGtid(text: string): Gtid {
  const m = GTID_RE.exec(text.trim());
  if (!m) {
    throw new UsageError(`"${text}" is not a MariaDB GTID; expected domain-server-sequence, e.g. 0-1-1234.`);
  }
  const domain = Number(m[1]);
  const serverId = Number(m[2]);
  const seq = BigInt(m[3]!);
  if (domain > 0xffffffff || serverId > 0xffffffff || seq > 0xffffffffffffffffn) {
    throw new UsageError(`"${text}" is not a MariaDB GTID: a component is out of range.`);
  }
  return { domain, serverId, seq };
}

export function formatGtid(g: Gtid): string {
  return `${g.domain}-${g.serverId}-${g.seq}`;
}

export function sameGtid(a: Gtid, b: Gtid): boolean {
  return a.domain === b.domain && a.serverId === b.serverId && a.seq === b.seq;
}
