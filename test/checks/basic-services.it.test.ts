// The MariaDB, RabbitMQ and Keystone checks, both ways, on real services: they pass on a deployment built as
// the tutorial says, and each injected fault (the course's sabotages) fails exactly the checks that should
// fail, with a message naming the cause. The target is brought up by the test (chk lab, see chk-target.ts).
import { tempDir } from '../helpers/tmp.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runChecks } from '../../src/checks/run.js';
import { redactorFor } from '../../src/checks/secrets.js';
import { allureVitestConfig } from '../../src/report/allure-checks.js';
import type { CheckResult } from '../../src/checks/types.js';
import { adminEnv, chkTarget, type ChkTarget } from './chk-target.js';

let target: ChkTarget;

// Which checks of a run did not pass, as "id@host: status".
function notPassed(results: CheckResult[]): Record<string, string> {
  return Object.fromEntries(results.filter((r) => r.status !== 'passed').map((r) => [`${r.id}@${r.host}`, r.status]));
}

function byId(results: CheckResult[], id: string): CheckResult {
  const r = results.find((x) => x.id === id);
  if (!r) throw new Error(`no result for ${id}: ${results.map((x) => x.id).join(', ')}`);
  return r;
}

const MYSQL = ['mysql.server', 'mysql.databases', 'mysql.users', 'mysql.keystone-schema'];
const RABBIT = ['rabbitmq.user'];
const KEYSTONE = ['keystone.api', 'keystone.auth', 'keystone.glance-user', 'keystone.catalog', 'keystone.endpoints'];
// Keystone checks run as after the tutorial's stages up to Glance (what those stages declare they install): the
// catalog must hold identity and image (this target registers both, and only the glance service user). The MariaDB
// checks expect every service's database.
const UP_TO_GLANCE = ['hosts', 'mysql', 'rabbitmq', 'keystone', 'glance'];

// Run a set of checks against the target.
function check(only: string[]): Promise<CheckResult[]> {
  return runChecks({ inventory: target.inventory, only, ...(only.some((id) => id.startsWith('keystone.')) ? { installed: UP_TO_GLANCE } : {}) });
}

// Wait until Keystone answers again after a restart (its uwsgi workers take a few seconds).
async function keystoneBack(): Promise<void> {
  await target.sh(`for i in $(seq 60); do curl -sf http://${target.inventory.vars.AUTH_NODE_IP}:5000/v3/ >/dev/null && exit 0; sleep 1; done; exit 1`);
}

beforeAll(async () => {
  target = await chkTarget();
}, 900_000);

afterAll(async () => {
  await target?.close();
});

describe('on a deployment built as the tutorial says', () => {
  test('every MariaDB, RabbitMQ and Keystone check passes', async () => {
    const results = await check([...MYSQL, ...RABBIT, ...KEYSTONE]);
    expect(notPassed(results)).toEqual({});
    expect(results.map((r) => `${r.id}@${r.host}`).sort()).toEqual(
      [
        'keystone.api@auth-node',
        'keystone.auth@auth-node',
        'keystone.catalog@deployment',
        'keystone.endpoints@deployment',
        'keystone.glance-user@auth-node',
        'mysql.databases@db-node',
        'mysql.keystone-schema@db-node',
        'mysql.server@db-node',
        'mysql.users@db-node',
        'rabbitmq.user@db-node',
      ].sort(),
    );
  });

  test('a queue check names the missing service (nothing consumes conductor on this target)', async () => {
    const results = await runChecks({ inventory: { ...target.inventory, hosts: { ...target.inventory.hosts, 'api-node': target.inventory.hosts['db-node']! } }, only: ['rabbitmq.nova-conductor'] });
    const r = byId(results, 'rabbitmq.nova-conductor');
    expect(r.status).toBe('failed');
    expect(r.message).toMatch(/^expected queue conductor consumed by nova-conductor on api-node, found no such queue/);
  });
});

