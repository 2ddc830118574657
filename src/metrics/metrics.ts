// Prometheus metrics of the long-running commands (capture, guard, restore): one registry, named
// series, and a tiny API the loops call (`captureMetrics.transactions.inc(n)`); served over HTTP by
// startMetricsServer. Counters only move where the loops call them.
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { UsageError } from '../core/errors.js';

export const registry = new Registry();
let defaultsCollected = false;

const counter = (name: string, help: string, labelNames: string[] = []) =>
  new Counter({ name, help, labelNames, registers: [registry] });
const gauge = (name: string, help: string, labelNames: string[] = []) => new Gauge({ name, help, labelNames, registers: [registry] });

/** Capture: call these from CaptureSession (see the hook list in docs/operations.md). */
export const captureMetrics = {
  /** Seconds between the source's clock and the newest commit (or heartbeat) durably in the log. */
  lagSeconds: gauge('pitr_capture_lag_seconds', 'seconds between the source clock and the last commit or heartbeat written to the log'),
  /** Source commit time (epoch seconds) of the newest transaction in the log. */
  lastCommitTime: gauge('pitr_capture_last_commit_time_seconds', 'source commit time of the newest transaction in the log (epoch seconds)'),
  events: counter('pitr_capture_events_total', 'binlog events read from the source'),
  bytes: counter('pitr_capture_bytes_total', 'bytes of records appended to the log'),
  recordsWritten: counter('pitr_capture_records_written_total', 'records appended to the log (committed Kafka transactions only)'),
  transactions: counter('pitr_capture_transactions_total', 'source transactions appended to the log'),
  rowChanges: counter('pitr_capture_row_changes_total', 'row changes appended to the log'),
  errors: counter('pitr_capture_errors_total', 'failures capture rode out or stopped on, by component', ['component']),
  snapshotRows: counter('pitr_capture_snapshot_rows_total', 'snapshot rows appended to the log'),
  pendingBytes: gauge('pitr_capture_pending_bytes', 'bytes of source transactions read but not yet in the log'),
  paused: gauge('pitr_capture_paused', '1 while capture stops reading the binlog because the log is behind (backpressure)'),
  /** Call after every committed append: transactions, records and bytes in one place. */
  appended(txns: number, rowChanges: number, records: number, bytes: number, lastCommitTime?: number): void {
    this.transactions.inc(txns);
    this.rowChanges.inc(rowChanges);
    this.recordsWritten.inc(records);
    this.bytes.inc(bytes);
    if (lastCommitTime) {
      this.lastCommitTime.set(lastCommitTime);
      this.lagSeconds.set(Math.max(0, Date.now() / 1000 - lastCommitTime));
    }
  },
};

export const restoreMetrics = {
  rows: counter('pitr_restore_rows_total', 'rows loaded into restored tables'),
  recordsRead: counter('pitr_restore_records_read_total', 'log records read by restores'),
  tables: counter('pitr_restore_tables_total', 'tables restored'),
  running: gauge('pitr_restore_running', 'restores in progress'),
};

export const guardMetrics = {
  incidents: counter('pitr_guard_incidents_total', 'destructive transactions detected', ['kind']),
  rebuilds: counter('pitr_guard_rebuilds_total', 'victim tables rebuilt into the recovery database'),
  lagSeconds: gauge('pitr_guard_lag_seconds', 'seconds between now and the commit time of the last transaction guard examined'),
};

/** Prometheus text exposition of every series. */
export function metricsText(): Promise<string> {
  return registry.metrics();
}

export interface MetricsServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Parses --metrics-port: a TCP port, optionally host:port (default host 127.0.0.1). */
export function parseMetricsAddress(spec: string): { host: string; port: number } {
  const m = /^(?:(.+):)?(\d+)$/.exec(spec.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new UsageError(`--metrics-port takes a port or host:port, not "${spec}".`);
  return { host: m[1]?.replace(/^\[|\]$/g, '') ?? '127.0.0.1', port };
}

/**
 * Serves GET /metrics (Prometheus text) and GET /healthz. Loopback by default: metrics name tables and
 * databases, so exposing them further is a deliberate choice (host:port).
 */
export async function startMetricsServer(spec: string | number, host?: string): Promise<MetricsServer> {
  const addr = typeof spec === 'number' ? { host: host ?? '127.0.0.1', port: spec } : parseMetricsAddress(spec);
  if (!defaultsCollected) {
    collectDefaultMetrics({ register: registry, prefix: 'pitr_' });
    defaultsCollected = true;
  }
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && (path === '/metrics' || path === '/')) {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'Content-Type': registry.contentType });
          res.end(text);
        },
        (err: Error) => {
          res.writeHead(500, { 'Content-Type': 'text/plain' });
          res.end(`metrics failed: ${err.message}\n`);
        },
      );
    } else if (req.method === 'GET' && path === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok\n');
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found: try /metrics\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new UsageError(`cannot serve metrics on ${addr.host}:${addr.port} (${err.code ?? err.message}).`)),
    );
    server.listen(addr.port, addr.host, () => resolve());
  });
  server.unref();
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `http://${addr.host.includes(':') ? `[${addr.host}]` : addr.host}:${port}/metrics`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
