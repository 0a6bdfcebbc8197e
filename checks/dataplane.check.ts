// The data plane, end to end (functional): the check boots one instance of the tutorial's test image with its own
// security group (ICMP and TCP 80 in) and floating IP, then proves each hop a packet takes: the instance got its
// address by DHCP and read the metadata service (its console log, through Nova's API); from outside the cloud
// (the network node's root namespace, behind provider-gw) its floating IP answers ping and HTTP with a page that
// names it; with Cinder installed, a volume attached to it shows up in the guest; and once the TCP 80 rule is
// removed, HTTP stops while ping still answers (the security group is enforced). A failure names the hop that
// broke, chosen from what Neutron's API and the network node say. Everything it creates is deleted, even on failure.
import { checkSuite, type CheckTools } from '../src/checks/define.js';
import { CheckBroken, CheckFailure, CheckOutcomeError, evidence } from '../src/checks/outcome.js';
import { adminClient, apiEvidence, describeApiError, need, poll, scratchName, serverFaultRemedy } from '../src/checks/api.js';
import { roleNames, sameHost, serviceHost, type InstallKey } from '../src/checks/expect.js';
import type { CheckSession, RemoteResult } from '../src/checks/session.js';
import type { Evidence } from '../src/checks/types.js';
import {
  agentState,
  allowsTcp,
  bootVerdict,
  consoleSettled,
  Deadline,
  describeHttp,
  dhcpVerdict,
  diskNames,
  floatingVerdict,
  httpProbeScript,
  httpVerdict,
  markers,
  metadataVerdict,
  parseConsole,
  parseHttpProbe,
  parsePing,
  ruleLine,
  runCleanup,
  verdictText,
  WHERE,
  type ConsoleFacts,
  type DhcpFacts,
  type FloatingFacts,
  type HttpResult,
  type Verdict,
} from '../src/checks/dataplane.js';
import type { OpenStackClient } from '../src/openstack/client.js';
import { OpenStackHttpError } from '../src/openstack/http.js';
import {
  createFloatingIp,
  createIngressRule,
  createPort,
  createSecurityGroup,
  deleteFloatingIp,
  deletePort,
  deleteSecurityGroup,
  deleteSecurityGroupRule,
  getFloatingIp,
  getPort,
  getSecurityGroup,
  listAgents,
  listNetworks,
  listPorts,
  listRouters,
  networkDhcpAgents,
  routerL3Agents,
  setFloatingIpPort,
  type Agent,
  type Network,
} from '../src/openstack/neutron.js';
import { attachVolume, consoleOutput, createServer, deleteServer, findFlavor, getServer } from '../src/openstack/nova.js';
import { createVolume, deleteVolume, getVolume } from '../src/openstack/cinder.js';
import { listImages } from '../src/openstack/glance.js';
import { shQuote } from '../src/ssh/exec.js';

const { check, expected, ctx } = checkSuite();
const net = expected.services.find((s) => s.name === 'neutron')?.role ?? 'network-node';
const novaRole = expected.services.find((s) => s.name === 'nova')?.role ?? 'api-node';
const withVolumes = expected.installed.has('cinder-volume') && expected.services.some((s) => s.name === 'cinder');

/** Time for the whole scenario; cleanup gets what is left of the test's timeout (at least 4 min). */
const WORK_MS = 15 * 60_000;
const TIMEOUT_MS = 22 * 60_000;
/** Under software emulation (virt_type = qemu) the test image boots in one to two minutes; Nova waits up to 5 min for its port. */
const ACTIVE_MS = 7 * 60_000;
const CONSOLE_MS = 6 * 60_000;
const PING_MS = 90_000;
const VOLUME_MS = 3 * 60_000;
const ENFORCE_MS = 60_000;

const EXPECT = {
  dhcp: 'the instance to get its address by DHCP (console line "tiny: dhcp lease …")',
  metadata: 'the instance to read its metadata from http://169.254.169.254 (console line "tiny: metadata uuid=<its id>")',
  ping: 'the floating IP to answer ping from outside the cloud',
  http: 'the floating IP to answer HTTP on port 80 from outside the cloud with a page naming the instance',
};

// Things the check created, deleted in `cleanUp` whatever happened.
interface Made {
  sg?: string;
  port?: string;
  server?: string;
  fip?: string;
  volume?: string;
}

const is404 = (err: unknown): boolean => err instanceof OpenStackHttpError && err.status === 404;

class DataPlane {
  readonly made: Made = {};
  readonly deadline = new Deadline(WORK_MS);
  readonly name = scratchName('dataplane');
  readonly notes: string[] = [];
  private consoleText = '';
  private ext!: Network;
  private priv!: Network;
  private httpRule?: string;
  private serverId = '';
  private fipAddress = '';
  private fixedIp = '';
  private imageRef = '';
  private flavorRef = '';

