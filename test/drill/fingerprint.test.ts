// The fingerprint a drill takes before the injection and compares after `drill stop`: what the host script prints
// (run here on this machine for real), and the differences in words: a file changed, a service no longer running, a
// grant or a revision changed, a backup left behind; never a value (they may be hashes of secrets), and no noise
// from what changes by itself (a service that starts, a folder that appears).
import { execFileSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { compareFingerprints, fingerprintScript, fingerprintSize, parseFingerprint, type Fingerprint } from '../../src/drill/fingerprint.js';

const lines = (...xs: string[][]): string => xs.map((x) => x.join('\t')).join('\n');

const base = (): Fingerprint => ({
  'db-node': parseFingerprint(
    lines(
      ['file', '/etc/mysql/mariadb.conf.d/99-openstack.cnf', 'aa11'],
      ['file', '/etc/hosts', 'bb22'],
      ['meta', '/etc/hosts', '644 root:root'],
      ['meta', '/var/lib/mysql', '755 mysql:mysql'],
      ['svc', 'mariadb.service', 'running'],
      ['svc', 'ssh.service', 'running'],
      ['db', "grant 'nova'@'%' on nova_cell0", 'ALL PRIVILEGES'],
      ['db', 'alembic placement', 'b5c396305c25'],
      ['db', "user nova@%", 'c0ffee'],
    ),
  ),
  'auth-node': parseFingerprint(lines(['mq', 'permissions openstack', '.* .* .*'], ['svc', 'rabbitmq-server.service', 'running'])),
});

describe('the fingerprint of a deployment', () => {
  test('the host script runs on a real Debian host and reads its /etc (content, mode and owner)', () => {
    const out = execFileSync('bash', ['-c', fingerprintScript()], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    const f = parseFingerprint(out);
    expect(f.file?.['/etc/os-release'] ?? f.file?.['/etc/debian_version']).toHaveLength(1);
    expect(f.file?.['/etc/debian_version']?.[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(f.meta?.['/etc/debian_version']?.[0]).toMatch(/^\d{3,4} \S+:\S+$/);
    // What changes by itself is left out.
    expect(f.file?.['/etc/resolv.conf']).toBeUndefined();
    expect(fingerprintSize({ here: f })).toMatch(/^1 hosts: \d+ files, /);
  });

  test('the same deployment twice: no difference', () => {
    expect(compareFingerprints(base(), base())).toEqual([]);
  });

  test('each kind of change is named, without its value', () => {
    const after = base();
    const db = after['db-node']!;
    db.file!['/etc/mysql/mariadb.conf.d/99-openstack.cnf'] = ['ff99'];
    db.meta!['/var/lib/mysql'] = ['555 mysql:mysql'];
    delete db.svc!['mariadb.service'];
    db.db!["grant 'nova'@'%' on nova_cell0"] = ['USAGE'];
    db.db!['alembic placement'] = ['b4ed3a175331'];
    db.db!['user nova@%'] = ['deadbeef'];
    db.left = { '/root/.stackcheck-fault/cell1-db': ['present'] };
    after['auth-node']!.mq!['permissions openstack'] = ['^$ .* .*'];
    const diff = compareFingerprints(base(), after);
    expect(diff).toEqual([
      "auth-node: RabbitMQ permissions openstack changed",
      'db-node: /etc/mysql/mariadb.conf.d/99-openstack.cnf changed',
      'db-node: /var/lib/mysql changed mode or owner (755 mysql:mysql → 555 mysql:mysql)',
      'db-node: mariadb.service no longer runs',
      'db-node: /root/.stackcheck-fault/cell1-db was left behind',
      "db-node: database alembic placement changed",
      "db-node: database grant 'nova'@'%' on nova_cell0 changed",
      'db-node: database user nova@% changed',
    ]);
    expect(diff.join('\n')).not.toMatch(/deadbeef|c0ffee|ff99|aa11/);
  });

  test('a file added or removed, a grant revoked, a host unreachable', () => {
    const after = base();
    const db = after['db-node']!;
    delete db.file!['/etc/hosts'];
    db.file!['/etc/hosts.bak'] = ['bb22'];
    delete db.db!["grant 'nova'@'%' on nova_cell0"];
    after['auth-node'] = { host: { state: ['unreachable: connect ECONNREFUSED'] } };
    expect(compareFingerprints(base(), after)).toEqual([
      'auth-node: unreachable: connect ECONNREFUSED (before: reachable)',
      'db-node: /etc/hosts was removed',
      'db-node: /etc/hosts.bak was added',
      "db-node: database grant 'nova'@'%' on nova_cell0 is gone",
    ]);
  });

  test('what comes by itself is no difference: a service started, a new folder, a backup folder emptied', () => {
    const before = base();
    before['db-node']!.left = { '/root/.stackcheck-fault/x': ['present'] };
    const after = base();
    after['db-node']!.svc!['apt-daily.service'] = ['running'];
    after['db-node']!.meta!['/var/lib/nova'] = ['755 nova:nova'];
    expect(compareFingerprints(before, after)).toEqual([]);
  });
});
