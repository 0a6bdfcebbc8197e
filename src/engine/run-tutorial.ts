// The engine every front end shares (`run` today; `guide`, `audit` and `grade` build on it): prepare a run (the
// tutorial parsed, its declarations and the arguments validated, the target's inventory loaded and the plan resolved:
// bad input fails here, exit 2, before any host is touched), then execute it: the run folder, the reports, the SSH
// connections, the steps stage by stage, and each stage's checks. Steps and checks report through one event stream
// (`bus`); the terminal, Allure, JUnit and summary.json are reporters of it. Nothing here reads the command line,
// writes to the terminal or handles signals: the front end does (as vitest's programmatic API and its CLI).
import { resolve } from 'node:path';
import { ExitCode, StackcheckError } from '../error.js';
import type { EventBus } from '../log.js';
import { loadInventory } from '../inventory/load.js';
import { parseTutorial } from '../runner/parse.js';
import { resolvePlan } from '../runner/plan.js';
import { executePlan, type RunOutcome } from '../runner/execute.js';
import { RunDir } from '../runner/run-dir.js';
import { SshPool } from '../ssh/pool.js';
import { Redactor } from '../redact.js';
import type { Plan, Stage, Tutorial } from '../runner/types.js';
import { startRunReports, type FinishedReports } from '../report/run-reports.js';
import { stackcheckVersion } from '../version.js';
import { runChecks, allPassed } from '../checks/run.js';
import { installedAfter, stageScope, stagesBefore, validateStageDeclarations } from '../checks/declared.js';
import type { Inventory } from '../inventory/types.js';

/** Most stages side by side: a run is bounded by the hosts' cores, not by ours. */
export const MAX_JOBS = 8;

export interface RunTutorialOptions {
  /** The tutorial: a Markdown file or folder. */
  tutorial: string;
  /** Inventory file; absent: the local lab (brought up when needed), unless `dryRun`. */
  inventory?: string;
  secrets?: string;
  from?: string;
  only?: string;
  resume?: boolean;
  /** With `resume`: the run folder to continue (default: the latest of this tutorial). */
  runDir?: string;
  dryRun?: boolean;
  acceptNewHostKeys?: boolean;
  /** Where run folders go. */
  reports: string;
  /** Stages side by side at most (1 to MAX_JOBS; default 1). */
  jobs?: number;
  /** The run's event stream: every step and check result goes through it. */
  bus: EventBus;
  /** Aborting stops the current step on its host (its process group is killed) and ends the run. */
  signal?: AbortSignal;
  /** Colours in the closing summary table (default: the terminal's). */
  color?: boolean;
  /** Where the closing summary table goes (default stdout; false: nowhere). */
  summaryOut?: { write(s: string): unknown; isTTY?: boolean } | false;
}

/** A run on the local lab: which lab, and the vars file its inventory was filled from. */
export interface LabTarget {
  lab: string;
  inventoryFile: string;
  varsFile?: string;
}

/** A run ready to execute: everything the input says has been validated. */
export interface PreparedRun {
  tutorial: Tutorial;
  plan: Plan;
  inventoryFile: string;
  lab?: LabTarget;
}

export interface RunTutorialResult {
  outcome: RunOutcome;
  /** 0 passed, 1 a step or a check failed, 130 interrupted. */
  exitCode: number;
  runDir?: string;
  reports?: FinishedReports;
}

// --from / --only name stages of the tutorial (input error, exit 2).
export function checkStageArgs(tutorial: Tutorial, opts: Pick<RunTutorialOptions, 'from' | 'only'>): void {
  if (opts.from && opts.only) throw new StackcheckError('E_ARGS', 'use either --from or --only, not both');
  const ids = tutorial.stages.map((s) => s.id);
  for (const [flag, id] of [['--from', opts.from], ['--only', opts.only]] as const) {
    if (id !== undefined && !ids.includes(id)) {
      throw new StackcheckError('E_ARGS', `${flag} ${id}: no such stage in ${tutorial.source}`, { hint: `stages are: ${ids.join(', ')}` });
    }
  }
}

