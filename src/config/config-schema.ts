// The schema of pitr.config.json: every key, its type and meaning, whether it is a secret, and the
// validation that names the offending key (with a suggestion for a misspelled one). Pure.
import { UsageError } from '../core/errors.js';
import { suggest } from './suggest.js';

export type KeyType = 'string' | 'number' | 'boolean' | 'string[]' | 'port' | 'loglevel';

export interface KeySpec {
  type: KeyType;
  doc: string;
  /** Printed masked by `pitr config check` (URLs: only the password part). */
  secret?: 'url';
}

/** Top-level keys, then one section per command whose keys are that command's flags in camelCase. */
export const CONFIG_SCHEMA = {
  sourceId: { type: 'string', doc: 'log name of the source (topics pitr.<sourceId>.*); default main' },
  source: { type: 'string', secret: 'url', doc: 'source server mysql://user:pass@host:port' },
  target: { type: 'string', secret: 'url', doc: 'recovery (restore target) server mysql://user:pass@host:port' },
  kafka: {
    brokers: { type: 'string[]', doc: 'Kafka brokers host:port (list or comma-separated string)' },
    credentials: { type: 'string', doc: 'path of a credentials file (mode 600) with the Kafka users' },
  },
  log: {
    level: { type: 'loglevel', doc: 'trace|debug|info|warn|error|fatal|silent (PITR_LOG_LEVEL wins)' },
  },
  capture: {
    tables: { type: 'string', doc: 'only these tables: db.t,db2.*' },
    memoryCap: { type: 'number', doc: 'resident memory cap in MB (default 256)' },
    serverId: { type: 'number', doc: 'replica server id presented to the source' },
    metricsPort: { type: 'port', doc: 'serve Prometheus metrics on this port (or host:port)' },
  },
  restore: {
    intoDatabase: { type: 'string', doc: 'database on the target to restore into' },
  },
  guard: {
    intoDatabase: { type: 'string', doc: 'recovery database for the copies (default pitr_recovery)' },
    maxRows: { type: 'number', doc: 'rows per table and transaction above which a change is destructive' },
    maxPercent: { type: 'number', doc: '...or percent of the table' },
    minRows: { type: 'number', doc: 'the percent rule applies from this many rows on' },
    threshold: { type: 'string[]', doc: 'per-table rules: db.t=rows:500,pct:20,min:5 | db.*=off' },
    watch: { type: 'string', doc: 'only these tables: db.t,db2.*' },
    name: { type: 'string', doc: 'guard name (consumer group pitr-guard-<sourceId>-<name>)' },
    concurrency: { type: 'number', doc: 'rebuilds at once' },
    notify: { type: 'string', doc: 'webhook URL receiving each incident report' },
    metricsPort: { type: 'port', doc: 'serve Prometheus metrics on this port (or host:port)' },
  },
  status: {
    maxLagSeconds: { type: 'number', doc: 'unhealthy above this capture lag (default 60)' },
  },
} as const satisfies Record<string, KeySpec | Record<string, KeySpec>>;

export interface PitrConfig {
  sourceId?: string;
  source?: string;
  target?: string;
  kafka?: { brokers?: string[]; credentials?: string };
  log?: { level?: string };
  /** Command sections: option name (camelCase) -> value. */
  capture?: Record<string, unknown>;
  restore?: Record<string, unknown>;
  guard?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

export const COMMAND_SECTIONS = ['capture', 'restore', 'guard', 'status'] as const;

const isSpec = (x: unknown): x is KeySpec => typeof (x as KeySpec)?.type === 'string' && typeof (x as KeySpec)?.doc === 'string';

/** Every key as a dotted path with its spec (for docs and `config check`). */
export function schemaKeys(): { key: string; spec: KeySpec }[] {
  const out: { key: string; spec: KeySpec }[] = [];
  for (const [k, v] of Object.entries(CONFIG_SCHEMA)) {
    if (isSpec(v)) out.push({ key: k, spec: v });
    else for (const [k2, v2] of Object.entries(v)) out.push({ key: `${k}.${k2}`, spec: v2 as KeySpec });
  }
  return out;
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

function checkValue(key: string, spec: KeySpec, v: unknown, where: string): unknown {
  const bad = (what: string) => new UsageError(`${where}: "${key}" must be ${what}, not ${JSON.stringify(v)}.`);
  switch (spec.type) {
    case 'string':
      if (typeof v !== 'string' || !v) throw bad('a non-empty string');
      return v;
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw bad('a non-negative number');
      return v;
    case 'boolean':
      if (typeof v !== 'boolean') throw bad('true or false');
      return v;
    case 'port':
      if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535) return String(v);
      if (typeof v === 'string' && /^(?:.+:)?\d{1,5}$/.test(v)) return v;
      throw bad('a port number or "host:port"');
    case 'loglevel':
      if (typeof v !== 'string' || !LEVELS.includes(v)) throw bad(`one of ${LEVELS.join(', ')}`);
      return v;
    case 'string[]':
      if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter(Boolean);
      if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw bad('a list of strings');
      return v;
  }
}

function unknownKey(key: string, known: string[], where: string): UsageError {
  const last = key.split('.').pop()!;
  const prefix = key.includes('.') ? key.slice(0, key.lastIndexOf('.') + 1) : '';
  const s = suggest(last, known);
  return new UsageError(`${where}: unknown key "${key}"${s ? `; did you mean "${prefix}${s}"?` : ` (known: ${known.join(', ')})`}.`);
}

/** Validates a parsed config document; `where` names the file in messages. */
export function validateConfig(doc: unknown, where: string): PitrConfig {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new UsageError(`${where} must hold one JSON object.`);
  const out: Record<string, unknown> = {};
  const top = Object.keys(CONFIG_SCHEMA);
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    if (k === '$schema' || k.startsWith('//')) continue; // editor hints and comments
    const spec = (CONFIG_SCHEMA as Record<string, KeySpec | Record<string, KeySpec>>)[k];
    if (!spec) throw unknownKey(k, top, where);
    if (isSpec(spec)) {
      out[k] = checkValue(k, spec, v, where);
      continue;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UsageError(`${where}: "${k}" must be an object with keys ${Object.keys(spec).join(', ')}.`);
    const section: Record<string, unknown> = {};
    for (const [k2, v2] of Object.entries(v as Record<string, unknown>)) {
      if (k2.startsWith('//')) continue;
      const s2 = spec[k2];
      if (!s2) throw unknownKey(`${k}.${k2}`, Object.keys(spec), where);
      section[k2] = checkValue(`${k}.${k2}`, s2, v2, where);
    }
    out[k] = section;
  }
  return out as PitrConfig;
}

/** A mysql URL with its password replaced by ***. */
export function maskUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@]*@/i, (_m, head: string) => `${head}***@`);
}

/** True when the document holds a secret (a URL with a password). */
export function holdsSecret(cfg: PitrConfig): boolean {
  return [cfg.source, cfg.target].some((u) => u !== undefined && /^[a-z][a-z0-9+.-]*:\/\/[^:/@]*:[^@]+@/i.test(u));
}
