// The fault catalogue (faults/catalogue.yaml) on the deployment the tutorial built: each fault injected for real,
// the read-only checks run until it shows (missed heartbeats take a minute or two), then exactly the checks it names
// fail, with the messages it names (those it says may spread aside), and its functional checks fail too; then it is
// repaired and every read-only check passes again before the next fault.
// Target: the inventory in $STACKCHECK_TEST_INVENTORY, else the lab's (after `stackcheck run tutorial`).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadInventory } from '../../../src/inventory/load.js';
import { inventoryPath } from '../../../src/lab/inventory.js';
import type { Inventory } from '../../../src/inventory/types.js';
import { runChecks } from '../../../src/checks/run.js';
import type { CheckResult } from '../../../src/checks/types.js';
import { SshPool } from '../../../src/ssh/pool.js';
import { loadCatalogue, type Fault, type FaultExpectation } from '../../../src/faults/catalogue.js';
import { expectationCovers, expectationMismatch, faultApplies, injectFault, repairFault } from '../../../src/faults/inject.js';
import { notPassed } from '../../helpers/results.js';

const catalogue = loadCatalogue();
let inventory: Inventory;
let pool: SshPool;

beforeAll(async () => {
  const file = process.env.STACKCHECK_TEST_INVENTORY ?? inventoryPath(process.env.STACKCHECK_LAB ?? 'lab');
  if (!file) throw new Error('no deployed target: set STACKCHECK_TEST_INVENTORY to an inventory, or build the lab with `stackcheck run tutorial` first');
  inventory = await loadInventory(file);
  pool = new SshPool(inventory);
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

async function readOnlyUntil(done: (r: CheckResult[]) => boolean, seconds: number): Promise<CheckResult[]> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const r = await runChecks({ inventory, only: ['read-only'] });
    if (done(r) || Date.now() > deadline) return r;
    await sleep(10_000);
  }
}

describe('the fault catalogue on the deployment the tutorial built', () => {
  for (const fault of catalogue.faults) {
    test(`${fault.id}: ${fault.title}`, async (ctx) => {
      const target = { inventory, pool };
      if (!(await faultApplies(fault, target))) ctx.skip(`not this deployment's variant (${fault.when?.run ?? ''})`);
      await injectFault(fault, target);
      try {
        const shown = await readOnlyUntil((r) => differences(fault, r, fault.fails).length === 0, fault.settle);
        expect(differences(fault, shown, fault.fails)).toEqual([]);
        if (fault.functional.length > 0) {
          const f = await runChecks({ inventory, only: fault.functional.map((e) => e.check), functional: true });
          expect(differences(fault, f, fault.functional)).toEqual([]);
        }
        // The sabotage's own values (a password it set) never show in what the checks say.
        expect(JSON.stringify(shown)).not.toMatch(/stackcheck-fault-/);
      } finally {
        await repairFault(fault, target);
      }
      const back = await readOnlyUntil((r) => Object.keys(notPassed(r)).length === 0, fault.settle + 180);
      expect(notPassed(back), 'the deployment is healthy again after the repair').toEqual({});
    });
  }
});
