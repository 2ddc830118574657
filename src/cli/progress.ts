// Progress of long work on a terminal (cli-progress on stderr: done, rate, ETA when the total is
// known); silent under --json or without a TTY, where the work logs structured lines instead.
import cliProgress from 'cli-progress';
import { logger } from '../core/logger.js';

export interface Progress {
  /** Sets what is done so far and, when known, the total (it may grow). */
  update(done: number, total?: number): void;
  stop(): void;
}

export interface ProgressOptions {
  /** What is counted: "rows", "offsets", "records". */
  unit: string;
  /** Label before the bar: "restoring", "verifying". */
  label: string;
  /** --json given: never draw. */
  json?: boolean;
  /** Default: stderr is a TTY. */
  tty?: boolean;
  /** Without a TTY: log a structured progress line at most this often (ms); 0 = never. Default 10 s. */
  logEveryMs?: number;
}

/** A bar on a TTY, periodic pino lines otherwise (or nothing with logEveryMs 0). */
export function startProgress(opts: ProgressOptions): Progress {
  const tty = opts.tty ?? Boolean(process.stderr.isTTY);
  if (tty && !opts.json) {
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: `${opts.label} [{bar}] {percentage}% | {value}/{total} ${opts.unit} | {rate}/s | ETA {eta_formatted}`,
        hideCursor: true,
        etaBuffer: 50,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    const started = Date.now();
    let running = false;
    return {
      update(done, total) {
        const rate = Math.round(done / Math.max(0.001, (Date.now() - started) / 1000));
        if (!running) {
          bar.start(total ?? done, done, { rate });
          running = true;
        } else {
          if (total !== undefined && total !== bar.getTotal()) bar.setTotal(total);
          bar.update(done, { rate });
        }
      },
      stop() {
        if (running) bar.stop();
        running = false;
      },
    };
  }
  const every = opts.logEveryMs ?? 10_000;
  const started = Date.now();
  let last = started;
  return {
    update(done, total) {
      if (!every || Date.now() - last < every) return;
      last = Date.now();
      const secs = (last - started) / 1000;
      const rate = done / Math.max(0.001, secs);
      const eta = total !== undefined && rate > 0 ? Math.max(0, Math.round((total - done) / rate)) : undefined;
      logger().info({ progress: opts.label, done, total, unit: opts.unit, rate: Math.round(rate), etaSeconds: eta }, `${opts.label}: ${done}${total !== undefined ? `/${total}` : ''} ${opts.unit}`);
    },
    stop() {},
  };
}
