// The Glance checks both ways on a real glance-api (the chk lab with the tutorial's Glance stage added):
// they pass, an uploaded image round-trips and is deleted (functional), and a stopped API, a wrong database
// password in glance-api.conf or a missing image fail exactly the checks that should fail.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runChecks } from '../../src/checks/run.js';
import type { CheckResult } from '../../src/checks/types.js';
import { adminEnv, chkTarget, type ChkTarget } from './chk-target.js';

let target: ChkTarget;
const GLANCE = ['glance.api', 'glance.images', 'glance.config', 'mysql.glance-schema', 'keystone.glance-user'];

function notPassed(results: CheckResult[]): Record<string, string> {
  return Object.fromEntries(results.filter((r) => r.status !== 'passed').map((r) => [`${r.id}@${r.host}`, r.status]));
}

function byId(results: CheckResult[], id: string): CheckResult {
  const r = results.find((x) => x.id === id);
  if (!r) throw new Error(`no result for ${id}`);
  return r;
}

// Checks as after the tutorial's Glance stage.
const check = (only: string[], functional = false): Promise<CheckResult[]> => runChecks({ inventory: target.inventory, only, functional, stage: 'glance', installed: ['hosts', 'mysql', 'rabbitmq', 'keystone', 'glance'] });

beforeAll(async () => {
  target = await chkTarget(undefined, { glance: true });
}, 900_000);

afterAll(async () => {
  await target?.close();
});

describe('Glance as the tutorial installs it', () => {
  test('the read-only checks pass', async () => {
    expect(notPassed(await check(GLANCE))).toEqual({});
  });

  test('an uploaded image becomes active, downloads back unchanged, and is deleted', async () => {
    const results = await check(['glance.upload'], true);
    expect(notPassed(results)).toEqual({});
    const left = await target.sh(`${adminEnv(target.inventory.vars)} openstack image list -f value -c Name | grep '^stackcheck-' || true`);
    expect(left.stdout.trim()).toBe('');
  });

  test('without --functional the upload is skipped, not run', async () => {
    const results = await check(['glance.upload']);
    expect(byId(results, 'glance.upload')).toMatchObject({ status: 'skipped', message: 'not run: mutating check (use --functional)' });
  });
});

describe('Glance faults', () => {
  test('glance-api stopped: glance.api fails with the log attached; the image checks cannot run', async () => {
    await target.sh('systemctl stop glance-api');
    try {
      const results = await check([...GLANCE, 'glance.upload'], true);
      expect(notPassed(results)).toEqual({ 'glance.api@db-node': 'failed', 'glance.images@deployment': 'broken', 'glance.upload@db-node': 'broken' });
      const api = byId(results, 'glance.api');
      expect(api.message).toMatch(/^expected every Glance endpoint answering an authenticated GET \/v2\/images\?limit=1, found admin http:\/\/10\.97\.0\.11:9292: connection refused/);
      expect(api.evidence.some((e) => e.name === 'db-node: glance-api status and log' && e.body.includes('state: inactive'))).toBe(true);
    } finally {
      await target.sh(`systemctl start glance-api; for i in $(seq 90); do curl -sf http://${target.inventory.vars.IMAGE_NODE_IP}:9292/ >/dev/null && exit 0; sleep 1; done; exit 1`);
    }
  });

  test('a wrong database password in glance-api.conf: glance.config names it', async () => {
    await target.sh("cp -p /etc/glance/glance-api.conf /root/glance-api.conf.stackcheck && sed -i -E 's#^(connection = mysql\\+pymysql://glance:)[^@]+@#\\1sabotaged@#' /etc/glance/glance-api.conf");
    try {
      const results = await check(['glance.config']);
      expect(byId(results, 'glance.config').message).toBe(
        "expected /etc/glance/glance-api.conf on db-node using the inventory's hosts and passwords, found [database] connection has a password that differs from GLANCE_DBPASS",
      );
    } finally {
      await target.sh('mv /root/glance-api.conf.stackcheck /etc/glance/glance-api.conf');
    }
  });

  test('the image the tutorial registers is gone: glance.images names it', async () => {
    const env = adminEnv(target.inventory.vars);
    await target.sh(`${env} openstack image set --name tiny-renamed tiny`);
    try {
      const results = await check(['glance.images']);
      expect(byId(results, 'glance.images').message).toMatch(/^expected image tiny registered in Glance, found no such image \(images: .*tiny-renamed/);
    } finally {
      await target.sh(`${env} openstack image set --name tiny tiny-renamed`);
    }
  });
});
