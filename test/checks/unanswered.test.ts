// A check that produced no result is never dropped: broken when the stage named it, skipped with the reason when it
// came in through a component or group about something not installed yet.
import { describe, expect, it } from 'vitest';
import { unanswered } from '../../src/checks/run.js';
import type { CheckResult } from '../../src/checks/types.js';

const passed = (id: string): CheckResult => ({
  id, host: 'auth-node', component: 'keystone', title: '', severity: 'critical', weight: 1, status: 'passed', message: '', remedy: { stage: 'keystone', text: '' }, evidence: [], durationMs: 1,
});

describe('checks without a result', () => {
  it('a check the stage named that produced nothing is broken, naming the stage and why', () => {
    const out = unanswered(['keystone.api', 'keystone.catalog'], [passed('keystone.api')], {
      only: ['keystone.api', 'keystone.catalog'], declaredBy: 'identity', stage: 'identity', installed: ['keystone'],
    });
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ id: 'keystone.catalog', host: 'deployment', status: 'broken', stage: 'identity' });
    expect(out[0]?.message).toBe('declared by stage "identity", produced no result: the check file declared no test for it on this deployment (a defect of the check: report it)');
  });

  it('names what is not installed when that is the reason', () => {
    const [r] = unanswered(['nova.compute-up'], [], { only: ['nova.compute-up'], declaredBy: 'controller', installed: ['keystone', 'nova-controller'] });
    expect(r?.status).toBe('broken');
    expect(r?.message).toContain('it needs nova-compute, which the stages run so far did not install (installed: keystone, nova-controller)');
  });

  it('a group or component member about something not installed is skipped with the reason, not broken', () => {
    const [r] = unanswered(['nova.conductor', 'nova.compute-up'], [passed('nova.conductor')], { only: ['nova.services'], declaredBy: 'controller', installed: ['nova-controller'] });
    expect(r).toMatchObject({ id: 'nova.compute-up', status: 'skipped' });
    expect(r?.message).toMatch(/^not checked: it needs nova-compute/);
  });

  it('a check whose needs are installed and that produced nothing is broken however it was selected', () => {
    const [r] = unanswered(['nova.conductor', 'nova.scheduler'], [passed('nova.conductor')], { only: ['nova'], installed: ['nova-controller'] });
    expect(r).toMatchObject({ id: 'nova.scheduler', status: 'broken' });
    expect(r?.message).toBe('produced no result: the check file declared no test for it on this deployment (a defect of the check: report it)');
  });

  it('every selected check with a result needs nothing more', () => {
    expect(unanswered(['keystone.api'], [passed('keystone.api')], { only: ['keystone'] })).toEqual([]);
  });
});
