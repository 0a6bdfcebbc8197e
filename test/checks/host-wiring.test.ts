// The host wiring helpers on output captured from the lab: the TCP probe (MariaDB greeting, refused, unroutable,
// dropped), name resolution (getent ahosts on the tutorial's /etc/hosts), and clock offsets.
import { describe, expect, test } from 'vitest';
import { expectedFor } from '../../src/checks/expect.js';
import {
  clockSample,
  clockVerdicts,
  databaseClients,
  databaseUsers,
  messageQueueClients,
  mysqlFirstPacket,
  nameExpectations,
  nameProblems,
  namesToResolve,
  parseEpochMs,
  parseResolved,
  parseTcpProbe,
  resolveScript,
  signedSeconds,
  tcpProbeScript,
} from '../../src/checks/host-wiring.js';
import type { Inventory } from '../../src/inventory/types.js';
import { inventory } from './fixtures-inventory.js';

// The lab's seven roles (addresses as the lab gives them).
function lab(vars: Record<string, string> = {}): Inventory {
  const roles = ['db-node', 'auth-node', 'image-node', 'api-node', 'network-node', 'volume-node', 'compute-1'];
  const hosts = Object.fromEntries(roles.map((r, i) => [r, { role: r, address: `10.99.0.${11 + i}`, port: 22, user: 'root', hostname: r }]));
  const ips = Object.fromEntries(roles.map((r, i) => [`${r.toUpperCase().replace(/-/g, '_')}_IP`, `10.99.0.${11 + i}`]));
  return inventory({ hosts, vars: { ...ips, ...vars } });
}

// tcpProbeScript's output on api-node, connecting to the lab's MariaDB (greeting of 10.11.19).
const GREETING = `RC 0
MS 8
CONNECTED
 64 00 00 00 0a 35 2e 35 2e 35 2d 31 30 2e 31 31
 2e 31 39 2d 4d 61 72 69 61 44 42 2d 30 2b 64 65
 62 31 32 75 31 00 a0 00 00 00 4e 6d 5a 5b 3a 4c
 53 3c 00 fe f7 2d 02 00 ff 81 15 00 00 00 00 00
 00 1d 00 00 00 6f 3d 7e 28 49 75 33 3d 78 67 79
 4c 00 6d 79 73 71 6c 5f 6e 61 74 69 76 65 5f 70
 61 73 73 77 6f 72 64 00`;

describe('who uses the database and the message queue', () => {
  test('database clients: every service\'s host and cinder-volume\'s; users with the hosts that log in with them', () => {
    const inv = lab();
    const e = expectedFor(inv);
    expect(databaseClients(e, inv)).toEqual([
      { role: 'auth-node', services: ['keystone'] },
      { role: 'image-node', services: ['glance'] },
      { role: 'api-node', services: ['placement', 'nova', 'cinder'] },
      { role: 'network-node', services: ['neutron'] },
      { role: 'volume-node', services: ['cinder-volume'] },
    ]);
    expect(databaseUsers(e, inv).find((u) => u.user === 'cinder')).toEqual({ user: 'cinder', schemas: ['cinder'], roles: ['api-node', 'volume-node'] });
  });

  test('message-queue clients: nova, neutron and cinder hosts and every compute host', () => {
    const inv = lab();
    expect(messageQueueClients(expectedFor(inv), inv)).toEqual([
      { role: 'api-node', services: ['nova', 'cinder'] },
      { role: 'network-node', services: ['neutron'] },
      { role: 'volume-node', services: ['cinder-volume'] },
      { role: 'compute-1', services: ['nova-compute', 'neutron-linuxbridge-agent'] },
    ]);
  });
});

