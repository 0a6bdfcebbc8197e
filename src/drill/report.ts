// A drill's report for the instructor (report.md in the drill's folder): the target, the faults once the drill is
// stopped (kept out while it runs: the student may read the folder), every check with what failed, hints used,
// whether the answer was revealed, and the time to repair.
import { formatDuration } from '../duration.js';
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
    '',
  ];
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
