// A real OpenSSH server for integration tests: own config, host key and authorized key in a temp dir,
// listening on 127.0.0.1 on a free port. Runs as whoever runs the tests (root here).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, existsSync, chmodSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export interface TestSshd {
  address: string;
  port: number;
  user: string;
  /** Private key authorized for `user` (and for `extraUsers`). */
  keyFile: string;
  /** A known_hosts line for this server (`[127.0.0.1]:port ssh-ed25519 …`). */
  knownHostsLine: string;
  /** Path of a known_hosts file holding that line. */
  knownHostsFile: string;
  dir: string;
  stop: () => Promise<void>;
}

export const SSHD = '/usr/sbin/sshd';

/** Whether a real sshd can be started here (tests skip with a message otherwise). */
export function sshdAvailable(): boolean {
  return existsSync(SSHD) && existsSync('/usr/bin/ssh-keygen');
}

// Ask the kernel for a free port (closed again at once).
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

// Poll until the port accepts TCP connections.
async function waitForPort(port: number, timeoutMs: number, proc: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`sshd exited with ${proc.exitCode}: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd did not listen on 127.0.0.1:${port} within ${timeoutMs} ms: ${log()}`);
}

/** Start sshd; `authorizeUsers` lists extra local users whose authorized_keys also accept the key (via AuthorizedKeysFile). */
export async function startSshd(opts: { maxSessions?: number } = {}): Promise<TestSshd> {
  const dir = mkdtempSync(join(tmpdir(), 'stackcheck-sshd-'));
  chmodSync(dir, 0o755);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'test-host', '-f', join(dir, 'host_key')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'test-client', '-f', join(dir, 'client_key')]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')));
  chmodSync(join(dir, 'authorized_keys'), 0o644);
  const port = await freePort();
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(dir, 'host_key')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    'PermitRootLogin prohibit-password',
    'StrictModes no',
    'UsePAM no',
    `MaxSessions ${opts.maxSessions ?? 10}`,
    'LogLevel ERROR',
    'Subsystem sftp internal-sftp',
    '',
  ].join('\n');
  writeFileSync(join(dir, 'sshd_config'), config);
  // sshd needs its privilege-separation directory.
  if (!existsSync('/run/sshd')) execFileSync('mkdir', ['-p', '-m', '0755', '/run/sshd']);
  let log = '';
  const proc = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  proc.stderr?.on('data', (d: Buffer) => {
    log = (log + d.toString()).slice(-4000);
  });
  await waitForPort(port, 10_000, proc, () => log);
  const pub = readFileSync(join(dir, 'host_key.pub'), 'utf8').trim().split(/\s+/);
  const knownHostsLine = `[127.0.0.1]:${port} ${pub[0]} ${pub[1]}`;
  const knownHostsFile = join(dir, 'known_hosts');
  writeFileSync(knownHostsFile, `${knownHostsLine}\n`);
  return {
    address: '127.0.0.1',
    port,
    user: userInfo().username,
    keyFile: join(dir, 'client_key'),
    knownHostsLine,
    knownHostsFile,
    dir,
    stop: async () => {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An inventory mapping each role to the test sshd (the shape `loadInventory` returns). */
export function inventoryFor(
  sshd: TestSshd,
  roles: string[],
  extra: { vars?: Record<string, string>; secretNames?: string[]; knownHosts?: string; acceptNewHostKeys?: boolean; connectTimeoutMs?: number } = {},
): import('../../src/inventory/types.js').Inventory {
  const hosts: Record<string, import('../../src/inventory/types.js').HostSpec> = {};
  for (const role of roles) hosts[role] = { role, address: sshd.address, port: sshd.port, user: sshd.user, keyFile: sshd.keyFile, hostname: role };
  return {
    file: join(sshd.dir, 'inventory.yaml'),
    name: 'test',
    hosts,
    vars: extra.vars ?? {},
    secretNames: extra.secretNames ?? [],
    knownHosts: extra.knownHosts ?? sshd.knownHostsFile,
    acceptNewHostKeys: extra.acceptNewHostKeys ?? false,
    connectTimeoutMs: extra.connectTimeoutMs ?? 5000,
  };
}
