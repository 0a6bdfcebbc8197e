// The gradebook's files in `--out DIR`: gradebook.csv (a spreadsheet's or an LMS's import), gradebook.json (per
// student: score, points per component, every failed check with its reason and remedy), one single-file HTML report
// per student (students/<id>.html, to mail), and the class overview (overview.html and the pass rate of every check
// in gradebook.json: what to teach again). Grading again into the same folder shows each student's progress.
// Shard outputs merge into one gradebook.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { StackcheckError } from '../error.js';
import type { Gradebook, StudentGrade } from './grade.js';

export interface CheckRate {
  id: string;
  /** Students for whom it ran on every host and passed. */
  passed: number;
  /** Students it was graded for. */
  graded: number;
  rate: number;
}

/** Per check: the share of students who passed it, lowest first (what the class needs taught again). */
export function classOverview(students: readonly StudentGrade[], checkIds: readonly string[]): CheckRate[] {
  const reachable = students.filter((s) => s.status === 'graded');
  return checkIds
    .map((id) => {
      const failed = reachable.filter((s) => s.failures.some((f) => f.id === id)).length;
      const graded = reachable.length;
      return { id, passed: graded - failed, graded, rate: graded ? Math.round(((graded - failed) / graded) * 1000) / 10 : 0 };
    })
    .sort((a, b) => a.rate - b.rate || a.id.localeCompare(b.id));
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

const PAGE = (title: string, body: string): string =>
  `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${esc(title)}</title>` +
  '<style>body{font:15px/1.45 system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}table{border-collapse:collapse;width:100%}' +
  'td,th{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}.bad{color:#b00020}.ok{color:#137333}code{background:#f4f4f4;padding:0 .2em}</style>' +
  `</head><body>${body}</body></html>\n`;

/** One student's report: score, components, and every failure with what to do (no secret: results are redacted). */
export function studentHtml(s: StudentGrade, book: Pick<Gradebook, 'tutorial' | 'gradedAt'>): string {
  const comps = Object.entries(s.components)
    .map(([c, v]) => `<tr><td>${esc(c)}</td><td class="${v.points < v.max ? 'bad' : 'ok'}">${v.points} / ${v.max}</td></tr>`)
    .join('');
  const fails = s.failures.length
    ? `<table><tr><th>check</th><th>host</th><th>what was found</th><th>how to fix it</th></tr>${s.failures
        .map((f) => `<tr><td><code>${esc(f.id)}</code></td><td>${esc(f.host)}</td><td class="bad">${esc(f.message)}</td><td>${f.stage ? `read again: <b>${esc(f.stage)}</b>; ` : ''}${esc(f.remedy)}</td></tr>`)
        .join('')}</table>`
    : '<p class="ok">Every check passed.</p>';
  const prev = s.previous ? `<p>Previous grading (${esc(s.previous.gradedAt)}): ${s.previous.points} (${s.previous.percent}%); now ${s.points >= s.previous.points ? '+' : ''}${Math.round((s.points - s.previous.points) * 100) / 100}.</p>` : '';
  return PAGE(
    `${s.name}: ${s.percent}%`,
    `<h1>${esc(s.name)} <small>(${esc(s.id)})</small></h1><p>${esc(book.tutorial)}, graded ${esc(book.gradedAt)}</p>` +
      `<h2>${s.points} / ${s.max} points (${s.percent}%)</h2>${s.status !== 'graded' ? `<p class="bad">${esc(s.status)}: ${esc(s.reason ?? '')}</p>` : ''}${prev}` +
      `<p>${s.checks.passed} of ${s.checks.total} checks passed.</p><h2>By component</h2><table>${comps}</table><h2>What to fix</h2>${fails}`,
  );
}

function overviewHtml(book: Gradebook, rates: CheckRate[]): string {
  const rows = book.students.map((s) => `<tr><td>${esc(s.id)}</td><td>${esc(s.name)}</td><td>${s.points} / ${s.max}</td><td>${s.percent}%</td><td>${esc(s.status)}${s.reason ? `: ${esc(s.reason)}` : ''}</td></tr>`).join('');
  const checks = rates.map((r) => `<tr><td><code>${esc(r.id)}</code></td><td class="${r.rate < 100 ? 'bad' : 'ok'}">${r.rate}%</td><td>${r.passed} / ${r.graded}</td></tr>`).join('');
  return PAGE(
    `Class overview: ${book.tutorial}`,
    `<h1>Class overview</h1><p>${esc(book.tutorial)}, graded ${esc(book.gradedAt)}; rubric: ${esc(book.rubric.source)}</p><h2>Students</h2><table><tr><th>id</th><th>name</th><th>points</th><th>%</th><th>status</th></tr>${rows}</table>` +
      `<h2>Checks, least passed first (what to teach again)</h2><table><tr><th>check</th><th>passed</th><th>students</th></tr>${checks}</table>`,
  );
}

/** The previous gradebook of this folder, if any (for progress). */
export function readGradebook(file: string): Gradebook | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Gradebook;
  } catch (err) {
    throw new StackcheckError('E_ARGS', `${file}: not a gradebook (${(err as Error).message})`);
  }
}

