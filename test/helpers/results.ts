// Reading check results in tests: what did not pass (id@host → status), and one result by id (and host).
import type { CheckResult } from '../../src/checks/types.js';

/** The results that neither passed nor were skipped, as `{ 'id@host': status }` (compare with toEqual). */
export function notPassed(results: CheckResult[]): Record<string, string> {
  return Object.fromEntries(results.filter((r) => r.status !== 'passed' && r.status !== 'skipped').map((r) => [`${r.id}@${r.host}`, r.status]));
}

/** The result of a check (on a host); throws naming it when there is none. */
export function find(results: CheckResult[], id: string, host?: string): CheckResult {
  const r = results.find((x) => x.id === id && (!host || x.host === host));
  if (!r) throw new Error(`no result for ${id}${host ? ` @ ${host}` : ''}`);
  return r;
}
