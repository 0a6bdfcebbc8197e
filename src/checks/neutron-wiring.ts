// Neutron beyond "the agents are alive": the router's legs (an interface on the self-service subnet, the gateway on
// the provider network), a dnsmasq serving each DHCP-enabled network inside its qdhcp- namespace, and the provider
// physical network mapped to the interface the tutorial builds (provider0) — in the file and in the running agent.
import type { OpenStackClient } from '../openstack/client.js';
import type { Network, Subnet } from '../openstack/neutron.js';

/** A router as the admin sees it (with the gateway's fixed IPs). */
export interface RouterDetail {
  id: string;
  name: string;
  status: string;
  external_gateway_info: { network_id: string; external_fixed_ips?: { subnet_id: string; ip_address: string }[] } | null;
}

/** A port with its owner and status. */
export interface PortDetail {
  id: string;
  network_id: string;
  device_owner: string;
  status: string;
  fixed_ips: { subnet_id: string; ip_address: string }[];
}

/** A subnet with its gateway and DHCP flag. */
export type SubnetDetail = Subnet & { gateway_ip?: string | null; enable_dhcp?: boolean };

/** A Linux bridge agent with the mappings it runs with. */
export interface BridgeAgent {
  host: string;
  agent_type: string;
  alive: boolean;
  configurations?: { interface_mappings?: Record<string, string>; bridge_mappings?: Record<string, string> };
}

async function list<T>(c: OpenStackClient, path: string, key: string): Promise<T[]> {
  const res = await c.call<Record<string, T[]>>('network', 'GET', `/v2.0/${path}`);
  return res.data[key] ?? [];
}

export const listRouterDetails = (c: OpenStackClient): Promise<RouterDetail[]> => list<RouterDetail>(c, 'routers', 'routers');
export const listSubnetDetails = (c: OpenStackClient): Promise<SubnetDetail[]> => list<SubnetDetail>(c, 'subnets', 'subnets');
export const routerPorts = (c: OpenStackClient, routerId: string): Promise<PortDetail[]> => list<PortDetail>(c, `ports?device_id=${encodeURIComponent(routerId)}`, 'ports');
export const bridgeAgents = (c: OpenStackClient): Promise<BridgeAgent[]> => list<BridgeAgent>(c, `agents?agent_type=${encodeURIComponent('Linux bridge agent')}`, 'agents');

const INTERFACE_OWNERS = ['network:router_interface', 'network:router_interface_distributed', 'network:ha_router_replicated_interface'];

/** What is wrong with the router's legs (empty: an ACTIVE interface on the private subnet, an ACTIVE gateway on the external network). */
export function routerProblems(
  router: RouterDetail,
  ports: readonly PortDetail[],
  nets: { ext: Network; priv: Network },
  subnets: readonly SubnetDetail[],
): string[] {
  const problems: string[] = [];
  const privSubnets = subnets.filter((s) => s.network_id === nets.priv.id);
  const extSubnets = subnets.filter((s) => s.network_id === nets.ext.id);
  const ifaces = ports.filter((p) => INTERFACE_OWNERS.includes(p.device_owner) && p.fixed_ips.some((ip) => privSubnets.some((s) => s.id === ip.subnet_id)));
  if (ifaces.length === 0) {
    const elsewhere = ports.filter((p) => INTERFACE_OWNERS.includes(p.device_owner)).flatMap((p) => p.fixed_ips.map((ip) => ip.ip_address));
    problems.push(`no interface on ${nets.priv.name}'s subnet ${privSubnets.map((s) => s.cidr).join(', ') || '(it has none)'}${elsewhere.length ? ` (interfaces: ${elsewhere.join(', ')})` : ' (router add subnet not run?)'}`);
  } else {
    for (const p of ifaces) {
      const ip = p.fixed_ips.find((x) => privSubnets.some((s) => s.id === x.subnet_id))!;
      const subnet = privSubnets.find((s) => s.id === ip.subnet_id);
      if (subnet?.gateway_ip && ip.ip_address !== subnet.gateway_ip) problems.push(`the interface on ${subnet.cidr} has ${ip.ip_address}, not the subnet's gateway ${subnet.gateway_ip}`);
      if (p.status !== 'ACTIVE') problems.push(`the interface ${ip.ip_address} is ${p.status} (the L3 agent has not plugged it: see neutron-l3-agent.log)`);
    }
  }
  const gw = router.external_gateway_info;
  if (!gw) {
    problems.push(`no external gateway (openstack router set --external-gateway ${nets.ext.name} ${router.name})`);
    return problems;
  }
  if (gw.network_id !== nets.ext.id) {
    problems.push(`its gateway is on network ${gw.network_id}, not ${nets.ext.name} (${nets.ext.id})`);
    return problems;
  }
  const gwIps = (gw.external_fixed_ips ?? []).filter((x) => extSubnets.some((s) => s.id === x.subnet_id));
  if (gwIps.length === 0) problems.push(`its gateway has no address on ${nets.ext.name}'s subnet ${extSubnets.map((s) => s.cidr).join(', ') || '(none)'}`);
  const gwPort = ports.find((p) => p.device_owner === 'network:router_gateway');
  if (!gwPort) problems.push('no gateway port');
  else if (gwPort.status !== 'ACTIVE') problems.push(`the gateway port ${gwIps.map((x) => x.ip_address).join(', ') || gwPort.id} is ${gwPort.status} (the L3 agent has not plugged it: check physical_interface_mappings and neutron-l3-agent.log)`);
  return problems;
}

