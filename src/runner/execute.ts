// Execute a plan stage by stage, step by step, on the hosts: emits RunEvents, records each step in the run folder,
// retries, stops at the first failing step, and redacts every byte of output before anyone sees it.
import { describeExitCode, StackcheckError } from '../error.js';
import type { EventBus, StepResult } from '../log.js';
import { BoundedText } from '../bounded-text.js';
import { Redactor } from '../redact.js';
import { SshPool } from '../ssh/pool.js';
import { applyFile } from './apply-file.js';
import { runOnHost, STEP_KEEP } from './remote.js';
import { newRunId, stepHash, type RunDir } from './run-dir.js';
import { clearShellState } from './shell-state.js';
import { neutralizeControl } from '../report/text.js';
import pLimit, { type LimitFunction } from 'p-limit';
import { readyStages, stageNeeds } from './schedule.js';
import type { Plan, ShellStep, Stage, Step } from './types.js';

export interface ExecuteOptions {
  /** Where state and logs go; without it (dry run) nothing is written. */
  runDir?: RunDir;
  /** Start at this stage id (earlier stages are skipped). */
  from?: string;
  /** Run only this stage id. */
  only?: string;
  /** Skip steps the run folder records as completed with the same resolved text. */
  resume?: boolean;
  /** Show what would run; touch no host. */
  dryRun?: boolean;
  bus: EventBus;
  /** Connections to use (created, and closed at the end, when not given). */
  pool?: SshPool;
  signal?: AbortSignal;
  /** Timeout of a step without `timeout=` (default 30 min). */
  defaultTimeoutMs?: number;
  /** Delay between retries of a step without `retryDelayMs` (default 5 s). */
  defaultRetryDelayMs?: number;
  /**
   * Called after every stage whose steps all passed (not in a dry run): the stage's conformance checks.
   * `ok: false` fails the run there, as a failed step would.
   */
  afterStage?: (stage: Stage) => Promise<{ ok: boolean; message?: string }>;
  /**
   * Stages run side by side at most (default 1: the tutorial's order). A stage starts once the stages it
   * needs (`<!-- after: … -->`, else all earlier ones) have finished; steps on one host never overlap.
   */
  jobs?: number;
}

export interface RunOutcome {
  status: 'passed' | 'failed';
  runId: string;
  runDir?: string;
  durationMs: number;
  results: StepResult[];
  /** The step that stopped the run. */
  failed?: { step: Step; result: StepResult };
  /** The stage whose checks stopped the run. */
  failedChecks?: { stage: string; message: string };
  aborted: boolean;
}

// Remote output as it is shown and kept: terminal escapes and control characters neutralised first, then secrets
// masked — so that a secret split by a colour escape (`Zq9x\e[31mK7v…`) is masked too.
function cleanRemote(text: string, redactor: Redactor): string {
  return redactor.redact(neutralizeControl(text));
}

// Redacts a stream line by line, so a secret split across two chunks is still masked.
export class LineRedactor {
  private buf = '';
  constructor(private readonly redactor: Redactor) {}
  // Complete lines, redacted; the partial tail waits for more (or for flush).
  push(text: string): string {
    this.buf += text;
    const cut = this.buf.lastIndexOf('\n');
    if (cut < 0) {
      // A very long line without newline is let through rather than held forever.
      if (this.buf.length < 65_536) return '';
      const all = this.buf;
      this.buf = '';
      return cleanRemote(all, this.redactor);
    }
    const done = this.buf.slice(0, cut + 1);
    this.buf = this.buf.slice(cut + 1);
    return cleanRemote(done, this.redactor);
  }
  flush(): string {
    const rest = this.buf;
    this.buf = '';
    return rest ? cleanRemote(rest, this.redactor) : '';
  }
}

// A copy of the step with secrets masked in everything a reporter may print.
export function redactStep(step: Step, redactor: Redactor): Step {
  if (step.kind === 'shell') {
    const copy: ShellStep = { ...step, command: redactor.redact(step.command) };
    if (step.input !== undefined) copy.input = redactor.redact(step.input);
    if (step.output !== undefined) copy.output = redactor.redact(step.output);
    return copy;
  }
  return { ...step, content: redactor.redact(step.content), path: redactor.redact(step.path) };
}

// Which stages run, given --from / --only (ids already validated by the CLI).
function selectedStages(stages: Stage[], from?: string, only?: string): Set<string> {
  if (only) return new Set([only]);
  const start = from ? stages.findIndex((s) => s.id === from) : 0;
  return new Set(stages.slice(Math.max(start, 0)).map((s) => s.id));
}

// Wait, unless the run is aborted.
function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}

