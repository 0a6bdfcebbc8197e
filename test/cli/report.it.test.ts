// `stackcheck report`: builds html/ and report.html for the latest run or named runs, merges several runs
// (students) into one report, adds one history point per run however often the report is rebuilt.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { EventBus } from '../../src/log.js';
import { Redactor } from '../../src/redact.js';
import { attachAllure } from '../../src/report/allure.js';
import { registerReport } from '../../src/cli/report.js';
import { localStages, runLocally } from '../report/local-run.js';

// A run folder with real Allure results from a local run, as `stackcheck run` leaves it.
function makeRun(reports: string, runId: string, inventory: string, failing: boolean): string {
  const dir = join(reports, runId);
  mkdirSync(dir, { recursive: true });
  const bus = new EventBus();
  attachAllure(bus, {
    resultsDir: join(dir, 'allure-results'),
    redactor: new Redactor([]),
    tutorial: 'Fixture',
    inventory: { name: inventory, hosts: {} },
    version: '0.1.0',
    runId,
  });
  runLocally(localStages([{ id: 'basic', title: 'Basic', steps: [{ host: 'db-node', command: failing ? 'exit 1' : 'true' }] }]), bus, []);
  writeFileSync(join(dir, 'summary.json'), JSON.stringify({ inventory }));
  return dir;
}

// Run `stackcheck report …` in-process, capturing stdout.
async function report(args: string[]): Promise<string> {
  const program = new Command('stackcheck').exitOverride();
  registerReport(program);
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  try {
    await program.parseAsync(['node', 'stackcheck', 'report', ...args]);
  } finally {
    process.stdout.write = write;
  }
  return out;
}

const historyLines = (reports: string): number => readFileSync(join(reports, 'allure-history.jsonl'), 'utf8').trim().split('\n').length;

describe('stackcheck report', () => {
  let reports: string;
  beforeAll(() => {
    reports = join(mkdtempSync(join(tmpdir(), 'sc-cli-report-')), 'reports');
    makeRun(reports, 'run-alice', 'alice', true);
    makeRun(reports, 'run-bob', 'bob', false);
    symlinkSync('run-alice', join(reports, 'latest'));
  });
  afterAll(() => rmSync(join(reports, '..'), { recursive: true, force: true }));

  it('builds the latest run into html/ and a single report.html, and says where', async () => {
    const out = await report(['--reports', reports]);
    expect(existsSync(join(reports, 'run-alice', 'html', 'index.html'))).toBe(true);
    expect(existsSync(join(reports, 'run-alice', 'report.html'))).toBe(true);
    expect(out).toContain(join(reports, 'run-alice', 'report.html'));
    expect(historyLines(reports)).toBe(1);
  });

  it('adds a run to the history once, however often its report is rebuilt', async () => {
    await report(['run-alice', '--reports', reports]);
    expect(historyLines(reports)).toBe(1);
    await report(['run-bob', '--reports', reports]);
    expect(historyLines(reports)).toBe(2);
  });

  it('merges several runs (students) into one report, one Allure environment each', async () => {
    await report(['run-alice', 'run-bob', '--reports', reports]);
    const merged = join(reports, 'merged');
    expect(existsSync(join(merged, 'report.html'))).toBe(true);
    const envs = JSON.parse(readFileSync(join(merged, 'html', 'widgets', 'environments.json'), 'utf8')) as { id: string; name: string }[];
    expect(envs.map((e) => e.name).sort()).toEqual(expect.arrayContaining(['alice', 'bob']));
    expect(historyLines(reports)).toBe(2);
  });

  it('names a missing run clearly (exit code 2)', async () => {
    await expect(report(['nope', '--reports', reports])).rejects.toMatchObject({ code: 'E_ARGS', exitCode: 2, message: expect.stringContaining('no run "nope"') });
  });
});
