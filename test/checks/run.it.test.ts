// The runner end to end (vitest run programmatically, results mapped back) against a deployment that is not
// there: every service address is a closed port on 127.0.0.1. Checks must fail or be broken with reasons,
// keep one result per check and host, and never throw or leak a secret.
import { describe, expect, test } from 'vitest';
import { runChecks } from '../../src/checks/run.js';
import type { Inventory } from '../../src/inventory/types.js';

// A loopback inventory where nothing listens (port 9 is "discard", closed on this machine).
function nowhere(): Inventory {
  const host = (role: string): Inventory['hosts'][string] => ({ role, address: '127.0.0.1', port: 9, user: 'root', hostname: role, keyFile: '/dev/null' });
  return {
    file: 'nowhere.yaml',
    name: 'nowhere',
    hosts: { 'db-node': host('db-node'), 'auth-node': host('auth-node'), 'compute-1': host('compute-1'), 'compute-2': host('compute-2') },
    vars: { DB_NODE_IP: '127.0.0.1', DB_PORT: '9', RABBIT_PORT: '9', OS_AUTH_URL: 'http://127.0.0.1:9/v3', RABBIT_PASS: 'rabbit-Secret-1', ADMIN_PASS: 'admin-Secret-1', KEYSTONE_DBPASS: 'ks-Secret-1' },
    secretNames: ['RABBIT_PASS', 'ADMIN_PASS', 'KEYSTONE_DBPASS'],
    knownHosts: '/dev/null',
    acceptNewHostKeys: false,
    connectTimeoutMs: 2000,
  };
}

describe('runChecks against nothing', () => {
  test('unreachable services fail with the reason; checks that need them are broken', async () => {
    const results = await runChecks({ inventory: nowhere(), only: ['mysql.server', 'mysql.databases', 'rabbitmq.user', 'keystone.api', 'keystone.auth', 'keystone.catalog'] });
    const by = Object.fromEntries(results.map((r) => [`${r.id}@${r.host}`, r]));
    expect(Object.keys(by).sort()).toEqual(['keystone.api@auth-node', 'keystone.auth@auth-node', 'keystone.catalog@deployment', 'mysql.databases@db-node', 'mysql.server@db-node', 'rabbitmq.user@db-node']);
    expect(by['mysql.server@db-node']).toMatchObject({ status: 'failed', message: expect.stringMatching(/^expected MariaDB answering on 127\.0\.0\.1:9 .*, found connection refused/) });
    expect(by['rabbitmq.user@db-node']).toMatchObject({ status: 'failed', message: expect.stringContaining('found connection refused') });
    expect(by['keystone.api@auth-node']).toMatchObject({ status: 'failed', message: expect.stringContaining('found connection refused') });
    expect(by['keystone.auth@auth-node']?.status).toBe('broken');
    expect(by['keystone.catalog@deployment']?.message).toMatch(/^cannot check: the admin cannot log in to Keystone/);
    expect(by['mysql.databases@db-node']).toMatchObject({ status: 'broken', message: expect.stringMatching(/^cannot check: cannot reach db-node over SSH/) });
    for (const r of results) expect(r.remedy.text.length).toBeGreaterThan(0);
    const text = JSON.stringify(results);
    for (const s of ['rabbit-Secret-1', 'admin-Secret-1', 'ks-Secret-1']) expect(text).not.toContain(s);
  });

  test('the same check on two compute hosts gives two results; mutating checks are skipped without --functional', async () => {
    const results = await runChecks({ inventory: nowhere(), only: ['host.machine-id', 'nova.boot'] });
    expect(results.map((r) => `${r.id}@${r.host}:${r.status}`).sort()).toEqual([
      'host.machine-id@compute-1:broken',
      'host.machine-id@compute-2:broken',
      'nova.boot@compute-1:skipped',
      'nova.boot@compute-2:skipped',
    ]);
    expect(results.find((r) => r.id === 'nova.boot')?.message).toBe('not run: mutating check (use --functional)');
  });

  test('a password the inventory does not give: the login checks cannot run (broken, naming it), they do not fail', async () => {
    const inv = nowhere();
    const vars = Object.fromEntries(Object.entries(inv.vars).filter(([k]) => k !== 'RABBIT_PASS' && k !== 'ADMIN_PASS'));
    const results = await runChecks({ inventory: { ...inv, vars }, only: ['rabbitmq.user', 'keystone.auth'] });
    expect(results.map((r) => `${r.id}:${r.status}:${r.message}`).sort()).toEqual([
      'keystone.auth:broken:cannot check: the inventory does not set ADMIN_PASS',
      'rabbitmq.user:broken:cannot check: the inventory does not set RABBIT_PASS',
    ]);
  });

  test('a run leaves process.exitCode as it found it', async () => {
    const before = process.exitCode;
    await runChecks({ inventory: nowhere(), only: ['mysql.server'] });
    expect(process.exitCode).toBe(before);
  });
});
