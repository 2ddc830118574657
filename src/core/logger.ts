// Structured logging through pino: JSON when piped, pretty on a TTY, always to stderr so stdout
// stays free for command results (--json).
import { pino, type Logger } from 'pino';

let root: Logger | undefined;

export function logger(): Logger {
  if (!root) {
    const level = process.env.PITR_LOG_LEVEL ?? 'info';
    const pretty = process.stderr.isTTY && process.env.PITR_LOG_FORMAT !== 'json';
    root = pretty
      ? pino({
          level,
          redact: { paths: ['password', '*.password', 'sasl.password', 'url'], censor: '***' },
          transport: { target: 'pino-pretty', options: { destination: 2, colorize: true, ignore: 'pid,hostname' } },
        })
      : pino(
          { level, redact: { paths: ['password', '*.password', 'sasl.password', 'url'], censor: '***' } },
          pino.destination(2),
        );
  }
  return root;
}

export type { Logger };
