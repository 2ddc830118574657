// Health of one source's capture and log, from facts gathered elsewhere (status-probe.ts): the
// folded meta topic, the source's binlog head, topic offsets, the last `pitr verify` result. Decides
// running / lagging / stopped, the lag in transactions and seconds, each table's restorable window,
// and whether the whole is healthy. Pure.
import type { MetaState } from '../log/meta-state.js';
import { binlogBasename, comparePositions, formatPosition, type Position } from '../core/position.js';
import { formatEpoch } from '../core/cut-time.js';
import { ddlEffect } from '../guard/ddl-effects.js';
import { parseGtidPos } from '../core/gtid.js';
import { formatQualifiedName, fromTableId, tableId } from '../core/table-name.js';

export type CaptureState = 'running' | 'lagging' | 'stopped' | 'never-ran' | 'unknown';

/** Capture writes a heartbeat or a batch at least every second; silence longer than this means it is not running. */
export const STALE_AFTER_SECONDS = 5;

export interface SourceHead {
  gtidPos: string;
  /** Source clock, epoch seconds. */
  now: number;
}

export interface TopicSize {
  topic: string;
  partitions: number;
  /** Offsets held (high - low, summed over partitions): records plus transaction markers. */
  offsets: number;
}

export interface LastVerify {
  ok: boolean;
  /** When verify ran, epoch seconds. */
  at: number;
  records: number;
  findings: number;
  anchor?: string;
  /** Records in the log's chains up to the anchor (each partition's head seq + 1, summed). */
  chainRecords?: number;
  /** Set when the run verified only the records after this earlier anchor (`verify --since`). */
  since?: string;
  /** The newest run that found nothing: the anchor `verify --since last` continues from. */
  good?: {
    at: number;
    anchor: string;
    chainRecords: number;
    /** Staged transactions open at that anchor (their chunks were counted before it). */
    openStaged: Array<[string, { records: number; partition: number; offset: string }]>;
  };
}

export interface StatusFacts {
  sourceId: string;
  meta: MetaState;
  /** undefined when the source could not be reached. */
  head?: SourceHead;
  headError?: string;
  /** Any record written to the log within STALE_AFTER_SECONDS (by Kafka timestamp); undefined if unknown. */
  recentlyWritten?: boolean;
  topics: TopicSize[];
  lastVerify?: LastVerify;
  /** Local clock, epoch seconds (used when the source is unreachable). */
  now: number;
  maxLagSeconds: number;
  /** Gaps recorded in the log do not make the status unhealthy (the operator knows them). */
  allowGaps?: boolean;
}

export interface DomainLag {
  domain: number;
  source: string;
  log: string;
  transactions: number;
}

export interface TableWindow {
  table: string;
  /** Each stretch the table existed in the log: from its snapshot or CREATE, to its DROP or null (up to now). */
  windows: { from: string; to: string | null; fromEvent: 'snapshot' | 'create' | 'rename'; toEvent?: 'drop' | 'rename' | 'not captured' }[];
}

export interface StatusReport {
  sourceId: string;
  healthy: boolean;
  problems: string[];
  notes: string[];
  capture: {
    state: CaptureState;
    lagSeconds: number | null;
    lagTransactions: number | null;
    lagByDomain: DomainLag[];
    /** Seconds since the last commit or heartbeat in the log, by the source's clock. */
    sinceLastWrite: number | null;
    lastPosition: string | null;
    lastGtidPos: string | null;
    lastTime: string | null;
    sourceGtidPos: string | null;
    sourceTime: string | null;
  };
  /** Restorable time: from the first complete snapshot, split by gaps, up to the newest commit or heartbeat. */
  coverage: { from: string; to: string }[];
  gaps: { after: string; afterGtidPos: string; detected: string; reason: string }[];
  tables: TableWindow[];
  log: { topics: TopicSize[]; metaRecords: number; transactions: number; snapshots: number };
  verify: (LastVerify & { atIso: string; agoSeconds: number }) | null;
}


