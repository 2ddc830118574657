// No code in src/ decides by matching an error's message text: errors are told apart by class
// (src/core/errors.ts) or by structured fields (mysql2's code/errno, kafkajs' type). A grep over src/.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const src = fileURLToPath(new URL('../../src', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** An error's text: `.message`, `.sqlMessage`, or String() of a caught value. */
const TEXT = String.raw`(?:\.message\b|\.sqlMessage\b|String\(\s*(?:err|error|e|caught|reason)\s*\))`;
const MATCHERS = String.raw`(?:includes|startsWith|endsWith|match|matchAll|search|indexOf)`;
/** The start of a call's arguments, one level of parentheses inside allowed: `(` then `(err as Error)`... */
const ARGS = String.raw`\((?:[^()]|\([^()]*\))*?`;

/** Lines of `code` that test an error's text (directly, or through a variable assigned from it). */
function messageTests(code: string): { line: number; text: string }[] {
  const lines = code.split('\n');
  const isComment = (l: string) => /^\s*(\/\/|\/?\*)/.test(l);
  // Variables holding an error's text: `const msg = e?.message ?? String(err)`.
  const names = new Set<string>();
  for (const l of lines) {
    if (isComment(l)) continue;
    for (const m of l.matchAll(new RegExp(String.raw`\b(?:const|let|var)\s+(\w+)\s*=\s*[^;]*?${TEXT}`, 'g'))) names.add(m[1]!);
  }
  const patterns = [
    new RegExp(String.raw`\.(?:test|exec)${ARGS}${TEXT}`), // /re/.test(err.message)
    new RegExp(String.raw`${TEXT}(?:\s*\?\?\s*(?:''|""))?\s*\)?\s*\.${MATCHERS}\(`), // err.message.includes(...)
    new RegExp(String.raw`${TEXT}\s*[!=]==?\s*['"\x60]`), // err.message === '...'
    ...[...names].flatMap((n) => [
      new RegExp(String.raw`\.(?:test|exec)${ARGS}\b${n}\b`),
      new RegExp(String.raw`(?<![.\w])${n}\s*\.${MATCHERS}\(`),
      new RegExp(String.raw`(?<![.\w])${n}\s*[!=]==?\s*['"\x60]`),
    ]),
  ];
  const out: { line: number; text: string }[] = [];
  lines.forEach((l, i) => {
    if (!isComment(l) && patterns.some((p) => p.test(l))) out.push({ line: i + 1, text: l.trim() });
  });
  return out;
}

/**
 * The justified exceptions, each a line (by a piece of its text) and why: kafkaError in the Kafka adapter, which
 * maps kafkajs' errors (some of which say what happened only in their text) to pitr's, and the configuration
 * file reader, to which JSON.parse gives its error position only in the text.
 */
const EXCEPTIONS: { file: string; line: string; reason: string }[] = [
  { file: 'log/kafka-log.ts', line: "/(?:ECONNREFUSED|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|ECONNRESET)\\s+([^\\s,)]+:\\d+)/.exec(err?.message", reason: 'errors kafkajs wraps (retries, cluster lookups) can name the unreachable broker only in their text' },
  { file: 'log/kafka-log.ts', line: "if (/ECONNREFUSED/.test(msg))", reason: 'a few words for the network reason: wrapped kafkajs errors keep the socket code only in their text, and timeouts have none' },
  { file: 'log/kafka-log.ts', line: "if (/ENOTFOUND|EAI_AGAIN/.test(msg))", reason: 'as above' },
  { file: 'log/kafka-log.ts', line: "if (/ETIMEDOUT|timed? ?out/i.test(msg))", reason: 'as above' },
  { file: 'log/kafka-log.ts', line: "if (/EHOSTUNREACH|ENETUNREACH/.test(msg))", reason: 'as above' },
  { file: 'log/kafka-log.ts', line: "if (/ECONNRESET|closed/i.test(msg))", reason: 'as above' },
  { file: 'log/kafka-log.ts', line: "e?.type === 'SASL_AUTHENTICATION_FAILED' || /SASL|authentication/i.test(msg)", reason: 'kafkajs raises some SASL failures without a protocol error type' },
  { file: 'log/kafka-log.ts', line: "/AUTHORIZATION_FAILED|not authorized/i.test(`${e?.type} ${msg}`)", reason: 'authorization refusals arrive typed or as text depending on the request' },
  { file: 'log/kafka-log.ts', line: "e?.name === 'KafkaJSConnectionError' || e?.name === 'KafkaJSNumberOfRetriesExceeded' || /ECONN|ENOTFOUND|ETIMEDOUT|Connection/i.test(msg)", reason: 'socket errors can surface untyped from kafkajs internals' },
  { file: 'config/config-file.ts', line: '/position (\\d+)/.exec((err as Error).message)', reason: 'JSON.parse gives its error position only in the text; it is shown, nothing branches on it' },
];

describe('typed errors', () => {
  const found = sourceFiles(src).flatMap((f) => messageTests(readFileSync(f, 'utf8')).map((m) => ({ file: relative(src, f), ...m })));

  it('no code in src/ decides by matching an error message, beyond the listed exceptions', () => {
    const unexplained = found.filter((m) => !EXCEPTIONS.some((e) => e.file === m.file && m.text.includes(e.line)));
    expect(unexplained.map((m) => `${m.file}:${m.line}: ${m.text}`)).toEqual([]);
  });

  it('every listed exception is still in the code (the list stays true)', () => {
    const stale = EXCEPTIONS.filter((e) => !found.some((m) => m.file === e.file && m.text.includes(e.line)));
    expect(stale).toEqual([]);
  });

  it('the scan finds message tests, direct and through a variable, and passes structured checks', () => {
    const hits = (code: string) => messageTests(code).map((m) => m.line);
    expect(hits('if (/purged/i.test(err.message)) x();')).toEqual([1]);
    expect(hits("if ((err as Error).message.includes('does not exist')) x();")).toEqual([1]);
    expect(hits("if (e.message === 'gone') x();")).toEqual([1]);
    expect(hits("if (/boom/.test(String(err))) x();")).toEqual([1]);
    expect(hits('const at = /position (\\d+)/.exec((err as Error).message)?.[1];')).toEqual([1]);
    expect(hits("const msg = e?.message ?? String(err);\nlog(msg);\nif (msg.startsWith('SASL')) x();")).toEqual([3]);
    expect(hits("// a comment quoting /x/.test(err.message)\nif (err.errno === 1236 || err.code === 'ECONNREFUSED') x();")).toEqual([]);
    expect(hits('if (err instanceof BinlogPurgedError) x();\nlog.warn({ err: err.message });')).toEqual([]);
  });
});
