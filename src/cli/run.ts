// `stackcheck run`: the command line of the engine (src/engine/run-tutorial.ts): arguments parsed, the terminal
// reporter subscribed, Ctrl-C turned into an abort; validation, execution, checks and reports are the engine's.
import type { Command } from 'commander';
import { StackcheckError } from '../error.js';
import { EventBus } from '../log.js';
import { terminalReporter } from '../report/terminal.js';
import { shQuote } from '../ssh/exec.js';
import { MAX_JOBS, executeRun, prepareRun, type RunTutorialOptions, type RunTutorialResult } from '../engine/run-tutorial.js';
import { withVariantOption } from './variant-option.js';

/** The engine's options as commander gives them (`--jobs` as typed; the bus, signal and tutorial are ours). */
export type RunCommandOptions = Omit<RunTutorialOptions, 'tutorial' | 'bus' | 'signal' | 'summaryOut' | 'jobs'> & {
  /** `--variant NAME=VALUE`, repeatable. */
  variant?: string[];
  /** Stages side by side at most (`--jobs`, as typed). */
  jobs?: string;
};

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
  for (const v of opts.variant ?? []) parts.push('--variant', v);
  if (opts.jobs && opts.jobs !== '1') parts.push('--jobs', opts.jobs);
  parts.push('--resume');
  return parts.map((p) => (/^[\w./@:=+-]+$/.test(p) ? p : shQuote(p))).join(' ');
}

// The whole command: the terminal reporter and Ctrl-C around the engine; returns the exit code.
export async function runCommand(tutorialPath: string, opts: RunCommandOptions): Promise<number> {
  const bus = new EventBus();
  const jobs = parseJobs(opts.jobs);
  const reporterOpts = { resumeCommand: '', ...(opts.color !== undefined ? { color: opts.color } : {}) };
  const unsubscribe = terminalReporter(bus, reporterOpts);
  // Ctrl-C stops the current step on the remote host (its process group is killed), then the run ends.
  const abort = new AbortController();
  const onSigint = (): void => {
    if (abort.signal.aborted) process.exit(130);
    bus.emit({ kind: 'warn', message: 'interrupted: stopping the current step (Ctrl-C again to quit at once)' });
    abort.abort();
  };
  const engineOpts: RunTutorialOptions = { ...opts, tutorial: tutorialPath, jobs, bus, signal: abort.signal, ...(opts.variant ? { variants: opts.variant } : {}) };
  try {
    const prepared = await prepareRun(engineOpts);
    const withInventory = { ...opts, inventory: prepared.inventoryFile };
    reporterOpts.resumeCommand = resumeCommandFor(tutorialPath, withInventory);
    // SIGTERM (a CI job cancelled, `kill`) stops the run the same way: the step killed on its host, the run recorded as interrupted.
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigint);
    let result: RunTutorialResult;
    try {
      result = await executeRun(prepared, engineOpts);
    } finally {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    }
    if (result.outcome.failedChecks) {
      process.stderr.write(`stackcheck: ${result.outcome.failedChecks.message}\n  fix what the checks name, then: ${resumeCommandFor(prepared.tutorial.source, withInventory)}\n`);
    }
    return result.exitCode;
  } finally {
    unsubscribe();
  }
}

// Register `stackcheck run`.
export function registerRun(program: Command): void {
  withVariantOption(program.command('run'))
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
