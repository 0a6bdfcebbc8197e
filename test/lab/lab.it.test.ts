// The lab end to end, on its own bridge and subnet (labtst0, 10.99.99.0/24) so a developer's
// default lab (labbr0, 10.99.0.0/24) is never touched: up from nothing, ssh with host-key
// verification, names, apt through the cache, snapshot/restore, and purge leaving nothing behind.
import { tempDir } from '../helpers/tmp.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { StackcheckError } from '../../src/error.js';
import { ensureLab, labUp, type UpResult } from '../../src/lab/up.js';
import { deployedInstalls, readDeployment, recordStageDone } from '../../src/lab/deployment.js';
import { labDown } from '../../src/lab/down.js';
import { snapshotLab, restoreLab } from '../../src/lab/snapshot.js';
import { loadSpec } from '../../src/lab/spec.js';
import { hostFeatures } from '../../src/lab/host-deps.js';
import { runCommand } from '../../src/cli/run.js';
import { writeInventory } from '../../src/lab/inventory.js';
import { labDir, readState } from '../../src/lab/state.js';
import { prerequisite, requires } from '../helpers/requires.js';

const LAB = 'labtst';
const BRIDGE = 'labtst0';
const lines: string[] = [];
const progress = (l: string): void => {
  lines.push(l);
};
const work = tempDir('labtst-');
const specFile = join(work, 'lab.yaml');
writeFileSync(
  specFile,
  [
    `name: ${LAB}`,
    `bridge: ${BRIDGE}`,
    'subnet: 10.99.99.0/24',
    'hosts:',
    '  db-node: { address: 10.99.99.11 }',
    '  compute-1: { address: 10.99.99.17 }',
    '',
  ].join('\n'),
);

// Remove whatever an earlier, interrupted run of this test left.
async function purge(): Promise<void> {
  const state = readState(LAB);
  await labDown(state?.spec ?? loadSpec(specFile), { purge: true }, progress);
}