describe('the TCP probe', () => {
  test('the script is bounded and passes host and port as arguments', () => {
    const s = tcpProbeScript('10.99.0.11', 3306, true);
    expect(s).toContain('timeout 5 bash -c');
    expect(s).toContain("probe '10.99.0.11' 3306 1");
    expect(s).toContain('timeout 3 dd bs=1024 count=1');
  });

  test('MariaDB greets: the version', () => {
    const p = parseTcpProbe(GREETING);
    expect(p).toMatchObject({ connected: true, ms: 8 });
    expect(mysqlFirstPacket(p.bytes)).toEqual({ ok: true, version: '5.5.5-10.11.19-MariaDB-0+deb12u1' });
  });

  test('MariaDB refuses the host before login: the error code and text', () => {
    const msg = [...Buffer.from("Host '10.99.0.14' is blocked because of many connection errors; unblock with 'mariadb-admin flush-hosts'")];
    const body = [0xff, 0x69, 0x04, ...msg];
    const p = parseTcpProbe(`RC 0\nMS 3\nCONNECTED\n ${[body.length, 0, 0, 0, ...body].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`);
    expect(mysqlFirstPacket(p.bytes)).toEqual({ ok: false, code: 1129, text: `error 1129: ${Buffer.from(msg).toString()}` });
  });

  test('connected but silent, or something else on the port', () => {
    expect(mysqlFirstPacket(parseTcpProbe('RC 0\nMS 3004\nCONNECTED\n').bytes)).toEqual({ ok: false, text: 'nothing (the port answers but sends no MariaDB greeting within 3 s)' });
    expect(mysqlFirstPacket([0x10, 0, 0, 0, 0x41, 0x4d])).toEqual({ ok: false, text: 'not a MariaDB greeting (first byte 0x41)' });
  });

  test('refused, unroutable (as bash says it on the lab), and dropped (timeout kills the probe at 5 s)', () => {
    expect(parseTcpProbe('RC 3\nMS 4\nprobe: connect: Connection refused\nprobe: line 1: /dev/tcp/10.99.0.11/3307: Connection refused')).toEqual({ connected: false, ms: 4, error: 'connection refused', bytes: [] });
    expect(parseTcpProbe('RC 3\nMS 3058\nprobe: connect: No route to host\nprobe: line 1: /dev/tcp/10.99.0.250/3306: No route to host').error).toBe('no route to host');
    expect(parseTcpProbe('RC 124\nMS 5003\n\n')).toMatchObject({ connected: false, error: 'no answer within 5 s (dropped by a firewall, or the address is not there)' });
    expect(parseTcpProbe('RC 0\nMS 5\nCONNECTED\n')).toEqual({ connected: true, ms: 5, bytes: [] });
  });
});

describe('host names', () => {
  test('each role (and a host name that differs) at its <ROLE>_IP, else its SSH address', () => {
    const inv = lab();
    inv.hosts['compute-1']!.hostname = 'cmp1';
    delete inv.vars.VOLUME_NODE_IP;
    const x = nameExpectations(inv);
    expect(x.find((n) => n.name === 'db-node')).toEqual({ name: 'db-node', role: 'db-node', address: '10.99.0.11', source: 'DB_NODE_IP' });
    expect(x.filter((n) => n.role === 'compute-1').map((n) => n.name)).toEqual(['compute-1', 'cmp1']);
    expect(x.find((n) => n.name === 'volume-node')?.source).toBe("the inventory's address of volume-node");
  });

  test('the script quotes names; getent ahosts output (one address twice: two /etc/hosts lines) is deduplicated', () => {
    expect(resolveScript(['db-node', "a'b"])).toContain(`for n in 'db-node' 'a'\\''b'; do`);
    const r = parseResolved('db-node\t10.99.0.11 10.99.0.11 \napi-node\t10.99.0.14 10.99.0.14 \ncompute-1\t10.99.0.17 10.99.0.17 \nnosuch-node\t\n');
    expect(r.get('db-node')).toEqual(['10.99.0.11']);
    expect(r.get('nosuch-node')).toEqual([]);
  });

  test('a changed address, a name missing from /etc/hosts and a 127.0.1.1 line are each named with both addresses', () => {
    const inv = lab({ COMPUTE_1_IP: '10.99.0.99' });
    inv.hosts['swift-node'] = { role: 'swift-node', address: '10.99.0.20', port: 22, user: 'root', hostname: 'swift-node' };
    const resolved = parseResolved(
      ['db-node\t10.99.0.11', 'auth-node\t10.99.0.12', 'image-node\t10.99.0.13', 'api-node\t127.0.1.1 10.99.0.14', 'network-node\t10.99.0.15', 'volume-node\t10.99.0.16', 'compute-1\t10.99.0.17', 'swift-node\t'].join('\n'),
    );
    expect(nameProblems(resolved, nameExpectations(inv))).toEqual([
      'api-node resolves to 127.0.1.1 first, then 10.99.0.14, not 10.99.0.14 (API_NODE_IP) (a 127.0.1.1 line for api-node in /etc/hosts: remove it)',
      'compute-1 resolves to 10.99.0.17, not 10.99.0.99 (COMPUTE_1_IP)',
      "swift-node does not resolve (expected 10.99.0.20 from the inventory's address of swift-node)",
    ]);
  });
});