/** Transactions the source has and the log lacks, per GTID domain. */
export function domainLag(sourcePos: string, logPos: string): DomainLag[] {
  const src = parseGtidPos(sourcePos);
  const log = parseGtidPos(logPos);
  const out: DomainLag[] = [];
  for (const [domain, s] of [...src].sort((a, b) => a[0] - b[0])) {
    const l = log.get(domain);
    const n = l === undefined ? s.seq : s.seq > l.seq ? s.seq - l.seq : 0n;
    out.push({ domain, source: s.text, log: l?.text ?? '', transactions: Number(n) });
  }
  return out;
}

interface Event {
  position: Position;
  time: number;
  apply: (live: Map<string, TableWindow['windows'][number]>, closed: TableWindow[]) => void;
}

/** Each table's stretches of existence in the log, from the snapshots and the DDL history. */
export function tableWindows(meta: MetaState): TableWindow[] {
  // Keyed by tableId: "db.table" is ambiguous for names holding a dot; printed quoted where needed.
  const all = new Map<string, TableWindow>();
  const live = new Map<string, TableWindow['windows'][number]>();
  const open = (key: string, time: number, fromEvent: 'snapshot' | 'create' | 'rename') => {
    if (live.has(key)) return;
    const w = { from: formatEpoch(time), to: null, fromEvent };
    live.set(key, w);
    let t = all.get(key);
    if (!t) {
      const n = fromTableId(key);
      all.set(key, (t = { table: formatQualifiedName(n.database, n.table), windows: [] }));
    }
    t.windows.push(w);
  };
  const close = (key: string, time: number, toEvent: 'drop' | 'rename' | 'not captured') => {
    const w = live.get(key);
    if (!w) return;
    w.to = formatEpoch(time) as never;
    w.toEvent = toEvent;
    live.delete(key);
  };
  const events: Event[] = [];
  // Full snapshots, and partial ones (tables a wider --tables filter added).
  for (const s of meta.snapshots.filter((x) => x.end)) {
    events.push({
      position: s.position,
      time: s.begin.time,
      apply: () => {
        for (const t of s.begin.tables) open(tableId(t.database, t.table), s.begin.time, 'snapshot');
      },
    });
  }
  // capture --narrow: the tables it left out are covered up to there, not after.
  for (const e of meta.coverageEnds) {
    events.push({
      position: e.after,
      time: e.end.afterTime,
      apply: () => {
        for (const t of e.end.tables) close(tableId(t.database, t.table), e.end.afterTime, 'not captured');
      },
    });
  }
  for (const d of meta.ddl) {
    const time = d.ddl.commitTime;
    events.push({
      position: d.position,
      time,
      apply: () => {
        const e = ddlEffect(d.ddl.statement, d.ddl.defaultDatabase);
        const k = (r: { database: string; table: string }) => tableId(r.database, r.table);
        if (e.kind === 'create') open(k(e.table), time, 'create');
        else if (e.kind === 'dropTables') for (const t of e.tables) close(k(t), time, 'drop');
        else if (e.kind === 'dropDatabase') {
          for (const key of [...live.keys()]) if (fromTableId(key).database === e.database) close(key, time, 'drop');
        } else if (e.kind === 'rename') {
          for (const p of e.pairs) {
            if (!live.has(k(p.from))) continue;
            close(k(p.from), time, 'rename');
            open(k(p.to), time, 'rename');
          }
        } else if (e.kind === 'alter' && e.renameTo && live.has(k(e.table))) {
          close(k(e.table), time, 'rename');
          open(k(e.renameTo), time, 'rename');
        }
      },
    });
  }
  // Stable sort: a snapshot and DDL at one position keep their log order.
  events.sort((a, b) => comparePositions(a.position, b.position));
  for (const e of events) e.apply(live, []);
  return [...all.values()].sort((a, b) => a.table.localeCompare(b.table));
}

