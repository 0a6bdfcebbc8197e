// SSH connections owned by one run: one ssh2 connection per host, opened on first use and reused for every
// step, a few channels at once, keepalive, host keys verified, optional jump host, reconnect when dropped.
import { connect as netConnect, type Socket } from 'node:net';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import pLimit, { type LimitFunction } from 'p-limit';
import { StackcheckError } from '../error.js';
import type { HostSpec, Inventory } from '../inventory/types.js';
import { checkHostKey, preferredHostKeyAlgorithms, readKnownHosts } from './known-hosts.js';
import { collectChannel, type ExecOptions, type ExecResult } from './exec.js';

export interface SshPoolOptions {
  /** Accept and record unknown host keys (overrides the inventory's `acceptNewHostKeys` when set). */
  acceptNewHostKeys?: boolean;
  /** Where accepted host keys and reconnects are reported (never silent). */
  log?: (message: string) => void;
  /** Channels open at once on one connection (OpenSSH's MaxSessions is 10; slots are freed late). */
  maxChannels?: number;
  keepaliveIntervalMs?: number;
  /** Overrides the inventory's connect timeout. */
  connectTimeoutMs?: number;
}

/** A machine to connect to, with how to authenticate; `jump` is reached first. */
export type SshTarget = Pick<HostSpec, 'role' | 'address' | 'port' | 'user' | 'keyFile' | 'agent'> & { jump?: SshTarget };

interface Connection {
  client: Client;
  limit: LimitFunction;
  alive: boolean;
}

// Raised when a channel could not be opened because the connection is gone (the command never ran).
class ConnectionLost extends Error {}

const OPEN_FAILED = /open failed|Channel open failure/i;
const NOT_CONNECTED = /Not connected|No response from server|connection lost|ECONNRESET|EPIPE/i;

// `target@addr:port` identity of a connection in the pool.
function keyOf(t: SshTarget): string {
  return `${t.jump ? `${keyOf(t.jump)}>` : ''}${t.user}@${t.address}:${t.port}`;
}

