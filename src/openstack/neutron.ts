// Neutron v2.0 API: agents, networks, subnets, routers, ports and floating IPs.
import type { OpenStackClient } from './client.js';

export interface Agent {
  id: string;
  agent_type: string;
  binary: string;
  host: string;
  alive: boolean;
  admin_state_up: boolean;
  heartbeat_timestamp: string | null;
  /** What the agent reports about itself (Linux bridge: `interface_mappings`, `bridge_mappings`). */
  configurations?: Record<string, unknown>;
}

export interface Network {
  id: string;
  name: string;
  'router:external'?: boolean;
  subnets: string[];
  status: string;
  /** Admin only: the physical network a flat/VLAN network maps onto. */
  'provider:physical_network'?: string | null;
  'provider:network_type'?: string;
}

export interface Subnet {
  id: string;
  name: string;
  network_id: string;
  cidr: string;
  allocation_pools: { start: string; end: string }[];
}

export interface Router {
  id: string;
  name: string;
  status: string;
  external_gateway_info: { network_id: string; external_fixed_ips?: { subnet_id: string; ip_address: string }[] } | null;
}

export interface Port {
  id: string;
  device_id: string;
  network_id: string;
  fixed_ips: { subnet_id: string; ip_address: string }[];
  name?: string;
  status?: string;
  mac_address?: string;
  device_owner?: string;
  security_groups?: string[];
  'binding:host_id'?: string;
  'binding:vif_type'?: string;
}

export interface FloatingIp {
  id: string;
  floating_ip_address: string;
  floating_network_id: string;
  port_id: string | null;
  fixed_ip_address: string | null;
  status: string;
  router_id?: string | null;
  description?: string;
}

export interface SecurityGroupRule {
  id: string;
  security_group_id: string;
  direction: 'ingress' | 'egress';
  ethertype: string;
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  remote_ip_prefix: string | null;
}

export interface SecurityGroup {
  id: string;
  name: string;
  security_group_rules: SecurityGroupRule[];
}

// GET a collection under /v2.0 and return its list.
async function list<T>(c: OpenStackClient, path: string, key: string): Promise<T[]> {
  const res = await c.call<Record<string, T[]>>('network', 'GET', `/v2.0/${path}`);
  return res.data[key] ?? [];
}

export const listAgents = (c: OpenStackClient): Promise<Agent[]> => list<Agent>(c, 'agents', 'agents');
export const listNetworks = (c: OpenStackClient): Promise<Network[]> => list<Network>(c, 'networks', 'networks');
export const listSubnets = (c: OpenStackClient): Promise<Subnet[]> => list<Subnet>(c, 'subnets', 'subnets');
export const listRouters = (c: OpenStackClient): Promise<Router[]> => list<Router>(c, 'routers', 'routers');
export const listFloatingIps = (c: OpenStackClient): Promise<FloatingIp[]> => list<FloatingIp>(c, 'floatingips', 'floatingips');

export async function serverPorts(c: OpenStackClient, serverId: string): Promise<Port[]> {
  return list<Port>(c, `ports?device_id=${encodeURIComponent(serverId)}`, 'ports');
}

/** Allocate a floating IP; `description` marks it (floating IPs have no name) so a leftover can be found. */
export async function createFloatingIp(c: OpenStackClient, networkId: string, description?: string): Promise<FloatingIp> {
  const body = { floatingip: { floating_network_id: networkId, ...(description ? { description } : {}) } };
  return (await c.call<{ floatingip: FloatingIp }>('network', 'POST', '/v2.0/floatingips', { body, expect: [201] })).data.floatingip;
}

/** Associate (port id) or disassociate (null) a floating IP. */
export async function setFloatingIpPort(c: OpenStackClient, id: string, portId: string | null): Promise<FloatingIp> {
  return (await c.call<{ floatingip: FloatingIp }>('network', 'PUT', `/v2.0/floatingips/${id}`, { body: { floatingip: { port_id: portId } } })).data.floatingip;
}

export async function getFloatingIp(c: OpenStackClient, id: string): Promise<FloatingIp> {
  return (await c.call<{ floatingip: FloatingIp }>('network', 'GET', `/v2.0/floatingips/${id}`)).data.floatingip;
}

