// Runs the conformance checks (vitest files in checks/) programmatically against one inventory and maps each
// test back to a CheckResult (id + host, status, expected/found, remedy, evidence).
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Reporter, TestCase, TestModule } from 'vitest/node';
import type { Inventory } from '../inventory/types.js';
import { StackcheckError } from '../error.js';
import type { CheckContext } from './context.js';
import { parseTestName } from './define.js';
import { checkMeta, CHECKS, isKnownCheck, CHECK_GROUPS, selectChecks } from './registry.js';
import type { CheckOutcome } from './outcome.js';
import type { CheckMeta, CheckResult } from './types.js';
import { redactorFor } from './secrets.js';
import { INSTALL_KEYS, stageInstalling } from './expect.js';

/** vitest reporters (and the setup files they need in the worker) that record the checks as they run. */
export interface CheckReporters {
  reporters: Reporter[];
  setupFiles: string[];
}

export interface RunChecksOptions {
  inventory: Inventory;
  /** Check ids, components or `component.*` (all checks when absent). */
  only?: string[];
  /** Run mutating checks too. */
  functional?: boolean;
  /** The tutorial stage just finished (recorded in results). */
  stage?: string;
  /** What the deployment holds (install keys of the stages run so far); absent: a complete deployment. */
  installed?: string[];
  /**
   * The stage whose `<!-- checks: … -->` comment asked for these checks: a check it names by id that produces no
   * result is reported broken, naming the stage and the reason, never dropped.
   */
  declaredBy?: string;
  /**
   * Reporters of the checks' vitest run, plugged in by the caller (the engine's session plugs allure-vitest in, writing
   * to the run folder): the check engine knows no report format.
   */
  vitestReporters?: CheckReporters;
  /** Aborting cancels the checks not yet started (the running one finishes); the results so far are returned. */
  signal?: AbortSignal;
  /** Tutorial title and stages (order, what each installs) for the Allure labels and for remedies. */
  reportScope?: { tutorial?: string; stages?: { id: string; title: string; installs?: string[] }[] };
  /** Called as each check finishes (live progress). */
  onResult?: (r: CheckResult) => void;
  /** Run id (a fresh one by default). */
  runId?: string;
}

/** Where the check files are: `checks/*.check.ts` from sources, `dist/checks/*.check.js` once built. */
export function checkFilesRoot(): { root: string; ext: string } {
  const here = fileURLToPath(new URL('.', import.meta.url));
  if (import.meta.url.endsWith('.ts')) return { root: resolve(here, '../..'), ext: 'ts' };
  // compiled: dist/src/checks/run.js → dist/
  return { root: resolve(here, '../..'), ext: 'js' };
}

// A result built from the registry entry plus what happened.
function result(meta: CheckMeta, host: string, o: CheckOutcome | { status: 'skipped'; message: string; evidence: [] }, durationMs: number, stage?: string): CheckResult {
  return {
    id: meta.id,
    host,
    component: meta.component,
    title: meta.title,
    severity: meta.severity,
    weight: meta.weight,
    status: o.status,
    message: o.message,
    ...('expected' in o && o.expected !== undefined ? { expected: o.expected } : {}),
    ...('found' in o && o.found !== undefined ? { found: o.found } : {}),
    remedy: 'remedy' in o && o.remedy ? o.remedy : meta.remedy,
    evidence: o.evidence,
    durationMs,
    ...(stage ? { stage } : {}),
  };
}