/** Validate the input and resolve the plan (exit-2 errors before any host is touched, the lab aside). */
export async function prepareRun(opts: RunTutorialOptions): Promise<PreparedRun> {
  const tutorial = await parseTutorial(opts.tutorial);
  validateStageDeclarations(tutorial);
  if (opts.runDir && !opts.resume) throw new StackcheckError('E_ARGS', '--run-dir is for --resume (it names the run folder to continue)');
  checkStageArgs(tutorial, opts);
  const jobs = opts.jobs ?? 1;
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > MAX_JOBS) throw new StackcheckError('E_ARGS', `jobs ${jobs}: expected a whole number from 1 to ${MAX_JOBS}`);
  const lab = opts.inventory || opts.dryRun ? undefined : await labInventory(opts.tutorial, tutorial, opts.bus);
  const inventoryFile = opts.inventory ?? lab?.inventoryFile;
  if (!inventoryFile) {
    throw new StackcheckError('E_ARGS', 'no inventory: pass --inventory FILE (which machine plays each role)', {
      hint: 'for the local lab, generate one with `stackcheck lab inventory`, or leave out --dry-run to use the lab',
    });
  }
  const inventory = await loadInventory(inventoryFile, opts.secrets ? { secretsFile: opts.secrets } : {});
  return { tutorial, plan: resolvePlan(tutorial, inventory), inventoryFile, ...(lab ? { lab } : {}) };
}

/** Prepare and execute a run. */
export async function runTutorial(opts: RunTutorialOptions): Promise<RunTutorialResult> {
  return executeRun(await prepareRun(opts), opts);
}

// Without an inventory the run targets the local lab, bringing it up when it is not running. The run gets an
// inventory of its own (the lab + this tutorial's vars): the lab's inventory stays its deployment's.
async function labInventory(tutorialPath: string, tutorial: Tutorial, bus: EventBus): Promise<LabTarget> {
  const { ensureLab, writeInventory, requireState, tutorialInventoryPath, labVarsFor } = await import('../lab/index.js');
  const lab = process.env.STACKCHECK_LAB ?? 'lab';
  bus.emit({ kind: 'info', message: `no --inventory: using the local lab "${lab}" (stackcheck lab up)` });
  const roles = [...new Set(tutorial.stages.flatMap((s) => s.steps.map((st) => st.host)))];
  await ensureLab({ lab, roles, progress: (m: string) => bus.emit({ kind: 'info', message: m }) });
  const varsFile = labVarsFor(tutorialPath);
  const out = tutorialInventoryPath(lab, tutorialPath);
  const inventoryFile = await writeInventory(requireState(lab).spec, { out, ...(varsFile ? { varsFile } : {}) });
  return { lab, inventoryFile, ...(varsFile ? { varsFile } : {}) };
}

// After a stage's steps completed on the lab: remember it, and when this tutorial became the lab's deployment (or its
// vars file changed) rewrite the lab's own inventory with its variables — not after every stage.
async function recordOnLab(target: LabTarget, tutorial: Tutorial, stage: Stage): Promise<void> {
  const { recordStageDone, readDeployment, writeInventory, requireState } = await import('../lab/index.js');
  const before = readDeployment(target.lab).deployment;
  const after = recordStageDone(target.lab, tutorial, stage.id, target.varsFile, stagesBefore(tutorial, stage.id).map((s) => s.id)).deployment;
  const changed = after?.source !== before?.source || after?.varsFile !== before?.varsFile;
  if (after?.source === resolve(tutorial.source) && changed) await writeInventory(requireState(target.lab).spec);
}

