// Neutron: every endpoint answers; agents alive on the hosts the tutorial puts them on; the tutorial's
// networks, subnets and router exist; the floating range is the tutorial's; a floating IP attaches to a
// running server's port and detaches (functional; everything it creates is deleted).
import { checkSuite } from '../src/checks/define.js';
import { checkConfig, serviceConfig } from '../src/checks/config.js';
import { CheckBroken, CheckFailure, evidence } from '../src/checks/outcome.js';
import { adminClient, apiEvidence, describeApiError, endpointsAnswer, need, poll, scratchName } from '../src/checks/api.js';
import { sameHost, serviceHost } from '../src/checks/expect.js';
import type { CheckSession } from '../src/checks/session.js';
import {
  createFloatingIp,
  deleteFloatingIp,
  getFloatingIp,
  ipInRange,
  listAgents,
  listFloatingIps,
  listNetworks,
  listRouters,
  listSubnets,
  serverPorts,
  setFloatingIpPort,
} from '../src/openstack/neutron.js';
import { createServer, deleteServer, findFlavor, getServer } from '../src/openstack/nova.js';
import { listImages } from '../src/openstack/glance.js';
import { bridgeAgents, dhcpProblems, DNSMASQ_SCRIPT, listRouterDetails, listSubnetDetails, MAPPING_SCRIPT, mappingProblems, parseDhcpHost, routerPorts, routerProblems, type MappingReport } from '../src/checks/neutron-wiring.js';
import { shQuote } from '../src/ssh/exec.js';
import { agentRetryScript, readAgentRetry } from '../src/checks/agent-retry.js';

const { check, expected, ctx } = checkSuite();
const net = expected.services.find((s) => s.name === 'neutron')?.role ?? 'network-node';

check('neutron.api', net, async (s, t) => {
  t.logOnFailure(net, 'neutron-api');
  await endpointsAnswer(s, 'network', '/v2.0/networks?limit=1', 'Neutron');
});

// One agent of a type alive and administratively up on a role's host.
async function agentAlive(s: CheckSession, type: string, unit: string, role: string): Promise<void> {
  const { client } = await adminClient(s);
  const agents = await need('listing agents (GET /v2.0/agents)', listAgents(client));
  const mine = agents.filter((a) => a.agent_type === type && sameHost(ctx.inventory, role, a.host));
  const exp = `${unit} on ${role} alive`;
  if (mine.length === 0) {
    const other = agents.filter((a) => a.agent_type === type).map((a) => a.host);
    throw new CheckFailure(exp, other.length ? `${type} registered only on ${other.join(', ')}` : `no ${type} registered (never started, or cannot reach RabbitMQ: transport_url in /etc/neutron/neutron.conf)`);
  }
  const bad = mine.find((a) => !a.alive || !a.admin_state_up);
  if (bad) {
    throw new CheckFailure(exp, `${bad.alive ? 'alive' : 'not alive'} (last heartbeat ${bad.heartbeat_timestamp ?? 'never'})${bad.admin_state_up ? '' : ', admin state down'}`, [
      evidence.json(`agents of type ${type}`, mine),
    ]);
  }
}

const AGENTS: [string, string, string][] = [
  ['neutron.dhcp-agent', 'DHCP agent', 'neutron-dhcp-agent'],
  ['neutron.l3-agent', 'L3 agent', 'neutron-l3-agent'],
  ['neutron.metadata-agent', 'Metadata agent', 'neutron-metadata-agent'],
];
for (const [id, type, unit] of AGENTS) {
  check(id, net, async (s, t) => {
    t.logOnFailure(net, unit);
    await agentAlive(s, type, unit, net);
  });
}
for (const role of [net, ...expected.computeRoles]) {
  check('neutron.linuxbridge-agent', role, async (s, t) => {
    t.logOnFailure(role, 'neutron-linuxbridge-agent');
    await agentAlive(s, 'Linux bridge agent', 'neutron-linuxbridge-agent', role);
  });
  // Alive is not enough: an agent that retries one failing command for ever (Debian 12's ebtables cannot delete the
  // rules it made) keeps its heartbeat but wires no new port. Read its log for the running process's retry loop.
  check('neutron.linuxbridge-retry', role, async (s, t) => {
    t.logOnFailure(role, 'neutron-linuxbridge-agent');
    const unit = 'neutron-linuxbridge-agent';
    const r = await s.run(role, agentRetryScript(unit, `/var/log/neutron/${unit}.log`), 20_000);
    const reading = readAgentRetry(r.stdout);
    if (reading.state === 'not-running') throw new CheckBroken(`${unit} is not running on ${role} (see neutron.linuxbridge-agent)`);
    if (reading.state === 'no-log') throw new CheckBroken(`no /var/log/neutron/${unit}.log on ${role}`);
    if (reading.state === 'stuck') {
      throw new CheckFailure(
        `${unit} on ${role} going through its loop (it wires the ports of new instances)`,
        `it has failed \`${reading.command}\` ${reading.times} times in a row since ${reading.first} and retries it for ever (exit ${reading.exitCode}: ${reading.stderr}), so new instances on ${role} end "Failed to allocate the network(s)" though the agent reports alive`,
      );
    }
  });
}