/** Write every file of the gradebook into `out`; `checkIds` are the graded checks (for the overview). */
export function writeGradebook(book: Gradebook, out: string, checkIds: readonly string[], opts: { html?: boolean } = {}): { csv: string; json: string; overview: string } {
  mkdirSync(join(out, 'students'), { recursive: true, mode: 0o700 });
  const before = readGradebook(join(out, 'gradebook.json'));
  for (const s of book.students) {
    const p = before?.students.find((b) => b.id === s.id);
    if (p && before && before.gradedAt !== book.gradedAt) s.previous = { points: p.points, percent: p.percent, gradedAt: before.gradedAt };
  }
  const rates = classOverview(book.students, checkIds);
  const json = join(out, 'gradebook.json');
  writeFileSync(json, `${JSON.stringify({ ...book, overview: rates }, null, 2)}\n`, { mode: 0o600 });
  const components = [...new Set(book.students.flatMap((s) => Object.keys(s.components)))].sort();
  const rows = book.students.map((s) => [
    s.id,
    s.name,
    s.points,
    s.max,
    s.percent,
    s.status,
    s.checks.passed,
    s.checks.total,
    s.failures.map((f) => `${f.id}@${f.host}`).join(' '),
    s.previous?.points ?? '',
    s.previous ? Math.round((s.points - s.previous.points) * 100) / 100 : '',
    ...components.map((c) => s.components[c]?.points ?? ''),
    s.reason ?? '',
  ]);
  const csv = join(out, 'gradebook.csv');
  writeFileSync(csv, stringify([['id', 'name', 'points', 'max', 'percent', 'status', 'checks_passed', 'checks_total', 'failed_checks', 'previous_points', 'change', ...components, 'reason'], ...rows]), { mode: 0o600 });
  if (opts.html !== false) for (const s of book.students) writeFileSync(join(out, 'students', `${s.id}.html`), studentHtml(s, book), { mode: 0o600 });
  const overview = join(out, 'overview.html');
  writeFileSync(overview, overviewHtml(book, rates), { mode: 0o600 });
  return { csv, json, overview };
}

/** Combine shard gradebooks (their folders) into one; a student in two shards is an error. */
export function mergeGradebooks(dirs: readonly string[]): Gradebook {
  const books = dirs.map((d) => {
    const b = readGradebook(join(d, 'gradebook.json'));
    if (!b) throw new StackcheckError('E_ARGS', `${d}: no gradebook.json (the --out folder of a grade run)`);
    return { dir: d, book: b };
  });
  const seen = new Map<string, string>();
  const students: StudentGrade[] = [];
  for (const { dir, book } of books) {
    for (const s of book.students) {
      const other = seen.get(s.id);
      if (other) throw new StackcheckError('E_ARGS', `student ${s.id} is in ${other} and in ${dir}: merge the outputs of disjoint shards`);
      seen.set(s.id, dir);
      students.push(s);
    }
  }
  const first = books[0]?.book;
  if (!first) throw new StackcheckError('E_ARGS', 'grade merge: give the folders of the shards');
  if (books.some((b) => b.book.tutorial !== first.tutorial || b.book.rubric.source !== first.rubric.source)) {
    throw new StackcheckError('E_ARGS', 'grade merge: the shards were graded against different tutorials or rubrics');
  }
  students.sort((a, b) => a.id.localeCompare(b.id));
  const gradedAt = books.map((b) => b.book.gradedAt).sort().pop() ?? first.gradedAt;
  return { gradedAt, tutorial: first.tutorial, rubric: first.rubric, students: students.map(({ previous: _p, ...s }) => s) };
}
