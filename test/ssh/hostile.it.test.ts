// SSH servers that misbehave after authentication (built here with ssh2's server, on loopback, host key verified):
// one that accepts a command and never answers, one that drops the connection in the middle of the output, one that
// sends bytes that are not UTF-8. Each exec ends within its timeout, as timed out, lost, or with the bytes replaced;
// a well-behaved host beside them (the real test sshd) answers in the meantime as usual.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, utils, type Connection } from 'ssh2';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { SshPool } from '../../src/ssh/pool.js';
import { inventoryFromObject } from '../../src/inventory/load.js';
import { startSshd, type TestSshd } from '../helpers/sshd.js';
import { prerequisite, requires } from '../helpers/requires.js';

type Behaviour = 'stall' | 'drop' | 'bytes';

const hostKey = utils.generateKeyPairSync('ed25519');
const clientKey = utils.generateKeyPairSync('ed25519');
const servers: Server[] = [];
const clients = new Set<Connection>();

// A server that authenticates anyone with the client key and then behaves as told.
async function hostile(behaviour: Behaviour): Promise<number> {
  const server = new Server({ hostKeys: [hostKey.private] }, (client) => {
    clients.add(client);
    client.on('close', () => clients.delete(client));
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => (ctx.method === 'publickey' ? ctx.accept() : ctx.reject(['publickey'])));
    client.on('session', (accept) => {
      const session = accept();
      session.on('exec', (acceptExec) => {
        const ch = acceptExec();
        if (behaviour === 'stall') return; // never a byte, never an exit status
        if (behaviour === 'drop') {
          ch.write('partial output before the drop\n');
          setTimeout(() => client.end(), 200);
          return;
        }
        ch.write(Buffer.from([0xff, 0xfe, 0x6f, 0x6b, 0x0a]));
        ch.exit(0);
        ch.end();
      });
    });
  });
  servers.push(server);
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return (server.address() as { port: number }).port;
}

requires(prerequisite.sshd()).describe('SSH servers that misbehave after authentication', () => {
  let sshd: TestSshd;
  let pool: SshPool;

  beforeAll(async () => {
    sshd = await startSshd();
    const dir = mkdtempSync(join(tmpdir(), 'sc-hostile-ssh-'));
    const ports = { stall: await hostile('stall'), drop: await hostile('drop'), bytes: await hostile('bytes') };
    const pub = (hostKey.public as string).trim().split(' ').slice(0, 2).join(' ');
    const known = join(dir, 'known_hosts');
    writeFileSync(known, [...Object.values(ports).map((p) => `[127.0.0.1]:${p} ${pub}`), ''].join('\n') + readFileSync(sshd.knownHostsFile, 'utf8'));
    writeFileSync(join(dir, 'key'), clientKey.private, { mode: 0o600 });
    const hosts = Object.fromEntries(Object.entries(ports).map(([role, port]) => [role, { address: '127.0.0.1', port, user: 'root', key: join(dir, 'key') }]));
    const inventory = inventoryFromObject(
      { ssh: { known_hosts: known, connect_timeout: '3s' }, hosts: { ...hosts, good: { address: '127.0.0.1', port: sshd.port, user: sshd.user, key: sshd.keyFile } } },
      join(dir, 'inv.yaml'),
      dir,
      {},
    );
    pool = new SshPool(inventory);
  }, 120_000);

  afterAll(async () => {
    await pool?.close();
    for (const c of clients) c.end();
    await Promise.all(servers.map((s) => new Promise((res) => s.close(res))));
    await sshd?.stop();
  });

  test('a server that never answers the command: timed out at the deadline, while another host answers', async () => {
    const t0 = Date.now();
    const [stalled, good] = await Promise.all([pool.exec('stall', 'true', { timeoutMs: 2_000 }), pool.exec('good', 'echo fine')]);
    expect(good).toMatchObject({ exitCode: 0, stdout: 'fine\n' });
    expect(stalled).toMatchObject({ timedOut: true, exitCode: null });
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  test('a server that drops the connection mid-output: the output so far, the step lost (no exit status), quickly', async () => {
    const t0 = Date.now();
    const r = await pool.exec('drop', 'true', { timeoutMs: 20_000 });
    expect(r).toMatchObject({ lost: true, exitCode: null, timedOut: false });
    expect(r.stdout).toBe('partial output before the drop\n');
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  test('bytes that are not UTF-8: replaced (U+FFFD), the rest kept, the exit status read', async () => {
    const r = await pool.exec('bytes', 'true', { timeoutMs: 10_000 });
    expect(r).toMatchObject({ exitCode: 0, stdout: '\uFFFD\uFFFDok\n' });
  });
});
