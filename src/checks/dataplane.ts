// The data plane as one instance lives it: what the tutorial's test image prints on its serial console, how a
// probe from outside the cloud went, and — when something did not work — which hop of the path broke. Pure
// logic, no I/O: checks/dataplane.check.ts gathers the facts (Neutron/Nova APIs, commands on network-node) and
// asks here for the verdict, so each rule is testable on its own (test/checks/dataplane.test.ts).
import type { Agent } from '../openstack/neutron.js';
import { shQuote } from '../ssh/exec.js';
import type { InstallKey } from './expect.js';

// ---------------------------------------------------------------------------------------------------------------
// The test image's console lines (tutorial/05-glance.md, "Build a tiny test image"). Keep in step with its /init.

const LINE = {
  /** udhcpc's script, on a lease: `tiny: dhcp lease 10.10.0.5/24 router 10.10.0.1 on eth0`. */
  lease: /tiny: dhcp lease (\d{1,3}(?:\.\d{1,3}){3})\/\S+ router (\S+)/,
  /** busybox udhcpc itself (also printed by images built before the metadata step). */
  udhcpcLease: /udhcpc: lease of (\d{1,3}(?:\.\d{1,3}){3}) obtained/,
  /** /init, when udhcpc gave up in the foreground (it keeps trying in the background). */
  noLease: /tiny: dhcp no lease/,
  /** /init, metadata read: `tiny: metadata uuid=<uuid> name=<display name>`. */
  metadata: /tiny: metadata uuid=([0-9a-fA-F-]{36})(?: name=(.*))?/,
  /** /init, metadata not read after its retries: `tiny: metadata unreachable (<wget's last error>)`. */
  metadataError: /tiny: metadata unreachable(?: \((.*)\))?/,
  initDone: /tiny: init done/,
} as const;

export interface ConsoleFacts {
  /** The address the instance got by DHCP (and its router), if the console shows a lease. */
  lease?: { ip: string; router?: string };
  /** /init said it had no lease when udhcpc returned. */
  noLease: boolean;
  metadata?: { uuid: string; name?: string };
  /** /init gave up on the metadata service; the text is wget's last error (may be empty). */
  metadataError?: string;
  initDone: boolean;
  /** Non-empty lines in the log (0: the guest printed nothing yet). */
  lines: number;
}

/** What the console log says about the boot, DHCP and metadata. */
export function parseConsole(text: string): ConsoleFacts {
  const facts: ConsoleFacts = { noLease: false, initDone: false, lines: 0 };
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\r/g, '').trim();
    if (line === '') continue;
    facts.lines++;
    let m: RegExpExecArray | null;
    if ((m = LINE.lease.exec(line))) facts.lease = m[2] === 'none' ? { ip: m[1]! } : { ip: m[1]!, router: m[2]! };
    else if (!facts.lease && (m = LINE.udhcpcLease.exec(line))) facts.lease = { ip: m[1]! };
    if (LINE.noLease.test(line)) facts.noLease = true;
    if ((m = LINE.metadata.exec(line))) facts.metadata = { uuid: m[1]!.toLowerCase(), ...(m[2] ? { name: m[2].trim() } : {}) };
    else if ((m = LINE.metadataError.exec(line))) facts.metadataError = (m[1] ?? '').trim();
    if (LINE.initDone.test(line)) facts.initDone = true;
  }
  return facts;
}

/** Whether the console has said all it will about DHCP and metadata (the wait for it can stop). */
export function consoleSettled(f: ConsoleFacts): boolean {
  return f.initDone || f.metadata !== undefined || f.metadataError !== undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Probes run on the network node (root namespace: "outside the cloud", behind provider-gw).

/** `@@key=value` lines a diagnostic script prints, as a record. */
export function markers(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of stdout.matchAll(/^@@([\w-]+)=(.*)$/gm)) out[m[1]!] = m[2]!.trim();
  return out;
}

export interface PingResult {
  transmitted: number;
  received: number;
}

/** Parse ping's summary line (`3 packets transmitted, 2 received, …`). */
export function parsePing(stdout: string): PingResult {
  const m = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(stdout);
  return { transmitted: Number(m?.[1] ?? 0), received: Number(m?.[2] ?? 0) };
}

export type HttpOutcome = 'ok' | 'timeout' | 'refused' | 'unreachable' | 'error';

