// End to end: a real run against a real sshd (passing and failing steps, a planted secret echoed by a step)
// and a real vitest check run through allure-vitest, then every report: Allure results (schema), JUnit
// (parsed), summary.json (counts), the HTML report rendered in headless Chromium (failing check and remedy
// visible), no secret anywhere under the run folder, and no reference to an outside host in the HTML.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createServer, type AddressInfo } from 'node:net';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { EventBus } from '../../src/log.js';
import { Redactor } from '../../src/redact.js';
import { executePlan } from '../../src/runner/execute.js';
import { RunDir } from '../../src/runner/run-dir.js';
import type { CheckResult } from '../../src/checks/types.js';
import { allureVitestConfig } from '../../src/report/allure-checks.js';
import { startRunReports } from '../../src/report/run-reports.js';
import type { RunSummary } from '../../src/report/summary.js';
import { assertNoSecrets, findSecretLeaks } from '../../src/report/redact-results.js';
import { buildReport, outsideUrls, reportCode, type BuiltReport } from '../../src/report/html.js';
import { serveReport } from '../../src/report/serve.js';
import { startSshd, type TestSshd } from '../helpers/sshd.js';
import { prerequisite, requires } from '../helpers/requires.js';
import { loadInventory } from '../../src/inventory/load.js';
import { parseTutorial } from '../../src/runner/parse.js';
import { resolvePlan } from '../../src/runner/plan.js';
import { attachmentsOf, labelOf, readAllureResults, type AllureResult } from './allure-schema.js';
import { FIXTURE_CHECKS } from './fixtures/check-table.js';

const exec = promisify(execFile);
const CHROMIUM = '/usr/bin/chromium';
const withChromium = requires(prerequisite.chromium(CHROMIUM));
const SECRET = 'Pl4nted-Secr3t-9f2c';
const TUTORIAL = 'Fixture tutorial';

// Chromium's own service endpoints: it calls them even with background networking disabled (not the page's doing).
const CHROMIUM_SERVICES = /(^|\.)googleapis\.com$|^accounts\.google\.com$|^clients\d*\.google\.com$|(^|\.)gvt1\.com$/;

// A proxy that answers nothing and records which hosts Chromium tried to reach: nothing leaves the machine,
// and the test sees every request a page makes to an outside host.
async function blackHoleProxy(): Promise<{ url: string; hosts: string[]; close: () => Promise<void> }> {
  const hosts: string[] = [];
  const server = createServer((sock) => {
    sock.once('data', (d) => {
      const target = /^[A-Z]+ (?:https?:\/\/)?([^/:\s]+)/.exec(d.toString('latin1'))?.[1];
      if (target) hosts.push(target);
      sock.destroy();
    });
    sock.on('error', () => undefined);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hosts, close: () => new Promise<void>((ok) => server.close(() => ok())) };
}

// Headless Chromium with the flags, a fresh profile, every outside request sent to the black hole.
async function chromium(args: string[], proxy: string): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'sc-chromium-'));
  try {
    const { stdout } = await exec(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-features=AutofillServerCommunication,NetworkTimeServiceQuerying,OptimizationHints',
        `--user-data-dir=${profile}`,
        `--proxy-server=${proxy}`,
        '--virtual-time-budget=5000',
        ...args,
      ],
      { maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
    );
    return stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

// Hosts a page itself asked for (Chromium's own housekeeping left out).
const pageHosts = (hosts: string[]): string[] => [...new Set(hosts.filter((h) => !CHROMIUM_SERVICES.test(h)))];

// Every file under a folder.
function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map((n) => join(dir, String(n)))
    .filter((p) => statSync(p).isFile());
}

