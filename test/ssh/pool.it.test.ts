// The SSH layer against a real OpenSSH server on 127.0.0.1.
import { tempDir } from '../helpers/tmp.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { SshPool } from '../../src/ssh/pool.js';
import { remoteCommand, killCommand } from '../../src/ssh/exec.js';
import { pidFile, withShellState } from '../../src/runner/shell-state.js';
import { StackcheckError } from '../../src/error.js';
import { freePort, inventoryFor, startSshd, type TestSshd } from '../helpers/sshd.js';
import { prerequisite, requires } from '../helpers/requires.js';

const withSshd = requires(prerequisite.sshd());

withSshd.describe('SshPool against a real sshd', () => {
  let sshd: TestSshd;
  let pool: SshPool;

  beforeAll(async () => {
    sshd = await startSshd();
    pool = new SshPool(inventoryFor(sshd, ['db-node', 'auth-node']));
  });
  afterAll(async () => {
    await pool?.close();
    await sshd?.stop();
  });

  it('returns exit codes and keeps stderr apart from stdout', async () => {
    const r = await pool.exec('db-node', 'echo out; echo err >&2; exit 3');
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toBe('err\n');
    expect(r.timedOut).toBe(false);
  });

  it('streams output as it arrives', async () => {
    const chunks: Array<{ t: number; text: string }> = [];
    const t0 = Date.now();
    await pool.exec('db-node', 'echo first; sleep 0.5; echo second', { onStdout: (text) => chunks.push({ t: Date.now() - t0, text }) });
    expect(chunks.map((c) => c.text).join('')).toBe('first\nsecond\n');
    // The first line arrived on its own, well before the command ended (not buffered until the end).
    expect(chunks[0]?.text).toBe('first\n');
    expect(chunks[chunks.length - 1]!.t - chunks[0]!.t).toBeGreaterThanOrEqual(400);
  });

  it('feeds input on stdin and closes it', async () => {
    const r = await pool.exec('db-node', 'cat; echo done', { input: 'line one\nline two\n' });
    expect(r.stdout).toBe('line one\nline two\ndone\n');
  });

  it('reuses one connection for every command (same client port seen by the server)', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5; i++) seen.add((await pool.exec('db-node', 'echo $SSH_CONNECTION')).stdout.split(' ')[1] ?? '');
    expect(seen.size).toBe(1);
    // Another role mapped to the same user@machine shares that connection (all-in-one inventories).
    const other = (await pool.exec('auth-node', 'echo $SSH_CONNECTION')).stdout.split(' ')[1];
    expect(seen.has(other ?? '')).toBe(true);
  });

  it('runs more commands at once than the server allows sessions, queueing instead of failing', async () => {
    const results = await Promise.all(Array.from({ length: 25 }, (_, i) => pool.exec('db-node', `sleep 0.2; echo ${i}`)));
    expect(results.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 25 }, (_, i) => String(i)));
  });

  it('a timed-out command is killed on the remote, with everything it started', async () => {
    const marker = `stackcheck-timeout-${process.pid}-${Date.now()}`;
    const script = withShellState(`sleep 300 & sleep 301 # ${marker}\n`, { runId: 'to-test', execId: '1' });
    const cmd = remoteCommand({ script, sshUser: sshd.user, root: true, timeoutMs: 800, killAfterMs: 500 });
    const t0 = Date.now();
    const r = await pool.exec('db-node', cmd, { timeoutMs: 10_000 });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(r.exitCode).toBe(124);
    await new Promise((res) => setTimeout(res, 300));
    const ps = execFileSync('ps', ['-eo', 'args']).toString();
    expect(ps).not.toContain(marker);
    expect(ps).not.toMatch(/sleep 30[01]/);
  });

  it('aborting kills the remote process group through its pid file', async () => {
    const script = withShellState('sleep 302; echo never', { runId: 'abort-test', execId: '7' });
    const spec = { sshUser: sshd.user, root: true } as const;
    const ac = new AbortController();
    const running = pool.exec('db-node', remoteCommand({ ...spec, script, timeoutMs: 60_000 }), { signal: ac.signal });
    await new Promise((res) => setTimeout(res, 500));
    expect(execFileSync('ps', ['-eo', 'args']).toString()).toMatch(/sleep 302/);
    ac.abort();
    await pool.exec('db-node', killCommand(spec, pidFile('abort-test', '7')));
    const r = await running;
    expect(r.aborted).toBe(true);
    expect(execFileSync('ps', ['-eo', 'args']).toString().split('\n').filter((l) => /sleep 302/.test(l))).toEqual([]);
  });

  it('a command whose connection dies reports it as lost, not as an exit code', async () => {
    const running = pool.exec('auth-node', 'echo $PPID; sleep 30', {
      onStdout: (t) => {
        if (/^\d+\n$/.test(t)) process.kill(Number(t.trim()), 'SIGKILL');
      },
    });
    const r = await running;
    expect(r.lost).toBe(true);
    expect(r.exitCode).toBeNull();
  });

  it('reconnects when the connection was dropped', async () => {
    // The parent of the remote shell is this connection's sshd session process: kill exactly that one.
    const session = (await pool.exec('auth-node', 'echo $PPID')).stdout.trim();
    expect(session).toMatch(/^\d+$/);
    process.kill(Number(session), 'SIGTERM');
    await new Promise((res) => setTimeout(res, 300));
    // Several commands noticing the drop at once share one new connection.
    const rs = await Promise.all(Array.from({ length: 4 }, () => pool.exec('auth-node', 'echo $SSH_CONNECTION')));
    const ports = new Set(rs.map((r) => r.stdout.split(' ')[1]));
    expect(ports.size).toBe(1);
    expect(rs[0]?.stdout).toMatch(/^127\.0\.0\.1 \d+ /);
  });
});

