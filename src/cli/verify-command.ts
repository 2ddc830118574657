// `pitr verify`: recompute the log's hash chains and topic settings as the reader, the whole log or only what
// follows an anchor (`--since`) (thin: flags, progress, output, the saved result).
import { commandSummary } from './command-list.js';
import { addConnectionOptions } from './connection-options.js';
import type { Command } from 'commander';
import { verifyLog, formatFinding, type VerifyResult } from '../log/log-verifier.js';
import { resolveConnections, type ConnectionFlags } from '../config/resolve-connections.js';
import { startProgress } from './progress.js';
import { lastVerifyFile, loadLastVerify, loadOpenStaged, saveLastVerify, storeOpenStaged } from '../ops/verify-record.js';
import { UsageError } from '../core/errors.js';
import { logger } from '../core/logger.js';

interface VerifyFlags extends ConnectionFlags {
  anchor?: boolean;
  expect?: string;
  since?: string;
  parallel?: string;
  json?: boolean;
}

export function registerVerifyCommand(program: Command): void {
  const cmd = program
    .command('verify')
    .description(commandSummary('verify'))
    .option('--anchor', 'print the chain heads as one short digest to store elsewhere (stdout holds only the digest)')
    .option('--expect <digest>', 'also prove that the log still extends the state of this anchor digest')
    .option(
      '--since <digest|last>',
      'verify only the records after this anchor (and prove the log still extends it); "last" = the anchor of the last clean verify on this host',
    )
    .option('--parallel <n>', 'worker threads reading partitions (default: one per core, at most 4)');
  addConnectionOptions(cmd, { log: 'reader' })
    .option('--json', 'print the result as JSON')
    .action(async (opts: VerifyFlags) => {
      const conn = resolveConnections(opts);
      const parallel = opts.parallel === undefined ? undefined : Number(opts.parallel);
      if (parallel !== undefined && !(Number.isInteger(parallel) && parallel >= 1 && parallel <= 64)) {
        throw new UsageError(`--parallel takes a whole number from 1 to 64, not "${opts.parallel}".`);
      }
      const saved = loadLastVerify(conn.sourceId);
      let since = opts.since;
      if (since === 'last') {
        if (!saved?.good) throw new UsageError(`no clean verify of source "${conn.sourceId}" is recorded in ${lastVerifyFile(conn.sourceId)}: run pitr verify once without --since.`);
        since = saved.good.anchor;
      }
      // The previous clean run's open staged transactions go with its anchor only.
      const openStaged = since !== undefined && saved?.good?.anchor === since ? loadOpenStaged(saved.good.openStaged) : undefined;
      const progress = startProgress({ label: 'verifying', unit: 'offsets', json: opts.json });
      let res: VerifyResult;
      try {
        res = await verifyLog({ kafka: await conn.kafka('reader'), sourceId: conn.sourceId, expect: opts.expect, since, openStaged, parallel, onProgress: (done, total) => progress.update(done, total) });
      } finally {
        progress.stop();
      }
      recordResult(res, saved);
      if (opts.json) {
        process.stdout.write(
          JSON.stringify(res, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) + '\n',
        );
      } else {
        const lines = res.findings.map(formatFinding);
        const what = res.since ? `${res.records} records after the anchor` : `${res.records} records`;
        const summary = res.ok
          ? `log of source "${res.sourceId}" verified: ${what} in ${res.partitions.length} partitions, every chain intact${opts.expect || res.since ? ', extends the anchor' : ''}${abandonedNote(res.abandonedStaged)} (${res.seconds.toFixed(2)} s)\nanchor ${res.anchor}`
          : `log of source "${res.sourceId}": ${res.findings.length} finding(s) in ${what}`;
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

/** Kept for `pitr status` and `--since last`; a read-only state folder must not fail verify. */
function recordResult(res: VerifyResult, saved: ReturnType<typeof loadLastVerify>): void {
  const at = Math.floor(Date.now() / 1000);
  const chainRecords = res.partitions.reduce((n, p) => n + (p.headSeq === undefined ? 0 : Number(p.headSeq) + 1), 0);
  const good = res.ok ? { at, anchor: res.anchor, chainRecords, openStaged: storeOpenStaged(res.openStaged) } : saved?.good;
  try {
    saveLastVerify(res.sourceId, { ok: res.ok, at, records: res.records, findings: res.findings.length, anchor: res.anchor, chainRecords, since: res.since, good });
  } catch (err) {
    logger().warn({ err: (err as Error).message }, 'could not save the verify result (status will not show it)');
  }
}

/** Chunks a killed capture left: counted once in the chain, never applied by any reader. */
function abandonedNote(a: { attempts: number; records: number }): string {
  return a.attempts ? `; ${a.records} records of ${a.attempts} staged transaction attempt(s) that never committed (never applied)` : '';
}
