// Nova (compute) API: services, hypervisors, servers, volume attachments — only what the checks need.
import type { OpenStackClient, OsService } from './client.js';

/** Microversion header: 2.1 keeps `hypervisor_type` and integer ids in os-hypervisors. */
const MV = { 'X-OpenStack-Nova-API-Version': '2.1' };
/** 2.37+ lets a server boot with `networks: 'none' | 'auto'`; 2.47 embeds the flavor. */
const MV_SERVERS = { 'X-OpenStack-Nova-API-Version': '2.37' };

export interface NovaService extends OsService {
  id: number | string;
  disabled_reason: string | null;
  forced_down?: boolean;
}

export interface Hypervisor {
  id: number | string;
  hypervisor_hostname: string;
  hypervisor_type?: string;
  state: 'up' | 'down';
  status: 'enabled' | 'disabled';
  service?: { host: string };
}

export interface Server {
  id: string;
  name: string;
  status: string;
  'OS-EXT-SRV-ATTR:host'?: string | null;
  'OS-EXT-SRV-ATTR:hypervisor_hostname'?: string | null;
  'OS-EXT-SRV-ATTR:instance_name'?: string;
  fault?: { message: string; code: number; details?: string };
  addresses?: Record<string, { addr: string; 'OS-EXT-IPS:type'?: string }[]>;
}

export interface Flavor {
  id: string;
  name: string;
}

export async function listServices(c: OpenStackClient): Promise<NovaService[]> {
  return (await c.call<{ services: NovaService[] }>('compute', 'GET', '/os-services', { headers: MV })).data.services;
}

export async function listHypervisors(c: OpenStackClient): Promise<Hypervisor[]> {
  return (await c.call<{ hypervisors: Hypervisor[] }>('compute', 'GET', '/os-hypervisors/detail', { headers: MV })).data.hypervisors;
}

/** Servers of every project, optionally on one host (admin). */
export async function listServers(c: OpenStackClient, host?: string): Promise<Server[]> {
  const q = `/servers/detail?all_tenants=1${host ? `&host=${encodeURIComponent(host)}` : ''}`;
  return (await c.call<{ servers: Server[] }>('compute', 'GET', q, { headers: MV })).data.servers;
}

export async function getServer(c: OpenStackClient, id: string): Promise<Server> {
  return (await c.call<{ server: Server }>('compute', 'GET', `/servers/${id}`, { headers: MV })).data.server;
}

export async function findFlavor(c: OpenStackClient, name: string): Promise<Flavor | undefined> {
  const flavors = (await c.call<{ flavors: Flavor[] }>('compute', 'GET', '/flavors', { headers: MV })).data.flavors;
  return flavors.find((f) => f.name === name || f.id === name);
}

export interface BootRequest {
  name: string;
  imageRef: string;
  flavorRef: string;
  /** Network ids, or none. */
  networks: string[];
  /** Existing port ids to plug instead of (or besides) new ports on `networks`. */
  ports?: string[];
  /** `nova:<host>` pins the server to a compute host (admin). */
  availabilityZone?: string;
}

export async function createServer(c: OpenStackClient, r: BootRequest): Promise<Server> {
  const body = {
    server: {
      name: r.name,
      imageRef: r.imageRef,
      flavorRef: r.flavorRef,
      networks: r.networks.length + (r.ports?.length ?? 0) > 0 ? [...r.networks.map((uuid) => ({ uuid })), ...(r.ports ?? []).map((port) => ({ port }))] : 'none',
      ...(r.availabilityZone ? { availability_zone: r.availabilityZone } : {}),
    },
  };
  return (await c.call<{ server: Server }>('compute', 'POST', '/servers', { body, headers: MV_SERVERS, expect: [202] })).data.server;
}

export async function deleteServer(c: OpenStackClient, id: string): Promise<void> {
  await c.call('compute', 'DELETE', `/servers/${id}`, { headers: MV, expect: [204, 404] });
}

/** The tail of a server's console log (`lines` lines; the serial console under libvirt). */
export async function consoleOutput(c: OpenStackClient, serverId: string, lines = 500): Promise<string> {
  const body = { 'os-getConsoleOutput': { length: lines } };
  return (await c.call<{ output: string }>('compute', 'POST', `/servers/${serverId}/action`, { body, headers: MV, expect: [200] })).data.output ?? '';
}

export async function attachVolume(c: OpenStackClient, serverId: string, volumeId: string): Promise<void> {
  await c.call('compute', 'POST', `/servers/${serverId}/os-volume_attachments`, { body: { volumeAttachment: { volumeId } }, headers: MV, expect: [200] });
}

export async function detachVolume(c: OpenStackClient, serverId: string, volumeId: string): Promise<void> {
  await c.call('compute', 'DELETE', `/servers/${serverId}/os-volume_attachments/${volumeId}`, { headers: MV, expect: [202, 404] });
}

/** How long ago a service last reported, in words ("3 min ago"). */
export function heartbeatAge(updatedAt: string | null, now = Date.now()): string {
  if (!updatedAt) return 'never';
  const t = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(updatedAt) ? updatedAt : `${updatedAt}Z`);
  if (Number.isNaN(t)) return updatedAt;
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}
