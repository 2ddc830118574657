// One error module: every error pitr raises says whether retrying can help and, where known,
// the log/binlog position it happened at (in the manner of kafkajs' errors.js and vitess' wrapError).

/** Where a record sits in the log: a Kafka topic, partition and offset. */
export interface LogPlace {
  topic: string;
  partition: number;
  offset: bigint;
}

/** The place as positions are written everywhere: "topic/partition@offset". */
export function formatLogPlace(p: LogPlace): string {
  return `${p.topic}/${p.partition}@${p.offset}`;
}

export interface PitrErrorOptions {
  retriable?: boolean;
  /** Where in the source history or log this happened (formatted); `place` fills it when absent. */
  position?: string;
  /** The log record this is about, when there is one. */
  place?: LogPlace;
  cause?: unknown;
}

export class PitrError extends Error {
  /** True when the same call may succeed later (network drop, broker restart). */
  readonly retriable: boolean;
  /** Where in the source history or log this happened, e.g. "mariadb-bin.000003:1234" or "topic/0@17". */
  readonly position?: string;
  /** The log record this is about, as fields (its formatted form is `position`). */
  readonly place?: LogPlace;

  constructor(message: string, opts: PitrErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.retriable = opts.retriable ?? false;
    this.place = opts.place;
    this.position = opts.position ?? (opts.place ? formatLogPlace(opts.place) : undefined);
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
  constructor(message: string, opts: PitrErrorOptions = {}) {
    super(message, { retriable: true, ...opts });
  }
}

/** The source's binlog no longer holds what capture needs to resume from (purged). Never retriable. */
export class BinlogPurgedError extends PitrError {}

/** Another producer with capture's transactional id took over the log (Kafka fenced this one). */
export class ProducerFencedError extends PitrError {}

/**
 * A record in the log that we cannot decode or that breaks the log's invariants. Its topic, partition and
 * offset are set when the record was read from Kafka (not for records named otherwise, e.g. a spool's).
 */
export class CorruptLogError extends PitrError {
  readonly topic?: string;
  readonly partition?: number;
  readonly offset?: bigint;

  constructor(message: string, opts: PitrErrorOptions = {}) {
    super(message, opts);
    this.topic = opts.place?.topic;
    this.partition = opts.place?.partition;
    this.offset = opts.place?.offset;
  }
}

/** The local stack (embedded servers) is missing something or failed to start. */
export class StackError extends PitrError {}

/** The same error (class, retriability, cause) with the given message and position. */
function copyOf(err: PitrError, message: string, where: { position?: string; place?: LogPlace }): PitrError {
  const Ctor = err.constructor as new (m: string, o: PitrErrorOptions) => PitrError;
  return new Ctor(message, { retriable: err.retriable, ...where, cause: err.cause });
}

/**
 * Wraps any error with the position where it happened (a formatted position or a log record's place),
 * keeping class and retriability: a pure layer throws without knowing where its input came from, and the
 * layer that read the input adds it.
 */
export function wrapError(err: unknown, at: string | LogPlace, what?: string): PitrError {
  const where = typeof at === 'string' ? { position: at } : { place: at };
  if (err instanceof PitrError) return err.position ? err : copyOf(err, err.message, where);
  const message = err instanceof Error ? err.message : String(err);
  return new PitrError(what ? `${what}: ${message}` : message, { ...where, cause: err });
}

/** The error with another message (say, names the user should not see replaced), as a PitrError of its class. */
export function withMessage(err: unknown, message: string): PitrError {
  return err instanceof PitrError ? copyOf(err, message, { position: err.position, place: err.place }) : new PitrError(message, { cause: err });
}

/** Removes anything that looks like a password from a message before it is shown or logged. */
export function redact(text: string, secrets: Iterable<string | undefined> = []): string {
  // Any scheme://user:password@host: the password runs to the last '@' of the URL, and may hold
  // '@' or spaces, so everything between the first ':' after the user and that '@' goes.
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^/]*@/gi, '$1***@');
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('***');
  return out;
}