  constructor(
    readonly s: CheckSession,
    readonly client: OpenStackClient,
    readonly t: CheckTools,
    readonly compute: string,
  ) {}

  // A failure naming the hop (and fetching the logs of the services behind it).
  fail(expectedText: string, found: string, v: Verdict, logs: [string, string][] = [], ev: Evidence[] = []): never {
    for (const [role, unit] of logs) this.t.logOnFailure(role, unit);
    throw new CheckFailure(expectedText, `${found} — ${verdictText(v)}`, ev).fixAt(v.stage, `${v.fix} (${v.where})`);
  }

  async run(): Promise<void> {
    await this.prepare();
    await this.boot();
    await this.consoleStage();
    await this.reach();
    if (withVolumes) await this.volume();
    else this.notes.push('volume: not checked (cinder-volume is not installed at this stage)');
    await this.enforce();
    this.t.attach(evidence.text('data path, hop by hop', this.notes.join('\n')));
  }

  private async prepare(): Promise<void> {
    const c = this.client;
    const nets = await need('listing networks', listNetworks(c));
    const ext = nets.find((n) => n.name === expected.externalNetwork);
    const priv = nets.find((n) => n.name === expected.network);
    if (!ext || !priv) throw new CheckBroken(`networks ${expected.externalNetwork}/${expected.network} missing (see neutron.networks)`);
    this.ext = ext;
    this.priv = priv;
    const image = (await need('finding the image', listImages(c, expected.image))).find((i) => i.status === 'active');
    if (!image) throw new CheckBroken(`image ${expected.image} is not registered (see glance.images)`);
    const flavor = await need('finding the flavor', findFlavor(c, expected.flavor));
    if (!flavor) throw new CheckBroken(`flavor ${expected.flavor} does not exist (openstack flavor create …; stage "First instance")`);

    const sg = await need('creating a security group', createSecurityGroup(c, this.name, 'stackcheck data-plane check: ICMP and TCP 80 in (deleted when the check ends)'));
    this.made.sg = sg.id;
    await need('adding an ICMP ingress rule', createIngressRule(c, sg.id, 'icmp'));
    this.httpRule = (await need('adding a TCP 80 ingress rule', createIngressRule(c, sg.id, 'tcp', 80))).id;
    const port = await need(`creating a port on ${priv.name}`, createPort(c, { networkId: priv.id, name: this.name, securityGroups: [sg.id] }));
    this.made.port = port.id;
    this.fixedIp = port.fixed_ips[0]?.ip_address ?? '';

    this.imageRef = image.id;
    this.flavorRef = flavor.id;
  }

  private async boot(): Promise<void> {
    const c = this.client;
    const port = this.made.port!;
    try {
      const server = await createServer(c, { name: this.name, imageRef: this.imageRef, flavorRef: this.flavorRef, networks: [], ports: [port], availabilityZone: `nova:${serviceHost(ctx.inventory, this.compute)}` });
      this.made.server = server.id;
      this.serverId = server.id;
    } catch (err) {
      this.fail('a server create request accepted by nova-api', describeApiError(err), { hop: 'boot', why: 'nova-api refused to create the test server', fix: 'see nova.boot', where: WHERE.boot, stage: 'nova-compute' }, [], apiEvidence(err));
    }
    // Associated at once: the L3 agent configures it while the instance boots.
    try {
      const fip = await createFloatingIp(c, this.ext.id, this.name);
      this.made.fip = fip.id;
      this.fipAddress = fip.floating_ip_address;
      await setFloatingIpPort(c, fip.id, port);
    } catch (err) {
      this.fail(
        `a floating IP on ${expected.externalNetwork} associated with the instance's port`,
        describeApiError(err),
        {
          hop: "floating IP on the router's gateway",
          why: `Neutron would not give the instance a floating IP (${describeApiError(err)})`,
          fix: `router ${expected.router} needs an interface on the instance's subnet and its external gateway on ${expected.externalNetwork}; a free address in the floating pool (neutron.floating-pool)`,
          where: WHERE.router,
          stage: 'neutron',
        },
        [[net, 'neutron-api']],
        apiEvidence(err),
      );
    }
    const r = await poll(() => getServer(c, this.serverId), (x) => x.status === 'ACTIVE' || x.status === 'ERROR', this.deadline.cap(ACTIVE_MS), 3000);
    if (r.value.status !== 'ACTIVE') {
      const fault = r.value.fault?.message;
      const { facts, ev } = await this.portFacts(false);
      const elsewhere = serverFaultRemedy(fault);
      const v: Verdict = bootVerdict(facts) ?? {
        hop: 'boot',
        why: 'the instance did not start (its port is wired; the fault says why)',
        fix: elsewhere?.text ?? 'see nova.boot and nova-compute.log on the compute host',
        where: WHERE.boot,
        stage: (elsewhere?.stage as InstallKey | undefined) ?? 'nova-compute',
      };
      const logs: [string, string][] = v.hop === 'DHCP' ? [[net, 'neutron-dhcp-agent']] : v.hop === 'port binding' ? [[this.compute, 'neutron-linuxbridge-agent']] : [[this.compute, 'nova-compute']];
      this.fail(
        `test server ${this.serverId} ACTIVE on ${this.compute} within ${ACTIVE_MS / 60_000} min`,
        `status ${r.value.status}${fault ? ` (fault: ${fault})` : ''}`,
        v,
        logs,
        [evidence.json('server', r.value), ...ev],
      );
    }
    this.notes.push(`boot: server ${this.serverId} ACTIVE on ${r.value['OS-EXT-SRV-ATTR:host'] ?? this.compute}, port ${port} (${this.fixedIp}), floating IP ${this.fipAddress}`);
  }