test('a host known by a DNS name (no <ROLE>_IP): its name must resolve to what that DNS name resolves to', () => {
  const inv = inventory({ hosts: { 'db-node': { role: 'db-node', address: 'db1.example.org', port: 22, user: 'root', hostname: 'db-node' } }, vars: {} });
  const x = nameExpectations(inv);
  expect(namesToResolve(x)).toEqual(['db-node', 'db1.example.org']);
  expect(nameProblems(parseResolved('db-node\t192.0.2.11\ndb1.example.org\t192.0.2.11\n'), x)).toEqual([]);
  expect(nameProblems(parseResolved('db-node\t192.0.2.99\ndb1.example.org\t192.0.2.11\n'), x)).toEqual([
    "db-node resolves to 192.0.2.99, not db1.example.org (192.0.2.11) (the inventory's address of db-node)",
  ]);
});

describe('clocks', () => {
  test('date +%s.%N in milliseconds', () => {
    expect(parseEpochMs('1795684134.465932481\n')).toBeCloseTo(1795684134465.932, 2);
    expect(parseEpochMs('1795684134.5')).toBe(1795684134500);
    expect(parseEpochMs('date: invalid')).toBeUndefined();
  });

  test('the offset is taken at the middle of the round trip, ± half of it', () => {
    expect(clockSample('db-node', 10_050, 10_000, 10_040)).toEqual({ role: 'db-node', offsetMs: 30, uncertaintyMs: 20 });
  });

  const s = (role: string, offsetMs: number, uncertaintyMs = 10): ReturnType<typeof clockSample> => ({ role, offsetMs, uncertaintyMs });

  test('hosts sharing a clock with this machine pass (the lab: one kernel clock)', () => {
    const v = clockVerdicts([s('db-node', 3), s('api-node', -4), s('compute-1', 1)], 3000);
    expect(v.reference).toBe('local');
    expect([...v.byRole.values()].every((x) => x.ok)).toBe(true);
  });

  test('one host 12 s ahead fails; the others pass', () => {
    const v = clockVerdicts([s('db-node', 5), s('api-node', 12_000), s('compute-1', -8)], 3000);
    expect(v.byRole.get('api-node')).toEqual({ ok: false, deltaMs: 12_000, uncertaintyMs: 10 });
    expect(v.byRole.get('db-node')?.ok).toBe(true);
    expect(signedSeconds(v.byRole.get('api-node')!.deltaMs)).toBe('+12.000 s');
  });

  test('when the hosts agree with each other and not with this machine, they are the reference', () => {
    const v = clockVerdicts([s('db-node', -60_010), s('api-node', -60_000), s('compute-1', -59_990), s('network-node', 2_000)], 3000);
    expect(v.reference).toBe('hosts');
    expect(v.referenceMs).toBe(-59_995);
    expect(v.byRole.get('network-node')).toMatchObject({ ok: false, deltaMs: 61_995 });
    expect(v.byRole.get('db-node')?.ok).toBe(true);
  });

  test('a slow round trip widens the tolerance by its uncertainty', () => {
    expect(clockVerdicts([s('db-node', 3500, 600)], 3000).byRole.get('db-node')?.ok).toBe(true);
    expect(clockVerdicts([s('db-node', 3500, 100)], 3000).byRole.get('db-node')?.ok).toBe(false);
  });
});
