// The run summary: reports/<run>/summary.json for scripts, and the end-of-run table for people.
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pc from 'picocolors';
import type { EventBus, RunEvent, StepResult } from '../log.js';
import type { Redactor } from '../redact.js';
import type { Step } from '../runner/types.js';
import type { CheckResult, CheckStatus } from '../checks/types.js';
import { describeExitCode, formatLocation } from '../error.js';
import { redactDeep } from './redact-results.js';
import { oneLine } from './text.js';

export interface CheckSummary {
  id: string;
  host: string;
  stage: string;
  status: CheckStatus;
  durationMs: number;
  message: string;
  severity: CheckResult['severity'];
  remedy?: CheckResult['remedy'];
}

export interface StageSummary {
  id: string;
  title: string;
  status: 'passed' | 'failed' | 'skipped' | 'not-run';
  durationMs: number;
  steps: { passed: number; failed: number; skipped: number };
  checks: { passed: number; failed: number; broken: number; skipped: number };
}

export interface Failure {
  kind: 'step' | 'check';
  id: string;
  host: string;
  stage: string;
  status: string;
  message: string;
  remedy?: string;
  /** Tutorial stage the remedy points to (checks). */
  remedyStage?: string;
  location?: string;
}

/** The shape of summary.json (stable: scripts and the grader read it). */
export interface RunSummary {
  runId: string;
  tutorial: string;
  inventory: string;
  status: 'passed' | 'failed' | 'running';
  startedAt: string;
  durationMs: number;
  counts: {
    steps: { total: number; passed: number; failed: number; skipped: number };
    checks: { total: number; passed: number; failed: number; broken: number; skipped: number };
  };
  stages: StageSummary[];
  checks: CheckSummary[];
  failures: Failure[];
  /** Where the HTML report is, once built. */
  report?: { html?: string; singleFile?: string };
}

const emptyStage = (id: string, title: string): StageSummary => ({
  id,
  title,
  status: 'not-run',
  durationMs: 0,
  steps: { passed: 0, failed: 0, skipped: 0 },
  checks: { passed: 0, failed: 0, broken: 0, skipped: 0 },
});

/** Collects one run's outcomes (from events and check results) into a RunSummary. */
export class SummaryCollector {
  private readonly stages = new Map<string, StageSummary>();
  private readonly checks = new Map<string, CheckSummary>();
  private readonly failures: Failure[] = [];
  private readonly steps = { total: 0, passed: 0, failed: 0, skipped: 0 };
  private status: RunSummary['status'] = 'running';
  private durationMs = 0;
  private readonly startedAt = new Date();

  private readonly meta: { runId: string; tutorial: string; inventory: string };

  // `stages` (tutorial order) lists stages that never start too, as `not-run`.
  constructor(meta: { runId: string; tutorial: string; inventory: string; stages?: { id: string; title: string }[] }) {
    this.meta = { runId: meta.runId, tutorial: meta.tutorial, inventory: meta.inventory };
    for (const s of meta.stages ?? []) this.stage(s.id, s.title);
  }

  private stage(id: string, title = id): StageSummary {
    let s = this.stages.get(id);
    if (!s) {
      s = emptyStage(id, title);
      this.stages.set(id, s);
    }
    return s;
  }

  // Feed one runner event.
  handle(event: RunEvent): void {
    switch (event.kind) {
      case 'stage-start':
        this.stage(event.stage.id, event.stage.title).title = event.stage.title;
        break;
      case 'check-result':
        this.addChecks([event.result]);
        break;
      case 'step-end':
        this.addStep(event.step, event.result);
        break;
      case 'step-skip':
        this.steps.total++;
        this.steps.skipped++;
        this.stage(event.step.stage).steps.skipped++;
        break;
      case 'stage-end': {
        const s = this.stage(event.stage.id, event.stage.title);
        s.status = event.status;
        s.durationMs = event.durationMs;
        break;
      }
      case 'run-end':
        this.status = event.status;
        this.durationMs = event.durationMs;
        break;
      default:
        break;
    }
  }

  addStep(step: Step, result: StepResult): void {
    this.steps.total++;
    this.steps[result.status]++;
    this.stage(step.stage).steps[result.status]++;
    if (result.status === 'failed') {
      this.failures.push({
        kind: 'step',
        id: step.id,
        host: step.host,
        stage: step.stage,
        status: 'failed',
        message: oneLine(result.message ?? (result.timedOut ? 'timed out' : describeExitCode(result.exitCode, result.signal)), 200),
        location: formatLocation(step.loc),
        remedy: 'fix the cause shown in the step output, then `stackcheck run … --resume`',
      });
    }
  }

  // Check results; the same id on another host is another result (id + host is the identity).
  addChecks(results: readonly CheckResult[]): void {
    for (const r of results) {
      const stage = r.stage ?? r.remedy.stage;
      const key = `${r.id}@${r.host}@${stage}`;
      const prev = this.checks.get(key);
      if (prev) this.stage(prev.stage).checks[prev.status]--;
      this.checks.set(key, {
        id: r.id,
        host: r.host,
        stage,
        status: r.status,
        durationMs: r.durationMs,
        message: oneLine(r.message, 300),
        severity: r.severity,
        ...(r.status === 'passed' ? {} : { remedy: r.remedy }),
      });
      this.stage(stage).checks[r.status]++;
      if (r.status === 'failed' || r.status === 'broken') {
        this.failures.push({ kind: 'check', id: r.id, host: r.host, stage, status: r.status, message: oneLine(r.message, 200), remedy: r.remedy.text, remedyStage: r.remedy.stage });
      }
    }
  }

