// The wiring checks (issue 11) on the deployed lab, read-only: they all pass on what the tutorial built, and each fails
// naming the cause when the inventory handed to runChecks disagrees with the deployment (an address, a host name, an
// extra role, the RabbitMQ user and password, the database and broker ports, the provider interface). Nothing on the
// lab changes: every case is a modified copy of the inventory. No secret value may appear in any result.
import { existsSync } from 'node:fs';
import { beforeAll, expect } from 'vitest';
import { loadInventory } from '../../../src/inventory/load.js';
import type { Inventory } from '../../../src/inventory/types.js';
import { readDeployment, deployedInstalls } from '../../../src/lab/deployment.js';
import { runChecks } from '../../../src/checks/run.js';
import { inventorySecrets } from '../../../src/checks/secrets.js';
import type { CheckResult } from '../../../src/checks/types.js';
import { requires } from '../../helpers/requires.js';
import { find, notPassed } from '../../helpers/results.js';

const LAB_INVENTORY = '/var/lib/stackcheck/lab/lab/inventory.yaml';
const WIRING = [
  'host.names',
  'host.clock',
  'mysql.grants',
  'mysql.reachable',
  'mysql.*-schema',
  'rabbitmq.permissions',
  'rabbitmq.reachable',
  'nova.cells',
  'neutron.router-ports',
  'neutron.dhcp-namespace',
  'neutron.bridge-mapping',
];

const gate = requires({
  what: `the deployed lab's inventory (${LAB_INVENTORY})`,
  ok: existsSync(LAB_INVENTORY),
  how: 'build the lab and install the tutorial on it first: `npx stackcheck run tutorial` (or `npm run test:tutorial`)',
});

let inventory: Inventory;
let installed: string[] | undefined;



// Every secret of the real inventory and of the modified one is absent from every string of every result.
function expectNoSecret(results: CheckResult[], ...invs: Inventory[]): void {
  const text = JSON.stringify(results);
  for (const secret of new Set(invs.flatMap((i) => inventorySecrets(i)))) expect(text.includes(secret), 'a secret value appears in the results').toBe(false);
}

// The inventory with some variables changed (a copy: the lab's file is not touched).
function withVars(vars: Record<string, string>): Inventory {
  return { ...inventory, vars: { ...inventory.vars, ...vars } };
}

const check = (inv: Inventory, only: string[]): Promise<CheckResult[]> => runChecks({ inventory: inv, only, ...(installed ? { installed } : {}) });

