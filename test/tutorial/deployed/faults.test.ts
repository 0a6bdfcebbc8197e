// The fault catalogue (faults/catalogue.yaml) on the deployment the tutorial built: each fault injected for real;
// once its checks show it (missed heartbeats take a minute or two), every read-only check runs and exactly the
// checks it names fail, with the messages it names (those it says may spread aside), and its functional checks fail
// too; then it is repaired and what it touched passes again. The next fault's full run, and the last test, prove the
// rest of the deployment healthy.
// Target: the inventory in $STACKCHECK_TEST_INVENTORY, else the lab's (after `stackcheck run tutorial`).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Inventory } from '../../../src/inventory/types.js';
import { runChecks } from '../../../src/checks/run.js';
import type { CheckResult } from '../../../src/checks/types.js';
import type { SshPool } from '../../../src/ssh/pool.js';
import { openDeployedTarget } from '../../helpers/deployed.js';
import { loadCatalogue, type Fault, type FaultExpectation } from '../../../src/faults/catalogue.js';
import { expectationCovers, expectationMismatch, faultApplies, injectFault, placeRole, repairFault } from '../../../src/faults/inject.js';
import { remoteCommand } from '../../../src/ssh/exec.js';
import { notPassed } from '../../helpers/results.js';

const catalogue = loadCatalogue();
let inventory: Inventory;
let pool: SshPool;

beforeAll(async () => {
  ({ inventory, pool } = await openDeployedTarget());
});

afterAll(async () => {
  await pool?.close();
});

// How the results differ from what the fault says: expectations unmet, and checks failing that it does not name.
function differences(fault: Fault, results: CheckResult[], expectations: FaultExpectation[]): string[] {
  const out: string[] = [];
  for (const e of expectations) {
    const mine = results.filter((r) => expectationCovers(inventory, e, r));
    if (mine.length === 0) out.push(`${e.check}${e.on ? `@${e.on}` : ''}: no result`);
    for (const r of mine) {
      const m = expectationMismatch(e, r);
      if (m) out.push(`${r.id}@${r.host}: ${m}`);
    }
  }
  for (const r of results) {
    if (expectations.some((e) => expectationCovers(inventory, e, r)) || fault.may.includes(r.id)) continue;
    if (r.status !== 'passed' && r.status !== 'skipped') out.push(`${r.id}@${r.host}: not named by the fault, found ${r.status}: ${r.message}`);
  }
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

// Run some checks until `done` holds or `seconds` pass.
async function until(only: string[], done: (r: CheckResult[]) => boolean, seconds: number): Promise<CheckResult[]> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const r = await runChecks({ inventory, only });
    if (done(r) || Date.now() > deadline) return r;
    await sleep(5_000);
  }
}

describe('the fault catalogue on the deployment the tutorial built', () => {
  for (const fault of catalogue.faults) {
    test(`${fault.id}: ${fault.title}`, async (ctx) => {
      const target = { inventory, pool };
      if (!(await faultApplies(fault, target))) ctx.skip(`not this deployment's variant (${fault.when?.run ?? ''})`);
      const named = [...new Set(fault.fails.map((e) => e.check))];
      const touched = [...new Set([...named, ...fault.may])];
      let healed: CheckResult[] | undefined;
      try {
        // (inside the try: an injection that fails half-way is repaired too)
        await injectFault(fault, target);
        // The named checks until the fault shows (missed heartbeats take a minute or two), then every read-only
        // check once: exactly the named ones fail, as named.
        if (named.length > 0) await until(named, (r) => differences(fault, r, fault.fails).length === 0, fault.settle);
        const shown = await runChecks({ inventory, only: ['read-only'] });
        // What a student would read, in the test's output (the catalogue's messages are taken from there).
        for (const r of shown.filter((x) => x.status !== 'passed' && x.status !== 'skipped')) process.stdout.write(`${fault.id}: ${r.id}@${r.host} ${r.status}: ${r.message}\n`);
        expect(differences(fault, shown, fault.fails)).toEqual([]);
        if (fault.functional.length > 0) {
          const f = await runChecks({ inventory, only: fault.functional.map((e) => e.check), functional: true });
          for (const r of f.filter((x) => x.status !== 'passed')) process.stdout.write(`${fault.id}: ${r.id}@${r.host} ${r.status}: ${r.message}\n`);
          expect(differences(fault, f, fault.functional)).toEqual([]);
        }
        // The sabotage's own values (a password it set) never show in what the checks say.
        expect(JSON.stringify(shown)).not.toMatch(/stackcheck-fault-/);
      } finally {
        await repairFault(fault, target);
        // Repaired: what it broke, and what it may have spread to, passes again — waited for also when an assertion
        // above failed, so that the next fault starts from a healthy deployment. (The next fault's full run, and the
        // last test, check everything else.)
        healed = await until(touched, (r) => Object.keys(notPassed(r)).length === 0, fault.settle + 180);
      }
      expect(notPassed(healed ?? []), 'the deployment is healthy again after the repair').toEqual({});
    });
  }

  test('after the whole catalogue, every read-only check passes and the functional checks left nothing behind', async () => {
    const r = await until(['read-only'], (x) => Object.keys(notPassed(x)).length === 0, 180);
    expect(notPassed(r)).toEqual({});
    // Everything a functional check creates is named (or, for floating IPs, described) stackcheck-…, also when the
    // check failed half-way because of a fault.
    const kinds: [string, string][] = [
      ['server', 'openstack server list --all-projects -f value -c Name'],
      ['image', 'openstack image list -f value -c Name'],
      ['volume', 'openstack volume list --all-projects -f value -c Name'],
      ['port', 'openstack port list -f value -c Name'],
      ['floating IP', 'openstack floating ip list -f value -c Description'],
      ['security group', 'openstack security group list -f value -c Name'],
    ];
    const script = `. /root/admin-openrc; ${kinds.map(([k, cmd]) => `{ ${cmd} | grep '^stackcheck-' | sed 's/^/${k}: /' || true; }`).join('; ')}`;
    const role = placeRole(inventory, 'nova');
    const spec = inventory.hosts[role];
    const left = await pool.exec(role, remoteCommand({ script, sshUser: spec?.user ?? 'root', root: true, timeoutMs: 120_000 }));
    expect(left.exitCode).toBe(0);
    expect(left.stdout.trim()).toBe('');
  });
});
