// One error module: every error pitr raises says whether retrying can help and, where known,
// the log/binlog position it happened at (in the manner of kafkajs' errors.js and vitess' wrapError).

export class PitrError extends Error {
  /** True when the same call may succeed later (network drop, broker restart). */
  readonly retriable: boolean;
  /** Where in the source history or log this happened, e.g. "mariadb-bin.000003:1234" or "topic/0@17". */
  readonly position?: string;

  constructor(message: string, opts: { retriable?: boolean; position?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.retriable = opts.retriable ?? false;
    this.position = opts.position;
  }
}

/** Bad input from the user: flags, times, GTIDs, table names. Never retriable. */
export class UsageError extends PitrError {}

/** A requested cut or object outside what the log covers. */
export class CoverageError extends PitrError {}

/** The target already holds what we would write (refuse unless --replace). */
export class TargetExistsError extends PitrError {}

/** A server (MariaDB, Kafka) could not be reached or refused us. */
export class ConnectionError extends PitrError {
  constructor(message: string, opts: { retriable?: boolean; position?: string; cause?: unknown } = {}) {
    super(message, { retriable: true, ...opts });
  }
}

/** The source's binlog no longer holds what capture needs to resume from (purged). Never retriable. */
export class BinlogPurgedError extends PitrError {}

/** Another producer with capture's transactional id took over the log (Kafka fenced this one). */
export class ProducerFencedError extends PitrError {}

/** A record in the log that we cannot decode or that breaks the log's invariants. */
export class CorruptLogError extends PitrError {}

/** The local stack (embedded servers) is missing something or failed to start. */
export class StackError extends PitrError {}

/** Wraps any error with the position where it happened, keeping retriability. */
export function wrapError(err: unknown, position: string, what?: string): PitrError {
  if (err instanceof PitrError) {
    if (err.position) return err;
    const Ctor = err.constructor as new (m: string, o: object) => PitrError;
    return new Ctor(err.message, { retriable: err.retriable, position, cause: err.cause });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new PitrError(what ? `${what}: ${message}` : message, { position, cause: err });
}

/** Removes anything that looks like a password from a message before it is shown or logged. */
export function redact(text: string, secrets: Iterable<string | undefined> = []): string {
  // Any scheme://user:password@host: the password runs to the last '@' of the URL, and may hold
  // '@' or spaces, so everything between the first ':' after the user and that '@' goes.
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^/]*@/gi, '$1***@');
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('***');
  return out;
}
