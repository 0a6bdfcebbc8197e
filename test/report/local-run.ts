// Real RunEvents without SSH, for unit tests of the reporters: each step's command really runs in a local
// bash and its real output, exit code and duration become the StepResult (redacted like the executor does).
import { spawnSync } from 'node:child_process';
import { EventBus, type RunEvent, type StepResult } from '../../src/log.js';
import { Redactor } from '../../src/redact.js';
import type { ShellStep, Stage } from '../../src/runner/types.js';

export interface LocalStage {
  id: string;
  title: string;
  steps: { host: string; command: string }[];
}

// Stages of shell steps with ids, lines and hosts filled in as the parser would.
export function localStages(spec: LocalStage[]): Stage[] {
  let line = 1;
  return spec.map((s) => ({
    id: s.id,
    title: s.title,
    checks: [],
    loc: { file: 'tutorial.md', line: line++ },
    steps: s.steps.map(
      (st, i): ShellStep => ({
        kind: 'shell',
        id: `${s.id}/${i + 1}`,
        stage: s.id,
        host: st.host,
        loc: { file: 'tutorial.md', line: line++ },
        root: true,
        expectExit: [0],
        retries: 0,
        command: st.command,
      }),
    ),
  }));
}

/** Run the stages (stop at the first failure, like `stackcheck run`), emitting events on `bus`. */
export function runLocally(stages: Stage[], bus: EventBus, secrets: string[]): RunEvent[] {
  const red = new Redactor(secrets);
  const events: RunEvent[] = [];
  const off = bus.on((e) => events.push(e));
  const t0 = Date.now();
  bus.emit({ kind: 'run-start', runId: 'local', runDir: '', tutorial: 'tutorial.md', inventory: 'inventory.yaml', stages: stages.length, steps: 0 });
  let failed = false;
  for (const stage of stages) {
    if (failed) {
      for (const step of stage.steps) bus.emit({ kind: 'step-skip', step, reason: 'an earlier step failed' });
      continue;
    }
    const s0 = Date.now();
    bus.emit({ kind: 'stage-start', stage });
    for (const step of stage.steps) {
      if (step.kind !== 'shell') continue;
      bus.emit({ kind: 'step-start', step, attempt: 1 });
      const started = Date.now();
      const p = spawnSync('bash', ['-c', step.command], { encoding: 'utf8' });
      const result: StepResult = {
        stepId: step.id,
        host: step.host,
        status: p.status === 0 ? 'passed' : 'failed',
        exitCode: p.status,
        signal: p.signal,
        timedOut: false,
        durationMs: Date.now() - started,
        stdout: red.redact(p.stdout),
        stderr: red.redact(p.stderr),
        attempts: 1,
        ...(p.status === 0 ? {} : { message: `exit code ${p.status}` }),
      };
      bus.emit({ kind: 'step-end', step: { ...step, command: red.redact(step.command) }, result });
      if (result.status === 'failed') {
        failed = true;
        break;
      }
    }
    bus.emit({ kind: 'stage-end', stage, status: failed ? 'failed' : 'passed', durationMs: Date.now() - s0 });
  }
  bus.emit({ kind: 'run-end', status: failed ? 'failed' : 'passed', durationMs: Date.now() - t0 });
  off();
  return events;
}
