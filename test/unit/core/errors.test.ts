import { describe, expect, it } from 'vitest';
import {
  ConnectionError,
  CorruptLogError,
  PitrError,
  UsageError,
  redact,
  withMessage,
  wrapError,
} from '../../../src/core/errors.js';

describe('redact', () => {
  it('hides the password of a mysql:// URL', () => {
    expect(redact('connect mysql://app:hunter22@db:3306/x failed')).toBe('connect mysql://app:***@db:3306/x failed');
  });

  it('hides every URL password in a message', () => {
    const out = redact('from mysql://a:pw1secret@h1 to mysql://b:pw2secret@h2');
    expect(out).toBe('from mysql://a:***@h1 to mysql://b:***@h2');
  });

  it('hides an empty-user password', () => {
    expect(redact('mysql://:topsecret@h')).toBe('mysql://:***@h');
  });

  it('leaves URLs without a password alone', () => {
    expect(redact('mysql://app@db:3306')).toBe('mysql://app@db:3306');
  });

  it('hides listed secrets wherever they occur', () => {
    expect(redact('password=hunter22; again hunter22', ['hunter22', undefined])).toBe('password=***; again ***');
  });

  it('hides a listed secret with regex metacharacters literally', () => {
    expect(redact('pw is a.b*c+(d)', ['a.b*c+(d)'])).toBe('pw is ***');
  });

  // BUG: src/core/errors.ts redact() only knows the mysql:// scheme; mariadb:// (accepted by
  // parseMysqlUrl) keeps its password: redact('mariadb://app:hunter22@db') is returned unchanged.
  it('hides the password of a mariadb:// URL', () => {
    expect(redact('mariadb://app:hunter22@db')).not.toContain('hunter22');
  });

  // BUG: src/core/errors.ts redact() regex `[^@\s]*@` stops at the first "@", so a raw "@" inside
  // the password leaks its tail: 'mysql://app:p@ssword@db' -> 'mysql://app:***@ssword@db'.
  it('hides a password that contains a raw "@"', () => {
    expect(redact('mysql://app:p@ssword@db')).not.toContain('ssword');
  });
});

describe('error classes', () => {
  it('carry name, retriability and position', () => {
    const u = new UsageError('bad');
    expect(u.name).toBe('UsageError');
    expect(u.retriable).toBe(false);
    expect(u).toBeInstanceOf(PitrError);
    const c = new ConnectionError('down', { position: 'x:1' });
    expect(c.retriable).toBe(true);
    expect(c.position).toBe('x:1');
  });

  it('wrapError adds a position, keeps class and retriability', () => {
    const w = wrapError(new ConnectionError('down'), 'topic/0@17');
    expect(w).toBeInstanceOf(ConnectionError);
    expect(w.retriable).toBe(true);
    expect(w.position).toBe('topic/0@17');
    expect(w.message).toBe('down');
  });

  it('wrapError keeps an existing position', () => {
    const e = new CorruptLogError('bad', { position: 'a' });
    expect(wrapError(e, 'b')).toBe(e);
  });

  it('wrapError with a log place sets the position and, on a CorruptLogError, its topic, partition and offset', () => {
    const w = wrapError(new CorruptLogError('row change without its before image'), { topic: 't', partition: 2, offset: 9n });
    expect(w).toBeInstanceOf(CorruptLogError);
    expect(w.position).toBe('t/2@9');
    expect([(w as CorruptLogError).topic, (w as CorruptLogError).partition, (w as CorruptLogError).offset]).toEqual(['t', 2, 9n]);
    expect(w.message).toBe('row change without its before image');
    const foreign = wrapError(new Error('boom'), { topic: 't', partition: 0, offset: 1n });
    expect(foreign.place).toEqual({ topic: 't', partition: 0, offset: 1n });
    expect(foreign.position).toBe('t/0@1');
  });

  it('withMessage keeps class, retriability and place, and makes foreign errors PitrErrors', () => {
    const place = { topic: 't', partition: 1, offset: 4n };
    const e = withMessage(new CorruptLogError('in `pitr_tmp_x`', { place }), 'in `shop`');
    expect(e).toBeInstanceOf(CorruptLogError);
    expect(e.message).toBe('in `shop`');
    expect((e as CorruptLogError).offset).toBe(4n);
    expect(withMessage(new ConnectionError('a'), 'b').retriable).toBe(true);
    const f = withMessage(new Error('a'), 'b');
    expect(f).toBeInstanceOf(PitrError);
    expect(f.message).toBe('b');
  });

  it('wrapError wraps foreign errors with a prefix', () => {
    const w = wrapError(new Error('boom'), 'p', 'reading');
    expect(w).toBeInstanceOf(PitrError);
    expect(w.message).toBe('reading: boom');
    expect(w.position).toBe('p');
    expect(w.retriable).toBe(false);
  });
});
