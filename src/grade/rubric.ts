// The grading rubric: points per check id or per component (split over its checks by their weights), partial
// credit for a check that runs on several hosts, and the total the points are scaled to. Without a rubric file, each
// read-only check is worth its weight in the check registry. Errors name the file and the field (exit 2).
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { InputErrors, StackcheckError } from '../error.js';
import { issueErrors, readYaml } from '../yaml.js';
import { CHECKS } from '../checks/registry.js';
import type { CheckMeta } from '../checks/types.js';

export interface Rubric {
  /** Where it came from (`default: the checks' weights` or the file). */
  source: string;
  /** Points of each graded check id (before scaling). */
  points: Record<string, number>;
  /** Scale the sum of points to this (undefined: the sum as it is). */
  total?: number;
  /** A check on several hosts earns the share of hosts where it passed (else all or nothing). */
  partial: boolean;
}

const schema = z
  .object({
    total: z.number().positive().optional(),
    partial: z.boolean().optional(),
    points: z.record(z.string(), z.number().min(0)),
  })
  .strict();

/** The checks a grading runs: the read-only ones (grading changes nothing), or all with `functional`. */
export function gradedChecks(functional = false): CheckMeta[] {
  return CHECKS.filter((m) => functional || !m.mutating);
}

/** Today's check weights as a rubric, scaled to 100. */
export function defaultRubric(functional = false): Rubric {
  return { source: 'default: the checks\' weights, scaled to 100', points: Object.fromEntries(gradedChecks(functional).map((m) => [m.id, m.weight])), total: 100, partial: true };
}

/** Read a rubric file: `points:` keys are check ids or components (a component's points split by weight). */
export function loadRubric(file: string, functional = false): Rubric {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new StackcheckError('E_RUBRIC', `rubric not found: ${file} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  const { value, locate } = readYaml(text, file, 'E_RUBRIC');
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new InputErrors(issueErrors(parsed.error.issues, file, locate, 'E_RUBRIC'));
  const graded = gradedChecks(functional);
  const byId = new Map(graded.map((m) => [m.id, m]));
  const points: Record<string, number> = {};
  const errors: StackcheckError[] = [];
  for (const [key, p] of Object.entries(parsed.data.points)) {
    const line = locate(['points', key]) ?? 1;
    if (byId.has(key)) {
      points[key] = (points[key] ?? 0) + p;
      continue;
    }
    const members = graded.filter((m) => m.component === key);
    if (members.length > 0) {
      const weight = members.reduce((n, m) => n + m.weight, 0);
      for (const m of members) points[m.id] = (points[m.id] ?? 0) + (p * m.weight) / weight;
      continue;
    }
    const mutating = CHECKS.find((m) => m.id === key && m.mutating);
    errors.push(
      new StackcheckError('E_RUBRIC', mutating ? `points.${key}: ${key} changes the deployment (it is graded only with --functional)` : `points.${key}: not a check id or component (stackcheck check --list shows them)`, {
        location: { file, line },
      }),
    );
  }
  if (errors.length > 0) throw new InputErrors(errors);
  if (Object.values(points).every((p) => p === 0)) throw new StackcheckError('E_RUBRIC', 'points: no check is worth anything', { location: { file, line: locate(['points']) ?? 1 } });
  return { source: file, points, ...(parsed.data.total !== undefined ? { total: parsed.data.total } : {}), partial: parsed.data.partial ?? true };
}