check('neutron.networks', 'deployment', async (s) => {
  const { client } = await adminClient(s);
  const [nets, subnets, routers] = await need('listing networks, subnets and routers', Promise.all([listNetworks(client), listSubnets(client), listRouters(client)]));
  const problems: string[] = [];
  const ext = nets.find((n) => n.name === expected.externalNetwork);
  const priv = nets.find((n) => n.name === expected.network);
  if (!ext) problems.push(`no network ${expected.externalNetwork}`);
  else if (!ext['router:external']) problems.push(`${expected.externalNetwork} is not external (--external)`);
  if (!priv) problems.push(`no network ${expected.network}`);
  for (const n of [ext, priv]) if (n && !subnets.some((x) => x.network_id === n.id)) problems.push(`${n.name} has no subnet`);
  const router = routers.find((r) => r.name === expected.router);
  if (!router) problems.push(`no router ${expected.router}`);
  else if (ext && router.external_gateway_info?.network_id !== ext.id) problems.push(`router ${expected.router} has no gateway on ${expected.externalNetwork}`);
  if (problems.length > 0) {
    throw new CheckFailure(
      `networks ${expected.externalNetwork} (external) and ${expected.network} with subnets, router ${expected.router} with a gateway`,
      `${problems.join('; ')} (networks: ${nets.map((n) => n.name).join(', ') || 'none'})`,
    );
  }
});

check('neutron.floating-pool', 'deployment', async (s, t) => {
  const { client } = await adminClient(s);
  const nets = await need('listing networks', listNetworks(client));
  const ext = nets.find((n) => n.name === expected.externalNetwork);
  if (!ext) throw new CheckBroken(`network ${expected.externalNetwork} does not exist (see neutron.networks)`);
  const subnets = (await need('listing subnets', listSubnets(client))).filter((x) => x.network_id === ext.id);
  const pools = subnets.flatMap((x) => x.allocation_pools);
  const fips = (await need('listing floating IPs', listFloatingIps(client))).filter((f) => f.floating_network_id === ext.id);
  t.attach(evidence.json('external subnets and floating IPs', { subnets, floatingips: fips.map((f) => ({ address: f.floating_ip_address, port: f.port_id, status: f.status })) }));
  const range = expected.floatingRange;
  if (!range) {
    if (pools.length === 0) throw new CheckFailure(`an allocation pool on ${expected.externalNetwork}`, 'none');
    return;
  }
  const want = `${range.start}-${range.end}`;
  if (!pools.some((p) => p.start === range.start && p.end === range.end)) {
    throw new CheckFailure(`floating pool ${want} on ${expected.externalNetwork}`, pools.length ? `pools ${pools.map((p) => `${p.start}-${p.end}`).join(', ')}` : 'no allocation pool');
  }
  const invalid = fips.filter((f) => !ipInRange(f.floating_ip_address, range.start, range.end));
  if (invalid.length > 0) throw new CheckFailure(`every floating IP within ${want}`, `outside: ${invalid.map((f) => f.floating_ip_address).join(', ')}`);
});

