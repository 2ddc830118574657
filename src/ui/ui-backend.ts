// What the UI's JSON endpoints answer, each by calling the machinery the commands use: the log scan
// for the timeline, collectStatus for the tables' restorable windows, runAsOfQuery (a table at a
// moment), runDiff, runHistory, and runRestore with the per-table row count and checksum summary.
import { randomBytes } from 'node:crypto';
import { collectStatus } from '../ops/status-probe.js';
import type { StatusReport } from '../ops/status.js';
import { runAsOfQuery } from '../analysis/run-as-of-query.js';
import { runDiff } from '../analysis/run-diff.js';
import { runHistory } from '../analysis/run-history.js';
import { parseKeySpec } from '../analysis/row-image.js';
import { runRestore } from '../replay/restore.js';
import { parseTableName } from '../replay/cut-planner.js';
import { parseCutTime, formatEpoch } from '../core/cut-time.js';
import { formatGtid } from '../core/gtid.js';
import { PitrError, UsageError, redact } from '../core/errors.js';
import { connectMysql, qid } from '../core/mysql-conn.js';
import { formatQualifiedName } from '../core/table-name.js';
import type { MysqlUrl } from '../core/mysql-url.js';
import type { KafkaSettings } from '../core/settings.js';
import { tableChecksums } from '../demo/table-checksums.js';
import { loadDrillReference, referenceApplies } from '../demo/drill-reference.js';
import type { ThresholdPolicy } from '../guard/thresholds.js';
import { logger } from '../core/logger.js';
import { scanLog, type LogScan } from './log-scan.js';
import { defaultStep } from './timeline.js';
import type { RestoreEvent, RestoreSummary, TimelineAnswer } from './api-types.js';
import { checkRestoreRequest } from './restore-request.js';

export interface BackendOptions {
  kafka: KafkaSettings;
  sourceId: string;
  /** The recovery server: restores, the as-of cache, guard's ledger. */
  target: () => Promise<MysqlUrl>;
  /** The source, for capture's lag in the status (optional). */
  source?: () => Promise<MysqlUrl>;
  policy: ThresholdPolicy;
  guardDatabase: string;
  cacheBytes: number;
  /** How the log is read for the timeline (default scanLog; the bench hands in a prepared scan). */
  scan?: () => Promise<LogScan>;
}

export type { RestoreEvent, RestoreSummary, TimelineAnswer };

interface RestoreJob {
  id: string;
  events: RestoreEvent[];
  listeners: Set<{ on: (e: RestoreEvent) => void; end: () => void }>;
  finished: boolean;
}

const MAX_PAGE = 500;

export class UiBackend {
  private scan: Promise<LogScan> | undefined;
  private readonly jobs = new Map<string, RestoreJob>();
  private running: RestoreJob | undefined;

  constructor(private readonly opts: BackendOptions) {}

  /** The log scanned once and kept; `refresh` scans again (the log grows while the UI runs). */
  private logScan(refresh = false): Promise<LogScan> {
    if (refresh || !this.scan) {
      const p = this.opts.scan ? this.opts.scan() : (async () => {
        const target = await this.opts.target().catch(() => undefined);
        return scanLog({
          kafka: this.opts.kafka,
          sourceId: this.opts.sourceId,
          policy: this.opts.policy,
          ...(target ? { guardLedger: { target, database: this.opts.guardDatabase } } : {}),
        });
      })();
      this.scan = p;
      // A failed scan is not kept: the next request tries again (Kafka back up).
      p.catch(() => {
        if (this.scan === p) this.scan = undefined;
      });
    }
    return this.scan;
  }

  async status(): Promise<StatusReport> {
    const source = this.opts.source ? await this.opts.source().catch(() => undefined) : undefined;
    return collectStatus({ kafka: this.opts.kafka, sourceId: this.opts.sourceId, source, maxLagSeconds: 60, allowGaps: true });
  }

