// The local embedded stack behind `pitr stack up|down|status`: a binlogged source MariaDB, a recovery MariaDB and
// a secured Kafka cluster, with ports, cluster id and generated credentials kept in a 0600 state file.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StackError } from '../core/errors.js';
import { logger } from '../core/logger.js';
import type { StackInfo } from '../core/settings.js';
import { provisionLog } from '../log/provision.js';
import { isPortFree, pickFreePorts } from './free-ports.js';
import { KafkaCluster, newClusterId, newPassword, principalUsers, type KafkaCredentials, type KafkaNodePorts, type KafkaNodeStatus } from './kafka-cluster.js';
import { ensureKafkaRuntime } from './kafka-jars.js';
import { MariaDbInstance, findMariaDbBinaries } from './mariadb-instance.js';
import { isOurProcess, sleep } from './process-control.js';

/** The source id the local stack provisions a log for. */
export const LOCAL_SOURCE_ID = 'main';

const STATE_VERSION = 1;

/** What state.json holds. Mode 0600: it contains the generated Kafka passwords. */
export interface StackState {
  version: number;
  createdAt: string;
  source: { port: number; pid?: number };
  recovery: { port: number; pid?: number };
  kafka: {
    clusterId: string;
    nodes: Array<KafkaNodePorts & { pid?: number }>;
    credentials: KafkaCredentials;
    /** Broker settings given to `stack up --kafka-config` when the stack was created (override the defaults). */
    config?: Record<string, string>;
  };
  /** Source ids whose log has been provisioned. */
  provisioned: string[];
}

export interface ComponentStatus {
  running: boolean;
  pid?: number;
  port: number;
}

export interface StackStatus {
  /** The state folder ($PITR_HOME or <repo>/.pitr). */
  home: string;
  /** True when a stack was created here (state.json exists), running or not. */
  exists: boolean;
  /** True when every component runs. */
  running: boolean;
  components?: { source: ComponentStatus; recovery: ComponentStatus; kafka: KafkaNodeStatus[] };
  /** Connection settings (present whenever the stack exists; only usable when `running`). */
  info?: StackInfo;
}

export interface StackUpOptions {
  /** Kafka nodes of a new stack (default 1). An existing stack keeps the count it was created with. */
  kafkaNodes?: number;
  /** Broker settings of a new stack (server.properties keys), e.g. a small transaction.max.timeout.ms for a test. */
  kafkaConfig?: Record<string, string>;
}

export interface StackDownOptions {
  /** Also delete the stack's data (databases, Kafka log, credentials). The jar cache is kept. */
  purge?: boolean;
}

/** Repository root: this file is <root>/src/stack/*.ts under vitest and <root>/dist/stack/*.js when built. */
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The state folder: $PITR_HOME, else <repo root>/.pitr. */
export function stackHome(): string {
  return process.env.PITR_HOME ? resolve(process.env.PITR_HOME) : join(REPO_ROOT, '.pitr');
}

interface Paths {
  home: string;
  stack: string;
  state: string;
  lock: string;
  cache: string;
}

function paths(): Paths {
  const home = stackHome();
  const stack = join(home, 'stack');
  return { home, stack, state: join(stack, 'state.json'), lock: join(stack, 'stack.lock'), cache: join(home, 'cache') };
}

function readState(p: Paths): StackState | undefined {
  if (!existsSync(p.state)) return undefined;
  let state: StackState;
  try {
    state = JSON.parse(readFileSync(p.state, 'utf8')) as StackState;
  } catch (err) {
    throw new StackError(`the stack state file ${p.state} is unreadable; run \`pitr stack down --purge\` to start over.`, { cause: err });
  }
  if (state.version !== STATE_VERSION) {
    throw new StackError(`the stack state file ${p.state} has an unknown version; run \`pitr stack down --purge\` to start over.`);
  }
  return state;
}

