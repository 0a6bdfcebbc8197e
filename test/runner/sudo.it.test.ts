// The non-root path: an SSH user who is not root runs `#` steps through `sudo -n`, `user=` steps through
// `sudo -n -u`, and gets a clear message when sudo wants a password. Needs root (to create the users) and sudo.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { EventBus } from '../../src/log.js';
import { executePlan } from '../../src/runner/execute.js';
import { SshPool } from '../../src/ssh/pool.js';
import { inventoryFor, startSshd, type TestSshd } from '../helpers/sshd.js';
import { prerequisite, requires } from '../helpers/requires.js';
import { makePlan, sh } from '../helpers/plan.js';

const SUDOER = 'stackcheck-test';
const NO_SUDO = 'stackcheck-nosudo';
const SUDOERS_FILE = '/etc/sudoers.d/stackcheck-test';

// Create a local user that can log in with a key (password field `*`: not locked, no password).
function ensureUser(name: string): void {
  try {
    execFileSync('id', [name], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['-m', '-s', '/bin/bash', name]);
  }
  execFileSync('usermod', ['-p', '*', name]);
}

requires(prerequisite.sshd(), prerequisite.root(), prerequisite.sudo()).describe('steps as a non-root SSH user', () => {
  let sshd: TestSshd;

  beforeAll(async () => {
    ensureUser(SUDOER);
    ensureUser(NO_SUDO);
    writeFileSync(SUDOERS_FILE, `${SUDOER} ALL=(ALL:ALL) NOPASSWD:ALL\n`, { mode: 0o440 });
    execFileSync('visudo', ['-c', '-f', SUDOERS_FILE]);
    sshd = await startSshd();
  });
  afterAll(async () => {
    await sshd?.stop();
    rmSync(SUDOERS_FILE, { force: true });
    for (const u of [SUDOER, NO_SUDO]) {
      try {
        execFileSync('userdel', ['-r', u], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
  });

  // Run steps as `sshUser` and return the outcome.
  async function runAs(sshUser: string, steps: Parameters<typeof makePlan>[1]) {
    const inv = inventoryFor(sshd, ['db-node']);
    inv.hosts['db-node']!.user = sshUser;
    const pool = new SshPool(inv);
    try {
      return await executePlan(makePlan(inv, steps), { bus: new EventBus(), pool });
    } finally {
      await pool.close();
    }
  }

  it('$ steps run as the SSH user, # steps as root via sudo -n, user= steps as that user; state is per user', async () => {
    const outcome = await runAs(SUDOER, {
      s: [
        sh('db-node', { command: 'id -un; echo "$HOME"', root: false }),
        sh('db-node', { command: 'id -un; echo "$HOME"', root: true }),
        sh('db-node', { command: 'id -un', root: true, user: 'daemon' }),
        sh('db-node', { command: 'export WHO=student; cd /tmp', root: false }),
        sh('db-node', { command: 'echo "${WHO:-unset} $(pwd)"', root: true }),
        sh('db-node', { command: 'echo "${WHO:-unset} $(pwd)"', root: false }),
      ],
    });
    expect(outcome.status).toBe('passed');
    const out = outcome.results.map((r) => r.stdout);
    expect(out[0]).toBe(`${SUDOER}\n/home/${SUDOER}\n`);
    expect(out[1]).toBe('root\n/root\n');
    expect(out[2]).toBe('daemon\n');
    expect(out[4]).toBe('unset /root\n');
    expect(out[5]).toBe('student /tmp\n');
  });

  it('a root step for a user sudo would ask a password of fails with a message saying so', async () => {
    const outcome = await runAs(NO_SUDO, { s: [sh('db-node', { command: 'true', root: true })] });
    expect(outcome.status).toBe('failed');
    expect(outcome.failed?.result.message).toMatch(new RegExp(`sudo needs a password for ${NO_SUDO} to run as root`));
  });
});
