// One event stream for steps and checks: the check results of a stage, emitted by the engine as events, reach
// every reporter — the terminal's lines, summary.json's counts and JUnit's test cases — with no reporter called
// directly.
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/log.js';
import { Redactor } from '../../src/redact.js';
import { terminalReporter } from '../../src/report/terminal.js';
import { SummaryCollector } from '../../src/report/summary.js';
import { JunitCollector } from '../../src/report/junit.js';
import type { Stage } from '../../src/runner/types.js';
import { checkResults, SECRET } from '../report/checks-fixture.js';

describe('check results as events', () => {
  it('reach the terminal, the summary and JUnit from the same stream', () => {
    const bus = new EventBus();
    let screen = '';
    const off = terminalReporter(bus, { out: { write: (s: string) => (screen += s) }, color: false, spinnerAfterMs: 0 });
    const summary = new SummaryCollector({ runId: 'r1', tutorial: 't', inventory: 'lab', stages: [{ id: 'keystone', title: 'Keystone' }] });
    summary.attach(bus);
    const junit = new JunitCollector('stackcheck lab');
    bus.on((e) => junit.handle(e));

    const stage = { id: 'keystone', title: 'Keystone', steps: [], checks: ['keystone'] } as unknown as Stage;
    const results = checkResults();
    bus.emit({ kind: 'stage-start', stage });
    bus.emit({ kind: 'checks-start', stage: 'keystone', checks: ['keystone'] });
    for (const result of results) bus.emit({ kind: 'check-result', stage: 'keystone', result });
    bus.emit({ kind: 'checks-end', stage: 'keystone', results });
    off();

    expect(screen).toContain('checks after stage keystone: keystone\n');
    expect(screen).toContain('  ✔ keystone.token @ auth-node\n');
    expect(screen).toMatch(/ {2}✘ keystone\.catalog @ auth-node: expected an "image" endpoint <public>, found none — fix: see stage "glance"/);
    expect(screen).toContain(`  ${results.length} checks: 1 passed, 1 failed, 1 broken, 1 skipped\n`);
    expect(summary.summary().counts.checks).toEqual({ total: 4, passed: 1, failed: 1, broken: 1, skipped: 1 });
    const xml = junit.render(new Redactor([SECRET]));
    expect(xml).toContain('keystone.catalog');
    expect(xml).toMatch(/<failure[^>]*>/);
    expect(xml).not.toContain(SECRET);
  });
});