// The checks a stage declares, run right after it; their results go through the bus.
function stageChecker(inventory: Inventory, tutorial: Tutorial, runDir: RunDir | undefined, bus: EventBus, lab: LabTarget | undefined) {
  return async (stage: Stage): Promise<{ ok: boolean; message?: string }> => {
    if (lab) await recordOnLab(lab, tutorial, stage);
    if (stage.checks.length === 0) return { ok: true };
    bus.emit({ kind: 'checks-start', stage: stage.id, checks: stage.checks });
    const results = await runChecks({
      inventory,
      only: stage.checks,
      // The tutorial asked for these checks by name: mutating ones (boot a server…) run too, and clean up.
      functional: true,
      stage: stage.id,
      declaredBy: stage.id,
      installed: installedAfter(tutorial, stage.id),
      reportScope: { ...(tutorial.title ? { tutorial: tutorial.title } : {}), stages: stageScope(tutorial) },
      ...(runDir ? { reportsDir: runDir.dir } : {}),
    });
    for (const result of results) bus.emit({ kind: 'check-result', stage: stage.id, result });
    bus.emit({ kind: 'checks-end', stage: stage.id, results });
    if (results.length === 0) return { ok: false, message: `stage ${stage.id} declares checks (${stage.checks.join(', ')}) but none produced a result` };
    const bad = results.filter((r) => r.status === 'failed' || r.status === 'broken');
    return allPassed(results) ? { ok: true } : { ok: false, message: `${bad.length} check(s) failed after stage ${stage.id}: ${bad.map((r) => `${r.id} @ ${r.host}`).join(', ')}` };
  };
}

/** Execute a prepared run: its run folder, reports, connections, steps and stage checks. */
export async function executeRun(prepared: PreparedRun, opts: RunTutorialOptions): Promise<RunTutorialResult> {
  const { plan, lab } = prepared;
  const { tutorial, inventory } = plan;
  const { bus } = opts;
  const redactor = new Redactor(plan.secrets);

  let runDir: RunDir | undefined;
  if (!opts.dryRun) {
    const previous = opts.resume ? (opts.runDir ?? (await RunDir.findLatest(opts.reports, tutorial.source))) : undefined;
    if (opts.resume && !previous) bus.emit({ kind: 'warn', message: `no earlier run of ${tutorial.source} under ${resolve(opts.reports)}: starting a new run` });
    runDir = previous ? await RunDir.open(previous) : await RunDir.create(opts.reports, { tutorial: tutorial.source, inventory: inventory.file });
    if (previous) bus.emit({ kind: 'info', message: `resuming run ${runDir.runId} (${runDir.dir})` });
  }
  const reports = runDir
    ? startRunReports({
        bus,
        runDir: runDir.dir,
        runId: runDir.runId,
        redactor,
        tutorial: { ...(tutorial.title ? { title: tutorial.title } : {}), source: tutorial.source, stages: tutorial.stages.map(({ id, title }) => ({ id, title })) },
        inventory,
        version: stackcheckVersion(),
        extraSecrets: plan.secrets,
      })
    : undefined;

  const pool = opts.dryRun
    ? undefined
    : new SshPool(inventory, {
        ...(opts.acceptNewHostKeys ? { acceptNewHostKeys: true } : {}),
        log: (m) => bus.emit({ kind: 'warn', message: redactor.redact(m) }),
      });
  let outcome: RunOutcome;
  try {
    outcome = await executePlan(plan, {
      bus,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(runDir ? { runDir } : {}),
      ...(pool ? { pool } : {}),
      ...(opts.from ? { from: opts.from } : {}),
      ...(opts.only ? { only: opts.only } : {}),
      ...(opts.resume ? { resume: true } : {}),
      ...(opts.dryRun ? { dryRun: true } : {}),
      jobs: opts.jobs ?? 1,
      afterStage: stageChecker(inventory, tutorial, runDir, bus, lab),
    });
  } finally {
    await pool?.close();
  }
  const finished = await reports?.finish({ ...(opts.color !== undefined ? { color: opts.color } : {}), ...(opts.summaryOut !== undefined ? { out: opts.summaryOut === false ? null : opts.summaryOut } : {}) });
  const exitCode = outcome.aborted ? 130 : outcome.status === 'passed' ? ExitCode.ok : ExitCode.failed;
  return { outcome, exitCode, ...(runDir ? { runDir: runDir.dir } : {}), ...(finished ? { reports: finished } : {}) };
}
