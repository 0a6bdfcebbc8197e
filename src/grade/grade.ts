// `grade`: a class's deployments checked side by side (bounded concurrency, a timeout per student), read-only, scored
// with the rubric into a gradebook. A deployment that is unreachable, slow or broken gets its score and the reason and
// never delays or breaks the others. Everything is validated first — roster, rubric, every student's inventory — and
// bad input is exit 2 before any deployment is contacted.
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import pLimit from 'p-limit';
import { StackcheckError } from '../error.js';
import { loadInventory, loadInventoryText } from '../inventory/load.js';
import { recordGraded } from './ledger.js';
import type { Inventory } from '../inventory/types.js';
import { fillVariables } from '../runner/plan.js';
import { parseTutorial } from '../runner/parse.js';
import { installedByAll, stageScope } from '../checks/declared.js';
import { tutorialFor } from '../engine/tutorial.js';
import type { Tutorial } from '../runner/types.js';
import { runChecks } from '../checks/run.js';
import type { CheckResult } from '../checks/types.js';
import { checkMeta } from '../checks/registry.js';
import { loadRoster, shardOf, type RosterEntry } from './roster.js';
import { defaultRubric, loadRubric, type Rubric } from './rubric.js';
import { scoreResults, type ComponentScore } from './score.js';

export interface GradeOptions {
  roster: string;
  /** Inventory template for rows with values (when the roster names none). */
  template?: string;
  rubric?: string;
  /** The tutorial the class followed (what the deployments must hold; default tutorial/). */
  tutorial: string;
  /** Students graded at once (default 4). */
  concurrency?: number;
  /** Per student (default 10 min). */
  timeoutMs?: number;
  shard?: { index: number; count: number };
  /** Called with a line per student as they finish. */
  progress?: (line: string) => void;
  /** Where the graded deployments' addresses are remembered (drills refuse them): $STACKCHECK_STATE_DIR… */
  env?: NodeJS.ProcessEnv;
}

/** One failed (or broken) check of a student, with what to do. */
export interface GradedFailure {
  id: string;
  host: string;
  status: 'failed' | 'broken';
  message: string;
  remedy: string;
  stage?: string;
}

export interface StudentGrade {
  id: string;
  name: string;
  /** `graded`; `unreachable`: no host of the deployment answered; `timed-out`: stopped at the timeout. */
  status: 'graded' | 'unreachable' | 'timed-out';
  reason?: string;
  points: number;
  max: number;
  percent: number;
  components: Record<string, ComponentScore>;
  checks: { total: number; passed: number; failed: number; broken: number };
  failures: GradedFailure[];
  durationMs: number;
  /** From the previous gradebook in the same folder, when there is one. */
  previous?: { points: number; percent: number; gradedAt: string };
}

export interface Gradebook {
  gradedAt: string;
  tutorial: string;
  rubric: { source: string; total: number };
  shard?: { index: number; count: number };
  students: StudentGrade[];
}

interface Prepared {
  entry: RosterEntry;
  inventory: Inventory;
  /** The tutorial with this student's alternatives taken (the row's, the inventory's, the defaults). */
  tutorial: Tutorial;
}

// Every student's inventory, loaded and validated up front (exit 2 naming the roster row).
async function prepareInventories(entries: RosterEntry[], template: string | undefined, parsed: Tutorial): Promise<Prepared[]> {
  const templateText = template ? readTemplate(template) : undefined;
  const out: Prepared[] = [];
  for (const entry of entries) {
    try {
      const opts = entry.secrets ? { secretsFile: entry.secrets } : {};
      let inventory: Inventory;
      if (entry.inventory) inventory = await loadInventory(entry.inventory, opts);
      else {
        const values = entry.values ?? {};
        const text = fillVariables(templateText as string, { STUDENT_ID: entry.id, ...values });
        const left = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/.exec(text);
        if (left) throw new StackcheckError('E_ROSTER', `the template needs ${left[1]}, which the row does not give (columns/vars: ${Object.keys(values).join(', ') || 'none'})`);
        inventory = loadInventoryText(text, `${template} for ${entry.id}`, dirname(template as string), opts);
      }
      out.push({ entry, inventory: { ...inventory, name: entry.id }, tutorial: tutorialFor(parsed, inventory, entry.variants, 'the row\'s variant') });
    } catch (err) {
      if (err instanceof StackcheckError) throw new StackcheckError('E_ROSTER', `${entry.where}: ${err.message}`, { ...(err.hint ? { hint: err.hint } : {}), cause: err });
      throw err;
    }
  }
  return out;
}

