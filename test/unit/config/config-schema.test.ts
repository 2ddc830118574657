import { describe, expect, it } from 'vitest';
import { maskUrl, holdsSecret, schemaKeys, validateConfig } from '../../../src/config/config-schema.js';
import { editDistance, suggest } from '../../../src/config/suggest.js';
import { resolveConnections } from '../../../src/config/resolve-connections.js';

describe('config schema', () => {
  it('accepts a full document and normalizes lists and ports', () => {
    const cfg = validateConfig(
      {
        sourceId: 'db1',
        source: 'mysql://u:p@h:3306',
        kafka: { brokers: 'k1:9092, k2:9092', credentials: '/etc/pitr/c.json' },
        capture: { tables: 'shop.*', metricsPort: 9464 },
        status: { maxLagSeconds: 30 },
        log: { level: 'debug' },
      },
      'pitr.config.json',
    );
    expect(cfg.kafka?.brokers).toEqual(['k1:9092', 'k2:9092']);
    expect(cfg.capture?.metricsPort).toBe('9464');
    expect(cfg.status?.maxLagSeconds).toBe(30);
  });

  it('names a misspelled key and suggests the right one', () => {
    expect(() => validateConfig({ sourceID: 'x' }, 'f.json')).toThrow(/unknown key "sourceID"; did you mean "sourceId"\?/);
    expect(() => validateConfig({ kafka: { borkers: ['a:1'] } }, 'f.json')).toThrow(/"kafka.borkers"; did you mean "kafka.brokers"/);
    expect(() => validateConfig({ capture: { metrics_port: 1 } }, 'f.json')).toThrow(/did you mean "capture.metricsPort"/);
    expect(() => validateConfig({ status: { maxLag: 3 } }, 'f.json')).toThrow(/did you mean "status.maxLagSeconds"/);
  });

  it('lists the known keys when nothing is close', () => {
    expect(() => validateConfig({ zzzzzzzz: 1 }, 'f.json')).toThrow(/unknown key "zzzzzzzz" \(known: sourceId, source/);
  });

  it('names the key whose value has the wrong type', () => {
    expect(() => validateConfig({ status: { maxLagSeconds: 'soon' } }, 'f.json')).toThrow(/f\.json: "status\.maxLagSeconds" must be a non-negative number/);
    expect(() => validateConfig({ log: { level: 'loud' } }, 'f.json')).toThrow(/"log\.level" must be one of trace/);
    expect(() => validateConfig({ kafka: 'k:1' }, 'f.json')).toThrow(/"kafka" must be an object/);
    expect(() => validateConfig([], 'f.json')).toThrow(/one JSON object/);
  });

  it('masks passwords and knows when a file holds one', () => {
    expect(maskUrl('mysql://root:s3cr%40t@127.0.0.1:3306')).toBe('mysql://root:***@127.0.0.1:3306');
    expect(maskUrl('mysql://root@h:1')).toBe('mysql://root@h:1');
    expect(holdsSecret({ source: 'mysql://a:b@h:1' })).toBe(true);
    expect(holdsSecret({ source: 'mysql://a@h:1', target: 'mysql://a:@h:1' })).toBe(false);
  });

  it('documents every key', () => {
    for (const k of schemaKeys()) expect(k.spec.doc.length).toBeGreaterThan(5);
  });
});

describe('suggest', () => {
  it('measures edits with transpositions', () => {
    expect(editDistance('brokers', 'borkers')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
  it('suggests only likely typos', () => {
    expect(suggest('tabels', ['tables', 'serverId'])).toBe('tables');
    expect(suggest('x', ['tables', 'serverId'])).toBeUndefined();
  });
});

describe('precedence: config file < PITR_* variables < flags', () => {
  const file = { sourceId: 'fromfile', source: 'mysql://f:fp@file:1', target: 'mysql://f@file:2', kafka: { brokers: ['file:9092'] } };
  it('takes the file when nothing else is set', async () => {
    const r = resolveConnections({}, {}, file);
    expect(r.sourceId).toBe('fromfile');
    expect((await r.source()).host).toBe('file');
    const ex = await r.explain();
    expect(ex.source?.origin).toBe('config file');
    expect(ex.brokers).toMatchObject({ value: ['file:9092'], origin: 'config file' });
  });
  it('lets variables beat the file and flags beat both', async () => {
    const env = { PITR_SOURCE: 'mysql://e@env:1', PITR_SOURCE_ID: 'fromenv', PITR_KAFKA_BROKERS: 'env:9092' };
    const r = resolveConnections({}, env, file);
    expect(r.sourceId).toBe('fromenv');
    expect((await r.source()).host).toBe('env');
    expect((await r.target()).host).toBe('file');
    const f = resolveConnections({ source: 'mysql://x@flag:1', sourceId: 'fromflag', brokers: 'flag:9092' }, env, file);
    expect(f.sourceId).toBe('fromflag');
    expect((await f.source()).host).toBe('flag');
    expect((await f.explain()).brokers).toMatchObject({ value: ['flag:9092'], origin: 'flag' });
  });
});