describe('MariaDB faults', () => {
  test('MariaDB stopped: mysql.server fails with "connection refused"; the login checks cannot run', async () => {
    await target.sh('systemctl stop mariadb');
    try {
      const results = await check([...MYSQL, ...RABBIT]);
      expect(notPassed(results)).toEqual({
        'mysql.server@db-node': 'failed',
        'mysql.databases@db-node': 'broken',
        'mysql.users@db-node': 'broken',
        'mysql.keystone-schema@db-node': 'broken',
      });
      const r = byId(results, 'mysql.server');
      expect(r.message).toMatch(/^expected MariaDB answering on 10\.97\.0\.11:3306 .*, found connection refused/);
      expect(r.remedy.stage).toBe('mysql');
      expect(r.evidence.map((e) => e.body).join('\n')).toMatch(/nothing listens on port 3306|inactive/);
    } finally {
      await target.sh('systemctl start mariadb');
    }
  });

  test('MariaDB listening on localhost only: mysql.server fails and shows the listening socket', async () => {
    await target.sh("sed -i 's/^bind-address = .*/bind-address = 127.0.0.1/' /etc/mysql/mariadb.conf.d/99-openstack.cnf && systemctl restart mariadb");
    try {
      const results = await check(['mysql.server']);
      const r = byId(results, 'mysql.server');
      expect(r.status).toBe('failed');
      expect(r.message).toContain('found connection refused');
      expect(r.evidence.map((e) => e.body).join('\n')).toContain('127.0.0.1:3306');
    } finally {
      await target.sh(`sed -i 's/^bind-address = .*/bind-address = ${target.inventory.vars.DB_NODE_IP}/' /etc/mysql/mariadb.conf.d/99-openstack.cnf && systemctl restart mariadb`);
    }
  });

  test('a dropped grant: mysql.users fails naming the user and the database', async () => {
    await target.sh(`mysql -e "REVOKE ALL PRIVILEGES ON nova_cell0.* FROM 'nova'@'%'; FLUSH PRIVILEGES;"`);
    try {
      const results = await check(MYSQL);
      expect(notPassed(results)).toEqual({ 'mysql.users@db-node': 'failed' });
      expect(byId(results, 'mysql.users').message).toMatch(/found nova: no access to nova_cell0$/);
    } finally {
      await target.sh(`mysql -e "GRANT ALL PRIVILEGES ON nova_cell0.* TO 'nova'@'%'; FLUSH PRIVILEGES;"`);
    }
  });

  test('a database user with another password than the inventory: mysql.users names it, never the password', async () => {
    await target.sh(`mysql -e "ALTER USER 'glance'@'%' IDENTIFIED BY 'not-the-inventory-one'"`);
    try {
      const results = await check(MYSQL);
      expect(notPassed(results)).toEqual({ 'mysql.users@db-node': 'failed' });
      const m = byId(results, 'mysql.users').message;
      expect(m).toMatch(/found glance: access denied.*\(GLANCE_DBPASS\)$/);
      expect(m).not.toContain('not-the-inventory-one');
    } finally {
      await target.sh(`mysql -e "ALTER USER 'glance'@'%' IDENTIFIED BY '${target.inventory.vars.GLANCE_DBPASS}'"`);
    }
  });

  test('a missing database: mysql.databases names it', async () => {
    await target.sh('mysql -e "DROP DATABASE cinder"');
    try {
      const results = await check(['mysql.databases']);
      expect(byId(results, 'mysql.databases').message).toMatch(/^expected databases keystone, .*cinder on db-node, found cinder missing$/);
    } finally {
      await target.sh('mysql -e "CREATE DATABASE IF NOT EXISTS cinder"');
    }
  });
});