export interface HttpResult {
  outcome: HttpOutcome;
  /** HTTP status when a response came. */
  status?: number;
  body: string;
  /** curl's error line (`Connection timed out after 5001 milliseconds`). */
  error?: string;
  exit: number | null;
}

/** A POSIX sh script that GETs a URL with curl and prints body, `@@http=<code>` and `@@exit=<curl exit>`. */
export function httpProbeScript(url: string, maxTimeS: number): string {
  return `out=$(curl -sS --max-time ${maxTimeS} -w '\\n@@http=%{http_code}' ${shQuote(url)} 2>&1); rc=$?; printf '%s\\n@@exit=%s\\n' "$out" "$rc"`;
}

/** What a probe script printed: ok (any HTTP status), timed out, refused, unreachable, or another curl error. */
export function parseHttpProbe(stdout: string): HttpResult {
  const mk = markers(stdout);
  const exit = mk.exit !== undefined ? Number(mk.exit) : null;
  const status = mk.http !== undefined && mk.http !== '000' ? Number(mk.http) : undefined;
  const error = /^curl: \(\d+\) (.*)$/m.exec(stdout)?.[1]?.trim();
  const body = stdout
    .split('\n')
    .filter((l) => !/^@@(http|exit)=/.test(l) && !/^curl: \(\d+\)/.test(l))
    .join('\n')
    .trim();
  let outcome: HttpOutcome;
  if (exit === 0) outcome = 'ok';
  else if (exit === 28) outcome = 'timeout';
  else if (exit === 7) outcome = /refused/i.test(error ?? '') ? 'refused' : 'unreachable';
  else outcome = 'error';
  return { outcome, ...(status !== undefined ? { status } : {}), body, ...(error ? { error } : {}), exit };
}

/** One line for a message: `HTTP 200`, `timed out`, `connection refused`… */
export function describeHttp(r: HttpResult): string {
  switch (r.outcome) {
    case 'ok':
      return `HTTP ${r.status ?? '?'}`;
    case 'timeout':
      return `no answer (timed out${r.error ? `: ${r.error}` : ''})`;
    case 'refused':
      return 'connection refused';
    case 'unreachable':
      return `unreachable${r.error ? ` (${r.error})` : ''}`;
    default:
      return `curl failed (exit ${r.exit ?? 'none'}${r.error ? `: ${r.error}` : ''})`;
  }
}

/** The disks in a /proc/partitions listing (`vda`, `vdb`; not their partitions). */
export function diskNames(partitions: string): string[] {
  return partitions
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[3] ?? '')
    .filter((n) => /^(?:vd|sd|xvd)[a-z]+$/.test(n));
}

// ---------------------------------------------------------------------------------------------------------------
// Hops and verdicts.

/** A hop of the path from "outside" to the instance and back, named in every failure. */
export type Hop =
  | 'boot'
  | 'port binding'
  | 'DHCP'
  | 'VXLAN tunnel'
  | 'metadata'
  | "floating IP on the router's gateway"
  | 'L3 agent'
  | 'bridge mapping'
  | 'security group'
  | 'web server in the instance'
  | 'test image'
  | 'volume';

export interface Verdict {
  hop: Hop;
  /** What is wrong there, from what the APIs and hosts say. */
  why: string;
  /** What to do. */
  fix: string;
  /** The tutorial stage and section that sets this hop up. */
  where: string;
  /** The install key of that stage (the result's remedy points there). */
  stage: InstallKey;
}

/** The text a failure carries: `broken hop: DHCP — …; fix: … (tutorial: …)`. */
export function verdictText(v: Verdict): string {
  return `broken hop: ${v.hop} — ${v.why}; fix: ${v.fix} (tutorial: ${v.where})`;
}