/** Decides the capture state and health of one source. */
export function assessStatus(f: StatusFacts): StatusReport {
  const { meta } = f;
  const problems: string[] = [];
  const notes: string[] = [];
  const resume = meta.resume;
  const snaps = meta.completeSnapshots();
  const lastGtidPos = resume?.gtidPos ?? snaps.at(-1)?.begin.gtidPos;
  const lastTime = resume?.time ?? snaps.at(-1)?.begin.time;
  const endPos = meta.endPosition();
  const basename = binlogBasename(resume?.binlogFile ?? snaps.at(-1)?.begin.binlogFile ?? 'binlog');
  const now = f.head?.now ?? f.now;

  let state: CaptureState;
  let lagSeconds: number | null = null;
  let lagTransactions: number | null = null;
  let lagByDomain: DomainLag[] = [];
  const sinceLastWrite = lastTime !== undefined ? Math.max(0, now - lastTime) : null;

  if (lastGtidPos === undefined || lastTime === undefined) {
    state = 'never-ran';
    problems.push(`the log of source "${f.sourceId}" holds no complete snapshot yet: capture never ran to completion (run pitr capture)`);
  } else if (!f.head) {
    state = 'unknown';
    problems.push(`the source is unreachable, so capture's lag is unknown (${f.headError ?? 'no answer'})`);
  } else {
    lagByDomain = domainLag(f.head.gtidPos, lastGtidPos);
    lagTransactions = lagByDomain.reduce((n, d) => n + d.transactions, 0);
    // Nothing missing: no lag, whatever the age of the last write. Something missing: it is at
    // least as old as the newest commit the log holds.
    lagSeconds = lagTransactions === 0 ? 0 : Math.max(0, now - lastTime);
    const alive = f.recentlyWritten ?? (sinceLastWrite !== null && sinceLastWrite <= STALE_AFTER_SECONDS);
    if (!alive && (lagTransactions > 0 || sinceLastWrite! > STALE_AFTER_SECONDS)) {
      state = 'stopped';
      const since = lagTransactions > 0 ? lagSeconds : sinceLastWrite!;
      if (since > f.maxLagSeconds) {
        problems.push(
          `capture is not running: nothing written to the log for ${since} s (threshold ${f.maxLagSeconds} s)` +
            (lagTransactions > 0 ? `, ${lagTransactions} source transaction(s) missing` : ''),
        );
      } else notes.push(`capture wrote nothing for ${since} s; it may be restarting`);
    } else if (lagSeconds > f.maxLagSeconds) {
      state = 'lagging';
      problems.push(`capture lags ${lagSeconds} s (${lagTransactions} transactions) behind the source, over the ${f.maxLagSeconds} s threshold`);
    } else state = 'running';
  }

  const gaps = meta.gaps.map((g) => ({
    after: formatEpoch(g.gap.afterTime),
    afterGtidPos: g.gap.afterGtidPos,
    detected: formatEpoch(g.gap.detectedTime),
    reason: g.gap.reason,
  }));
  if (gaps.length) {
    const text = `the log has ${gaps.length} gap(s): no cut between ${gaps.map((g) => `${g.after} and the next snapshot`).join(', ')}`;
    if (f.allowGaps) notes.push(text);
    else problems.push(text + ' (--allow-gaps accepts known gaps)');
  }

  // Tables capture stopped capturing (--narrow) and never took back: their window ends there.
  const uncaptured = tableWindows(meta).filter((t) => t.windows.at(-1)?.toEvent === 'not captured');
  if (uncaptured.length) {
    const text =
      `${uncaptured.length} table(s) are no longer captured (capture --narrow): ` +
      uncaptured.map((t) => `${t.table} after ${t.windows.at(-1)!.to}`).slice(0, 8).join(', ') +
      (uncaptured.length > 8 ? ', ...' : '');
    if (f.allowGaps) notes.push(text);
    else problems.push(text + ' (--allow-gaps accepts known gaps)');
  }

  if (f.lastVerify) {
    if (!f.lastVerify.ok) problems.push(`the last pitr verify (${formatEpoch(f.lastVerify.at)}) found ${f.lastVerify.findings} problem(s) in the log`);
  } else notes.push('pitr verify has not run on this machine yet');

  return {
    sourceId: f.sourceId,
    healthy: problems.length === 0,
    problems,
    notes,
    capture: {
      state,
      lagSeconds,
      lagTransactions,
      lagByDomain,
      sinceLastWrite,
      lastPosition: endPos ? formatPosition(endPos, basename) : null,
      lastGtidPos: lastGtidPos ?? null,
      lastTime: lastTime !== undefined ? formatEpoch(lastTime) : null,
      sourceGtidPos: f.head?.gtidPos ?? null,
      sourceTime: f.head ? formatEpoch(f.head.now) : null,
    },
    coverage: meta.coverageWindows().map((w) => ({ from: formatEpoch(w.from), to: formatEpoch(w.to) })),
    gaps,
    tables: tableWindows(meta),
    log: {
      topics: f.topics,
      metaRecords: meta.records,
      transactions: meta.txnCount,
      snapshots: snaps.length,
    },
    verify: f.lastVerify ? { ...f.lastVerify, atIso: formatEpoch(f.lastVerify.at), agoSeconds: Math.max(0, f.now - f.lastVerify.at) } : null,
  };
}

