// `stackcheck guide` driven as a student drives it: the built CLI in a real terminal (tmux, 80 columns), keys sent
// with `tmux send-keys`, the screen read with `tmux capture-pane`, against a real host (the chk lab's db-node, with
// RabbitMQ). The student runs a step, types one by hand in a second tmux window logged in to the host, skips one,
// makes a deliberate mistake that the stage's check catches (with its remedy), fixes it, re-checks green, quits,
// starts again on the same step, and interrupts a running step with Ctrl-C (the remote process is stopped).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { buildCli, CLI, ROOT } from '../helpers/build.js';
import { prerequisite, requires } from '../helpers/requires.js';
import { tempDir } from '../helpers/tmp.js';
import { Tmux } from '../helpers/tmux.js';
import { chkTarget, CHK_VARS, type ChkTarget } from '../checks/chk-target.js';
import { labDir } from '../../src/lab/state.js';

const TUTORIAL = join(ROOT, 'fixtures/tutorials/guide-e2e');
const PASS = CHK_VARS.RABBIT_PASS as string;
const WORK = `/tmp/guide-e2e-${process.pid}`;
const WRONG = 'typed-Wrongly-0815';

const gate = requires(prerequisite.root(), prerequisite.tmux());

gate.describe('stackcheck guide in a real terminal (tmux) on a real host', () => {
  let target: ChkTarget;
  let dir: string;
  let inventory: string;
  let secrets: string;
  let reports: string;
  let ssh: string;
  let starts = 0;

  let tmux: Tmux;
  const screen = (window: string): string => tmux.screen(window);
  const keys = (window: string, ...k: string[]): void => tmux.keys(window, ...k);
  const after = (window: string, action: () => void, re: RegExp, timeoutMs?: number): Promise<string> => tmux.after(window, action, re, timeoutMs);
  const press = (window: string, key: string, re: RegExp, timeoutMs?: number): Promise<string> => tmux.press(window, key, re, timeoutMs);

  // A new guide window (each start of `stackcheck guide` in its own window, kept open after it exits).
  async function startGuide(expect: RegExp): Promise<string> {
    const name = `g${++starts}`;
    const cmd = `cd ${ROOT} && NO_COLOR=1 node ${CLI} guide ${TUTORIAL} --inventory ${inventory} --secrets ${secrets} --reports ${reports}; echo "GUIDE EXIT=$?"; sleep 3600`;
    tmux.window(name, cmd);
    await after(name, () => undefined, expect);
    return name;
  }
  // The student, in the second window, logged in to the host, types a command and waits for it to finish.
  async function typeOnHost(command: string): Promise<void> {
    await after('host', () => keys('host', `${command}; echo "done-$?-typing"`, 'Enter'), /^done-0-typing$/m, 60_000);
  }
  const onHost = async (script: string): Promise<string> => (await target.sh(script)).stdout;

  beforeAll(async () => {
    target = await chkTarget();
    buildCli();
    dir = tempDir('guide-it-');
    reports = join(dir, 'reports');
    inventory = join(dir, 'inventory.yaml');
    secrets = join(dir, 'secrets.yaml');
    const lab = labDir('chk');
    writeFileSync(
      inventory,
      ['ssh:', '  user: root', `  key: ${lab}/id_ed25519`, `  known_hosts: ${lab}/known_hosts`, 'hosts:', `  db-node: { address: ${CHK_VARS.DB_NODE_IP}, hostname: db-node }`, 'vars:', `  DB_NODE_IP: ${CHK_VARS.DB_NODE_IP}`, `  WORK: ${WORK}`, ''].join('\n'),
    );
    writeFileSync(secrets, `RABBIT_PASS: ${PASS}\n`, { mode: 0o600 });
    await onHost(`rm -rf ${WORK}`);
    ssh = `ssh -q -i ${lab}/id_ed25519 -o UserKnownHostsFile=${lab}/known_hosts -o BatchMode=yes root@${CHK_VARS.DB_NODE_IP}`;
    tmux = new Tmux('guide-test', { width: 80, height: 40, firstWindow: 'host' });
    await after('host', () => keys('host', `${ssh}`, 'Enter'), /root@db-node/, 30_000);
  }, 900_000);

  afterAll(async () => {
    tmux?.kill();
    await target?.sh(`rabbitmqctl change_password openstack '${PASS}' >/dev/null; rm -rf ${WORK}; pkill -f "[s]leep 97" || true`).catch(() => undefined);
    await target?.close();
  });

  gate.it('walks a student through a stage: run, type by hand, skip, a caught mistake, fix, re-check, quit, resume, Ctrl-C', async () => {
    const g1 = await startGuide(/Step 1 of 4 · db-node \(as root\)/);
    let text = screen(g1);
    // The stage opens with the tutorial's own explanation (Markdown rendered), then what it will do where.
    expect(text).toContain('Stage 1 of 2: The message queue\'s user on db-node');
    expect(text).toMatch(/one\s+the student types by hand/);
    expect(text).not.toContain('**types by hand**');
    expect(text).toMatch(/This stage will:\n {2}1\. \[db-node\] mkdir -p \/tmp\/guide-e2e-\d+ && echo ran-by-the-guide/);
    expect(text).toContain('Then its checks: rabbitmq.user');
    expect(text).toMatch(/>\[r\] run it< {2}\[t\] type it myself {2}\[s\] skip {2}\[e\] expected output {2}\[b\] back\n\[q\] quit/);

    // 1. run it: the output streams, the step passes, and the file is really there.
    text = await press(g1, 'r', /Step 2 of 4/);
    expect(text).toMatch(/✔ \[db-node\] the-message-queues-user-on-db-node\/1/);
    expect(await onHost(`cat ${WORK}/ran`)).toBe('ran-by-the-guide\n');

    // 2. type it myself, in the second window on the host; then say done.
    text = await press(g1, 't', /\[d\] done/);
    expect(text).toContain('On db-node, as root, type:');
    await typeOnHost(`touch ${WORK}/typed`);
    await press(g1, 'd', /Step 3 of 4/);

    // back: step 2 again (typed already; the student says done again), then 3. skip.
    await press(g1, 'b', /Step 2 of 4/);
    await press(g1, 't', /\[d\] done/);
    await press(g1, 'd', /Step 3 of 4/);
    await press(g1, 's', /Step 4 of 4/);
    expect(await onHost(`ls ${WORK}`)).toBe('ran\ntyped\n');

    // 4. the password step: the screen shows the secret's name, never its value; the expected output is the tutorial's.
    text = await press(g1, 'e', /The tutorial shows this output:/);
    expect(text).toContain("rabbitmqctl change_password openstack '{{ RABBIT_PASS }}'");
    expect(text).toMatch(/Changing password for user "openstack" \.\.\./);
    // A deliberate mistake, typed by hand: the wrong password. The stage's check catches it, with the remedy.
    text = await press(g1, 't', /\[d\] done/);
    expect(text).toContain('{{ RABBIT_PASS }}: your own value, from your secrets file or inventory');
    await typeOnHost(`rabbitmqctl change_password openstack '${WRONG}' >/dev/null`);
    text = await press(g1, 'd', /\[c\] re-check/);
    expect(text).toMatch(/✘ rabbitmq\.user @ db-node: .*fix:/s);
    expect(text).toMatch(/rabbitmqctl add_user openstack <RABBIT_PASS>/);
    expect(text).toContain('1 check(s) failed after stage the-message-queues-user-on-db-node');
    // The student fixes it in the other window and re-checks: green, and the guide moves on to the next stage.
    await typeOnHost(`rabbitmqctl change_password openstack '${PASS}' >/dev/null`);
    text = await press(g1, 'c', /Step 1 of 1 · db-node/);
    expect(text).toMatch(/✔ rabbitmq\.user @ db-node/);
    expect(text).toContain('✔ stage the-message-queues-user-on-db-node: every check passed');
    expect(text).toContain('Stage 2 of 2: A slow step');
    // quit: progress saved, exit 0.
    text = await press(g1, 'q', /GUIDE EXIT=0/);
    expect(text).toMatch(/progress saved; to go on where you stopped: stackcheck guide /);

    // Start again: the same place (stage 2, step 1). Run the slow step and interrupt it with Ctrl-C.
    const g2 = await startGuide(/Step 1 of 1 · db-node/);
    expect(screen(g2)).toMatch(/continuing where you stopped: stage 2 \(A slow step\), step 1/);
    await press(g2, 'r', /▶ \[db-node\] sleep 97/);
    // (the step's start is shown as the command goes out: the process appears on the host a moment later)
    await expect.poll(async () => (await onHost('pgrep -fc "[s]leep 97" || true')).trim(), { timeout: 10_000 }).not.toBe('0');
    text = await press(g2, 'C-c', /GUIDE EXIT=130/);
    expect(text).toMatch(/interrupted: progress saved/);
    // The remote step was stopped, not left running.
    await expect.poll(async () => (await onHost('pgrep -fc "[s]leep 97" || true')).trim(), { timeout: 10_000 }).toBe('0');

    // And again: still stage 2, step 1 (the interrupted step is not done).
    const g3 = await startGuide(/Step 1 of 1 · db-node/);
    expect(screen(g3)).toMatch(/continuing where you stopped: stage 2 \(A slow step\), step 1/);
    await press(g3, 'q', /GUIDE EXIT=0/);

    // Never a secret on the guide's screens.
    for (const w of [g1, g2, g3]) expect(screen(w)).not.toContain(PASS);

    // One run folder for the whole guided session (three starts), as `run` writes it, with what the student did.
    const runs = readdirSync(reports).filter((n) => /^\d{4}-/.test(n));
    expect(runs).toHaveLength(1);
    const state = JSON.parse(readFileSync(join(reports, runs[0] as string, 'state.json'), 'utf8')) as {
      mode: string;
      steps: Record<string, { status: string; how?: string }>;
      stages: Record<string, { checks: string }>;
    };
    expect(state.mode).toBe('guide');
    const s = 'the-message-queues-user-on-db-node';
    expect(Object.fromEntries(Object.entries(state.steps).map(([id, v]) => [id, v.how ?? v.status]))).toEqual({
      [`${s}/1`]: 'passed',
      [`${s}/2`]: 'typed',
      [`${s}/3`]: 'skipped',
      [`${s}/4`]: 'typed',
      'a-slow-step/1': 'failed',
    });
    expect(state.stages[s]?.checks).toBe('passed');
    const run = JSON.parse(readFileSync(join(reports, runs[0] as string, 'run.json'), 'utf8')) as { status: string; attempts: number };
    expect(run).toMatchObject({ status: 'paused', attempts: 3 });
    expect(existsSync(join(reports, runs[0] as string, 'junit.xml'))).toBe(true);
    // (grep exits 1: no file holds the secret)
    expect(spawnSync('grep', ['-rl', PASS, join(reports, runs[0] as string)], { encoding: 'utf8' })).toMatchObject({ status: 1, stdout: '' });
  }, 600_000);

  gate.it('refuses to run without a terminal (exit 2), pointing at `run`', () => {
    const r = spawnSync(process.execPath, [CLI, 'guide', TUTORIAL, '--inventory', inventory, '--reports', reports], { input: '', encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('stackcheck guide needs a terminal');
    expect(r.stderr).toContain(`stackcheck run ${TUTORIAL}`);
  });
});