gate.describe('wiring between services on the deployed lab (read-only)', () => {
  beforeAll(async () => {
    inventory = await loadInventory(LAB_INVENTORY);
    const record = readDeployment(process.env.STACKCHECK_LAB ?? 'lab').deployment;
    installed = record ? deployedInstalls(record) : undefined;
  });

  gate.it('every wiring check passes, one result per host it concerns, with its duration', async () => {
    const results = await check(inventory, WIRING);
    expect(notPassed(results)).toEqual({});
    const roles = Object.keys(inventory.hosts);
    expect(results.filter((r) => r.id === 'host.names').map((r) => r.host).sort()).toEqual([...roles].sort());
    expect(results.filter((r) => r.id === 'host.clock').map((r) => r.host).sort()).toEqual([...roles].sort());
    if (!installed || installed.includes('neutron')) {
      for (const id of ['mysql.grants', 'rabbitmq.permissions', 'nova.cells', 'neutron.router-ports', 'neutron.dhcp-namespace', 'neutron.bridge-mapping', 'mysql.nova-schema']) expect(find(results, id).status).toBe('passed');
    }
    expect(results.filter((r) => r.id === 'mysql.reachable').map((r) => r.host).sort()).toEqual(['api-node', 'auth-node', 'image-node', 'network-node', 'volume-node'].filter((h) => roles.includes(h)));
    expect(results.filter((r) => r.id === 'rabbitmq.reachable').map((r) => r.host).sort()).toEqual(['api-node', 'compute-1', 'network-node', 'volume-node'].filter((h) => roles.includes(h)));
    expectNoSecret(results, inventory);
    const lines = results.map((r) => `${String(r.durationMs).padStart(6)} ms  ${r.id} @ ${r.host}`);
    process.stderr.write(`wiring checks on the lab (durations):\n${lines.join('\n')}\n`);
  });

  gate.it('a role address the hosts do not use: host.names fails on every host, naming the host and both addresses', async () => {
    const inv = withVars({ COMPUTE_1_IP: '10.99.0.99' });
    const results = await check(inv, ['host.names']);
    const roles = Object.keys(inventory.hosts);
    expect(notPassed(results)).toEqual(Object.fromEntries(roles.map((r) => [`host.names@${r}`, 'failed'])));
    for (const role of roles) {
      const r = find(results, 'host.names', role);
      expect(r.expected).toMatch(new RegExp(`^on ${role}, every host name resolving to its inventory address \\(.*compute-1 10\\.99\\.0\\.99`));
      expect(r.found).toBe(`compute-1 resolves to ${inventory.hosts['compute-1']!.address}, not 10.99.0.99 (COMPUTE_1_IP)`);
      expect(r.remedy.stage).toBe('hosts');
    }
    expectNoSecret(results, inventory);
  });

  gate.it('a host name and an extra role that /etc/hosts does not list: host.names names both, on every host', async () => {
    const compute = inventory.hosts['compute-1']!;
    const volume = inventory.hosts['volume-node']!;
    const inv: Inventory = {
      ...inventory,
      // swift-node: an extra role (reached over SSH at volume-node's address, so it answers), that no /etc/hosts names
      hosts: { ...inventory.hosts, 'compute-1': { ...compute, hostname: 'nova-compute-1' }, 'swift-node': { ...volume, role: 'swift-node', hostname: 'swift-node' } },
      vars: { ...inventory.vars, SWIFT_NODE_IP: volume.address },
    };
    const results = await check(inv, ['host.names']);
    expect(Object.keys(notPassed(results)).sort()).toEqual([...Object.keys(inventory.hosts), 'swift-node'].map((r) => `host.names@${r}`).sort());
    for (const r of results) {
      expect(r.found).toBe(`nova-compute-1 does not resolve (expected ${compute.address} from COMPUTE_1_IP); swift-node does not resolve (expected ${volume.address} from SWIFT_NODE_IP)`);
    }
    expectNoSecret(results, inventory);
  });

  gate.it('a RabbitMQ user and password the broker does not have: permissions and cells fail, the TCP path still passes', async () => {
    const inv = withVars({ RABBIT_USER: 'stackcheck-nobody', RABBIT_PASS: 'not-the-rabbit-pass-7f3a' });
    const results = await check(inv, ['rabbitmq.permissions', 'rabbitmq.reachable', 'nova.cells']);
    expect(notPassed(results)).toEqual({ 'rabbitmq.permissions@db-node': 'failed', 'nova.cells@deployment': 'failed' });
    const perms = find(results, 'rabbitmq.permissions');
    expect(perms.message).toMatch(/^expected user stackcheck-nobody with configure, write and read permissions on everything \(".\*"\) on vhost \/ of RabbitMQ on db-node, found no user stackcheck-nobody \(users: .*openstack.*\)$/);
    expect(perms.remedy.stage).toBe('rabbitmq');
    const cells = find(results, 'nova.cells');
    expect(cells.found).toContain('cell1 transport_url uses user openstack, not stackcheck-nobody');
    expect(cells.found).toContain('cell1 transport_url has a password that differs from RABBIT_PASS');
    expect(cells.remedy.stage).toBe('nova-controller');
    // the real RABBIT_PASS is not a secret of the modified inventory: it must not have leaked either
    expectNoSecret(results, inventory, inv);
  });

  gate.it('database and broker ports nothing listens on: every client host says connection refused', async () => {
    const inv = withVars({ DB_PORT: '3307', RABBIT_PORT: '5673' });
    const results = await check(inv, ['mysql.reachable', 'rabbitmq.reachable']);
    const db = inventory.vars.DB_NODE_IP ?? inventory.hosts['db-node']!.address;
    for (const r of results) {
      expect(r.status).toBe('failed');
      const [svc, port] = r.id === 'mysql.reachable' ? ['MariaDB', 3307] : ['RabbitMQ', 5673];
      expect(r.message).toMatch(new RegExp(`^expected ${r.host} \\(.+\\) reaching ${svc} on ${db.replace(/\./g, '\\.')}:${port}, found connection refused after \\d+ ms`));
    }
    expect(results.length).toBeGreaterThanOrEqual(6);
    expectNoSecret(results, inventory);
  });

  gate.it('a provider interface the network node does not use: bridge-mapping names the mapping it found', async () => {
    const results = await check(withVars({ PROVIDER_INTERFACE: 'eth9' }), ['neutron.bridge-mapping']);
    const r = find(results, 'neutron.bridge-mapping');
    expect(r.status).toBe('failed');
    expect(r.message).toBe(
      'expected physical_interface_mappings = provider:eth9 on network-node, eth9 up, the running agent using it, found [linux_bridge] physical_interface_mappings maps provider to provider0, not eth9',
    );
    expect(r.remedy.stage).toBe('neutron');
    expectNoSecret(results, inventory);
  });
});
