// Which stages may run side by side: a stage needs the stages its `<!-- after: … -->` comment names, or,
// without one, every stage before it. The runner starts a stage once all it needs have finished.
import type { Stage } from './types.js';

/** For each stage id, the ids of the stages it needs (all earlier ones unless it says `after`). */
export function stageNeeds(stages: Stage[]): Map<string, string[]> {
  const needs = new Map<string, string[]>();
  stages.forEach((stage, i) => {
    needs.set(stage.id, stage.after ? [...stage.after.ids] : stages.slice(0, i).map((s) => s.id));
  });
  return needs;
}

/**
 * The stages to start now, in tutorial order: not yet started, everything they need finished, and no more
 * than `slots` of them. With one job this is always the next stage of the tutorial, as a student runs it.
 */
export function readyStages(stages: Stage[], needs: Map<string, string[]>, started: Set<string>, finished: Set<string>, slots: number): Stage[] {
  const ready: Stage[] = [];
  for (const stage of stages) {
    if (ready.length >= slots) break;
    if (started.has(stage.id)) continue;
    if ((needs.get(stage.id) ?? []).every((id) => finished.has(id))) ready.push(stage);
  }
  return ready;
}