/** Map one finished vitest test to a result (undefined for tests that were not selected). */
export function mapTestCase(tc: TestCase, ctx: Pick<CheckContext, 'selected' | 'functional' | 'stage'>): CheckResult | undefined {
  const parsed = parseTestName(tc.name);
  if (!parsed) return undefined;
  const meta = CHECKS.find((m) => m.id === parsed.id);
  if (!meta || !ctx.selected.includes(meta.id)) return undefined;
  const r = tc.result();
  const duration = Math.round(tc.diagnostic()?.duration ?? 0);
  if (r.state === 'skipped' || r.state === 'pending') {
    const why = meta.mutating && !ctx.functional ? 'not run: mutating check (use --functional)' : 'not run';
    return result(meta, parsed.host, { status: 'skipped', message: why, evidence: [] }, duration, ctx.stage);
  }
  const outcome = tc.meta().stackcheck;
  if (outcome) return result(meta, parsed.host, outcome, duration, ctx.stage);
  if (r.state === 'passed') return result(meta, parsed.host, { status: 'passed', message: '', evidence: [] }, duration, ctx.stage);
  // Failed outside our wrapper: a timeout or an error in a hook — the check could not run to the end.
  const first = r.state === 'failed' ? r.errors[0] : undefined;
  const msg = first?.message ?? 'unknown error';
  return result(meta, parsed.host, { status: 'broken', message: `cannot check: ${msg}`, evidence: [] }, duration, ctx.stage);
}

// Results for selected checks of a file that did not load (syntax error, import failure): broken, not silent.
function brokenFileResults(mod: TestModule, ids: string[], seen: Set<string>, stage?: string): CheckResult[] {
  const errs = mod.errors().map((e) => e.message).join('; ') || 'the check file failed';
  return ids
    .filter((id) => !seen.has(id))
    .map((id) => result(checkMeta(id), 'deployment', { status: 'broken', message: `cannot check: ${errs}`, evidence: [] }, 0, stage));
}

/** Run the selected checks against the inventory's deployment; never throws for failing checks. */
export async function runChecks(opts: RunChecksOptions): Promise<CheckResult[]> {
  const selected = selectChecks(opts.only);
  const components = [...new Set(selected.map((id) => checkMeta(id).component))];
  const { root, ext } = checkFilesRoot();
  const files = components.map((c) => join(root, 'checks', `${c}.check.${ext}`)).filter((f) => existsSync(f));
  const missing = components.filter((c) => !existsSync(join(root, 'checks', `${c}.check.${ext}`)));
  if (missing.length > 0) throw new StackcheckError('E_INTERNAL', `no check file for ${missing.join(', ')} under ${join(root, 'checks')}`);

  const ctx: CheckContext = {
    runId: opts.runId ?? randomUUID(),
    inventory: opts.inventory,
    selected,
    functional: opts.functional ?? false,
    ...(opts.stage ? { stage: opts.stage } : {}),
    ...(opts.installed ? { installed: opts.installed } : {}),
    files: files.length,
    allure: !!opts.vitestReporters,
  };
  const results: CheckResult[] = [];
  const progress: Reporter = {
    onTestCaseResult(tc) {
      const r = mapTestCase(tc, ctx);
      if (r) opts.onResult?.(r);
    },
  };
  const reporters: Reporter[] = [progress];
  const setupFiles: string[] = [];
  if (opts.vitestReporters) {
    reporters.push(...opts.vitestReporters.reporters);
    setupFiles.push(...opts.vitestReporters.setupFiles);
  }

  const { createVitest } = await import('vitest/node');
  const exitCodeBefore = process.exitCode;
  const vitest = await createVitest(
    'test',
    {
      root,
      config: false,
      watch: false,
      include: [`checks/*.check.${ext}`],
      reporters,
      setupFiles,
      provide: { stackcheck: ctx },
      pool: 'threads',
      isolate: false,
      fileParallelism: false,
      maxWorkers: 1,
      testTimeout: 120_000,
      hookTimeout: 60_000,
      passWithNoTests: true,
      silent: true,
    },
    { logLevel: 'silent', cacheDir: join(root, 'node_modules', '.vite-stackcheck') },
  );
  const cancel = (): void => void vitest.cancelCurrentRun('keyboard-input');
  opts.signal?.addEventListener('abort', cancel, { once: true });
  try {
    // Cancelled before the run began: nothing runs (every selected check is then unanswered).
    const modules = opts.signal?.aborted ? [] : (await vitest.start(files)).testModules;
    for (const mod of modules) {
      const seen = new Set<string>();
      for (const tc of mod.children.allTests()) {
        const r = mapTestCase(tc, ctx);
        if (r) {
          results.push(r);
          seen.add(r.id);
        }
      }
      if (mod.state() === 'failed' && mod.errors().length > 0) {
        const component = /([a-z]+)\.check\.[jt]s$/.exec(mod.moduleId)?.[1];
        results.push(...brokenFileResults(mod, selected.filter((id) => checkMeta(id).component === component), seen, ctx.stage));
      }
    }
  } finally {
    opts.signal?.removeEventListener('abort', cancel);
    await vitest.close();
    process.exitCode = exitCodeBefore;
  }
  const notRun = unanswered(selected, results, opts);
  // Cancelled (a grading timeout): what did not run was not checked — not a defect of the check.
  results.push(...(opts.signal?.aborted ? notRun.map((r) => ({ ...r, status: 'skipped' as const, message: 'not checked: the run was cancelled before this check (timeout)' })) : notRun));
  // Belt and braces: nothing secret leaves the run, whatever a check put in a message.
  const red = redactorFor(opts.inventory);
  const stages = opts.reportScope?.stages ?? [];
  return results.map((r) => ({
    ...r,
    // Remedies name install keys; with the tutorial's stages known, point at the stage that declares that install,
    // by its heading too (what a student looks for in the tutorial).
    remedy: remedyInTutorial(r.remedy, stages),
    message: red.redact(r.message),
    evidence: r.evidence.map((e) => ({ ...e, body: red.redact(e.body), name: red.redact(e.name) })),
  }));
}