requires(prerequisite.sshd()).describe('reports of a real run', () => {
  let sshd: TestSshd;
  let work: string;
  let runDir: string;
  let resultsDir: string;
  let built: BuiltReport;
  let checkResults: CheckResult[];
  let table = '';
  let proxy: Awaited<ReturnType<typeof blackHoleProxy>>;

  beforeAll(async () => {
    proxy = await blackHoleProxy();
    sshd = await startSshd();
    work = mkdtempSync(join(tmpdir(), 'sc-report-'));
    // A real tutorial and inventory on disk: the secret lives in the inventory's secrets file, a step echoes it.
    writeFileSync(
      join(work, 'tutorial.md'),
      [
        `# ${TUTORIAL}`,
        '## Basic',
        '```sh host=db-node',
        'echo installing mariadb; printf "\\033[32mok\\033[0m\\n"',
        '```',
        '```sh host=db-node',
        'echo "the password is {{ DB_PASS }}"',
        '```',
        '## Keystone',
        '```sh host=auth-node',
        'echo "E: Unable to locate package keystonee" >&2; exit 100',
        '```',
        '## Glance',
        '```sh host=db-node',
        'true',
        '```',
        '',
      ].join('\n'),
    );
    const host = `address: ${sshd.address}\n    port: ${sshd.port}\n    user: ${sshd.user}\n    key: ${sshd.keyFile}`;
    writeFileSync(join(work, 'secrets.yaml'), `DB_PASS: ${SECRET}\n`, { mode: 0o600 });
    writeFileSync(
      join(work, 'alice.yaml'),
      `name: alice\nssh:\n  known_hosts: ${sshd.knownHostsFile}\nhosts:\n  db-node:\n    ${host}\n  auth-node:\n    ${host}\nsecrets_file: ./secrets.yaml\n`,
    );
    const inventory = await loadInventory(join(work, 'alice.yaml'));
    const plan = resolvePlan(await parseTutorial(join(work, 'tutorial.md')), inventory);
    const stages = plan.tutorial.stages.map((s) => ({ id: s.id, title: s.title }));
    const redactor = new Redactor(plan.secrets);
    const rd = await RunDir.create(join(work, 'reports'), { tutorial: plan.tutorial.source, inventory: inventory.file });
    runDir = rd.dir;
    resultsDir = join(runDir, 'allure-results');

    const bus = new EventBus();
    const reports = startRunReports({ bus, runDir, runId: rd.runId, redactor, tutorial: { title: plan.tutorial.title ?? TUTORIAL, source: plan.tutorial.source, stages }, inventory, version: '0.1.0', extraSecrets: plan.secrets });
    await executePlan(plan, { bus, runDir: rd, defaultRetryDelayMs: 10 });

    // The checks: a real vitest run of a check file through allure-vitest, as the check runner does it.
    const allure = allureVitestConfig(resultsDir, redactor, { tutorial: TUTORIAL, stages });
    const { createVitest } = await import('vitest/node');
    const root = resolve(import.meta.dirname, '../..');
    const exitCode = process.exitCode;
    const vitest = await createVitest(
      'test',
      {
        root,
        config: false,
        watch: false,
        include: ['test/report/fixtures/checks.fixture.ts'],
        reporters: allure.reporters,
        setupFiles: allure.setupFiles,
        provide: { reportFixture: { inventory: inventory.name, stage: 'keystone', secret: SECRET } },
        silent: true,
      },
      { logLevel: 'silent' },
    );
    try {
      const run = await vitest.start();
      checkResults = run.testModules.flatMap((m) =>
        [...m.children.allTests()].map((tc) => {
          const fx = FIXTURE_CHECKS.find((c) => `${c.meta.id} @ ${c.host}` === tc.name);
          if (!fx) throw new Error(`unexpected test ${tc.name}`);
          const o = fx.outcome(SECRET);
          const state = tc.result().state;
          return {
            ...o,
            id: fx.meta.id,
            host: fx.host,
            component: fx.meta.component,
            title: fx.meta.title,
            severity: fx.meta.severity,
            weight: fx.meta.weight,
            status: state === 'passed' ? 'passed' : o.status,
            message: redactor.redact(o.message),
            evidence: o.evidence.map((e) => ({ ...e, body: redactor.redact(e.body) })),
            remedy: fx.meta.remedy,
            durationMs: Math.round(tc.diagnostic()?.duration ?? 0),
            stage: 'keystone',
          } satisfies CheckResult;
        }),
      );
    } finally {
      await vitest.close();
      process.exitCode = exitCode;
    }
    reports.addChecks(checkResults);
    const finished = await reports.finish({ out: { write: (t: string) => (table += t) } });
    if (!finished.report) throw new Error('no HTML report built');
    built = finished.report;
  });

  afterAll(async () => {
    await proxy?.close();
    await sshd?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('writes schema-valid Allure results for every step and check, labelled by stage and host', () => {
    const results = readAllureResults(resultsDir);
    const steps = results.filter((r) => labelOf(r, 'layer') === 'step');
    const checks = results.filter((r) => labelOf(r, 'layer') === 'check');
    // The run stops at the failing step: glance never runs.
    expect(steps.map((r) => `${r.name.split(' ')[0]} ${r.status}`).sort()).toEqual(['basic/1 passed', 'basic/2 passed', 'keystone/1 failed']);
    expect(checks.map((r) => `${labelOf(r, 'checkId')}@${labelOf(r, 'host')} ${r.status}`).sort()).toEqual([
      'keystone.catalog@auth-node failed',
      'keystone.token@auth-node passed',
      'mysql.server@db-node broken',
    ]);
    // Steps and checks of a stage sit under the same stage node, then per host.
    const catalog = checks.find((r) => labelOf(r, 'checkId') === 'keystone.catalog') as AllureResult;
    const failedStep = steps.find((r) => r.status === 'failed') as AllureResult;
    for (const name of ['parentSuite', 'feature']) expect(labelOf(catalog, name)).toBe('02 · Keystone');
    expect(labelOf(failedStep, 'parentSuite')).toBe('02 · Keystone');
    expect([labelOf(catalog, 'suite'), labelOf(catalog, 'subSuite'), labelOf(catalog, 'story'), labelOf(catalog, 'epic')]).toEqual(['auth-node', 'Checks', 'keystone', TUTORIAL]);
    expect(catalog.labels.filter((l) => l.name === 'host')).toEqual([{ name: 'host', value: 'auth-node' }]);
    expect(labelOf(catalog, 'severity')).toBe('critical');
    expect(catalog.statusDetails.message).toContain('Fix (stage glance): Create the glance service');
    expect(catalog.description).toMatch(/^\*\*Remedy\*\* \(tutorial stage `glance`\)/);
    expect(catalog.parameters.map((p) => p.name)).not.toContain('stackcheck.remedy');
    expect(attachmentsOf(catalog).map((a) => a.name)).toEqual(['catalog response']);
    expect(failedStep.attachments.map((a) => a.name)).toEqual(['command', 'stderr']);
  });

  it('writes JUnit a parser accepts and summary.json with the right counts', () => {
    const xml = readFileSync(join(runDir, 'junit.xml'), 'utf8');
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false }).parse(xml) as { testsuites: Record<string, string> };
    expect([doc.testsuites['@_tests'], doc.testsuites['@_failures'], doc.testsuites['@_errors'], doc.testsuites['@_skipped']]).toEqual(['6', '2', '1', '0']);
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as RunSummary;
    expect(summary.status).toBe('failed');
    expect(summary.stages.map((s) => `${s.id}:${s.status}`)).toEqual(['basic:passed', 'keystone:failed', 'glance:not-run']);
    expect(summary.counts).toEqual({ steps: { total: 3, passed: 2, failed: 1, skipped: 0 }, checks: { total: 3, passed: 1, failed: 1, broken: 1, skipped: 0 } });
    expect(summary.checks.find((c) => c.id === 'keystone.catalog')).toMatchObject({ host: 'auth-node', status: 'failed', remedy: { stage: 'glance' } });
  });

  it('prints the end-of-run table with the failures, their remedies and where the report is (no colour off a TTY)', () => {
    expect(table).not.toContain('\u001b[');
    expect(table).toMatch(/^FAIL keystone\s+0\/1\/0\s+1\/1\/1/m);
    expect(table).toContain('FAIL check keystone.catalog on auth-node: expected an image endpoint in region RegionOne, found none');
    expect(table).toContain('fix: (stage glance) Create the glance service');
    expect(table).toMatch(/Report: .*report\.html/);
  });

  it('leaves the planted secret nowhere under the run folder, raw Allure results and HTML included', () => {
    // The step really echoed it, and the check really attached it: what is stored is the mask.
    const stepLog = files(runDir).find((f) => f.includes(`${join('steps', 'basic')}`) && f.endsWith('2.log'));
    expect(stepLog && readFileSync(stepLog, 'utf8')).toContain('the password is ••••••');
    expect(files(resultsDir).some((f) => readFileSync(f, 'utf8').includes('"password":"••••••"'))).toBe(true);
    expect(findSecretLeaks(runDir, { DB_PASS: SECRET })).toEqual([]);
    expect(() => assertNoSecrets(runDir, { DB_PASS: SECRET })).not.toThrow();
  });

  it('generates HTML that references no outside host (no analytics, no CDN)', () => {
    const pages = [built.singleFile, ...files(built.htmlDir).filter((f) => /\.(html|js|css)$/.test(f))];
    expect(pages.length).toBeGreaterThan(1);
    for (const p of pages) {
      const code = reportCode(readFileSync(p, 'utf8'));
      expect({ page: p, urls: outsideUrls(code) }).toEqual({ page: p, urls: [] });
      expect(code).not.toMatch(/googletagmanager|gtag\(/);
    }
  });

  withChromium.it('shows the failing check and its remedy in the rendered single-file report (headless Chromium)', async () => {
    const data = files(join(built.htmlDir, 'data', 'test-results')).map((f) => JSON.parse(readFileSync(f, 'utf8')) as { id: string; name: string });
    const failing = data.find((t) => t.name.startsWith('[keystone.catalog]'));
    expect(failing).toBeDefined();
    const url = `file://${built.singleFile}#${failing?.id}`;
    const dom = await chromium(['--dump-dom', url], proxy.url);
    expect(dom).toContain('[keystone.catalog] The catalog holds an image endpoint');
    expect(dom).toContain('expected an image endpoint in region RegionOne, found none');
    expect(dom).toContain('Create the glance service and its public, internal and admin endpoints');
    expect(dom).not.toContain(SECRET);
    const shot = join(work, 'failing-check.png');
    await chromium([`--screenshot=${shot}`, '--window-size=1400,1000', url], proxy.url);
    // Opening the report made no request to any outside host.
    expect(pageHosts(proxy.hosts)).toEqual([]);
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    // Kept as a CI artifact.
    const artifacts = resolve(import.meta.dirname, '../../reports/artifacts');
    mkdirSync(artifacts, { recursive: true });
    copyFileSync(shot, join(artifacts, 'report-failing-check.png'));
  });

  withChromium.it('control: the same results rendered by Allure unmodified would call Google Analytics', async () => {
    const raw = join(work, 'raw');
    const cli = join(resolve(import.meta.dirname, '../..'), 'node_modules', 'allure', 'cli.js');
    await exec(process.execPath, [cli, 'awesome', resultsDir, '--single-file', '-o', raw], { cwd: work, timeout: 120_000 });
    const control = await blackHoleProxy();
    try {
      await chromium(['--dump-dom', `file://${join(raw, 'index.html')}`], control.url);
      expect(pageHosts(control.hosts)).toContain('www.googletagmanager.com');
    } finally {
      await control.close();
    }
  });

  withChromium.it('serves the multi-file report on 127.0.0.1, where it renders', async () => {
    const server = await serveReport(built.htmlDir);
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const dom = await chromium(['--dump-dom', server.url], proxy.url);
      expect(pageHosts(proxy.hosts)).toEqual([]);
      expect(dom).toContain('[keystone.catalog] The catalog holds an image endpoint');
      expect((await fetch(new URL('../../etc/passwd', server.url))).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('keeps history across reports so trends build up', async () => {
    const history = join(work, 'reports', 'allure-history.jsonl');
    expect(readFileSync(history, 'utf8').trim().split('\n')).toHaveLength(1);
    await buildReport({ resultsDirs: [resultsDir], outDir: join(work, 'again'), name: 'again', historyPath: history });
    const lines = readFileSync(history, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { testResults: Record<string, { status: string }> });
    expect(lines).toHaveLength(2);
    expect(Object.values(lines[1]?.testResults ?? {}).map((t) => t.status).sort()).toEqual(['broken', 'failed', 'failed', 'passed', 'passed', 'passed']);
  });
});