withSshd.describe('connection errors', () => {
  let sshd: TestSshd;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => sshd?.stop());

  it('an unreachable host (closed port) fails fast with a clear E_SSH_CONNECT naming role, address and port', async () => {
    const port = await freePort();
    const inv = inventoryFor(sshd, ['db-node'], { connectTimeoutMs: 3000 });
    inv.hosts['db-node']!.port = port;
    const pool = new SshPool(inv);
    const t0 = Date.now();
    const err = await pool.exec('db-node', 'true').catch((e: unknown) => e);
    await pool.close();
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(err).toBeInstanceOf(StackcheckError);
    expect((err as StackcheckError).code).toBe('E_SSH_CONNECT');
    expect((err as Error).message).toContain(`db-node (127.0.0.1:${port})`);
    expect((err as Error).message).toContain('ECONNREFUSED');
  });

  it('a host that accepts TCP but never speaks SSH fails within the connect timeout', async () => {
    const { createServer } = await import('node:net');
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const inv = inventoryFor(sshd, ['db-node'], { connectTimeoutMs: 1000 });
    inv.hosts['db-node']!.port = port;
    const pool = new SshPool(inv);
    const t0 = Date.now();
    const err = await pool.exec('db-node', 'true').catch((e: unknown) => e);
    const took = Date.now() - t0;
    await pool.close();
    silent.close();
    expect((err as StackcheckError).code).toBe('E_SSH_CONNECT');
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(2500);
    expect((err as Error).message).toMatch(/within 1000 ms/);
  });

  it('a wrong key is an authentication error naming the user and host', async () => {
    const dir = tempDir('sc-key-');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'other')]);
    const inv = inventoryFor(sshd, ['db-node']);
    inv.hosts['db-node']!.keyFile = join(dir, 'other');
    const pool = new SshPool(inv);
    const err = await pool.exec('db-node', 'true').catch((e: unknown) => e);
    await pool.close();
    expect((err as StackcheckError).code).toBe('E_SSH_CONNECT');
    expect((err as Error).message).toContain(`authentication failed for db-node (${sshd.user}@127.0.0.1:${sshd.port})`);
  });

  it('a changed host key is refused, showing both fingerprints', async () => {
    const dir = tempDir('sc-kh-');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'fake')]);
    const fake = readFileSync(join(dir, 'fake.pub'), 'utf8').split(/\s+/);
    const kh = join(dir, 'known_hosts');
    writeFileSync(kh, `[127.0.0.1]:${sshd.port} ${fake[0]} ${fake[1]}\n`);
    const pool = new SshPool(inventoryFor(sshd, ['db-node'], { knownHosts: kh, acceptNewHostKeys: true }));
    const err = await pool.exec('db-node', 'true').catch((e: unknown) => e);
    await pool.close();
    expect((err as StackcheckError).code).toBe('E_SSH_HOSTKEY');
    const real = execFileSync('ssh-keygen', ['-l', '-f', join(sshd.dir, 'host_key.pub')]).toString().split(' ')[1];
    const wrong = execFileSync('ssh-keygen', ['-l', '-f', join(dir, 'fake.pub')]).toString().split(' ')[1];
    expect((err as Error).message).toContain('HOST KEY MISMATCH');
    expect((err as Error).message).toContain(real);
    expect((err as Error).message).toContain(wrong);
    // Even with accept-new on, a mismatch must not be "fixed" by appending.
    expect(readFileSync(kh, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('an unknown host key is refused without the accept option, and recorded (and logged) with it', async () => {
    const kh = join(tempDir('sc-kh-'), 'known_hosts');
    const refused = new SshPool(inventoryFor(sshd, ['db-node'], { knownHosts: kh }));
    const err = await refused.exec('db-node', 'true').catch((e: unknown) => e);
    await refused.close();
    expect((err as StackcheckError).code).toBe('E_SSH_HOSTKEY');
    expect((err as Error).message).toContain('is not in');
    expect((err as StackcheckError).hint).toContain('--accept-new-host-keys');

    const logs: string[] = [];
    const accepting = new SshPool(inventoryFor(sshd, ['db-node'], { knownHosts: kh }), { acceptNewHostKeys: true, log: (m) => logs.push(m) });
    expect((await accepting.exec('db-node', 'echo ok')).stdout).toBe('ok\n');
    await accepting.close();
    expect(logs.join('\n')).toMatch(/accepted new host key for db-node .*SHA256:/);
    expect(readFileSync(kh, 'utf8')).toContain(sshd.knownHostsLine.split(' ').slice(1).join(' '));
    // `ssh-keygen -F` (OpenSSH itself) finds the recorded entry.
    expect(execFileSync('ssh-keygen', ['-F', `[127.0.0.1]:${sshd.port}`, '-f', kh]).toString()).toContain('ssh-ed25519');

    // Next time, without the option, the recorded key is accepted.
    const later = new SshPool(inventoryFor(sshd, ['db-node'], { knownHosts: kh }));
    expect((await later.exec('db-node', 'echo again')).stdout).toBe('again\n');
    await later.close();
  });

  it('accepts a hashed known_hosts entry (ssh-keygen -H)', async () => {
    const dir = tempDir('sc-kh-');
    const kh = join(dir, 'known_hosts');
    writeFileSync(kh, `${sshd.knownHostsLine}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', kh]);
    expect(readFileSync(kh, 'utf8')).toMatch(/^\|1\|/);
    const pool = new SshPool(inventoryFor(sshd, ['db-node'], { knownHosts: kh }));
    expect((await pool.exec('db-node', 'echo hashed')).stdout).toBe('hashed\n');
    await pool.close();
  });

  it('authenticates through an ssh-agent socket', async () => {
    const dir = tempDir('sc-agent-');
    const sock = join(dir, 'agent.sock');
    const started = execFileSync('ssh-agent', ['-a', sock]).toString();
    const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(started)?.[1]);
    try {
      execFileSync('ssh-add', ['-q', sshd.keyFile], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
      const inv = inventoryFor(sshd, ['db-node']);
      delete inv.hosts['db-node']!.keyFile;
      inv.hosts['db-node']!.agent = sock;
      const pool = new SshPool(inv);
      expect((await pool.exec('db-node', 'echo via-agent')).stdout).toBe('via-agent\n');
      await pool.close();
    } finally {
      if (pid) process.kill(pid);
    }
  });

  it('reaches a host through a jump host', async () => {
    const inv = inventoryFor(sshd, ['bastion', 'db-node']);
    inv.hosts['db-node']!.jump = 'bastion';
    const pool = new SshPool(inv);
    expect((await pool.exec('db-node', 'echo $SSH_CONNECTION')).stdout).toMatch(/^127\.0\.0\.1 \d+ 127\.0\.0\.1 \d+/);
    await pool.close();
  });
});
