// The prerequisite gate of the integration suites: outside CI a missing prerequisite skips with its reason,
// on CI it fails the suite naming what is missing and how to install it.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decide, onCi, type Prerequisite } from './requires.js';
import { tempDir } from './tmp.js';

const ROOT = resolve(import.meta.dirname, '../..');
const sshd: Prerequisite = { what: 'sshd (/usr/sbin/sshd)', ok: false, how: '`apt-get install openssh-server` (scripts/setup.sh installs it)' };
const root: Prerequisite = { what: 'root (running as uid 1000)', ok: false, how: 'run the tests as root' };
const node: Prerequisite = { what: 'node', ok: true, how: 'install Node.js' };

describe('onCi', () => {
  it.each([
    [{ CI: 'true' }, true],
    [{ CI: 'TRUE' }, true],
    [{ CI: '1' }, true],
    [{}, false],
    [{ CI: '' }, false],
    [{ CI: 'false' }, false],
    [{ CI: '0' }, false],
  ] as const)('%j → %s', (env, ci) => {
    expect(onCi(env)).toBe(ci);
  });
});

describe('decide', () => {
  it('runs when everything is there, on CI or not', () => {
    expect(decide([node], {})).toEqual({ action: 'run' });
    expect(decide([node], { CI: 'true' })).toEqual({ action: 'run' });
    expect(decide([], { CI: 'true' })).toEqual({ action: 'run' });
  });

  it('outside CI skips, saying what is missing and how to get it', () => {
    expect(decide([node, sshd], {})).toEqual({
      action: 'skip',
      reason: 'missing sshd (/usr/sbin/sshd); `apt-get install openssh-server` (scripts/setup.sh installs it)',
    });
  });

  it('on CI fails, calling the skip a setup defect and naming every missing prerequisite', () => {
    expect(decide([sshd, node, root], { CI: 'true' })).toEqual({
      action: 'fail',
      reason:
        'missing sshd (/usr/sbin/sshd), root (running as uid 1000): on CI a skipped suite is a setup defect; ' +
        '`apt-get install openssh-server` (scripts/setup.sh installs it); run the tests as root',
    });
  });
});

interface JsonReport {
  numFailedTests: number;
  numPassedTests: number;
  testResults: { assertionResults: { fullName: string; status: string; failureMessages: string[] }[] }[];
}

// The probe file (a missing and a present prerequisite) run by a child vitest, as CI or not.
function runProbe(ci: boolean): { code: number | null; report: JsonReport; stderr: string } {
  const dir = tempDir('sc-requires-');
  const config = join(dir, 'probe.config.mjs');
  writeFileSync(config, `export default { root: ${JSON.stringify(ROOT)}, test: { include: ['test/helpers/fixtures/requires-probe.ts'] } };\n`);
  const out = join(dir, 'report.json');
  // A clean environment for the child: none of this worker's VITEST* variables, CI only when asked.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'CI' && k !== 'NODE_OPTIONS'));
  const r = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--config', config, '--reporter=json', `--outputFile=${out}`],
    { cwd: ROOT, encoding: 'utf8', env: { ...env, NO_COLOR: '1', ...(ci ? { CI: 'true' } : {}) }, timeout: 120_000 },
  );
  return { code: r.status, report: JSON.parse(readFileSync(out, 'utf8')) as JsonReport, stderr: r.stderr };
}

const statuses = (report: JsonReport): Record<string, string> =>
  Object.fromEntries(report.testResults.flatMap((f) => f.assertionResults.map((a) => [a.fullName.replace(/ \[skipped: .*\]/, ' [skipped]'), a.status])));

describe('a suite whose prerequisite is missing (a real vitest run)', () => {
  it('outside CI is skipped with the reason, and the run passes', () => {
    const { code, report, stderr } = runProbe(false);
    expect(statuses(report)).toEqual({
      'a suite that needs the frobnicator [skipped] would run with it': 'skipped',
      'a test that needs the frobnicator [skipped]': 'skipped',
      'a suite whose prerequisite is there runs': 'passed',
    });
    expect(stderr).toContain('skipped "a suite that needs the frobnicator": missing frobnicator (/nonexistent/frob); `apt-get install frob`');
    expect(code).toBe(0);
  }, 120_000);

  it('on CI fails, naming what is missing and how to install it, and the run fails', () => {
    const { code, report } = runProbe(true);
    expect(statuses(report)).toEqual({
      'a suite that needs the frobnicator has what it needs on this machine': 'failed',
      'a test that needs the frobnicator': 'failed',
      'a suite whose prerequisite is there runs': 'passed',
    });
    const messages = report.testResults.flatMap((f) => f.assertionResults.flatMap((a) => a.failureMessages));
    expect(messages).toHaveLength(2);
    for (const m of messages) expect(m).toContain('missing frobnicator (/nonexistent/frob): on CI a skipped suite is a setup defect; `apt-get install frob`');
    expect(code).toBe(1);
  }, 120_000);
});
