// summary.json and the end-of-run table from a real (local) run plus check results.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { EventBus } from '../../src/log.js';
import { Redactor } from '../../src/redact.js';
import { renderSummary, SummaryCollector, TABLE_WIDTH, useColor, writeSummary, type RunSummary, type StageSummary } from '../../src/report/summary.js';
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

// The lab's stage ids (tutorial/ with its storage=ceph variant), the long ones included.
const LAB_STAGE_IDS = [
  'overview-and-hosts',
  'mysql-mariadb-on-db-node',
  'rabbitmq-on-db-node',
  'keystone-on-auth-node',
  'glance-on-image-node',
  'placement-and-the-nova-controller-on-api-node',
  'neutron-on-network-node-and-compute-1',
  'nova-compute-on-compute-1',
  'cinder-api-and-scheduler-on-api-node',
  'lab-variant-cinder-volume-with-ceph-rbd-on-volume-node',
  'horizon-on-api-node',
  'first-instance',
];

// A finished run of those stages, with counts and times of different widths.
function labRun(ids: string[]): RunSummary {
  const stages = ids.map(
    (id, i): StageSummary => ({
      id,
      title: id,
      status: i === 5 ? 'failed' : i > 9 ? 'not-run' : 'passed',
      durationMs: [400, 9_000, 61_000, 754_000][i % 4] ?? 0,
      steps: { passed: i * 3, failed: i === 5 ? 1 : 0, skipped: i > 9 ? 12 : 0 },
      checks: { passed: i * 11, failed: i === 5 ? 2 : 0, broken: 0, skipped: 0 },
    }),
  );
  return { runId: 'r2', tutorial: 'tutorial', inventory: 'lab', status: 'failed', startedAt: '', durationMs: 3_600_000, counts: { steps: { total: 0, passed: 0, failed: 0, skipped: 0 }, checks: { total: 0, passed: 0, failed: 0, broken: 0, skipped: 0 } }, stages, checks: [], failures: [] };
}

// The table's header and stage rows (colour codes removed), and where each column starts or ends on each.
function columns(text: string, stages: number): { lines: string[]; steps: number[]; checks: number[]; timeEnd: number[] } {
  const lines = stripVTControlCharacters(text).split('\n').slice(0, stages + 1);
  const cells = lines.slice(1).map((l) => /(?<steps>\d+\/\d+\/\d+) +(?<checks>\d+\/\d+\/\d+) +\S+$/d.exec(l)?.indices?.groups);
  const head = lines[0] ?? '';
  return {
    lines,
    steps: [head.indexOf('Steps ok/fail/skip'), ...cells.map((g) => g?.steps?.[0] ?? -1)],
    checks: [head.indexOf('Checks ok/fail/broken'), ...cells.map((g) => g?.checks?.[0] ?? -1)],
    timeEnd: lines.map((l) => l.length),
  };
}

describe('the end-of-run table with long stage ids', () => {
  it.each([false, true])('keeps every count column in line with its header, in at most 100 columns (colour: %s)', (color) => {
    const text = renderSummary(labRun(LAB_STAGE_IDS), { color });
    const { lines, steps, checks, timeEnd } = columns(text, LAB_STAGE_IDS.length);
    expect(new Set(steps).size, lines.join('\n')).toBe(1);
    expect(new Set(checks).size, lines.join('\n')).toBe(1);
    expect(new Set(timeEnd).size, lines.join('\n')).toBe(1);
    expect(steps[0]).toBeGreaterThan(0);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(TABLE_WIDTH);
    // Ids that fit are whole; the longest are cut with '…' and still recognisable; the table says where they are whole.
    expect(lines.some((l) => /\bneutron-on-network-node-and-compute-1 /.test(l))).toBe(true);
    const cut = lines.find((l) => l.includes('lab-variant-cinder-volume-with-ceph-rbd'));
    expect(cut).toMatch(/ lab-variant-cinder-volume-with-ceph-rbd-on[a-z-]*… /);
    expect(text).toContain('… marks a shortened stage id: summary.json and `stackcheck plan` show it in full');
  });

  it('sizes the stage column to the longest id when all fit, without shortening any', () => {
    const ids = ['basic', 'neutron-on-network-node-and-compute-1', 'placement-and-the-nova-controller-on-api-node'];
    const text = renderSummary(labRun(ids), { color: false });
    const { lines, steps, checks } = columns(text, ids.length);
    expect(new Set(steps).size).toBe(1);
    expect(new Set(checks).size).toBe(1);
    // "FAIL " then the longest id (45 columns, just fits) then two spaces: the counts start right after it.
    expect(steps[0]).toBe(5 + 'placement-and-the-nova-controller-on-api-node'.length + 2);
    for (const id of ids) expect(lines.some((l) => l.includes(` ${id} `))).toBe(true);
    expect(text).not.toContain('…');
  });
});
