// Lifecycle helpers for the stack's long-lived child processes (mariadbd, Kafka JVMs): start detached, recognise
// our own process behind a pid (pids get reused), stop gracefully and escalate to SIGKILL.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readSync, fstatSync } from 'node:fs';
import { accessSync, constants as fsConstants } from 'node:fs';
import { delimiter, join } from 'node:path';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Full command line of a live process, or undefined when there is none (Linux /proc). */
export function processCommandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return undefined;
  }
}

/**
 * True when `pid` is alive and its command line contains `marker` (a path only our process is started with),
 * so a recycled pid belonging to someone else is never mistaken for ours, or signalled.
 */
export function isOurProcess(pid: number | undefined, marker: string): pid is number {
  if (!pid || pid <= 0) return false;
  const cmd = processCommandLine(pid);
  if (cmd === undefined) return false;
  // A zombie has an empty cmdline: it is gone for our purposes.
  return cmd.includes(marker);
}

export function readPidFile(path: string): number | undefined {
  try {
    const n = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isFinite(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts a process that outlives us: own process group, stdout/stderr appended to `logFile`, no handle kept,
 * so the CLI can exit while the server keeps running. Returns the pid.
 */
export function spawnDetached(command: string, args: string[], opts: { logFile: string; cwd: string; env?: NodeJS.ProcessEnv }): number {
  const out = openSync(opts.logFile, 'a', 0o600);
  try {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      detached: true,
      stdio: ['ignore', out, out],
    });
    // spawn reports ENOENT asynchronously; callers check the binary exists first and watch the pid afterwards.
    child.on('error', () => undefined);
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    return child.pid;
  } finally {
    closeSync(out);
  }
}

/** Waits until `pid` no longer runs `marker`; true if it went away within `timeoutMs`. */
export async function waitForExit(pid: number, marker: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isOurProcess(pid, marker)) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

/**
 * Graceful stop: SIGTERM (mariadbd and the Kafka JVM both shut down cleanly on it), then SIGKILL after
 * `graceMs` so `stack down` never hangs. Only signals a pid that still runs our marker.
 */
export async function stopProcess(pid: number | undefined, marker: string, graceMs: number): Promise<'stopped' | 'killed' | 'not-running'> {
  if (!isOurProcess(pid, marker)) return 'not-running';
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return 'not-running';
  }
  if (await waitForExit(pid, marker, graceMs)) return 'stopped';
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* exited between the check and the kill */
  }
  await waitForExit(pid, marker, 10_000);
  return 'killed';
}

/** Last `maxLines` lines of a (log) file, for error messages; empty when it does not exist. */
export function tailFile(path: string, maxLines = 15, maxBytes = 16_384): string {
  if (!existsSync(path)) return '';
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size, maxBytes);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    const lines = buf.toString('utf8').split('\n').filter((l) => l.trim() !== '');
    return lines.slice(-maxLines).join('\n');
  } finally {
    closeSync(fd);
  }
}

/** Absolute path of an executable found on PATH (or the given absolute path if executable), else undefined. */
export function findExecutable(name: string, extraDirs: string[] = []): string | undefined {
  const candidates = name.includes('/')
    ? [name]
    : [...extraDirs, ...(process.env.PATH ?? '').split(delimiter)].filter(Boolean).map((d) => join(d, name));
  for (const c of candidates) {
    try {
      accessSync(c, fsConstants.X_OK);
      return c;
    } catch {
      /* keep looking */
    }
  }
  return undefined;
}
