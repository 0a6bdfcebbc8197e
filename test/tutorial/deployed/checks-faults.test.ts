// The OpenStack checks both ways on a deployment built by the tutorial: every check passes on it, and each of
// the course's sabotages (injected over SSH, then undone) fails exactly the checks that should fail, naming the
// cause. Target: the inventory in $STACKCHECK_TEST_INVENTORY, else the lab's (after `stackcheck run tutorial`).
// Runs in the `tutorial` project, after the tutorial has built the lab.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Inventory } from '../../../src/inventory/types.js';
import { runChecks } from '../../../src/checks/run.js';
import { expectedFor } from '../../../src/checks/expect.js';
import type { CheckResult } from '../../../src/checks/types.js';
import { CHECKS } from '../../../src/checks/registry.js';
import type { SshPool } from '../../../src/ssh/pool.js';
import { openDeployedTarget } from '../../helpers/deployed.js';
import { remoteCommand, shQuote, type ExecResult } from '../../../src/ssh/exec.js';
import { buildCli } from '../../helpers/build.js';
import { find, notPassed } from '../../helpers/results.js';

let inventory: Inventory;
let pool: SshPool;

// A root shell script on a role's host; throws when it fails.
async function sh(role: string, script: string): Promise<ExecResult> {
  const spec = inventory.hosts[role];
  if (!spec) throw new Error(`no role ${role} in ${inventory.file}`);
  const r = await pool.exec(role, remoteCommand({ script, sshUser: spec.user, root: true, timeoutMs: 180_000 }));
  if (r.exitCode !== 0) throw new Error(`${role}: ${script}\n${r.stdout}\n${r.stderr}`);
  return r;
}

// Change a file on a role's host (a shell command) while `fn` runs, then put the original back: the backup
// keeps owner and mode, so a service restarted later can still read its config.
// The original comes back even when the change itself fails (a restart that fails is what a sabotage may cause),
// and a backup left by an interrupted run is restored first, never overwritten by a sabotaged copy.
async function withFileChanged<T>(role: string, path: string, change: string, fn: () => Promise<T>): Promise<T> {
  const backup = `/root/${path.split('/').pop() ?? 'file'}.stackcheck`;
  await sh(role, `if [ -e ${backup} ]; then mv ${backup} ${path}; fi; cp -p ${path} ${backup}`);
  try {
    await sh(role, change);
    return await fn();
  } finally {
    await sh(role, `mv ${backup} ${path}`);
  }
}

// Restart a unit that a sabotage may have left crash-looping (systemd's start limit is reset first).
async function restart(role: string, unit: string): Promise<void> {
  await sh(role, `systemctl reset-failed ${unit} 2>/dev/null; systemctl restart ${unit}`);
}

// A config sabotage as a student's cloud shows it: the file changed and its service restarted (the restart may fail:
// a refused service can exit at start), `fn` looks; then the file back, the service restarted, and the `healthy`
// checks passing again, so nothing is left broken for the next sabotage.
async function withServiceSabotaged(role: string, path: string, change: string, unit: string, healthy: string[], fn: () => Promise<void>): Promise<void> {
  try {
    await withFileChanged(role, path, `${change} && { systemctl restart ${unit} || true; }`, fn);
  } finally {
    await restart(role, unit);
  }
  const back = await until(healthy, (x) => x.every((y) => y.status === 'passed'));
  expect(notPassed(back)).toEqual({});
}



// Run checks until `done` holds (heartbeat-based states change after the service's down time, ~60-75 s).
async function until(only: string[], done: (r: CheckResult[]) => boolean, timeoutMs = 180_000, extra: Partial<Inventory> = {}): Promise<CheckResult[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await runChecks({ inventory: { ...inventory, ...extra }, only });
    if (done(r) || Date.now() > deadline) return r;
    await new Promise((res) => setTimeout(res, 10_000));
  }
}

const e = (): ReturnType<typeof expectedFor> => expectedFor(inventory);
const role = (svc: string): string => e().services.find((s) => s.name === svc)?.role ?? svc;
const compute = (): string => e().computeRoles[0] ?? 'compute-1';

