// `stackcheck audit` on the deployed lab, as an operator runs it: with the lab (inventory: every check passes) and
// with a clouds.yaml alone (the API checks pass; every host-level check is "not checked", never passed). Neither
// changes anything: the target's state before and after (files under /etc on every host, the databases' tables,
// RabbitMQ's queues, the API listings of servers, images, volumes, networks, ports, users…) is the same.
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { buildCli, CLI, ROOT } from '../../helpers/build.js';
import { requires } from '../../helpers/requires.js';
import { tempDir } from '../../helpers/tmp.js';
import { openDeployedTarget } from '../../helpers/deployed.js';
import { remoteCommand } from '../../../src/ssh/exec.js';
import type { Inventory } from '../../../src/inventory/types.js';
import type { SshPool } from '../../../src/ssh/pool.js';
import type { CheckResult } from '../../../src/checks/types.js';
import { API_ONLY_CHECKS } from '../../../src/engine/audit.js';

const LAB_INVENTORY = '/var/lib/stackcheck/lab/lab/inventory.yaml';
const gate = requires({
  what: `the deployed lab's inventory (${LAB_INVENTORY})`,
  ok: existsSync(LAB_INVENTORY),
  how: 'build the lab and install the tutorial on it first: `npx stackcheck run tutorial` (or `npm run test:tutorial`)',
});

interface Cli {
  code: number | null;
  stdout: string;
  stderr: string;
}
function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Cli> {
  return new Promise((done) => {
    const p = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => done({ code, stdout, stderr }));
  });
}

// The API listings an audit must leave as they were, in one Python process (openstacksdk, as the openstack client
// uses it: one token, no start-up per listing).
const LISTINGS = `. /root/admin-openrc; python3 - <<'PY'
import openstack
c = openstack.connect()
lists = {
    'servers': lambda: c.compute.servers(all_projects=True),
    'images': lambda: c.image.images(),
    'volumes': lambda: c.block_storage.volumes(all_projects=True),
    'networks': lambda: c.network.networks(),
    'subnets': lambda: c.network.subnets(),
    'ports': lambda: c.network.ports(),
    'floating ips': lambda: c.network.ips(),
    'routers': lambda: c.network.routers(),
    'users': lambda: c.identity.users(),
    'projects': lambda: c.identity.projects(),
    'security groups': lambda: c.network.security_groups(),
}
for name, get in lists.items():
    print('==', name)
    for i in sorted(x.id for x in get()):
        print(i)
PY`;

gate.describe('stackcheck audit on the deployed lab (read-only)', () => {
  let inventory: Inventory;
  let pool: SshPool;
  let reports: string;

  // What an audit must not change, per host.
  async function state(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    const sh = async (role: string, script: string): Promise<string> => {
      const r = await pool.exec(role, remoteCommand({ script: `set -o pipefail\n${script}`, sshUser: 'root', root: true, timeoutMs: 120_000 }));
      if (r.exitCode !== 0) throw new Error(`${role}: ${script}: exit ${r.exitCode}: ${r.stderr}`);
      return r.stdout;
    };
    await Promise.all(
      Object.keys(inventory.hosts).map(async (role) => {
        out[`${role} /etc`] = await sh(role, "find /etc -xdev -type f -printf '%p %s %T@\\n' | sort | sha256sum");
      }),
    );
    // Queues the services declare by name; a service's per-connection queues (reply_<uuid>, <topic>_fanout_<uuid>)
    // come and go whenever it reconnects, audit or not.
    out['db-node queues'] = await sh('db-node', "rabbitmqctl -q list_queues name | grep -Ev '(^reply|_fanout)_[0-9a-f]{32}$' | sort");
    out['db-node tables'] = await sh('db-node', 'mysql -N -e "SELECT table_schema, COUNT(*) FROM information_schema.tables GROUP BY table_schema ORDER BY 1"');
    out['api listings'] = await sh('auth-node', LISTINGS);
    return out;
  }

  beforeAll(async () => {
    buildCli();
    ({ inventory, pool } = await openDeployedTarget());
    reports = tempDir('audit-');
  });
  afterAll(async () => {
    await pool?.close();
  });

  gate.it('with the lab: every check of the tutorial passes; with clouds.yaml alone: API checks pass, host checks not checked; nothing changes', async () => {
    const before = await state();
    expect(before['api listings']).toMatch(/== servers\n[0-9a-f-]{36}\n/);

    const full = await cli(['audit', 'tutorial', '--reports', reports, '--json']);
    expect(full.stderr).not.toContain(inventory.vars.ADMIN_PASS as string);
    expect(full.code).toBe(0);
    const fullResults = (JSON.parse(full.stdout) as { results: CheckResult[] }).results;
    expect(fullResults.filter((r) => r.status !== 'passed').map((r) => `${r.id}@${r.host}: ${r.status} ${r.message}`)).toEqual([]);
    expect(new Set(fullResults.map((r) => r.id)).size).toBeGreaterThan(50);

    const dir = tempDir('audit-clouds-');
    const clouds = join(dir, 'clouds.yaml');
    writeFileSync(
      clouds,
      `clouds:\n  lab:\n    auth:\n      auth_url: http://${inventory.vars.AUTH_NODE_IP}:5000/v3\n      username: admin\n      password: "${inventory.vars.ADMIN_PASS}"\n      project_name: admin\n      user_domain_name: Default\n      project_domain_name: Default\n    region_name: RegionOne\n`,
      { mode: 0o600 },
    );
    const api = await cli(['audit', 'tutorial', '--os-cloud', 'lab', '--reports', reports], { OS_CLIENT_CONFIG_FILE: clouds });
    expect(api.code, api.stdout + api.stderr).toBe(0);
    expect(api.stdout).not.toContain(inventory.vars.ADMIN_PASS as string);
    const json = await cli(['audit', 'tutorial', '--os-cloud', 'lab', '--reports', reports, '--json'], { OS_CLIENT_CONFIG_FILE: clouds });
    const results = (JSON.parse(json.stdout) as { results: CheckResult[] }).results;
    const passed = new Set(results.filter((r) => r.status === 'passed').map((r) => r.id));
    const notChecked = results.filter((r) => r.status === 'skipped');
    // Every API check of a read-only audit passed; every other check is "not checked" with the reason; none passed.
    for (const id of API_ONLY_CHECKS) if (!/boot|upload|attach|floating-ip/.test(id)) expect(passed.has(id), id).toBe(true);
    for (const r of results.filter((x) => !API_ONLY_CHECKS.has(x.id))) {
      expect(r.status, r.id).toBe('skipped');
      expect(r.message).toMatch(/^not checked: it needs the hosts .* only API credentials were given/);
    }
    expect(notChecked.map((r) => r.id)).toEqual(expect.arrayContaining(['mysql.server', 'rabbitmq.user', 'qemu.instances', 'nova.config']));
    expect(results.filter((r) => r.status === 'failed' || r.status === 'broken')).toEqual([]);

    expect(await state()).toEqual(before);
  }, 900_000);
});
