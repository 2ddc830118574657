// The local Kafka 3.9 cluster of the embedded stack: N KRaft nodes in combined mode on 127.0.0.1 with SCRAM
// clients, PLAIN between brokers/controllers, StandardAuthorizer ACLs; formatted once, started as detached JVMs.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { StackError } from '../core/errors.js';
import type { KafkaSettings, KafkaUser } from '../core/settings.js';
import { kafkaClient, LogAdmin } from '../log/kafka-log.js';
import type { KafkaRuntime } from './kafka-jars.js';
import { isOurProcess, readPidFile, sleep, spawnDetached, stopProcess, tailFile } from './process-control.js';

const execFileAsync = promisify(execFile);

export interface KafkaNodePorts {
  nodeId: number;
  /** SASL_PLAINTEXT + SCRAM-SHA-256: what clients (pitr, kafkajs) use. */
  clientPort: number;
  /** SASL_PLAINTEXT + PLAIN: replication between brokers, as the internal admin. */
  brokerPort: number;
  /** SASL_PLAINTEXT + PLAIN: the KRaft quorum. */
  controllerPort: number;
}

export interface KafkaCredentials {
  custodian: KafkaUser;
  capture: KafkaUser;
  reader: KafkaUser;
  /** Writes checkpoints (absent in stacks created before checkpoints existed). */
  checkpointer?: KafkaUser;
  /** Internal super user for the controller and inter-broker listeners (PLAIN; SCRAM cannot serve the controller). */
  admin: KafkaUser;
}

export interface KafkaClusterOptions {
  /** Directory of the cluster; node N lives in `<dir>/node-N`. */
  dir: string;
  clusterId: string;
  nodes: KafkaNodePorts[];
  credentials: KafkaCredentials;
  runtime: KafkaRuntime;
  /** JVM heap per node. */
  heap?: string;
  /** server.properties settings that override the defaults below (never the listeners or security). */
  config?: Record<string, string>;
}

export interface KafkaNodeStatus {
  nodeId: number;
  running: boolean;
  pid?: number;
  clientPort: number;
}

/** A new KRaft cluster id: 16 random bytes, base64url without padding, as `StorageTool random-uuid` prints. */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id; // Kafka avoids ids that look like command-line flags
  }
}

/** A password for a generated principal: 144 random bits, URL-safe (no quoting needed in JAAS or SCRAM specs). */
export function newPassword(): string {
  return randomBytes(18).toString('base64url');
}

export class KafkaCluster {
  readonly opts: KafkaClusterOptions;

  constructor(opts: KafkaClusterOptions) {
    if (opts.nodes.length < 1) throw new StackError('a Kafka cluster needs at least one node.');
    this.opts = opts;
  }

  get nodeCount(): number {
    return this.opts.nodes.length;
  }

  /** Replication factor of internal and log topics: 3 on a 3+ node cluster, else all nodes. */
  get replicationFactor(): number {
    return Math.min(3, this.nodeCount);
  }

  /** 2 with three replicas (one node may fail without blocking acks=all), else 1. */
  get minInsyncReplicas(): number {
    return this.replicationFactor >= 3 ? 2 : 1;
  }

  nodeDir(nodeId: number): string {
    return join(this.opts.dir, `node-${nodeId}`);
  }

  propertiesFile(nodeId: number): string {
    return join(this.nodeDir(nodeId), 'server.properties');
  }

  private pidFile(nodeId: number): string {
    return join(this.nodeDir(nodeId), 'kafka.pid');
  }

  private outFile(nodeId: number): string {
    return join(this.nodeDir(nodeId), 'kafka.out');
  }

  private serverLog(nodeId: number): string {
    return join(this.nodeDir(nodeId), 'logs', 'server.log');
  }

  /** End of a node's logs for error messages: log4j's server.log, then the JVM's own output if it has any. */
  private logTail(nodeId: number): string {
    const log = tailFile(this.serverLog(nodeId));
    const out = tailFile(this.outFile(nodeId), 8);
    return [log && `${this.serverLog(nodeId)}:\n${log}`, out && `${this.outFile(nodeId)}:\n${out}`].filter(Boolean).join('\n') || '(no log output)';
  }

