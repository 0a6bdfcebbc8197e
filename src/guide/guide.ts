// `stackcheck guide`: the tutorial stage by stage, step by step, in the student's terminal. Each stage opens with the
// tutorial's own explanation; each step is shown (host, source line, command; secrets as `{{ NAME }}`) and the student
// runs it, types it by hand, skips it, reads its expected output, goes back or quits; each stage ends with its
// checks, re-run as often as the student likes. Progress is the run folder's state (as `run`'s), so a later `guide`
// continues where this one stopped. Built on the engine's session: the same steps, checks, events and reports.
import pc from 'picocolors';
import wrapAnsi from 'wrap-ansi';
import { ExitPromptError } from '@inquirer/core';
import { ExitCode, StackcheckError } from '../error.js';
import { EventBus, type RunEvent, type StepResult } from '../log.js';
import { failureBlock, stepSummary, terminalReporter } from '../report/terminal.js';
import { neutralizeControl } from '../report/text.js';
import { prepareRun } from '../engine/run-tutorial.js';
import { RunSession, type PreparedRun } from '../engine/session.js';
import type { Stage, Step } from '../runner/types.js';
import { choose, type Choice } from './choose.js';
import { renderMarkdown } from './render.js';
import { stageIntro, stageMarkdown } from './stage-text.js';
import { resumePosition, stepBack, type Position } from './progress.js';
import { displayStep, runsAs, secretsIn, stepCard, typingInstructions } from './step-text.js';

export interface GuideOptions {
  tutorial: string;
  /** Inventory file; absent: the local lab (as `run`). */
  inventory?: string;
  secrets?: string;
  /** Start at this stage (progress kept). */
  from?: string;
  /** `NAME=VALUE`: the tutorial's alternatives to take. */
  variants?: string[];
  /** Start a new session instead of continuing the latest. */
  restart?: boolean;
  /** Never run anything: the student types every step, the checks decide. */
  manual?: boolean;
  reports: string;
  acceptNewHostKeys?: boolean;
  color?: boolean;
  /** The terminal (default: the process's stdin and stdout). */
  input?: NodeJS.ReadStream;
  output?: NodeJS.WriteStream;
}

type Turn = 'next' | 'back' | 'quit';

/** Interrupted with Ctrl-C: the progress is saved, the step stopped. */
class Interrupted extends Error {}

// Events the terminal reporter shows in the guide: a step's run and a stage's checks. Stage and run framing is the
// guide's own (it goes back and forth), and skips are said by the guide as they happen.
const SHOWN: ReadonlySet<RunEvent['kind']> = new Set(['step-start', 'step-output', 'step-end', 'checks-start', 'check-result', 'checks-end', 'warn']);