/** The script run on the network host: namespaces, then each dnsmasq with its namespace and command line. */
export const DNSMASQ_SCRIPT = [
  'echo "--- netns"',
  'ip netns list 2>&1',
  'echo "--- dnsmasq"',
  'for p in $(pgrep -x dnsmasq); do printf "%s\\t%s\\t%s\\n" "$p" "$(ip netns identify "$p" 2>/dev/null)" "$(tr "\\0" " " < /proc/$p/cmdline 2>/dev/null)"; done',
].join('\n');

/** What the network host runs: its namespaces and dnsmasq processes. */
export interface DhcpHostState {
  namespaces: string[];
  dnsmasq: { pid: number; netns: string; args: string }[];
}

/** Parse the output of DNSMASQ_SCRIPT. */
export function parseDhcpHost(out: string): DhcpHostState {
  const namespaces: string[] = [];
  const dnsmasq: DhcpHostState['dnsmasq'] = [];
  let part = '';
  for (const line of out.replace(/\r/g, '').split('\n')) {
    if (line.startsWith('--- ')) {
      part = line.slice(4).trim();
      continue;
    }
    if (!line.trim()) continue;
    if (part === 'netns') {
      const name = line.trim().split(/\s+/)[0];
      if (name && /^[\w.-]+$/.test(name)) namespaces.push(name);
    } else if (part === 'dnsmasq') {
      const [pid = '', netns = '', args = ''] = line.split('\t');
      if (/^\d+$/.test(pid)) dnsmasq.push({ pid: Number(pid), netns: netns.trim(), args: args.trim() });
    }
  }
  return { namespaces, dnsmasq };
}

/** What is wrong with DHCP for a network on the host (empty: its qdhcp- namespace exists and a dnsmasq for it runs inside). */
export function dhcpProblems(state: DhcpHostState, net: { id: string; name: string }): string[] {
  const ns = `qdhcp-${net.id}`;
  const problems: string[] = [];
  if (!state.namespaces.includes(ns)) problems.push(`no namespace ${ns} for ${net.name} (namespaces: ${state.namespaces.filter((n) => n.startsWith('qdhcp-')).join(', ') || 'no qdhcp- namespace'})`);
  const mine = state.dnsmasq.filter((d) => d.args.includes(net.id));
  if (mine.length === 0) {
    problems.push(`no dnsmasq running for ${net.name} (${state.dnsmasq.length} dnsmasq process${state.dnsmasq.length === 1 ? '' : 'es'} on the host: see neutron-dhcp-agent.log)`);
  } else if (!mine.some((d) => d.netns === ns)) {
    problems.push(`the dnsmasq for ${net.name} (pid ${mine.map((d) => d.pid).join(', ')}) runs in ${mine[0]!.netns || 'the host namespace'}, not ${ns}`);
  }
  return problems;
}

/** Parse `physical_interface_mappings` (`provider:provider0, physnet2:eth2`) into physnet → interface. */
export function parseMappings(value: string | null | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const item of (value ?? '').split(',')) {
    const [physnet, iface] = item.split(':').map((x) => x.trim());
    if (physnet && iface) m.set(physnet, iface);
  }
  return m;
}

/**
 * Run on the network host: the agent's mappings from its config files (later files override), and the state of
 * each mapped interface. Stdout: one JSON object `{ read, mappings, links: {iface: operstate | null} }`.
 */
export const MAPPING_SCRIPT = String.raw`
import configparser, json, os
files = ["/etc/neutron/plugins/ml2/linuxbridge_agent.ini"]
cfg = configparser.RawConfigParser(strict=False, interpolation=None)
read = cfg.read(files)
val = cfg.get("linux_bridge", "physical_interface_mappings") if cfg.has_option("linux_bridge", "physical_interface_mappings") else None
links = {}
for item in (val or "").split(","):
    if ":" in item:
        iface = item.split(":", 1)[1].strip()
        p = "/sys/class/net/%s/operstate" % iface
        links[iface] = open(p).read().strip() if os.path.exists(p) else None
print(json.dumps({"read": read, "mappings": val, "links": links}))
`;

/** What MAPPING_SCRIPT reports. */
export interface MappingReport {
  read: string[];
  mappings: string | null;
  links: Record<string, string | null>;
}

/** What is wrong with the provider mapping (file, interface, running agent) against the expected physnet:interface. */
export function mappingProblems(r: MappingReport, want: { physnet: string; iface: string }, agent: BridgeAgent | undefined): string[] {
  const problems: string[] = [];
  const file = '/etc/neutron/plugins/ml2/linuxbridge_agent.ini';
  const m = parseMappings(r.mappings);
  const got = m.get(want.physnet);
  if (r.mappings === null) problems.push(`[linux_bridge] physical_interface_mappings is not set in ${file}`);
  else if (got === undefined) problems.push(`[linux_bridge] physical_interface_mappings = ${r.mappings} maps no ${want.physnet}`);
  else if (got !== want.iface) problems.push(`[linux_bridge] physical_interface_mappings maps ${want.physnet} to ${got}, not ${want.iface}`);
  const iface = got ?? want.iface;
  const state = r.links[iface];
  if (got !== undefined) {
    if (state === null || state === undefined) problems.push(`interface ${iface} does not exist on the host (systemctl status provider-veth)`);
    else if (state === 'down') problems.push(`interface ${iface} is down (ip link set ${iface} up)`);
  }
  const running = agent?.configurations?.interface_mappings;
  if (running && running[want.physnet] !== got && got !== undefined) {
    problems.push(`the running agent reports ${want.physnet}:${running[want.physnet] ?? '(none)'} (restart neutron-linuxbridge-agent after editing ${file})`);
  }
  return problems;
}
