// Workload generators of the benchmarks: sysbench-like tables, single-row OLTP transactions over
// several connections (optionally paced), and bulk statements. Every row carries a client-side
// millisecond stamp (column ts) so log latency can be measured against it.
import { connect } from './lib.mjs';

export function tableDdl(name) {
  return (
    `CREATE TABLE \`${name}\` (id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, k INT NOT NULL, ` +
    `c VARCHAR(120) NOT NULL, pad CHAR(60) NOT NULL, ts BIGINT NOT NULL, KEY k_idx (k)) ENGINE=InnoDB`
  );
}

export async function createTables(url, db, names) {
  const c = await connect(url);
  await c.query(`DROP DATABASE IF EXISTS \`${db}\`; CREATE DATABASE \`${db}\``);
  for (const n of names) await c.query(`USE \`${db}\`; ${tableDdl(n)}`);
  await c.end();
}

const rnd = (n) => Math.floor(Math.random() * n);
const text = (n) => {
  let s = '';
  while (s.length < n) s += Math.random().toString(36).slice(2);
  return s.slice(0, n);
};

/**
 * Single-row autocommit transactions: 60% INSERT, 30% UPDATE of a random earlier row, 10% DELETE.
 * `rate` (txn/s over all connections) paces the load; `onCommit(ms)` sees each commit's client stamp.
 */
export async function oltp({ url, db, tables, txns, connections = 8, rate, seedRows = 0 }) {
  const conns = await Promise.all(Array.from({ length: connections }, () => connect(url, { database: db })));
  const maxId = new Map(tables.map((t) => [t, seedRows]));
  if (seedRows) {
    for (const t of tables) {
      await conns[0].query(
        `INSERT INTO \`${t}\` (k, c, pad, ts) SELECT seq % 1000, CONCAT('seed-', seq), 'p', 0 FROM mysql.seq_1_to_${seedRows}`,
      );
    }
  }
  let issued = 0;
  const t0 = Date.now();
  await Promise.all(
    conns.map(async (c) => {
      while (issued < txns) {
        const i = issued++;
        if (rate) {
          const due = t0 + (i * 1000) / rate;
          const wait = due - Date.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
        const t = tables[rnd(tables.length)];
        const r = Math.random();
        const ts = Date.now();
        const top = maxId.get(t);
        if (r < 0.6 || top === 0) {
          maxId.set(t, top + 1);
          await c.query(`INSERT INTO \`${t}\` (k, c, pad, ts) VALUES (?, ?, ?, ?)`, [rnd(100000), text(60), text(20), ts]);
        } else if (r < 0.9) {
          await c.query(`UPDATE \`${t}\` SET k = k + 1, c = ?, ts = ? WHERE id = ?`, [text(60), ts, 1 + rnd(top)]);
        } else {
          await c.query(`DELETE FROM \`${t}\` WHERE id = ?`, [1 + rnd(top)]);
        }
      }
    }),
  );
  const seconds = (Date.now() - t0) / 1000;
  await Promise.all(conns.map((c) => c.end()));
  return { txns, seconds, rate: txns / seconds };
}

/** Bulk history: `inserts` rows in statements of `chunk` rows, then `updates` rows updated in statements of `chunk`. */
export async function bulk({ url, db, table, inserts, updates = 0, chunk = 100000, rounds = 1, startId = 0 }) {
  const c = await connect(url, { database: db });
  const t0 = Date.now();
  for (let from = 0; from < inserts; from += chunk) {
    const n = Math.min(chunk, inserts - from);
    await c.query(
      `INSERT INTO \`${table}\` (id, k, c, pad, ts) SELECT ${startId + from} + seq, seq % 100000, ` +
        `CONCAT('row-', seq, '-', MD5(seq)), LEFT(SHA1(seq), 40), ${Date.now()} FROM mysql.seq_1_to_${n}`,
    );
  }
  for (let r = 0; r < rounds; r++) {
    for (let from = 0; from < updates; from += chunk) {
      const n = Math.min(chunk, updates - from);
      await c.query(
        `UPDATE \`${table}\` SET k = k + 1, c = CONCAT('upd-${r}-', id, '-', MD5(id + ${r})), ts = ${Date.now()} ` +
          `WHERE id > ${startId + from} AND id <= ${startId + from + n}`,
      );
    }
  }
  const seconds = (Date.now() - t0) / 1000;
  await c.end();
  return { seconds };
}
