// A terminal reporter plugin: live output prefixed by host, one line per step start/end with its duration, and on
// failure a block saying which step failed, where, why, and the exact command to resume. Events arrive redacted.
import pc from 'picocolors';
import { describeExitCode, findErrors, formatLocation } from '../error.js';
import type { EventBus, RunEvent, StepResult } from '../log.js';
import type { Step } from '../runner/types.js';
import { neutralizeControl } from './text.js';
import { formatResult, summaryLine } from './check-lines.js';

export interface TerminalReporterOptions {
  /** Where to write (default process.stdout). */
  out?: { write(s: string): unknown; isTTY?: boolean };
  /** Force colour on/off; default: a TTY and no NO_COLOR. */
  color?: boolean;
  /** The command that resumes this run (printed after a failure). */
  resumeCommand?: string;
  /** Print the steps' output live (default true). */
  showOutput?: boolean;
  /** A spinner with elapsed time for a step that has been quiet this long (TTY only; default 1500 ms; 0 = off). */
  spinnerAfterMs?: number;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

// Seconds with one decimal, or milliseconds for quick steps.
function duration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

// The first line of what a step does, for one-line displays.
export function stepSummary(step: Step): string {
  if (step.kind === 'file') return `${step.mode === 'ini' ? 'edit' : step.mode} ${step.path}`;
  const first = step.command.split('\n')[0] ?? '';
  return step.command.includes('\n') ? `${first} …` : first;
}

// Subscribe to the bus; returns the unsubscribe function.
export function terminalReporter(bus: EventBus, opts: TerminalReporterOptions = {}): () => void {
  const out = opts.out ?? process.stdout;
  const enabled = opts.color ?? (Boolean(out.isTTY) && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb');
  const c = pc.createColors(enabled);
  // The spinner line is redrawn in place; anything else printed first erases it. Only on a real terminal.
  const spinAfter = opts.spinnerAfterMs ?? 1500;
  const spinning = spinAfter > 0 && out.isTTY === true && process.env.TERM !== 'dumb';
  let spinnerShown = false;
  let current: { step: Step; started: number; quietSince: number; frame: number } | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  const write = (s: string): void => {
    if (spinnerShown) {
      out.write('\r\u001b[K');
      spinnerShown = false;
    }
    if (current) current.quietSince = Date.now();
    out.write(s);
  };
  const tick = (): void => {
    if (!current || Date.now() - current.quietSince < spinAfter) return;
    const secs = Math.round((Date.now() - current.started) / 1000);
    const frame = FRAMES[current.frame++ % FRAMES.length] ?? '';
    out.write(`\r\u001b[K${c.cyan(frame)} ${c.dim(`[${current.step.host}] ${current.step.id} running ${secs}s`)}`);
    spinnerShown = true;
  };
  const startSpinner = (step: Step): void => {
    if (!spinning) return;
    current = { step, started: Date.now(), quietSince: Date.now(), frame: 0 };
    timer ??= setInterval(tick, Math.min(250, spinAfter));
    timer.unref();
  };
  const stopSpinner = (): void => {
    current = undefined;
    if (timer) clearInterval(timer);
    timer = undefined;
    if (spinnerShown) {
      out.write('\r\u001b[K');
      spinnerShown = false;
    }
  };
  let failed: { step: Step; result: StepResult } | undefined;
  let runDir = '';
  // Partial lines per step/stream, so prefixes land at the start of lines only.
  const partial = new Map<string, string>();

  const printOutput = (step: Step, stream: 'stdout' | 'stderr', text: string): void => {
    const key = `${step.id}\0${stream}`;
    const all = (partial.get(key) ?? '') + text;
    const lines = all.split('\n');
    partial.set(key, lines.pop() ?? '');
    const prefix = c.dim(`[${step.host}] `);
    // Remote bytes never drive the student's terminal (escape sequences, \r redraws): plain text only.
    for (const raw of lines) {
      const line = neutralizeControl(raw);
      write(`${prefix}${stream === 'stderr' ? c.yellow(line) : line}\n`);
    }
  };
  const flushOutput = (step: Step): void => {
    for (const stream of ['stdout', 'stderr'] as const) {
      const rest = partial.get(`${step.id}\0${stream}`);
      if (rest) printOutput(step, stream, '\n');
      partial.delete(`${step.id}\0${stream}`);
    }
  };

  const handle = (e: RunEvent): void => {
    switch (e.kind) {
      case 'run-start':
        runDir = e.runDir;
        write(c.bold(`stackcheck run ${e.runId}: ${e.stages} stages, ${e.steps} steps (${e.tutorial}, inventory ${e.inventory})\n`));
        if (e.runDir) write(c.dim(`run folder: ${e.runDir}\n`));
        break;
      case 'stage-start':
        write(`\n${c.bold(c.cyan(`== ${e.stage.title}`))} ${c.dim(`(${e.stage.id})`)}\n`);
        break;
      case 'step-start':
        stopSpinner();
        write(`${c.cyan('▶')} ${c.bold(`[${e.step.host}]`)} ${stepSummary(e.step)} ${c.dim(`${formatLocation(e.step.loc)}${e.attempt > 1 ? `, attempt ${e.attempt}` : ''}`)}\n`);
        startSpinner(e.step);
        break;
      case 'step-output':
        if (opts.showOutput !== false) printOutput(e.step, e.stream, e.text);
        break;
      case 'step-skip':
        write(c.dim(`- [${e.step.host}] ${stepSummary(e.step)}: skipped, ${e.reason}\n`));
        break;
      case 'step-end':
        stopSpinner();
        flushOutput(e.step);
        if (e.result.status === 'passed') write(`${c.green('✔')} ${c.dim(`[${e.step.host}] ${e.step.id} ${duration(e.result.durationMs)}`)}\n`);
        else {
          write(`${c.red('✘')} [${e.step.host}] ${e.step.id} ${c.red(e.result.message ?? describeExitCode(e.result.exitCode, e.result.signal))} ${c.dim(duration(e.result.durationMs))}\n`);
          failed = { step: e.step, result: e.result };
        }
        break;
      case 'stage-end':
        if (e.status !== 'skipped') write(c.dim(`== ${e.stage.id}: ${e.status} in ${duration(e.durationMs)}\n`));
        break;
      case 'checks-start':
        write(`checks after stage ${e.stage}: ${e.checks.join(', ')}\n`);
        break;
      case 'check-result':
        write(`  ${formatResult(e.result, enabled)}\n`);
        break;
      case 'checks-end':
        write(`  ${summaryLine([...e.results])}\n`);
        break;
      case 'info':
        write(c.dim(`${e.message}\n`));
        break;
      case 'warn':
        write(c.yellow(`warning: ${e.message}\n`));
        break;
      case 'run-end':
        stopSpinner();
        if (e.status === 'passed') write(`\n${c.green(c.bold('✔ all steps passed'))} ${c.dim(`in ${duration(e.durationMs)}`)}\n`);
        else if (failed) write(failureBlock(failed.step, failed.result, c, opts.resumeCommand, runDir));
        else write(`\n${c.red(c.bold('✘ run failed'))}\n`);
        break;
    }
  };
  const off = bus.on(handle);
  return () => {
    stopSpinner();
    off();
  };
}

// The block a student reads after a failure: which step, where, the command, why, the lines that matter, how to go on.
export function failureBlock(step: Step, result: StepResult, c: ReturnType<typeof pc.createColors>, resumeCommand?: string, runDir?: string): string {
  const lines: string[] = ['', c.red(c.bold(`✘ Step ${step.id} failed`))];
  lines.push(`  where:   ${formatLocation(step.loc)} (stage ${step.stage})`);
  lines.push(`  host:    ${step.host}${step.user ? ` as ${step.user}` : step.root ? ' as root' : ''}`);
  if (step.kind === 'shell') {
    const cmd = step.command.split('\n');
    lines.push(`  command: ${cmd[0] ?? ''}`);
    for (const l of cmd.slice(1, 6)) lines.push(`           ${l}`);
    if (cmd.length > 6) lines.push(`           … (${cmd.length - 6} more lines)`);
  } else lines.push(`  file:    ${step.path} (${step.mode})`);
  const why = result.timedOut || !result.message ? (result.message ?? describeExitCode(result.exitCode, result.signal)) : result.message;
  lines.push(`  result:  ${c.red(why)}`);
  const relevant = findErrors(`${result.stdout}\n${result.stderr}`);
  if (relevant.length > 0) {
    lines.push('  last relevant output:');
    for (const l of relevant) lines.push(`    ${neutralizeControl(l)}`);
  }
  if (runDir) lines.push(c.dim(`  full log in ${runDir}/steps/`));
  if (resumeCommand) lines.push(`  fix it, then resume with:`, `    ${c.bold(resumeCommand)}`);
  return `${lines.join('\n')}\n`;
}
