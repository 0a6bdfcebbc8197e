// A drill's reports for the instructor, in the drill's folder: report.md (the target, the faults once the drill is
// stopped — kept out while it runs: the student may read the folder —, every check with what failed, hints used,
// whether the answer was revealed, the time to repair, whether the deployment was left as found), and once stopped,
// result.json and junit.xml for a gradebook or a CI (a testcase a fault: passed when the student repaired it).
import { formatDuration } from '../duration.js';
import { xmlEscape } from '../report/junit.js';
import type { Fault } from '../faults/catalogue.js';
import type { DrillRecord } from './record.js';

export function drillReport(r: DrillRecord, faults?: readonly Fault[]): string {
  const from = Date.parse(r.shownAt ?? r.startedAt);
  const lines = [
    `# Troubleshooting drill ${r.id}`,
    '',
    `- target: ${r.target.describe} (${r.target.inventory})`,
    `- started: ${r.startedAt}${r.shownAt ? `; the fault showed at ${r.shownAt}` : ''}`,
    `- faults: ${r.faults.length}; hints used: ${r.faults.reduce((n, f) => n + f.hints, 0)}; revealed: ${r.faults.some((f) => f.revealedAt) ? `yes, at ${r.faults.find((f) => f.revealedAt)?.revealedAt}` : 'no'}`,
    `- repaired: ${r.repairedAt ? `${r.repairedAt}, in ${formatDuration(Date.parse(r.repairedAt) - from)}` : 'not (yet)'}`,
    `- status: ${r.status}${r.stoppedAt ? ` at ${r.stoppedAt} (${r.stoppedBy === 'snapshot' ? 'the lab restored from its snapshot' : "the catalogue's repair applied"})` : ''}`,
  ];
  if (r.differences) lines.push(`- left as found: ${r.differences.length === 0 ? `yes (${r.fingerprint ?? 'fingerprint'} compared)` : `no: ${r.differences.join('; ')}`}`);
  lines.push('');
  if (faults) {
    lines.push('## The faults', '');
    faults.forEach((f, i) => {
      const e = r.faults[i];
      lines.push(`${i + 1}. **${f.id}** (${f.component}, ${f.difficulty}): ${f.title}. Hints used: ${e?.hints ?? 0} of ${f.hints.length}; ${e?.repairedAt ? `repaired at ${e.repairedAt}` : 'not repaired by the student'}${e?.revealedAt ? '; revealed' : ''}.`);
    });
    lines.push('');
  }
  lines.push('## Checks', '');
  if (r.baseline.length) lines.push(`Not passing before the drill (not counted): ${r.baseline.join(', ')}`, '');
  if (r.rounds.length === 0) lines.push('No `drill check` yet.');
  for (const c of r.rounds) {
    const other = c.other.length ? `; something else broke: ${c.other.join(', ')}` : '';
    lines.push(`- ${c.at} (${formatDuration(Math.max(0, Date.parse(c.at) - from))} in): ${c.failing.length} failing${c.failing.length ? ` (${c.failing.join(', ')})` : ''}; ${c.repaired} of ${r.faults.length} fault${r.faults.length === 1 ? '' : 's'} repaired${other}`);
  }
  return `${lines.join('\n')}\n`;
}

export interface DrillResult {
  drill: string;
  target: string;
  startedAt: string;
  shownAt?: string;
  stoppedAt?: string;
  stoppedBy?: string;
  /** Every fault repaired by the student, nothing else broken: seconds from the fault showing. */
  repairedInSeconds?: number;
  faults: { id: string; title: string; component: string; difficulty: string; hintsUsed: number; hints: number; revealed: boolean; repairedInSeconds?: number }[];
  checkRounds: number;
  /** Differences from the fingerprint taken before the drill (empty: left as found; absent: not compared). */
  differences?: string[];
}

/** The stopped drill's result, for machines. */
export function drillResult(r: DrillRecord, faults: readonly Fault[]): DrillResult {
  const from = Date.parse(r.shownAt ?? r.startedAt);
  const secs = (at: string | undefined): number | undefined => (at ? Math.round((Date.parse(at) - from) / 1000) : undefined);
  const all = secs(r.repairedAt);
  return {
    drill: r.id,
    target: r.target.describe,
    startedAt: r.startedAt,
    ...(r.shownAt ? { shownAt: r.shownAt } : {}),
    ...(r.stoppedAt ? { stoppedAt: r.stoppedAt, stoppedBy: r.stoppedBy } : {}),
    ...(all !== undefined ? { repairedInSeconds: all } : {}),
    faults: faults.map((f, i) => {
      const e = r.faults[i];
      const t = secs(e?.repairedAt);
      return { id: f.id, title: f.title, component: f.component, difficulty: f.difficulty, hintsUsed: e?.hints ?? 0, hints: f.hints.length, revealed: !!e?.revealedAt, ...(t !== undefined ? { repairedInSeconds: t } : {}) };
    }),
    checkRounds: r.rounds.length,
    ...(r.differences ? { differences: r.differences } : {}),
  };
}

/** JUnit XML of a stopped drill: one testcase a fault (failed when not repaired), one for the deployment left as found. */
export function drillJunit(res: DrillResult): string {
  const cases = res.faults.map((f) => {
    const name = `${f.id} (${f.component}, ${f.difficulty})`;
    const props = `hints used ${f.hintsUsed} of ${f.hints}${f.revealed ? '; revealed' : ''}`;
    return f.repairedInSeconds !== undefined
      ? `    <testcase classname="drill.${xmlEscape(f.component)}" name="${xmlEscape(name)}" time="${f.repairedInSeconds}"><system-out>${xmlEscape(`repaired; ${props}`)}</system-out></testcase>`
      : `    <testcase classname="drill.${xmlEscape(f.component)}" name="${xmlEscape(name)}" time="0"><failure type="not-repaired" message="${xmlEscape(`not repaired: ${f.title}`)}">${xmlEscape(props)}</failure></testcase>`;
  });
  if (res.differences) {
    cases.push(
      res.differences.length === 0
        ? '    <testcase classname="drill" name="deployment left as found" time="0"/>'
        : `    <testcase classname="drill" name="deployment left as found" time="0"><failure type="not-as-found" message="${xmlEscape(`${res.differences.length} differences from before the drill`)}">${xmlEscape(res.differences.join('\n'))}</failure></testcase>`,
    );
  }
  const failures = cases.filter((c) => c.includes('<failure')).length;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="stackcheck drill" tests="${cases.length}" failures="${failures}">`,
    `  <testsuite name="${xmlEscape(`${res.drill} on ${res.target}`)}" tests="${cases.length}" failures="${failures}" timestamp="${xmlEscape(res.startedAt)}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
