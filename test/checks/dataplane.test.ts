// The data-plane check's pure logic: what the test image's console says, how probe output reads, and which hop
// each set of facts names. The check itself runs against a real cloud in dataplane.it.test.ts.
import { describe, expect, test } from 'vitest';
import {
  allowsTcp,
  bootVerdict,
  consoleSettled,
  Deadline,
  dhcpVerdict,
  diskNames,
  floatingVerdict,
  httpVerdict,
  markers,
  metadataVerdict,
  parseConsole,
  parseHttpProbe,
  parsePing,
  runCleanup,
  verdictText,
  type AgentState,
  type DhcpFacts,
  type FloatingFacts,
} from '../../src/checks/dataplane.js';

const UUID = '0b8e3a52-4f7c-4f0e-9d7a-3c2b1a0f9e8d';
const up: AgentState = { host: 'network-node', alive: true, adminUp: true, heartbeat: '2026-11-26 09:00:00' };
const dead: AgentState = { ...up, alive: false };

// What the tutorial's image prints on ttyS0 (tutorial/05-glance.md, /init and /etc/udhcpc.sh).
const HEALTHY = [
  'udhcpc: started, v1.35.0',
  'udhcpc: broadcasting discover',
  'udhcpc: broadcasting select for 10.10.0.23, server 10.10.0.2',
  'udhcpc: lease of 10.10.0.23 obtained from 10.10.0.2, lease time 86400',
  'tiny: dhcp lease 10.10.0.23/24 router 10.10.0.1 on eth0',
  `tiny: metadata uuid=${UUID} name=stackcheck-dataplane-x1`,
  'tiny: init done',
  '2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc pfifo_fast qlen 1000',
].join('\r\n');

describe('the test image console', () => {
  test('a healthy boot: lease, router, metadata uuid and name, init done', () => {
    const f = parseConsole(HEALTHY);
    expect(f).toMatchObject({ lease: { ip: '10.10.0.23', router: '10.10.0.1' }, metadata: { uuid: UUID, name: 'stackcheck-dataplane-x1' }, initDone: true, noLease: false });
    expect(consoleSettled(f)).toBe(true);
  });

  test('no lease, then metadata unreachable with wget\'s error', () => {
    const f = parseConsole(['udhcpc: broadcasting discover', 'tiny: dhcp no lease yet (udhcpc keeps trying in the background)', "tiny: metadata unreachable (wget: can't connect to remote host (169.254.169.254): Network is unreachable)", 'tiny: init done'].join('\n'));
    expect(f.lease).toBeUndefined();
    expect(f.noLease).toBe(true);
    expect(f.metadataError).toBe("wget: can't connect to remote host (169.254.169.254): Network is unreachable");
  });

  test('an image built before the metadata step: udhcpc\'s own lease line, init done, no metadata line', () => {
    const f = parseConsole('udhcpc: lease of 10.10.0.5 obtained from 10.10.0.2, lease time 86400\ntiny: init done\n');
    expect(f.lease).toEqual({ ip: '10.10.0.5' });
    expect(f.metadata).toBeUndefined();
    expect(f.metadataError).toBeUndefined();
    expect(consoleSettled(f)).toBe(true);
  });

  test('still booting: nothing settled yet', () => {
    const f = parseConsole('[    0.000000] Linux version 6.1.0\n');
    expect(f.lines).toBe(1);
    expect(consoleSettled(f)).toBe(false);
    expect(parseConsole('').lines).toBe(0);
  });
});

describe('probe output', () => {
  test('markers, ping summary, disks', () => {
    expect(markers('x\n@@namespace=yes\n@@host-entry=no\n')).toEqual({ namespace: 'yes', 'host-entry': 'no' });
    expect(parsePing('3 packets transmitted, 2 received, 33% packet loss, time 2003ms')).toEqual({ transmitted: 3, received: 2 });
    expect(parsePing('')).toEqual({ transmitted: 0, received: 0 });
    expect(diskNames('major minor  #blocks  name\n\n 254        0      65536 vda\n 254        1      65535 vda1\n 254       16    1048576 vdb\n')).toEqual(['vda', 'vdb']);
  });

  test('curl: a page, a timeout, a refusal', () => {
    expect(parseHttpProbe(`<h1>tiny instance x is up</h1><p>uuid ${UUID}</p>\n@@http=200\n@@exit=0\n`)).toMatchObject({ outcome: 'ok', status: 200, body: `<h1>tiny instance x is up</h1><p>uuid ${UUID}</p>` });
    expect(parseHttpProbe('curl: (28) Connection timed out after 4001 milliseconds\n@@http=000\n@@exit=28\n')).toMatchObject({ outcome: 'timeout', error: 'Connection timed out after 4001 milliseconds' });
    expect(parseHttpProbe('curl: (7) Failed to connect to 203.0.113.150 port 80 after 3 ms: Couldn\'t connect to server: Connection refused\n@@http=000\n@@exit=7\n').outcome).toBe('refused');
  });
});

