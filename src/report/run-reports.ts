// Every report of one run, wired in one place: Allure results for steps, summary.json, junit.xml, the HTML
// report, the secret guard over the whole run folder, and the end-of-run table. The run command calls
// `startRunReports` before executing and `finish` at the end.
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { EventBus } from '../log.js';
import type { Redactor } from '../redact.js';
import type { Inventory } from '../inventory/types.js';
import type { CheckResult } from '../checks/types.js';
import { AllureRunWriter } from './allure.js';
import { buildReport, type BuiltReport } from './html.js';
import { JunitCollector, writeJunit } from './junit.js';
import { assertNoSecrets } from './redact-results.js';
import { renderSummary, SummaryCollector, useColor, writeSummary, type RunSummary } from './summary.js';

export interface RunReportsOptions {
  bus: EventBus;
  /** The run folder (reports/<runId>). */
  runDir: string;
  runId: string;
  redactor: Redactor;
  tutorial: { title?: string; source: string; stages: { id: string; title: string }[]; variants?: { name: string; value: string }[] };
  inventory: Inventory;
  /** stackcheck version (for the report's environment). */
  version: string;
  /** Secret values not named in the inventory (e.g. Plan.secrets), also looked for by the final guard. */
  extraSecrets?: string[];
}

export interface FinishOptions {
  /** Build the HTML report too (default true; ~1 s). */
  html?: boolean;
  /** Where the end-of-run table goes (default stdout; nothing when null). */
  out?: { write(s: string): unknown; isTTY?: boolean } | null;
  /** Force colour on/off (default: a TTY and no NO_COLOR). */
  color?: boolean;
}

export interface FinishedReports {
  summary: RunSummary;
  summaryFile: string;
  junitFile: string;
  report?: BuiltReport;
}

/** Name → value of every secret a run knows, for the leak guard (names appear in its message, values never). */
export function secretsOf(inventory: Pick<Inventory, 'vars' | 'secretNames'>, extra: string[] = []): Record<string, string> {
  const named = Object.fromEntries(inventory.secretNames.flatMap((n) => (inventory.vars[n] ? [[n, inventory.vars[n]]] : [])));
  const known = new Set(Object.values(named));
  extra.filter((v) => !known.has(v)).forEach((v, i) => (named[`secret #${i + 1}`] = v));
  return named;
}

/** The reports of one run; one instance per run (several may live in one process). */
export class RunReports {
  readonly allure: AllureRunWriter;
  private readonly summary: SummaryCollector;
  private readonly junit: JunitCollector;
  private readonly detach: (() => void)[] = [];

  constructor(private readonly opts: RunReportsOptions) {
    const title = opts.tutorial.title ?? opts.tutorial.source;
    this.allure = new AllureRunWriter({
      resultsDir: join(opts.runDir, 'allure-results'),
      redactor: opts.redactor,
      tutorial: title,
      tutorialSource: opts.tutorial.source,
      ...(opts.tutorial.variants ? { variants: opts.tutorial.variants } : {}),
      inventory: opts.inventory,
      version: opts.version,
      runId: opts.runId,
      stages: opts.tutorial.stages,
    });
    this.summary = new SummaryCollector({ runId: opts.runId, tutorial: title, inventory: opts.inventory.name, stages: opts.tutorial.stages });
    this.junit = new JunitCollector(`stackcheck ${opts.inventory.name}`);
    this.detach.push(
      opts.bus.on((e) => this.allure.handle(e)),
      opts.bus.on((e) => this.summary.handle(e)),
      opts.bus.on((e) => this.junit.handle(e)),
    );
  }

  /** Check results for summary and JUnit; `allure: true` also writes them to Allure (when not run under allure-vitest). */
  addChecks(results: readonly CheckResult[], opts: { allure?: boolean } = {}): void {
    this.summary.addChecks(results);
    this.junit.addChecks(results);
    if (opts.allure) for (const r of results) this.allure.writeCheck(r);
  }

  /** Write summary.json and junit.xml, build the HTML report, verify no secret leaked, print the table. */
  async finish(opts: FinishOptions = {}): Promise<FinishedReports> {
    for (const d of this.detach.splice(0)) d();
    const { runDir, redactor, inventory } = this.opts;
    const summary = this.summary.summary();
    const junitFile = join(runDir, 'junit.xml');
    writeJunit(junitFile, this.junit, redactor);
    let report: BuiltReport | undefined;
    const historyPath = join(dirname(runDir), 'allure-history.jsonl');
    if ((opts.html ?? true) && existsSync(join(runDir, 'allure-results'))) {
      report = await buildReport({ resultsDirs: [join(runDir, 'allure-results')], outDir: runDir, name: `stackcheck — ${inventory.name}`, historyPath });
      markHistoryRecorded(runDir);
      summary.report = { html: report.htmlDir, singleFile: report.singleFile };
    }
    const summaryFile = writeSummary(runDir, summary, redactor);
    // Last line of defence, over everything anyone wrote into the run folder.
    const secrets = secretsOf(inventory, this.opts.extraSecrets);
    assertNoSecrets(runDir, secrets);
    // The trend file outlives the run folder (messages of every run are kept in it).
    if (existsSync(historyPath)) assertNoSecrets(historyPath, secrets);
    const out = opts.out === undefined ? process.stdout : opts.out;
    if (out) {
      const where = report ? `Report: ${shortPath(report.singleFile)}  (or: stackcheck report ${this.opts.runId} --serve)` : `Results: ${shortPath(runDir)}`;
      out.write(renderSummary(summary, { color: opts.color ?? useColor(out), reportHint: where }));
    }
    return { summary, summaryFile, junitFile, ...(report ? { report } : {}) };
  }
}

// A path relative to the current folder when it is below it, else absolute.
function shortPath(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel && !rel.startsWith('..') ? rel : p;
}

/** Start all reports of a run (subscribes to its bus). */
export function startRunReports(opts: RunReportsOptions): RunReports {
  return new RunReports(opts);
}

/** The reports of a tutorial's run in a run folder (the tutorial's title, source and stages; this stackcheck's version). */
export function startTutorialReports(
  run: { bus: EventBus; runDir: { dir: string; runId: string }; redactor: Redactor; inventory: Inventory; extraSecrets?: string[] },
  tutorial: { title?: string; source: string; stages: readonly { id: string; title: string }[]; variants?: readonly { name: string; value: string }[] },
  version: string,
): RunReports {
  return startRunReports({
    bus: run.bus,
    runDir: run.runDir.dir,
    runId: run.runDir.runId,
    redactor: run.redactor,
    tutorial: {
      ...(tutorial.title ? { title: tutorial.title } : {}),
      source: tutorial.source,
      stages: tutorial.stages.map(({ id, title }) => ({ id, title })),
      ...(tutorial.variants ? { variants: tutorial.variants.map(({ name, value }) => ({ name, value })) } : {}),
    },
    inventory: run.inventory,
    version,
    ...(run.extraSecrets ? { extraSecrets: run.extraSecrets } : {}),
  });
}

const HISTORY_MARK = '.allure-history-recorded';

// A run adds one point to the trend, however often its report is rebuilt.
export function historyRecorded(runDir: string): boolean {
  return existsSync(join(runDir, HISTORY_MARK));
}

export function markHistoryRecorded(runDir: string): void {
  writeFileSync(join(runDir, HISTORY_MARK), `${new Date().toISOString()}\n`);
}
