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
import type { Plan } from '../runner/types.js';

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
}

// Check --from / --only against the tutorial's stage ids (input error, exit 2).
export function checkStageArgs(plan: Plan, opts: Pick<RunCommandOptions, 'from' | 'only'>): void {
  if (opts.from && opts.only) throw new StackcheckError('E_ARGS', 'use either --from or --only, not both');
  const ids = plan.tutorial.stages.map((s) => s.id);
  for (const [flag, id] of [['--from', opts.from], ['--only', opts.only]] as const) {
    if (id !== undefined && !ids.includes(id)) {
      throw new StackcheckError('E_ARGS', `${flag} ${id}: no such stage in ${plan.tutorial.source}`, { hint: `stages are: ${ids.join(', ')}` });
    }
  }
}

// The command line that resumes this run (shown after a failure).
export function resumeCommandFor(tutorial: string, opts: RunCommandOptions): string {
  const parts = ['stackcheck', 'run', tutorial, '--inventory', opts.inventory ?? ''];
  if (opts.secrets) parts.push('--secrets', opts.secrets);
  if (opts.reports !== 'reports') parts.push('--reports', opts.reports);
  if (opts.only) parts.push('--only', opts.only);
  parts.push('--resume');
  return parts.map((p) => (/^[\w./@:=+-]+$/.test(p) ? p : shQuote(p))).join(' ');
}

// The whole command; returns the exit code.
export async function runCommand(tutorialPath: string, opts: RunCommandOptions): Promise<number> {
  if (!opts.inventory) {
    throw new StackcheckError('E_ARGS', 'no inventory: pass --inventory FILE (which machine plays each role)', {
      hint: 'for the local lab, generate one with `stackcheck lab inventory`',
    });
  }
  // Everything that can be wrong with the input is found here, before any connection.
  const tutorial = await parseTutorial(tutorialPath);
  const inventory = await loadInventory(opts.inventory, opts.secrets ? { secretsFile: opts.secrets } : {});
  const plan = resolvePlan(tutorial, inventory);
  checkStageArgs(plan, opts);
  if (opts.runDir && !opts.resume) throw new StackcheckError('E_ARGS', '--run-dir is for --resume (it names the run folder to continue)');

  const bus = new EventBus();
  const reporterOpts = { resumeCommand: resumeCommandFor(tutorialPath, opts), ...(opts.color !== undefined ? { color: opts.color } : {}) };
  const unsubscribe = terminalReporter(bus, reporterOpts);
  const redactor = new Redactor(plan.secrets);

  let runDir: RunDir | undefined;
  if (!opts.dryRun) {
    const previous = opts.resume ? (opts.runDir ?? (await RunDir.findLatest(opts.reports, tutorial.source))) : undefined;
    if (opts.resume && !previous) bus.emit({ kind: 'warn', message: `no earlier run of ${tutorial.source} under ${resolve(opts.reports)}: starting a new run` });
    runDir = previous ? await RunDir.open(previous) : await RunDir.create(opts.reports, { tutorial: tutorial.source, inventory: inventory.file });
    if (previous) bus.emit({ kind: 'info', message: `resuming run ${runDir.runId} (${runDir.dir})` });
  }

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
    });
  } finally {
    process.off('SIGINT', onSigint);
    await pool?.close();
    unsubscribe();
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
