// What the allure-vitest reporter does to a check's result before writing it: our labels win over
// allure-vitest's defaults, the check's own status and remedy replace allure-vitest's guesses.
import { describe, expect, it } from 'vitest';
import type { TestResult } from 'allure-js-commons';
import { Redactor } from '../../src/redact.js';
import { allureVitestConfig, dedupeLabels, finishCheckResult, RedactingAllureVitestReporter } from '../../src/report/allure-checks.js';

// A result shaped as allure-vitest hands it to listeners (its labels first, then the check's).
function vitestResult(status: 'passed' | 'broken', hidden: Record<string, string>): TestResult {
  return {
    uuid: 'u',
    name: 'keystone.catalog @ auth-node',
    status: status as TestResult['status'],
    statusDetails: { message: 'expected an image endpoint, found none' },
    stage: 'finished' as TestResult['stage'],
    steps: [],
    attachments: [],
    parameters: [{ name: 'host', value: 'auth-node' }, ...Object.entries(hidden).map(([name, value]) => ({ name, value, mode: 'hidden' as const, excluded: true }))],
    labels: [
      { name: 'suite', value: 'checks/keystone.check.ts' },
      { name: 'host', value: 'ci-runner-7' },
      { name: 'framework', value: 'vitest' },
      { name: 'suite', value: 'auth-node' },
      { name: 'host', value: 'auth-node' },
      { name: 'stage', value: 'glance' },
      { name: 'parentSuite', value: 'glance' },
      { name: 'tag', value: 'a' },
      { name: 'tag', value: 'b' },
    ],
    links: [],
  };
}

describe('finishCheckResult', () => {
  it('keeps one value of single-valued labels (ours, the last) and every tag', () => {
    expect(dedupeLabels(vitestResult('passed', {}).labels).map((l) => `${l.name}=${l.value}`)).toEqual([
      'framework=vitest',
      'suite=auth-node',
      'host=auth-node',
      'stage=glance',
      'parentSuite=glance',
      'tag=a',
      'tag=b',
    ]);
  });

  it('restores the check status (allure-vitest calls every non-assertion error broken) and adds the remedy', () => {
    const r = vitestResult('broken', { 'stackcheck.status': 'failed', 'stackcheck.remedy': 'Fix (stage glance): create the endpoints' });
    finishCheckResult(r, { tutorial: 'Zed', stages: [{ id: 'keystone', title: 'Keystone' }, { id: 'glance', title: 'Glance' }] });
    expect(r.status).toBe('failed');
    expect(r.statusDetails.message).toBe('expected an image endpoint, found none\nFix (stage glance): create the endpoints');
    expect(r.parameters).toEqual([{ name: 'host', value: 'auth-node' }]);
    const label = (n: string): string[] => r.labels.filter((l) => l.name === n).map((l) => l.value);
    expect(label('parentSuite')).toEqual(['02 · Glance']);
    expect(label('feature')).toEqual(['02 · Glance']);
    expect(label('epic')).toEqual(['Zed']);
  });

  it('leaves results of other tests alone', () => {
    const r = vitestResult('broken', {});
    finishCheckResult(r, {});
    expect(r.status).toBe('broken');
    expect(r.statusDetails.message).toBe('expected an image endpoint, found none');
  });
});

describe('allureVitestConfig', () => {
  it('gives createVitest a redacting allure-vitest reporter and its setup file', () => {
    const cfg = allureVitestConfig('/tmp/results', new Redactor(['x-secret']));
    expect(cfg.reporters).toHaveLength(1);
    expect(cfg.reporters[0]).toBeInstanceOf(RedactingAllureVitestReporter);
    expect(cfg.setupFiles[0]).toMatch(/allure-vitest\/dist\/setup\.js$/);
  });
});
