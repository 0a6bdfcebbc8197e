// The helpers check files are written with: `checkSuite(component)` reads the run's context (vitest inject),
// shares the run's clients, and `check(id, host, fn)` binds one vitest test to a registry entry and a host,
// turning what the test throws into a CheckOutcome on the task (redacted, with evidence and log tails).
import { afterAll, beforeAll, inject, test } from 'vitest';
import type { CheckContext } from './context.js';
import { expectedFor, type Expected } from './expect.js';
import { CheckFailure, CheckOutcomeError, toOutcome, type CheckOutcome } from './outcome.js';
import { checkMeta } from './registry.js';
import { acquireSession, releaseSession, type CheckSession } from './session.js';
import type { CheckMeta, Evidence } from './types.js';
import type { Redactor } from '../redact.js';
import { redactorFor } from './secrets.js';

declare module 'vitest' {
  interface TaskMeta {
    stackcheck?: CheckOutcome;
  }
}

/** What a check body may do besides throwing: name logs to fetch on failure, attach evidence. */
export interface CheckTools {
  /** On failure, attach this service's status and log tail from its host (ERROR/TRACE lines first). */
  logOnFailure(role: string, unit: string, file?: string): void;
  /** Attach evidence whatever the outcome. */
  attach(e: Evidence): void;
}

export type CheckBody = (s: CheckSession, t: CheckTools) => Promise<void>;

/** The test name of a check on a host: `nova.compute-up @ compute-1` (the runner parses it back). */
export function testName(id: string, host: string): string {
  return `${id} @ ${host}`;
}

/** Split a test name back into id and host. */
export function parseTestName(name: string): { id: string; host: string } | undefined {
  const m = /^(\S+) @ (\S+)$/.exec(name);
  return m ? { id: m[1]!, host: m[2]! } : undefined;
}

// Redact every string of an outcome (messages may quote config lines; evidence quotes output).
function redactOutcome(o: CheckOutcome, r: Redactor): CheckOutcome {
  return {
    ...o,
    message: r.redact(o.message),
    ...(o.expected !== undefined ? { expected: r.redact(o.expected) } : {}),
    ...(o.found !== undefined ? { found: r.redact(o.found) } : {}),
    evidence: o.evidence.map((e) => ({ ...e, name: r.redact(e.name), body: r.redact(e.body) })),
  };
}

// Mirror a result into Allure when the runner set allure-vitest up (labels, remedy, evidence; src/report owns the scheme).
async function toAllure(meta: CheckMeta, host: string, o: CheckOutcome, ctx: CheckContext): Promise<void> {
  if (!ctx.allure) return;
  const { reportCheckToAllure } = await import('../report/allure-checks.js');
  await reportCheckToAllure(meta, host, o, { inventory: ctx.inventory.name, ...(ctx.stage ? { stage: ctx.stage } : {}) });
}

export interface CheckSuite {
  ctx: CheckContext;
  expected: Expected;
  /** Declare one check on one host (`deployment` for deployment-wide checks). */
  check(id: string, host: string, body: CheckBody, opts?: { timeoutMs?: number }): void;
  /**
   * Declare a check on each compute host; with none in the inventory, one failing `id @ deployment` says so.
   * Before the stage that installs nova-compute nothing is declared, unless `always` (host prerequisites).
   */
  eachCompute(id: string, body: (role: string) => CheckBody, opts?: { timeoutMs?: number; always?: boolean }): void;
}

// Start a check file: read the context, share the run's clients for the file's lifetime.
export function checkSuite(): CheckSuite {
  const ctx = inject('stackcheck');
  if (!ctx) throw new Error('no stackcheck context: check files run through runChecks (stackcheck check), not plain vitest');
  const expected = expectedFor(ctx.inventory, ctx.installed);
  const redactor = redactorFor(ctx.inventory);
  let session: CheckSession | undefined;
  beforeAll(() => {
    session = acquireSession(ctx);
  });
  afterAll(async () => {
    await releaseSession(ctx.runId);
  });

  const check = (id: string, host: string, body: CheckBody, opts: { timeoutMs?: number } = {}): void => {
    const meta = checkMeta(id);
    const name = testName(id, host);
    if (!ctx.selected.includes(id) || (meta.mutating && !ctx.functional)) {
      test.skip(name, () => undefined);
      return;
    }
    const timeout = opts.timeoutMs ?? (meta.mutating ? 600_000 : 120_000);
    test.concurrent(
      name,
      async ({ task }) => {
        const s = session;
        if (!s) throw new Error('check session not open');
        const logs: { role: string; unit: string; file?: string }[] = [];
        const attached: Evidence[] = [];
        const tools: CheckTools = {
          logOnFailure: (role, unit, file) => void logs.push(file ? { role, unit, file } : { role, unit }),
          attach: (e) => void attached.push(e),
        };
        let outcome: CheckOutcome;
        try {
          await body(s, tools);
          outcome = { status: 'passed', message: '', evidence: attached };
        } catch (err) {
          outcome = toOutcome(err);
          outcome.evidence = [...attached, ...outcome.evidence];
          if (err instanceof CheckOutcomeError && err.status === 'failed' && logs.length > 0) {
            outcome.evidence.push(...(await Promise.all(logs.map((l) => s.serviceLog(l.role, l.unit, l.file)))));
          }
        }
        outcome = redactOutcome(outcome, redactor);
        task.meta.stackcheck = outcome;
        await toAllure(meta, host, outcome, ctx).catch(() => undefined);
        if (outcome.status !== 'passed') {
          const e = new Error(outcome.message);
          e.name = outcome.status === 'broken' ? 'CheckBroken' : 'CheckFailure';
          e.stack = `${e.name}: ${outcome.message}`;
          throw e;
        }
      },
      timeout,
    );
  };
  const eachCompute = (id: string, body: (role: string) => CheckBody, opts: { timeoutMs?: number; always?: boolean } = {}): void => {
    if (!expected.computeInstalled && !opts.always) return;
    if (expected.computeRoles.length === 0) {
      check(id, 'deployment', async () => {
        throw new CheckFailure('at least one compute host in the inventory (a role named compute-N, or COMPUTE_ROLES)', `roles: ${Object.keys(ctx.inventory.hosts).join(', ')}`);
      });
      return;
    }
    for (const role of expected.computeRoles) check(id, role, body(role), opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {});
  };
  return { ctx, expected, check, eachCompute };
}