  // Read the console until /init has said what it will say about DHCP and metadata.
  private async consoleStage(): Promise<void> {
    let apiError: unknown;
    const r = await poll(
      async () => {
        try {
          this.consoleText = await consoleOutput(this.client, this.serverId, 400);
          apiError = undefined;
        } catch (err) {
          apiError = err;
        }
        return parseConsole(this.consoleText);
      },
      consoleSettled,
      this.deadline.cap(CONSOLE_MS),
      5000,
    );
    const f = r.value;
    this.t.attach(evidence.text('console log of the test instance (Nova os-getConsoleOutput)', this.consoleText || '(empty)'));
    if (apiError !== undefined && this.consoleText === '') {
      // No console log through Nova: DHCP and metadata are proven below by the page the instance serves.
      this.notes.push(`console: not readable through Nova (${describeApiError(apiError)}); DHCP and metadata judged by the instance's web page`);
      this.t.attach(evidence.text('console log', `os-getConsoleOutput failed: ${describeApiError(apiError)}`));
      return;
    }
    const waited = `${Math.round(CONSOLE_MS / 60_000)} min`;
    if (f.lines === 0) {
      this.fail(EXPECT.dhcp, `the instance printed nothing on its serial console in ${waited}`, {
        hop: 'boot',
        why: 'the instance is ACTIVE but its console stays empty: the image did not boot, or its kernel does not log to ttyS0',
        fix: 'rebuild and upload the test image as the tutorial does (its syslinux.cfg says console=ttyS0)',
        where: WHERE.image,
        stage: 'glance',
      }, [[this.compute, 'nova-compute']]);
    }
    if (!f.lease) await this.noLease(f);
    this.notes.push(`DHCP: lease ${f.lease!.ip}${f.lease!.router ? ` (router ${f.lease!.router})` : ''} in the console`);
    if (f.metadata === undefined && f.metadataError === undefined) {
      this.fail(EXPECT.metadata, f.initDone ? 'the console shows "tiny: init done" but no "tiny: metadata" line' : `no "tiny: metadata" line in ${waited} after the DHCP lease`, {
        hop: 'test image',
        why: f.initDone ? 'the image was built by an older script that does not read the metadata service' : 'the instance stalled after DHCP',
        fix: 'write the tutorial\'s /root/build-tiny-image.sh on image-node again, run it, and upload the image again as the tutorial does',
        where: WHERE.image,
        stage: 'glance',
      });
    }
    if (f.metadataError !== undefined) await this.noMetadata(f.metadataError);
    if (f.metadata!.uuid !== this.serverId.toLowerCase()) {
      this.fail(EXPECT.metadata, `metadata for instance ${f.metadata!.uuid}`, {
        hop: 'metadata',
        why: `the metadata service answered the instance with another instance's data (uuid ${f.metadata!.uuid}, expected ${this.serverId})`,
        fix: 'read neutron-metadata-agent.log: the proxy must identify the instance by its port (router id and fixed address)',
        where: WHERE.agents,
        stage: 'neutron',
      }, [[net, 'neutron-metadata-agent']]);
    }
    this.notes.push(`metadata: the instance read its own uuid ${f.metadata!.uuid} from 169.254.169.254`);
  }