  private dataDir(nodeId: number): string {
    return join(this.nodeDir(nodeId), 'data');
  }

  brokers(): string[] {
    return this.opts.nodes.map((n) => `127.0.0.1:${n.clientPort}`);
  }

  /** Connection settings for pitr commands: client listener plus the three principals' SCRAM credentials. */
  settings(): KafkaSettings {
    const c = this.opts.credentials;
    return {
      brokers: this.brokers(),
      mechanism: 'scram-sha-256',
      users: principalUsers(c),
    };
  }

  /** server.properties of one node. Holds the internal admin password, hence written with mode 0600. */
  properties(node: KafkaNodePorts): string {
    const { admin, custodian } = this.opts.credentials;
    const voters = this.opts.nodes.map((n) => `${n.nodeId}@127.0.0.1:${n.controllerPort}`).join(',');
    const plainJaas =
      'org.apache.kafka.common.security.plain.PlainLoginModule required ' +
      `username="${admin.username}" password="${admin.password}" user_${admin.username}="${admin.password}";`;
    const rf = this.replicationFactor;
    const minIsr = this.minInsyncReplicas;
    const props: Array<[string, string | number | boolean]> = [
      ['process.roles', 'broker,controller'],
      ['node.id', node.nodeId],
      ['controller.quorum.voters', voters],
      // Bound and advertised on IPv4 loopback only: nothing outside this machine reaches the local stack, and
      // kafkajs mishandles bracketed IPv6 addresses.
      ['listeners', `CLIENT://127.0.0.1:${node.clientPort},BROKER://127.0.0.1:${node.brokerPort},CONTROLLER://127.0.0.1:${node.controllerPort}`],
      ['advertised.listeners', `CLIENT://127.0.0.1:${node.clientPort},BROKER://127.0.0.1:${node.brokerPort}`],
      ['listener.security.protocol.map', 'CLIENT:SASL_PLAINTEXT,BROKER:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT'],
      ['inter.broker.listener.name', 'BROKER'],
      ['controller.listener.names', 'CONTROLLER'],
      // Clients authenticate with SCRAM (users live in the metadata log, created at format time). The quorum
      // cannot use SCRAM (it must authenticate before any metadata is loaded), so the controller listener and,
      // for the same reason of not depending on metadata, the replication listener use PLAIN with a
      // properties-file user that is a super user (the controller needs CLUSTER_ACTION).
      ['sasl.enabled.mechanisms', 'SCRAM-SHA-256'],
      ['listener.name.client.sasl.enabled.mechanisms', 'SCRAM-SHA-256'],
      ['listener.name.client.scram-sha-256.sasl.jaas.config', 'org.apache.kafka.common.security.scram.ScramLoginModule required;'],
      ['listener.name.broker.sasl.enabled.mechanisms', 'PLAIN'],
      ['listener.name.broker.plain.sasl.jaas.config', plainJaas],
      ['sasl.mechanism.inter.broker.protocol', 'PLAIN'],
      ['listener.name.controller.sasl.enabled.mechanisms', 'PLAIN'],
      ['listener.name.controller.plain.sasl.jaas.config', plainJaas],
      ['sasl.mechanism.controller.protocol', 'PLAIN'],
      ['authorizer.class.name', 'org.apache.kafka.metadata.authorizer.StandardAuthorizer'],
      ['super.users', `User:${custodian.username};User:${admin.username}`],
      // Deny by default: capture and reader get only what the custodian grants.
      ['allow.everyone.if.no.acl.found', false],
      ['log.dirs', this.dataDir(node.nodeId)],
      // Topics exist only when the custodian creates them, with retention the capture cannot shorten.
      ['auto.create.topics.enable', false],
      ['num.partitions', 1],
      ['default.replication.factor', rf],
      ['min.insync.replicas', minIsr],
      ['offsets.topic.replication.factor', rf],
      ['transaction.state.log.replication.factor', rf],
      ['transaction.state.log.min.isr', minIsr],
      // Internal topics are created on first use; 50 partitions each (the default) costs seconds on the first
      // consumer group / transaction of a fresh local stack.
      ['offsets.topic.num.partitions', 8],
      ['transaction.state.log.num.partitions', 8],
      ['group.initial.rebalance.delay.ms', 0],
      ['unclean.leader.election.enable', false],
      // Small machine: a few threads are plenty for a local stack.
      ['num.network.threads', 2],
      ['num.io.threads', 4],
      ['num.recovery.threads.per.data.dir', 1],
      ['background.threads', 4],
    ];
    for (const [k, v] of Object.entries(this.opts.config ?? {})) {
      const i = props.findIndex(([key]) => key === k);
      if (i >= 0) props[i] = [k, v];
      else props.push([k, v]);
    }
    return (
      `# pitr local stack: Kafka node ${node.nodeId}. Generated by pitr stack up on every start; edits are overwritten.\n` +
      props.map(([k, v]) => `${k}=${String(v)}`).join('\n') +
      '\n'
    );
  }

