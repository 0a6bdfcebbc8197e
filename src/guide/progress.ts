// Where a guided session stands: which steps are done (run, typed by hand or skipped) and which stages passed their
// checks, read from the run folder's state.json, so `guide` continues where the student stopped.
import type { RunState } from '../runner/run-dir.js';
import type { Stage } from '../runner/types.js';

/** A place in the tutorial: a step of a stage, or (`step === stage.steps.length`) the stage's checks. */
export interface Position {
  stage: number;
  step: number;
}

/** A step the student is done with: it ran and passed, or they typed it by hand, or skipped it. */
export function stepDone(state: RunState | undefined, stepId: string): boolean {
  const s = state?.steps[stepId];
  return s !== undefined && (s.status === 'passed' || s.how === 'typed' || s.how === 'skipped');
}

/** A stage is behind the student when its steps are done and its checks passed (or were waived, or there are none). */
export function stageDone(state: RunState | undefined, stage: Stage): boolean {
  if (!stage.steps.every((st) => stepDone(state, st.id))) return false;
  if (stage.checks.length === 0) return true;
  const checks = state?.stages?.[stage.id]?.checks;
  return checks === 'passed' || checks === 'waived';
}

/**
 * Where to go on: `from` (a stage id) when given, else the first stage not done, at its first step not done (or at
 * its checks). Undefined: every stage is done.
 */
export function resumePosition(stages: readonly Stage[], state: RunState | undefined, from?: string): Position | undefined {
  if (from !== undefined) {
    const i = stages.findIndex((s) => s.id === from);
    return i < 0 ? undefined : { stage: i, step: 0 };
  }
  const i = stages.findIndex((s) => !stageDone(state, s));
  if (i < 0) return undefined;
  const stage = stages[i] as Stage;
  const step = stage.steps.findIndex((st) => !stepDone(state, st.id));
  return { stage: i, step: step < 0 ? stage.steps.length : step };
}

/** One step back: the previous step of the stage, else the last place of the stage before. */
export function stepBack(stages: readonly Stage[], pos: Position): Position {
  if (pos.step > 0) return { stage: pos.stage, step: pos.step - 1 };
  if (pos.stage === 0) return pos;
  const prev = stages[pos.stage - 1] as Stage;
  return { stage: pos.stage - 1, step: Math.max(0, prev.steps.length - 1) };
}
