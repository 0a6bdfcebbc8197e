// Checks against hostile servers on loopback (a student's machine may be broken in any way): a Keystone that never
// answers, that trickles its answer a byte at a time, that sends 64 MB, or malformed JSON; a MariaDB and a RabbitMQ
// that accept the connection and then say nothing. Each check ends failed or broken, within its timeout, with a
// message that says what happened — never passed, never a crash, never a hang; and a healthy host beside them (the
// real sshd) is checked as usual in the same run.
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runChecks } from '../../src/checks/run.js';
import { inventoryFromObject } from '../../src/inventory/load.js';
import type { CheckResult } from '../../src/checks/types.js';

const sockets = new Set<Socket>();
const servers: (Server | HttpServer)[] = [];

async function listen<T extends Server | HttpServer>(server: T): Promise<number> {
  servers.push(server);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const a = server.address();
  return typeof a === 'object' && a ? a.port : 0;
}

const ports: Record<string, number> = {};
const timers: NodeJS.Timeout[] = [];

beforeAll(async () => {
  // Accepts, reads, never answers.
  ports.silentTcp = await listen(createServer(() => undefined));
  ports.silentHttp = await listen(createHttpServer(() => undefined));
  // Headers, then one byte a second, for ever (until the test ends).
  ports.trickle = await listen(
    createHttpServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"version": {"id": "v3');
      const t = setInterval(() => res.write(' '), 1000);
      timers.push(t);
      res.on('close', () => clearInterval(t));
    }),
  );
  // 64 MB of JSON.
  ports.huge = await listen(
    createHttpServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const chunk = `"${'x'.repeat(1024 * 1024 - 3)}",`;
      res.write('{"version": {"id": "v3.14", "padding": [');
      for (let i = 0; i < 64; i++) res.write(chunk);
      res.end('""]}}');
    }),
  );
  // Malformed JSON, status 200.
  ports.malformed = await listen(
    createHttpServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"version": {"id": "v3.14", ');
    }),
  );
});

afterAll(async () => {
  for (const t of timers) clearInterval(t);
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((res) => s.close(res))));
});

// An inventory whose services are the hostile servers (SSH to a closed port: the checks' log reading fails fast).
function inventory(vars: Record<string, string>) {
  const host = { address: '127.0.0.1', port: 1 };
  return inventoryFromObject({ hosts: { 'db-node': host, 'auth-node': host }, vars: { RABBIT_PASS: 'x-rabbit-pass', KEYSTONE_DBPASS: 'x', ADMIN_PASS: 'x-admin-pass', ...vars } }, 'hostile.yaml', '/tmp', {});
}

async function timed(only: string[], vars: Record<string, string>): Promise<{ results: CheckResult[]; ms: number }> {
  const t0 = Date.now();
  const results = await runChecks({ inventory: inventory(vars), only });
  return { results, ms: Date.now() - t0 };
}

const verdict = (r: CheckResult[], id: string): string => {
  const x = r.find((y) => y.id === id);
  return `${x?.status}: ${x?.message}`;
};

// (side by side: each waits for its own timeout)
describe.concurrent('checks against hostile servers', () => {
  test('a Keystone that never answers: keystone.api fails as timed out, keystone.auth is broken, within the timeouts', async () => {
    const { results, ms } = await timed(['keystone.api', 'keystone.auth'], { OS_AUTH_URL: `http://127.0.0.1:${ports.silentHttp}/v3` });
    expect(verdict(results, 'keystone.api')).toMatch(/^failed: expected the Keystone v3 API answering at .*, found .*timed out/);
    expect(verdict(results, 'keystone.auth')).toMatch(/^(broken|failed): /);
    expect(ms).toBeLessThan(120_000);
  }, 180_000);

  test('a Keystone that trickles its answer a byte a second: stopped at the deadline, not kept for ever', async () => {
    const { results, ms } = await timed(['keystone.api'], { OS_AUTH_URL: `http://127.0.0.1:${ports.trickle}/v3` });
    expect(verdict(results, 'keystone.api')).toMatch(/^failed: .*timed out/);
    expect(ms).toBeLessThan(90_000);
  }, 180_000);

  test('a Keystone that sends 64 MB: refused as too large (read no further than 32 MiB)', async () => {
    const { results } = await timed(['keystone.api'], { OS_AUTH_URL: `http://127.0.0.1:${ports.huge}/v3` });
    expect(verdict(results, 'keystone.api')).toMatch(/^failed: .*larger than 32 MiB/);
  }, 180_000);

  test('a Keystone that sends malformed JSON: failed, saying what came back', async () => {
    const { results } = await timed(['keystone.api'], { OS_AUTH_URL: `http://127.0.0.1:${ports.malformed}/v3` });
    expect(verdict(results, 'keystone.api')).toMatch(/^failed: expected the Keystone v3 API answering at .*, found /);
  }, 180_000);

  test('a MariaDB and a RabbitMQ that accept and say nothing: failed or broken within their timeouts', async () => {
    const { results, ms } = await timed(['mysql.server', 'rabbitmq.user'], { DB_PORT: String(ports.silentTcp), RABBIT_PORT: String(ports.silentTcp) });
    expect(verdict(results, 'mysql.server')).toMatch(/^failed: expected MariaDB answering on 127\.0\.0\.1:\d+ .*, found /);
    expect(verdict(results, 'rabbitmq.user')).toMatch(/^(failed|broken): /);
    expect(ms).toBeLessThan(90_000);
  }, 180_000);
});
