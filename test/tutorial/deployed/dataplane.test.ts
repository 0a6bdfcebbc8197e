// dataplane.end-to-end on the deployed lab (`stackcheck run tutorial`): it passes on the healthy cloud and
// leaves nothing behind; then real faults, injected over SSH and repaired in `finally`, make it fail naming the hop
// that broke — the provider interface down on the network node (bridge mapping), bridged traffic no longer passed to
// iptables on the compute host (security group not enforced). Each run's duration is printed. (The DHCP, metadata
// and L3 agents stopped are faults of the catalogue, faults/catalogue.yaml, which runs this check with each.)
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { runChecks } from '../../../src/checks/run.js';
import type { CheckResult } from '../../../src/checks/types.js';
import { loadInventory } from '../../../src/inventory/load.js';
import type { Inventory } from '../../../src/inventory/types.js';
import { deployedInstalls, readDeployment } from '../../../src/lab/deployment.js';
import { labDir } from '../../../src/lab/state.js';
import { SshPool } from '../../../src/ssh/pool.js';
import { remoteCommand, type ExecResult } from '../../../src/ssh/exec.js';
import { requires } from '../../helpers/requires.js';

const LAB = process.env.STACKCHECK_LAB ?? 'lab';
const FILE = join(labDir(LAB), 'inventory.yaml');
const record = readDeployment(LAB).deployment;
const installed = record ? deployedInstalls(record) : [];
const firstInstance = record?.stages.find((s) => s.id === 'first-instance')?.doneAt;
const ID = 'dataplane.end-to-end';
const PREFIX = 'stackcheck-dataplane-';
/** One run boots an instance under software emulation; a fault that blocks the port costs Nova's 5 min wait. */
const RUN_MS = 25 * 60_000;

const gate = requires(
  { what: `the deployed lab's inventory (${FILE})`, ok: existsSync(FILE), how: 'build the lab and install the tutorial on it: `npx stackcheck run tutorial` (npm run test:tutorial does it)' },
  {
    what: `a lab deployment of tutorial/ up to its last stage, first-instance (stackcheck lab status; installed: ${installed.join(', ') || 'nothing'})`,
    ok: !!firstInstance && /tutorial\/?$/.test(record?.source ?? ''),
    how: 'finish `npx stackcheck run tutorial` on the lab',
  },
);

let inventory: Inventory;
let pool: SshPool;
const net = 'network-node';
const compute = 'compute-1';

// A root shell script on a role's host; throws when it fails.
async function sh(role: string, script: string, timeoutMs = 180_000): Promise<ExecResult> {
  const spec = inventory.hosts[role];
  if (!spec) throw new Error(`no role ${role} in ${inventory.file}`);
  const r = await pool.exec(role, remoteCommand({ script, sshUser: spec.user, root: true, timeoutMs }), { timeoutMs: timeoutMs + 10_000 });
  if (r.exitCode !== 0) throw new Error(`${role}: ${script}\n${r.stdout}\n${r.stderr}`);
  return r;
}

// Everything named (or described) with the check's prefix, of every kind it creates.
async function scratch(): Promise<string[]> {
  const r = await sh(
    net,
    [
      '. /root/admin-openrc',
      `openstack server list --all-projects -f value -c Name | sed 's/^/server /'`,
      `openstack port list -f value -c Name | sed 's/^/port /'`,
      `openstack security group list -f value -c Name | sed 's/^/security-group /'`,
      `openstack floating ip list --long -f value -c Description | sed 's/^/floating-ip /'`,
      `openstack volume list --all-projects -f value -c Name | sed 's/^/volume /'`,
    ].join('\n'),
  );
  return r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.split(' ')[1]?.startsWith(PREFIX))
    .sort();
}

