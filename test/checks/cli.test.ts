import { describe, expect, test } from 'vitest';
import { checkCommand, sortResults } from '../../src/cli/check.js';
import { formatResult, summaryLine } from '../../src/report/check-lines.js';
import type { CheckResult } from '../../src/checks/types.js';
import { remedyInTutorial } from '../../src/checks/run.js';
import { serverFaultRemedy } from '../../src/checks/api.js';
import { StackcheckError } from '../../src/error.js';

const base: CheckResult = {
  id: 'nova.compute-up',
  host: 'compute-1',
  component: 'nova',
  title: 'nova-compute is up and enabled',
  severity: 'blocker',
  weight: 3,
  status: 'failed',
  message: 'expected nova-compute on compute-1 to be up and enabled, found state=down (last heartbeat 3 min ago)',
  remedy: { stage: 'nova-compute', text: 'systemctl status nova-compute; check transport_url in /etc/nova/nova.conf' },
  evidence: [],
  durationMs: 12,
};

describe('check command output', () => {
  test('a failure is one line: id @ host, expected/found, the remedy', () => {
    expect(formatResult(base)).toBe(
      '✘ nova.compute-up @ compute-1: expected nova-compute on compute-1 to be up and enabled, found state=down (last heartbeat 3 min ago) — fix: see stage "nova-compute" (systemctl status nova-compute; check transport_url in /etc/nova/nova.conf)',
    );
  });

  test('passed, broken and skipped read differently; no colour codes unless asked', () => {
    expect(formatResult({ ...base, status: 'passed', message: '' })).toBe('✔ nova.compute-up @ compute-1');
    expect(formatResult({ ...base, status: 'broken', message: 'cannot check: cannot reach compute-1 over SSH' })).toBe(
      '! nova.compute-up @ compute-1: cannot check: cannot reach compute-1 over SSH — fix: see stage "nova-compute" (systemctl status nova-compute; check transport_url in /etc/nova/nova.conf)',
    );
    expect(formatResult({ ...base, status: 'skipped', message: 'not run' })).toBe('- nova.compute-up @ compute-1 (not run)');
  });

  test('with the tutorial known, the remedy names the stage by its heading, and a fault can point elsewhere', () => {
    const stages = [
      { id: 'placement-and-the-nova-controller-on-api-node', title: 'Placement and the Nova controller on api-node', installs: ['placement', 'nova-controller'] },
      { id: 'nova-compute-on-compute-1', title: 'Nova compute on compute-1', installs: ['nova-compute'] },
    ];
    const r = { ...base, remedy: remedyInTutorial(base.remedy, stages) };
    expect(formatResult(r)).toContain('— fix: see "Nova compute on compute-1" (nova-compute-on-compute-1) (systemctl status nova-compute;');
    // "No valid host" is the scheduler and Placement, not the compute host
    const noValidHost = serverFaultRemedy('No valid host was found. There are not enough hosts available.');
    expect(noValidHost?.stage).toBe('placement');
    expect(remedyInTutorial(noValidHost!, stages)).toMatchObject({ stage: 'placement-and-the-nova-controller-on-api-node', stageTitle: 'Placement and the Nova controller on api-node' });
    expect(serverFaultRemedy('Build of instance x aborted: Failed to allocate the network(s), not rescheduling.')?.stage).toBe('neutron');
    expect(serverFaultRemedy('something unexpected')).toBeUndefined();
  });

  test('the same check on two hosts stays two lines, in registry then host order', () => {
    const sorted = sortResults([{ ...base, host: 'compute-2' }, { ...base, id: 'mysql.server', host: 'db-node', component: 'mysql' }, base]);
    expect(sorted.map((r) => `${r.id}@${r.host}`)).toEqual(['mysql.server@db-node', 'nova.compute-up@compute-1', 'nova.compute-up@compute-2']);
    expect(summaryLine(sorted)).toBe('3 checks: 0 passed, 3 failed, 0 broken, 0 skipped');
  });

  test('bad input is exit code 2 before anything connects', async () => {
    await expect(checkCommand({ only: 'nova.nope' })).rejects.toMatchObject({ exitCode: 2 });
    await expect(checkCommand({ inventory: '/nonexistent.yaml', only: 'nova.nope' })).rejects.toBeInstanceOf(StackcheckError);
    await expect(checkCommand({ inventory: '/nonexistent.yaml' })).rejects.toMatchObject({ exitCode: 2, code: 'E_INVENTORY' });
  });
});
