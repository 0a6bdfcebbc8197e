// Allure results for a run: an EventBus plugin that writes one Allure test per executed step
// (command and output attached), plus environment info and categories. Everything goes through the run's Redactor.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ContentType, Stage as AllureStage, Status, type Label, type Parameter } from 'allure-js-commons';
import type { EnvironmentInfo } from 'allure-js-commons/sdk';
import { FileSystemWriter, ReporterRuntime, type Writer } from 'allure-js-commons/sdk/reporter';
import type { EventBus, RunEvent, StepResult } from '../log.js';
import type { Redactor } from '../redact.js';
import type { Stage, Step } from '../runner/types.js';
import type { Inventory } from '../inventory/types.js';
import type { CheckResult } from '../checks/types.js';
import { describeExitCode, findErrors, formatLocation } from '../error.js';
import { RedactingWriter } from './redact-results.js';
import { CATEGORIES, checkDescription, checkMessage, historyKey, scopeLabels, type ResultScope } from './allure-labels.js';
import { cleanOutput, oneLine } from './text.js';

/** What the report says about the run as a whole. */
export interface AllureRunContext {
  /** Folder the Allure results go to (`reports/<run>/allure-results`). */
  resultsDir: string;
  redactor: Redactor;
  /** Tutorial title (epic) and where it was read from. */
  tutorial: string;
  tutorialSource?: string;
  /** The tutorial's alternatives the run took (`storage=ceph`). */
  variants?: { name: string; value: string }[];
  inventory: Pick<Inventory, 'name' | 'hosts'>;
  /** stackcheck version. */
  version: string;
  runId: string;
  /** The tutorial's stages in order: numbers stages the same way for steps and checks, whatever `--from` says. */
  stages?: { id: string; title: string }[];
}

// Environment widget: which tutorial, which deployment, which machines, which tool version.
export function environmentInfo(ctx: AllureRunContext): EnvironmentInfo {
  const hosts = Object.values(ctx.inventory.hosts)
    .map((h) => `${h.role}=${h.user}@${h.address}:${h.port}`)
    .join(', ');
  return {
    tutorial: ctx.tutorial,
    ...(ctx.tutorialSource ? { 'tutorial.source': ctx.tutorialSource } : {}),
    ...Object.fromEntries((ctx.variants ?? []).map((v) => [`variant.${v.name}`, v.value])),
    inventory: ctx.inventory.name,
    'target.hosts': hosts,
    'stackcheck.version': ctx.version,
    'run.id': ctx.runId,
  };
}

// The display name of a step: where it is in the tutorial and what it does, on one line.
export function stepTitle(step: Step): string {
  const what = step.kind === 'shell' ? oneLine(step.command, 100) : `edit ${step.path} (${step.mode})`;
  return `${step.id} · ${what}`;
}

// A step's outcome in Allure terms: a non-zero exit is a failure; no exit status at all (connection lost) is broken.
function stepStatus(result: StepResult): Status {
  if (result.status === 'passed') return Status.PASSED;
  if (result.status === 'skipped') return Status.SKIPPED;
  return result.exitCode === null && !result.timedOut ? Status.BROKEN : Status.FAILED;
}

// One line a student reads first: which step, where, what happened.
export function stepFailureMessage(step: Step, result: StepResult): string {
  const why = result.message ?? (result.timedOut ? 'timed out' : describeExitCode(result.exitCode, result.signal));
  return `Step ${step.id} on ${step.host} failed (${formatLocation(step.loc)}): ${why}`;
}

/** Writes Allure results for one run; not shared between runs. */
export class AllureRunWriter {
  private readonly runtime: ReporterRuntime;
  private readonly stages = new Map<string, { title: string; index: number }>();
  private readonly started = new Map<string, number>();
  /** History ids already in the results folder (an earlier attempt of this run, before `--resume`). */
  private readonly earlier: Set<string>;

