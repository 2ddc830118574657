// Source positions as a value type with one total order (binlog file sequence, end position),
// in the manner of gh-ost's BinlogCoordinates: commit order is binlog order.

export interface Position {
  /** Source generation (failovers so far); absent means 0. Compared first. */
  epoch?: number;
  /** Numeric suffix of the binlog file (mariadb-bin.000007 -> 7). */
  fileSeq: number;
  /** End position of the commit event in that file. */
  endPos: number;
}

/** Total order of positions: negative when a is earlier, 0 when equal, positive when later. */
export function comparePositions(a: Position, b: Position): number {
  const e = (a.epoch ?? 0) - (b.epoch ?? 0);
  if (e !== 0) return e;
  return a.fileSeq !== b.fileSeq ? a.fileSeq - b.fileSeq : a.endPos - b.endPos;
}

export function formatPosition(p: Position, basename = 'binlog'): string {
  return `${p.epoch ? `epoch ${p.epoch} ` : ''}${basename}.${String(p.fileSeq).padStart(6, '0')}:${p.endPos}`;
}

/** Sequence number of a binlog file name: "mariadb-bin.000012" -> 12. */
export function binlogFileSeq(file: string): number {
  const m = /\.(\d+)$/.exec(file);
  if (!m) throw new Error(`binlog file name "${file}" has no numeric suffix`);
  return Number(m[1]);
}

/** Basename of a binlog file name: "mariadb-bin.000012" -> "mariadb-bin". */
export function binlogBasename(file: string): string {
  return file.replace(/\.\d+$/, '');
}

/** A cut: keep every transaction at or before `at` (inclusive) or strictly before it. */
export interface Cut {
  at: Position;
  inclusive: boolean;
  /** How the user asked for it, for messages ("as of 2020-02-23T18:56:00Z", "before GTID 0-1-9"). */
  label: string;
}

/** True when a transaction committed at `p` belongs to the state at `cut`. */
export function withinCut(p: Position, cut: Cut): boolean {
  const c = comparePositions(p, cut.at);
  return cut.inclusive ? c <= 0 : c < 0;
}