const dhcp = (over: Partial<DhcpFacts> = {}): DhcpFacts => ({
  network: 'selfservice',
  networkId: 'net-1',
  networkRole: 'network-node',
  computeRole: 'compute-1',
  port: { status: 'ACTIVE', vifType: 'bridge', mac: 'fa:16:3e:00:00:01' },
  computeL2Agent: { ...up, host: 'compute-1' },
  dhcpAgents: [up],
  namespace: true,
  dnsmasq: true,
  hostEntry: true,
  ...over,
});

describe('which hop: no DHCP lease', () => {
  test('each fact names its hop', () => {
    expect(dhcpVerdict(dhcp({ computeL2Agent: { ...dead, host: 'compute-1' } }))).toMatchObject({ hop: 'port binding' });
    expect(dhcpVerdict(dhcp({ port: { vifType: 'binding_failed' } }))).toMatchObject({ hop: 'port binding' });
    expect(dhcpVerdict(dhcp({ dhcpAgents: [] })).why).toContain('no DHCP agent serves network selfservice');
    expect(dhcpVerdict(dhcp({ dhcpAgents: [dead] })).why).toMatch(/^neutron-dhcp-agent on network-node is not alive \(last heartbeat/);
    expect(dhcpVerdict(dhcp({ namespace: false })).why).toContain('no qdhcp-net-1 namespace');
    expect(dhcpVerdict(dhcp({ dnsmasq: false })).why).toContain('no dnsmasq');
    expect(dhcpVerdict(dhcp({ hostEntry: false })).why).toContain("does not know the instance's MAC fa:16:3e:00:00:01");
    expect(dhcpVerdict(dhcp())).toMatchObject({ hop: 'VXLAN tunnel' });
  });

  test('a server that never became ACTIVE because its port waited for a dead DHCP agent', () => {
    const v = bootVerdict(dhcp({ port: { status: 'DOWN', vifType: 'bridge' }, dhcpAgents: [dead] }));
    expect(v).toMatchObject({ hop: 'DHCP', stage: 'neutron' });
    expect(v?.why).toContain("port stayed DOWN");
    expect(bootVerdict(dhcp())).toBeUndefined();
    expect(bootVerdict(dhcp({ computeL2Agent: undefined }))).toMatchObject({ hop: 'port binding' });
  });

  test('the message names the hop, the fix and the tutorial section', () => {
    expect(verdictText(dhcpVerdict(dhcp({ dhcpAgents: [dead] })))).toMatch(
      /^broken hop: DHCP — neutron-dhcp-agent on network-node is not alive .*; fix: systemctl status neutron-dhcp-agent on network-node.* \(tutorial: stage "Neutron on network-node and compute-1", section "The L3, DHCP and metadata agents"\)$/,
    );
  });
});

describe('which hop: no metadata', () => {
  const base = { networkRole: 'network-node', metadataAgent: up, routerId: 'r1', proxyRunning: true, novaMetadata: { url: 'http://10.99.0.14:8775/', answer: 'HTTP 200', ok: true } };
  test('agent, secret, proxy, Nova', () => {
    expect(metadataVerdict({ ...base, guestError: '', metadataAgent: dead }).why).toMatch(/^neutron-metadata-agent on network-node is not alive/);
    expect(metadataVerdict({ ...base, guestError: 'wget: server returned error: HTTP/1.1 403 Forbidden' }).why).toContain('shared secret differs');
    expect(metadataVerdict({ ...base, guestError: "wget: can't connect to remote host (169.254.169.254): Connection refused", proxyRunning: false }).why).toContain('no metadata proxy (haproxy) runs for router r1');
    const l3 = metadataVerdict({ ...base, guestError: 'wget: no answer in 10 s', proxyRunning: false, l3Agents: [dead] });
    expect(l3.hop).toBe('L3 agent');
    expect(l3.why).toMatch(/^neutron-l3-agent on network-node is not alive .*: it runs the router's metadata proxy/);
    const nova = metadataVerdict({ ...base, guestError: 'wget: server returned error: HTTP/1.1 500 Internal Server Error', novaMetadata: { url: 'http://10.99.0.14:8775/', answer: 'connection refused', ok: false } });
    expect(nova).toMatchObject({ hop: 'metadata', stage: 'nova-controller' });
    expect(nova.why).toContain("Nova's metadata API http://10.99.0.14:8775/ answers connection refused");
  });
});

const fip = (over: Partial<FloatingFacts> = {}): FloatingFacts => ({
  address: '203.0.113.150',
  status: 'ACTIVE',
  networkRole: 'network-node',
  externalNetwork: 'provider',
  externalNetworkId: 'ext-1',
  router: { id: 'r1', name: 'router', gatewayNetworkId: 'ext-1', gatewayIp: '203.0.113.120' },
  l3Agents: [up],
  l2Agent: up,
  mappings: { provider: 'provider0' },
  physnet: 'provider',
  gatewayPort: { status: 'ACTIVE', vifType: 'bridge' },
  interfaceExists: true,
  gatewayAnswers: true,
  fipInRouter: true,
  natRule: true,
  fixedAnswersFromRouter: true,
  ...over,
});

describe('which hop: the floating IP does not answer', () => {
  test('router gateway, L3 agent, bridge mapping, security group', () => {
    expect(floatingVerdict(fip({ router: undefined })).hop).toBe("floating IP on the router's gateway");
    expect(floatingVerdict(fip({ router: { id: 'r1', name: 'router' } })).why).toBe('router router has no external gateway on provider');
    expect(floatingVerdict(fip({ l3Agents: [] })).hop).toBe('L3 agent');
    expect(floatingVerdict(fip({ l3Agents: [dead] })).why).toMatch(/^neutron-l3-agent on network-node is not alive/);
    expect(floatingVerdict(fip({ mappings: { physnet1: 'eth1' } })).why).toContain('maps no interface to physical network provider');
    expect(floatingVerdict(fip({ l2Agent: dead })).hop).toBe('bridge mapping');
    expect(floatingVerdict(fip({ interfaceExists: false })).why).toContain('interface provider0');
    expect(floatingVerdict(fip({ gatewayPort: { status: 'DOWN', vifType: 'binding_failed' } })).hop).toBe('bridge mapping');
    expect(floatingVerdict(fip({ status: 'DOWN' })).why).toContain('the L3 agent did not configure it');
    expect(floatingVerdict(fip({ gatewayAnswers: false })).hop).toBe('bridge mapping');
    expect(floatingVerdict(fip({ natRule: false })).why).toContain('has no DNAT rule for 203.0.113.150');
    expect(floatingVerdict(fip({ fixedAnswersFromRouter: false })).hop).toBe('security group');
  });
});

describe('which hop: ping answers, HTTP does not', () => {
  const rules = [{ direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', port_range_min: 80, port_range_max: 80 }];
  test('security group rules and enforcement, the web server', () => {
    expect(allowsTcp(rules, 80)).toBe(true);
    expect(allowsTcp([{ ...rules[0]!, protocol: 'icmp', port_range_min: null, port_range_max: null }], 80)).toBe(false);
    const timeout = parseHttpProbe('curl: (28) Connection timed out\n@@http=000\n@@exit=28\n');
    expect(httpVerdict({ address: 'a', computeRole: 'compute-1', probe: timeout, tcp80Allowed: false, rules: ['ingress IPv4 icmp'] }).why).toContain('has no ingress rule for TCP 80');
    expect(httpVerdict({ address: 'a', computeRole: 'compute-1', probe: timeout, tcp80Allowed: true, rules: [] }).why).toContain('the firewall on compute-1 drops it');
    const refused = parseHttpProbe('curl: (7) Connection refused\n@@http=000\n@@exit=7\n');
    expect(httpVerdict({ address: 'a', computeRole: 'compute-1', probe: refused, tcp80Allowed: true, rules: [] }).hop).toBe('web server in the instance');
  });
});

describe('time and cleanup', () => {
  test('a deadline caps each wait', () => {
    let now = 1000;
    const d = new Deadline(10_000, () => now);
    expect(d.cap(3000)).toBe(3000);
    now += 9000;
    expect(d.cap(3000)).toBe(1000);
    now += 5000;
    expect(d.left()).toBe(0);
  });

  test('every cleanup step runs even when one fails; failures are named', async () => {
    const ran: string[] = [];
    const left = await runCleanup([
      { what: 'floating IP', run: async () => void ran.push('fip') },
      { what: 'server s1', run: async () => { ran.push('server'); throw new Error('still there after 3 min'); } },
      { what: 'security group', run: async () => void ran.push('sg') },
    ]);
    expect(ran).toEqual(['fip', 'server', 'sg']);
    expect(left).toEqual(['server s1: still there after 3 min']);
  });
});
