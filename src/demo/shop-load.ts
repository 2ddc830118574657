// The demo's shop: its five tables, their first rows, and background writers running small shop
// transactions (orders, items, payments, stock and balance updates, deletes) until stopped.
import { connectMysql, qid, type Connection } from '../core/mysql-conn.js';
import type { MysqlUrl } from '../core/mysql-url.js';
import { sleep } from '../stack/process-control.js';

export const SHOP_TABLES = ['customers', 'products', 'orders', 'order_items', 'payments'] as const;

/** Creates the shop database `db` with its tables, customers and products (`conn` takes multiple statements). */
export async function createShop(conn: Connection, db: string, size: { customers: number; products: number }): Promise<void> {
  const d = qid(db);
  await conn.query(`CREATE DATABASE ${d};
    CREATE TABLE ${d}.customers (id INT PRIMARY KEY, name VARCHAR(60) NOT NULL, email VARCHAR(80), balance DECIMAL(12,2) NOT NULL DEFAULT 0, since DATETIME(6), updated DATETIME(6));
    CREATE TABLE ${d}.products (id INT PRIMARY KEY, title VARCHAR(80) NOT NULL, price DECIMAL(10,2) NOT NULL, stock INT NOT NULL, tags SET('new','sale','eco'));
    CREATE TABLE ${d}.orders (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, customer INT NOT NULL, placed TIMESTAMP(3) NULL, status ENUM('new','paid','shipped') NOT NULL, note JSON, KEY (customer));
    CREATE TABLE ${d}.order_items (order_id BIGINT UNSIGNED NOT NULL, line SMALLINT NOT NULL, product INT NOT NULL, qty INT NOT NULL, price DECIMAL(10,2) NOT NULL, PRIMARY KEY (order_id, line));
    CREATE TABLE ${d}.payments (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, order_id BIGINT UNSIGNED NOT NULL, amount DECIMAL(12,2) NOT NULL, method VARCHAR(10), paid_at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6));`);
  const cvals = Array.from({ length: size.customers }, (_, i) => `(${i + 1}, 'customer ${i + 1}', 'c${i + 1}@example.com', ${((i * 37.13) % 900).toFixed(2)}, NOW(6), NULL)`);
  await conn.query(`INSERT INTO ${d}.customers VALUES ${cvals.join(',')}`);
  const pvals = Array.from({ length: size.products }, (_, i) => `(${i + 1}, 'product ${i + 1}', ${(3 + ((i * 7.7) % 90)).toFixed(2)}, 1000, '${['new', 'sale', 'eco', 'new,eco'][i % 4]}')`);
  await conn.query(`INSERT INTO ${d}.products VALUES ${pvals.join(',')}`);
}

/** Background writers: small shop transactions until stopped; pause() waits for in-flight ones. */
export class ShopLoad {
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