// ssh to a lab host exactly as the inventory says: its key, its known_hosts, strict checking.
function ssh(inventoryFile: string, address: string, command: string, knownHosts?: string): { code: number; out: string } {
  const inv = parseYaml(readFileSync(inventoryFile, 'utf8')) as { ssh: { key: string; known_hosts: string } };
  const base = dirname(inventoryFile);
  const r = spawnSync(
    'ssh',
    [
      '-o', 'BatchMode=yes',
      '-o', 'StrictHostKeyChecking=yes',
      '-o', `UserKnownHostsFile=${knownHosts ?? resolve(base, inv.ssh.known_hosts)}`,
      '-o', 'GlobalKnownHostsFile=/dev/null',
      '-o', 'ConnectTimeout=10',
      '-i', resolve(base, inv.ssh.key),
      `root@${address}`,
      command,
    ],
    { encoding: 'utf8', timeout: 300_000 },
  );
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

requires(prerequisite.root()).describe('stackcheck lab (LXC, two hosts on labtst0)', () => {
  let up: UpResult;

  beforeAll(async () => {
    await purge();
  });

  afterAll(async () => {
    if (readState(LAB)) await purge().catch(() => undefined);
  });

  it('refuses a bridge that something else owns, and makes nothing', async () => {
    execFileSync('ip', ['link', 'add', 'labtsx0', 'type', 'bridge']);
    try {
      const f = join(work, 'clash.yaml');
      writeFileSync(f, 'name: labtsx\nbridge: labtsx0\nsubnet: 10.99.98.0/24\nhosts:\n  db-node: { address: 10.99.98.11 }\n');
      const err = await labUp({ specFile: f, progress }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StackcheckError);
      expect((err as StackcheckError).exitCode).toBe(2);
      expect((err as StackcheckError).message).toMatch(/bridge labtsx0 already exists and is used by something else/);
      expect(existsSync(labDir('labtsx'))).toBe(false);
      expect(execFileSync('lxc-ls', ['-1'], { encoding: 'utf8' })).not.toMatch(/sc-labtsx-/);
    } finally {
      execFileSync('ip', ['link', 'del', 'labtsx0']);
    }
  });

  it('brings two hosts up from nothing and writes the inventory', async () => {
    expect(existsSync(labDir(LAB))).toBe(false);
    up = await labUp({ specFile, progress });
    expect(up.hosts.map((h) => h.role)).toEqual(['db-node', 'compute-1']);
    const inv = parseYaml(readFileSync(up.inventoryFile, 'utf8')) as Record<string, unknown>;
    expect(inv).toMatchObject({
      name: LAB,
      ssh: { user: 'root', key: './id_ed25519', known_hosts: './known_hosts', accept_new_host_keys: false, connect_timeout: '10s' },
      hosts: {
        'db-node': { address: '10.99.99.11', port: 22, hostname: 'db-node' },
        'compute-1': { address: '10.99.99.17', port: 22, hostname: 'compute-1' },
      },
      vars: { DB_NODE_IP: '10.99.99.11', COMPUTE_1_IP: '10.99.99.17', LAB_BRIDGE_IP: '10.99.99.1' },
    });
    expect(lines.some((l) => l.includes('debootstrap') || l.includes('exists (Debian 12'))).toBe(true);
  });

  it('logs in to both hosts with host-key verification (and refuses unknown keys)', () => {
    for (const [addr, name] of [
      ['10.99.99.11', 'db-node'],
      ['10.99.99.17', 'compute-1'],
    ] as const) {
      const r = ssh(up.inventoryFile, addr, 'hostname; ps -p 1 -o comm=; systemctl is-active ssh; cat /etc/machine-id');
      expect(r.out).toMatch(new RegExp(`^${name}\\nsystemd\\nactive\\n[0-9a-f]{32}\\n$`));
      expect(r.code).toBe(0);
      // Booted fully; "degraded" (a unit timing out on a loaded machine) is reported with its units.
      const boot = ssh(up.inventoryFile, addr, 'systemctl is-system-running --wait; systemctl --failed --no-legend');
      expect(boot.out, `${name}: ${boot.out}`).toMatch(/^(running|degraded)\n/);
    }
    const empty = join(work, 'empty_known_hosts');
    writeFileSync(empty, '');
    const refused = ssh(up.inventoryFile, '10.99.99.11', 'true', empty);
    expect(refused.code).not.toBe(0);
    expect(refused.out).toMatch(/Host key verification failed/);
  });

  it('gives every host its own machine-id and host keys', () => {
    const a = ssh(up.inventoryFile, '10.99.99.11', 'cat /etc/machine-id /etc/ssh/ssh_host_ed25519_key.pub').out;
    const b = ssh(up.inventoryFile, '10.99.99.17', 'cat /etc/machine-id /etc/ssh/ssh_host_ed25519_key.pub').out;
    expect(a.split('\n')[0]).not.toBe(b.split('\n')[0]);
    expect(a.split('\n')[1]).not.toBe(b.split('\n')[1]);
  });

  it('reaches the other host by name, and nothing beyond the bridge', () => {
    const r = ssh(up.inventoryFile, '10.99.99.11', 'ping -c1 -W2 compute-1 && ip route');
    expect(r.out).toMatch(/1 received/);
    expect(r.out).not.toMatch(/^default/m);
    expect(r.code).toBe(0);
  });

  it('compute hosts get /dev/net/tun (and /dev/kvm when the machine has it)', () => {
    const r = ssh(up.inventoryFile, '10.99.99.17', 'test -c /dev/net/tun && echo tun; ls /dev/kvm 2>/dev/null');
    expect(r.out).toMatch(/^tun$/m);
    if (hostFeatures().kvm) expect(r.out).toMatch(/\/dev\/kvm/);
  });

  it('installs a package with apt-get through the host cache', () => {
    const r = ssh(up.inventoryFile, '10.99.99.11', 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q hello && hello');
    expect(r.out).toMatch(/Hello, world!/);
    expect(r.code).toBe(0);
    const log = readFileSync('/var/log/apt-cacher-ng/apt-cacher.log', 'utf8');
    expect(log).toMatch(/hello_[^|]*\.deb/);
  });

  it('runs a fixture tutorial on the lab with `stackcheck run` and the lab inventory', async () => {
    const code = await runCommand('fixtures/tutorials/lab-smoke.md', { inventory: up.inventoryFile, reports: join(work, 'reports'), color: false });
    expect(code).toBe(0);
    expect(ssh(up.inventoryFile, '10.99.99.17', 'hello -g ok').out).toBe('ok\n');
  });

  it('writes the inventory elsewhere with extra vars merged, paths still resolvable', async () => {
    const varsFile = join(work, 'extra.yaml');
    writeFileSync(varsFile, 'ADMIN_PASS: pw\nDB_NODE_IP: 10.99.99.11\n');
    const out = await writeInventory(up.spec, { out: join(work, 'inv', 'lab.yaml'), varsFile });
    const inv = parseYaml(readFileSync(out, 'utf8')) as { ssh: { key: string; known_hosts: string }; vars: Record<string, string> };
    expect(inv.vars).toMatchObject({ ADMIN_PASS: 'pw', COMPUTE_1_IP: '10.99.99.17' });
    expect(existsSync(resolve(dirname(out), inv.ssh.key))).toBe(true);
    expect(ssh(out, '10.99.99.17', 'hostname').out).toBe('compute-1\n');
  });

  it('a second up takes seconds and keeps the hosts and their keys', async () => {
    const before = readFileSync(join(labDir(LAB), 'known_hosts'), 'utf8');
    const again = await labUp({ specFile, progress });
    expect(again.durationMs).toBeLessThan(30_000);
    expect(readFileSync(join(labDir(LAB), 'known_hosts'), 'utf8')).toBe(before);
    expect(ssh(up.inventoryFile, '10.99.99.11', 'hello').out).toMatch(/Hello, world!/);
  });

  it('brings up a stopped host that a tutorial run needs', async () => {
    execFileSync('lxc-stop', ['-n', 'sc-labtst-compute-1']);
    await ensureLab({ lab: LAB, roles: ['db-node', 'compute-1'], progress });
    expect(execFileSync('lxc-info', ['-n', 'sc-labtst-compute-1', '-s', '-H'], { encoding: 'utf8' }).trim()).toBe('RUNNING');
  });

  it('restores a snapshot: a file created after it is gone, what came before stays, and so does what was deployed', async () => {
    const course = { source: 'course', stages: [{ id: 'db', title: 'DB', installs: { keys: ['mysql'] } }, { id: 'mq', title: 'MQ', installs: { keys: ['rabbitmq'] } }] };
    recordStageDone(LAB, course, 'db', undefined);
    await snapshotLab(up.spec, 'before', progress);
    recordStageDone(LAB, course, 'mq', undefined);
    expect(ssh(up.inventoryFile, '10.99.99.11', 'echo x > /root/after-snapshot && rm /usr/bin/hello').code).toBe(0);
    await restoreLab(up.spec, 'before', progress);
    expect(deployedInstalls(readDeployment(LAB).deployment!)).toEqual(['mysql']);
    const r = ssh(up.inventoryFile, '10.99.99.11', 'ls /root/after-snapshot; hello');
    expect(r.out).toMatch(/No such file or directory/);
    expect(r.out).toMatch(/Hello, world!/);
  });

  it('down --purge leaves no container, no bridge, no process and no state behind', async () => {
    await labDown(up.spec, { purge: true }, progress);
    expect(execFileSync('lxc-ls', ['-1'], { encoding: 'utf8' })).not.toMatch(/sc-labtst-/);
    expect(spawnSync('ip', ['link', 'show', BRIDGE]).status).not.toBe(0);
    expect(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })).not.toMatch(/sc-labtst-/);
    expect(existsSync(labDir(LAB))).toBe(false);
    expect(existsSync('/var/lib/lxc/sc-labtst-base')).toBe(false);
  });
});