beforeAll(async () => {
  ({ inventory, pool } = await openDeployedTarget());
});

afterAll(async () => {
  await pool?.close();
});

describe('on the deployment the tutorial built', () => {
  test('every read-only check passes', async () => {
    const results = await runChecks({ inventory });
    expect(notPassed(results)).toEqual({});
  });

  // (read-only: the next test runs the functional checks, and proves they leave nothing behind)
  test('`stackcheck check` (the command an operator types) passes every read-only check and exits 0', async () => {
    const cli = buildCli();
    const r = spawnSync(process.execPath, [cli, 'check', '--inventory', inventory.file], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 900_000 });
    const last = r.stdout.trim().split('\n').pop() ?? '';
    // Every check passed but the functional ones, skipped without --functional.
    const functional = CHECKS.filter((m) => m.mutating).length;
    const m = /^(\d+) checks: (\d+) passed, 0 failed, 0 broken, (\d+) skipped$/.exec(last);
    expect(m, r.stdout + r.stderr).not.toBeNull();
    expect(Number(m?.[2]) + Number(m?.[3])).toBe(Number(m?.[1]));
    expect(Number(m?.[3])).toBeGreaterThanOrEqual(functional);
    expect(Number(last.split(' ')[0])).toBeGreaterThanOrEqual(60);
    expect(r.status).toBe(0);
  });

  test('the functional checks pass and leave nothing behind: servers, images, volumes, ports, floating IPs, security groups', async () => {
    const functional = CHECKS.filter((m) => m.mutating).map((m) => m.id);
    const results = await runChecks({ inventory, only: functional, functional: true });
    expect(notPassed(results)).toEqual({});
    expect(new Set(results.map((r) => r.id))).toEqual(new Set(functional));
    // Everything a functional check creates is named (or, for floating IPs, described) stackcheck-…
    const kinds: [string, string][] = [
      ['server', 'openstack server list --all-projects -f value -c Name'],
      ['image', 'openstack image list -f value -c Name'],
      ['volume', 'openstack volume list --all-projects -f value -c Name'],
      ['port', 'openstack port list -f value -c Name'],
      ['floating IP', 'openstack floating ip list -f value -c Description'],
      ['security group', 'openstack security group list -f value -c Name'],
    ];
    const left = await sh(role('nova'), `. /root/admin-openrc; ${kinds.map(([k, cmd]) => `{ ${cmd} | grep '^stackcheck-' | sed 's/^/${k}: /' || true; }`).join('; ')}`);
    expect(left.stdout.trim()).toBe('');
  });
});