  // The instance's port, the agents that wire it and serve its address; with `onHost`, dnsmasq on the network node too.
  private async portFacts(onHost: boolean): Promise<{ facts: DhcpFacts; ev: Evidence[] }> {
    const c = this.client;
    const port = await need('reading the instance port', getPort(c, this.made.port!));
    const agents = await need('listing agents', listAgents(c));
    const dhcpAgents = await need("listing the network's DHCP agents", networkDhcpAgents(c, this.priv.id));
    const l2 = agents.find((a) => a.agent_type === 'Linux bridge agent' && sameHost(ctx.inventory, this.compute, a.host));
    const mac = port.mac_address ?? '';
    const ev: Evidence[] = [evidence.json('the instance port and the agents that serve it', { port, dhcpAgents, computeLinuxBridgeAgent: l2 ?? null })];
    let mk: Record<string, string> = {};
    if (onHost) {
      const probe = await this.s.run(
        net,
        [
          `ip netns list 2>/dev/null | grep -q '^qdhcp-${this.priv.id}' && echo @@namespace=yes || echo @@namespace=no`,
          `pgrep -f '[d]nsmasq.*${this.priv.id}' >/dev/null && echo @@dnsmasq=yes || echo @@dnsmasq=no`,
          `grep -qi ${shQuote(mac || 'no-mac')} /var/lib/neutron/dhcp/${this.priv.id}/host 2>/dev/null && echo @@host-entry=yes || echo @@host-entry=no`,
        ].join('\n'),
      );
      ev.push(this.s.commandEvidence(probe));
      mk = markers(probe.stdout);
    }
    const facts: DhcpFacts = {
      network: this.priv.name,
      networkId: this.priv.id,
      networkRole: net,
      computeRole: this.compute,
      port: { ...(port.status ? { status: port.status } : {}), ...(port['binding:vif_type'] ? { vifType: port['binding:vif_type'] } : {}), ...(mac ? { mac } : {}) },
      ...(l2 ? { computeL2Agent: agentState(l2) } : {}),
      dhcpAgents: dhcpAgents.map(agentState),
      ...(mk.namespace ? { namespace: mk.namespace === 'yes' } : {}),
      ...(mk.dnsmasq ? { dnsmasq: mk.dnsmasq === 'yes' } : {}),
      ...(mk['host-entry'] ? { hostEntry: mk['host-entry'] === 'yes' } : {}),
    };
    return { facts, ev };
  }

  private async noLease(f: ConsoleFacts): Promise<never> {
    const { facts, ev } = await this.portFacts(true);
    const v = dhcpVerdict(facts);
    const logs: [string, string][] = v.hop === 'DHCP' ? [[net, 'neutron-dhcp-agent']] : v.hop === 'VXLAN tunnel' ? [[this.compute, 'neutron-linuxbridge-agent'], [net, 'neutron-linuxbridge-agent']] : [[this.compute, 'neutron-linuxbridge-agent']];
    this.fail(EXPECT.dhcp, f.noLease ? 'the console says "tiny: dhcp no lease yet" and shows no lease' : 'no DHCP lease in the console log', v, logs, ev);
  }

