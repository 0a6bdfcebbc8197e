// Per-command cost over one SSH connection, Nagle off (setNoDelay + noDelay socket) vs ssh2's default.
// Run: npx vitest bench --run --config bench/vitest.bench.config.ts
import { afterAll, beforeAll, bench, describe } from 'vitest';
import { readFileSync } from 'node:fs';
import { Client } from 'ssh2';
import { startSshd, type TestSshd } from '../test/helpers/sshd.js';
import { SshPool } from '../src/ssh/pool.js';
import { inventoryFor } from '../test/helpers/sshd.js';
import { runOnHost } from '../src/runner/remote.js';

let sshd: TestSshd;
let pool: SshPool;
let plain: Client;

// One `exec` on a bare ssh2 client, waiting for the channel to close.
function run(c: Client, cmd: string): Promise<void> {
  return new Promise((resolve, reject) => c.exec(cmd, (err, ch) => (err ? reject(err) : ch.on('close', () => resolve()).resume())));
}

beforeAll(async () => {
  sshd = await startSshd();
  pool = new SshPool(inventoryFor(sshd, ['h']));
  await pool.exec('h', 'true');
  plain = new Client();
  await new Promise<void>((resolve, reject) => {
    plain.once('ready', () => resolve()).once('error', reject);
    // ssh2 as it comes: its own socket, Nagle's algorithm left on.
    plain.connect({ host: sshd.address, port: sshd.port, username: sshd.user, privateKey: readFileSync(sshd.keyFile) });
  });
});
afterAll(async () => {
  plain.end();
  await pool.close();
  await sshd.stop();
});

describe('one `true` per round trip on an open connection', () => {
  bench('SshPool (noDelay)', async () => {
    await pool.exec('h', 'true');
  }, { iterations: 40, warmupIterations: 3 });
  bench('ssh2 default (Nagle on)', async () => {
    await run(plain, 'true');
  }, { iterations: 40, warmupIterations: 3 });
  // What a tutorial step costs on top: shell-state script, `timeout` wrapper, state save.
  bench('a step through the runner (shell state + timeout)', async () => {
    await runOnHost(pool, 'h', 'true', { runId: 'bench', root: true, timeoutMs: 60_000 });
  }, { iterations: 40, warmupIterations: 3 });
});
