// `stackcheck run`: validate tutorial + inventory + arguments (exit 2 before any host is touched), then execute
// stage by stage with live output, a run folder under reports/, and --resume after a failure.
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { ExitCode, StackcheckError } from '../error.js';
import { EventBus } from '../log.js';
import { loadInventory } from '../inventory/load.js';
import { parseTutorial } from '../runner/parse.js';
import { resolvePlan } from '../runner/plan.js';
import { executePlan, type RunOutcome } from '../runner/execute.js';
import { RunDir } from '../runner/run-dir.js';
import { SshPool } from '../ssh/pool.js';
import { terminalReporter } from '../report/terminal.js';
import { Redactor } from '../redact.js';
import { shQuote } from '../ssh/exec.js';
import type { Plan, Stage, Tutorial } from '../runner/types.js';
import { startRunReports, type RunReports } from '../report/run-reports.js';
import { stackcheckVersion } from '../version.js';
import { runChecks, allPassed } from '../checks/run.js';
import { installedAfter, stageScope, stagesBefore, validateStageDeclarations } from '../checks/declared.js';
import { formatResult, summaryLine } from './check.js';
import type { Inventory } from '../inventory/types.js';

export interface RunCommandOptions {
  inventory?: string;
  secrets?: string;
  from?: string;
  only?: string;
  resume?: boolean;
  runDir?: string;
  dryRun?: boolean;
  acceptNewHostKeys?: boolean;
  reports: string;
  color?: boolean;
  /** Stages side by side at most (`--jobs`, as typed). */
  jobs?: string;
}

// Check --from / --only against the tutorial's stage ids (input error, exit 2).
export function checkStageArgs(tutorial: Tutorial, opts: Pick<RunCommandOptions, 'from' | 'only'>): void {
  if (opts.from && opts.only) throw new StackcheckError('E_ARGS', 'use either --from or --only, not both');
  const ids = tutorial.stages.map((s) => s.id);
  for (const [flag, id] of [['--from', opts.from], ['--only', opts.only]] as const) {
    if (id !== undefined && !ids.includes(id)) {
      throw new StackcheckError('E_ARGS', `${flag} ${id}: no such stage in ${tutorial.source}`, { hint: `stages are: ${ids.join(', ')}` });
    }
  }
}

/** Most stages side by side: a run is bounded by the hosts' cores, not by ours. */
export const MAX_JOBS = 8;

// --jobs N: a whole number from 1 to MAX_JOBS (input error, exit 2).
export function parseJobs(value: string | undefined): number {
  if (value === undefined) return 1;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > MAX_JOBS) {
    throw new StackcheckError('E_ARGS', `--jobs ${value}: expected a whole number from 1 to ${MAX_JOBS} (stages run side by side where the tutorial's after comments allow)`);
  }
  return n;
}

// The command line that resumes this run (shown after a failure).
export function resumeCommandFor(tutorial: string, opts: RunCommandOptions): string {
  const parts = ['stackcheck', 'run', tutorial, '--inventory', opts.inventory ?? ''];
  if (opts.secrets) parts.push('--secrets', opts.secrets);
  if (opts.reports !== 'reports') parts.push('--reports', opts.reports);
  if (opts.only) parts.push('--only', opts.only);
  if (opts.jobs && opts.jobs !== '1') parts.push('--jobs', opts.jobs);
  parts.push('--resume');
  return parts.map((p) => (/^[\w./@:=+-]+$/.test(p) ? p : shQuote(p))).join(' ');
}

/** A run on the local lab: which lab, and the vars file its inventory was filled from. */
interface LabTarget {
  lab: string;
  inventoryFile: string;
  varsFile?: string;
}

// Without --inventory the run targets the local lab, bringing it up when it is not running. The run gets an
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

// The checks a stage declares, run right after it; results are printed and go to the reports.
function stageChecker(inventory: Inventory, tutorial: Tutorial, runDir: RunDir | undefined, reports: RunReports | undefined, color: boolean, lab: LabTarget | undefined) {
  return async (stage: Stage): Promise<{ ok: boolean; message?: string }> => {
    if (lab) await recordOnLab(lab, tutorial, stage);
    if (stage.checks.length === 0) return { ok: true };
    process.stdout.write(`checks after stage ${stage.id}: ${stage.checks.join(', ')}\n`);
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
    for (const r of results) process.stdout.write(`  ${formatResult(r, color)}\n`);
    process.stdout.write(`  ${summaryLine(results)}\n`);
    reports?.addChecks(results);
    if (results.length === 0) return { ok: false, message: `stage ${stage.id} declares checks (${stage.checks.join(', ')}) but none produced a result` };
    const bad = results.filter((r) => r.status === 'failed' || r.status === 'broken');
    return allPassed(results) ? { ok: true } : { ok: false, message: `${bad.length} check(s) failed after stage ${stage.id}: ${bad.map((r) => `${r.id} @ ${r.host}`).join(', ')}` };
  };
}

