// The tutorial regression: from nothing, bring up the lab and run the whole lab tutorial with `stackcheck run`,
// every stage's checks included. Fails on any failed step or check. Slow (tens of minutes): `npm run test:tutorial`.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, test } from 'vitest';
import type { RunSummary } from '../../src/report/summary.js';
import { buildCli, CLI, ROOT } from '../helpers/build.js';

const TUTORIAL = process.env.STACKCHECK_TUTORIAL ?? join(ROOT, 'tutorial-lab');
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
  expect(code).toBe(0);
});
