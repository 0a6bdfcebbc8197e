// Where a guided session goes on: the first step not done of the first stage not done, or that stage's checks.
import { describe, expect, it } from 'vitest';
import { resumePosition, stageDone, stepBack } from '../../src/guide/progress.js';
import type { RunState, StepState } from '../../src/runner/run-dir.js';
import type { Stage } from '../../src/runner/types.js';

const stage = (id: string, steps: number, checks: string[] = ['x.y']): Stage =>
  ({ id, title: id, checks, steps: Array.from({ length: steps }, (_, i) => ({ id: `${id}/${i + 1}`, stage: id, host: 'h', kind: 'shell', command: 'true' })) }) as unknown as Stage;
const STAGES = [stage('a', 2), stage('b', 3), stage('c', 1, [])];

function state(steps: Record<string, Partial<StepState>>, stages: RunState['stages'] = {}): RunState {
  const full = Object.fromEntries(Object.entries(steps).map(([id, s]) => [id, { status: 'passed', host: 'h', exitCode: 0, timedOut: false, durationMs: 1, attempts: 1, hash: 'x', finishedAt: '', ...s } as StepState]));
  return { version: 1, runId: 'r', tutorial: 't', inventory: 'i', mode: 'guide', steps: full, stages };
}

describe('resumePosition', () => {
  it('starts at the first step of a new session', () => {
    expect(resumePosition(STAGES, undefined)).toEqual({ stage: 0, step: 0 });
    expect(resumePosition(STAGES, state({}))).toEqual({ stage: 0, step: 0 });
  });

  it('counts a step run and passed, typed by hand or skipped as done; a failed one is not', () => {
    expect(resumePosition(STAGES, state({ 'a/1': {}, 'a/2': { status: 'failed' } }))).toEqual({ stage: 0, step: 1 });
    expect(resumePosition(STAGES, state({ 'a/1': { status: 'skipped', how: 'typed' }, 'a/2': { status: 'skipped', how: 'skipped' } }))).toEqual({ stage: 0, step: 2 });
  });

  it("stops at a stage's checks until they passed or were waived", () => {
    const steps = { 'a/1': {}, 'a/2': {} };
    expect(resumePosition(STAGES, state(steps, { a: { checks: 'failed', at: '' } }))).toEqual({ stage: 0, step: 2 });
    expect(resumePosition(STAGES, state(steps, { a: { checks: 'passed', at: '' } }))).toEqual({ stage: 1, step: 0 });
    expect(resumePosition(STAGES, state(steps, { a: { checks: 'waived', at: '' } }))).toEqual({ stage: 1, step: 0 });
  });

  it('a stage without checks is done with its steps; everything done is the end', () => {
    const steps = { 'a/1': {}, 'a/2': {}, 'b/1': {}, 'b/2': {}, 'b/3': {}, 'c/1': {} };
    const stages = { a: { checks: 'passed' as const, at: '' }, b: { checks: 'passed' as const, at: '' } };
    expect(stageDone(state(steps, stages), STAGES[2] as Stage)).toBe(true);
    expect(resumePosition(STAGES, state(steps, stages))).toBeUndefined();
  });

  it('goes to --from whatever was done', () => {
    expect(resumePosition(STAGES, state({}), 'b')).toEqual({ stage: 1, step: 0 });
    expect(resumePosition(STAGES, state({}), 'nope')).toBeUndefined();
  });
});

describe('stepBack', () => {
  it("goes to the step before, across a stage's start, and stays at the very first step", () => {
    expect(stepBack(STAGES, { stage: 1, step: 2 })).toEqual({ stage: 1, step: 1 });
    expect(stepBack(STAGES, { stage: 1, step: 0 })).toEqual({ stage: 0, step: 1 });
    expect(stepBack(STAGES, { stage: 0, step: 2 })).toEqual({ stage: 0, step: 1 });
    expect(stepBack(STAGES, { stage: 0, step: 0 })).toEqual({ stage: 0, step: 0 });
  });
});