  constructor(
    private readonly ctx: AllureRunContext,
    writer: Writer = new FileSystemWriter({ resultsDir: ctx.resultsDir }),
  ) {
    for (const st of ctx.stages ?? []) this.stageStarted(st);
    this.earlier = existingHistoryIds(ctx.resultsDir);
    this.runtime = new ReporterRuntime({
      writer: new RedactingWriter(writer, ctx.redactor),
      environmentInfo: environmentInfo(ctx),
      categories: CATEGORIES,
    });
  }

  /** Environment and categories files (once per results folder). */
  writeRunInfo(): void {
    this.runtime.writeEnvironmentInfo();
    this.runtime.writeCategoriesDefinitions();
  }

  // Stages are numbered in the order they start, which is tutorial order.
  stageStarted(stage: Pick<Stage, 'id' | 'title'>): void {
    if (this.stages.has(stage.id)) return;
    const pos = this.ctx.stages?.findIndex((s) => s.id === stage.id) ?? -1;
    this.stages.set(stage.id, { title: stage.title, index: pos >= 0 ? pos + 1 : this.stages.size + 1 });
  }

  stepStarted(step: Step): void {
    if (!this.started.has(step.id + step.host)) this.started.set(step.id + step.host, Date.now());
  }

  private scope(stageId: string, host: string): ResultScope {
    const st = this.stages.get(stageId);
    return {
      tutorial: this.ctx.tutorial,
      inventory: this.ctx.inventory.name,
      stage: stageId,
      stageTitle: st?.title ?? stageId,
      ...(st ? { stageIndex: st.index } : {}),
      host,
    };
  }

  /** One Allure test for a finished (or skipped) step. */
  writeStep(step: Step, result: StepResult, skipReason?: string): void {
    const historyId = historyKey(this.ctx.inventory.name, step.id, step.host);
    // A step skipped on --resume already has its result from the attempt that ran it: keep that one.
    if (skipReason && this.earlier.has(historyId)) return;
    const key = step.id + step.host;
    const stop = Date.now();
    const start = this.started.get(key) ?? stop - result.durationMs;
    this.started.delete(key);
    const address = this.ctx.inventory.hosts[step.host]?.address;
    const labels: Label[] = [
      ...scopeLabels(this.scope(step.stage, step.host), 'step', step.host),
      { name: 'severity', value: 'critical' },
      { name: 'tag', value: step.kind === 'shell' ? 'shell' : `file:${step.mode}` },
    ];
    const parameters: Parameter[] = [
      { name: 'host', value: address ? `${step.host} (${address})` : step.host },
      { name: 'inventory', value: this.ctx.inventory.name },
    ];
    if (result.attempts > 1) parameters.push({ name: 'attempts', value: String(result.attempts), excluded: true });
    if (result.exitCode !== null) parameters.push({ name: 'exit code', value: String(result.exitCode), excluded: true });
    const status = skipReason ? Status.SKIPPED : stepStatus(result);
    const uuid = this.runtime.startTest({
      name: stepTitle(step),
      fullName: `${this.ctx.inventory.name}/${step.id}@${step.host}`,
      start,
      testCaseId: historyKey(step.id, step.host),
      historyId,
    });
    this.runtime.updateTest(uuid, (r) => {
      r.labels.push(...labels);
      r.parameters.push(...parameters);
      r.description = stepDescription(step);
      r.status = status;
      r.stage = AllureStage.FINISHED;
      if (skipReason) r.statusDetails = { message: `Step ${step.id} skipped: ${skipReason}` };
      else if (status !== Status.PASSED) {
        const output = cleanOutput(`${result.stderr}\n${result.stdout}`);
        r.statusDetails = {
          message: `${stepFailureMessage(step, result)}\nFix: correct the cause shown in the output, then resume with \`stackcheck run … --resume\`.`,
          trace: findErrors(output, 12).join('\n'),
        };
      }
    });
    const attach = (name: string, body: string, type: ContentType | string, ext: string): void => {
      this.runtime.writeAttachment(uuid, null, name, Buffer.from(body, 'utf8'), { contentType: type, fileExtension: ext });
    };
    if (step.kind === 'shell') {
      attach('command', step.command, 'text/plain', '.sh.txt');
      if (step.input) attach('input (stdin)', step.input, ContentType.TEXT, '.txt');
    } else {
      attach(`${step.path} (${step.mode})`, step.content, ContentType.TEXT, '.txt');
    }
    if (result.stdout) attach('stdout', cleanOutput(result.stdout), ContentType.TEXT, '.txt');
    if (result.stderr) attach('stderr', cleanOutput(result.stderr), ContentType.TEXT, '.txt');
    this.runtime.stopTest(uuid, { stop: Math.max(stop, start + result.durationMs) });
    this.runtime.writeTest(uuid);
  }

