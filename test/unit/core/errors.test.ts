import { describe, expect, it } from 'vitest';
import {
  ConnectionError,
  CorruptLogError,
  PitrError,
  UsageError,
  redact,
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

  it('wrapError wraps foreign errors with a prefix', () => {
    const w = wrapError(new Error('boom'), 'p', 'reading');
    expect(w).toBeInstanceOf(PitrError);
    expect(w.message).toBe('reading: boom');
    expect(w.position).toBe('p');
    expect(w.retriable).toBe(false);
  });
});
