// A run's session: what every front end holds while it works on a target — the run folder (new, or an earlier one
// continued), the reports subscribed to the run's event stream, the SSH connections, and the redactor. `run`
// executes whole stages through it (run-tutorial.ts); `guide` goes step by step: runs a step, records one the student
// typed or skipped, runs a stage's checks again and again. Everything flows through the one event stream.
import { join, resolve } from 'node:path';
import type { EventBus } from '../log.js';
import type { StepResult } from '../log.js';
import { Redactor } from '../redact.js';
import { executeStep, redactStep } from '../runner/execute.js';
import { RunDir, stepHash } from '../runner/run-dir.js';
import type { Plan, Stage, Step, Tutorial } from '../runner/types.js';
import { SshPool } from '../ssh/pool.js';
import { remoteCommand, type ExecResult } from '../ssh/exec.js';
import { orphanKillScript } from '../runner/shell-state.js';
import { StackcheckError } from '../error.js';
import type { Inventory } from '../inventory/types.js';
import { startTutorialReports, type FinishedReports, type RunReports } from '../report/run-reports.js';
import type { FinishOptions } from '../report/run-reports.js';
import { allureVitestConfig } from '../report/allure-checks.js';
import { stackcheckVersion } from '../version.js';
import { allPassed, runChecks } from '../checks/run.js';
import type { CheckResult } from '../checks/types.js';
import { installedAfter, stageScope, stagesBefore } from '../checks/declared.js';

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

export interface SessionOptions {
  /** Where run folders go. */
  reports: string;
  bus: EventBus;
  /** Continue the latest run folder of this tutorial (of this `mode`), or `runDir`. */
  resume?: boolean;
  runDir?: string;
  /** Which command the folder belongs to (`guide` continues only its own). */
  mode?: 'run' | 'guide';
  /** Show what would run; no folder, no connection. */
  dryRun?: boolean;
  acceptNewHostKeys?: boolean;
}

/** The checks' verdict on a stage. */
export interface StageVerdict {
  ok: boolean;
  results: CheckResult[];
  message?: string;
}

export class RunSession {
  private constructor(
    readonly prepared: PreparedRun,
    private readonly bus: EventBus,
    readonly redactor: Redactor,
    readonly runDir: RunDir | undefined,
    readonly pool: SshPool | undefined,
    private readonly reports: RunReports | undefined,
  ) {}

  /** The run folder (new or continued), its reports and the connections (none of them in a dry run). */
  static async open(prepared: PreparedRun, opts: SessionOptions): Promise<RunSession> {
    const { plan } = prepared;
    const { tutorial, inventory } = plan;
    const { bus } = opts;
    const redactor = new Redactor(plan.secrets);
    let runDir: RunDir | undefined;
    let stale: { dir: string; runId: string; pid: number } | undefined;
    if (!opts.dryRun) {
      // The latest run of this tutorial may still be running (refused: nothing runs twice at once), or have died
      // with stackcheck (killed): what its steps left running on the hosts is stopped below, before anything runs.
      const latest = opts.runDir ?? (await RunDir.findLatest(opts.reports, tutorial.source, opts.mode));
      const held = latest ? await RunDir.holder(latest) : ({ state: 'free' } as const);
      if (held.state === 'busy') {
        throw new StackcheckError('E_ARGS', `${latest} is being run by stackcheck (pid ${held.pid}, since ${held.since}): a second run of the same tutorial would run its steps twice`, {
          hint: `wait for it to end, or stop it (kill ${held.pid}: it stops its step on the host and records the run as interrupted)`,
        });
      }
      if (held.state === 'stale' && latest) stale = { dir: latest, runId: held.runId, pid: held.pid };
      const previous = opts.resume ? latest : undefined;
      // (a guide continues its latest session when there is one: not finding one is the usual first start)
      if (opts.resume && !previous && opts.mode !== 'guide') bus.emit({ kind: 'warn', message: `no earlier run of ${tutorial.source} under ${resolve(opts.reports)}: starting a new run` });
      runDir = previous
        ? await RunDir.open(previous)
        : await RunDir.create(opts.reports, { tutorial: tutorial.source, inventory: inventory.file, ...(opts.mode ? { mode: opts.mode } : {}) });
      if (previous) bus.emit({ kind: 'info', message: `resuming run ${runDir.runId} (${runDir.dir})` });
    }
    const reports = runDir
      ? startTutorialReports({ bus, runDir, redactor, inventory, extraSecrets: plan.secrets }, tutorial, stackcheckVersion())
      : undefined;
    const pool = opts.dryRun
      ? undefined
      : new SshPool(inventory, {
          ...(opts.acceptNewHostKeys ? { acceptNewHostKeys: true } : {}),
          log: (m) => bus.emit({ kind: 'warn', message: redactor.redact(m) }),
        });
    if (stale && pool) await stopOrphans(stale, pool, inventory, runDir, bus);
    return new RunSession(prepared, bus, redactor, runDir, pool, reports);
  }

