// executePlan against a real sshd: shell state, exit codes, timeouts, retries, resume, file steps, redaction.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { EventBus, type RunEvent } from '../../src/log.js';
import { executePlan, type ExecuteOptions } from '../../src/runner/execute.js';
import { RunDir } from '../../src/runner/run-dir.js';
import { SshPool } from '../../src/ssh/pool.js';
import type { Plan } from '../../src/runner/types.js';
import { inventoryFor, startSshd, type TestSshd } from '../helpers/sshd.js';
import { prerequisite, requires } from '../helpers/requires.js';
import { file, makePlan, sh } from '../helpers/plan.js';

// Read every file under a folder (to look for leaked secrets).
function readTree(dir: string): string {
  let all = '';
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const p = join(dir, name);
    if (statSync(p).isFile()) all += readFileSync(p, 'utf8');
  }
  return all;
}

requires(prerequisite.sshd()).describe('executePlan on a real sshd', () => {
  let sshd: TestSshd;
  let pool: SshPool;
  let work: string;
  const inv = (): ReturnType<typeof inventoryFor> => inventoryFor(sshd, ['db-node', 'auth-node']);

  beforeAll(async () => {
    sshd = await startSshd();
    pool = new SshPool(inv());
    work = mkdtempSync(join(tmpdir(), 'sc-exec-'));
  });
  afterAll(async () => {
    await pool?.close();
    await sshd?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  // Run a plan with a fresh run folder (or the given one) and collect events.
  async function run(plan: Plan, extra: Partial<ExecuteOptions> = {}): Promise<{ outcome: Awaited<ReturnType<typeof executePlan>>; events: RunEvent[]; runDir: RunDir }> {
    const bus = new EventBus();
    const events: RunEvent[] = [];
    bus.on((e) => events.push(e));
    const runDir = extra.runDir ?? (await RunDir.create(join(work, 'reports'), { tutorial: plan.tutorial.source, inventory: plan.inventory.file }));
    const outcome = await executePlan(plan, { bus, pool, defaultRetryDelayMs: 10, ...extra, runDir });
    return { outcome, events, runDir };
  }

  it('carries cd and exported variables over to later steps on the same host, like a terminal', async () => {
    const rc = join(work, 'openrc');
    writeFileSync(rc, 'export OS_USERNAME=admin\nexport OS_AUTH_URL=http://controller:5000/v3\n');
    const plan = makePlan(inv(), {
      s: [
        sh('db-node', { command: 'cd /tmp' }),
        sh('db-node', { command: 'pwd' }),
        sh('db-node', { command: 'export X=1' }),
        sh('db-node', { command: 'echo "X=$X"' }),
        sh('db-node', { command: `source ${rc}` }),
        sh('db-node', { command: 'echo "$OS_USERNAME at $OS_AUTH_URL"' }),
        sh('db-node', { command: 'NOT_EXPORTED=1; cd /' }),
        sh('db-node', { command: 'echo "[${NOT_EXPORTED:-unset}] $(pwd)"' }),
      ],
    });
    const { outcome } = await run(plan);
    expect(outcome.status).toBe('passed');
    // A passed run leaves no state file (with its exported values) behind on the host.
    expect(existsSync(`/var/tmp/stackcheck-0/${outcome.runId}.env`)).toBe(false);
    const out = outcome.results.map((r) => r.stdout);
    expect(out[1]).toBe('/tmp\n');
    expect(out[3]).toBe('X=1\n');
    expect(out[5]).toBe('admin at http://controller:5000/v3\n');
    // Documented limit: only exported variables carry over; cwd does.
    expect(out[7]).toBe('[unset] /\n');
  });

  it('a new run starts in the home directory with a clean state', async () => {
    const { outcome } = await run(makePlan(inv(), { s: [sh('db-node', { command: 'echo "$(pwd) [${X:-unset}]"' })] }));
    expect(outcome.results[0]?.stdout).toBe(`${execFileSync('bash', ['-c', 'echo ~root']).toString().trim()} [unset]\n`);
  });

  it('stops at the first failing step, keeps stderr apart, and records exit code, duration and log', async () => {
    const plan = makePlan(inv(), {
      a: [sh('db-node', { command: 'echo ok' })],
      b: [sh('db-node', { command: 'echo to-out; echo "E: Unable to locate package foo" >&2; exit 100' }), sh('db-node', { command: 'echo never' })],
      c: [sh('db-node', { command: 'echo never either' })],
    });
    const { outcome, events, runDir } = await run(plan);
    expect(outcome.status).toBe('failed');
    expect(outcome.failed?.step.id).toBe('b/1');
    expect(outcome.failed?.result.exitCode).toBe(100);
    expect(outcome.failed?.result.stdout).toBe('to-out\n');
    expect(outcome.failed?.result.stderr).toBe('E: Unable to locate package foo\n');
    expect(outcome.failed?.result.message).toMatch(/exit code 100 \(apt/);
    expect(events.some((e) => e.kind === 'step-output' && e.stream === 'stderr' && e.text.includes('Unable to locate'))).toBe(true);
    expect(events.filter((e) => e.kind === 'step-start').map((e) => (e.kind === 'step-start' ? e.step.id : ''))).toEqual(['a/1', 'b/1']);
    const state = JSON.parse(readFileSync(join(runDir.dir, 'state.json'), 'utf8')) as { steps: Record<string, { status: string; exitCode: number; durationMs: number }> };
    expect(state.steps['a/1']?.status).toBe('passed');
    expect(state.steps['b/1']).toMatchObject({ status: 'failed', exitCode: 100 });
    expect(state.steps['b/2']).toBeUndefined();
    expect(readFileSync(join(runDir.dir, 'steps', 'b', '1.log'), 'utf8')).toContain('[stderr] E: Unable to locate package foo');
    const summary = JSON.parse(readFileSync(join(runDir.dir, 'run.json'), 'utf8')) as { status: string; failedStep: { id: string; line: number } };
    expect(summary.status).toBe('failed');
    expect(summary.failedStep).toMatchObject({ id: 'b/1', line: plan.tutorial.stages[1]!.steps[0]!.loc.line });
    expect(readlinkSync(join(work, 'reports', 'latest'))).toBe(runDir.runId);
  });

  it('a step that prints 40 MB: its result and its log keep the first and the last MiB, the cut marked and the size counted; it passes', async () => {
    // 40 MB of numbered lines, then a last line to find in the tail.
    const plan = makePlan(inv(), { big: [sh('db-node', { command: 'seq 1 5000000 | sed "s/$/ filler-filler-filler/"; echo the-last-line; echo on-stderr >&2' })] });
    const { outcome, events, runDir } = await run(plan);
    expect(outcome.status).toBe('passed');
    const r = events.find((e) => e.kind === 'step-end');
    const result = r?.kind === 'step-end' ? r.result : undefined;
    expect(result?.status).toBe('passed');
    expect(result?.printed?.stdout).toBeGreaterThan(100_000_000 / 3);
    expect(result?.stdout.length).toBeLessThan(2.1 * 1024 * 1024);
    expect(result?.stdout.startsWith('1 filler-filler-filler\n2 filler')).toBe(true);
    expect(result?.stdout.endsWith('the-last-line\n')).toBe(true);
    expect(result?.stdout).toMatch(/\n… \[\d+ characters left out: \d+ in all; the first 1048576 and the last 1048576 are kept\] …\n/);
    expect(result?.stderr).toBe('on-stderr\n');
    const log = readFileSync(join(runDir.dir, 'steps', 'big', '1.log'), 'utf8');
    expect(log.length).toBeLessThan(2.2 * 1024 * 1024);
    expect(log).toContain('characters left out');
    expect(log).toMatch(/--- passed: .* \(it printed \d+ characters on stdout and 10 on stderr: the first and the last MiB of each are kept\)/);
  }, 120_000);

  it('user= runs a step as that user (runuser when logged in as root), with its own home and state', async () => {
    const { outcome } = await run(makePlan(inv(), { s: [sh('db-node', { command: 'id -un; echo "$HOME"', user: 'daemon' }), sh('db-node', { command: 'id -un' })] }));
    expect(outcome.status).toBe('passed');
    expect(outcome.results[0]?.stdout).toBe(`daemon\n${execFileSync('bash', ['-c', 'echo ~daemon']).toString()}`);
    expect(outcome.results[1]?.stdout).toBe('root\n');
  });

  it('expect-exit makes a non-zero code a success', async () => {
    const { outcome } = await run(makePlan(inv(), { s: [sh('db-node', { command: 'grep -q nothing-like-this /etc/hostname', expectExit: [1] })] }));
    expect(outcome.status).toBe('passed');
  });

  it('a step that runs past its timeout fails as timed out, and its processes are gone', async () => {
    const marker = `sc-timeout-${Date.now()}`;
    const t0 = Date.now();
    const { outcome } = await run(makePlan(inv(), { s: [sh('db-node', { command: `sleep 120 # ${marker}`, timeoutMs: 1000 })] }));
    expect(Date.now() - t0).toBeLessThan(8000);
    expect(outcome.failed?.result.timedOut).toBe(true);
    expect(outcome.failed?.result.message).toMatch(/timed out after 1 s/);
    expect(execFileSync('ps', ['-eo', 'args']).toString()).not.toContain(marker);
  });

  it('a step that ignores SIGTERM is killed after the grace period and still recorded as timed out', async () => {
    const marker = `sc-stubborn-${Date.now()}`;
    const { outcome } = await run(makePlan(inv(), { s: [sh('db-node', { command: `trap '' TERM; sleep 120 # ${marker}`, timeoutMs: 1000 })] }));
    expect(outcome.failed?.result, JSON.stringify(outcome.failed?.result)).toMatchObject({ timedOut: true });
    expect(outcome.failed?.result.message).toMatch(/timed out after 1 s/);
    expect(execFileSync('ps', ['-eo', 'args']).toString()).not.toContain(marker);
  }, 60_000);

  it('retries a failing step', async () => {
    const flag = join(work, `retry-${Date.now()}`);
    const { outcome, events } = await run(makePlan(inv(), { s: [sh('db-node', { command: `test -f ${flag} || { touch ${flag}; exit 1; }`, retries: 2, retryDelayMs: 10 })] }));
    expect(outcome.status).toBe('passed');
    expect(outcome.results[0]?.attempts).toBe(2);
    expect(events.some((e) => e.kind === 'info' && /retrying/.test(e.message))).toBe(true);
  });

  it('feeds a step its input on stdin (mysql> lines)', async () => {
    const { outcome } = await run(makePlan(inv(), { s: [sh('db-node', { command: 'cat -n', input: 'CREATE DATABASE keystone;\nexit' })] }));
    expect(outcome.results[0]?.stdout).toMatch(/1\tCREATE DATABASE keystone;\n\s+2\texit\n/);
  });

  it('--resume skips completed steps and re-runs the failed one and any whose text changed', async () => {
    const counter = join(work, `count-${Date.now()}`);
    const fixed = join(work, `fixed-${Date.now()}`);
    const steps = (second: string): Plan =>
      makePlan(inv(), {
        one: [sh('db-node', { command: `echo 1 >> ${counter}` })],
        two: [sh('db-node', { command: second }), sh('db-node', { command: `echo 3 >> ${counter}` })],
      });
    const first = await run(steps(`test -f ${fixed}`));
    expect(first.outcome.failed?.step.id).toBe('two/1');
    writeFileSync(fixed, '');
    const again = await run(steps(`test -f ${fixed}`), { resume: true, runDir: await RunDir.open(first.runDir.dir) });
    expect(again.outcome.status).toBe('passed');
    expect(again.outcome.results.map((r) => `${r.stepId}:${r.status}`)).toEqual(['one/1:skipped', 'two/1:passed', 'two/2:passed']);
    expect(readFileSync(counter, 'utf8')).toBe('1\n3\n');
    expect(again.runDir.runId).toBe(first.runDir.runId);
    const summary = JSON.parse(readFileSync(join(first.runDir.dir, 'run.json'), 'utf8')) as { status: string; attempts: number };
    expect(summary).toMatchObject({ status: 'passed', attempts: 2 });

    // A step whose text changed since it completed runs again.
    const changed = makePlan(inv(), {
      one: [sh('db-node', { command: `echo 1b >> ${counter}` })],
      two: [sh('db-node', { command: `test -f ${fixed}` }), sh('db-node', { command: `echo 3 >> ${counter}` })],
    });
    const third = await run(changed, { resume: true, runDir: await RunDir.open(first.runDir.dir) });
    expect(third.outcome.results.map((r) => `${r.stepId}:${r.status}`)).toEqual(['one/1:passed', 'two/1:skipped', 'two/2:skipped']);
  });

  it('--from and --only select stages', async () => {
    const plan = makePlan(inv(), { a: [sh('db-node', { command: 'echo a' })], b: [sh('db-node', { command: 'echo b' })], c: [sh('db-node', { command: 'echo c' })] });
    const from = await run(plan, { from: 'b' });
    expect(from.outcome.results.map((r) => r.status)).toEqual(['skipped', 'passed', 'passed']);
    const only = await run(plan, { only: 'b' });
    expect(only.outcome.results.map((r) => r.status)).toEqual(['skipped', 'passed', 'skipped']);
  });

  it('a dry run touches no host and writes nothing', async () => {
    const bad = inventoryFor(sshd, ['db-node']);
    bad.hosts['db-node']!.port = 1; // would fail if anything connected
    const bus = new EventBus();
    const events: RunEvent[] = [];
    bus.on((e) => events.push(e));
    const outcome = await executePlan(makePlan(bad, { s: [sh('db-node', { command: 'rm -rf /nothing' })] }), { bus, dryRun: true });
    expect(outcome.status).toBe('passed');
    expect(events.filter((e) => e.kind === 'step-skip').map((e) => (e.kind === 'step-skip' ? e.reason : ''))).toEqual(['dry run']);
  });

  it('an unreachable host fails the step with the connection error', async () => {
    const bad = inventoryFor(sshd, ['db-node'], { connectTimeoutMs: 2000 });
    bad.hosts['db-node']!.port = 1;
    const bus = new EventBus();
    const outcome = await executePlan(makePlan(bad, { s: [sh('db-node', { command: 'true' })] }), { bus });
    expect(outcome.status).toBe('failed');
    expect(outcome.failed?.result.message).toMatch(/cannot reach db-node \(127\.0\.0\.1:1\): ECONNREFUSED/);
  });

  it('file steps: replace and append are idempotent, new files get chmod/owner, existing files keep theirs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sc-files-'));
    const f = join(dir, 'motd');
    const plan = makePlan(inv(), {
      s: [
        file('db-node', { path: f, content: 'hello', mode: 'replace', fileMode: '0640', owner: 'root:daemon' }),
        file('db-node', { path: f, content: 'extra line', mode: 'append' }),
      ],
    });
    const first = await run(plan);
    expect(first.outcome.results.map((r) => r.stdout)).toEqual([`${f}: created\n`, `${f}: changed\n`]);
    expect(readFileSync(f, 'utf8')).toBe('hello\nextra line\n');
    expect((statSync(f).mode & 0o777).toString(8)).toBe('640');
    expect(statSync(f).gid).toBe(Number(execFileSync('getent', ['group', 'daemon']).toString().split(':')[2]));
    const second = await run(makePlan(inv(), { s: [file('db-node', { path: f, content: 'extra line', mode: 'append' })] }));
    expect(second.outcome.results[0]?.stdout).toBe(`${f}: unchanged\n`);
    expect(readFileSync(f, 'utf8')).toBe('hello\nextra line\n');
    // Replacing an existing file keeps its mode and owner even when the step says otherwise.
    await run(makePlan(inv(), { s: [file('db-node', { path: f, content: 'new', mode: 'replace', fileMode: '0600' })] }));
    expect(readFileSync(f, 'utf8')).toBe('new\n');
    expect((statSync(f).mode & 0o777).toString(8)).toBe('640');
    // `~/` is the effective user's home.
    const home = await run(makePlan(inv(), { s: [file('db-node', { path: `~/sc-test-${process.pid}.txt`, content: 'x' }), sh('db-node', { command: `cat ~/sc-test-${process.pid}.txt && rm ~/sc-test-${process.pid}.txt` })] }));
    expect(home.outcome.results[1]?.stdout).toBe('x\n');
    rmSync(dir, { recursive: true, force: true });
  });

  it('an INI edit applied twice is idempotent and keeps the file\'s owner and mode', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sc-ini-'));
    const conf = join(dir, 'keystone.conf');
    writeFileSync(conf, '[DEFAULT]\n# a comment the student wants kept\ndebug = false\n\n[database]\n#connection = <None>\n');
    execFileSync('chown', ['root:daemon', conf]);
    execFileSync('chmod', ['0640', conf]);
    const inode = statSync(conf).ino;
    const edit = file('auth-node', { path: conf, mode: 'ini', content: '[database]\nconnection = mysql+pymysql://keystone:pw@db/keystone\n\n[token]\nprovider = fernet' });
    const first = await run(makePlan(inv(), { s: [edit] }));
    expect(first.outcome.results[0]?.stdout).toBe(`${conf}: changed\n`);
    const once = readFileSync(conf, 'utf8');
    expect(once).toContain('# a comment the student wants kept');
    expect(once).toMatch(/\[database\][\s\S]*connection = mysql\+pymysql/);
    expect(once).toMatch(/\[token\]\nprovider = fernet\n$/);
    // Written atomically: a new inode, same owner and mode.
    expect(statSync(conf).ino).not.toBe(inode);
    expect((statSync(conf).mode & 0o777).toString(8)).toBe('640');
    expect(statSync(conf).gid).toBe(Number(execFileSync('getent', ['group', 'daemon']).toString().split(':')[2]));
    const mtime = statSync(conf).mtimeMs;
    const second = await run(makePlan(inv(), { s: [edit] }));
    expect(second.outcome.results[0]?.stdout).toBe(`${conf}: unchanged\n`);
    expect(readFileSync(conf, 'utf8')).toBe(once);
    expect(statSync(conf).mtimeMs).toBe(mtime);
    // The step's text holds a password-looking value: the run folder does not.
    expect(readTree(second.runDir.dir) + readTree(first.runDir.dir)).not.toContain('keystone:pw@');
    rmSync(dir, { recursive: true, force: true });
  });

  it('a secret from the inventory echoed by a step reaches neither events nor the run folder', async () => {
    const secret = 'Sup3r-s3cret-DB-pass';
    const plan = makePlan(
      inv(),
      {
        s: [
          sh('db-node', { command: `echo "password is ${secret}"; echo "${secret}" >&2; printf '%s' '${secret.slice(0, 6)}'; sleep 0.2; printf '%s\\n' '${secret.slice(6)}'` }),
          sh('db-node', { command: `echo ${secret}; exit 1` }),
        ],
      },
      [secret],
    );
    const { outcome, events, runDir } = await run(plan);
    expect(outcome.status).toBe('failed');
    const everything = JSON.stringify(events) + readTree(runDir.dir) + JSON.stringify(outcome);
    expect(everything).not.toContain(secret);
    expect(everything).toContain('••••••');
    expect(existsSync(join(runDir.dir, 'steps', 's', '1.log'))).toBe(true);
  });

  it('a secret split by colour escapes, and terminal control sequences, reach neither events nor the run folder', async () => {
    const secret = 'Zq9xK7vLmP2wRt';
    // the secret coloured half-way, then an OSC 52 clipboard write and a screen clear
    const plan = makePlan(
      inv(),
      // (the pieces come out of base64 on the host: the step's own text holds neither)
      { s: [sh('db-node', { command: `a=$(echo WnE5eA== | base64 -d); b=$(echo Szd2TG1QMndSdA== | base64 -d); printf "$a\\033[31m$b\\033[0m\\n"; printf '\\033]52;c;aGVsbG8=\\a\\033[2Jafter\\n'; printf "$a\\033[1m$b" >&2; exit 3` })] },
      [secret],
    );
    const { outcome, events, runDir } = await run(plan);
    expect(outcome.failed?.result.exitCode).toBe(3);
    const everything = JSON.stringify(events) + readTree(runDir.dir) + JSON.stringify(outcome);
    expect(everything).not.toContain('K7vLmP2wRt');
    expect(everything).toContain('••••••');
    // stored logs are safe to cat: no escape character at all
    const log = readTree(join(runDir.dir, 'steps'));
    expect(log).toContain('after');
    expect(log).not.toContain('\u001b');
  });
});
