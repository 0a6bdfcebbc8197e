// The clients one check run shares inside the vitest worker: one Keystone session (tokens reused), one SSH
// connection per host, one AMQP connection, one MySQL pool per user. Owned by the run id, closed when the
// run's last check file is done; nothing lives at module level except the table of open runs.
import type { Inventory } from '../inventory/types.js';
import type { Redactor } from '../redact.js';
import { SshPool } from '../ssh/pool.js';
import { remoteCommand, type ExecResult } from '../ssh/exec.js';
import { Http } from '../openstack/http.js';
import { KeystoneSession, type Credentials } from '../openstack/keystone.js';
import { OpenStackClient } from '../openstack/client.js';
import { MysqlPools, type MysqlTarget } from '../db/mysql.js';
import { AmqpProbe } from '../mq/rabbitmq.js';
import type { CheckContext } from './context.js';
import { expectedFor, roleAddress, type Expected } from './expect.js';
import { CheckBroken, evidence, logExcerpt } from './outcome.js';
import { redactorFor } from './secrets.js';
import type { Evidence } from './types.js';

export interface RemoteResult extends ExecResult {
  command: string;
  role: string;
}

export class CheckSession {
  readonly ctx: CheckContext;
  readonly inventory: Inventory;
  readonly expected: Expected;
  readonly redactor: Redactor;
  readonly ssh: SshPool;
  readonly keystone: KeystoneSession;
  readonly mysql = new MysqlPools();
  private amqpProbe: AmqpProbe | undefined;
  private readonly clients = new Map<string, OpenStackClient>();

  constructor(ctx: CheckContext) {
    this.ctx = ctx;
    this.inventory = ctx.inventory;
    this.expected = expectedFor(ctx.inventory, ctx.installed);
    this.redactor = redactorFor(ctx.inventory);
    this.ssh = new SshPool(ctx.inventory, { maxChannels: 4 });
    this.keystone = new KeystoneSession(this.authUrl(), new Http(30_000));
  }

  /** An inventory variable the check needs; a missing one makes the check broken, naming the variable. */
  variable(name: string): string {
    const v = this.inventory.vars[name];
    if (v === undefined || v === '') throw new CheckBroken(`the inventory does not set ${name}`);
    return v;
  }

  /** The Keystone URL: `OS_AUTH_URL`, else port 5000 on the auth role's address. */
  authUrl(): string {
    const explicit = this.inventory.vars.OS_AUTH_URL ?? this.inventory.vars.KEYSTONE_URL;
    if (explicit) return explicit;
    const auth = this.expected.services.find((s) => s.name === 'keystone')?.role ?? 'auth-node';
    return `http://${roleAddress(this.inventory, auth) ?? auth}:5000/v3`;
  }

  /** Rewrite a URL whose host is a role or host name from the inventory to that host's address. */
  reachable(url: string): string {
    try {
      const u = new URL(url);
      for (const [role, h] of Object.entries(this.inventory.hosts)) {
        if (u.hostname === role || u.hostname === h.hostname || u.hostname.split('.')[0] === h.hostname) {
          u.hostname = roleAddress(this.inventory, role) ?? h.address;
          return u.toString().replace(/\/$/, url.endsWith('/') ? '/' : '');
        }
      }
    } catch {
      // not a URL: leave it to the HTTP layer to complain
    }
    return url;
  }

  /** Credentials for the admin (scoped to the admin project). */
  adminCredentials(): Credentials {
    const a = this.expected.admin;
    return { user: a.user, password: this.variable(a.passwordVar), project: a.project, domain: this.expected.domain };
  }

  /** A client acting as admin (token shared by every check of the run). */
  admin(): OpenStackClient {
    return this.client('admin', this.adminCredentials());
  }

  /** A client for arbitrary credentials (cached by user and project). */
  client(key: string, c: Credentials): OpenStackClient {
    let cl = this.clients.get(key);
    if (!cl) {
      cl = new OpenStackClient(this.keystone, c, this.expected.region, 'public', (u) => this.reachable(u));
      this.clients.set(key, cl);
    }
    return cl;
  }

  /** API credentials only: a check that would reach a host cannot run (and contacts nothing). */
  private requireHostAccess(what: string): void {
    if (this.inventory.access === 'api') throw new CheckBroken(`not checked: ${what} needs the hosts, and only API credentials were given`);
  }

  /** Where MariaDB must answer: the db role's service address (`DB_NODE_IP`), port 3306 or `DB_PORT`. */
  dbAddress(): { host: string; port: number } {
    this.requireHostAccess('MariaDB');
    const host = roleAddress(this.inventory, this.expected.dbRole);
    if (!host) throw new CheckBroken(`the inventory has no host for the database role ${this.expected.dbRole}`);
    return { host, port: Number(this.inventory.vars.DB_PORT ?? 3306) };
  }

