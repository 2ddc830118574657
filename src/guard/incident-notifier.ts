// Guard's webhook: POSTs each new incident report as JSON, with a timeout; a webhook that refuses or cannot
// be reached is logged, never fatal (the report is on stdout and in the ledger already).
import { redact } from '../core/errors.js';
import { logger } from '../core/logger.js';
import type { IncidentReport } from './incident-report.js';

export class IncidentNotifier {
  private readonly log = logger().child({ component: 'guard' });

  constructor(
    /** Webhook URL; undefined: no webhook. */
    private readonly url: string | undefined,
    private readonly timeoutMs = 5000,
  ) {}

  /** Sends the report unless it was known before (a --from-start rerun); true when the webhook accepted it. */
  async notify(r: IncidentReport): Promise<boolean> {
    if (!this.url || r.known) return false;
    try {
      const res = await fetch(this.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(r), signal: AbortSignal.timeout(this.timeoutMs) });
      if (!res.ok) this.log.warn({ status: res.status }, 'the webhook refused the incident');
      return res.ok;
    } catch (err) {
      this.log.warn({ err: redact((err as Error).message) }, 'could not call the webhook');
      return false;
    }
  }
}
