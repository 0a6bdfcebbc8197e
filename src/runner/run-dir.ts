// The run folder reports/<runId>/: state.json (per step: status, exit code, duration, hash of the resolved step,
// for --resume), steps/<stage>/<n>.log (redacted output) and run.json (summary); reports/latest points at it.
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { mkdir, readFile, readdir, rename, symlink, unlink, writeFile } from 'node:fs/promises';
import { writeAtomic } from '../atomic-write.js';
import { join, resolve } from 'node:path';
import type { StepResult } from '../log.js';
import type { HostSpec } from '../inventory/types.js';
import type { Step } from './types.js';
import { StackcheckError } from '../error.js';
import { processAlive } from '../process-alive.js';

export interface StepState {
  status: StepResult['status'];
  host: string;
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
  attempts: number;
  /** Hash of the resolved step (secrets masked): a changed step is re-run by --resume. */
  hash: string;
  finishedAt: string;
  message?: string;
  /** A step the runner did not run (`guide`): the student typed it by hand, or skipped it. */
  how?: 'typed' | 'skipped';
}

/** The checks of a stage as they last ended (`guide` records them: it continues after the last stage that passed). */
export interface StageState {
  /** `waived`: they failed and the student went on anyway. */
  checks: 'passed' | 'failed' | 'waived';
  at: string;
}

export interface RunState {
  version: 1;
  runId: string;
  /** Absolute path of the tutorial (how --resume finds earlier runs of it). */
  tutorial: string;
  inventory: string;
  /** Which command made the folder (absent: `run`); `guide` continues only its own sessions. */
  mode?: 'run' | 'guide' | 'audit';
  steps: Record<string, StepState>;
  stages?: Record<string, StageState>;
}

export interface RunSummary {
  runId: string;
  tutorial: string;
  inventory: string;
  /**
   * `paused`: a guided session the student left, to continue later; `interrupted`: stopped by Ctrl-C or SIGTERM, or
   * found dead (stackcheck killed) by the next run.
   */
  status: 'running' | 'passed' | 'failed' | 'paused' | 'interrupted';
  /** Why it ended, when a step or a check does not say (found dead by the next run). */
  note?: string;
  /** While running: the stackcheck process (and its machine) that holds the folder. */
  pid?: number;
  machine?: string;
  startedAt: string;
  endedAt?: string;
  durationMs?: number;
  /** Times this run folder was (re)started: 1 + number of resumes. */
  attempts: number;
  failedStep?: { id: string; file: string; line: number; host: string; message?: string };
  counts?: { passed: number; failed: number; skipped: number };
}

// Sortable, unique run id: UTC timestamp plus a little randomness (many runs may start in one second when grading).
export function newRunId(now: Date = new Date()): string {
  return `${now.toISOString().replace(/[:.]/g, '-')}-${randomBytes(2).toString('hex')}`;
}

// Hash of what a step will do where; the step is passed already redacted so the hash says nothing about secrets.
export function stepHash(step: Step, host: HostSpec | undefined): string {
  const { loc: _loc, id: _id, ...rest } = step as Step & { bodyLine?: number; inputLines?: number[] };
  const what = { ...rest, bodyLine: undefined, inputLines: undefined, output: undefined, target: host ? `${host.user}@${host.address}:${host.port}` : step.host };
  return createHash('sha256').update(JSON.stringify(what)).digest('hex').slice(0, 32);
}

export class RunDir {
  private constructor(
    readonly dir: string,
    readonly runId: string,
    readonly state: RunState,
    private summary: RunSummary,
  ) {}

  /** Start a new run folder under `reportsDir` and point `latest` at it. */
  static async create(reportsDir: string, meta: { tutorial: string; inventory: string; mode?: 'run' | 'guide' | 'audit' }, runId: string = newRunId()): Promise<RunDir> {
    const dir = join(resolve(reportsDir), runId);
    await mkdir(join(dir, 'steps'), { recursive: true, mode: 0o700 });
    const tutorial = resolve(meta.tutorial);
    const state: RunState = { version: 1, runId, tutorial, inventory: meta.inventory, ...(meta.mode && meta.mode !== 'run' ? { mode: meta.mode } : {}), steps: {} };
    const summary: RunSummary = { runId, tutorial, inventory: meta.inventory, status: 'running', startedAt: new Date().toISOString(), attempts: 1, pid: process.pid, machine: hostname() };
    const rd = new RunDir(dir, runId, state, summary);
    await rd.saveState();
    await rd.saveSummary();
    await pointLatest(resolve(reportsDir), runId);
    return rd;
  }

  /** Re-open an existing run folder (for --resume). */
  static async open(dir: string): Promise<RunDir> {
    const abs = resolve(dir);
    let state: RunState;
    let summary: RunSummary;
    try {
      state = JSON.parse(await readFile(join(abs, 'state.json'), 'utf8')) as RunState;
      summary = JSON.parse(await readFile(join(abs, 'run.json'), 'utf8')) as RunSummary;
    } catch (err) {
      throw new StackcheckError('E_ARGS', `${abs} is not a stackcheck run folder (no readable state.json/run.json)`, { cause: err });
    }
    if (state.version !== 1 || typeof state.steps !== 'object') throw new StackcheckError('E_ARGS', `${abs}/state.json has an unknown format`);
    summary = { ...summary, status: 'running', attempts: (summary.attempts ?? 1) + 1, pid: process.pid, machine: hostname() };
    delete summary.endedAt;
    delete summary.failedStep;
    const rd = new RunDir(abs, state.runId, state, summary);
    await rd.saveSummary();
    return rd;
  }

