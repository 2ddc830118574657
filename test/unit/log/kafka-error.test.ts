import { describe, expect, it } from 'vitest';
import { kafkaError } from '../../../src/log/kafka-log.js';
import { ConnectionError } from '../../../src/core/errors.js';

describe('kafkaError', () => {
  it('names Kafka and the broker when it cannot be reached', () => {
    const e = Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9'), { name: 'KafkaJSConnectionError' });
    const out = kafkaError(e, 'could not connect to Kafka');
    expect(out).toBeInstanceOf(ConnectionError);
    expect(out.message).toBe('cannot reach Kafka at 127.0.0.1:9 (connection refused)');
    const retries = Object.assign(new Error('Connection timeout'), { name: 'KafkaJSNumberOfRetriesExceeded', cause: { host: 'kafka1', port: 9093, message: 'Connection timeout' } });
    expect(kafkaError(retries, 'writing to the log failed').message).toBe('writing to the log failed: cannot reach Kafka at kafka1:9093 (timed out)');
  });

  it('says the credentials were refused without quoting kafkajs at length', () => {
    const e = Object.assign(new Error('SASL SCRAM SHA256 authentication failed: Authentication failed during authentication due to invalid credentials'), { type: 'SASL_AUTHENTICATION_FAILED' });
    expect(kafkaError(e, 'could not connect to Kafka').message).toMatch(/^Kafka refused the credentials \(SASL authentication failed\); check PITR_KAFKA_<PRINCIPAL>_USER/);
  });
});