  private writeProperties(node: KafkaNodePorts): void {
    const dir = this.nodeDir(node.nodeId);
    mkdirSync(join(dir, 'logs'), { recursive: true, mode: 0o700 });
    writeFileSync(this.propertiesFile(node.nodeId), this.properties(node), { mode: 0o600 });
  }

  isFormatted(nodeId: number): boolean {
    return existsSync(join(this.dataDir(nodeId), 'meta.properties'));
  }

  private jvmBase(nodeId: number): string[] {
    const r = this.opts.runtime;
    return [
      `-Dlog4j.configuration=file:${r.log4jConfig}`,
      `-Dkafka.logs.dir=${join(this.nodeDir(nodeId), 'logs')}`,
      '-Djava.awt.headless=true',
      '-cp',
      `${r.jarsDir}/*`,
    ];
  }

  /**
   * Formats the nodes that are not formatted yet, creating the SCRAM users in the bootstrap metadata.
   * The SCRAM specs (with passwords) go through an argparse4j "@file" (StorageTool reads arguments from a file
   * given as @path), a 0600 file deleted right after, so no password is ever on a command line visible in `ps`.
   */
  async format(): Promise<void> {
    const c = this.opts.credentials;
    const scramArgs = [c.custodian, c.capture, c.reader, ...(c.checkpointer ? [c.checkpointer] : [])].flatMap((u) => [
      '--add-scram',
      `SCRAM-SHA-256=[name=${u.username},password=${u.password}]`,
    ]);
    await Promise.all(
      this.opts.nodes
        .filter((n) => !this.isFormatted(n.nodeId))
        .map(async (node) => {
          this.writeProperties(node);
          const argsFile = join(this.nodeDir(node.nodeId), 'format.args');
          writeFileSync(argsFile, scramArgs.join('\n') + '\n', { mode: 0o600 });
          try {
            await execFileAsync(
              this.opts.runtime.java,
              [
                ...this.jvmBase(node.nodeId),
                'kafka.tools.StorageTool',
                'format',
                '--config',
                this.propertiesFile(node.nodeId),
                '--cluster-id',
                this.opts.clusterId,
                '--ignore-formatted',
                `@${argsFile}`,
              ],
              { cwd: this.nodeDir(node.nodeId), timeout: 120_000, maxBuffer: 8 << 20 },
            );
          } catch (err) {
            const e = err as { stdout?: string; stderr?: string; message: string };
            const detail = `${e.stdout ?? ''}\n${e.stderr ?? ''}`.trim().split('\n').slice(-10).join('\n') || e.message;
            throw new StackError(`formatting Kafka node ${node.nodeId} failed:\n${detail}`, { cause: err });
          } finally {
            rmSync(argsFile, { force: true });
          }
        }),
    );
  }

  nodeStatus(): KafkaNodeStatus[] {
    return this.opts.nodes.map((n) => {
      const pid = readPidFile(this.pidFile(n.nodeId));
      const running = isOurProcess(pid, this.propertiesFile(n.nodeId));
      return { nodeId: n.nodeId, running, pid: running ? pid : undefined, clientPort: n.clientPort };
    });
  }

  isRunning(): boolean {
    return this.nodeStatus().every((s) => s.running);
  }

