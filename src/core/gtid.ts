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

/** Parses a GTID position "0-1-100,1-2-7" into domain -> { text, seq } (one entry per domain). */
export function parseGtidPos(pos: string): Map<number, { text: string; seq: bigint }> {
  const out = new Map<number, { text: string; seq: bigint }>();
  for (const p of pos.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\d+)-(\d+)-(\d+)$/.exec(p);
    if (m) out.set(Number(m[1]), { text: p, seq: BigInt(m[3]!) });
  }
  return out;
}

/** True when GTID position `ours` includes every domain's last transaction in `head`. */
export function gtidPosCovers(ours: string, head: string): boolean {
  const mine = parseGtidPos(ours);
  for (const [domain, h] of parseGtidPos(head)) {
    const have = mine.get(domain);
    if (have === undefined || have.seq < h.seq) return false;
  }
  return true;
}

/** The GTID position after transaction `g` committed on top of `prev`. */
export function gtidPosAfter(prev: string, g: Gtid): string {
  const parts = new Map([...parseGtidPos(prev)].map(([d, e]) => [d, e.text]));
  parts.set(g.domain, formatGtid(g));
  return [...parts.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v).join(',');
}
