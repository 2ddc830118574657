// `pitr guard` entry: runs a GuardSession (guard-session.ts) and, when its saved state turns out not to
// match the log (rewritten since it was saved), runs a fresh one that reads the log from its start.
import type { MysqlUrl } from '../core/mysql-url.js';
import type { KafkaSettings } from '../core/settings.js';
import { logger } from '../core/logger.js';
import type { IncidentReport } from './incident-report.js';
import type { ThresholdPolicy } from './thresholds.js';
import { GuardSession, GuardStateMismatch } from './guard-session.js';

export { guardGroupId } from './guard-session.js';
export { LEDGER_TABLE } from './incident-ledger.js';

export interface GuardOptions {
  kafka: KafkaSettings;
  sourceId: string;
  /** Recovery server the copies go to. */
  target: MysqlUrl;
  /** Source URL for the "put it back" command (never connected to). */
  source?: MysqlUrl;
  intoDatabase: string;
  policy: ThresholdPolicy;
  /** Suffix of the consumer group, for several guards with different settings on one log. */
  name?: string;
  /** Forget the saved position: re-examine the whole log. */
  fromStart?: boolean;
  /** Process what the log holds now, then exit. */
  once?: boolean;
  concurrency?: number;
  /** Webhook URL: each report is POSTed as JSON. */
  notify?: string;
  onReport: (r: IncidentReport) => void;
  signal?: AbortSignal;
}

export interface GuardResult {
  transactions: number;
  incidents: number;
  seconds: number;
  /** Peak resident memory of the guard process (MB), rebuilds included. */
  peakRssMb?: number;
}

export async function runGuard(opts: GuardOptions): Promise<GuardResult> {
  try {
    return await new GuardSession(opts).run();
  } catch (err) {
    if (!(err instanceof GuardStateMismatch)) throw err;
    // Incidents the first session reported are in the ledger: the rerun does not report them again.
    logger().child({ component: 'guard' }).warn({ reason: err.message }, 'saved guard state dropped: reading the log from its start');
    return await new GuardSession(opts, true).run();
  }
}
