// `stackcheck run` end to end: the built CLI runs the fixture tutorial on the test sshd and exits 0 / 1 / 2.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSshd, type TestSshd } from '../helpers/sshd.js';
import { prerequisite, requires } from '../helpers/requires.js';
import { buildCli, CLI, ROOT } from '../helpers/build.js';

const FIXTURE = join(ROOT, 'fixtures/tutorials/run-e2e');
const SECRET = 'Fixture-S3cret-Pw';

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

// Run the built CLI (no colours, like CI).
function cli(args: string[], cwd: string): Promise<CliResult> {
  return new Promise((done) => {
    const p = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => done({ code, stdout, stderr }));
  });
}

// Every file under a folder, concatenated (to look for leaked secrets).
function readTree(dir: string): string {
  if (!existsSync(dir)) return '';
  return (readdirSync(dir, { recursive: true }) as string[])
    .map((n) => join(dir, n))
    .filter((p) => statSync(p).isFile())
    .map((p) => readFileSync(p, 'utf8'))
    .join('\n');
}

requires(prerequisite.sshd()).describe('stackcheck run (built CLI) against a real sshd', () => {
  let sshd: TestSshd;
  let tmp: string;
  let work: string;

  // An inventory file for the test sshd; `port` and `vars` overridable to build broken ones.
  function inventory(name: string, opts: { port?: number; vars?: Record<string, string>; knownHosts?: string } = {}): string {
    const file = join(tmp, `${name}.yaml`);
    const vars = opts.vars ?? { WORK: work };
    writeFileSync(
      file,
      [
        'ssh:',
        `  known_hosts: ${opts.knownHosts ?? sshd.knownHostsFile}`,
        '  connect_timeout: 3s',
        'hosts:',
        '  node:',
        '    address: 127.0.0.1',
        `    port: ${opts.port ?? sshd.port}`,
        `    user: ${sshd.user}`,
        `    key: ${sshd.keyFile}`,
        'vars:',
        ...Object.entries(vars).map(([k, v]) => `  ${k}: "${v}"`),
        '',
      ].join('\n'),
    );
    return file;
  }

  beforeAll(async () => {
    // The test exercises the shipped, compiled CLI: build it (a few seconds) so it is never stale; a failed build fails the file.
    buildCli();
    sshd = await startSshd();
    tmp = mkdtempSync(join(tmpdir(), 'sc-cli-run-'));
    work = join(tmp, 'work');
    writeFileSync(join(tmp, 'secrets.yaml'), `DB_PASS: ${SECRET}\n`, { mode: 0o600 });
  }, 300_000);
  afterAll(async () => {
    await sshd?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('fails at the broken step (exit 1) with where/what/how-to-resume, then --resume finishes it (exit 0)', async () => {
    const inv = inventory('good');
    const reports = join(tmp, 'reports');
    // A copy of the fixture, so the test can "fix the tutorial" between the two runs.
    const tutorial = join(tmp, 'tutorial-copy');
    cpSync(FIXTURE, tutorial, { recursive: true });
    const args = ['run', tutorial, '--inventory', inv, '--secrets', join(tmp, 'secrets.yaml'), '--reports', reports];
    const first = await cli(args, tmp);
    expect(first.code).toBe(1);
    expect(first.stdout).toContain('[node] the password is ••••••');
    expect(first.stdout).toContain('Step configure/3 failed');
    expect(first.stdout).toMatch(/where: +.*tutorial-copy\/tutorial\.md:21/);
    expect(first.stdout).toMatch(/command: test -f ready/);
    expect(first.stdout).toMatch(/exit code 1 \(general error\)/);
    expect(first.stdout).toContain(`--resume`);
    expect(readFileSync(join(work, 'count.txt'), 'utf8')).toBe('prepared\n');

    // The maintainer fixes the tutorial and resumes: done steps are skipped, the changed one and the rest run
    // in the same shell state.
    const md = join(tutorial, 'tutorial.md');
    writeFileSync(md, readFileSync(md, 'utf8').replace('# test -f ready', '# touch ready && test -f ready'));
    const second = await cli([...args, '--resume'], tmp);
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/skipped, completed in an earlier attempt/);
    expect(second.stdout).toContain(`[node] ${work}`); // `pwd` after the earlier `cd`
    expect(readFileSync(join(work, 'count.txt'), 'utf8')).toBe('prepared\nverified\n');
    expect(readFileSync(join(work, 'app.conf'), 'utf8')).toBe(`[database]\nconnection = mysql+pymysql://app:${SECRET}@db/app\n`);

    // One run folder, resumed in place; no secret anywhere in it or on the terminal.
    const runs = readdirSync(reports).filter((n) => n !== 'latest' && existsSync(join(reports, n, 'state.json')));
    expect(runs).toHaveLength(1);
    const state = JSON.parse(readFileSync(join(reports, 'latest', 'state.json'), 'utf8')) as { steps: Record<string, { status: string }> };
    expect(Object.values(state.steps).every((s) => s.status === 'passed')).toBe(true);
    expect(Object.keys(state.steps)).toHaveLength(9);
    const everything = first.stdout + first.stderr + second.stdout + readTree(reports);
    expect(everything).not.toContain(SECRET);
  });

  it('bad input exits 2 before any host is touched', async () => {
    // A TCP listener standing in for the host: it counts connection attempts.
    let connections = 0;
    const listener: Server = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    const port = (listener.address() as { port: number }).port;
    const reports = join(tmp, 'reports-bad');
    const secrets = ['--secrets', join(tmp, 'secrets.yaml'), '--reports', reports];
    try {
      const noVar = await cli(['run', FIXTURE, '--inventory', inventory('novar', { port, vars: { OTHER: 'x' } }), ...secrets], tmp);
      expect(noVar.code).toBe(2);
      expect(noVar.stderr).toMatch(/WORK/);
      expect(noVar.stderr).toMatch(/tutorial\.md:8/);

      const badStage = await cli(['run', FIXTURE, '--inventory', inventory('stage', { port }), '--from', 'nope', ...secrets], tmp);
      expect(badStage.code).toBe(2);
      expect(badStage.stderr).toContain('--from nope: no such stage');
      expect(badStage.stderr).toContain('prepare, configure, verify');

      const badJobs = await cli(['run', FIXTURE, '--inventory', inventory('jobs', { port }), '--jobs', '0', ...secrets], tmp);
      expect(badJobs.code).toBe(2);
      expect(badJobs.stderr).toContain('--jobs 0: expected a whole number from 1 to 8');

      // (without --dry-run, no inventory means the local lab; a dry run has nothing to target)
      const noInv = await cli(['run', FIXTURE, '--dry-run'], tmp);
      expect(noInv.code).toBe(2);
      expect(noInv.stderr).toMatch(/--inventory/);
      expect(noInv.stderr).toMatch(/stackcheck lab inventory/);

      const missingTutorial = await cli(['run', join(tmp, 'nope.md'), '--inventory', inventory('mt', { port }), ...secrets], tmp);
      expect(missingTutorial.code).toBe(2);

      expect(connections).toBe(0);
      expect(existsSync(reports)).toBe(false);
      expect(existsSync(work) && readdirSync(work).includes('never')).toBe(false);
    } finally {
      listener.close();
    }
  });

  it('Ctrl-C stops the running step on the host (its processes are killed) and exits 130', async () => {
    const marker = `sc-sigint-${process.pid}-${Date.now()}`;
    const tut = join(tmp, 'long.md');
    writeFileSync(tut, `# Long\n\n## Wait\n\n    root@node:~# sleep 297; echo ${marker}\n`);
    const p = spawn(process.execPath, [CLI, 'run', tut, '--inventory', inventory('sigint'), '--reports', join(tmp, 'reports-sigint')], { cwd: tmp, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((r) => p.on('close', (code) => r(code)));
    const deadline = Date.now() + 15_000;
    while (!execFileSync('ps', ['-eo', 'args']).toString().includes(marker) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(execFileSync('ps', ['-eo', 'args']).toString()).toContain(marker);
    const t0 = Date.now();
    p.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(Date.now() - t0).toBeLessThan(8000);
    expect(stdout).toMatch(/interrupted/);
    expect(execFileSync('ps', ['-eo', 'args']).toString()).not.toContain(marker);
  });

  it('--dry-run lists the steps and touches nothing', async () => {
    const reports = join(tmp, 'reports-dry');
    const r = await cli(['run', FIXTURE, '--inventory', inventory('dry', { port: 1 }), '--secrets', join(tmp, 'secrets.yaml'), '--reports', reports, '--dry-run'], tmp);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/skipped, dry run/);
    expect(r.stdout).not.toContain(SECRET);
    expect(existsSync(reports)).toBe(false);
  });

  it('an unknown host key fails (exit 1) without --accept-new-host-keys and is recorded, visibly, with it', async () => {
    const kh = join(tmp, 'empty_known_hosts');
    const inv = inventory('newkey', { knownHosts: kh, vars: { WORK: join(tmp, 'work-newkey') } });
    const base = ['run', FIXTURE, '--inventory', inv, '--secrets', join(tmp, 'secrets.yaml'), '--reports', join(tmp, 'reports-newkey'), '--only', 'prepare'];
    const refused = await cli(base, tmp);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/host key of node \(\[127\.0\.0\.1\]:\d+\) is not in/);
    expect(refused.stdout).toContain('--accept-new-host-keys');
    expect(existsSync(kh)).toBe(false);
    const accepted = await cli([...base, '--accept-new-host-keys'], tmp);
    expect(accepted.code).toBe(0);
    expect(accepted.stdout).toMatch(/warning: accepted new host key for node .* SHA256:/);
    expect(readFileSync(kh, 'utf8')).toContain(sshd.knownHostsLine.split(' ').slice(1).join(' '));
  });
});
