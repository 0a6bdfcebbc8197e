import { describe, expect, test } from 'vitest';
import { CheckSession } from '../../src/checks/session.js';
import { CheckBroken } from '../../src/checks/outcome.js';
import { inventory } from './fixtures-inventory.js';

// A session is created without connecting to anything; connections open on first use.
function session(): CheckSession {
  return new CheckSession({ runId: 'unit', inventory: inventory(), selected: [], functional: false, files: 1, allure: false });
}

describe('check session', () => {
  test('Keystone is on the auth role, port 5000, unless OS_AUTH_URL says otherwise', () => {
    expect(session().authUrl()).toBe('http://10.0.0.12:5000/v3');
    const s = new CheckSession({ runId: 'u', inventory: inventory({ vars: { OS_AUTH_URL: 'https://keystone.example.org/v3' } }), selected: [], functional: false, files: 1, allure: false });
    expect(s.authUrl()).toBe('https://keystone.example.org/v3');
  });

  test('catalog URLs naming a role or host name are rewritten to its address; others are left alone', () => {
    const s = session();
    expect(s.reachable('http://api-node:8774/v2.1')).toBe('http://10.0.0.14:8774/v2.1');
    expect(s.reachable('http://db-node.example.org:9292/')).toBe('http://192.168.1.11:9292/');
    expect(s.reachable('http://10.0.0.14:8778')).toBe('http://10.0.0.14:8778');
    expect(s.reachable('http://elsewhere:80/x')).toBe('http://elsewhere:80/x');
  });

  test('a variable the inventory lacks makes the check broken, naming the variable', () => {
    expect(() => session().variable('GLANCE_PASS')).toThrow(CheckBroken);
    expect(() => session().variable('GLANCE_PASS')).toThrow('cannot check: the inventory does not set GLANCE_PASS');
  });

  test('MariaDB is expected on DB_NODE_IP, not on the SSH address', () => {
    expect(session().dbAddress()).toEqual({ host: '192.168.1.11', port: 3306 });
  });
});