describe('RabbitMQ faults', () => {
  test('a wrong password for the openstack user: rabbitmq.user fails with "login refused"', async () => {
    await target.sh("rabbitmqctl change_password openstack 'sabotaged-password'");
    try {
      const results = await check([...RABBIT, 'mysql.server']);
      expect(notPassed(results)).toEqual({ 'rabbitmq.user@db-node': 'failed' });
      const r = byId(results, 'rabbitmq.user');
      expect(r.message).toBe('expected user openstack logged in to RabbitMQ on db-node (vhost /) with RABBIT_PASS, found login refused (wrong user or password)');
      expect(JSON.stringify(r)).not.toContain('sabotaged-password');
    } finally {
      await target.sh(`rabbitmqctl change_password openstack '${target.inventory.vars.RABBIT_PASS}'`);
    }
  });

  test('RabbitMQ stopped: rabbitmq.user fails with "connection refused" and carries its log', async () => {
    await target.sh('systemctl stop rabbitmq-server');
    try {
      const results = await check([...RABBIT, 'mysql.server']);
      expect(notPassed(results)).toEqual({ 'rabbitmq.user@db-node': 'failed' });
      const r = byId(results, 'rabbitmq.user');
      expect(r.message).toMatch(/found connection refused/);
      expect(r.evidence.some((e) => e.name.includes('rabbitmq-server status and log') && e.body.includes('state: inactive'))).toBe(true);
    } finally {
      await target.sh('systemctl start rabbitmq-server');
    }
  });
});