  /** One Allure test for a check result (for checks not run under allure-vitest, e.g. re-reported results). */
  writeCheck(result: CheckResult): void {
    const stop = Date.now();
    const start = stop - result.durationMs;
    const stageId = result.stage ?? result.remedy.stage;
    const uuid = this.runtime.startTest({
      name: `[${result.id}] ${result.title}`,
      fullName: `${this.ctx.inventory.name}/${result.id}@${result.host}`,
      start,
      testCaseId: historyKey(result.id, result.host),
      historyId: historyKey(this.ctx.inventory.name, result.id, result.host),
    });
    this.runtime.updateTest(uuid, (r) => {
      r.labels.push(...scopeLabels(this.scope(stageId, result.host), 'check', result.component));
      r.labels.push({ name: 'severity', value: result.severity }, { name: 'tag', value: result.id }, { name: 'checkId', value: result.id });
      r.parameters.push({ name: 'host', value: result.host }, { name: 'inventory', value: this.ctx.inventory.name });
      r.description = checkDescription(result);
      r.status = result.status as Status;
      r.stage = AllureStage.FINISHED;
      if (result.status !== 'passed') r.statusDetails = { message: checkMessage(result) };
    });
    for (const e of result.evidence) {
      this.runtime.writeAttachment(uuid, null, e.name, Buffer.from(e.body, 'utf8'), {
        contentType: e.contentType,
        fileExtension: e.contentType === 'application/json' ? '.json' : '.txt',
      });
    }
    this.runtime.stopTest(uuid, { stop });
    this.runtime.writeTest(uuid);
  }

  /** Feed one runner event. */
  handle(event: RunEvent): void {
    switch (event.kind) {
      case 'run-start':
        this.writeRunInfo();
        break;
      case 'stage-start':
        this.stageStarted(event.stage);
        break;
      case 'step-start':
        this.stepStarted(event.step);
        break;
      case 'step-end':
        this.writeStep(event.step, event.result);
        break;
      case 'step-skip':
        this.writeStep(event.step, skippedResult(event.step), event.reason);
        break;
      default:
        break;
    }
  }
}

// History ids of the results already written in a folder (none when it does not exist yet).
function existingHistoryIds(dir: string): Set<string> {
  const ids = new Set<string>();
  if (!existsSync(dir)) return ids;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('-result.json'))) {
    try {
      const id = (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { historyId?: string }).historyId;
      if (id) ids.add(id);
    } catch {
      // a half-written result of an interrupted run: ignore it
    }
  }
  return ids;
}

// A skipped step has no output; Allure still lists it so the report shows the whole stage.
function skippedResult(step: Step): StepResult {
  return { stepId: step.id, host: step.host, status: 'skipped', exitCode: null, timedOut: false, durationMs: 0, stdout: '', stderr: '', attempts: 0 };
}

// Markdown shown at the top of a step: where it comes from and what ran.
function stepDescription(step: Step): string {
  const who = step.user ? `as ${step.user}` : step.root ? 'as root' : 'as the SSH user';
  const body = step.kind === 'shell' ? '```sh\n' + step.command + '\n```' : '```ini\n' + step.content + '\n```';
  return `Tutorial ${formatLocation(step.loc)}, on **${step.host}** ${who}.\n\n${body}`;
}

/** Subscribe an Allure writer to a run's events; returns the unsubscribe function. */
export function attachAllure(bus: EventBus, ctx: AllureRunContext): { writer: AllureRunWriter; detach: () => void } {
  const writer = new AllureRunWriter(ctx);
  const detach = bus.on((e) => writer.handle(e));
  return { writer, detach };
}