/** Guide the student through the tutorial; returns the exit code. */
export async function runGuide(opts: GuideOptions): Promise<number> {
  const input = opts.input ?? process.stdin;
  const output = opts.output ?? process.stdout;
  if (!input.isTTY || !output.isTTY) {
    throw new StackcheckError('E_ARGS', 'stackcheck guide needs a terminal: it asks what to do at every step (stdin and stdout must be a TTY)', {
      hint: `to install the tutorial unattended, use: stackcheck run ${opts.tutorial}`,
    });
  }
  const color = opts.color ?? (!('NO_COLOR' in process.env) && process.env.TERM !== 'dumb');
  const c = pc.createColors(color);
  const write = (s: string): void => void output.write(s);
  const bus = new EventBus();
  const screen = new EventBus();
  bus.on((e) => SHOWN.has(e.kind) && screen.emit(e));
  bus.on((e) => e.kind === 'info' && write(c.dim(`${e.message}\n`)));
  const offTerminal = terminalReporter(screen, { out: output, color });

  const prepared = await prepareRun({ tutorial: opts.tutorial, reports: opts.reports, bus, ...(opts.inventory ? { inventory: opts.inventory } : {}), ...(opts.secrets ? { secrets: opts.secrets } : {}), ...(opts.from ? { from: opts.from } : {}), ...(opts.variants ? { variants: opts.variants } : {}) });
  const session = await RunSession.open(prepared, {
    reports: opts.reports,
    bus,
    mode: 'guide',
    ...(opts.restart ? {} : { resume: true }),
    ...(opts.acceptNewHostKeys ? { acceptNewHostKeys: true } : {}),
  });
  const guide = new Guide(prepared, session, bus, { ...opts, color, write, input, output, width: Math.max(40, Math.min(output.columns || 80, 120)) });
  // Ctrl-C while a step runs (the terminal is not in raw mode then): stop the step on its host, then leave.
  const onSigint = (): void => guide.interrupt();
  process.on('SIGINT', onSigint);
  let code: number;
  try {
    code = await guide.go();
  } catch (err) {
    if (!(err instanceof Interrupted) && !(err instanceof ExitPromptError)) throw err;
    write(`\n${c.yellow('interrupted:')} ${guide.savedLine()}\n`);
    code = 130;
  } finally {
    process.off('SIGINT', onSigint);
    await session.runDir?.finish({ status: guide.finished ? (guide.allPassed ? 'passed' : 'failed') : 'paused' });
    const reports = await session.close({ color, out: guide.finished ? output : null });
    offTerminal();
    if (session.runDir && !guide.finished) write(c.dim(`run folder: ${session.runDir.dir}${reports?.report ? ` (report: ${reports.report.singleFile})` : ''}\n`));
  }
  return code;
}

interface GuideIo extends GuideOptions {
  color: boolean;
  write: (s: string) => void;
  input: NodeJS.ReadStream;
  output: NodeJS.WriteStream;
  width: number;
}

class Guide {
  finished = false;
  allPassed = true;
  private readonly c: ReturnType<typeof pc.createColors>;
  private readonly stages: Stage[];
  private readonly introShown = new Set<number>();
  private stageStarted = new Map<number, number>();
  private step: AbortController | undefined;
  private interrupted = false;

  constructor(
    private readonly prepared: PreparedRun,
    private readonly session: RunSession,
    private readonly bus: EventBus,
    private readonly io: GuideIo,
  ) {
    this.c = pc.createColors(io.color);
    this.stages = prepared.plan.tutorial.stages;
  }

  /**
   * Ctrl-C outside a prompt: stop the running step on its host (its process group is killed); checks being run are
   * let finish (they clean up what they create). The guide then saves and leaves. A second Ctrl-C leaves at once.
   */
  interrupt(): void {
    if (this.interrupted) process.exit(130);
    this.interrupted = true;
    if (this.step) this.step.abort();
    else this.io.write(this.c.yellow('\ninterrupted: leaving once the running checks end (Ctrl-C again to leave at once)\n'));
  }

  private leaveIfInterrupted(): void {
    if (this.interrupted) throw new Interrupted();
  }

  savedLine(): string {
    const again = ['stackcheck guide', this.io.tutorial, ...(this.io.inventory ? ['--inventory', this.io.inventory] : []), ...(this.io.manual ? ['--manual'] : [])].join(' ');
    return `progress saved; to go on where you stopped: ${again}`;
  }