describe('Keystone faults', () => {
  test('the admin role removed from a service user: keystone.glance-user says so', async () => {
    const env = adminEnv(target.inventory.vars);
    await target.sh(`${env} openstack role remove --project service --user glance admin`);
    try {
      const results = await check(KEYSTONE);
      expect(notPassed(results)).toEqual({ 'keystone.glance-user@auth-node': 'failed' });
      expect(byId(results, 'keystone.glance-user').message).toBe(
        'expected glance (password GLANCE_PASS) in project service to get a token with the admin role, found the password is right but glance has no role on project service (HTTP 401 when scoped)',
      );
    } finally {
      await target.sh(`${env} openstack role add --project service --user glance admin`);
    }
  });

  test('a service user whose Keystone password differs from the inventory: the password is named, not shown', async () => {
    const env = adminEnv(target.inventory.vars);
    await target.sh(`${env} openstack user set --password 'sabotaged-Glance' glance`);
    try {
      const results = await check(KEYSTONE);
      expect(notPassed(results)).toEqual({ 'keystone.glance-user@auth-node': 'failed' });
      const r = byId(results, 'keystone.glance-user');
      expect(r.message).toMatch(/found HTTP 401: Keystone rejects glance's password \(it differs from GLANCE_PASS/);
      expect(JSON.stringify(results)).not.toContain(target.inventory.vars.GLANCE_PASS);
    } finally {
      await target.sh(`${env} openstack user set --password '${target.inventory.vars.GLANCE_PASS}' glance`);
    }
  });

  test('a missing endpoint: keystone.catalog names the service and interface', async () => {
    const env = adminEnv(target.inventory.vars);
    await target.sh(`${env} openstack endpoint delete $(openstack endpoint list --service image --interface internal -f value -c ID)`);
    try {
      const results = await check(KEYSTONE);
      expect(notPassed(results)).toEqual({ 'keystone.catalog@deployment': 'failed' });
      expect(byId(results, 'keystone.catalog').message).toMatch(/found image lacks internal in RegionOne \(the catalog has: identity, image\)$/);
    } finally {
      await target.sh(`${env} openstack endpoint create --region RegionOne image internal http://${target.inventory.vars.IMAGE_NODE_IP}:9292`);
    }
  });

  test('an endpoint on the wrong host: keystone.endpoints names it', async () => {
    const env = adminEnv(target.inventory.vars);
    await target.sh(`${env} openstack endpoint set --url http://10.97.0.99:9292 $(openstack endpoint list --service image --interface public -f value -c ID)`);
    try {
      const results = await check(KEYSTONE);
      expect(notPassed(results)).toEqual({ 'keystone.endpoints@deployment': 'failed' });
      expect(byId(results, 'keystone.endpoints').message).toContain('image public http://10.97.0.99:9292 (expected db-node:9292)');
    } finally {
      await target.sh(`${env} openstack endpoint set --url http://${target.inventory.vars.IMAGE_NODE_IP}:9292 $(openstack endpoint list --service image --interface public -f value -c ID)`);
    }
  });

  test('Keystone stopped: keystone.api fails with its log attached; the checks needing a token are broken', async () => {
    await target.sh('systemctl stop keystone');
    try {
      const results = await check(KEYSTONE);
      expect(notPassed(results)).toEqual({
        'keystone.api@auth-node': 'failed',
        'keystone.auth@auth-node': 'broken',
        'keystone.glance-user@auth-node': 'broken',
        'keystone.catalog@deployment': 'broken',
        'keystone.endpoints@deployment': 'broken',
      });
      const api = byId(results, 'keystone.api');
      expect(api.message).toMatch(/^expected the Keystone v3 API answering at http:\/\/10\.97\.0\.11:5000\/v3, found connection refused/);
      expect(api.evidence.some((e) => e.name === 'auth-node: keystone status and log')).toBe(true);
      expect(byId(results, 'keystone.catalog').message).toMatch(/^cannot check: the admin cannot log in to Keystone/);
    } finally {
      await target.sh('systemctl start keystone');
      await keystoneBack();
    }
  });

  test('a wrong database password in keystone.conf: keystone.config names the setting and the variable', async () => {
    await target.sh("cp -p /etc/keystone/keystone.conf /root/keystone.conf.stackcheck && sed -i -E 's#^(connection = mysql\\+pymysql://keystone:)[^@]+@#\\1sabotaged@#' /etc/keystone/keystone.conf");
    try {
      const results = await runChecks({ inventory: target.inventory, only: ['keystone.config'] });
      // The password in the file, and the file changed under the running service: both are named.
      expect(byId(results, 'keystone.config').message).toMatch(/^expected \/etc\/keystone\/keystone\.conf on auth-node .*found .*\[database\] connection has a password that differs from KEYSTONE_DBPASS/);
    } finally {
      await target.sh('mv /root/keystone.conf.stackcheck /etc/keystone/keystone.conf');
    }
    const again = await runChecks({ inventory: target.inventory, only: ['keystone.config'] });
    expect(byId(again, 'keystone.config').status).toBe('passed');
  });

  test('with a reports folder, every check also becomes an Allure result, redacted', async () => {
    const dir = tempDir('stackcheck-allure-');
    await target.sh("rabbitmqctl change_password openstack 'sabotaged-password'");
    try {
      const allure = allureVitestConfig(join(dir, 'allure-results'), redactorFor(target.inventory));
      const results = await runChecks({ inventory: target.inventory, only: [...RABBIT, 'mysql.server'], vitestReporters: allure });
      expect(notPassed(results)).toEqual({ 'rabbitmq.user@db-node': 'failed' });
    } finally {
      await target.sh(`rabbitmqctl change_password openstack '${target.inventory.vars.RABBIT_PASS}'`);
    }
    const files = readdirSync(join(dir, 'allure-results')).filter((f) => f.endsWith('-result.json'));
    const docs = files.map((f) => JSON.parse(readFileSync(join(dir, 'allure-results', f), 'utf8')) as { status: string; labels: { name: string; value: string }[] });
    const rabbit = docs.find((d) => d.labels.some((l) => l.name === 'checkId' && l.value === 'rabbitmq.user'));
    expect(rabbit?.status).toBe('failed');
    expect(rabbit?.labels).toContainEqual({ name: 'host', value: 'db-node' });
    const all = readdirSync(join(dir, 'allure-results')).map((f) => readFileSync(join(dir, 'allure-results', f), 'utf8')).join('\n');
    for (const name of target.inventory.secretNames) expect(all).not.toContain(target.inventory.vars[name]);
  });

  test('no secret of the inventory appears in any result', async () => {
    const results = await check([...MYSQL, ...RABBIT, ...KEYSTONE]);
    const text = JSON.stringify(results);
    for (const name of target.inventory.secretNames) expect(text).not.toContain(target.inventory.vars[name]);
  });
});