const NEUTRON = 'stage "Neutron on network-node and compute-1"';
/** Where the tutorial sets each hop up. */
export const WHERE = {
  agents: `${NEUTRON}, section "The L3, DHCP and metadata agents"`,
  lbNetwork: `${NEUTRON}, section "The Linux bridge agent on network-node" (and the provider "cable" before it)`,
  lbCompute: `${NEUTRON}, section "The Linux bridge agent on compute-1"`,
  router: `${NEUTRON}, section "The self-service network and the router"`,
  metadataSecret: `${NEUTRON}, section "The L3, DHCP and metadata agents" (metadata_agent.ini) and stage "Placement and the Nova controller on api-node" ([neutron] in nova.conf)`,
  novaMetadata: 'stage "Placement and the Nova controller on api-node", sections "The Nova controller services" and "Start the services"',
  image: 'stage "Glance on image-node", section "Build a tiny test image"',
  rules: 'stage "First instance", section "Let ping and HTTP in"',
  boot: 'stage "nova-compute on compute-1" (and the nova.boot check)',
  volume: 'stage "First instance", section "A volume, attached to the running instance" (and the cinder.attach check)',
} as const;

/** An agent as the verdicts need it. */
export interface AgentState {
  host: string;
  alive: boolean;
  adminUp: boolean;
  heartbeat: string | null;
}

export function agentState(a: Agent): AgentState {
  return { host: a.host, alive: a.alive, adminUp: a.admin_state_up, heartbeat: a.heartbeat_timestamp };
}

const working = (a: AgentState | undefined): boolean => !!a && a.alive && a.adminUp;
function agentProblem(unit: string, role: string, a: AgentState | undefined): string {
  if (!a) return `no ${unit} is registered on ${role}`;
  if (!a.alive) return `${unit} on ${role} is not alive (last heartbeat ${a.heartbeat ?? 'never'})`;
  return `${unit} on ${role} is administratively down`;
}

/** What the check found out after the console showed no DHCP lease. */
export interface DhcpFacts {
  network: string;
  networkId: string;
  networkRole: string;
  computeRole: string;
  port: { status?: string; vifType?: string; mac?: string };
  /** The Linux bridge agent of the compute host (undefined: none registered). */
  computeL2Agent?: AgentState;
  /** DHCP agents hosting the network. */
  dhcpAgents: AgentState[];
  /** On the network node (undefined: not looked at). */
  namespace?: boolean;
  dnsmasq?: boolean;
  hostEntry?: boolean;
}

/** Which hop kept the instance from getting a DHCP lease. */
export function dhcpVerdict(f: DhcpFacts): Verdict {
  const bindFix = `systemctl status neutron-linuxbridge-agent on ${f.computeRole}; [vxlan] local_ip and [securitygroup] in its linuxbridge_agent.ini, then restart it`;
  if (!working(f.computeL2Agent)) {
    return { hop: 'port binding', why: `${agentProblem('neutron-linuxbridge-agent', f.computeRole, f.computeL2Agent)}, so nothing plugs the instance's tap device into the network's bridge`, fix: bindFix, where: WHERE.lbCompute, stage: 'neutron' };
  }
  if (f.port.vifType === 'binding_failed') {
    return { hop: 'port binding', why: `Neutron could not bind the instance's port on ${f.computeRole} (binding:vif_type binding_failed)`, fix: `${bindFix}; mechanism_drivers in ml2_conf.ini`, where: WHERE.lbCompute, stage: 'neutron' };
  }
  const dhcpFix = `systemctl status neutron-dhcp-agent on ${f.networkRole}; read /var/log/neutron/neutron-dhcp-agent.log; dhcp_agent.ini as in the tutorial, then restart it`;
  const alive = f.dhcpAgents.filter(working);
  if (f.dhcpAgents.length === 0) {
    return { hop: 'DHCP', why: `no DHCP agent serves network ${f.network} (GET /v2.0/networks/${f.networkId}/dhcp-agents is empty)`, fix: dhcpFix, where: WHERE.agents, stage: 'neutron' };
  }
  if (alive.length === 0) {
    return { hop: 'DHCP', why: f.dhcpAgents.map((a) => agentProblem('neutron-dhcp-agent', a.host, a)).join('; '), fix: dhcpFix, where: WHERE.agents, stage: 'neutron' };
  }
  if (f.namespace === false) return { hop: 'DHCP', why: `there is no qdhcp-${f.networkId} namespace on ${f.networkRole}`, fix: dhcpFix, where: WHERE.agents, stage: 'neutron' };
  if (f.dnsmasq === false) return { hop: 'DHCP', why: `no dnsmasq runs for network ${f.network} on ${f.networkRole}`, fix: dhcpFix, where: WHERE.agents, stage: 'neutron' };
  if (f.hostEntry === false) {
    return { hop: 'DHCP', why: `dnsmasq on ${f.networkRole} does not know the instance's MAC ${f.port.mac ?? '?'} (the DHCP agent did not sync the port)`, fix: dhcpFix, where: WHERE.agents, stage: 'neutron' };
  }
  if (f.port.status !== undefined && f.port.status !== 'ACTIVE') {
    return { hop: 'port binding', why: `the instance's port is ${f.port.status} (the Linux bridge agent on ${f.computeRole} did not wire it)`, fix: bindFix, where: WHERE.lbCompute, stage: 'neutron' };
  }
  return {
    hop: 'VXLAN tunnel',
    why: `dnsmasq on ${f.networkRole} is ready with the instance's address, yet its DHCP requests got no answer: they do not cross from ${f.computeRole} to ${f.networkRole}`,
    fix: `[vxlan] enable_vxlan, local_ip (each host's own management address) and l2_population in linuxbridge_agent.ini on both hosts; the hosts reach each other on UDP 4789`,
    where: `${WHERE.lbNetwork}; ${WHERE.lbCompute}`,
    stage: 'neutron',
  };
}

