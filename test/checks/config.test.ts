// The config reader runs on the service's host; here it runs on this machine's python3 against real files.
import { tempDir } from '../helpers/tmp.js';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CONFIG_SCRIPT } from '../../src/checks/config.js';

const dir = tempDir('stackcheck-config-');

// Run the reader on a config text with the given rules; returns its verdicts.
function verdicts(conf: string, rules: unknown[]): { read: string[]; problems: string[] } {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.conf`);
  writeFileSync(file, conf);
  const out = execFileSync('python3', ['-c', CONFIG_SCRIPT], { input: JSON.stringify({ files: [file], rules }) }).toString();
  return JSON.parse(out) as { read: string[]; problems: string[] };
}

const DB = { kind: 'db', section: 'database', key: 'connection', user: 'nova', passwordVar: 'NOVA_DBPASS', password: 'n0va%pass', hosts: ['db-node', '10.0.0.11'], schema: 'nova' };
const MQ = { kind: 'mq', section: 'DEFAULT', key: 'transport_url', user: 'openstack', passwordVar: 'RABBIT_PASS', password: 'rabbitSecret', hosts: ['db-node', '10.0.0.11'], port: 5672 };
const KS = { kind: 'password', section: 'keystone_authtoken', key: 'password', passwordVar: 'NOVA_PASS', password: 'novaSecret' };

describe('service configuration against the inventory', () => {
  test('a conforming file has no problems (URL-encoded passwords decoded)', () => {
    const conf = `[DEFAULT]\ntransport_url = rabbit://openstack:rabbitSecret@10.0.0.11:5672/\n[database]\nconnection = mysql+pymysql://nova:n0va%25pass@db-node/nova\n[keystone_authtoken]\npassword = novaSecret\n`;
    expect(verdicts(conf, [DB, MQ, KS]).problems).toEqual([]);
  });

  test('wrong passwords and hosts are named by variable, never shown', () => {
    const conf = `[DEFAULT]\ntransport_url = rabbit://openstack:WRONG-MQ@10.9.9.9:5672/\n[database]\nconnection = mysql+pymysql://nova:WRONG-DB@db-node/nova\n[keystone_authtoken]\npassword = WRONG-KS\n`;
    const v = verdicts(conf, [DB, MQ, KS]);
    expect(v.problems).toEqual([
      '[database] connection has a password that differs from NOVA_DBPASS',
      '[DEFAULT] transport_url has a password that differs from RABBIT_PASS',
      '[DEFAULT] transport_url points at host 10.9.9.9, not db-node',
      '[keystone_authtoken] password differs from NOVA_PASS',
    ]);
    expect(JSON.stringify(v)).not.toMatch(/WRONG-|rabbitSecret|novaSecret|n0va/);
  });

  test('a missing setting or file is reported as such', () => {
    expect(verdicts('[database]\n', [DB]).problems).toEqual(['[database] connection is not set']);
    const out = JSON.parse(execFileSync('python3', ['-c', CONFIG_SCRIPT], { input: JSON.stringify({ files: [join(dir, 'absent.conf')], rules: [] }) }).toString()) as { read: string[] };
    expect(out.read).toEqual([]);
  });
});

test('a packaged default (sqlite) is named as such, not as a wrong password', () => {
  expect(verdicts('[database]\nconnection = sqlite:////var/lib/nova/nova.sqlite\n', [DB]).problems).toEqual(['[database] connection is a sqlite URL, not mysql+pymysql://']);
});