  private async noMetadata(guestError: string): Promise<never> {
    const c = this.client;
    const agents = await need('listing agents', listAgents(c));
    const agent = agents.find((a) => a.agent_type === 'Metadata agent' && sameHost(ctx.inventory, net, a.host));
    const routerId = await this.routerOfPrivate();
    const l3 = routerId ? await need("listing the router's L3 agents", routerL3Agents(c, routerId)) : [];
    const conf = await this.s.run(
      net,
      [
        routerId ? `pgrep -f '[h]aproxy.*${routerId}' >/dev/null && echo @@proxy=yes || echo @@proxy=no` : 'echo @@proxy=',
        `echo "@@host=$(crudini --get /etc/neutron/metadata_agent.ini DEFAULT nova_metadata_host 2>/dev/null)"`,
        `echo "@@port=$(crudini --get /etc/neutron/metadata_agent.ini DEFAULT nova_metadata_port 2>/dev/null)"`,
      ].join('\n'),
    );
    const mk = markers(conf.stdout);
    const ev: Evidence[] = [this.s.commandEvidence(conf)];
    let novaMetadata: { url: string; answer: string; ok: boolean } | undefined;
    const host = mk.host || '';
    const url = `http://${host || '127.0.0.1'}:${mk.port || '8775'}/`;
    // Only hosts of the inventory (or loopback) are probed: a wrong address is reported, never contacted.
    const known = host === '' || host === '127.0.0.1' || host === 'localhost' || Object.keys(ctx.inventory.hosts).some((r) => roleNames(ctx.inventory, r).includes(host));
    if (!known) novaMetadata = { url, answer: `nothing: nova_metadata_host ${host} is not a host of the inventory`, ok: false };
    else {
      const r = await this.s.run(net, httpProbeScript(url, 5), 20_000);
      ev.push(this.s.commandEvidence(r));
      const h = parseHttpProbe(r.stdout);
      novaMetadata = { url, answer: describeHttp(h), ok: h.outcome === 'ok' && h.status === 200 };
    }
    const v = metadataVerdict({
      networkRole: net,
      guestError,
      ...(agent ? { metadataAgent: agentState(agent) } : {}),
      ...(routerId ? { routerId, l3Agents: l3.map(agentState) } : {}),
      ...(mk.proxy ? { proxyRunning: mk.proxy === 'yes' } : {}),
      novaMetadata,
    });
    const logs: [string, string][] = v.hop === 'L3 agent' ? [] : [[net, 'neutron-metadata-agent']];
    if (/403|Nova's metadata API|does not know/.test(v.why)) logs.push([novaRole, 'nova-api-metadata']);
    if (v.hop === 'L3 agent' || /haproxy/.test(v.why)) logs.push([net, 'neutron-l3-agent']);
    this.fail(EXPECT.metadata, `the console says "tiny: metadata unreachable${guestError ? ` (${guestError})` : ''}"`, v, logs, ev);
  }

  // The router with an interface on the private network.
  private async routerOfPrivate(): Promise<string | undefined> {
    const ifaces = await need('listing router interfaces', listPorts(this.client, { network_id: this.priv.id }));
    return ifaces.find((p) => p.device_owner === 'network:router_interface' || p.device_owner === 'network:router_interface_distributed')?.device_id;
  }

  private async ping(count: number, waitMs: number): Promise<{ received: number; r: RemoteResult }> {
    const tries = Math.max(1, Math.floor(this.deadline.cap(waitMs) / 3000));
    const script = `for i in $(seq ${tries}); do ping -n -c1 -W2 ${this.fipAddress} >/dev/null 2>&1 && break; sleep 1; done; ping -n -c${count} -W2 ${this.fipAddress}`;
    const r = await this.s.run(net, script, tries * 3000 + count * 3000 + 10_000);
    return { received: parsePing(r.stdout).received, r };
  }

  private async get(path: string, maxTimeS: number): Promise<{ h: HttpResult; r: RemoteResult }> {
    const r = await this.s.run(net, httpProbeScript(`http://${this.fipAddress}${path}`, maxTimeS), maxTimeS * 1000 + 15_000);
    return { h: parseHttpProbe(r.stdout), r };
  }

  // From outside: ping, the page, the metadata copy the instance serves.
  private async reach(): Promise<void> {
    const p = await this.ping(3, PING_MS);
    this.t.attach(this.s.commandEvidence(p.r));
    if (p.received === 0) await this.noPing();
    this.notes.push(`ping: ${this.fipAddress} answered ${p.received}/3 from ${net} (root namespace)`);

    let page = await this.get('/', 8);
    for (let i = 0; i < 3 && page.h.outcome !== 'ok'; i++) {
      await new Promise((res) => setTimeout(res, 5000));
      page = await this.get('/', 8);
    }
    this.t.attach(this.s.commandEvidence(page.r));
    if (page.h.outcome !== 'ok' || page.h.status !== 200) {
      const sg = await need('reading the security group', getSecurityGroup(this.client, this.made.sg!));
      const v = httpVerdict({ address: this.fipAddress, computeRole: this.compute, probe: page.h, tcp80Allowed: allowsTcp(sg.security_group_rules, 80), rules: sg.security_group_rules.map(ruleLine) });
      this.fail(EXPECT.http, `GET http://${this.fipAddress}/ from ${net}: ${describeHttp(page.h)} (ping answers)`, v, v.hop === 'security group' ? [[this.compute, 'neutron-linuxbridge-agent']] : [], [evidence.json('security group', sg)]);
    }
    if (!page.h.body.includes(this.serverId)) {
      this.fail(EXPECT.http, `a page that does not name it: ${page.h.body.slice(0, 200)}`, {
        hop: 'test image',
        why: 'the web server answers, but its page lacks the instance id the image writes there after reading the metadata',
        fix: 'rebuild the test image with the tutorial\'s script and upload it again',
        where: WHERE.image,
        stage: 'glance',
      });
    }
    this.notes.push(`HTTP: GET http://${this.fipAddress}/ → ${describeHttp(page.h)}, the page names ${this.serverId}`);
    const meta = await this.get('/meta_data.json', 8);
    this.t.attach(this.s.commandEvidence(meta.r));
    if (meta.h.outcome !== 'ok' || meta.h.status !== 200 || !meta.h.body.includes(this.serverId)) {
      this.fail('the instance to serve the metadata it read (/meta_data.json, naming its uuid)', `GET /meta_data.json: ${describeHttp(meta.h)}`, {
        hop: 'test image',
        why: 'the image does not publish the metadata it read under /www',
        fix: 'rebuild the test image with the tutorial\'s script and upload it again',
        where: WHERE.image,
        stage: 'glance',
      });
    }
    this.notes.push(`HTTP: GET http://${this.fipAddress}/meta_data.json → ${describeHttp(meta.h)}, holds the instance's uuid`);
  }

  private async noPing(): Promise<never> {
    const c = this.client;
    const fip = await need('reading the floating IP', getFloatingIp(c, this.made.fip!));
    const agents = await need('listing agents', listAgents(c));
    const routers = await need('listing routers', listRouters(c));
    const routerId = await this.routerOfPrivate();
    const router = routers.find((r) => r.id === routerId);
    const l3 = router ? await need('listing the router\'s L3 agents', routerL3Agents(c, router.id)) : [];
    const l2: Agent | undefined = agents.find((a) => a.agent_type === 'Linux bridge agent' && sameHost(ctx.inventory, net, a.host));
    const mappings = (l2?.configurations?.interface_mappings ?? undefined) as Record<string, string> | undefined;
    const physnet = this.ext['provider:physical_network'];
    const gwPort = router ? (await need('listing the router gateway port', listPorts(c, { device_id: router.id, device_owner: 'network:router_gateway' })))[0] : undefined;
    const gatewayIp = router?.external_gateway_info?.external_fixed_ips?.[0]?.ip_address;
    const iface = physnet && mappings ? mappings[physnet] : undefined;
    const facts: FloatingFacts = {
      address: this.fipAddress,
      status: fip.status,
      networkRole: net,
      externalNetwork: this.ext.name,
      externalNetworkId: this.ext.id,
      ...(router
        ? { router: { id: router.id, name: router.name, ...(router.external_gateway_info?.network_id ? { gatewayNetworkId: router.external_gateway_info.network_id } : {}), ...(gatewayIp ? { gatewayIp } : {}) } }
        : {}),
      l3Agents: l3.map(agentState),
      ...(l2 ? { l2Agent: agentState(l2) } : {}),
      ...(mappings ? { mappings } : {}),
      ...(physnet !== undefined ? { physnet } : {}),
      ...(gwPort ? { gatewayPort: { ...(gwPort.status ? { status: gwPort.status } : {}), ...(gwPort['binding:vif_type'] ? { vifType: gwPort['binding:vif_type'] } : {}) } } : {}),
    };
    const ev: Evidence[] = [evidence.json('floating IP, router, gateway port, agents', { floatingip: fip, router: router ?? null, gatewayPort: gwPort ?? null, l3Agents: l3, networkNodeLinuxBridgeAgent: l2 ?? null })];
    if (router) {
      const ns = `qrouter-${router.id}`;
      const script = [
        iface ? `echo "@@iface=$(ip -o link show ${shQuote(iface)} 2>/dev/null | head -n 1 | cut -d' ' -f3)"` : 'echo @@iface=',
        gatewayIp ? `ping -n -c2 -W2 ${gatewayIp} >/dev/null 2>&1 && echo @@gateway=yes || echo @@gateway=no` : 'echo @@gateway=',
        `ip netns exec ${ns} ip -4 -o addr show 2>/dev/null | grep -q ' ${this.fipAddress}/' && echo @@fip-in-router=yes || echo @@fip-in-router=no`,
        `ip netns exec ${ns} iptables-save -t nat 2>/dev/null | grep -- '-d ${this.fipAddress}/32' | grep -q DNAT && echo @@nat=yes || echo @@nat=no`,
        this.fixedIp ? `ip netns exec ${ns} ping -n -c2 -W2 ${this.fixedIp} >/dev/null 2>&1 && echo @@fixed=yes || echo @@fixed=no` : 'echo @@fixed=',
      ].join('\n');
      const r = await this.s.run(net, script, 40_000);
      ev.push(this.s.commandEvidence(r));
      const mk = markers(r.stdout);
      if (mk.iface !== undefined && iface) facts.interfaceExists = /[<,]UP[,>]/.test(mk.iface);
      if (mk.gateway) facts.gatewayAnswers = mk.gateway === 'yes';
      facts.fipInRouter = mk['fip-in-router'] === 'yes';
      facts.natRule = mk.nat === 'yes';
      if (mk.fixed) facts.fixedAnswersFromRouter = mk.fixed === 'yes';
    }
    const v = floatingVerdict(facts);
    const unit = v.hop === 'bridge mapping' ? 'neutron-linuxbridge-agent' : 'neutron-l3-agent';
    const logs: [string, string][] = v.hop === 'security group' ? [[this.compute, 'neutron-linuxbridge-agent']] : [[net, unit]];
    this.fail(EXPECT.ping, `no answer from ${this.fipAddress} on ${net} (floating IP status ${fip.status})`, v, logs, ev);
  }

  // With Cinder: a volume attached to the running instance shows up in its /proc/partitions.
  private async volume(): Promise<void> {
    const c = this.client;
    const before = await this.get('/cgi-bin/partitions', 8);
    if (before.h.outcome !== 'ok' || before.h.status !== 200 || !diskNames(before.h.body).includes('vda')) {
      this.fail('the instance to list its disks at http://<floating IP>/cgi-bin/partitions', `GET /cgi-bin/partitions: ${describeHttp(before.h)}`, {
        hop: 'test image',
        why: 'the image has no CGI that prints /proc/partitions',
        fix: 'rebuild the test image with the tutorial\'s script and upload it again',
        where: WHERE.image,
        stage: 'glance',
      }, [], [this.s.commandEvidence(before.r)]);
    }
    const disks = diskNames(before.h.body);
    const vol = await need('creating a volume', createVolume(c, this.name, 1));
    this.made.volume = vol.id;
    const cinderVolume = expected.cinderVolumeRole;
    const avail = await poll(() => getVolume(c, vol.id), (v) => v.status === 'available' || v.status === 'error', this.deadline.cap(VOLUME_MS), 3000);
    if (avail.value.status !== 'available') {
      this.fail('a 1 GB volume available', `status ${avail.value.status}`, { hop: 'volume', why: 'cinder-volume did not create the volume in its backend', fix: 'see cinder.volume and cinder-volume.log', where: WHERE.volume, stage: 'cinder-volume' }, [[cinderVolume, 'cinder-volume']], [evidence.json('volume', avail.value)]);
    }
    try {
      await attachVolume(c, this.serverId, vol.id);
    } catch (err) {
      this.fail('the volume attached to the instance', describeApiError(err), { hop: 'volume', why: 'Nova refused the attachment', fix: 'see cinder.attach', where: WHERE.volume, stage: 'cinder-volume' }, [[this.compute, 'nova-compute']], apiEvidence(err));
    }
    const inUse = await poll(() => getVolume(c, vol.id), (v) => v.status === 'in-use' || v.status === 'error' || v.status === 'available', this.deadline.cap(VOLUME_MS), 3000);
    if (inUse.value.status !== 'in-use') {
      await new Promise((res) => setTimeout(res, 3000));
      const again = await need('reading the volume', getVolume(c, vol.id));
      if (again.status !== 'in-use') {
        this.fail('the volume in-use by the instance', `status ${again.status}`, { hop: 'volume', why: 'the attachment did not complete (Nova, libvirt and the volume backend)', fix: 'see cinder.attach; nova-compute.log on the compute host', where: WHERE.volume, stage: 'cinder-volume' }, [[this.compute, 'nova-compute'], [cinderVolume, 'cinder-volume']], [evidence.json('volume', again)]);
      }
    }
    let after = before;
    const seen = await poll(
      async () => {
        after = await this.get('/cgi-bin/partitions', 8);
        return diskNames(after.h.body).filter((d) => !disks.includes(d));
      },
      (fresh) => fresh.length > 0,
      this.deadline.cap(120_000),
      5000,
    );
    this.t.attach(this.s.commandEvidence(after.r));
    if (!seen.finished) {
      this.fail('the attached volume visible inside the instance (a new disk in /proc/partitions)', `disks ${diskNames(after.h.body).join(', ') || 'none'} (before: ${disks.join(', ')})`, {
        hop: 'volume',
        why: 'Cinder and Nova say the volume is attached, but the guest does not see a new disk',
        fix: 'virsh domblklist on the compute host must list it; the guest kernel needs PCI hot-plug and virtio_blk',
        where: WHERE.volume,
        stage: 'cinder-volume',
      }, [[this.compute, 'nova-compute']]);
    }
    this.notes.push(`volume: ${vol.id} attached, visible in the guest as ${seen.value.join(', ')}`);
  }

  // Remove TCP 80 from the security group: HTTP must stop, ping must go on.
  private async enforce(): Promise<void> {
    await need('removing the TCP 80 rule', deleteSecurityGroupRule(this.client, this.httpRule!));
    const removed = Date.now();
    let last: { h: HttpResult; r: RemoteResult } | undefined;
    const blocked = await poll(
      async () => {
        last = await this.get('/', 4);
        return last.h.outcome !== 'ok';
      },
      (b) => b,
      this.deadline.cap(ENFORCE_MS),
      2000,
    );
    if (last) this.t.attach(this.s.commandEvidence(last.r));
    const after = Math.round((Date.now() - removed) / 1000);
    if (!blocked.finished) {
      this.fail('HTTP to stop once the TCP 80 rule is removed from the instance\'s security group', `GET http://${this.fipAddress}/ still answers ${describeHttp(last!.h)} ${after} s after the rule was removed`, {
        hop: 'security group',
        why: `the security group is not enforced on ${this.compute}: without a rule for TCP 80, HTTP still gets through`,
        fix: `[securitygroup] enable_security_group = true and firewall_driver = iptables in linuxbridge_agent.ini on ${this.compute}, net.bridge.bridge-nf-call-iptables = 1 (/etc/sysctl.d/90-neutron-bridge.conf), then restart neutron-linuxbridge-agent`,
        where: WHERE.lbCompute,
        stage: 'neutron',
      }, [[this.compute, 'neutron-linuxbridge-agent']]);
    }
    const p = await this.ping(3, 10_000);
    this.t.attach(this.s.commandEvidence(p.r));
    if (p.received === 0) {
      this.fail('ping to keep answering once only the TCP 80 rule is removed', `no answer from ${this.fipAddress}`, {
        hop: 'security group',
        why: 'removing the TCP 80 rule also cut ICMP, which its own rule still allows',
        fix: `read neutron-linuxbridge-agent.log on ${this.compute}`,
        where: WHERE.lbCompute,
        stage: 'neutron',
      }, [[this.compute, 'neutron-linuxbridge-agent']]);
    }
    this.notes.push(`security group: TCP 80 rule removed → HTTP ${describeHttp(last!.h)} within ${after} s, ping still ${p.received}/3: the group is enforced`);
  }

  /** Delete everything the check created; returns what could not be deleted (never throws). */
  async cleanUp(): Promise<string[]> {
    const c = this.client;
    const m = this.made;
    return runCleanup([
      ...(m.fip ? [{ what: `floating IP ${this.fipAddress || m.fip}`, run: () => deleteFloatingIp(c, m.fip!) }] : []),
      ...(m.server
        ? [
            {
              what: `server ${this.name} (${m.server})`,
              run: async () => {
                await deleteServer(c, m.server!);
                const gone = await poll(() => getServer(c, m.server!).then((x) => x.status, (err: unknown) => (is404(err) ? 'gone' : 'unknown')), (st) => st === 'gone', 180_000, 3000);
                if (!gone.finished) throw new Error(`still there after 3 min (status ${gone.value})`);
              },
            },
          ]
        : []),
      ...(m.volume
        ? [
            {
              what: `volume ${this.name} (${m.volume})`,
              run: async () => {
                await poll(() => getVolume(c, m.volume!).then((v) => v.status, (err: unknown) => (is404(err) ? 'gone' : 'unknown')), (st) => st === 'available' || st === 'error' || st === 'gone', 120_000, 3000);
                await deleteVolume(c, m.volume!);
              },
            },
          ]
        : []),
      ...(m.port ? [{ what: `port ${this.name} (${m.port})`, run: () => deletePort(c, m.port!) }] : []),
      ...(m.sg
        ? [
            {
              what: `security group ${this.name} (${m.sg})`,
              run: async () => {
                // 409 while Neutron still counts a port in the group.
                const r = await poll(() => deleteSecurityGroup(c, m.sg!).then(() => 'deleted', (err: unknown) => (err instanceof OpenStackHttpError && err.status === 409 ? 'in use' : describeApiError(err))), (x) => x !== 'in use', 60_000, 3000);
                if (r.value !== 'deleted') throw new Error(r.value);
              },
            },
          ]
        : []),
    ]);
  }
}

check(
  'dataplane.end-to-end',
  'deployment',
  async (s, t) => {
    const { client } = await adminClient(s);
    const compute = expected.computeRoles[0];
    if (!compute) throw new CheckBroken('the inventory has no compute host');
    const dp = new DataPlane(s, client, t, compute);
    let failure: unknown;
    try {
      await dp.run();
    } catch (err) {
      failure = err;
    }
    const left = await dp.cleanUp();
    if (failure !== undefined) {
      if (left.length > 0 && failure instanceof CheckOutcomeError) failure.attach(evidence.text('left behind (cleanup failed)', left.join('\n')));
      throw failure;
    }
    if (left.length > 0) throw new CheckBroken(`the data path works, but cleaning up failed: ${left.join('; ')}`);
  },
  { timeoutMs: TIMEOUT_MS },
);