/**
 * Why a server did not become ACTIVE, when its port says why: Nova waits for Neutron's "port plugged" event, which
 * comes once the Linux bridge agent wired the port and the DHCP agent confirmed its address. Undefined when the
 * port does not explain it (the server's fault message then says more: see nova.boot).
 */
export function bootVerdict(f: DhcpFacts): Verdict | undefined {
  const wired = working(f.computeL2Agent) && f.port.vifType !== 'binding_failed';
  if (!wired) return dhcpVerdict(f);
  if (f.port.status === 'ACTIVE') return undefined;
  const alive = f.dhcpAgents.filter(working);
  if (f.dhcpAgents.length > 0 && alive.length === 0) {
    return {
      hop: 'DHCP',
      why: `the instance's port stayed ${f.port.status ?? 'DOWN'}: Neutron reports a port plugged only once the DHCP agent confirmed its address, and ${f.dhcpAgents.map((a) => agentProblem('neutron-dhcp-agent', a.host, a)).join('; ')} — Nova gave up waiting for the port (vif_plugging_timeout)`,
      fix: `systemctl status neutron-dhcp-agent on ${f.networkRole}; read /var/log/neutron/neutron-dhcp-agent.log; dhcp_agent.ini as in the tutorial, then restart it`,
      where: WHERE.agents,
      stage: 'neutron',
    };
  }
  return undefined;
}

/** What the check found out after the instance could not read the metadata service. */
export interface MetadataFacts {
  networkRole: string;
  /** wget's last error inside the instance (`server returned error: HTTP/1.1 403 Forbidden`). */
  guestError: string;
  metadataAgent?: AgentState;
  routerId?: string;
  /** The L3 agents hosting the router (they run its metadata proxy). */
  l3Agents?: AgentState[];
  /** A haproxy metadata proxy for the router runs on the network node (undefined: not looked at). */
  proxyRunning?: boolean;
  /** How Nova's metadata API answered the network node: HTTP status or an error (undefined: not looked at). */
  novaMetadata?: { url: string; answer: string; ok: boolean };
}