describe('an inventory that disagrees with the deployment (read-only: nothing on the target changes)', () => {
  test('a service password the deployment does not use: the user and config checks name the variable', async () => {
    const vars = { ...inventory.vars, NOVA_PASS: 'not-what-nova-uses', NOVA_DBPASS: 'not-what-nova-uses-either' };
    const r = await runChecks({ inventory: { ...inventory, vars }, only: ['keystone.nova-user', 'nova.config', 'mysql.users', 'placement.config'] });
    const api = role('nova');
    // nova's password is in [keystone_authtoken] and [service_user] on the compute host too
    expect(notPassed(r)).toEqual({ 'keystone.nova-user@auth-node': 'failed', [`nova.config@${api}`]: 'failed', [`nova.config@${compute()}`]: 'failed', 'mysql.users@db-node': 'failed' });
    expect(find(r, 'nova.config', api).message).toContain('[api_database] connection has a password that differs from NOVA_DBPASS');
    expect(find(r, 'nova.config', api).message).toContain('[keystone_authtoken] password differs from NOVA_PASS');
    expect(find(r, 'keystone.nova-user').message).toMatch(/Keystone rejects nova's password \(it differs from NOVA_PASS/);
    expect(find(r, 'mysql.users').message).toMatch(/found nova: access denied.*\(NOVA_DBPASS\)$/);
    expect(JSON.stringify(r)).not.toContain('not-what-nova-uses');
  });

  test('a compute host that runs no nova-compute: every compute check on it fails, the real one passes', async () => {
    const c = compute();
    const fake = Object.keys(inventory.hosts).find((h) => h === 'volume-node') ?? Object.keys(inventory.hosts)[0]!;
    const vars = { ...inventory.vars, COMPUTE_ROLES: `${c},${fake}` };
    const r = await runChecks({ inventory: { ...inventory, vars }, only: ['nova.compute-up', 'nova.hypervisor', 'placement.provider', 'rabbitmq.nova-compute'] });
    expect(notPassed(r)).toEqual({
      [`nova.compute-up@${fake}`]: 'failed',
      [`nova.hypervisor@${fake}`]: 'failed',
      [`placement.provider@${fake}`]: 'failed',
      [`rabbitmq.nova-compute@${fake}`]: 'failed',
    });
    expect(find(r, 'nova.compute-up', fake).message).toMatch(new RegExp(`^expected nova-compute on ${fake} to be up and enabled, found nova-compute registered only on`));
    expect(find(r, 'rabbitmq.nova-compute', fake).message).toMatch(new RegExp(`^expected queue compute\\.${fake} consumed by nova-compute on ${fake}, found no such queue`));
  });

  test('an image, a floating range and a region the deployment does not have', async () => {
    const vars = { ...inventory.vars, IMAGE_NAME: 'no-such-image', FLOATING_IP_START: '198.51.100.10', FLOATING_IP_END: '198.51.100.20', REGION: 'RegionTwo' };
    const r1 = await runChecks({ inventory: { ...inventory, vars: { ...vars, REGION: inventory.vars.REGION ?? 'RegionOne' } }, only: ['glance.images', 'neutron.floating-pool'] });
    expect(find(r1, 'glance.images').message).toMatch(/^expected image no-such-image registered in Glance, found no such image \(images: /);
    expect(find(r1, 'neutron.floating-pool').message).toMatch(/^expected floating pool 198\.51\.100\.10-198\.51\.100\.20 on provider, found pools /);
    const r2 = await runChecks({ inventory: { ...inventory, vars }, only: ['keystone.catalog'] });
    expect(find(r2, 'keystone.catalog').message).toMatch(/found no identity service|identity lacks public\/internal\/admin in RegionTwo \(has region RegionOne\)/);
  });
});

describe('sabotages', () => {
  test('a wrong RabbitMQ password in nova.conf on the compute host, service restarted: the file and what the service does both say so', async () => {
    const c = compute();
    const conf = '/etc/nova/nova.conf';
    // nova-compute refused by RabbitMQ exits at start: the restart fails and systemd retries until its start limit.
    const change = `sed -i -E 's#^(transport_url *= *rabbit://[^:]+:)[^@]+@#\\1sabotaged@#' ${conf}`;
    await withServiceSabotaged(c, conf, change, 'nova-compute', ['nova.compute-up', 'rabbitmq.nova-compute'], async () => {
      // As a student's cloud shows it: the compute host's queue loses its consumer, then the service goes down.
      const r = await until(['nova.config', 'rabbitmq.nova-compute', 'nova.compute-up'], (x) => find(x, 'nova.compute-up', c).status === 'failed');
      expect(notPassed(r)).toEqual({ [`nova.config@${c}`]: 'failed', [`rabbitmq.nova-compute@${c}`]: 'failed', [`nova.compute-up@${c}`]: 'failed' });
      expect(find(r, 'nova.config', c).message).toContain('[DEFAULT] transport_url has a password that differs from RABBIT_PASS');
      expect(find(r, 'rabbitmq.nova-compute', c).message).toMatch(/found (0 consumers|no such queue)/);
      expect(find(r, 'nova.compute-up', c).message).toMatch(/found state=down \(last heartbeat/);
      expect(JSON.stringify(r)).not.toContain('sabotaged');
    });
  });

  test('a wrong database password in glance-api.conf: glance.config names it', async () => {
    const host = role('glance');
    const conf = '/etc/glance/glance-api.conf';
    await withFileChanged(host, conf, `sed -i -E 's#^(connection *= *mysql\\+pymysql://glance:)[^@]+@#\\1sabotaged@#' ${conf}`, async () => {
      const r = await runChecks({ inventory, only: ['glance.config'] });
      expect(find(r, 'glance.config').message).toContain('[database] connection has a password that differs from GLANCE_DBPASS');
      expect(JSON.stringify(r)).not.toContain('sabotaged');
    });
  });

  test('the admin role removed from nova: keystone.nova-user says so', async () => {
    const host = role('keystone');
    await sh(host, '. /root/admin-openrc; openstack role remove --project service --user nova admin');
    try {
      const r = await runChecks({ inventory, only: ['keystone.nova-user'] });
      // The tutorial also gives nova the service role (for service tokens): the token comes, without admin.
      expect(find(r, 'keystone.nova-user').message).toMatch(/^expected nova to have the admin role on project service, found roles: (?!.*\badmin\b).*\bservice\b/);
    } finally {
      await sh(host, '. /root/admin-openrc; openstack role add --project service --user nova admin');
    }
  });

  test('floating range replaced by an invalid one: neutron.floating-pool names both', async () => {
    const range = e().floatingRange;
    if (!range) throw new Error('the inventory sets no FLOATING_IP_START / FLOATING_IP_END');
    const host = role('neutron');
    const subnet = `$(openstack subnet list --network ${e().externalNetwork} -f value -c ID | head -n 1)`;
    await sh(host, `. /root/admin-openrc; openstack subnet set --no-allocation-pool --allocation-pool start=${range.start},end=${range.start} ${subnet}`);
    try {
      const r = await runChecks({ inventory, only: ['neutron.floating-pool'] });
      expect(find(r, 'neutron.floating-pool').message).toContain(`found pools ${range.start}-${range.start}`);
    } finally {
      await sh(host, `. /root/admin-openrc; openstack subnet set --no-allocation-pool --allocation-pool start=${range.start},end=${range.end} ${subnet}`);
    }
  });

  test('the floating pool deleted: neutron.floating-pool says there is none', async () => {
    const range = e().floatingRange;
    if (!range) throw new Error('the inventory sets no FLOATING_IP_START / FLOATING_IP_END');
    const host = role('neutron');
    const subnet = `$(openstack subnet list --network ${e().externalNetwork} -f value -c ID | head -n 1)`;
    await sh(host, `. /root/admin-openrc; openstack subnet set --no-allocation-pool ${subnet}`);
    try {
      const r = await runChecks({ inventory, only: ['neutron.floating-pool', 'neutron.networks'] });
      expect(notPassed(r)).toEqual({ 'neutron.floating-pool@deployment': 'failed' });
      expect(find(r, 'neutron.floating-pool').message).toBe(`expected floating pool ${range.start}-${range.end} on ${e().externalNetwork}, found no allocation pool`);
    } finally {
      await sh(host, `. /root/admin-openrc; openstack subnet set --allocation-pool start=${range.start},end=${range.end} ${subnet}`);
    }
  });

  test('a wrong RabbitMQ host in neutron.conf: neutron.config names the host it points at', async () => {
    const host = role('neutron');
    const conf = '/etc/neutron/neutron.conf';
    await withFileChanged(host, conf, `sed -i -E 's#^(transport_url *= *rabbit://[^@]+@)[^:/]+#\\1mq-sabotaged.invalid#' ${conf}`, async () => {
      const r = await runChecks({ inventory, only: ['neutron.config'] });
      expect(notPassed(r)).toEqual({ [`neutron.config@${host}`]: 'failed' });
      expect(find(r, 'neutron.config', host).message).toMatch(/\[DEFAULT\] transport_url points at host mq-sabotaged\.invalid, not \S+/);
    });
  });

  test('an empty /etc/machine-id on the compute host: host.machine-id fails', async () => {
    const c = compute();
    await withFileChanged(c, '/etc/machine-id', ': > /etc/machine-id', async () => {
      const r = await runChecks({ inventory, only: ['host.machine-id'] });
      expect(find(r, 'host.machine-id', c).message).toBe(`expected a 32-hex-digit machine id in /etc/machine-id on ${c}, found an empty file`);
    });
  });

  test('a full instances file system: host.instances-space fails naming the free space', async () => {
    const c = compute();
    const dir = '/var/lib/nova/instances';
    // The lab's hosts share the host machine's disk: filling theirs would fill the machine's. So the instances
    // directory gets a file system of its own for the sabotage (a 64 MB tmpfs over it, as a small disk would be),
    // and that file system is really filled; running instances keep their open disk files meanwhile.
    await sh(c, `mount -t tmpfs -o size=64m,mode=0755 stackcheck-full ${dir} && chown nova:nova ${dir} && (dd if=/dev/zero of=${dir}/fill bs=1M 2>/dev/null || true) && df -Pk ${dir} | tail -n 1`);
    try {
      const r = await runChecks({ inventory, only: ['host.instances-space'] });
      expect(notPassed(r)).toEqual({ [`host.instances-space@${c}`]: 'failed' });
      expect(find(r, 'host.instances-space', c).message).toMatch(new RegExp(`^expected at least 2048 MB free in ${dir} on ${c}, found 0 MB free \\(100% used; look for big files: du -sh ${dir}/\\*\\)$`));
    } finally {
      await sh(c, `umount ${dir}`);
    }
  });

  test('a killed qemu process: qemu.instances names the instance without one', async () => {
    const c = compute();
    const api = role('nova');
    // Not named stackcheck-…: qemu.instances leaves the functional checks' own servers alone.
    const name = `sabotage-qemu-${Date.now().toString(36)}`;
    const boot = await sh(
      api,
      `. /root/admin-openrc; openstack server create --wait --image ${shQuote(e().image)} --flavor ${shQuote(e().flavor)} --network ${shQuote(e().network)} --availability-zone nova:${c} ${name} -f value -c id`,
    );
    const id = boot.stdout.trim().split('\n').pop() ?? '';
    try {
      // Nova hears of the dead domain from libvirt and stops the instance (SHUTOFF) after a 15 s delay:
      // the check runs inside that window, as a student's check right after a crash would.
      const killed = Date.now();
      // ([-]uuid: a pattern that does not match the shell running pkill itself)
      await sh(c, `pkill -9 -f -- '[-]uuid ${id}'`);
      const r = await runChecks({ inventory, only: ['qemu.instances'] });
      const took = Date.now() - killed;
      expect(took, 'the check ran after Nova had already stopped the instance').toBeLessThan(15_000);
      expect(find(r, 'qemu.instances', c).message).toContain(`instance ${id} (ACTIVE) has 0 qemu processes`);
    } finally {
      await sh(api, `. /root/admin-openrc; openstack server delete --wait ${id} || true`);
    }
  });

  test('a qemu process Nova does not know: qemu.instances names the orphan', async () => {
    const c = compute();
    const uuid = '5ab07a9e-0000-4000-8000-00000000beef';
    // A paused (-S) qemu with no disk: an instance Nova lost track of, as after a database restore.
    await sh(c, `B=$(ls /usr/bin/qemu-system-x86_64 /usr/bin/qemu-system-* 2>/dev/null | head -n 1); setsid "$B" -uuid ${uuid} -S -display none -nodefaults -machine none </dev/null >/dev/null 2>&1 & sleep 1; pgrep -f -- '[-]uuid ${uuid}' >/dev/null`);
    try {
      const r = await runChecks({ inventory, only: ['qemu.instances'] });
      expect(notPassed(r)).toEqual({ [`qemu.instances@${c}`]: 'failed' });
      expect(find(r, 'qemu.instances', c).message).toContain(`orphaned qemu process for ${uuid} (unknown to Nova)`);
    } finally {
      await sh(c, `pkill -9 -f -- '[-]uuid ${uuid}' || true`);
    }
  });
});

// The original course's sabotages that no check used to notice (troubleshooting1.rst, "proposed sabotages"),
// injected for real and the service restarted, as a student's cloud would show them.
describe('the course\'s sabotages that went unnoticed before', () => {
  test('a wrong Keystone password in [placement] of nova.conf on the compute host, nova-compute restarted: the file and the refusals it logs say so', async () => {
    const c = compute();
    const conf = '/etc/nova/nova.conf';
    const change = `sed -i '/^\\[placement\\]/,/^\\[/ s/^password *=.*/password = sabotaged-placement/' ${conf}`;
    await withServiceSabotaged(c, conf, change, 'nova-compute', ['nova.config', 'nova.compute-up'], async () => {
      // As the student's cloud shows it: nova-compute, restarted, asks Keystone for a Placement token at start, is
      // refused (HTTP 401) and exits; systemd retries it until its start limit. (Were it refused later, while running,
      // the check would say it "has been refused … since it started".)
      const refused = /nova-compute is not running \([a-z-]+\): when it last started it was refused with the credentials of \[placement\]|nova-compute has been refused with the credentials of \[placement\] since it started/;
      const r = await until(['nova.config'], (x) => refused.test(find(x, 'nova.config', c).message), 180_000);
      expect(notPassed(r)).toEqual({ [`nova.config@${c}`]: 'failed' });
      expect(find(r, 'nova.config', c).message).toContain('[placement] password differs from PLACEMENT_PASS');
      expect(find(r, 'nova.config', c).message).toMatch(refused);
      expect(find(r, 'nova.config', c).remedy.stage).toBe('nova-compute');
      expect(JSON.stringify(r)).not.toContain('sabotaged-placement');
    });
  });

  test('the external network mapped to the wrong interface: neutron.bridge-mapping names file and running agent', async () => {
    const net = role('neutron');
    const ini = '/etc/neutron/plugins/ml2/linuxbridge_agent.ini';
    // A typo for the provider "cable" (provider1 does not exist): the agent cannot plug the external network.
    const change = `sed -i -E 's/^(physical_interface_mappings *= *[^:]+:)provider0/\\1provider1/' ${ini}`;
    await withServiceSabotaged(net, ini, change, 'neutron-linuxbridge-agent', ['neutron.bridge-mapping', 'neutron.linuxbridge-agent'], async () => {
      const r = await runChecks({ inventory, only: ['neutron.bridge-mapping'] });
      expect(find(r, 'neutron.bridge-mapping', net).status).toBe('failed');
      expect(find(r, 'neutron.bridge-mapping', net).message).toContain('provider1');
    });
  });

  test('a wrong key for Cinder\'s storage backend, cinder-volume restarted: cinder.config names it, then the service goes down', async () => {
    const vol = e().cinderVolumeRole;
    const keyring = '/etc/ceph/ceph.client.cinder.keyring';
    const has = await sh(vol, `test -f ${keyring} && echo yes || echo no`);
    // On real machines (LVM + iSCSI) the backend has no key: the LVM variant's address is what a student gets wrong.
    if (has.stdout.trim() !== 'yes') return;
    const change = `sed -i -E 's#^(\\s*key *= *).*#\\1AQBzYWJvdGFnZWQta2V5LTAwMDAwMDAwMDAwMDA9PQ==#' ${keyring}`;
    await withServiceSabotaged(vol, keyring, change, 'cinder-volume', ['cinder.config', 'cinder.volume'], async () => {
      const r = await until(['cinder.config', 'cinder.volume'], (x) => find(x, 'cinder.volume').status === 'failed');
      expect(find(r, 'cinder.config', vol).message).toContain(`the key of client.cinder in ${keyring} differs from CEPH_CINDER_KEY`);
      expect(find(r, 'cinder.config', vol).remedy.stage).toBe('cinder-volume');
      expect(find(r, 'cinder.volume').status).toBe('failed');
    });
  });
});

