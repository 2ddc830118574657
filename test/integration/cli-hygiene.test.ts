// What the user sees on the command line: no kafkajs lines, one sentence naming Kafka when it is
// unreachable or refuses the credentials, conflicting cuts refused, times out of range explained,
// a password in a URL flag warned about without being shown, --version, and a bare `pitr`.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO, connect, pitr, stack } from './helpers.js';
import { provisionLog } from '../../src/log/provision.js';

const RUN = Date.now().toString(36);
const sid = `hyg${RUN}`;
const db = `hyg_${RUN}`;
// Every line kafkajs would log reaches stderr at info level unless pitr keeps it down.
const INFO = { PITR_LOG_LEVEL: 'info' };
const lines = (s: string) => s.split('\n').filter(Boolean);

beforeAll(async () => {
  const info = await stack();
  await provisionLog({ kafka: info.kafka, sourceId: sid });
  const src = await connect(info.source);
  await src.query(`CREATE DATABASE ${db}; CREATE TABLE ${db}.t (id INT PRIMARY KEY); INSERT INTO ${db}.t VALUES (1)`);
  await src.end();
}, 300_000);

describe('command line hygiene', () => {
  it('bare pitr prints help and exits 0; --version prints the version', async () => {
    const bare = await pitr([]);
    expect(bare.code).toBe(0);
    expect(bare.stdout).toMatch(/^Usage: pitr/);
    const v = await pitr(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toBe(JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')).version);
  });

  it('capture logs no kafkajs lines, on a first start and on a resume', async () => {
    const cap = await pitr(['capture', '--source-id', sid, '--tables', `${db}.*`, '--until-caught-up'], INFO);
    expect(cap.code, cap.stderr).toBe(0);
    const again = await pitr(['capture', '--source-id', sid, '--tables', `${db}.*`, '--until-caught-up'], INFO);
    expect(again.code, again.stderr).toBe(0);
    for (const out of [cap.stderr, again.stderr]) {
      expect(out).not.toMatch(/kafkajs|EoS guarantees|concurrent operation/);
    }
  });

  it('an unreachable Kafka or wrong password is one sentence naming Kafka, and the last line', async () => {
    const info = await stack();
    const creds = {
      ...INFO,
      PITR_KAFKA_CAPTURE_USER: 'capture',
      PITR_KAFKA_CAPTURE_PASSWORD: 'wrong-password',
      PITR_KAFKA_READER_USER: 'reader',
      PITR_KAFKA_READER_PASSWORD: 'wrong-password',
    };
    const port = await pitr(['capture', '--source-id', sid, '--until-caught-up', '--brokers', '127.0.0.1:9'], creds);
    expect(port.code).not.toBe(0);
    expect(lines(port.stderr)).toEqual(['pitr: cannot reach Kafka at 127.0.0.1:9 (connection refused).']);
    const pw = await pitr(['restore', '--source-id', sid, '--table', `${db}.t`, '--as-of', 'now', '--brokers', info.kafka.brokers.join(',')], creds);
    expect(pw.code).not.toBe(0);
    expect(lines(pw.stderr)).toEqual([expect.stringMatching(/^pitr: Kafka refused the credentials \(SASL authentication failed\)/)]);
    // Nothing arrives after the error either (kafkajs retries kept logging after it).
    expect(pw.stderr).not.toContain('wrong-password');
  });

  it('refuses conflicting cuts and explains times out of range', async () => {
    const two = await pitr(['restore', '--source-id', sid, '--table', `${db}.t`, '--as-of', '-1m', '--stop-datetime', 'now']);
    expect(two.code).not.toBe(0);
    expect(lines(two.stderr)).toEqual(['pitr: give one cut, not 2: --as-of and --stop-datetime are both set.']);
    const gtid = await pitr(['restore', '--source-id', sid, '--table', `${db}.t`, '--as-of', 'now', '--before-gtid', '0-1-1']);
    expect(gtid.stderr).toMatch(/--as-of and --before-gtid are both set/);
    const diff = await pitr(['diff', `${db}.t`, '--source-id', sid, '--from', '-1h', '--to', 'now', '--stop-datetime', 'now']);
    expect(diff.code).not.toBe(0);
    expect(lines(diff.stderr)).toEqual(['pitr: give one cut, not two: --to and --stop-datetime are both set.']);
    const far = await pitr(['restore', '--source-id', sid, '--table', `${db}.t`, '--as-of', '@99999999999999']);
    expect(far.code).not.toBe(0);
    expect(lines(far.stderr)).toEqual([expect.stringMatching(/^pitr: "@99999999999999" is outside the times pitr handles/)]);
    // Relative times parse (commander takes "-1d" as the value); a day ago is before this log.
    const rel = await pitr(['restore', '--source-id', sid, '--table', `${db}.t`, '--as-of', '-1d']);
    expect(rel.stderr).toMatch(/is before the log's coverage/);
  });

  it('warns about a password in a URL flag without showing it', async () => {
    const info = await stack();
    const target = info.target.replace(/\/\/root:[^@]*@/, '//root:Sekr1tPw@');
    const r = await pitr(['restore', '--source-id', sid, '--table', `${db}.t`, '--as-of', '-1d', '--target', target]);
    expect(r.stderr).toMatch(/pitr: warning: the --target URL holds a password.*PITR_TARGET_PASSWORD/);
    expect(r.stderr).not.toContain('Sekr1tPw');
  });
});