// Run the plan; never throws for a failing step (that is the outcome), only for internal errors.
export async function executePlan(plan: Plan, opts: ExecuteOptions): Promise<RunOutcome> {
  const started = performance.now();
  const redactor = new Redactor(plan.secrets);
  const { bus } = opts;
  const runId = opts.runDir?.runId ?? newRunId();
  const ownPool = !opts.pool && !opts.dryRun;
  const pool = opts.pool ?? (opts.dryRun ? undefined : new SshPool(plan.inventory, { log: (m) => bus.emit({ kind: 'warn', message: redactor.redact(m) }) }));
  const selected = selectedStages(plan.tutorial.stages, opts.from, opts.only);
  const results: StepResult[] = [];
  const used = new Map<string, { role: string; root: boolean; user?: string }>();
  let failed: RunOutcome['failed'];
  let failedChecks: RunOutcome['failedChecks'];
  const total = plan.tutorial.stages.reduce((n, s) => n + s.steps.length, 0);

  bus.emit({
    kind: 'run-start',
    runId,
    runDir: opts.runDir?.dir ?? '',
    tutorial: plan.tutorial.source,
    inventory: plan.inventory.file,
    stages: plan.tutorial.stages.length,
    steps: total,
  });

  // Skip a step without running it (still reported, so counts add up).
  const skip = (step: Step, reason: string): void => {
    const shown = redactStep(step, redactor);
    bus.emit({ kind: 'step-skip', step: shown, reason });
    results.push({ stepId: step.id, host: step.host, status: 'skipped', exitCode: null, timedOut: false, durationMs: 0, stdout: '', stderr: '', attempts: 0, message: reason });
  };

  // One step at a time per host (as a student with one terminal per host), and one stage's checks at a time.
  const hostLocks = new Map<string, LimitFunction>();
  const onHost = (host: string): LimitFunction => {
    let l = hostLocks.get(host);
    if (!l) hostLocks.set(host, (l = pLimit(1)));
    return l;
  };
  const checksLock = pLimit(1);

  // A stage's steps in order, then its checks; a failure is recorded in `failed` / `failedChecks`.
  const runStage = async (stage: Stage): Promise<void> => {
    const stageStart = performance.now();
    // Events carry the stage with its steps: reporters get the redacted copy.
    const shownStage: Stage = { ...stage, steps: stage.steps.map((st) => redactStep(st, redactor)) };
    if (!selected.has(stage.id)) {
      for (const step of stage.steps) skip(step, opts.only ? `not selected (--only ${opts.only})` : `before --from ${opts.from ?? ''}`);
      bus.emit({ kind: 'stage-end', stage: shownStage, status: 'skipped', durationMs: 0 });
      return;
    }
    bus.emit({ kind: 'stage-start', stage: shownStage });
    let stageFailed = false;
    for (const step of stage.steps) {
      const shown = redactStep(step, redactor);
      const hash = stepHash(shown, plan.inventory.hosts[step.host]);
      if (opts.resume && opts.runDir?.completed(step.id, hash)) {
        skip(step, 'completed in an earlier attempt of this run (--resume)');
        continue;
      }
      if (opts.dryRun || !pool) {
        skip(step, 'dry run');
        continue;
      }
      if (opts.signal?.aborted) {
        skip(step, 'run interrupted');
        continue;
      }
      used.set(`${step.host}\0${step.root}\0${step.user ?? ''}`, { role: step.host, root: step.root, ...(step.user ? { user: step.user } : {}) });
      const result = await onHost(step.host)(() => executeStep(step, { ...opts, pool, runId, redactor, hosts: plan.inventory.hosts }));
      results.push(result);
      if (result.status === 'failed') {
        failed ??= { step: shown, result };
        stageFailed = true;
        break;
      }
    }
    // The stage's checks run once its steps have all passed; failing checks stop the run like a failed step.
    let checksFailed = false;
    const { afterStage } = opts;
    if (!stageFailed && !opts.dryRun && afterStage && !opts.signal?.aborted) {
      const verdict = await checksLock(() => afterStage(shownStage));
      if (!verdict.ok) {
        checksFailed = true;
        failedChecks ??= { stage: stage.id, message: verdict.message ?? `checks after stage ${stage.id} failed` };
      }
    }
    bus.emit({ kind: 'stage-end', stage: shownStage, status: stageFailed || checksFailed ? 'failed' : 'passed', durationMs: Math.round(performance.now() - stageStart) });
  };

  try {
    // Stages start as soon as what they need has finished, up to `jobs` at once; after a failure none starts,
    // the running ones finish, and the stages never started are not reported (as after a sequential stop).
    const stages = plan.tutorial.stages;
    const needs = stageNeeds(stages);
    const jobs = Math.max(1, opts.jobs ?? 1);
    const begun = new Set<string>();
    const finished = new Set<string>();
    const running = new Map<string, Promise<string>>();
    for (;;) {
      if (!failed && !failedChecks) {
        for (const stage of readyStages(stages, needs, begun, finished, jobs - running.size)) {
          begun.add(stage.id);
          running.set(stage.id, runStage(stage).then(() => stage.id));
        }
      }
      if (running.size === 0) break;
      const id = await Promise.race(running.values());
      running.delete(id);
      finished.add(id);
    }
    const status = failed || failedChecks ? 'failed' : 'passed';
    // A finished run leaves no exported secrets behind in the remote state files.
    if (status === 'passed' && pool && !opts.dryRun) {
      for (const u of used.values()) {
        await runOnHost(pool, u.role, clearShellState(runId), { runId, root: u.root, ...(u.user ? { user: u.user } : {}), timeoutMs: 30_000, shellState: false }).catch(() => undefined);
      }
    }
    const durationMs = Math.round(performance.now() - started);
    const counts = { passed: 0, failed: 0, skipped: 0 };
    for (const r of results) counts[r.status]++;
    await opts.runDir?.finish({
      // (Ctrl-C or SIGTERM: the step was stopped on its host; --resume continues)
      status: opts.signal?.aborted ? 'interrupted' : status,
      durationMs,
      counts,
      ...(failed
        ? { failedStep: { id: failed.step.id, file: failed.step.loc.file, line: failed.step.loc.line, host: failed.step.host, ...(failed.result.message ? { message: failed.result.message } : {}) } }
        : {}),
    });
    bus.emit({ kind: 'run-end', status, durationMs });
    const outcome: RunOutcome = { status, runId, durationMs, results, aborted: opts.signal?.aborted ?? false };
    if (failedChecks) outcome.failedChecks = failedChecks;
    if (opts.runDir) outcome.runDir = opts.runDir.dir;
    if (failed) outcome.failed = failed;
    return outcome;
  } finally {
    if (ownPool) await pool?.close();
  }
}