  /** The newest run folder of this tutorial under `reportsDir` (made by `mode`'s command, when given), if any. */
  static async findLatest(reportsDir: string, tutorial: string, mode?: 'run' | 'guide' | 'audit'): Promise<string | undefined> {
    const abs = resolve(tutorial);
    let names: string[];
    try {
      names = await readdir(resolve(reportsDir));
    } catch {
      return undefined;
    }
    for (const name of names.filter((n) => /^\d{4}-\d\d-\d\dT/.test(n)).sort().reverse()) {
      try {
        const s = JSON.parse(await readFile(join(resolve(reportsDir), name, 'state.json'), 'utf8')) as RunState;
        if (s.tutorial === abs && (mode === undefined || (s.mode ?? 'run') === mode)) return join(resolve(reportsDir), name);
      } catch {
        // not a run folder (or a broken one): keep looking
      }
    }
    return undefined;
  }

  /** Whether a step completed in an earlier attempt, unchanged since. */
  completed(stepId: string, hash: string): boolean {
    const s = this.state.steps[stepId];
    return s?.status === 'passed' && s.hash === hash;
  }

  stepLogPath(step: Step): string {
    const n = step.id.split('/').pop() ?? step.id;
    return join(this.dir, 'steps', step.stage.replace(/[^A-Za-z0-9._-]/g, '_'), `${n.replace(/[^A-Za-z0-9._-]/g, '_')}.log`);
  }

  /** Record a step's outcome and its (already redacted) log. */
  async recordStep(step: Step, result: StepResult, hash: string, log: string): Promise<void> {
    const path = this.stepLogPath(step);
    await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
    await writeFile(path, log, { mode: 0o600 });
    const entry: StepState = {
      status: result.status,
      host: result.host,
      exitCode: result.exitCode,
      timedOut: result.timedOut,
      durationMs: result.durationMs,
      attempts: result.attempts,
      hash,
      finishedAt: new Date().toISOString(),
    };
    if (result.message) entry.message = result.message;
    this.state.steps[step.id] = entry;
    await this.saveState();
  }

  /** Record a step the runner did not run: the student typed it by hand, or skipped it (`guide`). */
  async recordByHand(step: Step, how: 'typed' | 'skipped', hash: string): Promise<void> {
    this.state.steps[step.id] = {
      status: 'skipped',
      host: step.host,
      exitCode: null,
      timedOut: false,
      durationMs: 0,
      attempts: 0,
      hash,
      finishedAt: new Date().toISOString(),
      how,
      message: how === 'typed' ? 'typed by the student (the stage checks decide)' : 'skipped by the student',
    };
    await this.saveState();
  }

  /** Record how a stage's checks last ended. */
  async recordStageChecks(stageId: string, checks: StageState['checks']): Promise<void> {
    this.state.stages = { ...this.state.stages, [stageId]: { checks, at: new Date().toISOString() } };
    await this.saveState();
  }

  /** Finish: status, duration, counts and the failed step in run.json (no process holds it any more). */
  async finish(update: Partial<RunSummary>): Promise<void> {
    const { pid: _pid, machine: _machine, ...rest } = { ...this.summary, ...update, endedAt: new Date().toISOString() };
    this.summary = rest;
    await this.saveSummary();
  }

  /**
   * Who holds a run folder: `busy` while the stackcheck process that runs it is alive (on this machine), `stale` when
   * its run.json still says running but that process is gone (killed: its remote steps may still run), else free.
   */
  static async holder(dir: string): Promise<{ state: 'free' } | { state: 'busy' | 'stale'; pid: number; since: string; runId: string }> {
    let s: RunSummary;
    try {
      s = JSON.parse(await readFile(join(resolve(dir), 'run.json'), 'utf8')) as RunSummary;
    } catch {
      return { state: 'free' };
    }
    // (this very process: a session it opened before, which it owns; grading runs many in one process)
    if (s.status !== 'running' || !s.pid || s.pid === process.pid) return { state: 'free' };
    // Another machine's process cannot be looked at: taken as alive.
    const alive = (s.machine !== undefined && s.machine !== hostname()) || processAlive(s.pid);
    return { state: alive ? 'busy' : 'stale', pid: s.pid, since: s.startedAt, runId: s.runId };
  }

  /** Mark a run folder whose process died as interrupted. */
  static async markInterrupted(dir: string, note: string): Promise<void> {
    const file = join(resolve(dir), 'run.json');
    const s = JSON.parse(await readFile(file, 'utf8')) as RunSummary;
    const { pid: _pid, machine: _machine, ...rest } = s;
    const out: RunSummary = { ...rest, status: 'interrupted', endedAt: new Date().toISOString(), note };
    await writeAtomic(file, `${JSON.stringify(out, null, 2)}\n`);
  }

  readSummary(): RunSummary {
    return this.summary;
  }

  private saveState(): Promise<void> {
    return writeAtomic(join(this.dir, 'state.json'), `${JSON.stringify(this.state, null, 2)}\n`);
  }

  private saveSummary(): Promise<void> {
    return writeAtomic(join(this.dir, 'run.json'), `${JSON.stringify(this.summary, null, 2)}\n`);
  }
}

// Replace reports/latest atomically (symlink to a temp name, then rename over it).
async function pointLatest(reportsDir: string, runId: string): Promise<void> {
  const tmp = join(reportsDir, `.latest.${process.pid}.${randomBytes(3).toString('hex')}`);
  try {
    await symlink(runId, tmp);
    await rename(tmp, join(reportsDir, 'latest'));
  } catch {
    await unlink(tmp).catch(() => undefined);
  }
}
