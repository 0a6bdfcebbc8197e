// Neutron's wiring on shapes taken from the lab's Neutron API and network-node (ids as there): the router's legs,
// dnsmasq in its qdhcp- namespace, and the provider interface mapping.
import { describe, expect, test } from 'vitest';
import { dhcpProblems, mappingProblems, parseDhcpHost, parseMappings, routerProblems, type BridgeAgent, type PortDetail, type RouterDetail, type SubnetDetail } from '../../src/checks/neutron-wiring.js';
import type { Network } from '../../src/openstack/neutron.js';

const EXT = '38f4e8d8-c895-4635-9d23-534b852494a9';
const PRIV = '3f97ac14-6708-4847-abf8-123673e25ad3';
const EXT_SUB = '384904c8-154f-4ce2-ad29-863f05f3b26a';
const PRIV_SUB = '1cd4d7c2-42be-4369-b0e1-68d6c92d5f89';

const nets: { ext: Network; priv: Network } = {
  ext: { id: EXT, name: 'provider', 'router:external': true, subnets: [EXT_SUB], status: 'ACTIVE' },
  priv: { id: PRIV, name: 'selfservice', subnets: [PRIV_SUB], status: 'ACTIVE' },
};
const subnets: SubnetDetail[] = [
  { id: PRIV_SUB, name: 'selfservice-v4', network_id: PRIV, cidr: '10.10.0.0/24', gateway_ip: '10.10.0.1', enable_dhcp: true, allocation_pools: [{ start: '10.10.0.2', end: '10.10.0.254' }] },
  { id: EXT_SUB, name: 'provider-v4', network_id: EXT, cidr: '203.0.113.0/24', gateway_ip: '203.0.113.1', enable_dhcp: false, allocation_pools: [{ start: '203.0.113.101', end: '203.0.113.200' }] },
];
const router: RouterDetail = {
  id: 'a61c04b8-dc13-4f61-95dc-857798188035',
  name: 'router',
  status: 'ACTIVE',
  external_gateway_info: { network_id: EXT, external_fixed_ips: [{ subnet_id: EXT_SUB, ip_address: '203.0.113.188' }] },
};
const iface: PortDetail = { id: '34fe7583-412e-4bd7-af2b-ca121e432224', network_id: PRIV, device_owner: 'network:router_interface', status: 'ACTIVE', fixed_ips: [{ subnet_id: PRIV_SUB, ip_address: '10.10.0.1' }] };
const gw: PortDetail = { id: 'c8f33cbb-ee85-40ee-bde2-e2b760ee9ad8', network_id: EXT, device_owner: 'network:router_gateway', status: 'ACTIVE', fixed_ips: [{ subnet_id: EXT_SUB, ip_address: '203.0.113.188' }] };

describe('the router\'s legs', () => {
  test('the tutorial\'s router passes', () => {
    expect(routerProblems(router, [iface, gw], nets, subnets)).toEqual([]);
  });

  test('no interface on the self-service subnet, no gateway', () => {
    expect(routerProblems({ ...router, external_gateway_info: null }, [], nets, subnets)).toEqual([
      "no interface on selfservice's subnet 10.10.0.0/24 (router add subnet not run?)",
      'no external gateway (openstack router set --external-gateway provider router)',
    ]);
  });

  test('ports the L3 agent has not plugged, an interface off the gateway address, a gateway elsewhere', () => {
    expect(routerProblems(router, [{ ...iface, status: 'DOWN', fixed_ips: [{ subnet_id: PRIV_SUB, ip_address: '10.10.0.7' }] }, { ...gw, status: 'DOWN' }], nets, subnets)).toEqual([
      "the interface on 10.10.0.0/24 has 10.10.0.7, not the subnet's gateway 10.10.0.1",
      'the interface 10.10.0.7 is DOWN (the L3 agent has not plugged it: see neutron-l3-agent.log)',
      'the gateway port 203.0.113.188 is DOWN (the L3 agent has not plugged it: check physical_interface_mappings and neutron-l3-agent.log)',
    ]);
    expect(routerProblems({ ...router, external_gateway_info: { network_id: 'other' } }, [iface], nets, subnets)).toEqual([`its gateway is on network other, not provider (${EXT})`]);
  });
});

