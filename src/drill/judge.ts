// A drill check's verdict from the check results: which faults are repaired (every check a fault makes fail passes
// again — a config fixed but the service not restarted still fails the checks that read the running service), and
// whether anything else broke (a result failing now that passed before the drill and that no fault explains).
import type { CheckResult } from '../checks/types.js';
import { selectChecks } from '../checks/registry.js';
import type { Inventory } from '../inventory/types.js';
import type { Fault } from '../faults/catalogue.js';
import { expectationCovers, expectationMismatch } from '../faults/inject.js';

export const resultKey = (r: Pick<CheckResult, 'id' | 'host'>): string => `${r.id}@${r.host}`;

/** Failed or broken (skipped is not a failure). */
export const notPassing = (r: CheckResult): boolean => r.status === 'failed' || r.status === 'broken';

export interface FaultVerdict {
  fault: Fault;
  repaired: boolean;
  /** Its checks that still do not pass. */
  failing: string[];
}

export interface Verdict {
  faults: FaultVerdict[];
  /** Not passing, the baseline's aside. */
  failing: CheckResult[];
  /** Failing, and explained by no fault of the drill (neither its checks nor those it may spread to). */
  other: string[];
  repaired: boolean;
}

export function judge(inventory: Inventory, faults: readonly Fault[], results: readonly CheckResult[], baseline: readonly string[]): Verdict {
  const before = new Set(baseline);
  const failing = results.filter((r) => notPassing(r) && !before.has(resultKey(r)));
  const verdicts = faults.map((fault): FaultVerdict => {
    const mine = results.filter((r) => fault.fails.some((e) => expectationCovers(inventory, e, r)));
    const still = mine.filter((r) => r.status !== 'passed');
    // No result for its checks at all (not run here): not proven repaired.
    return { fault, repaired: mine.length > 0 && still.length === 0, failing: still.map(resultKey) };
  });
  // The checks the faults may spread to (heartbeats, cached tokens), as ids.
  const may = new Set(faults.flatMap((f) => (f.may.length ? selectChecks(f.may) : [])));
  const explained = (r: CheckResult): boolean => may.has(r.id) || faults.some((f) => f.fails.some((e) => expectationCovers(inventory, e, r)));
  const other = failing.filter((r) => !explained(r)).map(resultKey);
  return { faults: verdicts, failing, other, repaired: verdicts.every((v) => v.repaired) && other.length === 0 };
}

/** Whether every fault shows: each check it names fails as the catalogue says. */
export function faultsShow(inventory: Inventory, faults: readonly Fault[], results: readonly CheckResult[]): boolean {
  return faults.every((f) =>
    f.fails.every((e) => {
      const mine = results.filter((r) => expectationCovers(inventory, e, r));
      return mine.length > 0 && mine.every((r) => expectationMismatch(e, r) === undefined);
    }),
  );
}
