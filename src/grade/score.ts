// A student's score from their check results and the rubric: each check earns its points times the share of its
// hosts where it passed (or all-or-nothing without partial credit); the sum is scaled to the rubric's total.
// Deterministic: the same results give the same score, to the hundredth.
import type { CheckResult } from '../checks/types.js';
import { checkMeta } from '../checks/registry.js';
import type { Rubric } from './rubric.js';

export interface ComponentScore {
  points: number;
  max: number;
}

export interface Score {
  points: number;
  max: number;
  percent: number;
  components: Record<string, ComponentScore>;
}

const round = (n: number): number => Math.round(n * 100) / 100;

/** Score one student's results (checks with no result earn nothing). */
export function scoreResults(results: readonly CheckResult[], rubric: Rubric): Score {
  const raw = Object.values(rubric.points).reduce((n, p) => n + p, 0);
  const scale = rubric.total !== undefined && raw > 0 ? rubric.total / raw : 1;
  const components: Record<string, ComponentScore> = {};
  let points = 0;
  for (const [id, p] of Object.entries(rubric.points)) {
    const mine = results.filter((r) => r.id === id && r.status !== 'skipped');
    const passed = mine.filter((r) => r.status === 'passed').length;
    const share = mine.length === 0 ? 0 : rubric.partial ? passed / mine.length : passed === mine.length ? 1 : 0;
    const earned = p * scale * share;
    const component = checkMeta(id).component;
    const c = (components[component] ??= { points: 0, max: 0 });
    c.points += earned;
    c.max += p * scale;
    points += earned;
  }
  for (const c of Object.values(components)) {
    c.points = round(c.points);
    c.max = round(c.max);
  }
  const max = round(raw * scale);
  return { points: round(points), max, percent: max > 0 ? round((points / max) * 100) : 0, components };
}