/** The report as a DBA reads it. */
export function formatStatus(r: StatusReport): string {
  const c = r.capture;
  const lines: string[] = [];
  lines.push(`source "${r.sourceId}": ${r.healthy ? 'HEALTHY' : 'UNHEALTHY'}`);
  lines.push(
    `  capture     ${c.state}` +
      (c.lagSeconds !== null ? `, lag ${c.lagSeconds} s / ${c.lagTransactions} transaction(s)` : '') +
      (c.sinceLastWrite !== null ? `, last write ${c.sinceLastWrite} s ago` : ''),
  );
  if (c.lastPosition) lines.push(`  position    ${c.lastPosition}  gtid ${c.lastGtidPos || '(none)'}  at ${c.lastTime}`);
  if (c.sourceGtidPos !== null) lines.push(`  source      gtid ${c.sourceGtidPos || '(none)'}  clock ${c.sourceTime}`);
  for (const d of c.lagByDomain.filter((x) => x.transactions > 0)) lines.push(`  domain ${d.domain}    source ${d.source}  log ${d.log || '(none)'}  missing ${d.transactions}`);
  lines.push(`  restorable  ${r.coverage.length ? r.coverage.map((w) => `${w.from} .. ${w.to}`).join(', ') : '(nothing yet)'}`);
  for (const g of r.gaps) lines.push(`  gap         after ${g.after} (gtid ${g.afterGtidPos || '-'}): ${g.reason}`);
  const size = r.log.topics.map((t) => `${t.topic} ${t.offsets} offsets in ${t.partitions} partition(s)`).join(', ');
  lines.push(`  log         ${r.log.transactions} transactions, ${r.log.snapshots} snapshot(s); ${size}`);
  lines.push(`  verify      ${r.verify ? formatVerify(r.verify) : 'never run here'}`);
  if (r.tables.length) {
    lines.push('  tables (restorable from .. to; "now" = the newest cut above):');
    const width = Math.min(48, Math.max(...r.tables.map((t) => t.table.length)));
    for (const t of r.tables) {
      const w = t.windows.map((x) => `${x.from} (${x.fromEvent}) .. ${x.to ? `${x.to} (${x.toEvent})` : 'now'}`).join('; ');
      lines.push(`    ${t.table.padEnd(width)}  ${w}`);
    }
  }
  for (const p of r.problems) lines.push(`  PROBLEM     ${p}`);
  for (const n of r.notes) lines.push(`  note        ${n}`);
  return lines.join('\n') + '\n';
}

/** "ok at T (5 min ago): up to 2000532 records, 10000 new since the previous anchor". */
function formatVerify(v: NonNullable<StatusReport['verify']>): string {
  const upTo = v.chainRecords !== undefined ? `up to ${v.chainRecords} records` : `${v.records} records`;
  const how = v.since ? `, ${v.records} new since the previous anchor` : '';
  const head = `${v.ok ? 'ok' : 'FAILED'} at ${v.atIso} (${formatAgo(v.agoSeconds)}): ${upTo}${how}`;
  if (v.ok) return head;
  const good = v.good ? `; last clean run ${formatEpoch(v.good.at)}, up to ${v.good.chainRecords} records` : '';
  return `${head}, ${v.findings} finding(s)${good}`;
}

function formatAgo(s: number): string {
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}
