// The fault catalogue (faults/catalogue.yaml) on the deployment the tutorial built, each fault as a troubleshooting
// drill (src/drill): `drill start` takes the deployment's fingerprint and injects it for real; once its checks show it
// (missed heartbeats take a minute or two), `drill check` runs every read-only check and exactly the checks it names
// fail, with the messages it names (those it says may spread aside), and its functional checks fail too; `drill
// reveal` names it and its repair, which is then followed (the catalogue's own); `drill check` finds it repaired;
// `drill stop` (the catalogue's repair once more: it must be harmless) finds the deployment as it was, compared with
// the fingerprint taken at the start. The next fault's full run, and the last test, prove the rest healthy.
// A fault that no read-only check shows (only a functional one) cannot be a drill: it is injected directly.
// Target: the inventory in $STACKCHECK_TEST_INVENTORY, else the lab's (after `stackcheck run tutorial`).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import type { Inventory } from '../../../src/inventory/types.js';
import { runChecks } from '../../../src/checks/run.js';
import type { CheckResult } from '../../../src/checks/types.js';
import type { SshPool } from '../../../src/ssh/pool.js';
import { openDeployedTarget } from '../../helpers/deployed.js';
import { loadCatalogue, type Fault, type FaultExpectation } from '../../../src/faults/catalogue.js';
import { expectationCovers, expectationMismatch, faultApplies, injectFault, placeRole, repairFault } from '../../../src/faults/inject.js';
import { remoteCommand } from '../../../src/ssh/exec.js';
import { notPassed } from '../../helpers/results.js';
import { checkDrill, revealDrill, startDrill, stopDrill, type DrillCommonOptions } from '../../../src/drill/drill.js';
import { tempDir } from '../../helpers/tmp.js';

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

// The drills' target: the test inventory (a cloud of the tester's own), or the local lab without snapshots (each
// fault's repair is proven instead); their records and reports in a folder of this run.
const work = tempDir('faults-drill-');
const drillOpts = (): DrillCommonOptions & { reports: string } => ({
  ...(process.env.STACKCHECK_TEST_INVENTORY ? { inventory: process.env.STACKCHECK_TEST_INVENTORY } : {}),
  env: { ...process.env, STACKCHECK_STATE_DIR: join(work, 'state') },
  reports: join(work, 'reports'),
  progress: (line) => process.stdout.write(`  drill ${new Date().toISOString().slice(11, 19)}: ${line}\n`),
});

// What a student reads, in the test's output (the catalogue's messages are taken from there).
function show(fault: Fault, results: CheckResult[]): void {
  for (const r of results.filter((x) => x.status !== 'passed' && x.status !== 'skipped')) process.stdout.write(`${fault.id}: ${r.id}@${r.host} ${r.status}: ${r.message}\n`);
}

describe('the fault catalogue on the deployment the tutorial built, each fault a drill', () => {
  for (const fault of catalogue.faults) {
    test(`${fault.id}: ${fault.title}`, async (ctx) => {
      const target = { inventory, pool };
      if (!(await faultApplies(fault, target))) ctx.skip(`not this deployment's variant (${fault.when?.run ?? ''})`);
      const named = [...new Set(fault.fails.map((e) => e.check))];
      const touched = [...new Set([...named, ...fault.may])];
      const asDrill = named.length > 0;
      // The drill watches the fault's own checks; its first `drill check` runs every read-only check, to prove that
      // nothing else fails, and what it may spread to is waited for after the repair.
      const opts = { ...drillOpts(), only: named };
      let drilling = false;
      let healed: CheckResult[] | undefined;
      let repairedAsDrill = false;
      let differencesAfter: string[] | undefined;
      let stopError: unknown;
      try {
        if (asDrill) {
          const started = await startDrill({ ...opts, faults: [fault.id], snapshot: false, iOwnThisCloud: true });
          drilling = true;
          expect(started.symptoms).toEqual([fault.symptom]);
          expect(started.shown, 'the fault showed in its checks before drill start returned').toBe(true);
          // `drill check` on every read-only check: exactly the named ones fail, as named (those it may spread to
          // aside), nothing else broke, and it is not repaired.
          const c = await checkDrill({ ...opts, only: ['read-only'] });
          show(fault, c.results);
          expect(differences(fault, c.results, fault.fails)).toEqual([]);
          expect(c.verdict.repaired).toBe(false);
          expect(c.verdict.other).toEqual([]);
          expect(c.verdict.faults[0]?.failing.length).toBeGreaterThan(0);
          expect(JSON.stringify(c.results)).not.toMatch(/stackcheck-fault-/);
        } else {
          // (inside the try: an injection that fails half-way is repaired too)
          await injectFault(fault, target);
          const shown = await runChecks({ inventory, only: ['read-only'] });
          show(fault, shown);
          expect(differences(fault, shown, fault.fails)).toEqual([]);
        }
        if (fault.functional.length > 0) {
          const f = await runChecks({ inventory, only: fault.functional.map((e) => e.check), functional: true });
          show(fault, f);
          expect(differences(fault, f, fault.functional)).toEqual([]);
          // The sabotage's own values (a password it set) never show in what the checks say.
          expect(JSON.stringify(f)).not.toMatch(/stackcheck-fault-/);
        }
      } finally {
        if (drilling) {
          // The student asks for the answer and follows the catalogue's repair that `drill reveal` names.
          const revealed = await revealDrill(opts);
          expect(revealed.faults.map((f) => f.id)).toEqual([fault.id]);
          await repairFault(fault, target);
          // `drill check` until it finds the fault repaired (a heartbeat takes a minute to come back) — also when
          // an assertion above failed, so that the next fault starts from a healthy deployment.
          const deadline = Date.now() + (fault.settle + 180) * 1000;
          for (;;) {
            const c = await checkDrill(opts);
            if (c.verdict.repaired) {
              repairedAsDrill = true;
              if (Object.keys(notPassed(c.results)).length === 0) healed = c.results;
              break;
            }
            if (Date.now() > deadline) {
              show(fault, c.results);
              break;
            }
            await sleep(5_000);
          }
          try {
            differencesAfter = (await stopDrill(opts)).record.differences;
          } catch (err) {
            // A stop that fails (its repair) leaves the drill running: forget it here, so that the next fault can
            // start, and fail this one.
            stopError = err;
            rmSync(join(work, 'state', 'drills'), { recursive: true, force: true });
            await repairFault(fault, target).catch(() => undefined);
          }
        } else {
          await repairFault(fault, target);
        }
        // What it broke, and what it may have spread to, passes again. (The next fault's full run, and the last
        // test, check everything else.)
        healed ??= await until(touched, (r) => Object.keys(notPassed(r)).length === 0, fault.settle + 180);
      }
      if (asDrill) {
        expect(stopError, 'drill stop (the catalogue\'s repair once more)').toBeUndefined();
        expect(repairedAsDrill, 'drill check found the fault repaired after the catalogue\'s repair').toBe(true);
        expect(differencesAfter, 'after drill stop, the deployment is as its fingerprint from before the drill').toEqual([]);
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