/**
 * A result for every selected check that produced none. When what it needs is installed it should have run: broken,
 * naming the stage that declared it (a check never passes by omission). When something it needs is not installed
 * it is skipped with that reason — unless a stage named it by id, which promised a result: broken then too.
 */
export function unanswered(selected: readonly string[], results: readonly CheckResult[], opts: Pick<RunChecksOptions, 'installed' | 'declaredBy' | 'stage' | 'only'>): CheckResult[] {
  const answered = new Set(results.map((r) => r.id));
  const named = new Set((opts.only ?? []).map((s) => s.trim()).filter((s) => isKnownCheck(s) && !(s in CHECK_GROUPS)));
  const installed = new Set<string>(opts.installed ?? INSTALL_KEYS);
  const by = opts.declaredBy !== undefined ? `declared by stage "${opts.declaredBy}", ` : '';
  return selected
    .filter((id) => !answered.has(id))
    .map((id) => {
      const meta = checkMeta(id);
      const missing = meta.needs.filter((k) => !installed.has(k));
      if (missing.length > 0) {
        const why = `it needs ${missing.join(', ')}, which the stages run so far did not install (installed: ${[...installed].join(', ') || 'nothing'})`;
        const promised = opts.declaredBy !== undefined && named.has(id);
        return result(meta, 'deployment', promised ? { status: 'broken', message: `${by}produced no result: ${why}`, evidence: [] } : { status: 'skipped', message: `not checked: ${why}`, evidence: [] }, 0, opts.stage);
      }
      const why = 'the check file declared no test for it on this deployment (a defect of the check: report it)';
      return result(meta, 'deployment', { status: 'broken', message: `${by}produced no result: ${why}`, evidence: [] }, 0, opts.stage);
    });
}

/** A remedy pointing at the tutorial's own stage (id and heading) that installs what it names. */
export function remedyInTutorial(remedy: CheckResult['remedy'], stages: readonly { id: string; title: string; installs?: readonly string[] }[]): CheckResult['remedy'] {
  const id = stageInstalling(remedy.stage, stages);
  const stage = stages.find((s) => s.id === id);
  return stage ? { ...remedy, stage: stage.id, stageTitle: stage.title } : remedy;
}

/** Whether a set of results means "conforms" (skipped checks do not count against it). */
export function allPassed(results: CheckResult[]): boolean {
  return results.every((r) => r.status === 'passed' || r.status === 'skipped');
}