  async go(): Promise<number> {
    const state = this.session.runDir?.state;
    let pos = resumePosition(this.stages, state, this.io.from);
    const { write } = this.io;
    const { tutorial, inventory } = this.prepared.plan;
    this.bus.emit({
      kind: 'run-start',
      runId: this.session.runId,
      runDir: this.session.runDir?.dir ?? '',
      tutorial: tutorial.source,
      inventory: inventory.file,
      stages: tutorial.stages.length,
      steps: tutorial.stages.reduce((n, st) => n + st.steps.length, 0),
    });
    write(`${this.c.bold(`stackcheck guide: ${this.prepared.tutorial.title ?? this.prepared.tutorial.source}`)}${this.c.dim(` (${this.stages.length} stages, inventory ${this.prepared.plan.inventory.file})`)}\n`);
    if (this.io.manual) write(this.c.dim('manual mode: you type every step yourself; the checks after each stage decide.\n'));
    if (pos && state && Object.keys(state.steps).length > 0 && !this.io.from) {
      const stage = this.stages[pos.stage] as Stage;
      write(this.c.dim(`continuing where you stopped: stage ${pos.stage + 1} (${stage.title}), ${pos.step < stage.steps.length ? `step ${pos.step + 1}` : 'its checks'}\n`));
    }
    while (pos && pos.stage < this.stages.length) {
      this.leaveIfInterrupted();
      const stage = this.stages[pos.stage] as Stage;
      if (!this.introShown.has(pos.stage)) await this.openStage(pos.stage);
      let turn: Turn;
      if (pos.step < stage.steps.length) turn = await this.stepTurn(stage, pos.step);
      else turn = await this.checksTurn(stage, pos.stage);
      if (turn === 'quit') {
        write(`${this.savedLine()}\n`);
        return ExitCode.ok;
      }
      pos = turn === 'back' ? stepBack(this.stages, pos) : advance(this.stages, pos);
    }
    this.finished = true;
    this.bus.emit({ kind: 'run-end', status: this.allPassed ? 'passed' : 'failed', durationMs: 0 });
    write(`\n${this.allPassed ? this.c.green(this.c.bold('✔ You have reached the end of the tutorial: every stage passed its checks.')) : this.c.yellow(this.c.bold('You have reached the end of the tutorial, but some stages went on with failing checks (see the table).'))}\n`);
    return this.allPassed ? ExitCode.ok : ExitCode.failed;
  }

  // A stage's heading, the tutorial's explanation, and what the stage will do on which hosts.
  private async openStage(index: number): Promise<void> {
    this.introShown.add(index);
    this.stageStarted.set(index, Date.now());
    const stage = this.stages[index] as Stage;
    const { write, width, color } = this.io;
    this.bus.emit({ kind: 'stage-start', stage: this.shownStage(stage) });
    write(`\n${this.c.bold(this.c.cyan(`═══ Stage ${index + 1} of ${this.stages.length}: ${stage.title}`))} ${this.c.dim(`(${stage.id})`)}\n\n`);
    const intro = stageIntro(await stageMarkdown(this.prepared.tutorial, stage.id));
    if (intro) write(`${renderMarkdown(intro, { width, color }).trimEnd()}\n\n`);
    const raw = this.rawStage(index);
    if (stage.steps.length > 0) {
      write(this.c.bold('This stage will:\n'));
      raw.steps.forEach((st, i) => write(`${fit(`  ${i + 1}. [${st.host}] ${neutralizeControl(stepSummary(this.display(st)))}`, width)}\n`));
    } else write(this.c.bold('This stage has no steps to run.\n'));
    if (stage.checks.length > 0) write(`${wrapAnsi(`${this.c.bold('Then its checks:')} ${stage.checks.join(', ')}`, width - 1, { hard: true })}\n`);
  }

  // The stage as reporters see it (secrets masked in its steps).
  private shownStage(stage: Stage): Stage {
    return { ...stage, steps: stage.steps.map((st) => this.session.shown(st)) };
  }

  private rawStage(index: number): Stage {
    return this.prepared.tutorial.stages[index] as Stage;
  }

  private display(raw: Step): Step {
    return displayStep(raw, this.prepared.plan.inventory);
  }

  private as(step: Step): string {
    return runsAs(step, this.prepared.plan.inventory.hosts[step.host]?.user);
  }

  private ask<T extends string>(message: string, choices: Choice<T>[], dflt?: T): Promise<T> {
    return choose({ message, choices, color: this.io.color, width: this.io.width, ...(dflt ? { default: dflt } : {}) }, { input: this.io.input, output: this.io.output });
  }