function writeState(p: Paths, state: StackState): void {
  mkdirSync(p.stack, { recursive: true, mode: 0o700 });
  // Write-then-rename: a crash never leaves a half-written file (and lost passwords) behind.
  const tmp = `${p.state}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, p.state);
}

/**
 * One `stack up`/`down` at a time per state folder (a test run and a terminal may race). The lock file holds
 * the owner's pid; a lock whose owner died is taken over.
 */
async function withLock<T>(p: Paths, fn: () => Promise<T>): Promise<T> {
  mkdirSync(p.stack, { recursive: true, mode: 0o700 });
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      const fd = openSync(p.lock, 'wx', 0o600);
      writeFileSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let owner = 0;
      try {
        owner = Number.parseInt(readFileSync(p.lock, 'utf8'), 10);
      } catch {
        /* removed meanwhile */
      }
      // Our own pid counts as alive: a concurrent call in this process waits its turn too.
      const alive = owner > 0 && (owner === process.pid || isOurProcess(owner, ''));
      if (!alive) {
        rmSync(p.lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new StackError(`another pitr process (pid ${owner}) holds ${p.lock}.`);
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(p.lock, { force: true });
  }
}

function sourceInstance(p: Paths, state: StackState): MariaDbInstance {
  return new MariaDbInstance({ name: 'source', dir: join(p.stack, 'source'), port: state.source.port, serverId: 1, binlog: true });
}

function recoveryInstance(p: Paths, state: StackState): MariaDbInstance {
  return new MariaDbInstance({ name: 'recovery', dir: join(p.stack, 'recovery'), port: state.recovery.port, serverId: 2, binlog: false });
}

function kafkaCluster(p: Paths, state: StackState, runtime: ConstructorParameters<typeof KafkaCluster>[0]['runtime']): KafkaCluster {
  return new KafkaCluster({
    dir: join(p.stack, 'kafka'),
    clusterId: state.kafka.clusterId,
    nodes: state.kafka.nodes.map(({ nodeId, clientPort, brokerPort, controllerPort }) => ({ nodeId, clientPort, brokerPort, controllerPort })),
    credentials: state.kafka.credentials,
    config: state.kafka.config,
    runtime,
  });
}

/** Kafka status without needing the jars (status must work before the first fetch). */
function kafkaStatus(p: Paths, state: StackState): KafkaNodeStatus[] {
  const dummyRuntime = { jarsDir: '', version: '', log4jConfig: '', java: '' };
  return kafkaCluster(p, state, dummyRuntime).nodeStatus();
}

function stackInfo(state: StackState): StackInfo {
  const c = state.kafka.credentials;
  return {
    source: `mysql://root:@127.0.0.1:${state.source.port}`,
    target: `mysql://root:@127.0.0.1:${state.recovery.port}`,
    kafka: {
      brokers: state.kafka.nodes.map((n) => `127.0.0.1:${n.clientPort}`),
      mechanism: 'scram-sha-256',
      users: principalUsers(c),
    },
  };
}

async function newState(kafkaNodes: number): Promise<StackState> {
  const ports = await pickFreePorts(2 + 3 * kafkaNodes);
  const nodes: KafkaNodePorts[] = [];
  for (let i = 0; i < kafkaNodes; i++) {
    nodes.push({ nodeId: i + 1, clientPort: ports[2 + 3 * i]!, brokerPort: ports[3 + 3 * i]!, controllerPort: ports[4 + 3 * i]! });
  }
  return {
    version: STATE_VERSION,
    createdAt: new Date().toISOString(),
    source: { port: ports[0]! },
    recovery: { port: ports[1]! },
    kafka: {
      clusterId: newClusterId(),
      nodes,
      credentials: {
        custodian: { username: 'custodian', password: newPassword() },
        capture: { username: 'capture', password: newPassword() },
        reader: { username: 'reader', password: newPassword() },
        checkpointer: { username: 'checkpointer', password: newPassword() },
        admin: { username: 'admin', password: newPassword() },
      },
    },
    provisioned: [],
  };
}

/** Replaces remembered ports of stopped components that something else took meanwhile. */
async function refreshPorts(state: StackState, running: { source: boolean; recovery: boolean; kafka: boolean }): Promise<boolean> {
  let changed = false;
  const replace = async (port: number): Promise<number> => {
    if (await isPortFree(port)) return port;
    changed = true;
    return (await pickFreePorts(1))[0]!;
  };
  if (!running.source) state.source.port = await replace(state.source.port);
  if (!running.recovery) state.recovery.port = await replace(state.recovery.port);
  // Kafka's ports are part of every node's config (voters list): only re-pick them when the whole cluster is down.
  if (!running.kafka) {
    for (const n of state.kafka.nodes) {
      n.clientPort = await replace(n.clientPort);
      n.brokerPort = await replace(n.brokerPort);
      n.controllerPort = await replace(n.controllerPort);
    }
  }
  if (changed) logger().warn('some of the stack\'s remembered ports were taken; picked new ones');
  return changed;
}

/**
 * Starts the local stack (creating it on first use) and provisions the log of source "main". Idempotent: when
 * everything already runs it returns the same connection settings; when the state exists but processes died
 * it restarts them on the same data (and the same ports when they are still free).
 */
