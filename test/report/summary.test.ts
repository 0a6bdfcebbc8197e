// summary.json and the end-of-run table from a real (local) run plus check results.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from '../../src/log.js';
import { Redactor } from '../../src/redact.js';
import { renderSummary, SummaryCollector, useColor, writeSummary, type RunSummary } from '../../src/report/summary.js';
import { localStages, runLocally } from './local-run.js';
import { checkResults, SECRET } from './checks-fixture.js';

function collect(): RunSummary {
  const bus = new EventBus();
  const c = new SummaryCollector({ runId: 'r1', tutorial: 'tutorial.md', inventory: 'alice' });
  c.attach(bus);
  runLocally(
    localStages([
      { id: 'basic', title: 'Basic', steps: [{ host: 'db-node', command: 'true' }, { host: 'db-node', command: 'echo hi' }] },
      { id: 'keystone', title: 'Keystone', steps: [{ host: 'auth-node', command: `echo ${SECRET}; exit 100` }, { host: 'auth-node', command: 'true' }] },
      { id: 'glance', title: 'Glance', steps: [{ host: 'db-node', command: 'true' }] },
    ]),
    bus,
    [SECRET],
  );
  c.addChecks(checkResults());
  return c.summary();
}

describe('SummaryCollector', () => {
  let dir: string | undefined;
  afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('counts steps and checks per stage and overall, and lists failures with remedies', () => {
    const s = collect();
    expect(s.status).toBe('failed');
    expect(s.counts.steps).toEqual({ total: 4, passed: 2, failed: 1, skipped: 1 });
    expect(s.counts.checks).toEqual({ total: 4, passed: 1, failed: 1, broken: 1, skipped: 1 });
    const keystone = s.stages.find((x) => x.id === 'keystone');
    expect(keystone).toMatchObject({ status: 'failed', steps: { passed: 0, failed: 1, skipped: 0 }, checks: { passed: 1, failed: 1, broken: 0, skipped: 1 } });
    expect(s.stages.find((x) => x.id === 'glance')).toMatchObject({ status: 'not-run', steps: { skipped: 1 } });
    expect(s.checks.find((c) => c.id === 'keystone.catalog')).toMatchObject({ host: 'auth-node', stage: 'keystone', status: 'failed', durationMs: 120, remedy: { stage: 'glance' } });
    expect(s.failures.map((f) => `${f.kind} ${f.id} ${f.host}`)).toEqual(['step keystone/1 auth-node', 'check keystone.catalog auth-node', 'check mysql.server db-node']);
  });

  it('writes summary.json without secrets', () => {
    dir = mkdtempSync(join(tmpdir(), 'sc-sum-'));
    const s = collect();
    s.failures.push({ kind: 'check', id: 'x', host: 'h', stage: 's', status: 'failed', message: `leaked ${SECRET}` });
    const file = writeSummary(dir, s, new Redactor([SECRET]));
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(SECRET);
    expect((JSON.parse(text) as RunSummary).counts.checks.failed).toBe(1);
  });

  it('renders a plain table without colour codes when not a terminal, with reasons, fixes and the report path', () => {
    const text = renderSummary(collect(), { color: false, reportHint: 'Report: reports/r1/report.html' });
    expect(text).not.toContain('\u001b[');
    expect(text).toMatch(/^FAIL keystone\s+0\/1\/0\s+1\/1\/0/m);
    expect(text).toMatch(/^FAIL basic\s+2\/0\/0\s+0\/0\/1/m);
    expect(renderSummary({ ...collect(), stages: [{ id: 'basic', title: 'b', status: 'passed', durationMs: 1500, steps: { passed: 2, failed: 0, skipped: 0 }, checks: { passed: 1, failed: 0, broken: 0, skipped: 0 } }] }, { color: false })).toMatch(/^ok {3}basic\s+2\/0\/0\s+1\/0\/0\s+2s$/m);
    expect(text).toContain('FAIL check keystone.catalog on auth-node: expected an "image" endpoint <public>, found none');
    expect(text).toContain('    fix: (stage glance) create the glance service & its endpoints');
    expect(text).toContain('FAIL step keystone/1 on auth-node (tutorial.md:');
    expect(text.trimEnd().endsWith('Report: reports/r1/report.html')).toBe(true);
  });

  it('uses colour only on a terminal and never with NO_COLOR', () => {
    expect(useColor({ isTTY: true }, {})).toBe(true);
    expect(useColor({ isTTY: false }, {})).toBe(false);
    expect(useColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(useColor({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
    expect(renderSummary(collect(), { color: true })).toContain('\u001b[');
  });
});
