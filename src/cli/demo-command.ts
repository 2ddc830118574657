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
import { connectMysql, qid, type Connection } from '../core/mysql-conn.js';
import { parseMysqlUrl, type MysqlUrl } from '../core/mysql-url.js';
import { formatEpoch } from '../core/cut-time.js';
import { PitrError } from '../core/errors.js';

const TABLES = ['customers', 'products', 'orders', 'order_items', 'payments'] as const;
const WRITERS = 3;
const LOAD_SECONDS = 6;

type Sums = Record<string, { rows: number; checksum: string }>;

async function checksums(conn: Connection, db: string): Promise<Sums> {
  const out: Sums = {};
  for (const t of TABLES) {
    const [c] = await conn.query(`SELECT COUNT(*) AS n FROM ${qid(db)}.${qid(t)}`);
    const [s] = await conn.query(`CHECKSUM TABLE ${qid(db)}.${qid(t)} EXTENDED`);
    out[t] = { rows: Number((c as { n: number }[])[0]!.n), checksum: String((s as { Checksum: string }[])[0]!.Checksum) };
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Background writers: small shop transactions until stopped; pause() waits for in-flight ones. */
class ShopLoad {
  transactions = 0;
  failed = 0;
  private running = true;
  private paused = false;
  private idle: (() => void)[] = [];
  private busy = 0;
  private readonly loops: Promise<void>[] = [];

  constructor(private readonly url: MysqlUrl, private readonly db: string, private readonly customers: number, private readonly products: number) {}

  async start(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const conn = await connectMysql(this.url, 'source');
      this.loops.push(this.loop(conn, i));
    }
  }

  private async loop(conn: Connection, w: number): Promise<void> {
    const d = qid(this.db);
    let k = 0;
    try {
      while (this.running) {
        if (this.paused) {
          await sleep(20);
          continue;
        }
        this.busy++;
        k++;
        const c = 1 + ((k * 7919 + w * 104729) % this.customers);
        const p = 1 + ((k * 31 + w) % this.products);
        try {
          if (k % 5 === 0) {
            await conn.query(`UPDATE ${d}.customers SET balance = balance + ?, updated = NOW(6) WHERE id = ?`, [((k % 13) - 6).toFixed(2), c]);
          } else if (k % 11 === 0) {
            await conn.query(`DELETE FROM ${d}.orders WHERE customer = ? ORDER BY id LIMIT 1`, [c]);
          } else {
            await conn.query('START TRANSACTION');
            const [r] = await conn.query(`INSERT INTO ${d}.orders (customer, placed, status, note) VALUES (?, NOW(3), 'new', ?)`, [
              c,
              JSON.stringify({ writer: w, n: k }),
            ]);
            const order = (r as { insertId: number }).insertId;
            await conn.query(`INSERT INTO ${d}.order_items (order_id, line, product, qty, price) SELECT ?, 1, id, ?, price FROM ${d}.products WHERE id = ?`, [order, 1 + (k % 4), p]);
            await conn.query(`UPDATE ${d}.products SET stock = stock - 1 WHERE id = ?`, [p]);
            await conn.query(`INSERT INTO ${d}.payments (order_id, amount, method) SELECT order_id, qty * price, ? FROM ${d}.order_items WHERE order_id = ?`, [
              ['card', 'iban', 'cash'][k % 3],
              order,
            ]);
            await conn.query('COMMIT');
          }
          this.transactions++;
        } catch {
          // The attack drops tables under the writers' feet: their failures are part of the story.
          this.failed++;
          await conn.query('ROLLBACK').catch(() => undefined);
        } finally {
          this.busy--;
          if (this.busy === 0) for (const f of this.idle.splice(0)) f();
        }
        await sleep(5);
      }
    } finally {
      await conn.end().catch(() => undefined);
    }
  }

  /** Stops starting transactions and resolves once none is in flight. */
  async pause(): Promise<void> {
    this.paused = true;
    if (this.busy > 0) await new Promise<void>((r) => this.idle.push(r));
  }

  resume(): void {
    this.paused = false;
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

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
    .action(async (opts: { json?: boolean }) => {
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
      mark(`local stack up: source ${info.source.replace(/:[^:@/]*@/, ':***@')}, recovery ${info.target.replace(/:[^:@/]*@/, ':***@')}, Kafka ${info.kafka.brokers.join(',')}`);
      const db = `shop_${Math.floor(Date.now() / 1000)}`;
      const d = qid(db);
      const src = await connectMysql(source, 'source', { multipleStatements: true });
      const dst = await connectMysql(target, 'target');
      const ac = new AbortController();
      let capture: Promise<CaptureResult> | undefined;
      let load: ShopLoad | undefined;
      try {
        await src.query(`CREATE DATABASE ${d};
          CREATE TABLE ${d}.customers (id INT PRIMARY KEY, name VARCHAR(60) NOT NULL, email VARCHAR(80), balance DECIMAL(12,2) NOT NULL DEFAULT 0, since DATETIME(6), updated DATETIME(6));
          CREATE TABLE ${d}.products (id INT PRIMARY KEY, title VARCHAR(80) NOT NULL, price DECIMAL(10,2) NOT NULL, stock INT NOT NULL, tags SET('new','sale','eco'));
          CREATE TABLE ${d}.orders (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, customer INT NOT NULL, placed TIMESTAMP(3) NULL, status ENUM('new','paid','shipped') NOT NULL, note JSON, KEY (customer));
          CREATE TABLE ${d}.order_items (order_id BIGINT UNSIGNED NOT NULL, line SMALLINT NOT NULL, product INT NOT NULL, qty INT NOT NULL, price DECIMAL(10,2) NOT NULL, PRIMARY KEY (order_id, line));
          CREATE TABLE ${d}.payments (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, order_id BIGINT UNSIGNED NOT NULL, amount DECIMAL(12,2) NOT NULL, method VARCHAR(10), paid_at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6));`);
        const customers = 300;
        const products = 40;
        const cvals = Array.from({ length: customers }, (_, i) => `(${i + 1}, 'customer ${i + 1}', 'c${i + 1}@example.com', ${((i * 37.13) % 900).toFixed(2)}, NOW(6), NULL)`);
        await src.query(`INSERT INTO ${d}.customers VALUES ${cvals.join(',')}`);
        const pvals = Array.from({ length: products }, (_, i) => `(${i + 1}, 'product ${i + 1}', ${(3 + ((i * 7.7) % 90)).toFixed(2)}, 1000, '${['new', 'sale', 'eco', 'new,eco'][i % 4]}')`);
        await src.query(`INSERT INTO ${d}.products VALUES ${pvals.join(',')}`);
        mark(`created ${db}: ${TABLES.length} tables, ${customers} customers, ${products} products`);

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
        const before = await checksums(src, db);
        load.resume();
        mark(`cut second ${formatEpoch(cutSec)}: source state recorded (${load.transactions} writer transactions so far); writers go on`);
        await sleep(300);

        // The rogue operator, in the second after the cut, while the writers keep writing.
        const attack = async (sql: string, what: string) => {
          await src.query(sql);
          const [g] = await src.query('SELECT @@last_gtid AS g');
          mark(`attack: ${what}`, String((g as { g: string }[])[0]!.g));
        };
        const attackStart = Math.floor(Date.now() / 1000);
        await attack(`DROP TABLE ${d}.payments`, 'DROP TABLE payments');
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

        const v = await verifyLog({ kafka: kafkaClient(info.kafka, 'reader', { clientId: 'pitr-demo-verify' }), sourceId: LOCAL_SOURCE_ID });
        try {
          saveLastVerify(v.sourceId, { ok: v.ok, at: Math.floor(Date.now() / 1000), records: v.records, findings: v.findings.length, anchor: v.anchor });
        } catch {
          /* status then says verify never ran here */
        }
        mark(`log verified: ${v.records} records in ${v.partitions.length} partitions, ${v.ok ? 'every hash chain intact' : `${v.findings.length} finding(s)`}`);

        await dst.query(`DROP DATABASE IF EXISTS ${d}`);
        const res = await runRestore({ kafka: info.kafka, sourceId: LOCAL_SOURCE_ID, target, database: db, cut: { asOf: cutSec } });
        mark(`restored ${res.tables.length} tables, ${res.tables.reduce((n, t) => n + t.rows, 0)} rows ${res.cutLabel} into the recovery server in ${res.seconds.toFixed(2)} s`);

        const after = await checksums(dst, db);
        let equal = true;
        const rows = TABLES.map((t) => {
          const same = before[t]!.rows === after[t]!.rows && before[t]!.checksum === after[t]!.checksum;
          equal &&= same;
          return { table: t, before: before[t]!, restored: after[t]!, equal: same };
        });
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
