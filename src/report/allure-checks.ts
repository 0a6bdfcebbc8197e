// Allure results for conformance checks run under vitest: the allure-vitest reporter configured for a run
// (redacted writer, our label scheme) — used in the main process — and the helpers a check calls inside the
// vitest worker to label itself and attach its remedy and evidence.
import { createRequire } from 'node:module';
import * as allure from 'allure-js-commons';
import { Status, type Label, type TestResult } from 'allure-js-commons';
import type { ReporterRuntime } from 'allure-js-commons/sdk/reporter';
import AllureVitestReporter from 'allure-vitest/reporter';
import type { Vitest } from 'vitest/node';
import type { CheckMeta, CheckStatus, Evidence } from '../checks/types.js';
import type { Redactor } from '../redact.js';
import { RedactingWriter } from './redact-results.js';
import { checkDescription, historyKey, scopeLabels, stageSuite } from './allure-labels.js';

// Labels that must have one value; allure-vitest adds its own (describe-block suites, the machine's hostname).
const SINGLE_VALUED = new Set(['epic', 'feature', 'story', 'parentSuite', 'suite', 'subSuite', 'host', 'owner', 'severity', 'layer', 'stage', 'inventory']);

// Keep the last value of single-valued labels: ours are applied after allure-vitest's defaults.
export function dedupeLabels(labels: Label[]): Label[] {
  const lastIndex = new Map<string, number>();
  labels.forEach((l, i) => {
    if (SINGLE_VALUED.has(l.name)) lastIndex.set(l.name, i);
  });
  return labels.filter((l, i) => !SINGLE_VALUED.has(l.name) || lastIndex.get(l.name) === i);
}

// Hidden parameters carry what only the check knows (its real status, its remedy) from the worker to the reporter.
const HIDDEN_STATUS = 'stackcheck.status';
const HIDDEN_REMEDY = 'stackcheck.remedy';

/** Run-level facts the worker does not have: tutorial title and stage order (stage titles numbered as for steps). */
export interface CheckReportScope {
  tutorial?: string;
  stages?: { id: string; title: string }[];
}

// Make a check result look like the rest of the report: our labels win, status and remedy from the check.
export function finishCheckResult(r: TestResult, scope: CheckReportScope): void {
  const hidden = new Map(r.parameters.filter((p) => p.name.startsWith('stackcheck.')).map((p) => [p.name, p.value]));
  r.parameters = r.parameters.filter((p) => !p.name.startsWith('stackcheck.'));
  const stageId = r.labels.filter((l) => l.name === 'stage').pop()?.value;
  const idx = scope.stages?.findIndex((s) => s.id === stageId) ?? -1;
  if (stageId && scope.stages && idx >= 0) {
    const suite = stageSuite({ stageTitle: scope.stages[idx]?.title ?? stageId, stageIndex: idx + 1 });
    r.labels.push({ name: 'feature', value: suite }, { name: 'parentSuite', value: suite });
  }
  if (scope.tutorial) r.labels.push({ name: 'epic', value: scope.tutorial });
  r.labels = dedupeLabels(r.labels);
  const status = hidden.get(HIDDEN_STATUS);
  // allure-vitest calls any non-assertion error "broken"; the check knows whether it failed or could not run.
  if (status === 'failed' || status === 'broken' || status === 'passed') r.status = status as Status;
  const remedy = hidden.get(HIDDEN_REMEDY);
  if (remedy && r.status !== Status.PASSED && r.status !== Status.SKIPPED) {
    const message = r.statusDetails?.message ?? '';
    if (!message.includes(remedy)) r.statusDetails = { ...r.statusDetails, message: `${message}\n${remedy}`.trim() };
  }
}

/** allure-vitest's reporter whose writer goes through the run's Redactor before anything is written. */
export class RedactingAllureVitestReporter extends AllureVitestReporter {
  constructor(
    resultsDir: string,
    private readonly redactor: Redactor,
    scope: CheckReportScope = {},
  ) {
    super({
      resultsDir,
      // Every expect() as a step is noise in a conformance report.
      reportMatchers: false,
      listeners: [{ beforeTestResultWrite: (r: TestResult) => finishCheckResult(r, scope) }],
    });
  }

  override onInit(vitest: Vitest): void {
    super.onInit(vitest);
    // The runtime is private in allure-vitest; its `writer` is public in allure-js-commons.
    const runtime = (this as unknown as { allureReporterRuntime?: ReporterRuntime }).allureReporterRuntime;
    if (!runtime) throw new Error('allure-vitest changed: no reporter runtime to redact (stackcheck refuses to write unredacted results)');
    runtime.writer = new RedactingWriter(runtime.writer, this.redactor);
  }
}

/** What `createVitest` needs so a check run writes Allure results into `resultsDir`. */
export interface AllureVitestOptions {
  reporters: AllureVitestReporter[];
  setupFiles: string[];
}

// Spread into createVitest's options: `reporters: [...own, ...a.reporters], setupFiles: [...a.setupFiles]`.
export function allureVitestConfig(resultsDir: string, redactor: Redactor, scope: CheckReportScope = {}): AllureVitestOptions {
  const require = createRequire(import.meta.url);
  return {
    reporters: [new RedactingAllureVitestReporter(resultsDir, redactor, scope)],
    setupFiles: [require.resolve('allure-vitest/setup')],
  };
}

// ---- inside the vitest worker ---------------------------------------------------------------

/** What a check found, as the check framework holds it (already redacted). */
export interface CheckOutcomeLike {
  status: Exclude<CheckStatus, 'skipped'>;
  message: string;
  expected?: string;
  found?: string;
  evidence: Evidence[];
}

/**
 * Label the running vitest test as check `meta` on `host` and record its outcome: remedy at the top,
 * expected vs found, evidence attached. `inventory` is the deployment's name; `stage` the stage just run.
 */
export async function reportCheckToAllure(
  meta: CheckMeta,
  host: string,
  outcome: CheckOutcomeLike,
  scope: { inventory: string; stage?: string; tutorial?: string },
): Promise<void> {
  const stage = scope.stage ?? meta.remedy.stage;
  await allure.displayName(`[${meta.id}] ${meta.title}`);
  await allure.labels(
    ...scopeLabels({ tutorial: scope.tutorial ?? 'conformance', inventory: scope.inventory, stage, stageTitle: stage, host }, 'check', meta.component),
    { name: 'severity', value: meta.severity },
    { name: 'tag', value: meta.id },
    { name: 'checkId', value: meta.id },
    { name: 'component', value: meta.component },
  );
  await allure.parameter('host', host);
  await allure.parameter('inventory', scope.inventory);
  // The same check on another host or for another student is another history line.
  await allure.testCaseId(historyKey(meta.id, host));
  await allure.historyId(historyKey(scope.inventory, meta.id, host));
  await allure.description(checkDescription({ status: outcome.status, remedy: meta.remedy, expected: outcome.expected, found: outcome.found }));
  await allure.parameter(HIDDEN_STATUS, outcome.status, { mode: 'hidden', excluded: true });
  await allure.parameter(HIDDEN_REMEDY, `Fix (stage ${meta.remedy.stage}): ${meta.remedy.text}`, { mode: 'hidden', excluded: true });
  for (const e of outcome.evidence) await allure.attachment(e.name, e.body, e.contentType);
}
