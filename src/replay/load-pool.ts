// A small pool of target connections for bulk loads, so the tables of a database restore load
// concurrently (the server runs one LOAD DATA per connection). Connections open on first need with
// the restore's session settings, and close with the pool.
import os from 'node:os';
import { connectMysql, type Connection } from '../core/mysql-conn.js';
import type { MysqlUrl } from '../core/mysql-url.js';

/** Session settings of every restore connection: loads never check constraints or fire anything. */
export const RESTORE_SESSION = "SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION', foreign_key_checks = 0, unique_checks = 0";

/** Default number of concurrent loads: the cores, at least 2, at most 4. */
export function defaultLoadConcurrency(): number {
  return Math.max(2, Math.min(4, os.availableParallelism?.() ?? os.cpus().length));
}

export async function openRestoreConnection(url: MysqlUrl): Promise<Connection> {
  const conn = await connectMysql(url, 'target', { multipleStatements: false, infile: () => { throw new Error('no stream'); } });
  await conn.query(RESTORE_SESSION);
  return conn;
}

export class LoadPool {
  private readonly idle: Connection[] = [];
  private readonly all: Connection[] = [];
  private readonly waiting: ((c: Connection) => void)[] = [];
  private opening = 0;

  constructor(private readonly url: MysqlUrl, readonly size: number) {}

  private async acquire(): Promise<Connection> {
    const c = this.idle.pop();
    if (c) return c;
    if (this.all.length + this.opening < this.size) {
      this.opening++;
      try {
        const conn = await openRestoreConnection(this.url);
        this.all.push(conn);
        return conn;
      } finally {
        this.opening--;
      }
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private releaseConn(c: Connection): void {
    const w = this.waiting.shift();
    if (w) w(c);
    else this.idle.push(c);
  }

  /** Runs one load on a pooled connection. */
  async run<T>(fn: (conn: Connection) => Promise<T>): Promise<T> {
    const c = await this.acquire();
    try {
      return await fn(c);
    } finally {
      this.releaseConn(c);
    }
  }

  /** Runs every job, at most `size` at once; the first failure is thrown once all have settled. */
  async runAll<T>(jobs: ((conn: Connection) => Promise<T>)[]): Promise<T[]> {
    const settled = await Promise.allSettled(jobs.map((j) => this.run(j)));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((c) => c.end().catch(() => undefined)));
    this.all.length = 0;
    this.idle.length = 0;
  }
}
