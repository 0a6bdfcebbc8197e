// Run events: one type with a `kind` per variant (as zx's log.ts). The engine emits them, for steps and for the
// checks after each stage; reporters (terminal, run folder, Allure, JUnit, summary.json) are plugins that subscribe.
import type { Step, Stage } from './runner/types.js';
import type { CheckResult } from './checks/types.js';

export type RunEvent =
  | { kind: 'run-start'; runId: string; runDir: string; tutorial: string; inventory: string; stages: number; steps: number }
  | { kind: 'stage-start'; stage: Stage }
  | { kind: 'step-start'; step: Step; attempt: number }
  | { kind: 'step-output'; step: Step; stream: 'stdout' | 'stderr'; text: string }
  | { kind: 'step-skip'; step: Step; reason: string }
  | { kind: 'step-end'; step: Step; result: StepResult }
  | { kind: 'stage-end'; stage: Stage; status: 'passed' | 'failed' | 'skipped'; durationMs: number }
  | { kind: 'checks-start'; stage: string; checks: readonly string[] }
  | { kind: 'check-result'; stage: string; result: CheckResult }
  | { kind: 'checks-end'; stage: string; results: readonly CheckResult[] }
  | { kind: 'run-end'; status: 'passed' | 'failed'; durationMs: number }
  | { kind: 'info'; message: string }
  | { kind: 'warn'; message: string };

/** What happened when a step ran. Output is already redacted. */
export interface StepResult {
  stepId: string;
  host: string;
  status: 'passed' | 'failed' | 'skipped';
  exitCode: number | null;
  signal?: string | null;
  timedOut: boolean;
  durationMs: number;
  stdout: string;
  stderr: string;
  attempts: number;
  /** One-line reason when failed. */
  message?: string;
  /** The step printed more than is kept: characters printed in all, per stream (`stdout`/`stderr` keep the head and the tail). */
  printed?: { stdout: number; stderr: number };
}

export type Listener = (event: RunEvent) => void;

// A tiny typed event bus owned by one run (no module-level state).
export class EventBus {
  private readonly listeners: Listener[] = [];
  on(listener: Listener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }
  emit(event: RunEvent): void {
    for (const l of this.listeners) l(event);
  }
}