  summary(): RunSummary {
    const checks = [...this.checks.values()];
    const count = (s: CheckStatus): number => checks.filter((c) => c.status === s).length;
    const failed = this.failures.length > 0;
    return {
      ...this.meta,
      status: this.status === 'running' ? 'running' : failed ? 'failed' : this.status,
      startedAt: this.startedAt.toISOString(),
      durationMs: this.durationMs,
      counts: {
        steps: { ...this.steps },
        checks: { total: checks.length, passed: count('passed'), failed: count('failed'), broken: count('broken'), skipped: count('skipped') },
      },
      stages: [...this.stages.values()],
      checks,
      failures: [...this.failures],
    };
  }

  attach(bus: EventBus): () => void {
    return bus.on((e) => this.handle(e));
  }
}

/** Write summary.json (redacted) into the run folder; returns its path. */
export function writeSummary(runDir: string, summary: RunSummary, redactor: Redactor): string {
  mkdirSync(runDir, { recursive: true });
  const file = join(runDir, 'summary.json');
  writeFileSync(file, JSON.stringify(redactDeep(summary, redactor), null, 2) + '\n');
  return file;
}

/** Colour only for a terminal, and never with NO_COLOR (https://no-color.org); FORCE_COLOR forces it. */
export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

function duration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));

/** The widest line of the end-of-run table: stage ids too long for it are shortened with '…'. */
export const TABLE_WIDTH = 100;
const STAGE_HEAD = 'Stage';
const STEPS_HEAD = 'Steps ok/fail/skip';
const CHECKS_HEAD = 'Checks ok/fail/broken';
const TIME_HEAD = 'Time';
// The stage column never gets narrower than this, however wide the counts are.
const MIN_STAGE_W = 20;

// `s` in at most `n` columns: cut, with '…' as its last column.
const shorten = (s: string, n: number): string => (s.length <= n ? s : `${s.slice(0, Math.max(0, n - 1))}…`);

/** The end-of-run table: stages, step and check counts, failures with reasons and remedies, where the report is. */
export function renderSummary(summary: RunSummary, opts: { color: boolean; reportHint?: string }): string {
  const c = pc.createColors(opts.color);
  const ok = opts.color ? c.green('✔') : 'ok  ';
  const bad = opts.color ? c.red('✘') : 'FAIL';
  const skip = opts.color ? c.dim('–') : 'skip';
  const markW = opts.color ? 1 : 4;
  const mark = (s: StageSummary): string =>
    s.status === 'failed' || s.checks.failed + s.checks.broken > 0 ? bad : s.status === 'passed' ? ok : skip;
  // Every column as wide as its widest cell; the stage column takes what is left of TABLE_WIDTH at most, so the
  // counts start at the same column on every row whatever the ids (the full ids: summary.json, `stackcheck plan`).
  const rows = summary.stages.map((s) => ({
    stage: s,
    steps: `${s.steps.passed}/${s.steps.failed}/${s.steps.skipped}`,
    checks: `${s.checks.passed}/${s.checks.failed}/${s.checks.broken}`,
    time: duration(s.durationMs),
  }));
  const stepsW = Math.max(STEPS_HEAD.length, ...rows.map((r) => r.steps.length));
  const checksW = Math.max(CHECKS_HEAD.length, ...rows.map((r) => r.checks.length));
  const timeW = Math.max(TIME_HEAD.length, ...rows.map((r) => r.time.length));
  const room = TABLE_WIDTH - (markW + 1) - 2 - stepsW - 2 - checksW - 2 - timeW;
  const stageW = Math.min(Math.max(STAGE_HEAD.length, ...rows.map((r) => r.stage.id.length)), Math.max(MIN_STAGE_W, room));
  const line = (first: string, stage: string, steps: string, checks: string, time: string): string =>
    `${first} ${pad(stage, stageW)}  ${pad(steps, stepsW)}  ${pad(checks, checksW)}  ${time.padStart(timeW)}`;
  const out: string[] = [];
  out.push(c.bold(line(' '.repeat(markW), STAGE_HEAD, STEPS_HEAD, CHECKS_HEAD, TIME_HEAD)));
  for (const r of rows) out.push(line(mark(r.stage), shorten(r.stage.id, stageW), r.steps, r.checks, r.time));
  if (rows.some((r) => r.stage.id.length > stageW)) out.push(c.dim('… marks a shortened stage id: summary.json and `stackcheck plan` show it in full'));
  const k = summary.counts;
  out.push('');
  out.push(
    `Steps: ${k.steps.passed} passed, ${k.steps.failed} failed, ${k.steps.skipped} skipped · ` +
      `Checks: ${c.green(`${k.checks.passed} passed`)}, ${c.red(`${k.checks.failed} failed`)}, ${c.yellow(`${k.checks.broken} broken`)}` +
      (summary.durationMs ? ` · ${duration(summary.durationMs)}` : ''),
  );
  if (summary.failures.length > 0) {
    out.push('', c.bold(c.red(`Failures (${summary.failures.length}):`)));
    for (const f of summary.failures) {
      const where = f.location ? ` (${f.location})` : '';
      out.push(`${bad} ${f.kind} ${c.bold(f.id)} on ${f.host}${where}: ${f.message}`);
      if (f.remedy) out.push(`    ${c.cyan('fix:')} ${f.remedyStage ? `(stage ${f.remedyStage}) ` : ''}${f.remedy}`);
    }
  }
  if (opts.reportHint) out.push('', opts.reportHint);
  return out.join('\n') + '\n';
}