// Wait a little (retry back-off).
function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export class SshPool {
  private readonly conns = new Map<string, Promise<Connection>>();
  private readonly maxChannels: number;
  private closed = false;

  constructor(
    private readonly inventory: Inventory,
    private readonly opts: SshPoolOptions = {},
  ) {
    this.maxChannels = opts.maxChannels ?? 5;
  }

  /** The inventory's machine for a role (E_ROLE when it maps none). */
  host(role: string): HostSpec {
    const spec = this.inventory.hosts[role];
    if (!spec) throw new StackcheckError('E_ROLE', `role "${role}" is not in the inventory ${this.inventory.file}`);
    return spec;
  }

  // Turn a role (and its jump host: a role or `user@host:port`) into connection targets.
  target(role: string): SshTarget {
    const spec = this.host(role);
    const t: SshTarget = { role, address: spec.address, port: spec.port, user: spec.user };
    if (spec.keyFile) t.keyFile = spec.keyFile;
    if (spec.agent) t.agent = spec.agent;
    if (spec.jump) {
      if (this.inventory.hosts[spec.jump]) {
        if (spec.jump === role) throw new StackcheckError('E_INVENTORY', `host ${role} cannot jump through itself`);
        t.jump = this.target(spec.jump);
      } else {
        const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(spec.jump);
        if (!m?.[2]) throw new StackcheckError('E_INVENTORY', `jump host "${spec.jump}" of ${role} is neither a role nor user@host[:port]`);
        const jump: SshTarget = { role: `${role} jump`, address: m[2].replace(/^\[|\]$/g, ''), port: m[3] ? Number(m[3]) : 22, user: m[1] ?? spec.user };
        if (spec.keyFile) jump.keyFile = spec.keyFile;
        if (spec.agent) jump.agent = spec.agent;
        t.jump = jump;
      }
    }
    return t;
  }

  /** Run a command on a role's host and collect its result (output streamed through `opts`). */
  exec(role: string, command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    return this.withChannel(role, command, (ch) => collectChannel(ch, opts));
  }

  /**
   * Open an exec channel for `command` on a role's host and hand it to `use`; at most `maxChannels` at once per
   * connection. Retries "open failed" (server's session limit) and reconnects once if the connection dropped:
   * in both cases the command did not start.
   */
  async withChannel<T>(role: string, command: string, use: (ch: ClientChannel) => Promise<T>): Promise<T> {
    const target = this.target(role);
    for (let attempt = 0; ; attempt++) {
      const conn = await this.connection(target);
      try {
        return await conn.limit(async () => use(await this.openExec(conn, command)));
      } catch (err) {
        if (err instanceof ConnectionLost && attempt === 0) {
          this.opts.log?.(`connection to ${target.role} (${target.address}:${target.port}) was lost; reconnecting`);
          continue;
        }
        throw err;
      }
    }
  }

  // Open one exec channel, retrying while the server is at its session limit.
  private async openExec(conn: Connection, command: string): Promise<ClientChannel> {
    let delay = 50;
    for (let i = 0; ; i++) {
      if (!conn.alive) throw new ConnectionLost('not connected');
      try {
        return await new Promise<ClientChannel>((resolve, reject) => {
          conn.client.exec(command, (err, ch) => (err ? reject(err) : resolve(ch)));
        });
      } catch (err) {
        const msg = (err as Error).message;
        if (OPEN_FAILED.test(msg) && i < 20) {
          await sleep(delay);
          delay = Math.min(delay * 2, 1000);
          continue;
        }
        if (NOT_CONNECTED.test(msg) || !conn.alive) {
          conn.alive = false;
          throw new ConnectionLost(msg);
        }
        throw err;
      }
    }
  }

  /** The live connection to a target, opening it (and its jump host) on first use. */
  async connection(target: SshTarget): Promise<Connection> {
    if (this.closed) throw new StackcheckError('E_INTERNAL', 'SSH pool is closed');
    const key = keyOf(target);
    const p = this.conns.get(key) ?? this.open(key, target);
    const conn = await p;
    if (conn.alive) return conn;
    // Dropped: replace it once, even when several callers notice at the same time (no await between check and set).
    if (this.conns.get(key) === p) this.open(key, target);
    return (this.conns.get(key) ?? this.open(key, target)) as Promise<Connection>;
  }

  private open(key: string, target: SshTarget): Promise<Connection> {
    const p = this.connect(target);
    this.conns.set(key, p);
    p.catch(() => {
      if (this.conns.get(key) === p) this.conns.delete(key);
    });
    return p;
  }

  // Build the socket: a TCP connection with Nagle off (FACTS: 3 ms instead of 45 ms a command), or a tunnel
  // through the jump host's connection.
  private async socket(target: SshTarget, timeoutMs: number): Promise<Socket | Duplex> {
    const where = `${target.role} (${target.address}:${target.port})`;
    if (target.jump) {
      const jump = await this.connection(target.jump);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(connectError(`timed out after ${timeoutMs} ms opening a tunnel to ${where} through ${target.jump?.role}`)), timeoutMs);
        jump.client.forwardOut('127.0.0.1', 0, target.address, target.port, (err, stream) => {
          clearTimeout(timer);
          if (err) reject(connectError(`cannot reach ${where} through jump host ${target.jump?.role}: ${err.message}`, err));
          else resolve(stream);
        });
      });
    }
    return new Promise((resolve, reject) => {
      const sock = netConnect({ host: target.address, port: target.port, noDelay: true });
      const timer = setTimeout(() => {
        sock.destroy();
        reject(connectError(`cannot reach ${where}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.removeAllListeners('error');
        resolve(sock);
      });
      sock.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(connectError(`cannot reach ${where}: ${err.code ?? err.message}`, err));
      });
    });
  }

  // Connect, authenticate and verify the host key of one target.
  private async connect(target: SshTarget): Promise<Connection> {
    const timeoutMs = this.opts.connectTimeoutMs ?? this.inventory.connectTimeoutMs;
    const where = `${target.role} (${target.user}@${target.address}:${target.port})`;
    if (this.inventory.access === 'api') throw new StackcheckError('E_SSH_CONNECT', `no SSH access to ${target.role}: only OpenStack API credentials were given`);
    const auth = await authConfig(target);
    const knownHostsFile = this.inventory.knownHosts;
    const acceptNew = this.opts.acceptNewHostKeys ?? this.inventory.acceptNewHostKeys;
    const entries = await readKnownHosts(knownHostsFile);
    const sock = await this.socket(target, timeoutMs);
    const client = new Client();
    let hostKeyError: unknown;
    const config: ConnectConfig = {
      sock,
      username: target.user,
      readyTimeout: timeoutMs,
      keepaliveInterval: this.opts.keepaliveIntervalMs ?? 15_000,
      keepaliveCountMax: 3,
      algorithms: { serverHostKey: preferredHostKeyAlgorithms(entries, target.address, target.port) as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] },
      hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
        checkHostKey(target.address, target.port, key, { knownHostsFile, acceptNew, role: target.role, log: (m) => this.opts.log?.(m) }).then(
          () => verify(true),
          (err: unknown) => {
            hostKeyError = err;
            verify(false);
          },
        );
      },
      ...auth,
    };
    return new Promise<Connection>((resolve, reject) => {
      const conn: Connection = { client, limit: pLimit(this.maxChannels), alive: false };
      let ready = false;
      client.once('ready', () => {
        ready = true;
        conn.alive = true;
        client.setNoDelay(true);
        resolve(conn);
      });
      client.on('error', (err: Error & { level?: string }) => {
        conn.alive = false;
        if (ready) return; // a dropped connection is noticed on the next channel open
        if (hostKeyError) return reject(hostKeyError);
        if (err.level === 'client-authentication') {
          return reject(
            new StackcheckError('E_SSH_CONNECT', `authentication failed for ${where}`, {
              cause: err,
              hint: target.keyFile ? `check that the public key of ${target.keyFile} is in ~${target.user}/.ssh/authorized_keys on that host` : 'give a key file (key:) or an ssh-agent (agent:) in the inventory',
            }),
          );
        }
        if (/Timed out while waiting for handshake/.test(err.message)) {
          return reject(connectError(`no SSH handshake from ${where} within ${timeoutMs} ms`, err));
        }
        reject(connectError(`SSH connection to ${where} failed: ${err.message}`, err));
      });
      client.on('close', () => {
        conn.alive = false;
        if (!ready) reject(hostKeyError ?? connectError(`SSH connection to ${where} closed during the handshake`));
      });
      client.connect(config);
    });
  }

  /** Close every connection (jump hosts last). */
  async close(): Promise<void> {
    this.closed = true;
    const conns = await Promise.allSettled([...this.conns.values()].reverse());
    this.conns.clear();
    await Promise.all(
      conns.map((r) =>
        r.status === 'fulfilled' && r.value.alive
          ? new Promise<void>((resolve) => {
              r.value.client.once('close', () => resolve());
              r.value.client.end();
              setTimeout(resolve, 1000).unref();
            })
          : Promise.resolve(),
      ),
    );
  }
}

// An E_SSH_CONNECT error naming where we tried to go.
function connectError(message: string, cause?: unknown): StackcheckError {
  return new StackcheckError('E_SSH_CONNECT', message, { cause, hint: 'check that the host is up, the address and port in the inventory, and any firewall' });
}

// Key file or agent; without either, the agent from the environment and the usual key files (like `ssh`).
async function authConfig(target: SshTarget): Promise<Partial<ConnectConfig>> {
  const cfg: Partial<ConnectConfig> = {};
  if (target.keyFile) {
    try {
      cfg.privateKey = await readFile(target.keyFile);
    } catch (err) {
      throw new StackcheckError('E_SSH_CONNECT', `cannot read the SSH key ${target.keyFile} for ${target.role}: ${(err as Error).message}`, { cause: err });
    }
  }
  const agent = target.agent === 'true' || target.agent === '' ? process.env.SSH_AUTH_SOCK : target.agent;
  if (agent) cfg.agent = agent;
  if (!cfg.privateKey && !cfg.agent) {
    if (process.env.SSH_AUTH_SOCK) cfg.agent = process.env.SSH_AUTH_SOCK;
    else {
      const key = ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((k) => join(homedir(), '.ssh', k)).find((f) => existsSync(f));
      if (key) cfg.privateKey = await readFile(key);
    }
  }
  return cfg;
}
