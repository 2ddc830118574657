// `pitr demo`: the incident drill end to end on the local stack. A small shop database under a
// steady write load is captured into the log; a rogue operator drops a table, deletes and zeroes
// rows, then drops the database; pitr verifies the log and rebuilds the database as of the last
// second before the attack into the recovery server, then compares every table's row count and
// checksum with the source's own state in that second. Exit 1 if anything differs.
import { commandSummary } from './command-list.js';
import type { Command } from 'commander';
import { stackUp, LOCAL_SOURCE_ID } from '../stack/local-stack.js';
import { runCapture, type CaptureResult } from '../capture/capture-loop.js';
import { runRestore } from '../replay/restore.js';
import { verifyLog } from '../log/log-verifier.js';
import { kafkaClient } from '../log/kafka-log.js';
import { collectStatus } from '../ops/status-probe.js';
import { saveLastVerify } from '../ops/verify-record.js';
import { connectMysql, qid } from '../core/mysql-conn.js';
import { firstRow } from '../core/catalog.js';
import { parseMysqlUrl } from '../core/mysql-url.js';
import { formatEpoch } from '../core/cut-time.js';
import { PitrError, redact } from '../core/errors.js';
import { sleep } from '../stack/process-control.js';
import { createShop, SHOP_TABLES, ShopLoad } from '../demo/shop-load.js';
import { compareChecksums, tableChecksums } from '../demo/table-checksums.js';
import { drillReferenceFile, saveDrillReference } from '../demo/drill-reference.js';

const WRITERS = 3;
const LOAD_SECONDS = 6;
/** MariaDB's error number for a transaction rolled back as a deadlock victim. */
const ER_LOCK_DEADLOCK = 1213;