check(
  'neutron.floating-ip',
  'deployment',
  async (s, t) => {
    t.logOnFailure(net, 'neutron-l3-agent');
    const { client } = await adminClient(s);
    const compute = expected.computeRoles[0];
    if (!compute) throw new CheckBroken('the inventory has no compute host');
    const nets = await need('listing networks', listNetworks(client));
    const ext = nets.find((n) => n.name === expected.externalNetwork);
    const priv = nets.find((n) => n.name === expected.network);
    if (!ext || !priv) throw new CheckBroken(`networks ${expected.externalNetwork}/${expected.network} missing (see neutron.networks)`);
    const image = (await need('finding the image', listImages(client, expected.image))).find((i) => i.status === 'active');
    const flavor = await need('finding the flavor', findFlavor(client, expected.flavor));
    if (!image || !flavor) throw new CheckBroken(`image ${expected.image} or flavor ${expected.flavor} missing`);
    const server = await need('creating a server', createServer(client, { name: scratchName('fip'), imageRef: image.id, flavorRef: flavor.id, networks: [priv.id], availabilityZone: `nova:${serviceHost(ctx.inventory, compute)}` }));
    let fipId: string | undefined;
    try {
      const up = await poll(() => getServer(client, server.id), (x) => x.status === 'ACTIVE' || x.status === 'ERROR', 300_000, 3000);
      if (up.value.status !== 'ACTIVE') throw new CheckBroken(`the test server did not become ACTIVE (${up.value.status}; see nova.boot)`);
      const port = (await need('finding the server port', serverPorts(client, server.id)))[0];
      if (!port) throw new CheckFailure(`a port for server ${server.id}`, 'none');
      const fip = await createFloatingIp(client, ext.id, scratchName('fip')).catch((err: unknown) => {
        throw new CheckFailure(`a floating IP allocated on ${expected.externalNetwork}`, describeApiError(err), apiEvidence(err));
      });
      fipId = fip.id;
      await setFloatingIpPort(client, fip.id, port.id).catch((err: unknown) => {
        throw new CheckFailure(`floating IP ${fip.floating_ip_address} associated with the server's port`, describeApiError(err), apiEvidence(err));
      });
      const active = await poll(() => getFloatingIp(client, fip.id), (f) => f.status === 'ACTIVE', 60_000, 2000);
      if (!active.finished) throw new CheckFailure(`floating IP ${fip.floating_ip_address} ACTIVE once associated`, `status ${active.value.status} (the L3 agent did not configure it)`);
      await setFloatingIpPort(client, fip.id, null).catch((err: unknown) => {
        throw new CheckFailure(`floating IP ${fip.floating_ip_address} disassociated`, describeApiError(err), apiEvidence(err));
      });
      const down = await poll(() => getFloatingIp(client, fip.id), (f) => f.port_id === null && f.status === 'DOWN', 60_000, 2000);
      if (!down.finished) throw new CheckFailure(`floating IP ${fip.floating_ip_address} DOWN and free after detaching`, `status ${down.value.status}, port ${down.value.port_id ?? 'none'}`);
    } finally {
      if (fipId) await deleteFloatingIp(client, fipId).catch(() => undefined);
      await deleteServer(client, server.id).catch(() => undefined);
    }
  },
  { timeoutMs: 600_000 },
);

// neutron.conf, the agents' files and the metadata secret on the network host; the Linux bridge agent's wiring on each
// compute host (the Neutron stage configures both); each checked in the file and in the running agents.
check('neutron.config', net, async (s, t) => {
  await checkConfig(s, net, serviceConfig(expected, 'neutron', 'controller', { vars: ctx.inventory.vars }), t);
});

for (const compute of expected.computeRoles.filter((r) => r !== net)) {
  check('neutron.config', compute, async (s, t) => {
    await checkConfig(s, compute, serviceConfig(expected, 'neutron', 'compute', { vars: ctx.inventory.vars, role: compute }), t);
  });
}