function readTemplate(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new StackcheckError('E_ROSTER', `inventory template not found: ${file} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
}

// A deployment that did not answer: no check passed, and the checks that went to its hosts could not reach them.
function unreachable(results: readonly CheckResult[]): string | undefined {
  const counted = results.filter((r) => r.status !== 'skipped');
  if (counted.length === 0 || counted.some((r) => r.status === 'passed')) return undefined;
  return counted.find((r) => r.status === 'broken' && /cannot reach .* over SSH|ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT/.test(r.message))?.message;
}

function timeout<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  return new Promise((done, fail) => {
    const t = setTimeout(() => done('timeout'), ms);
    t.unref();
    p.then(
      (v) => {
        clearTimeout(t);
        done(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        fail(e);
      },
    );
  });
}

/** Grade the roster (or its shard). */
export async function grade(opts: GradeOptions): Promise<Gradebook> {
  const roster = loadRoster(opts.roster, opts.template ? { template: opts.template } : {});
  const rubric: Rubric = opts.rubric ? loadRubric(opts.rubric) : defaultRubric();
  const tutorial = await parseTutorial(opts.tutorial);
  const concurrency = opts.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new StackcheckError('E_ARGS', `--concurrency ${concurrency}: expected a whole number from 1 to 64`);
  const entries = opts.shard ? shardOf(roster.entries, opts.shard.index, opts.shard.count) : roster.entries;
  const prepared = await prepareInventories(entries, roster.template, tutorial);
  recordGraded(opts.roster, [...new Set(prepared.flatMap((p) => Object.values(p.inventory.hosts).map((h) => h.address)))], opts.env);

  const only = Object.keys(rubric.points);
  const limit = pLimit(concurrency);
  const timeoutMs = opts.timeoutMs ?? 10 * 60_000;

  const students = await Promise.all(
    prepared.map(({ entry, inventory, tutorial: mine }) =>
      limit(async (): Promise<StudentGrade> => {
        const started = Date.now();
        let results: CheckResult[] = [];
        let status: StudentGrade['status'] = 'graded';
        let reason: string | undefined;
        // At the timeout the checks not yet started are cancelled and those done count; should the running one
        // hang, the student is let go a minute later with what is known (the checks' own timeouts end it).
        const abort = new AbortController();
        const timer = setTimeout(() => abort.abort(), timeoutMs);
        timer.unref();
        try {
          const installed = installedByAll(mine);
          const scope = { ...(mine.title ? { tutorial: mine.title } : {}), stages: stageScope(mine) };
          const r = await timeout(runChecks({ inventory, only, functional: false, installed, reportScope: scope, signal: abort.signal }), timeoutMs + 60_000);
          if (r !== 'timeout') results = r;
          if (abort.signal.aborted || r === 'timeout') {
            status = 'timed-out';
            reason = `stopped after ${Math.round(timeoutMs / 1000)} s (--timeout): the checks not finished by then earn nothing`;
          }
        } catch (err) {
          status = 'unreachable';
          reason = err instanceof Error ? err.message : String(err);
        } finally {
          clearTimeout(timer);
        }
        const down = status === 'graded' ? unreachable(results) : undefined;
        if (down) {
          status = 'unreachable';
          reason = down;
        }
        const score = scoreResults(results, rubric);
        const counted = results.filter((r) => r.status !== 'skipped');
        const failures: GradedFailure[] = counted
          .filter((r): r is CheckResult & { status: 'failed' | 'broken' } => r.status === 'failed' || r.status === 'broken')
          .map((r) => ({ id: r.id, host: r.host, status: r.status, message: r.message, remedy: r.remedy.text, ...(r.remedy.stage ? { stage: r.remedy.stageTitle ?? r.remedy.stage } : {}) }))
          .sort((a, b) => (a.id === b.id ? a.host.localeCompare(b.host) : checkMeta(a.id).weight !== checkMeta(b.id).weight ? checkMeta(b.id).weight - checkMeta(a.id).weight : a.id.localeCompare(b.id)));
        const grade: StudentGrade = {
          id: entry.id,
          name: entry.name,
          status,
          ...(reason ? { reason } : {}),
          points: score.points,
          max: score.max,
          percent: score.percent,
          components: score.components,
          checks: {
            total: counted.length,
            passed: counted.filter((r) => r.status === 'passed').length,
            failed: counted.filter((r) => r.status === 'failed').length,
            broken: counted.filter((r) => r.status === 'broken').length,
          },
          failures,
          durationMs: Date.now() - started,
        };
        opts.progress?.(`${entry.id}: ${grade.points}/${grade.max} (${grade.percent}%)${status !== 'graded' ? ` ${status}: ${reason ?? ''}` : ''} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        return grade;
      }),
    ),
  );
  students.sort((a, b) => a.id.localeCompare(b.id));
  return {
    gradedAt: new Date().toISOString(),
    tutorial: tutorial.title ?? tutorial.source,
    rubric: { source: rubric.source, total: students[0]?.max ?? rubric.total ?? 0 },
    ...(opts.shard ? { shard: opts.shard } : {}),
    students,
  };
}
