// The wiring between services on the deployed lab (`stackcheck run tutorial`), read-only: every config check
// passes on every host that runs a service (compute-1's nova and neutron, volume-node's cinder-volume on Ceph
// included), and an inventory whose variables disagree with the deployment makes exactly the right checks fail,
// naming the setting, both files of the metadata secret and the stage to fix, with no secret in any result. The
// run-time half runs against the hosts' real systemd and files: a file newer than the service that reads it fails,
// a service that does not run leaves the result saying only the file was read. Nothing on the lab changes.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect } from 'vitest';
import { checkConfig, type ConfigTarget } from '../../../src/checks/config.js';
import type { CheckTools } from '../../../src/checks/define.js';
import { installedAfter } from '../../../src/checks/declared.js';
import { CheckOutcomeError } from '../../../src/checks/outcome.js';
import { runChecks } from '../../../src/checks/run.js';
import { CheckSession } from '../../../src/checks/session.js';
import type { CheckResult, Evidence } from '../../../src/checks/types.js';
import { loadInventory } from '../../../src/inventory/load.js';
import type { Inventory } from '../../../src/inventory/types.js';
import { deployedInstalls, readDeployment } from '../../../src/lab/deployment.js';
import { labDir } from '../../../src/lab/state.js';
import { parseTutorial } from '../../../src/runner/parse.js';
import { tutorialFor } from '../../../src/engine/tutorial.js';
import { requires } from '../../helpers/requires.js';

const LAB = process.env.STACKCHECK_LAB ?? 'lab';
const FILE = join(labDir(LAB), 'inventory.yaml');
const record = readDeployment(LAB).deployment;
const installed = record ? deployedInstalls(record) : [];
const NEEDED = ['keystone', 'glance', 'placement', 'nova-controller', 'neutron', 'nova-compute', 'cinder', 'cinder-volume'];
const CONFIG = ['keystone.config', 'glance.config', 'placement.config', 'nova.config', 'neutron.config', 'cinder.config'];

const gate = requires(
  { what: `the deployed lab's inventory (${FILE})`, ok: existsSync(FILE), how: 'build the lab and install the tutorial on it: `npx stackcheck run tutorial` (npm run test:tutorial does it)' },
  {
    what: `a lab deployment of tutorial/ with ${NEEDED.join(', ')} (stackcheck lab status; it has: ${installed.join(', ') || 'nothing'})`,
    ok: NEEDED.every((k) => installed.includes(k)) && /tutorial\/?$/.test(record?.source ?? ''),
    how: 'finish `npx stackcheck run tutorial` on the lab',
  },
);

let inventory: Inventory;

function notPassed(results: CheckResult[]): Record<string, string> {
  return Object.fromEntries(results.filter((r) => r.status !== 'passed').map((r) => [`${r.id}@${r.host}`, r.status]));
}

function find(results: CheckResult[], id: string, host: string): CheckResult {
  const r = results.find((x) => x.id === id && x.host === host);
  if (!r) throw new Error(`no result for ${id} @ ${host}: ${results.map((x) => `${x.id}@${x.host}`).join(', ')}`);
  return r;
}

// The config checks with the inventory's variables changed (what an instructor's inventory might get wrong).
function withVars(over: Record<string, string>): Promise<CheckResult[]> {
  return runChecks({ inventory: { ...inventory, vars: { ...inventory.vars, ...over } }, only: CONFIG, installed });
}

// No value of any secret variable (and none of the test's own wrong values) in any text of the results.
function expectNoSecret(results: CheckResult[], extra: string[] = []): void {
  const text = JSON.stringify(results);
  const names = new Set([...inventory.secretNames, ...Object.keys(inventory.vars).filter((k) => /(PASS|SECRET|_KEY)$/.test(k))]);
  for (const n of names) {
    const v = inventory.vars[n];
    if (v && v.length >= 3) expect(text, `${n} appears in a result`).not.toContain(v);
  }
  for (const v of extra) expect(text).not.toContain(v);
}

