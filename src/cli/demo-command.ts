// `pitr demo`: the main job end to end on the local stack: a small shop database under writes,
// captured into the log, then a rogue operator drops and deletes, and pitr rebuilds the database
// as of the last second before the attack into the recovery server and compares checksums.
import type { Command } from 'commander';
import { stackUp, LOCAL_SOURCE_ID } from '../stack/local-stack.js';
import { runCapture } from '../capture/capture-loop.js';
import { runRestore } from '../replay/restore.js';
import { connectMysql, qid, type Connection } from '../core/mysql-conn.js';
import { parseMysqlUrl } from '../core/mysql-url.js';
import { formatEpoch } from '../core/cut-time.js';
import { PitrError } from '../core/errors.js';

async function checksums(conn: Connection, db: string, tables: string[]): Promise<Record<string, { rows: number; checksum: string }>> {
  const out: Record<string, { rows: number; checksum: string }> = {};
  for (const t of tables) {
    const [c] = await conn.query(`SELECT COUNT(*) AS n FROM ${qid(db)}.${qid(t)}`);
    const [s] = await conn.query(`CHECKSUM TABLE ${qid(db)}.${qid(t)} EXTENDED`);
    out[t] = { rows: Number((c as { n: number }[])[0]!.n), checksum: String((s as { Checksum: string }[])[0]!.Checksum) };
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run the main job end to end on the local stack: capture a shop database, destroy it, restore it')
    .action(async () => {
      const say = (s: string) => process.stdout.write(s + '\n');
      const info = await stackUp();
      const source = parseMysqlUrl(info.source);
      const target = parseMysqlUrl(info.target);
      const db = `shop_${Math.floor(Date.now() / 1000)}`;
      const src = await connectMysql(source, 'source', { multipleStatements: true });
      const dst = await connectMysql(target, 'target');
      try {
        say(`1. creating ${db} on the source (${info.source.replace(/:[^:@/]*@/, ':***@')}) with customers and orders`);
        await src.query(`CREATE DATABASE ${qid(db)};
          CREATE TABLE ${qid(db)}.customers (id INT PRIMARY KEY, name VARCHAR(40), balance DECIMAL(12,2), since DATETIME(6));
          CREATE TABLE ${qid(db)}.orders (id BIGINT UNSIGNED PRIMARY KEY, customer INT, total DECIMAL(12,2), placed TIMESTAMP(3) NULL, note JSON);`);
        await runCapture({ source, kafka: info.kafka, sourceId: LOCAL_SOURCE_ID, untilCaughtUp: true });
        for (let i = 1; i <= 200; i++) {
          await src.query(`INSERT INTO ${qid(db)}.customers VALUES (?, ?, ?, NOW(6))`, [i, `customer ${i}`, (i * 7.31).toFixed(2)]);
          await src.query(`INSERT INTO ${qid(db)}.orders VALUES (?, ?, ?, NOW(3), ?)`, [i, i, (i * 3.5).toFixed(2), JSON.stringify({ items: i % 5 })]);
          if (i % 3 === 0) await src.query(`UPDATE ${qid(db)}.customers SET balance = balance - 1 WHERE id = ?`, [i - 1]);
        }
        await src.query(`DELETE FROM ${qid(db)}.orders WHERE id % 10 = 0`);
        say('2. wrote 200 customers, 200 orders, updates and deletes');
        // The last second before the attack: quiet, so its state is well defined.
        await sleep(1100 - (Date.now() % 1000));
        const cutSec = Math.floor(Date.now() / 1000);
        const before = await checksums(src, db, ['customers', 'orders']);
        await sleep(1100 - (Date.now() % 1000));
        say(`3. rogue operator at ${formatEpoch(cutSec + 1)}: DROP TABLE orders; DELETE FROM customers; DROP DATABASE`);
        await src.query(`DROP TABLE ${qid(db)}.orders; DELETE FROM ${qid(db)}.customers; DROP DATABASE ${qid(db)}`);
        const cap = await runCapture({ source, kafka: info.kafka, sourceId: LOCAL_SOURCE_ID, untilCaughtUp: true });
        say(`4. capture caught up: ${cap.transactions} transactions, ${cap.rowChanges} row changes in the log`);
        const into = `${db}_restored`;
        const res = await runRestore({ kafka: info.kafka, sourceId: LOCAL_SOURCE_ID, target, database: db, cut: { asOf: cutSec }, intoDatabase: into });
        say(`5. restored ${res.tables.map((t) => `${t.into} (${t.rows} rows)`).join(', ')} ${res.cutLabel} in ${res.seconds.toFixed(2)} s`);
        const after = await checksums(dst, into, ['customers', 'orders']);
        let ok = true;
        for (const t of Object.keys(before)) {
          const same = before[t]!.rows === after[t]!.rows && before[t]!.checksum === after[t]!.checksum;
          ok &&= same;
          say(`   ${t.padEnd(10)} before attack ${before[t]!.rows} rows checksum ${before[t]!.checksum}  restored ${after[t]!.rows} rows checksum ${after[t]!.checksum}  ${same ? 'EQUAL' : 'DIFFERENT'}`);
        }
        if (!ok) throw new PitrError('the restored tables differ from the state before the attack.');
        say(`done: ${db} is back on the recovery server as ${into}.`);
      } finally {
        await src.end().catch(() => undefined);
        await dst.end().catch(() => undefined);
      }
    });
}
