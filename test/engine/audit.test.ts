// The audit from API credentials alone: which checks can run on the APIs, and an inventory that contacts no host.
import { describe, expect, it } from 'vitest';
import { API_ONLY_CHECKS, credentialsInventory } from '../../src/engine/audit.js';
import { CHECKS } from '../../src/checks/registry.js';
import { SshPool } from '../../src/ssh/pool.js';
import { parseTutorial } from '../../src/runner/parse.js';

describe('audit with API credentials only', () => {
  it('knows every API-only check, and none of them mutates without --functional or reads a host', () => {
    const ids = new Set(CHECKS.map((m) => m.id));
    for (const id of API_ONLY_CHECKS) expect(ids.has(id), id).toBe(true);
    // the components that live on hosts only: never API-only
    for (const id of API_ONLY_CHECKS) expect(id).not.toMatch(/^(mysql|rabbitmq|qemu|host|horizon|dataplane)\.|\.config$/);
  });

  it("gives the tutorial's roles no address to contact: SSH is refused before any connection", async () => {
    const tutorial = await parseTutorial('tutorial');
    const inv = credentialsInventory(
      { authUrl: 'http://127.0.0.1:5000/v3', username: 'admin', password: 'pw-Secret-1', projectName: 'admin', userDomainName: 'Default', projectDomainName: 'Default', source: 'test' },
      tutorial,
    );
    expect(Object.keys(inv.hosts)).toContain('compute-1');
    expect(inv.access).toBe('api');
    expect(inv.secretNames).toEqual(['ADMIN_PASS']);
    const pool = new SshPool(inv);
    const started = Date.now();
    await expect(pool.exec('db-node', 'true')).rejects.toThrow(/no SSH access to db-node: only OpenStack API credentials were given/);
    expect(Date.now() - started).toBeLessThan(1000);
    await pool.close();
  });
});