// One run of the check, its result, the wall time printed; and nothing of it left on the cloud afterwards.
async function runOnce(label: string): Promise<CheckResult> {
  const before = await scratch();
  const started = Date.now();
  const results = await runChecks({ inventory, only: [ID], functional: true, installed });
  const took = Math.round((Date.now() - started) / 1000);
  const r = results.find((x) => x.id === ID);
  if (!r) throw new Error(`no result for ${ID}: ${JSON.stringify(results)}`);
  process.stdout.write(`${ID} (${label}): ${r.status} in ${took} s (check ${Math.round(r.durationMs / 1000)} s)${r.message ? `\n  ${r.message}` : ''}\n`);
  expect(await scratch(), 'resources left behind by the check').toEqual(before);
  return r;
}

gate.describe('dataplane.end-to-end on the deployed lab', () => {
  beforeAll(async () => {
    inventory = await loadInventory(FILE);
    pool = new SshPool(inventory);
  });

  afterAll(async () => {
    await pool?.close();
  });

  gate.it(
    'passes on the healthy lab: DHCP, metadata, ping and HTTP from outside, a volume seen in the guest, the security group enforced',
    async () => {
      const r = await runOnce('healthy');
      expect(r.status, r.message).toBe('passed');
      const path = r.evidence.find((e) => e.name === 'data path, hop by hop')?.body ?? '';
      process.stdout.write(`${path}\n`);
      expect(path).toMatch(/^DHCP: lease 10\.10\.0\.\d+ \(router 10\.10\.0\.1\) in the console$/m);
      expect(path).toMatch(/^metadata: the instance read its own uuid [0-9a-f-]{36} from 169\.254\.169\.254$/m);
      expect(path).toMatch(/^ping: 203\.0\.113\.\d+ answered [1-3]\/3 from network-node \(root namespace\)$/m);
      expect(path).toMatch(/^volume: [0-9a-f-]{36} attached, visible in the guest as vd[b-z]$/m);
      expect(path).toMatch(/^security group: TCP 80 rule removed → HTTP no answer \(timed out.*\) within \d+ s, ping still [1-3]\/3: the group is enforced$/m);
      expect(r.evidence.some((e) => e.name.startsWith('console log') && e.body.includes('tiny: init done'))).toBe(true);
    },
    RUN_MS,
  );

  gate.it(
    'the provider interface down on the network node: the floating IP is cut from outside, the failure names the bridge mapping',
    async () => {
      await sh(net, 'ip link set provider0 down');
      try {
        const r = await runOnce('provider0 down on network-node');
        expect(r.status).toBe('failed');
        expect(r.message).toMatch(/^expected the floating IP to answer ping from outside the cloud, found no answer from 203\.0\.113\.\d+ on network-node \(floating IP status ACTIVE\)/);
        expect(r.message).toMatch(/broken hop: bridge mapping — interface provider0 mapped to provider does not exist or is down on network-node/);
        expect(r.message).toContain('section "The Linux bridge agent on network-node"');
      } finally {
        await sh(net, 'ip link set provider0 up');
      }
    },
    RUN_MS,
  );

  gate.it(
    'bridged traffic not passed to iptables on the compute host: HTTP still answers without its rule, the failure names the security group',
    async () => {
      await sh(compute, 'sysctl -w net.bridge.bridge-nf-call-iptables=0');
      try {
        const r = await runOnce('bridge-nf-call-iptables=0 on compute-1');
        expect(r.status).toBe('failed');
        expect(r.message).toMatch(/^expected HTTP to stop once the TCP 80 rule is removed from the instance's security group, found GET http:\/\/203\.0\.113\.\d+\/ still answers HTTP 200 \d+ s after the rule was removed/);
        expect(r.message).toMatch(/broken hop: security group — the security group is not enforced on compute-1/);
        expect(r.message).toContain('net.bridge.bridge-nf-call-iptables = 1');
      } finally {
        await sh(compute, 'sysctl -p /etc/sysctl.d/90-neutron-bridge.conf');
      }
    },
    RUN_MS,
  );
});