/** What one step needs to run: the run's connections, id, event stream, redactor and folder. */
export interface StepContext extends Pick<ExecuteOptions, 'bus' | 'signal' | 'runDir' | 'defaultTimeoutMs' | 'defaultRetryDelayMs'> {
  pool: SshPool;
  runId: string;
  redactor: Redactor;
  /** The inventory's hosts (a step's hash includes where it runs). */
  hosts: Plan['inventory']['hosts'];
}

/**
 * Run one step (resolved, secrets filled) with its retries: step-start, live output and step-end events (redacted),
 * and its state and log in the run folder. `run` calls it for every step; `guide` for the steps the student runs.
 */
export async function executeStep(step: Step, ctx: StepContext): Promise<StepResult> {
  const shown = redactStep(step, ctx.redactor);
  const { result, log } = await runWithRetries(ctx.pool, step, shown, ctx.runId, ctx, ctx.redactor);
  ctx.bus.emit({ kind: 'step-end', step: shown, result });
  await ctx.runDir?.recordStep(step, result, stepHash(shown, ctx.hosts[step.host]), log);
  return result;
}

// One step, retried per `retries`; output streamed (redacted) as events and collected for the log file.
async function runWithRetries(
  pool: SshPool,
  step: Step,
  shown: Step,
  runId: string,
  opts: StepContext,
  redactor: Redactor,
): Promise<{ result: StepResult; log: string }> {
  let log = '';
  let result: StepResult | undefined;
  const attempts = step.retries + 1;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    opts.bus.emit({ kind: 'step-start', step: shown, attempt });
    if (attempts > 1) log += `--- attempt ${attempt} of ${attempts}\n`;
    const out = new LineRedactor(redactor);
    const err = new LineRedactor(redactor);
    // The step log keeps the head and the tail of what the step printed (the terminal sees it all, live).
    const body = new BoundedText(STEP_KEEP.head, STEP_KEEP.tail);
    const emit = (stream: 'stdout' | 'stderr', text: string): void => {
      if (!text) return;
      body.push(stream === 'stderr' ? text.replace(/^(?=.)/gm, '[stderr] ') : text);
      opts.bus.emit({ kind: 'step-output', step: shown, stream, text });
    };
    result = await runOnce(pool, step, runId, opts, redactor, {
      onStdout: (t) => emit('stdout', out.push(t)),
      onStderr: (t) => emit('stderr', err.push(t)),
    });
    emit('stdout', out.flush());
    emit('stderr', err.flush());
    log += body.toString();
    result.attempts = attempt;
    const printed = result.printed ? ` (it printed ${result.printed.stdout} characters on stdout and ${result.printed.stderr} on stderr: the first and the last MiB of each are kept)` : '';
    log += `--- ${result.status}: ${result.message ?? describeExitCode(result.exitCode, result.signal)} in ${result.durationMs} ms${printed}\n`;
    if (result.status === 'passed' || opts.signal?.aborted) break;
    if (attempt < attempts) {
      const wait = step.retryDelayMs ?? opts.defaultRetryDelayMs ?? 5000;
      opts.bus.emit({ kind: 'info', message: `${shown.id} on ${step.host} failed (${result.message ?? ''}); retrying in ${wait} ms (attempt ${attempt + 1} of ${attempts})` });
      await delay(wait, opts.signal);
    }
  }
  return { result: result as StepResult, log };
}