  // One step: shown, then the student's choice.
  private async stepTurn(stage: Stage, n: number): Promise<Turn> {
    const index = this.stages.indexOf(stage);
    const step = stage.steps[n] as Step;
    const shown = this.display(this.rawStage(index).steps[n] as Step);
    const as = this.as(step);
    const { write } = this.io;
    const card = stepCard(shown, n + 1, stage.steps.length, as);
    // A file step's first line says what to do with the file (prose: wrapped); commands are shown as written.
    const [first = '', ...rest] = card.body.split('\n');
    const body = shown.kind === 'file' ? [wrapAnsi(first, this.io.width - 1, { hard: true }), ...rest].join('\n') : card.body;
    write(`\n${this.c.bold(card.header)}\n${this.c.yellow(neutralizeControl(body))}\n`);
    const secrets = secretsIn(this.rawStage(index).steps[n] as Step, this.prepared.plan.inventory);
    if (this.io.manual) return this.typeTurn(step, shown, as, secrets, true);
    for (;;) {
      const choice = await this.ask('What now?', [
        { key: 'r', label: 'run it', value: 'run' },
        { key: 't', label: 'type it myself', value: 'type' },
        { key: 's', label: 'skip', value: 'skip' },
        { key: 'e', label: 'expected output', value: 'expected' },
        { key: 'b', label: 'back', value: 'back' },
        { key: 'q', label: 'quit', value: 'quit' },
      ] as const);
      switch (choice) {
        case 'run':
          return this.runTurn(step, shown, as, secrets);
        case 'type':
          return this.typeTurn(step, shown, as, secrets, false);
        case 'skip':
          await this.session.recordByHand(step, 'skipped');
          write(this.c.dim(`skipped ${step.id}\n`));
          return 'next';
        case 'expected':
          this.showExpected(shown);
          break;
        default:
          return choice;
      }
    }
  }

  private showExpected(shown: Step): void {
    const out = shown.kind === 'shell' ? shown.output : undefined;
    if (out && out.trim()) this.io.write(`${this.c.bold('The tutorial shows this output:')}\n${this.c.dim(neutralizeControl(out.replace(/\n$/, '')).replace(/^/gm, '    '))}\n`);
    else this.io.write(this.c.dim(shown.kind === 'file' ? 'a file edit prints nothing; the stage checks read the file.\n' : 'the tutorial shows no output for this step.\n'));
  }

  // The guide runs the step; on failure: the exit code, the error lines, and retry / type / skip / quit.
  private async runTurn(step: Step, shown: Step, as: string, secrets: string[]): Promise<Turn> {
    for (;;) {
      const result = await this.runStep(step);
      if (result.status === 'passed') return 'next';
      this.io.write(failureBlock(this.session.shown(step), result, this.c, undefined, this.session.runDir?.dir));
      const choice = await this.ask('The step failed. Now?', [
        { key: 'r', label: 'retry', value: 'retry' },
        { key: 't', label: 'type it myself', value: 'type' },
        { key: 's', label: 'skip', value: 'skip' },
        { key: 'q', label: 'quit', value: 'quit' },
      ] as const);
      if (choice === 'retry') continue;
      if (choice === 'type') return this.typeTurn(step, shown, as, secrets, false);
      if (choice === 'skip') {
        await this.session.recordByHand(step, 'skipped');
        return 'next';
      }
      return 'quit';
    }
  }

  private async runStep(step: Step): Promise<StepResult> {
    this.step = new AbortController();
    try {
      const result = await this.session.runStep(step, this.step.signal);
      if (this.interrupted) throw new Interrupted();
      return result;
    } finally {
      this.step = undefined;
    }
  }