  /** The MariaDB target for a user, on the db role's service address. */
  mysqlTarget(user: string, passwordVar: string): MysqlTarget {
    return { ...this.dbAddress(), user, password: this.variable(passwordVar) };
  }

  /** The run's AMQP probe (connects on first use as the tutorial's RabbitMQ user). */
  amqp(): AmqpProbe {
    this.requireHostAccess('RabbitMQ');
    if (!this.amqpProbe) {
      const host = roleAddress(this.inventory, this.expected.mqRole);
      if (!host) throw new CheckBroken(`the inventory has no host for the message-queue role ${this.expected.mqRole}`);
      const r = this.expected.rabbit;
      this.amqpProbe = new AmqpProbe({ host, port: Number(this.inventory.vars.RABBIT_PORT ?? 5672), user: r.user, password: this.variable(r.passwordVar), vhost: r.vhost });
    }
    return this.amqpProbe;
  }

  /** Run a script as root on a role's host; an unreachable host makes the check broken. */
  async run(role: string, script: string, timeoutMs = 30_000, input?: string): Promise<RemoteResult> {
    const spec = this.inventory.hosts[role];
    if (!spec) throw new CheckBroken(`the inventory has no host for role ${role}`);
    this.requireHostAccess(`reading ${role} over SSH`);
    const command = remoteCommand({ script, sshUser: spec.user, root: true, timeoutMs });
    try {
      const exec = (): Promise<ExecResult> => this.ssh.exec(role, command, { timeoutMs: timeoutMs + 10_000, ...(input !== undefined ? { input } : {}) });
      let r = await exec();
      // No exit status and no signal or timeout: the status got lost on the channel; checks only read, so ask again.
      if (r.exitCode === null && !r.signal && !r.timedOut && !r.aborted) r = await exec();
      return { ...r, stdout: this.redactor.redact(r.stdout), stderr: this.redactor.redact(r.stderr), command: script, role };
    } catch (err) {
      throw new CheckBroken(`cannot reach ${role} over SSH (${this.redactor.redact(err instanceof Error ? err.message : String(err))})`, [], err);
    }
  }

  /** Evidence of a command's run. */
  commandEvidence(r: RemoteResult): Evidence {
    return evidence.command(r.role, r.command, r);
  }

  /**
   * The state and log tail of a service on its host: `systemctl status`, then the log file (ERROR/TRACE lines
   * first), else the journal. Never throws: a missing log is itself written into the evidence.
   */
  async serviceLog(role: string, unit: string, file?: string): Promise<Evidence> {
    const log = file ?? `/var/log/${unit.split('-')[0]}/${unit}.log`;
    const script = [
      `systemctl is-active ${unit} 2>&1 | sed 's/^/state: /'`,
      `systemctl status --no-pager -n 0 ${unit} 2>&1 | head -n 5`,
      `if [ -r ${log} ]; then echo "--- ${log}"; tail -n 400 ${log}; else echo "--- journalctl -u ${unit}"; journalctl -u ${unit} -n 200 --no-pager 2>&1; fi`,
    ].join('; ');
    try {
      const r = await this.run(role, script, 15_000);
      const [head, ...rest] = r.stdout.split(/\n(?=--- )/);
      return evidence.text(`${role}: ${unit} status and log`, `${head ?? ''}\n${logExcerpt(rest.join('\n'))}`);
    } catch (err) {
      return evidence.text(`${role}: ${unit} log`, `could not read the log: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.ssh.close(), this.mysql.close(), this.amqpProbe?.close()]);
  }
}

interface Held {
  session: CheckSession;
  users: number;
  finished: number;
  timer: NodeJS.Timeout | undefined;
}

/** Open runs in this worker, by run id (a worker may serve several runs, e.g. when grading). */
const runs = new Map<string, Held>();

/** How long a run's clients stay open after its last file finished (the next file reuses them). */
const IDLE_CLOSE_MS = 1500;

// Take the run's session (creating it on first use); pair with `releaseSession`.
export function acquireSession(ctx: CheckContext): CheckSession {
  let h = runs.get(ctx.runId);
  if (!h) {
    h = { session: new CheckSession(ctx), users: 0, finished: 0, timer: undefined };
    runs.set(ctx.runId, h);
  }
  if (h.timer) clearTimeout(h.timer);
  h.timer = undefined;
  h.users++;
  return h.session;
}

// Give the session back; the last user closes it after a short idle delay.
export async function releaseSession(runId: string): Promise<void> {
  const h = runs.get(runId);
  if (!h) return;
  h.users--;
  h.finished++;
  const immediately = h.finished >= h.session.ctx.files;
  if (h.users > 0) return;
  const close = async (): Promise<void> => {
    if (runs.get(runId) !== h || h.users > 0) return;
    runs.delete(runId);
    await h.session.close();
  };
  if (immediately) return close();
  h.timer = setTimeout(() => void close(), IDLE_CLOSE_MS);
  h.timer.unref();
}
