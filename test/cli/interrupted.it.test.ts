// Interrupted and killed runs, with the built CLI on a real sshd: while a run holds its folder, a second run of the
// same tutorial is refused (nothing runs twice at once); after `kill -9` of stackcheck the remote step keeps running,
// and the next `run --resume` finds the dead run, stops that orphan before anything runs, and continues; SIGTERM
// stops a run cleanly: the step killed on its host, the run recorded as interrupted.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSshd, type TestSshd } from '../helpers/sshd.js';
import { prerequisite, requires } from '../helpers/requires.js';
import { buildCli, CLI } from '../helpers/build.js';
import { tempDir } from '../helpers/tmp.js';

interface Run {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }>;
}

function start(args: string[], cwd: string): Run {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' } });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return { child, done: new Promise((res) => child.on('close', (code, signal) => res({ code, signal, out }))) };
}

async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// The remote step's sleeping processes (argv[0] is the marker); the test sshd is this machine.
const sleepers = (marker: string): string[] => {
  try {
    return execFileSync('pgrep', ['-f', `^${marker} `], { encoding: 'utf8' }).trim().split('\n');
  } catch {
    return [];
  }
};
const running = (marker: string): boolean => sleepers(marker).length > 0;

requires(prerequisite.sshd()).describe('interrupted and killed runs (built CLI, real sshd)', () => {
  let sshd: TestSshd;
  let dir: string;
  let inventory: string;
  let tutorial: string;
  const marker = `stackcheck-orphan-${randomBytes(4).toString('hex')}`;
  const json = (): { status: string; pid?: number; note?: string } => JSON.parse(readFileSync(join(dir, 'reports', 'latest', 'run.json'), 'utf8')) as { status: string; pid?: number; note?: string };

  beforeAll(async () => {
    buildCli();
    sshd = await startSshd();
    dir = tempDir('sc-interrupted-');
    inventory = join(dir, 'inv.yaml');
    writeFileSync(inventory, ['ssh:', `  known_hosts: ${sshd.knownHostsFile}`, 'hosts:', '  node:', '    address: 127.0.0.1', `    port: ${sshd.port}`, `    user: ${sshd.user}`, `    key: ${sshd.keyFile}`, 'vars:', `  WORK: "${dir}"`, ''].join('\n'));
    tutorial = join(dir, 'slow.md');
    // The step sleeps (its process named by the marker) until a file says that it ran once.
    writeFileSync(tutorial, `# Slow\n\n## Sleep\n\n\`\`\`sh host=node\nif [ -e {{ WORK }}/done ]; then echo resumed; else touch {{ WORK }}/started; bash -c 'exec -a ${marker} sleep 300'; fi\n\`\`\`\n`);
  }, 300_000);

  afterAll(async () => {
    try {
      execFileSync('pkill', ['-f', marker]);
    } catch {
      // none left
    }
    await sshd?.stop();
  });

  it('a second run while one holds the folder is refused; after kill -9 the next --resume stops the orphan first and continues', async () => {
    const args = ['run', tutorial, '--inventory', inventory, '--reports', join(dir, 'reports')];
    const first = start(args, dir);
    await until('the step to start', () => existsSync(join(dir, 'started')) && running(marker));
    expect(json()).toMatchObject({ status: 'running', pid: first.child.pid });

    const second = await start([...args, '--resume'], dir).done;
    expect(second.code, second.out).toBe(2);
    expect(second.out).toContain(`is being run by stackcheck (pid ${first.child.pid}, since `);
    expect(running(marker)).toBe(true);

    first.child.kill('SIGKILL');
    await first.done;
    // The remote step outlives stackcheck, and the folder still says running.
    expect(running(marker)).toBe(true);
    expect(json().status).toBe('running');

    writeFileSync(join(dir, 'done'), '');
    const resumed = await start([...args, '--resume'], dir).done;
    expect(resumed.code, resumed.out).toBe(0);
    expect(resumed.out).toMatch(/ended without a word \(stackcheck, pid \d+, is gone: killed\?\): stopping what its steps left running on the hosts first/);
    expect(resumed.out).toMatch(/: stopped 1 on node/);
    expect(running(marker)).toBe(false);
    expect(json().status).toBe('passed');
    expect(json().pid).toBeUndefined();
  }, 180_000);

  it('a new run after a killed one marks the old folder interrupted; SIGTERM stops a run cleanly', async () => {
    const args = ['run', tutorial, '--inventory', inventory, '--reports', join(dir, 'reports2')];
    const read = (): { status: string; note?: string } => JSON.parse(readFileSync(join(dir, 'reports2', 'latest', 'run.json'), 'utf8')) as { status: string; note?: string };
    for (const f of ['done', 'started']) if (existsSync(join(dir, f))) execFileSync('rm', ['-f', join(dir, f)]);
    const killed = start(args, dir);
    await until('the step to start', () => existsSync(join(dir, 'started')) && running(marker));
    const [orphan] = sleepers(marker);
    const oldRun = execFileSync('readlink', [join(dir, 'reports2', 'latest')], { encoding: 'utf8' }).trim();
    killed.child.kill('SIGKILL');
    await killed.done;

    // A new run (not --resume): the orphan is stopped before its own step starts, and the old run is marked.
    execFileSync('rm', ['-f', join(dir, 'started')]);
    const next = start(args, dir);
    await until('the new step to start', () => existsSync(join(dir, 'started')));
    const old = JSON.parse(readFileSync(join(dir, 'reports2', oldRun, 'run.json'), 'utf8')) as { status: string; note?: string };
    expect(old.status).toBe('interrupted');
    expect(old.note).toMatch(/stopped without a word; the next run stopped 1 on node/);
    // Exactly one sleeping step: the new one, not the orphan.
    const now = sleepers(marker);
    expect(now).toHaveLength(1);
    expect(now).not.toContain(orphan);

    next.child.kill('SIGTERM');
    const ended = await next.done;
    expect(ended.code, ended.out).toBe(130);
    expect(ended.out).toContain('interrupted: stopping the current step');
    await until('the step to be stopped on the host', () => !running(marker), 15_000);
    expect(read().status).toBe('interrupted');
  }, 180_000);
});