  /** Starts the nodes that are not running (formatting first where needed) and waits until the cluster serves. */
  async start(opts: { timeoutMs?: number } = {}): Promise<void> {
    await this.format();
    const r = this.opts.runtime;
    const started: Array<{ nodeId: number; pid: number }> = [];
    for (const node of this.opts.nodes) {
      const status = this.nodeStatus().find((s) => s.nodeId === node.nodeId);
      if (status?.running) continue;
      this.writeProperties(node);
      const pid = spawnDetached(
        r.java,
        [
          `-Xmx${this.opts.heap ?? '512m'}`,
          '-Xms128m',
          '-XX:+UseG1GC',
          '-XX:MaxGCPauseMillis=20',
          ...this.jvmBase(node.nodeId),
          'kafka.Kafka',
          this.propertiesFile(node.nodeId),
        ],
        { logFile: this.outFile(node.nodeId), cwd: this.nodeDir(node.nodeId) },
      );
      writeFileSync(this.pidFile(node.nodeId), `${pid}\n`, { mode: 0o600 });
      started.push({ nodeId: node.nodeId, pid });
    }
    await this.waitReady(opts.timeoutMs ?? 120_000);
  }

  /**
   * Ready = on every node, the custodian authenticates over SCRAM and describeCluster lists all nodes as brokers.
   * Each node is asked directly: right after start one broker may already see everyone while another's metadata
   * still lacks a broker (and would, e.g., make a replication factor 3 topic fail to create).
   */
  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer';
    const settings = this.settings();
    const admins = this.opts.nodes.map(
      (n) =>
        new LogAdmin(
          kafkaClient({ ...settings, brokers: [`127.0.0.1:${n.clientPort}`] }, 'custodian', {
            clientId: 'pitr-stack-probe',
            quiet: true,
            retries: 0,
          }),
        ),
    );
    const pending = new Set(admins.keys());
    try {
      for (;;) {
        const dead = this.nodeStatus().filter((s) => !s.running);
        if (dead.length > 0) {
          const id = dead[0]!.nodeId;
          throw new StackError(`Kafka node ${id} exited during start-up; end of its logs:\n${this.logTail(id)}`);
        }
        for (const i of [...pending]) {
          const admin = admins[i]!;
          try {
            await admin.connect();
            const brokers = await admin.brokerCount();
            if (brokers >= this.nodeCount) pending.delete(i);
            else last = `node ${this.opts.nodes[i]!.nodeId} sees ${brokers} of ${this.nodeCount} brokers`;
          } catch (err) {
            last = `node ${this.opts.nodes[i]!.nodeId}: ${err instanceof Error ? err.message : String(err)}`;
            await admin.disconnect().catch(() => undefined);
          }
        }
        if (pending.size === 0) return;
        if (Date.now() > deadline) {
          const id = this.opts.nodes[[...pending][0]!]!.nodeId;
          throw new StackError(
            `Kafka did not become ready within ${Math.round(timeoutMs / 1000)} s (${last}); end of node ${id}'s logs:\n` +
              this.logTail(id),
          );
        }
        await sleep(300);
      }
    } finally {
      await Promise.all(admins.map((a) => a.disconnect().catch(() => undefined)));
    }
  }

  /**
   * Stops every node at once: each broker then does its controlled shutdown while the controller quorum is still
   * up (stopping them one by one would leave the last broker waiting for a quorum that is gone). SIGKILL after
   * `graceMs`; data stays.
   */
  async stop(graceMs = 30_000): Promise<void> {
    await Promise.all(
      this.opts.nodes.map((n) => stopProcess(readPidFile(this.pidFile(n.nodeId)), this.propertiesFile(n.nodeId), graceMs)),
    );
    for (const n of this.opts.nodes) rmSync(this.pidFile(n.nodeId), { force: true });
  }
}

/** The client principals' credentials as pitr commands take them (the internal admin left out). */
export function principalUsers(c: KafkaCredentials): KafkaSettings['users'] {
  const users: KafkaSettings['users'] = { custodian: { ...c.custodian }, capture: { ...c.capture }, reader: { ...c.reader } };
  if (c.checkpointer) users.checkpointer = { ...c.checkpointer };
  return users;
}