export async function deleteFloatingIp(c: OpenStackClient, id: string): Promise<void> {
  await c.call('network', 'DELETE', `/v2.0/floatingips/${id}`, { expect: [204, 404] });
}

/** Whether an IPv4 address lies within [start, end] (inclusive). */
export function ipInRange(ip: string, start: string, end: string): boolean {
  const n = (a: string): number => a.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  return n(ip) >= n(start) && n(ip) <= n(end);
}

/** Ports matching a query (`device_id=…&device_owner=…`, `network_id=…`, `name=…`). */
export async function listPorts(c: OpenStackClient, query: Record<string, string>): Promise<Port[]> {
  return list<Port>(c, `ports?${new URLSearchParams(query).toString()}`, 'ports');
}

export async function getPort(c: OpenStackClient, id: string): Promise<Port> {
  return (await c.call<{ port: Port }>('network', 'GET', `/v2.0/ports/${id}`)).data.port;
}

/** A port on a network with these security groups (a server booted on it keeps them). */
export async function createPort(c: OpenStackClient, p: { networkId: string; name: string; securityGroups: string[] }): Promise<Port> {
  const port = { network_id: p.networkId, name: p.name, security_groups: p.securityGroups };
  return (await c.call<{ port: Port }>('network', 'POST', '/v2.0/ports', { body: { port }, expect: [201] })).data.port;
}

export async function deletePort(c: OpenStackClient, id: string): Promise<void> {
  await c.call('network', 'DELETE', `/v2.0/ports/${id}`, { expect: [204, 404] });
}

export const listSecurityGroups = (c: OpenStackClient, name?: string): Promise<SecurityGroup[]> =>
  list<SecurityGroup>(c, `security-groups${name ? `?name=${encodeURIComponent(name)}` : ''}`, 'security_groups');

export async function getSecurityGroup(c: OpenStackClient, id: string): Promise<SecurityGroup> {
  return (await c.call<{ security_group: SecurityGroup }>('network', 'GET', `/v2.0/security-groups/${id}`)).data.security_group;
}

export async function createSecurityGroup(c: OpenStackClient, name: string, description: string): Promise<SecurityGroup> {
  return (await c.call<{ security_group: SecurityGroup }>('network', 'POST', '/v2.0/security-groups', { body: { security_group: { name, description } }, expect: [201] }))
    .data.security_group;
}

/** Delete a security group; 409 (still used by a port) is an error the caller may retry. */
export async function deleteSecurityGroup(c: OpenStackClient, id: string): Promise<void> {
  await c.call('network', 'DELETE', `/v2.0/security-groups/${id}`, { expect: [204, 404] });
}

/** An IPv4 ingress rule: ICMP (no port) or TCP/UDP on one port, from anywhere. */
export async function createIngressRule(c: OpenStackClient, groupId: string, protocol: 'icmp' | 'tcp' | 'udp', port?: number): Promise<SecurityGroupRule> {
  const security_group_rule = {
    security_group_id: groupId,
    direction: 'ingress',
    ethertype: 'IPv4',
    protocol,
    remote_ip_prefix: '0.0.0.0/0',
    ...(port !== undefined ? { port_range_min: port, port_range_max: port } : {}),
  };
  return (await c.call<{ security_group_rule: SecurityGroupRule }>('network', 'POST', '/v2.0/security-group-rules', { body: { security_group_rule }, expect: [201] }))
    .data.security_group_rule;
}

export async function deleteSecurityGroupRule(c: OpenStackClient, id: string): Promise<void> {
  await c.call('network', 'DELETE', `/v2.0/security-group-rules/${id}`, { expect: [204, 404] });
}

/** The L3 agents a router is scheduled to. */
export async function routerL3Agents(c: OpenStackClient, routerId: string): Promise<Agent[]> {
  return list<Agent>(c, `routers/${routerId}/l3-agents`, 'agents');
}

/** The DHCP agents serving a network. */
export async function networkDhcpAgents(c: OpenStackClient, networkId: string): Promise<Agent[]> {
  return list<Agent>(c, `networks/${networkId}/dhcp-agents`, 'agents');
}
