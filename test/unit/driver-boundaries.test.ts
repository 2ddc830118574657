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

/** Files of src/ with a static import (or re-export) of `pkg` or one of its subpaths. */
function importersOf(pkg: string): string[] {
  const re = new RegExp(`\\bfrom\\s+'${pkg.replace(/[/.]/g, '\\$&')}(/[^']*)?'`);
  return sourceFiles(src)
    .filter((f) => re.test(readFileSync(f, 'utf8')))
    .map((f) => relative(src, f))
    .sort();
}

// docs/architecture.md states these; a new importer means a new adapter (say so there) or a leak.
describe('driver boundaries', () => {
  it('kafkajs is imported by the Kafka adapter and provisioning only', () => {
    expect(importersOf('kafkajs')).toEqual(['log/kafka-log.ts', 'log/provision.ts']);
  });

  it('zongji is imported by the binlog source only', () => {
    expect(importersOf('@vlasky/zongji')).toEqual(['capture/binlog-source.ts']);
  });

  it('mysql2 is imported by the mysql adapter and the local stack only', () => {
    expect(importersOf('mysql2')).toEqual(['core/mysql-conn.ts', 'stack/mariadb-instance.ts']);
  });

  it('protobufjs is imported by the record codec only', () => {
    expect(importersOf('protobufjs')).toEqual(['log/record-codec.ts']);
  });
});