/** Which hop kept the instance from reading its metadata. */
export function metadataVerdict(f: MetadataFacts): Verdict {
  const err = f.guestError;
  const seen = err ? ` (in the instance: ${err})` : '';
  if (!working(f.metadataAgent)) {
    return {
      hop: 'metadata',
      why: `${agentProblem('neutron-metadata-agent', f.networkRole, f.metadataAgent)}${seen}`,
      fix: `systemctl status neutron-metadata-agent on ${f.networkRole}; /var/log/neutron/neutron-metadata-agent.log`,
      where: WHERE.agents,
      stage: 'neutron',
    };
  }
  if (/\b403\b/.test(err)) {
    return {
      hop: 'metadata',
      why: `Nova refused the metadata agent's signed request (HTTP 403): the shared secret differs${seen}`,
      fix: `the same METADATA_SECRET as metadata_proxy_shared_secret in /etc/neutron/metadata_agent.ini on ${f.networkRole} and in [neutron] of /etc/nova/nova.conf on the Nova controller; restart neutron-metadata-agent and nova-api-metadata`,
      where: WHERE.metadataSecret,
      stage: 'neutron',
    };
  }
  if (f.proxyRunning === false && f.l3Agents && !f.l3Agents.some(working)) {
    return {
      hop: 'L3 agent',
      why: `${f.l3Agents.length ? f.l3Agents.map((a) => agentProblem('neutron-l3-agent', a.host, a)).join('; ') : `no L3 agent hosts router ${f.routerId ?? '?'}`}: it runs the router's metadata proxy, so nothing answers 169.254.169.254${seen}`,
      fix: `systemctl status neutron-l3-agent on ${f.networkRole}; /var/log/neutron/neutron-l3-agent.log`,
      where: WHERE.agents,
      stage: 'neutron',
    };
  }
  if (f.proxyRunning === false) {
    return {
      hop: 'metadata',
      why: `no metadata proxy (haproxy) runs for router ${f.routerId ?? '?'} on ${f.networkRole}: nothing answers 169.254.169.254 in the router's namespace${seen}`,
      fix: `systemctl status neutron-l3-agent (it starts one proxy per router); /var/log/neutron/neutron-l3-agent.log`,
      where: WHERE.agents,
      stage: 'neutron',
    };
  }
  if (f.novaMetadata && !f.novaMetadata.ok) {
    return {
      hop: 'metadata',
      why: `Nova's metadata API ${f.novaMetadata.url} answers ${f.novaMetadata.answer} from ${f.networkRole}${seen}`,
      fix: `systemctl status nova-api-metadata on the Nova controller; nova_metadata_host in /etc/neutron/metadata_agent.ini`,
      where: `${WHERE.novaMetadata}; ${WHERE.agents}`,
      stage: 'nova-controller',
    };
  }
  if (/\b404\b/.test(err)) {
    return { hop: 'metadata', why: `Nova's metadata service does not know the instance (HTTP 404)${seen}`, fix: 'read /var/log/nova/nova-api-metadata.log on the Nova controller', where: WHERE.novaMetadata, stage: 'nova-controller' };
  }
  return {
    hop: 'metadata',
    why: `the instance's request to http://169.254.169.254 failed${seen || ' (no detail)'}`,
    fix: `read /var/log/neutron/neutron-metadata-agent.log on ${f.networkRole} and nova-api-metadata's log on the Nova controller`,
    where: WHERE.agents,
    stage: 'neutron',
  };
}

/** What the check found out after the floating IP did not answer ping from outside. */
export interface FloatingFacts {
  address: string;
  /** Floating IP status (ACTIVE once the L3 agent configured it). */
  status: string;
  networkRole: string;
  externalNetwork: string;
  externalNetworkId: string;
  /** The router with an interface on the instance's subnet (undefined: none). */
  router?: { id: string; name: string; gatewayNetworkId?: string; gatewayIp?: string };
  l3Agents: AgentState[];
  /** The Linux bridge agent of the network node and its interface mappings. */
  l2Agent?: AgentState;
  mappings?: Record<string, string>;
  /** provider:physical_network of the external network. */
  physnet?: string | null;
  gatewayPort?: { status?: string; vifType?: string };
  /** Looked at on the network node (undefined: not looked at). */
  interfaceExists?: boolean;
  gatewayAnswers?: boolean;
  fipInRouter?: boolean;
  natRule?: boolean;
  fixedAnswersFromRouter?: boolean;
}