  get runId(): string {
    return this.runDir?.runId ?? '';
  }

  /** The step as reporters see it (secrets masked). */
  shown(step: Step): Step {
    return redactStep(step, this.redactor);
  }

  /** Run one step on its host (events, state and log as in `run`). */
  async runStep(step: Step, signal?: AbortSignal): Promise<StepResult> {
    if (!this.pool) throw new Error('runStep: a dry-run session has no connections');
    return executeStep(step, {
      bus: this.bus,
      pool: this.pool,
      runId: this.runId,
      redactor: this.redactor,
      hosts: this.prepared.plan.inventory.hosts,
      ...(this.runDir ? { runDir: this.runDir } : {}),
      ...(signal ? { signal } : {}),
    });
  }

  /** Record a step the student typed by hand or skipped (reported as skipped, with the reason). */
  async recordByHand(step: Step, how: 'typed' | 'skipped'): Promise<void> {
    const shown = this.shown(step);
    const reason = how === 'typed' ? 'typed by the student (the stage checks decide)' : 'skipped by the student';
    this.bus.emit({ kind: 'step-skip', step: shown, reason });
    await this.runDir?.recordByHand(step, how, stepHash(shown, this.prepared.plan.inventory.hosts[step.host]));
  }

  /** Run the checks a stage declares (results through the event stream); on the lab, record the stage as done. */
  async checkStage(stage: Stage): Promise<StageVerdict> {
    const { tutorial, inventory } = this.prepared.plan;
    if (this.prepared.lab) await recordOnLab(this.prepared.lab, tutorial, stage);
    if (stage.checks.length === 0) return { ok: true, results: [] };
    this.bus.emit({ kind: 'checks-start', stage: stage.id, checks: stage.checks });
    const scope = { ...(tutorial.title ? { tutorial: tutorial.title } : {}), stages: stageScope(tutorial) };
    const results = await runChecks({
      inventory,
      only: stage.checks,
      // The tutorial asked for these checks by name: mutating ones (boot a server…) run too, and clean up.
      functional: true,
      stage: stage.id,
      declaredBy: stage.id,
      installed: installedAfter(tutorial, stage.id),
      reportScope: scope,
      ...(this.runDir ? { vitestReporters: allureVitestConfig(join(this.runDir.dir, 'allure-results'), this.redactor, scope) } : {}),
    });
    for (const result of results) this.bus.emit({ kind: 'check-result', stage: stage.id, result });
    this.bus.emit({ kind: 'checks-end', stage: stage.id, results });
    if (results.length === 0) return { ok: false, results, message: `stage ${stage.id} declares checks (${stage.checks.join(', ')}) but none produced a result` };
    const bad = results.filter((r) => r.status === 'failed' || r.status === 'broken');
    if (allPassed(results)) return { ok: true, results };
    return { ok: false, results, message: `${bad.length} check(s) failed after stage ${stage.id}: ${bad.map((r) => `${r.id} @ ${r.host}`).join(', ')}` };
  }

  /** Close the connections, then write the reports (summary table to `finish.out`). */
  async close(finish: FinishOptions = {}): Promise<FinishedReports | undefined> {
    await this.pool?.close();
    return this.reports?.finish(finish);
  }
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

// The run that died with stackcheck: its steps' process groups stopped on every host (by the ids they recorded), and
// its folder marked interrupted (unless this run continues it).
async function stopOrphans(stale: { dir: string; runId: string; pid: number }, pool: SshPool, inventory: Inventory, runDir: RunDir | undefined, bus: EventBus): Promise<void> {
  bus.emit({ kind: 'warn', message: `run ${stale.runId} ended without a word (stackcheck, pid ${stale.pid}, is gone: killed?): stopping what its steps left running on the hosts first` });
  const script = orphanKillScript(stale.runId);
  const stopped: string[] = [];
  for (const [role, spec] of Object.entries(inventory.hosts)) {
    const attempt = (root: boolean): Promise<ExecResult> => pool.exec(role, remoteCommand({ script, sshUser: spec.user, root, timeoutMs: 30_000 }), { timeoutMs: 40_000 });
    try {
      let r = await attempt(true);
      if (r.exitCode !== 0 && spec.user !== 'root') r = await attempt(false);
      const n = Number(r.stdout.trim());
      if (n > 0) stopped.push(`${n} on ${role}`);
    } catch (err) {
      bus.emit({ kind: 'warn', message: `cannot look for what run ${stale.runId} left running on ${role}: ${(err as Error).message}` });
    }
  }
  const what = stopped.length ? `stopped ${stopped.join(', ')}` : 'nothing of it was still running';
  bus.emit({ kind: 'info', message: `run ${stale.runId}: ${what}` });
  if (runDir?.dir !== resolve(stale.dir)) await RunDir.markInterrupted(stale.dir, `stackcheck (pid ${stale.pid}) stopped without a word; the next run ${what}`);
}