export async function stackUp(opts: StackUpOptions = {}): Promise<StackInfo> {
  const p = paths();
  if (opts.kafkaNodes !== undefined && (!Number.isInteger(opts.kafkaNodes) || opts.kafkaNodes < 1 || opts.kafkaNodes > 9)) {
    throw new StackError(`--kafka-nodes must be a whole number from 1 to 9, not ${opts.kafkaNodes}.`);
  }
  return withLock(p, async () => {
    const t0 = Date.now();
    let state = readState(p);
    if (state && opts.kafkaNodes !== undefined && opts.kafkaNodes !== state.kafka.nodes.length) {
      throw new StackError(
        `the local stack in ${p.stack} was created with ${state.kafka.nodes.length} Kafka node(s); ` +
          'run `pitr stack down --purge` first to change the count.',
      );
    }
    if (!state) {
      findMariaDbBinaries(); // fail before creating anything when MariaDB is missing
      state = await newState(opts.kafkaNodes ?? 1);
      if (opts.kafkaConfig && Object.keys(opts.kafkaConfig).length) state.kafka.config = { ...opts.kafkaConfig };
      writeState(p, state);
    }
    const s = state;
    const source = sourceInstance(p, s);
    const recovery = recoveryInstance(p, s);
    const kafkaUp = kafkaStatus(p, s).every((n) => n.running);
    const kafkaAny = kafkaStatus(p, s).some((n) => n.running);
    if (source.isRunning() && recovery.isRunning() && kafkaUp && s.provisioned.includes(LOCAL_SOURCE_ID)) {
      return stackInfo(s);
    }

    if (await refreshPorts(s, { source: source.isRunning(), recovery: recovery.isRunning(), kafka: kafkaAny })) writeState(p, s);
    const bins = findMariaDbBinaries();
    const src = sourceInstance(p, s);
    const rec = recoveryInstance(p, s);
    let cluster: KafkaCluster | undefined;
    // MariaDB starts in ~1 s; the Kafka JVMs take longest, so everything starts at once.
    const results = await Promise.allSettled([
      src.start({ bins }),
      rec.start({ bins }),
      (async () => {
        const runtime = await ensureKafkaRuntime({ toolsDir: join(REPO_ROOT, 'tools', 'kafka'), cacheDir: p.cache });
        cluster = kafkaCluster(p, s, runtime);
        await cluster.start();
      })(),
    ]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;

    const info = stackInfo(s);
    await provisionLog({ kafka: info.kafka, sourceId: LOCAL_SOURCE_ID, brokerCount: s.kafka.nodes.length });
    if (!s.provisioned.includes(LOCAL_SOURCE_ID)) s.provisioned.push(LOCAL_SOURCE_ID);
    s.source.pid = src.pid;
    s.recovery.pid = rec.pid;
    const nodePids = new Map(cluster!.nodeStatus().map((n) => [n.nodeId, n.pid]));
    for (const n of s.kafka.nodes) n.pid = nodePids.get(n.nodeId);
    writeState(p, s);
    logger().info({ ms: Date.now() - t0, home: p.home }, 'local stack is up');
    return info;
  });
}

/** Stops every component (gracefully, SIGKILL after a timeout). Data is kept unless `purge`. */
export async function stackDown(opts: StackDownOptions = {}): Promise<{ stopped: boolean; purged: boolean }> {
  const p = paths();
  if (!existsSync(p.stack)) return { stopped: false, purged: false };
  const result = await withLock(p, async () => {
    const state = readState(p);
    let stopped = false;
    if (state) {
      const dummyRuntime = { jarsDir: '', version: '', log4jConfig: '', java: '' };
      const cluster = kafkaCluster(p, state, dummyRuntime);
      stopped = sourceInstance(p, state).isRunning() || recoveryInstance(p, state).isRunning() || cluster.nodeStatus().some((n) => n.running);
      await Promise.all([sourceInstance(p, state).stop(), recoveryInstance(p, state).stop(), cluster.stop()]);
      state.source.pid = undefined;
      state.recovery.pid = undefined;
      for (const n of state.kafka.nodes) n.pid = undefined;
      if (!opts.purge) writeState(p, state);
    }
    return { stopped, purged: false };
  });
  if (opts.purge) {
    rmSync(p.stack, { recursive: true, force: true });
    result.purged = true;
  }
  return result;
}

/** Which components run, and the connection settings; never starts anything. */
export async function stackStatus(): Promise<StackStatus> {
  const p = paths();
  const state = readState(p);
  if (!state) return { home: p.home, exists: false, running: false };
  const source = sourceInstance(p, state);
  const recovery = recoveryInstance(p, state);
  const components = {
    source: { running: source.isRunning(), pid: source.pid, port: state.source.port },
    recovery: { running: recovery.isRunning(), pid: recovery.pid, port: state.recovery.port },
    kafka: kafkaStatus(p, state),
  };
  const running = components.source.running && components.recovery.running && components.kafka.every((n) => n.running);
  return { home: p.home, exists: true, running, components, info: stackInfo(state) };
}

/** Connection settings of the running local stack, or a StackError saying how to start it. */
export async function runningStackInfo(): Promise<StackInfo> {
  const st = await stackStatus();
  if (!st.exists) throw new StackError('the local stack is not running; start it with `pitr stack up`.');
  // A cluster that lost some brokers still serves (replication factor 3, min ISR 2): only a stack
  // without its servers or without any broker is "not running".
  const c0 = st.components;
  if (st.info && c0 && c0.source.running && c0.recovery.running && c0.kafka.some((n) => n.running)) return st.info;
  if (!st.running || !st.info) {
    const c = st.components!;
    const down = [
      !c.source.running && 'source MariaDB',
      !c.recovery.running && 'recovery MariaDB',
      ...c.kafka.filter((n) => !n.running).map((n) => `Kafka node ${n.nodeId}`),
    ].filter(Boolean);
    throw new StackError(`the local stack is not running (${down.join(', ')} down); start it with \`pitr stack up\`.`);
  }
  return st.info;
}
