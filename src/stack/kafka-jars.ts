// The Kafka broker's jars for the local stack: fetched once from Maven Central with tools/kafka/pom.xml into a
// cache under the state folder, reused afterwards (Maven's ~/.m2 makes even a re-fetch offline and quick).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { StackError } from '../core/errors.js';
import { logger } from '../core/logger.js';
import { findExecutable } from './process-control.js';

const execFileAsync = promisify(execFile);

export interface KafkaRuntime {
  /** Directory holding every runtime jar (used as `-cp '<dir>/*'`). */
  jarsDir: string;
  /** Kafka version from the pom, e.g. "3.9.2". */
  version: string;
  /** log4j 1.x configuration for the broker and the storage tool. */
  log4jConfig: string;
  /** The java launcher. */
  java: string;
}

/** Locates `java`, honouring $JAVA_HOME first. */
export function findJava(): string {
  const fromHome = process.env.JAVA_HOME ? findExecutable(join(process.env.JAVA_HOME, 'bin', 'java')) : undefined;
  const java = fromHome ?? findExecutable('java');
  if (!java) {
    throw new StackError('Java was not found (Kafka needs Java 11 or newer); install it with `apt-get install openjdk-17-jre-headless`.');
  }
  return java;
}

/**
 * Returns the runtime jars, fetching them when the cache lacks them. The cache directory name includes a
 * hash of the pom so a changed pom (new patch release) gets a fresh directory instead of mixed jars.
 */
export async function ensureKafkaRuntime(opts: { toolsDir: string; cacheDir: string }): Promise<KafkaRuntime> {
  const pom = join(opts.toolsDir, 'pom.xml');
  const log4jConfig = join(opts.toolsDir, 'log4j.properties');
  if (!existsSync(pom) || !existsSync(log4jConfig)) {
    throw new StackError(`the Kafka runtime description is missing (${pom}); reinstall pitr.`);
  }
  const pomText = readFileSync(pom, 'utf8');
  const version = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pomText)?.[1] ?? 'unknown';
  const hash = createHash('sha256').update(pomText).digest('hex').slice(0, 10);
  const jarsDir = join(opts.cacheDir, `kafka-${version}-${hash}`);
  const java = findJava();
  // The marker is written last, so an interrupted fetch is never mistaken for a complete one.
  if (existsSync(join(jarsDir, '.complete'))) return { jarsDir, version, log4jConfig, java };

  const mvn = findExecutable('mvn');
  if (!mvn) {
    throw new StackError('Maven (mvn) was not found and the Kafka jars are not cached yet; install it with `apt-get install maven`.');
  }
  logger().info({ version }, 'fetching the Kafka broker jars from Maven Central (first run only)');
  mkdirSync(opts.cacheDir, { recursive: true, mode: 0o700 });
  // Fetch into a private directory and rename: two concurrent `stack up` runs cannot see half a jar set.
  const staging = `${jarsDir}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  try {
    await execFileAsync(
      mvn,
      ['-B', '-q', '-f', pom, 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${staging}`],
      { timeout: 15 * 60_000, maxBuffer: 32 << 20 },
    );
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    const e = err as { stdout?: string; stderr?: string; message: string };
    const detail = `${e.stdout ?? ''}\n${e.stderr ?? ''}`.trim().split('\n').slice(-10).join('\n') || e.message;
    throw new StackError(`fetching the Kafka ${version} jars with Maven failed (is Maven Central reachable?):\n${detail}`, { cause: err });
  }
  if (!readdirSync(staging).some((f) => f.startsWith('kafka_2.13-'))) {
    throw new StackError(`Maven finished but ${staging} holds no kafka_2.13 jar.`);
  }
  writeFileSync(join(staging, '.complete'), `${version}\n`);
  if (existsSync(join(jarsDir, '.complete'))) {
    rmSync(staging, { recursive: true, force: true }); // someone else finished first
  } else {
    rmSync(jarsDir, { recursive: true, force: true });
    renameSync(staging, jarsDir);
  }
  return { jarsDir, version, log4jConfig, java };
}
