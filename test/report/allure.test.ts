// The Allure step writer on real step events: schema-valid results, labels by stage and host, command and output
// attached, failures with the reason, environment and categories, secrets redacted before anything is written.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from '../../src/log.js';
import { Redactor } from '../../src/redact.js';
import { attachAllure, type AllureRunContext } from '../../src/report/allure.js';
import type { CheckResult } from '../../src/checks/types.js';
import { attachmentText, labelOf, readAllureResults } from './allure-schema.js';
import { localStages, runLocally } from './local-run.js';

const SECRET = 'Sup3r-s3cret-DBPASS';

describe('AllureRunWriter', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sc-allure-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const ctx = (): AllureRunContext => ({
    resultsDir: join(dir, 'allure-results'),
    redactor: new Redactor([SECRET]),
    tutorial: 'OpenStack Zed on Debian 12',
    inventory: {
      name: 'alice',
      hosts: {
        'db-node': { role: 'db-node', address: '127.0.0.1', port: 22, user: 'root', hostname: 'db' },
        'auth-node': { role: 'auth-node', address: '127.0.0.1', port: 2222, user: 'root', hostname: 'auth' },
      },
    },
    version: '0.1.0',
    runId: 'r1',
    stages: [
      { id: 'basic', title: 'Basic services' },
      { id: 'keystone', title: 'Keystone' },
      { id: 'glance', title: 'Glance' },
    ],
  });

  function run(): void {
    const bus = new EventBus();
    attachAllure(bus, ctx());
    const stages = localStages([
      { id: 'basic', title: 'Basic services', steps: [{ host: 'db-node', command: `echo installing; printf '\\033[32mdone\\033[0m 50%%\\rdone 100%%\\n'` }] },
      {
        id: 'keystone',
        title: 'Keystone',
        steps: [
          { host: 'auth-node', command: `echo "password=${SECRET}"; echo connecting with ${SECRET}` },
          { host: 'auth-node', command: 'echo "E: Unable to locate package keystonee" >&2; exit 100' },
        ],
      },
      { id: 'glance', title: 'Glance', steps: [{ host: 'db-node', command: 'true' }] },
    ]);
    runLocally(stages, bus, [SECRET]);
  }

  it('writes one schema-valid result per step, navigable by stage then host', () => {
    run();
    const results = readAllureResults(join(dir, 'allure-results'));
    expect(results).toHaveLength(4);
    const byName = new Map(results.map((r) => [r.name, r]));
    const first = [...byName.values()].find((r) => r.name.startsWith('basic/1'));
    expect(first?.status).toBe('passed');
    expect(first && labelOf(first, 'parentSuite')).toBe('01 · Basic services');
    expect(first && labelOf(first, 'suite')).toBe('db-node');
    expect(first && labelOf(first, 'subSuite')).toBe('Steps');
    expect(first && labelOf(first, 'epic')).toBe('OpenStack Zed on Debian 12');
    expect(first && labelOf(first, 'feature')).toBe('01 · Basic services');
    expect(first && labelOf(first, 'host')).toBe('db-node');
    expect(first && labelOf(first, 'owner')).toBe('alice');
    expect(first && labelOf(first, 'severity')).toBe('critical');
    // Output is stored as plain text: escapes gone, the progress line as it finally looked.
    expect(first && attachmentText(join(dir, 'allure-results'), first, 'stdout')).toBe('installing\ndone 100%\n');
    expect(first && attachmentText(join(dir, 'allure-results'), first, 'command')).toContain('echo installing');
  });

  it('marks the failing step failed with the reason and the error lines, and the steps after it skipped', () => {
    run();
    const results = readAllureResults(join(dir, 'allure-results'));
    const failed = results.find((r) => r.status === 'failed');
    expect(failed?.name).toMatch(/^keystone\/2 · echo "E: Unable/);
    expect(failed?.statusDetails.message).toMatch(/^Step keystone\/2 on auth-node failed \(tutorial\.md:\d+\): exit code 100/);
    expect(failed?.statusDetails.trace).toContain('E: Unable to locate package keystonee');
    expect(failed && labelOf(failed, 'parentSuite')).toBe('02 · Keystone');
    const skipped = results.find((r) => r.status === 'skipped');
    expect(skipped?.name).toMatch(/^glance\/1/);
    expect(skipped?.statusDetails.message).toContain('an earlier step failed');
    // Same step, same student → same history id on the next run; another student → another.
    expect(new Set(results.map((r) => r.historyId)).size).toBe(4);
  });

  it('writes environment info and categories', () => {
    run();
    const env = readFileSync(join(dir, 'allure-results', 'environment.properties'), 'utf8');
    expect(env).toContain('inventory=alice');
    expect(env).toContain('tutorial=OpenStack Zed on Debian 12');
    expect(env).toMatch(/target\.hosts=db-node=root@127\.0\.0\.1:22, auth-node=root@127\.0\.0\.1:2222/);
    expect(env).toContain('stackcheck.version=0.1.0');
    const cats = JSON.parse(readFileSync(join(dir, 'allure-results', 'categories.json'), 'utf8')) as { name: string }[];
    expect(cats.map((c) => c.name)).toEqual(['Step failed', 'Check failed', 'Check broken']);
  });

  it('never writes a secret, even one the step echoed', () => {
    run();
    const all = readdirSync(join(dir, 'allure-results')).map((f) => readFileSync(join(dir, 'allure-results', f), 'utf8'));
    expect(all.join('\n')).not.toContain(SECRET);
    expect(all.join('\n')).toContain('password=••••••');
  });

  it('writes a check result with its remedy, host identity and evidence', () => {
    const bus = new EventBus();
    const { writer } = attachAllure(bus, ctx());
    const base: CheckResult = {
      id: 'keystone.catalog',
      host: 'auth-node',
      component: 'keystone',
      title: 'Catalog holds every service',
      severity: 'critical',
      weight: 2,
      status: 'failed',
      message: 'expected an image endpoint, found none',
      remedy: { stage: 'glance', text: 'create the glance service and its three endpoints' },
      evidence: [{ name: 'catalog', contentType: 'application/json', body: `{"token":"${SECRET}"}` }],
      durationMs: 42,
      stage: 'keystone',
    };
    writer.writeCheck(base);
    writer.writeCheck({ ...base, host: 'auth-node-2', status: 'passed', message: '' });
    const results = readAllureResults(join(dir, 'allure-results'));
    expect(results).toHaveLength(2);
    const failed = results.find((r) => r.status === 'failed');
    expect(failed?.statusDetails.message).toBe(
      'Check keystone.catalog on auth-node failed: expected an image endpoint, found none\nFix (stage glance): create the glance service and its three endpoints',
    );
    expect(failed?.description).toMatch(/^\*\*Remedy\*\* \(tutorial stage `glance`\)/);
    expect(failed && labelOf(failed, 'subSuite')).toBe('Checks');
    expect(failed && labelOf(failed, 'parentSuite')).toBe('02 · Keystone');
    expect(failed && attachmentText(join(dir, 'allure-results'), failed, 'catalog')).toBe('{"token":"••••••"}');
    expect(results[0]?.historyId).not.toBe(results[1]?.historyId);
  });

  it('on --resume keeps the earlier result of a step skipped as completed, instead of a skipped one', () => {
    run();
    const before = readAllureResults(join(dir, 'allure-results'));
    const bus = new EventBus();
    attachAllure(bus, ctx());
    const [basic] = localStages([{ id: 'basic', title: 'Basic services', steps: [{ host: 'db-node', command: 'x' }, { host: 'db-node', command: 'y' }] }]);
    const [done, fresh] = basic?.steps ?? [];
    if (!done || !fresh) throw new Error('no steps');
    bus.emit({ kind: 'step-skip', step: done, reason: 'completed in an earlier attempt of this run (--resume)' });
    bus.emit({ kind: 'step-skip', step: fresh, reason: 'dry run' });
    const after = readAllureResults(join(dir, 'allure-results'));
    expect(after).toHaveLength(before.length + 1);
    expect(after.filter((r) => r.name.startsWith('basic/1')).map((r) => r.status)).toEqual(['passed']);
    expect(after.filter((r) => r.name.startsWith('basic/2')).map((r) => r.status)).toEqual(['skipped']);
  });
});