/** Which hop keeps the floating IP from answering. */
export function floatingVerdict(f: FloatingFacts): Verdict {
  const l3Fix = `systemctl status neutron-l3-agent on ${f.networkRole}; /var/log/neutron/neutron-l3-agent.log`;
  const mapFix = `physical_interface_mappings = provider:provider0 in /etc/neutron/plugins/ml2/linuxbridge_agent.ini on ${f.networkRole}, provider-veth.service active, then restart neutron-linuxbridge-agent`;
  if (!f.router) {
    return { hop: "floating IP on the router's gateway", why: `no router has an interface on the instance's subnet`, fix: 'openstack router add subnet router selfservice-v4', where: WHERE.router, stage: 'neutron' };
  }
  if (f.router.gatewayNetworkId !== f.externalNetworkId) {
    return {
      hop: "floating IP on the router's gateway",
      why: f.router.gatewayNetworkId ? `router ${f.router.name}'s gateway is on another network (${f.router.gatewayNetworkId}), not ${f.externalNetwork}` : `router ${f.router.name} has no external gateway on ${f.externalNetwork}`,
      fix: `openstack router set --external-gateway ${f.externalNetwork} ${f.router.name}`,
      where: WHERE.router,
      stage: 'neutron',
    };
  }
  const l3 = f.l3Agents.filter(working);
  if (f.l3Agents.length === 0) return { hop: 'L3 agent', why: `no L3 agent hosts router ${f.router.name}`, fix: l3Fix, where: WHERE.agents, stage: 'neutron' };
  if (l3.length === 0) return { hop: 'L3 agent', why: f.l3Agents.map((a) => agentProblem('neutron-l3-agent', a.host, a)).join('; '), fix: l3Fix, where: WHERE.agents, stage: 'neutron' };
  if (!working(f.l2Agent)) {
    return {
      hop: 'bridge mapping',
      why: `${agentProblem('neutron-linuxbridge-agent', f.networkRole, f.l2Agent)} (it exits when physical_interface_mappings names an interface that does not exist)`,
      fix: mapFix,
      where: WHERE.lbNetwork,
      stage: 'neutron',
    };
  }
  if (f.physnet && f.mappings && !(f.physnet in f.mappings)) {
    return {
      hop: 'bridge mapping',
      why: `the Linux bridge agent on ${f.networkRole} maps no interface to physical network ${f.physnet} of ${f.externalNetwork} (interface_mappings ${JSON.stringify(f.mappings)})`,
      fix: mapFix,
      where: WHERE.lbNetwork,
      stage: 'neutron',
    };
  }
  if (f.interfaceExists === false) {
    const iface = f.physnet && f.mappings ? f.mappings[f.physnet] : undefined;
    return { hop: 'bridge mapping', why: `interface ${iface ?? '?'} mapped to ${f.physnet ?? 'the provider network'} does not exist or is down on ${f.networkRole}`, fix: mapFix, where: WHERE.lbNetwork, stage: 'neutron' };
  }
  if (f.gatewayPort && (f.gatewayPort.vifType === 'binding_failed' || (f.gatewayPort.status !== undefined && f.gatewayPort.status !== 'ACTIVE'))) {
    return {
      hop: 'bridge mapping',
      why: `router ${f.router.name}'s gateway port (qg-) is ${f.gatewayPort.vifType === 'binding_failed' ? 'not bound (binding_failed)' : f.gatewayPort.status}: it is not plugged into ${f.externalNetwork}`,
      fix: mapFix,
      where: WHERE.lbNetwork,
      stage: 'neutron',
    };
  }
  if (f.status !== 'ACTIVE') {
    return { hop: 'L3 agent', why: `floating IP ${f.address} is ${f.status}: the L3 agent did not configure it on router ${f.router.name}`, fix: l3Fix, where: WHERE.agents, stage: 'neutron' };
  }
  if (f.gatewayAnswers === false) {
    return {
      hop: 'bridge mapping',
      why: `router ${f.router.name}'s gateway ${f.router.gatewayIp ?? ''} does not answer ping from ${f.networkRole}: the provider network does not reach the router`,
      fix: mapFix,
      where: WHERE.lbNetwork,
      stage: 'neutron',
    };
  }
  if (f.fipInRouter === false || f.natRule === false) {
    return {
      hop: 'L3 agent',
      why: `router ${f.router.name}'s namespace on ${f.networkRole} ${f.fipInRouter === false ? `has no address ${f.address} on its qg- interface` : `has no DNAT rule for ${f.address}`}`,
      fix: l3Fix,
      where: WHERE.agents,
      stage: 'neutron',
    };
  }
  if (f.fixedAnswersFromRouter === false) {
    return {
      hop: 'security group',
      why: `the instance does not answer ping even from its router's namespace, although it has its address: ICMP is dropped before it reaches the instance`,
      fix: `an ingress ICMP rule in the instance's security group; [securitygroup] and net.bridge.bridge-nf-call-iptables on the compute host`,
      where: `${WHERE.rules}; ${WHERE.lbCompute}`,
      stage: 'neutron',
    };
  }
  return { hop: 'L3 agent', why: `the instance answers inside the router, the floating IP ${f.address} is configured, yet it does not answer from outside`, fix: l3Fix, where: WHERE.agents, stage: 'neutron' };
}