  // The student types the step on the host; the guide waits.
  private async typeTurn(step: Step, shown: Step, as: string, secrets: string[], manual: boolean): Promise<Turn> {
    const how = typingInstructions(shown, as, secrets);
    this.io.write(`${this.c.bold(how.where)} ${this.c.dim('(as shown above)')}${how.note ? `\n${this.c.dim(how.note)}` : ''}\n`);
    for (;;) {
      const choice = await this.ask(manual ? 'Type it on the host. Then?' : 'Type it on the host, then come back. Then?', [
        { key: 'd', label: 'done', value: 'done' },
        ...(manual ? [{ key: 's', label: 'skip', value: 'skip' } as const, { key: 'e', label: 'expected output', value: 'expected' } as const] : []),
        { key: 'b', label: 'back', value: 'back' },
        { key: 'q', label: 'quit', value: 'quit' },
      ] as const);
      if (choice === 'expected') {
        this.showExpected(shown);
        continue;
      }
      if (choice === 'done' || choice === 'skip') {
        await this.session.recordByHand(step, choice === 'done' ? 'typed' : 'skipped');
        this.io.write(this.c.dim(`${choice === 'done' ? 'typed by hand' : 'skipped'}: ${step.id}\n`));
        return 'next';
      }
      // back from typing a guided step: to its choices again (the same step), not the step before
      if (choice === 'back' && !manual) return this.stepTurnAgain(step);
      return choice;
    }
  }

  private stepTurnAgain(step: Step): Promise<Turn> {
    const stage = this.stages.find((s) => s.id === step.stage) as Stage;
    return this.stepTurn(stage, stage.steps.indexOf(step));
  }

  // The stage's checks, as often as the student wants, until they pass or the student goes on.
  private async checksTurn(stage: Stage, index: number): Promise<Turn> {
    const { write } = this.io;
    const runDir = this.session.runDir;
    const end = async (status: 'passed' | 'failed'): Promise<void> => {
      this.bus.emit({ kind: 'stage-end', stage: this.shownStage(stage), status, durationMs: Date.now() - (this.stageStarted.get(index) ?? Date.now()) });
    };
    if (stage.checks.length === 0) {
      write(this.c.dim(`\nstage ${stage.id} declares no checks: nothing to verify here.\n`));
      await runDir?.recordStageChecks(stage.id, 'passed');
      await end('passed');
      return 'next';
    }
    for (;;) {
      write(`\n${this.c.bold(`Checking stage ${index + 1}: ${stage.title}`)}\n`);
      const verdict = await this.session.checkStage(stage);
      this.leaveIfInterrupted();
      if (verdict.ok) {
        write(this.c.green(this.c.bold(`✔ stage ${stage.id}: every check passed\n`)));
        await runDir?.recordStageChecks(stage.id, 'passed');
        await end('passed');
        return 'next';
      }
      await runDir?.recordStageChecks(stage.id, 'failed');
      write(`${this.c.red(this.c.bold(`✘ ${verdict.message ?? 'some checks failed'}`))}\n${this.c.dim('Fix what they name (in another terminal, on the hosts; the fix: line says where to read), then re-check.')}\n`);
      const choice = await this.ask('Now?', [
        { key: 'c', label: 're-check', value: 'recheck' },
        { key: 'b', label: "back to the stage's steps", value: 'back' },
        { key: 'n', label: 'go on anyway', value: 'next' },
        { key: 'q', label: 'quit', value: 'quit' },
      ] as const);
      if (choice === 'recheck') continue;
      if (choice === 'next') {
        this.allPassed = false;
        await runDir?.recordStageChecks(stage.id, 'waived');
        await end('failed');
        return 'next';
      }
      return choice;
    }
  }
}

// The place after `pos`: the next step, the stage's checks, or the next stage's first step.
function advance(stages: readonly Stage[], pos: Position): Position {
  const stage = stages[pos.stage] as Stage;
  if (pos.step < stage.steps.length) return { stage: pos.stage, step: pos.step + 1 };
  return { stage: pos.stage + 1, step: 0 };
}

// One line cut to the terminal's width (with … when cut).
function fit(line: string, width: number): string {
  return line.length <= width - 1 ? line : `${line.slice(0, width - 2)}…`;
}