// DNSMASQ_SCRIPT's output on the lab's network-node.
const HOST = `--- netns
qrouter-a61c04b8-dc13-4f61-95dc-857798188035 (id: 2)
qdhcp-${PRIV} (id: 1)
--- dnsmasq
11611\tqdhcp-${PRIV}\tdnsmasq --no-hosts --no-resolv --pid-file=/var/lib/neutron/dhcp/${PRIV}/pid --dhcp-hostsfile=/var/lib/neutron/dhcp/${PRIV}/host --addn-hosts=/var/lib/neutron/dhcp/${PRIV}/addn_hosts --dhcp-optsfile=/var/lib/neutron/dhcp/${PRIV}/opts --dhcp-leasefile=/var/lib/neutron/dhcp/${PRIV}/leases --dhcp-match=set:ipxe,175 --dhcp-userclass=set:ipxe6,iPXE --local-service --bind-dynamic --dhcp-range=set:subnet-${PRIV_SUB},10.10.0.0,static,255.255.255.0,86400s --dhcp-option-force=option:mtu,1450 --dhcp-lease-max=256 --conf-file=/dev/null --domain=openstacklocal 
`;

describe('dnsmasq in the qdhcp- namespace', () => {
  test('namespaces and processes', () => {
    const st = parseDhcpHost(HOST);
    expect(st.namespaces).toEqual(['qrouter-a61c04b8-dc13-4f61-95dc-857798188035', `qdhcp-${PRIV}`]);
    expect(st.dnsmasq).toHaveLength(1);
    expect(st.dnsmasq[0]).toMatchObject({ pid: 11611, netns: `qdhcp-${PRIV}` });
  });

  test('the lab passes; a missing namespace, a dead dnsmasq or one in the wrong namespace are named', () => {
    const net = { id: PRIV, name: 'selfservice' };
    expect(dhcpProblems(parseDhcpHost(HOST), net)).toEqual([]);
    expect(dhcpProblems(parseDhcpHost('--- netns\n--- dnsmasq\n'), net)).toEqual([
      `no namespace qdhcp-${PRIV} for selfservice (namespaces: no qdhcp- namespace)`,
      'no dnsmasq running for selfservice (0 dnsmasq processes on the host: see neutron-dhcp-agent.log)',
    ]);
    expect(dhcpProblems(parseDhcpHost(HOST.replace(`11611\tqdhcp-${PRIV}`, '11611\t')), net)).toEqual([`the dnsmasq for selfservice (pid 11611) runs in the host namespace, not qdhcp-${PRIV}`]);
  });
});

describe('the provider interface mapping', () => {
  const agent = (m: Record<string, string>): BridgeAgent => ({ host: 'network-node', agent_type: 'Linux bridge agent', alive: true, configurations: { interface_mappings: m } });
  const want = { physnet: 'provider', iface: 'provider0' };

  test('physical_interface_mappings values', () => {
    expect([...parseMappings('provider:provider0, physnet2 : eth2,bad')]).toEqual([
      ['provider', 'provider0'],
      ['physnet2', 'eth2'],
    ]);
    expect(parseMappings(null).size).toBe(0);
  });

  test('the lab passes (MAPPING_SCRIPT output there)', () => {
    const r = { read: ['/etc/neutron/plugins/ml2/linuxbridge_agent.ini'], mappings: 'provider:provider0', links: { provider0: 'up' } };
    expect(mappingProblems(r, want, agent({ provider: 'provider0' }))).toEqual([]);
  });

  test('another interface, a missing or down interface, no mapping, a running agent with the old mapping', () => {
    const read = ['/etc/neutron/plugins/ml2/linuxbridge_agent.ini'];
    expect(mappingProblems({ read, mappings: 'provider:eth1', links: { eth1: 'up' } }, want, agent({ provider: 'eth1' }))).toEqual([
      '[linux_bridge] physical_interface_mappings maps provider to eth1, not provider0',
    ]);
    expect(mappingProblems({ read, mappings: 'provider:provider0', links: { provider0: null } }, want, agent({ provider: 'provider0' }))).toEqual([
      'interface provider0 does not exist on the host (systemctl status provider-veth)',
    ]);
    expect(mappingProblems({ read, mappings: 'provider:provider0', links: { provider0: 'down' } }, want, undefined)).toEqual(['interface provider0 is down (ip link set provider0 up)']);
    expect(mappingProblems({ read, mappings: null, links: {} }, want, undefined)).toEqual(['[linux_bridge] physical_interface_mappings is not set in /etc/neutron/plugins/ml2/linuxbridge_agent.ini']);
    expect(mappingProblems({ read, mappings: 'physnet1:provider0', links: { provider0: 'up' } }, want, undefined)).toEqual(['[linux_bridge] physical_interface_mappings = physnet1:provider0 maps no provider']);
    expect(mappingProblems({ read, mappings: 'provider:provider0', links: { provider0: 'up' } }, want, agent({ provider: 'eth1' }))).toEqual([
      'the running agent reports provider:eth1 (restart neutron-linuxbridge-agent after editing /etc/neutron/plugins/ml2/linuxbridge_agent.ini)',
    ]);
  });
});