/** What the check saw when ping answered but HTTP did not. */
export interface HttpFacts {
  address: string;
  computeRole: string;
  probe: HttpResult;
  /** The instance's security group lets TCP 80 in (an IPv4 ingress rule covering port 80). */
  tcp80Allowed: boolean;
  /** The rules, one line each, for the message. */
  rules: string[];
}

/** Which hop keeps HTTP from reaching the instance's web server while ping does. */
export function httpVerdict(f: HttpFacts): Verdict {
  const seen = describeHttp(f.probe);
  if (f.probe.outcome === 'refused' || (f.probe.outcome === 'ok' && f.probe.status !== 200)) {
    return {
      hop: 'web server in the instance',
      why: `the TCP connection to ${f.address}:80 went through (${seen}), but the instance's web server did not answer the page`,
      fix: 'rebuild the test image with the tutorial\'s script (its /init starts busybox httpd on port 80) and upload it again',
      where: WHERE.image,
      stage: 'glance',
    };
  }
  if (!f.tcp80Allowed) {
    return {
      hop: 'security group',
      why: `ping answers but TCP 80 gets ${seen}: the instance's security group has no ingress rule for TCP 80 (rules: ${f.rules.join('; ') || 'none'})`,
      fix: 'openstack security group rule create --protocol tcp --dst-port 80 --ingress <group>',
      where: WHERE.rules,
      stage: 'neutron',
    };
  }
  return {
    hop: 'security group',
    why: `ping answers but TCP 80 gets ${seen}, although the security group allows TCP 80 in: the firewall on ${f.computeRole} drops it`,
    fix: `[securitygroup] enable_security_group = true and firewall_driver = iptables in linuxbridge_agent.ini on ${f.computeRole}, net.bridge.bridge-nf-call-iptables = 1, then restart neutron-linuxbridge-agent`,
    where: WHERE.lbCompute,
    stage: 'neutron',
  };
}

/** Whether a rule lets IPv4 TCP port `port` in from anywhere. */
export function allowsTcp(rules: readonly { direction: string; ethertype: string; protocol: string | null; port_range_min: number | null; port_range_max: number | null }[], port: number): boolean {
  return rules.some(
    (r) =>
      r.direction === 'ingress' &&
      r.ethertype === 'IPv4' &&
      (r.protocol === null || r.protocol === 'tcp' || r.protocol === '6') &&
      (r.port_range_min === null || r.port_range_min <= port) &&
      (r.port_range_max === null || r.port_range_max >= port),
  );
}

/** A rule in one line: `ingress IPv4 tcp 80-80 from 0.0.0.0/0`. */
export function ruleLine(r: { direction: string; ethertype: string; protocol: string | null; port_range_min: number | null; port_range_max: number | null; remote_ip_prefix: string | null }): string {
  const ports = r.port_range_min !== null ? ` ${r.port_range_min}-${r.port_range_max ?? r.port_range_min}` : '';
  return `${r.direction} ${r.ethertype} ${r.protocol ?? 'any'}${ports}${r.remote_ip_prefix ? ` from ${r.remote_ip_prefix}` : ''}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Time and cleanup.

/** A time budget shared by the steps of a check, so that cleanup always has time left before the test's timeout. */
export class Deadline {
  private readonly end: number;
  private readonly now: () => number;

  constructor(ms: number, now: () => number = Date.now) {
    this.now = now;
    this.end = now() + ms;
  }

  /** Milliseconds left (0 when passed). */
  left(): number {
    return Math.max(0, this.end - this.now());
  }

  /** `ms`, or what is left if less. */
  cap(ms: number): number {
    return Math.min(ms, this.left());
  }
}

export interface CleanupStep {
  /** What it removes, for the message when it fails: `server stackcheck-dataplane-… (id)`. */
  what: string;
  run: () => Promise<void>;
}

/** Run every step in order whatever the others do; return what could not be removed, with the reason. */
export async function runCleanup(steps: readonly CleanupStep[]): Promise<string[]> {
  const failed: string[] = [];
  for (const step of steps) {
    try {
      await step.run();
    } catch (err) {
      failed.push(`${step.what}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return failed;
}