gate.describe('wiring between services on the deployed lab (read-only)', () => {
  beforeAll(async () => {
    inventory = await loadInventory(FILE);
  });

  gate.it('every config check passes on every host, each in one quick round trip', async () => {
    const started = Date.now();
    const results = await runChecks({ inventory, only: CONFIG, installed });
    const took = Date.now() - started;
    expect(notPassed(results), JSON.stringify(results.filter((r) => r.status !== 'passed'), null, 2)).toEqual({});
    expect(results.map((r) => `${r.id}@${r.host}`).sort()).toEqual([
      'cinder.config@api-node',
      'cinder.config@volume-node',
      'glance.config@image-node',
      'keystone.config@auth-node',
      'neutron.config@compute-1',
      'neutron.config@network-node',
      'nova.config@api-node',
      'nova.config@compute-1',
      'placement.config@api-node',
    ]);
    // The run time was looked at on each host: each service that reads the files, its start and its log.
    for (const r of results) expect(r.evidence.some((e) => e.name.endsWith('services reading the configuration') && /running since/.test(e.body)), `${r.id}@${r.host}`).toBe(true);
    expect(find(results, 'cinder.config', 'volume-node').evidence.some((e) => /storage backend: .*RBD/.test(e.body))).toBe(true);
    process.stderr.write(`config checks on the lab (${took} ms in all): ${results.map((r) => `${r.id}@${r.host} ${r.durationMs} ms`).join(', ')}\n`);
    for (const r of results) expect(r.durationMs, `${r.id}@${r.host}`).toBeLessThan(10_000);
    expectNoSecret(results);
  });

  gate.it('after each stage, a config check runs on every host the stages so far configured', async () => {
    // The tutorial as the lab takes it (its vars choose the storage=ceph variant).
    const tutorial = tutorialFor(await parseTutorial('tutorial'), inventory);
    const stage = (key: string): string => {
      const s = tutorial.stages.find((x) => x.installs?.keys.includes(key));
      if (!s) throw new Error(`no stage of tutorial/ installs ${key}`);
      return s.id;
    };
    const hosts = async (only: string, after: string): Promise<string[]> =>
      (await runChecks({ inventory, only: [only], installed: installedAfter(tutorial, stage(after)) })).filter((r) => r.status !== 'skipped').map((r) => `${r.host}:${r.status}`).sort();
    expect(await hosts('nova.config', 'nova-controller')).toEqual(['api-node:passed']);
    expect(await hosts('nova.config', 'nova-compute')).toEqual(['api-node:passed', 'compute-1:passed']);
    expect(await hosts('neutron.config', 'neutron')).toEqual(['compute-1:passed', 'network-node:passed']);
    expect(await hosts('cinder.config', 'cinder')).toEqual(['api-node:passed']);
    expect(await hosts('cinder.config', 'cinder-volume')).toEqual(['api-node:passed', 'volume-node:passed']);
  });

  gate.it('PLACEMENT_PASS not the deployed one: Nova on both hosts names [placement] password, Placement its own; each remedy points at its stage', async () => {
    const results = await withVars({ PLACEMENT_PASS: 'placement-pass-the-lab-does-not-use' });
    expect(notPassed(results)).toEqual({ 'nova.config@api-node': 'failed', 'nova.config@compute-1': 'failed', 'placement.config@api-node': 'failed' });
    expect(find(results, 'nova.config', 'api-node').message).toBe("expected /etc/nova/nova.conf on api-node using the inventory's hosts and passwords, found [placement] password differs from PLACEMENT_PASS");
    expect(find(results, 'nova.config', 'compute-1').message).toBe(
      "expected /etc/nova/nova.conf + /etc/nova/nova-compute.conf on compute-1 using the inventory's hosts and passwords, found [placement] password differs from PLACEMENT_PASS",
    );
    expect(find(results, 'placement.config', 'api-node').message).toBe(
      "expected /etc/placement/placement.conf on api-node using the inventory's hosts and passwords, found [keystone_authtoken] password differs from PLACEMENT_PASS",
    );
    expect(find(results, 'nova.config', 'compute-1').remedy.stage).toBe('nova-compute');
    expect(find(results, 'nova.config', 'compute-1').remedy.text).toMatch(/^set the settings named in the message in \/etc\/nova\/nova\.conf and \/etc\/nova\/nova-compute\.conf on compute-1 .*; then systemctl restart nova-compute$/);
    expect(find(results, 'nova.config', 'api-node').remedy.stage).toBe('nova-controller');
    expectNoSecret(results, ['placement-pass-the-lab-does-not-use']);
  });

  gate.it('METADATA_SECRET not the deployed one: both sides fail, each naming both files, and say the two sides agree', async () => {
    const results = await withVars({ METADATA_SECRET: 'metadata-secret-the-lab-does-not-use' });
    expect(notPassed(results)).toEqual({ 'nova.config@api-node': 'failed', 'neutron.config@network-node': 'failed' });
    expect(find(results, 'nova.config', 'api-node').message).toBe(
      "expected /etc/nova/nova.conf on api-node using the inventory's hosts and passwords, found [neutron] metadata_proxy_shared_secret in /etc/nova/nova.conf differs from METADATA_SECRET, but holds the same secret as [DEFAULT] metadata_proxy_shared_secret in /etc/neutron/metadata_agent.ini on network-node: the two sides agree, the inventory's METADATA_SECRET is not the deployed one",
    );
    expect(find(results, 'neutron.config', 'network-node').message).toBe(
      "expected /etc/neutron/neutron.conf on network-node using the inventory's hosts and passwords, found [DEFAULT] metadata_proxy_shared_secret in /etc/neutron/metadata_agent.ini differs from METADATA_SECRET, but holds the same secret as [neutron] metadata_proxy_shared_secret in /etc/nova/nova.conf on api-node: the two sides agree, the inventory's METADATA_SECRET is not the deployed one",
    );
    expect(find(results, 'neutron.config', 'network-node').remedy.stage).toBe('neutron');
    expectNoSecret(results, ['metadata-secret-the-lab-does-not-use']);
  });

  gate.it("CEPH_CINDER_KEY not the deployed one: the volume host's keyring and compute-1's libvirt secret, both the cinder-volume stage's", async () => {
    const results = await withVars({ CEPH_CINDER_KEY: 'AQBnotTheLabsKeyAAAAAAAAAAAAAAAAAAAAAAA==' });
    expect(notPassed(results)).toEqual({ 'cinder.config@volume-node': 'failed', 'nova.config@compute-1': 'failed' });
    expect(find(results, 'cinder.config', 'volume-node').message).toBe(
      "expected /etc/cinder/cinder.conf on volume-node using the inventory's hosts and passwords, found the key of client.cinder in /etc/ceph/ceph.client.cinder.keyring differs from CEPH_CINDER_KEY",
    );
    expect(find(results, 'nova.config', 'compute-1').message).toBe(
      `expected /etc/nova/nova.conf + /etc/nova/nova-compute.conf on compute-1 using the inventory's hosts and passwords, found libvirt secret ${inventory.vars.CEPH_CINDER_SECRET_UUID} holds a key that differs from CEPH_CINDER_KEY`,
    );
    expect(find(results, 'cinder.config', 'volume-node').remedy.stage).toBe('cinder-volume');
    expect(find(results, 'nova.config', 'compute-1').remedy.stage).toBe('cinder-volume');
    expectNoSecret(results, ['AQBnotTheLabsKey']);
  });

  // The run-time half on a real host, without changing it: a file that changes while its service runs (here the
  // service's own log, which it writes) is reported as newer than the service; a unit that is not there leaves the
  // result resting on the file alone, and it says so.
  gate.it('at run time: a file newer than the running service fails with the restart to do; no running service: only the file was read', async () => {
    const session = new CheckSession({ runId: `wiring-${Date.now()}`, inventory, selected: CONFIG, functional: false, installed, files: 1, allure: false });
    try {
      const attached: Evidence[] = [];
      const tools: CheckTools = { attach: (e) => void attached.push(e), logOnFailure: () => undefined };
      const stale: ConfigTarget = {
        files: ['/etc/nova/nova.conf'],
        rules: [],
        readers: [{ unit: 'nova-compute', files: ['/var/log/nova/nova-compute.log'] }],
        stage: 'nova-compute',
        remedy: 'restart',
      };
      const t0 = Date.now();
      const err = await checkConfig(session, 'compute-1', stale, tools).then(
        () => undefined,
        (e: unknown) => e,
      );
      const took = Date.now() - t0;
      expect(err).toBeInstanceOf(CheckOutcomeError);
      const failure = err as CheckOutcomeError;
      expect(failure.status).toBe('failed');
      expect(failure.message).toMatch(
        /^expected \/etc\/nova\/nova\.conf on compute-1 in effect in the services that read it \(nova-compute\), found \/var\/log\/nova\/nova-compute\.log changed at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, after nova-compute started \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\): the running service still uses the old settings; restart it \(systemctl restart nova-compute\)$/,
      );
      expect(failure.remedy).toEqual({ stage: 'nova-compute', text: expect.stringContaining('systemctl restart nova-compute') });

      const absent: ConfigTarget = { ...stale, readers: [{ unit: 'stackcheck-no-such-service', files: ['/etc/nova/nova.conf'] }] };
      await checkConfig(session, 'compute-1', absent, tools);
      expect(attached.map((e) => `${e.name}: ${e.body}`)).toContain('compute-1: only the files were read: the services\' run time was not checked: stackcheck-no-such-service is not installed');
      process.stderr.write(`run-time check on compute-1: ${took} ms\n`);
    } finally {
      await session.close();
    }
  });

});
