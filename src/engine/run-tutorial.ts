// The engine every front end shares (`run` today; `guide`, `audit` and `grade` build on it): prepare a run (the
// tutorial parsed, its declarations and the arguments validated, the target's inventory loaded and the plan resolved:
// bad input fails here, exit 2, before any host is touched), then execute it: the run folder, the reports, the SSH
// connections, the steps stage by stage, and each stage's checks. Steps and checks report through one event stream
// (`bus`); the terminal, Allure, JUnit and summary.json are reporters of it. Nothing here reads the command line,
// writes to the terminal or handles signals: the front end does (as vitest's programmatic API and its CLI).
import { ExitCode, StackcheckError } from '../error.js';
import type { EventBus } from '../log.js';
import { loadInventory } from '../inventory/load.js';
import { parseTutorial } from '../runner/parse.js';
import { resolvePlan } from '../runner/plan.js';
import { executePlan, type RunOutcome } from '../runner/execute.js';
import type { Tutorial } from '../runner/types.js';
import type { FinishedReports } from '../report/run-reports.js';
import { tutorialFor } from './tutorial.js';
import type { Inventory } from '../inventory/types.js';
import { RunSession, type LabTarget, type PreparedRun } from './session.js';

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
  /** `NAME=VALUE`: the tutorial's alternatives to take (before the inventory's `variants:`). */
  variants?: string[];
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

export type { LabTarget, PreparedRun } from './session.js';

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
  const parsed = await parseTutorial(opts.tutorial);
  if (opts.runDir && !opts.resume) throw new StackcheckError('E_ARGS', '--run-dir is for --resume (it names the run folder to continue)');
  const jobs = opts.jobs ?? 1;
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > MAX_JOBS) throw new StackcheckError('E_ARGS', `jobs ${jobs}: expected a whole number from 1 to ${MAX_JOBS}`);
  const load = (file: string): Promise<Inventory> => loadInventory(file, opts.secrets ? { secretsFile: opts.secrets } : {});
  const given = opts.inventory ? await load(opts.inventory) : undefined;
  // The alternatives and the stage arguments are checked before the lab is touched (the lab's alternatives come
  // from its vars file, as its inventory will).
  const onLab = !opts.inventory && !opts.dryRun;
  const early = onLab ? (await import('../lab/inventory.js')).labInventoryFor(opts.tutorial).inventory : given;
  checkStageArgs(tutorialFor(parsed, early, opts.variants), opts);
  const lab = onLab ? await labInventory(opts.tutorial, parsed, opts.bus) : undefined;
  const inventoryFile = opts.inventory ?? lab?.inventoryFile;
  if (!inventoryFile) {
    throw new StackcheckError('E_ARGS', 'no inventory: pass --inventory FILE (which machine plays each role)', {
      hint: 'for the local lab, generate one with `stackcheck lab inventory`, or leave out --dry-run to use the lab',
    });
  }
  const inventory = given ?? (await load(inventoryFile));
  const tutorial = tutorialFor(parsed, inventory, opts.variants);
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

/** Execute a prepared run: its run folder, reports, connections, steps and stage checks. */
export async function executeRun(prepared: PreparedRun, opts: RunTutorialOptions): Promise<RunTutorialResult> {
  const session = await RunSession.open(prepared, {
    reports: opts.reports,
    bus: opts.bus,
    ...(opts.resume ? { resume: true } : {}),
    ...(opts.runDir ? { runDir: opts.runDir } : {}),
    ...(opts.dryRun ? { dryRun: true } : {}),
    ...(opts.acceptNewHostKeys ? { acceptNewHostKeys: true } : {}),
  });
  const { runDir, pool } = session;
  let outcome: RunOutcome;
  let finished: FinishedReports | undefined;
  try {
    outcome = await executePlan(prepared.plan, {
      bus: opts.bus,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(runDir ? { runDir } : {}),
      ...(pool ? { pool } : {}),
      ...(opts.from ? { from: opts.from } : {}),
      ...(opts.only ? { only: opts.only } : {}),
      ...(opts.resume ? { resume: true } : {}),
      ...(opts.dryRun ? { dryRun: true } : {}),
      jobs: opts.jobs ?? 1,
      afterStage: (stage) => session.checkStage(stage),
    });
  } finally {
    finished = await session.close({ ...(opts.color !== undefined ? { color: opts.color } : {}), ...(opts.summaryOut !== undefined ? { out: opts.summaryOut === false ? null : opts.summaryOut } : {}) });
  }
  const exitCode = outcome.aborted ? 130 : outcome.status === 'passed' ? ExitCode.ok : ExitCode.failed;
  return { outcome, exitCode, ...(runDir ? { runDir: runDir.dir } : {}), ...(finished ? { reports: finished } : {}) };
}