// Run a step once; connection problems become a failed result (the run stops there, with the reason).
async function runOnce(
  pool: SshPool,
  step: Step,
  runId: string,
  opts: StepContext,
  redactor: Redactor,
  stream: { onStdout: (t: string) => void; onStderr: (t: string) => void },
): Promise<StepResult> {
  const timeoutMs = step.timeoutMs ?? opts.defaultTimeoutMs ?? 30 * 60_000;
  const base = { stepId: step.id, host: step.host, attempts: 1 };
  const started = performance.now();
  try {
    if (step.kind === 'file') {
      const r = await applyFile(pool, step, { runId, timeoutMs, ...(opts.signal ? { signal: opts.signal } : {}) });
      if (r.status !== 'failed') {
        stream.onStdout(`${r.summary}\n`);
        return { ...base, status: 'passed', exitCode: 0, timedOut: false, durationMs: r.durationMs, stdout: redactor.redact(`${r.summary}\n`), stderr: '' };
      }
      const f = r.failure;
      const stderr = redactor.redact(f?.stderr ?? '');
      stream.onStderr(stderr);
      return {
        ...base,
        status: 'failed',
        exitCode: f?.exitCode ?? null,
        signal: f?.signal ?? null,
        timedOut: f?.timedOut ?? false,
        durationMs: r.durationMs,
        stdout: redactor.redact(f?.stdout ?? ''),
        stderr,
        message: redactor.redact(f?.sudoProblem ?? (f?.timedOut ? `${r.summary} (timed out after ${timeoutMs} ms)` : `${r.summary} (${describeExitCode(f?.exitCode ?? null, f?.signal)})`)),
      };
    }
    const r = await runOnHost(pool, step.host, step.command, {
      runId,
      root: step.root,
      timeoutMs,
      onStdout: stream.onStdout,
      onStderr: stream.onStderr,
      ...(step.user ? { user: step.user } : {}),
      ...(step.input !== undefined ? { input: step.input.endsWith('\n') ? step.input : `${step.input}\n` } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const ok = !r.timedOut && !r.aborted && r.exitCode !== null && step.expectExit.includes(r.exitCode);
    let message: string | undefined;
    if (r.aborted) message = 'interrupted';
    else if (r.lost) message = `the connection to ${step.host} was lost during the step (no exit status)`;
    else if (r.timedOut) message = `timed out after ${Math.round(timeoutMs / 1000)} s (the remote process group was killed)`;
    else if (!ok) {
      message = r.sudoProblem ?? describeExitCode(r.exitCode, r.signal);
      if (step.expectExit.length !== 1 || step.expectExit[0] !== 0) message += ` (expected ${step.expectExit.join(' or ')})`;
    }
    const result: StepResult = {
      ...base,
      status: ok ? 'passed' : 'failed',
      exitCode: r.exitCode,
      signal: r.signal,
      timedOut: r.timedOut,
      durationMs: r.durationMs,
      stdout: cleanRemote(r.stdout, redactor),
      stderr: cleanRemote(r.stderr, redactor),
      ...(r.cut ? { printed: r.cut.total } : {}),
    };
    if (message) result.message = redactor.redact(message);
    return result;
  } catch (err) {
    if (!(err instanceof StackcheckError) || (err.code !== 'E_SSH_CONNECT' && err.code !== 'E_SSH_HOSTKEY' && err.code !== 'E_ROLE')) throw err;
    const message = redactor.redact(err.hint ? `${err.message} (${err.hint})` : err.message);
    stream.onStderr(`${message}\n`);
    return { ...base, status: 'failed', exitCode: null, timedOut: false, durationMs: Math.round(performance.now() - started), stdout: '', stderr: message, message };
  }
}
