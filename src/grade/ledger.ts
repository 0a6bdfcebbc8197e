// The deployments grading has looked at: each host address of a graded roster, with the roster and when. A drill on
// a cloud that is not the lab refuses an address found here, so a student's graded cloud is not broken by mistake.
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stateDir } from '../state-dir.js';
import { writeAtomicSync } from '../atomic-write.js';

export interface GradedEntry {
  roster: string;
  at: string;
}

type Ledger = Record<string, GradedEntry>;

export function ledgerFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(stateDir(env), 'graded-hosts.json');
}

function read(env: NodeJS.ProcessEnv): Ledger {
  try {
    const data = JSON.parse(readFileSync(ledgerFile(env), 'utf8')) as unknown;
    return data && typeof data === 'object' && !Array.isArray(data) ? (data as Ledger) : {};
  } catch {
    return {};
  }
}

/** Remember the addresses of a roster's deployments (the latest roster wins for an address). */
export function recordGraded(roster: string, addresses: readonly string[], env: NodeJS.ProcessEnv = process.env, now = new Date()): void {
  const ledger = read(env);
  for (const a of addresses) ledger[a] = { roster: resolve(roster), at: now.toISOString() };
  mkdirSync(stateDir(env), { recursive: true, mode: 0o700 });
  writeAtomicSync(ledgerFile(env), `${JSON.stringify(ledger, null, 2)}\n`);
}

/** The first of these addresses that a roster graded, if any. */
export function gradedAddress(addresses: readonly string[], env: NodeJS.ProcessEnv = process.env): ({ address: string } & GradedEntry) | undefined {
  const ledger = read(env);
  for (const a of addresses) {
    const e = ledger[a];
    if (e) return { address: a, ...e };
  }
  return undefined;
}