// The router's legs: an ACTIVE interface on the self-service subnet (at its gateway address), an ACTIVE gateway port
// with an address on the provider network's subnet.
check('neutron.router-ports', 'deployment', async (s, t) => {
  t.logOnFailure(net, 'neutron-l3-agent');
  const { client } = await adminClient(s);
  const [nets, subnets, routers] = await need('listing networks, subnets and routers', Promise.all([listNetworks(client), listSubnetDetails(client), listRouterDetails(client)]));
  const ext = nets.find((n) => n.name === expected.externalNetwork);
  const priv = nets.find((n) => n.name === expected.network);
  const router = routers.find((r) => r.name === expected.router);
  if (!ext || !priv || !router) throw new CheckBroken(`${[!ext && `network ${expected.externalNetwork}`, !priv && `network ${expected.network}`, !router && `router ${expected.router}`].filter(Boolean).join(', ')} missing (see neutron.networks)`);
  const ports = await need(`listing the ports of router ${router.name}`, routerPorts(client, router.id));
  t.attach(evidence.json(`router ${router.name} and its ports`, { router, ports: ports.map((p) => ({ owner: p.device_owner, status: p.status, fixed_ips: p.fixed_ips })) }));
  const problems = routerProblems(router, ports, { ext, priv }, subnets);
  if (problems.length > 0) {
    throw new CheckFailure(`router ${router.name} with an ACTIVE interface on ${priv.name}'s subnet and its gateway on ${ext.name}`, problems.join('; '));
  }
});

// Each DHCP-enabled network of the tutorial is served by a dnsmasq inside its qdhcp-<network id> namespace on the
// network host (where the DHCP agent runs).
check('neutron.dhcp-namespace', net, async (s, t) => {
  t.logOnFailure(net, 'neutron-dhcp-agent');
  const { client } = await adminClient(s);
  const [nets, subnets] = await need('listing networks and subnets', Promise.all([listNetworks(client), listSubnetDetails(client)]));
  const served = nets.filter((n) => [expected.network, expected.externalNetwork].includes(n.name) && subnets.some((x) => x.network_id === n.id && x.enable_dhcp));
  if (!nets.some((n) => n.name === expected.network)) throw new CheckBroken(`network ${expected.network} does not exist (see neutron.networks)`);
  const r = await s.run(net, DNSMASQ_SCRIPT, 20_000);
  const state = parseDhcpHost(r.stdout);
  const problems = served.flatMap((n) => dhcpProblems(state, n));
  if (served.length === 0) problems.push(`no subnet of ${expected.network} has DHCP enabled (openstack subnet set --dhcp)`);
  if (problems.length > 0) {
    throw new CheckFailure(`a dnsmasq in namespace qdhcp-<id> on ${net} for ${served.map((n) => `${n.name} (${n.id})`).join(', ') || expected.network}`, problems.join('; '), [s.commandEvidence(r)]);
  }
});

// The provider physical network is mapped to the interface the tutorial builds (provider0), in the agent's file on the
// network host and in what the running agent reports; the interface exists and is up.
check('neutron.bridge-mapping', net, async (s, t) => {
  t.logOnFailure(net, 'neutron-linuxbridge-agent');
  const want = { physnet: ctx.inventory.vars.PROVIDER_PHYSNET ?? 'provider', iface: ctx.inventory.vars.PROVIDER_INTERFACE ?? 'provider0' };
  const r = await s.run(net, `python3 -c ${shQuote(MAPPING_SCRIPT)}`, 20_000);
  let report: MappingReport;
  try {
    report = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as MappingReport;
  } catch {
    throw new CheckBroken(`cannot read the Linux bridge agent's configuration on ${net}`, [s.commandEvidence({ ...r, command: 'python3 (linuxbridge_agent.ini reader)' })]);
  }
  if (report.read.length === 0) throw new CheckBroken(`/etc/neutron/plugins/ml2/linuxbridge_agent.ini does not exist on ${net} (neutron-linuxbridge-agent not installed yet)`);
  const { client } = await adminClient(s);
  const agents = await need('listing the Linux bridge agents', bridgeAgents(client));
  const agent = agents.find((a) => sameHost(ctx.inventory, net, a.host));
  t.attach(evidence.json('mappings', { file: report.mappings, links: report.links, runningAgent: agent?.configurations?.interface_mappings ?? null }));
  const problems = mappingProblems(report, want, agent);
  if (problems.length > 0) throw new CheckFailure(`physical_interface_mappings = ${want.physnet}:${want.iface} on ${net}, ${want.iface} up, the running agent using it`, problems.join('; '));
});
