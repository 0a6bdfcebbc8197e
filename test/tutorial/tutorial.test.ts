// The tutorial regression: from nothing, bring up the lab and run the whole lab tutorial with `stackcheck run`,
// every stage's checks included. Fails on any failed step or check. Slow (tens of minutes): `npm run test:tutorial`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, test } from 'vitest';
import type { RunSummary } from '../../src/report/summary.js';
import { buildCli, CLI, ROOT } from '../helpers/build.js';
import { tempDir } from '../helpers/tmp.js';
import type { CheckResult } from '../../src/checks/types.js';

// The one tutorial; the lab's vars (tutorial/vars/lab.yaml) choose its lab variants.
const TUTORIAL = process.env.STACKCHECK_TUTORIAL ?? join(ROOT, 'tutorial');
const REPORTS = join(ROOT, 'reports', 'tutorial');

// Run the CLI with its output streamed to ours (CI logs show the progress live).
function cli(args: string[]): Promise<number> {
  return new Promise((done, fail) => {
    const p = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, NO_COLOR: '1' } });
    p.on('error', fail);
    p.on('close', (code) => done(code ?? 1));
  });
}

// The CLI built from this tree; a failed build (type errors included) fails the tier before the lab is touched.
beforeAll(() => {
  buildCli();
});

test('the lab tutorial installs from nothing and every stage\'s checks pass', async () => {
  // From nothing: no lab hosts, no earlier state (the base image and the package cache may be reused).
  expect(await cli(['lab', 'down', '--purge'])).toBe(0);
  const started = Date.now();
  // Stages side by side where the tutorial's after comments allow (2 cores: two at a time).
  const code = await cli(['run', TUTORIAL, '--reports', REPORTS, '--jobs', process.env.STACKCHECK_JOBS ?? '2']);
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);

  const latest = join(REPORTS, 'latest');
  expect(existsSync(latest), `no run folder under ${REPORTS}`).toBe(true);
  const summary = JSON.parse(readFileSync(join(realpathSync(latest), 'summary.json'), 'utf8')) as RunSummary;
  // Wall time per stage, for docs/lab.md.
  for (const s of summary.stages) process.stdout.write(`stage ${s.id.padEnd(36)} ${s.status.padEnd(8)} ${(s.durationMs / 1000).toFixed(0)} s\n`);
  process.stdout.write(`whole tutorial: ${minutes} min\n`);

  expect(summary.stages.filter((s) => s.status !== 'passed').map((s) => `${s.id}: ${s.status}`), 'stages that did not pass').toEqual([]);
  expect(summary.failures.map((f) => `${f.kind} ${f.id} @ ${f.host}: ${f.message}`), 'failed steps and checks').toEqual([]);
  expect(summary.counts.checks.total, 'checks that ran').toBeGreaterThan(0);
  // One tutorial for real machines and the lab: the lab's vars chose the Ceph storage stage, the LVM one was left out.
  const ids = summary.stages.map((s) => s.id);
  expect(ids).toContain('lab-variant-cinder-volume-with-ceph-rbd-on-volume-node');
  expect(ids).not.toContain('cinder-volume-with-lvm-and-iscsi-on-volume-node');
  expect(ids).toHaveLength(12);
  // The reports say which variant ran.
  const env = readFileSync(join(realpathSync(latest), 'allure-results', 'environment.properties'), 'utf8');
  expect(env).toMatch(/^variant\.storage\s*=\s*ceph$/m);
  expect(code).toBe(0);
});

test('the lab remembers what is deployed: a small tutorial run on it afterwards changes nothing `check` expects', () => {
  const run = (args: string[]): { code: number | null; out: string } => {
    const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 600_000 });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  };
  // A one-off fix: one stage, installs nothing, no variables of the tutorial.
  const dir = tempDir('sc-one-off-');
  writeFileSync(join(dir, 'one-off.md'), '# One-off fix\n\n## Look at the clock\n\n    root@db-node:~# date -u\n');
  const fix = run(['run', join(dir, 'one-off.md'), '--reports', join(dir, 'reports')]);
  expect(fix.code, fix.out).toBe(0);

  const status = run(['lab', 'status']);
  expect(status.out).toMatch(/deployed: OpenStack Zed on Debian 12, by hand \(.*tutorial\): 12\/12 stages done/);
  expect(status.out).toMatch(/also ran \(installs nothing, does not change what `check` expects\): One-off fix/);

  // The checks still use the deployment's variables (the passwords the one-off tutorial never had).
  const check = run(['check', '--only', 'keystone.auth,mysql.users,nova.api,cinder.volume', '--json']);
  expect(check.code, check.out).toBe(0);
  const results = JSON.parse(check.out.slice(check.out.indexOf('['))) as CheckResult[];
  expect(results.filter((r) => r.status !== 'passed').map((r) => `${r.id} @ ${r.host}: ${r.message}`)).toEqual([]);
  expect(new Set(results.map((r) => r.id)).size).toBe(4);
});