  async timeline(q: { from?: string; to?: string; step?: string; refresh?: string }): Promise<TimelineAnswer> {
    const s = await this.logScan(q.refresh === '1' || q.refresh === 'true');
    const span = s.timeline.span() ?? null;
    const from = q.from !== undefined ? parseCutTime(q.from) : (span?.from ?? Math.floor(Date.now() / 1000));
    const to = q.to !== undefined ? parseCutTime(q.to) : (span?.to ?? from);
    if (to < from) throw new UsageError(`the window ends (${formatEpoch(to)}) before it starts (${formatEpoch(from)}).`);
    let step = q.step !== undefined ? Number(q.step) : defaultStep(from, to);
    if (!Number.isInteger(step) || step < 1) throw new UsageError(`step ${q.step} is not a whole number of seconds.`);
    // At most ~200,000 buckets per answer: a wider window asks for a coarser step.
    step = Math.max(step, Math.ceil((to - from + 1) / 200_000));
    const series = s.timeline.series(from, to, step);
    return {
      ...series,
      from,
      to,
      span,
      markers: s.timeline.markersIn(from - step, to + step),
      transactionsTotal: s.timeline.transactions,
      scannedAt: new Date(s.at).toISOString(),
      scanSeconds: s.seconds,
      notes: s.ledgerNote ? [s.ledgerNote] : [],
    };
  }

  async tableRows(): Promise<{ tables: { table: string; t: number[]; rows: number[] }[] }> {
    return { tables: (await this.logScan()).timeline.tableRows };
  }

  /** A page of a table's rows as of a second (query --as-of). */
  async tableAt(q: { table?: string; asOf?: string; page?: string; pageSize?: string }) {
    if (!q.table) throw new UsageError('say which table: table=db.t.');
    if (!q.asOf) throw new UsageError('say when: asOf=T (ISO-8601 or @epoch).');
    const t = parseTableName(q.table);
    const page = Math.max(0, Number(q.page ?? 0) | 0);
    const size = Math.min(MAX_PAGE, Math.max(1, Number(q.pageSize ?? 50) | 0));
    const asOf = parseCutTime(q.asOf);
    const name = formatQualifiedName(t.database, t.table);
    const res = await runAsOfQuery({
      kafka: this.opts.kafka,
      sourceId: this.opts.sourceId,
      target: await this.opts.target(),
      sql: `SELECT * FROM ${name} LIMIT ${size + 1} OFFSET ${page * size}`,
      asOf,
      cacheBytes: this.opts.cacheBytes,
    });
    const count = await runAsOfQuery({
      kafka: this.opts.kafka,
      sourceId: this.opts.sourceId,
      target: await this.opts.target(),
      sql: `SELECT COUNT(*) FROM ${name}`,
      asOf,
      cacheBytes: this.opts.cacheBytes,
    });
    return {
      table: name,
      asOf: formatEpoch(asOf),
      cut: res.cut,
      position: res.position,
      columns: res.columns,
      rows: res.rows.slice(0, size),
      page,
      pageSize: size,
      more: res.rows.length > size,
      total: Number(count.rows[0]?.[0] ?? 0),
      seconds: res.seconds + count.seconds,
    };
  }

  async diff(q: { table?: string; from?: string; to?: string; limit?: string }) {
    if (!q.table || !q.from || !q.to) throw new UsageError('a diff needs table=db.t, from=T1 and to=T2.');
    return runDiff({
      kafka: this.opts.kafka,
      sourceId: this.opts.sourceId,
      table: parseTableName(q.table),
      from: parseCutTime(q.from),
      to: parseCutTime(q.to),
      limit: q.limit !== undefined ? Math.max(1, Number(q.limit) | 0) : 100,
      recovery: this.opts.target,
    });
  }

  async history(q: { table?: string; pk?: string; from?: string; to?: string }) {
    if (!q.table || !q.pk) throw new UsageError("a row's history needs table=db.t and pk=V (or pk=a=1,b=x).");
    return runHistory({
      kafka: this.opts.kafka,
      sourceId: this.opts.sourceId,
      table: parseTableName(q.table),
      keys: [parseKeySpec(q.pk)],
      from: q.from ? parseCutTime(q.from) : undefined,
      to: q.to ? parseCutTime(q.to) : undefined,
    });
  }