interface TimelineEntry {
  at: number;
  what: string;
  gtid?: string;
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(commandSummary('demo'))
    .option('--json', 'print the timeline and the comparison as JSON (progress goes to stderr)')
    .option('--keep', "keep the drill's log and the stack for `pitr ui`, with the source's state before the attack recorded for the UI's comparison")
    .action(async (opts: { json?: boolean; keep?: boolean }) => {
      const started = Date.now();
      const timeline: TimelineEntry[] = [];
      const say = (s: string) => (opts.json ? process.stderr : process.stdout).write(s + '\n');
      const mark = (what: string, gtid?: string) => {
        timeline.push({ at: Date.now(), what, gtid });
        const rel = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
        say(`${rel} s  ${what}${gtid ? `  [GTID ${gtid}]` : ''}`);
      };

      const info = await stackUp();
      const source = parseMysqlUrl(info.source);
      const target = parseMysqlUrl(info.target);
      mark(`local stack up: source ${redact(info.source)}, recovery ${redact(info.target)}, Kafka ${info.kafka.brokers.join(',')}`);
      const db = `shop_${Math.floor(Date.now() / 1000)}`;
      const d = qid(db);
      const src = await connectMysql(source, 'source', { multipleStatements: true });
      const dst = await connectMysql(target, 'target');
      const ac = new AbortController();
      let capture: Promise<CaptureResult> | undefined;
      let load: ShopLoad | undefined;
      try {
        const customers = 300;
        const products = 40;
        await createShop(src, db, { customers, products });
        mark(`created ${db}: ${SHOP_TABLES.length} tables, ${customers} customers, ${products} products`);

        // Capture runs in this process for the whole drill, as it would run beside the source.
        capture = runCapture({ source, kafka: info.kafka, sourceId: LOCAL_SOURCE_ID, signal: ac.signal });
        capture.catch(() => undefined);
        mark('capture started (snapshot on a fresh log, then tailing the binlog)');

        load = new ShopLoad(source, db, customers, products);
        await load.start(WRITERS);
        mark(`${WRITERS} writers started: orders, order items, payments, stock and balance updates, deletes`);
        await sleep(LOAD_SECONDS * 1000);

        // The cut second: writers pause (in-flight transactions finish), the clock enters the next
        // second, and the source's state then is exactly the state as of the end of the cut second.
        await load.pause();
        await sleep(1000 - (Date.now() % 1000) + 20);
        const cutSec = Math.floor(Date.now() / 1000) - 1;
        const before = await tableChecksums(src, db, SHOP_TABLES);
        mark(`cut second ${formatEpoch(cutSec)}: source state recorded (${load.transactions} writer transactions so far)`);

        // The rogue operator, in the second after the cut. The first attack comes while the writers
        // still pause, so the recorded state is also the state just before it (--before-gtid of the
        // DROP restores the same); the others come while the writers write again.
        const attack = async (sql: string, what: string) => {
          // The writers hold row locks too: a statement InnoDB picks as a deadlock victim was rolled
          // back whole, and the operator runs it again.
          for (let attempt = 1; ; attempt++) {
            try {
              await src.query(sql);
              break;
            } catch (err) {
              if ((err as { errno?: number }).errno !== ER_LOCK_DEADLOCK || attempt >= 5) throw err;
            }
          }
          const g = await firstRow<{ g: string }>(src, 'SELECT @@last_gtid AS g');
          const gtid = String(g!.g);
          mark(`attack: ${what}`, gtid);
          return gtid;
        };
        const attackStart = Math.floor(Date.now() / 1000);
        const firstAttack = await attack(`DROP TABLE ${d}.payments`, 'DROP TABLE payments');
        load.resume();
        mark('writers go on');
        await sleep(300);
        await attack(`DELETE FROM ${d}.customers WHERE id % 3 <> 0`, 'DELETE FROM customers WHERE id % 3 <> 0');
        await attack(`UPDATE ${d}.products SET price = 0.01, stock = 0`, 'UPDATE products SET price = 0.01, stock = 0');
        await load.stop();
        await attack(`DROP DATABASE ${d}`, `DROP DATABASE ${db}`);
        mark(`writers stopped: ${load.transactions} transactions committed, ${load.failed} failed under the attack`);
        load = undefined;

        // Caught up: the log holds every GTID the source has (what `pitr status` reports as lag 0).
        for (;;) {
          const st = await collectStatus({ kafka: info.kafka, sourceId: LOCAL_SOURCE_ID, source, maxLagSeconds: 60, allowGaps: true });
          if (st.capture.lagTransactions === 0) {
            mark(`capture caught up: log at ${st.capture.lastGtidPos} (${st.capture.lastPosition})`);
            break;
          }
          if (Date.now() - started > 100_000) throw new PitrError(`capture did not catch up with the source (${st.capture.lagTransactions} transactions behind).`);
          await sleep(300);
        }
        ac.abort();
        const cap = await capture;
        capture = undefined;
        mark(`capture stopped: ${cap.transactions} transactions, ${cap.rowChanges} row changes, ${cap.snapshotRows} snapshot rows written by this run`);

        const v = await verifyLog({ kafka: info.kafka, sourceId: LOCAL_SOURCE_ID });
        try {
          saveLastVerify(v.sourceId, { ok: v.ok, at: Math.floor(Date.now() / 1000), records: v.records, findings: v.findings.length, anchor: v.anchor });
        } catch {
          /* status then says verify never ran here */
        }
        mark(`log verified: ${v.records} records in ${v.partitions.length} partitions, ${v.ok ? 'every hash chain intact' : `${v.findings.length} finding(s)`}`);

        await dst.query(`DROP DATABASE IF EXISTS ${d}`);
        const res = await runRestore({ kafka: info.kafka, sourceId: LOCAL_SOURCE_ID, target, database: db, cut: { asOf: cutSec } });
        mark(`restored ${res.tables.length} tables, ${res.tables.reduce((n, t) => n + t.rows, 0)} rows ${res.cutLabel} into the recovery server in ${res.seconds.toFixed(2)} s`);

        const rows = compareChecksums(SHOP_TABLES, before, await tableChecksums(dst, db, SHOP_TABLES));
        if (opts.keep) {
          saveDrillReference({ database: db, cutSecond: cutSec, beforeGtid: firstAttack, tables: before });
          mark(`kept: the stack, the log and the source's state before the attack (${drillReferenceFile()}); open them with \`pitr ui\``);
        }
        const equal = rows.every((r) => r.equal);
        const total = (Date.now() - started) / 1000;
        if (opts.json) {
          process.stdout.write(
            JSON.stringify({
              database: db,
              cut: formatEpoch(cutSec),
              attackSecond: formatEpoch(attackStart),
              timeline: timeline.map((e) => ({ at: new Date(e.at).toISOString(), what: e.what, gtid: e.gtid })),
              verify: { ok: v.ok, records: v.records, findings: v.findings.length },
              tables: rows,
              equal: equal && v.ok,
              seconds: total,
            }) + '\n',
          );
        } else {
          say('');
          say(`${'table'.padEnd(12)} ${'source at cut'.padStart(26)}   ${'restored'.padStart(26)}`);
          for (const r of rows) {
            const cell = (x: { rows: number; checksum: string }) => `${x.rows} rows ${x.checksum.padStart(10)}`.padStart(26);
            say(`${r.table.padEnd(12)} ${cell(r.before)}   ${cell(r.restored)}   ${r.equal ? 'EQUAL' : 'DIFFERENT'}`);
          }
          say('');
          say(`The same restore by hand:  pitr restore --database ${db} --as-of ${formatEpoch(cutSec)} --replace`);
          say(`Or up to the first attack transaction:  pitr restore --database ${db} --before-gtid ${timeline.find((e) => e.gtid)?.gtid} --into-database ${db}_b`);
          if (opts.keep) say('See it in the browser:  pitr ui   (then open http://127.0.0.1:8765/)');
          say(`drill ${equal && v.ok ? 'passed' : 'FAILED'} in ${total.toFixed(1)} s.`);
        }
        if (!v.ok) throw new PitrError('pitr verify found problems in the log.');
        if (!equal) throw new PitrError('the restored tables differ from the state before the attack.');
      } finally {
        if (load) await load.stop().catch(() => undefined);
        if (capture) {
          ac.abort();
          await capture.catch(() => undefined);
        }
        await src.end().catch(() => undefined);
        await dst.end().catch(() => undefined);
      }
    });
}
