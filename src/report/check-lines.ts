// Check results as terminal lines: one per check and host (status, expected vs found, where to fix it), and the
// closing count. Shared by `check` and by the terminal reporter of a run.
import pc from 'picocolors';
import type { CheckResult } from '../checks/types.js';

const MARK: Record<CheckResult['status'], string> = { passed: '✔', failed: '✘', broken: '!', skipped: '-' };

/** One line for a result: `✘ nova.compute-up @ compute-1: expected …, found … — fix: see stage "…" (…)`. */
export function formatResult(r: CheckResult, color = false): string {
  const c = pc.createColors(color);
  const paint = { passed: c.green, failed: c.red, broken: c.yellow, skipped: c.dim }[r.status];
  const head = `${paint(MARK[r.status])} ${r.id} @ ${r.host}`;
  if (r.status === 'passed') return head;
  if (r.status === 'skipped') return `${head} ${c.dim(`(${r.message})`)}`;
  // Failed and broken results both say where to look; by the tutorial's heading when the tutorial is known.
  const where = r.remedy.stageTitle ? `"${r.remedy.stageTitle}" (${r.remedy.stage})` : `stage "${r.remedy.stage}"`;
  const fix = ` — fix: see ${where} (${r.remedy.text})`;
  return `${head}: ${r.message}${c.dim(fix)}`;
}

/** The closing summary line. */
export function summaryLine(results: CheckResult[]): string {
  const n = (s: CheckResult['status']): number => results.filter((r) => r.status === s).length;
  return `${results.length} checks: ${n('passed')} passed, ${n('failed')} failed, ${n('broken')} broken, ${n('skipped')} skipped`;
}

