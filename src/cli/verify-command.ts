// `pitr verify`: recompute the log's hash chains and topic settings as the reader (thin: flags, progress, output).
import { commandSummary } from './command-list.js';
import { addConnectionOptions } from './connection-options.js';
import type { Command } from 'commander';
import { verifyLog, formatFinding } from '../log/log-verifier.js';
import { kafkaClient } from '../log/kafka-log.js';
import { resolveConnections, type ConnectionFlags } from '../config/resolve-connections.js';
import { startProgress } from './progress.js';
import { saveLastVerify } from '../ops/verify-record.js';

interface VerifyFlags extends ConnectionFlags {
  anchor?: boolean;
  expect?: string;
  json?: boolean;
}

export function registerVerifyCommand(program: Command): void {
  const cmd = program
    .command('verify')
    .description(commandSummary('verify'))
    .option('--anchor', 'print the chain heads as one short digest to store elsewhere (stdout holds only the digest)')
    .option('--expect <digest>', 'also prove that the log still extends the state of this anchor digest');
  addConnectionOptions(cmd, { log: 'reader' })
    .option('--json', 'print the result as JSON')
    .action(async (opts: VerifyFlags) => {
      const conn = resolveConnections(opts);
      const kafka = kafkaClient(await conn.kafka('reader'), 'reader', { clientId: 'pitr-verify' });
      const progress = startProgress({ label: 'verifying', unit: 'offsets', json: opts.json });
      let res;
      try {
        res = await verifyLog({ kafka, sourceId: conn.sourceId, expect: opts.expect, onProgress: (done, total) => progress.update(done, total) });
      } finally {
        progress.stop();
      }
      // Kept for `pitr status` (last verify result); a read-only state folder must not fail verify.
      try {
        saveLastVerify(res.sourceId, { ok: res.ok, at: Math.floor(Date.now() / 1000), records: res.records, findings: res.findings.length, anchor: res.anchor });
      } catch {
        /* status then says verify never ran here */
      }
      if (opts.json) {
        process.stdout.write(
          JSON.stringify(res, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) + '\n',
        );
      } else {
        const lines = res.findings.map(formatFinding);
        const summary = res.ok
          ? `log of source "${res.sourceId}" verified: ${res.records} records in ${res.partitions.length} partitions, every chain intact${opts.expect ? ', extends the anchor' : ''}${abandonedNote(res.abandonedStaged)} (${res.seconds.toFixed(2)} s)`
          : `log of source "${res.sourceId}": ${res.findings.length} finding(s) in ${res.records} records`;
        if (opts.anchor) {
          // stdout holds only the digest, so `pitr verify --anchor > anchor.txt` stores exactly what --expect takes.
          process.stdout.write(`${res.anchor}\n`);
          process.stderr.write([...lines, summary].join('\n') + '\n');
        } else {
          process.stdout.write([...lines, summary].join('\n') + '\n');
        }
      }
      if (!res.ok) process.exitCode = 1;
    });
}

/** Chunks a killed capture left: counted once in the chain, never applied by any reader. */
function abandonedNote(a: { attempts: number; records: number }): string {
  return a.attempts ? `; ${a.records} records of ${a.attempts} staged transaction attempt(s) that never committed (never applied)` : '';
}
