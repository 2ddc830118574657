// Says where a cut falls in words a DBA can act on: the last transaction the restore includes (its
// GTID and end position, where `mariadb-binlog --start-position` continues without skipping
// anything) and the first one it leaves out. A cut's own position is not that: for an exclusive
// cut it is the end of the first excluded transaction. Pure.
import type { MetaState, SnapshotInfo } from '../log/meta-state.js';
import { comparePositions, formatPosition, withinCut, type Cut, type Position } from '../core/position.js';
import { formatGtid } from '../core/gtid.js';

export interface TxnRef {
  /** GTID of the transaction ("0-1-42"); for a snapshot's last transaction, the snapshot's GTID position. */
  gtid: string;
  /** End position of its commit event ("mariadb-bin.000002:1234"). */
  position: string;
}

export interface CutReport {
  /** Last transaction in the restored state; null when the state is the snapshot of an empty history. */
  included: TxnRef | null;
  /** First transaction of the log after the cut; null when the log holds nothing later. */
  firstExcluded: TxnRef | null;
}

function txnRef(meta: MetaState, i: number, basename: string): TxnRef {
  const gtid = formatGtid({ domain: meta.txnDomain[i]!, serverId: meta.txnServer[i]!, seq: meta.txnSeq[i]! });
  return { gtid, position: formatPosition(meta.txnPosition(i), basename) };
}

export function describeCut(meta: MetaState, cut: Cut, snapshot: SnapshotInfo, basename: string): CutReport {
  // The index is in commit order: the included transactions are a prefix of it.
  let last = -1;
  for (let i = 0; i < meta.txnCount; i++) {
    if (withinCut(meta.txnPosition(i), cut)) last = i;
    else break;
  }
  const firstExcluded = last + 1 < meta.txnCount ? txnRef(meta, last + 1, basename) : null;
  let included: TxnRef | null = last >= 0 ? txnRef(meta, last, basename) : null;
  // A snapshot's last transaction is not in the index (the snapshot holds its effects): when the
  // state ends at the snapshot, name the snapshot's GTID position at its binlog position.
  const snapPos: Position = snapshot.position;
  const lastPos = last >= 0 ? meta.txnPosition(last) : undefined;
  if ((!lastPos || comparePositions(lastPos, snapPos) < 0) && withinCut(snapPos, cut) && snapshot.begin.gtidPos) {
    included = { gtid: snapshot.begin.gtidPos, position: formatPosition(snapPos, basename) };
  }
  return { included, firstExcluded };
}

/** "includes up to GTID 0-1-42 (mariadb-bin.000002:1234); first excluded GTID 0-1-43" */
export function formatCutReport(r: CutReport): string {
  const inc = r.included ? `includes up to GTID ${r.included.gtid} (${r.included.position})` : 'includes no transaction';
  const exc = r.firstExcluded ? `first excluded GTID ${r.firstExcluded.gtid}` : 'nothing later in the log';
  return `${inc}; ${exc}`;
}
