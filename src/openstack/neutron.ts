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
}

export interface Network {
  id: string;
  name: string;
  'router:external'?: boolean;
  subnets: string[];
  status: string;
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
  external_gateway_info: { network_id: string } | null;
}

export interface Port {
  id: string;
  device_id: string;
  network_id: string;
  fixed_ips: { subnet_id: string; ip_address: string }[];
}

export interface FloatingIp {
  id: string;
  floating_ip_address: string;
  floating_network_id: string;
  port_id: string | null;
  fixed_ip_address: string | null;
  status: string;
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