  restoreCommand(body: unknown): { command: string } {
    return { command: checkRestoreRequest(body).command };
  }

  /** Starts a restore (one at a time); its events are kept for subscribers that come later. */
  startRestore(body: unknown): { id: string; command: string } {
    const req = checkRestoreRequest(body);
    if (this.running && !this.running.finished) throw new UsageError('a restore is already running; wait for it to finish.');
    const job: RestoreJob = { id: randomBytes(6).toString('hex'), events: [], listeners: new Set(), finished: false };
    this.jobs.set(job.id, job);
    this.running = job;
    const emit = (e: RestoreEvent) => {
      job.events.push(e);
      for (const l of job.listeners) l.on(e);
    };
    emit({ type: 'started', command: req.command });
    let lastProgress = 0;
    void (async () => {
      try {
        const target = await this.opts.target();
        const res = await runRestore({
          kafka: this.opts.kafka,
          sourceId: this.opts.sourceId,
          target,
          // As the command does: a target that is the source is refused (so is the log's recorded source).
          source: this.opts.source ? await this.opts.source().catch(() => undefined) : undefined,
          ...(req.tables ? { tables: req.tables } : { database: req.database! }),
          cut: req.cut,
          intoDatabase: req.intoDatabase,
          replace: req.replace,
          onProgress: (done, total) => {
            // A few events a second are enough for a progress bar.
            if (Date.now() - lastProgress < 200 && done < total) return;
            lastProgress = Date.now();
            emit({ type: 'progress', done, total });
          },
        });
        const db = await connectMysql(target, 'target');
        const tables: RestoreSummary['tables'] = [];
        const ref = loadDrillReference();
        const cut = 'asOf' in req.cut ? { asOf: req.cut.asOf } : 'beforeGtid' in req.cut ? { beforeGtid: formatGtid(req.cut.beforeGtid) } : {};
        const sourceDb = req.database ?? req.tables?.[0]?.database;
        const useRef = ref && sourceDb !== undefined && req.tables?.every((t) => t.database === sourceDb) !== false && referenceApplies(ref, sourceDb, cut) ? ref : undefined;
        try {
          for (const t of res.tables) {
            const into = req.intoDatabase ?? t.database;
            const sums = await tableChecksums(db, into, [t.table]);
            const mine = sums[t.table]!;
            const r = useRef?.tables[t.table];
            tables.push({
              table: formatQualifiedName(t.database, t.table),
              into: formatQualifiedName(into, t.table),
              rows: mine.rows,
              checksum: mine.checksum,
              ...(r ? { reference: { rows: r.rows, checksum: r.checksum, equal: r.rows === mine.rows && r.checksum === mine.checksum } } : {}),
            });
          }
        } finally {
          await db.end().catch(() => undefined);
        }
        emit({
          type: 'done',
          summary: {
            command: req.command,
            cut: res.cutLabel,
            position: res.position,
            seconds: res.seconds,
            tables,
            ...(useRef ? { reference: `the source's own state, recorded by pitr demo --keep just before the attack on ${qid(useRef.database)}` } : {}),
          },
        });
      } catch (err) {
        logger().warn({ err: redact((err as Error).message) }, 'restore from the UI failed');
        emit({ type: 'error', message: errorMessage(err) });
      } finally {
        job.finished = true;
        for (const l of job.listeners) l.end();
        job.listeners.clear();
      }
    })();
    return { id: job.id, command: req.command };
  }

  /** Replays a job's events so far, then follows it; returns an unsubscribe, or undefined for an unknown job. */
  followRestore(id: string, listener: (e: RestoreEvent) => void, end: () => void): (() => void) | undefined {
    const job = this.jobs.get(id);
    if (!job) return undefined;
    for (const e of job.events) listener(e);
    if (job.finished) {
      end();
      return () => undefined;
    }
    const l = { on: listener, end };
    job.listeners.add(l);
    return () => job.listeners.delete(l);
  }
}

/** One sentence for the page: pitr's own message, passwords removed. */
export function errorMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return redact(err instanceof PitrError ? msg : `unexpected error: ${msg}`);
}