// The whole command; returns the exit code.
export async function runCommand(tutorialPath: string, opts: RunCommandOptions): Promise<number> {
  const bus = new EventBus();
  // Everything that can be wrong with the input is found here, before any connection.
  const tutorial = await parseTutorial(tutorialPath);
  validateStageDeclarations(tutorial);
  if (opts.runDir && !opts.resume) throw new StackcheckError('E_ARGS', '--run-dir is for --resume (it names the run folder to continue)');
  checkStageArgs(tutorial, opts);
  const jobs = parseJobs(opts.jobs);
  const reporterOpts = { resumeCommand: '', ...(opts.color !== undefined ? { color: opts.color } : {}) };
  const unsubscribe = terminalReporter(bus, reporterOpts);
  try {
    const lab = opts.inventory || opts.dryRun ? undefined : await labInventory(tutorialPath, tutorial, bus);
    const inventoryFile = opts.inventory ?? lab?.inventoryFile;
    if (!inventoryFile) {
      throw new StackcheckError('E_ARGS', 'no inventory: pass --inventory FILE (which machine plays each role)', {
        hint: 'for the local lab, generate one with `stackcheck lab inventory`, or leave out --dry-run to use the lab',
      });
    }
    const withInventory = { ...opts, inventory: inventoryFile };
    reporterOpts.resumeCommand = resumeCommandFor(tutorialPath, withInventory);
    const inventory = await loadInventory(inventoryFile, opts.secrets ? { secretsFile: opts.secrets } : {});
    const plan = resolvePlan(tutorial, inventory);
    return await execute(plan, withInventory, bus, jobs, lab);
  } finally {
    unsubscribe();
  }
}

// Execute a validated plan with its run folder, reports and stage checks.
async function execute(plan: Plan, opts: RunCommandOptions, bus: EventBus, jobs: number, lab: LabTarget | undefined): Promise<number> {
  const { tutorial, inventory } = plan;
  const redactor = new Redactor(plan.secrets);
  const color = opts.color ?? (!!process.stdout.isTTY && !process.env.NO_COLOR);

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
  // Ctrl-C stops the current step on the remote host (its process group is killed), then the run ends.
  const abort = new AbortController();
  const onSigint = (): void => {
    if (abort.signal.aborted) process.exit(130);
    bus.emit({ kind: 'warn', message: 'interrupted: stopping the current step (Ctrl-C again to quit at once)' });
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  let outcome: RunOutcome;
  try {
    outcome = await executePlan(plan, {
      bus,
      signal: abort.signal,
      ...(runDir ? { runDir } : {}),
      ...(pool ? { pool } : {}),
      ...(opts.from ? { from: opts.from } : {}),
      ...(opts.only ? { only: opts.only } : {}),
      ...(opts.resume ? { resume: true } : {}),
      ...(opts.dryRun ? { dryRun: true } : {}),
      jobs,
      afterStage: stageChecker(inventory, tutorial, runDir, reports, color, lab),
    });
  } finally {
    process.off('SIGINT', onSigint);
    await pool?.close();
  }
  await reports?.finish(opts.color !== undefined ? { color: opts.color } : {});
  if (outcome.failedChecks) {
    process.stderr.write(`stackcheck: ${outcome.failedChecks.message}\n  fix what the checks name, then: ${resumeCommandFor(tutorial.source, opts)}\n`);
  }
  if (outcome.aborted) return 130;
  return outcome.status === 'passed' ? ExitCode.ok : ExitCode.failed;
}

// Register `stackcheck run`.
export function registerRun(program: Command): void {
  program
    .command('run')
    .description('Run a tutorial on the inventory\'s hosts, stage by stage, stopping at the first failing step')
    .argument('<tutorial>', 'tutorial Markdown file or folder')
    .option('-i, --inventory <file>', 'inventory YAML: which machine plays each role, and the variables')
    .option('--secrets <file>', 'secrets YAML (variables whose values are never printed)')
    .option('--from <stage>', 'start at this stage (id as shown by `stackcheck plan`)')
    .option('--only <stage>', 'run only this stage')
    .option('--resume', 'continue the latest run of this tutorial, skipping steps already completed unchanged')
    .option('--run-dir <dir>', 'with --resume: the run folder to continue (default: the latest for this tutorial)')
    .option('--dry-run', 'show the steps that would run; touch no host')
    .option('-j, --jobs <n>', 'run up to N stages side by side where the tutorial allows it (<!-- after: … --> comments); steps on one host never overlap (default 1)')
    .option('--accept-new-host-keys', 'accept and record host keys not yet in known_hosts (they are logged)')
    .option('--reports <dir>', 'where run folders go', 'reports')
    .option('--no-color', 'no colours (NO_COLOR is honoured too)')
    .action(async (tutorial: string, options: RunCommandOptions) => {
      const opts = { ...options };
      // commander sets color=true by default because of --no-color; only pass an explicit "off".
      if (opts.color !== false) delete opts.color;
      process.exitCode = await runCommand(tutorial, opts);
    });
}
