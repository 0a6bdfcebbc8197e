// Nova: every endpoint answers; conductor, scheduler and each compute host's nova-compute are up and enabled;
// each compute host is a QEMU hypervisor mapped to a cell; a test server boots to ACTIVE on each compute host
// (functional; deleted even on failure).
import type { RowDataPacket } from 'mysql2/promise';
import { checkSuite } from '../src/checks/define.js';
import { checkConfig, serviceConfig } from '../src/checks/config.js';
import { CheckBroken, CheckFailure, evidence } from '../src/checks/outcome.js';
import { adminClient, apiEvidence, describeApiError, endpointsAnswer, need, poll, scratchName, serverFaultRemedy } from '../src/checks/api.js';
import { sameHost, serviceHost } from '../src/checks/expect.js';
import { roleNames } from '../src/checks/expect.js';
import { cellForEvidence, cellProblems, LIST_CELLS_COMMAND, parseListCells, parseUpgradeCheck, readCellMappings, secretMap, type CellExpectation } from '../src/checks/cells.js';
import type { CheckSession } from '../src/checks/session.js';
import { describeMysqlError } from '../src/db/mysql.js';
import { createServer, deleteServer, findFlavor, getServer, heartbeatAge, listHypervisors, listServices, type NovaService } from '../src/openstack/nova.js';
import { listImages } from '../src/openstack/glance.js';
import { listNetworks } from '../src/openstack/neutron.js';

const { check, eachCompute, expected, ctx } = checkSuite();
const api = expected.services.find((s) => s.name === 'nova')?.role ?? 'api-node';
const hasNeutron = expected.services.some((s) => s.name === 'neutron');

check('nova.api', api, async (s, t) => {
  t.logOnFailure(api, 'nova-api');
  await endpointsAnswer(s, 'compute', '/flavors', 'Nova');
});

// The os-services list (the check cannot run without nova-api: that is nova.api's failure).
async function services(s: CheckSession): Promise<NovaService[]> {
  const { client } = await adminClient(s);
  return need('listing compute services (GET /os-services)', listServices(client));
}

// Expect one service binary on a role's host to be up and enabled; say what it is instead.
async function serviceUp(s: CheckSession, binary: string, role: string, conf: string): Promise<void> {
  const all = await services(s);
  const mine = all.filter((x) => x.binary === binary && sameHost(ctx.inventory, role, x.host));
  const expectedText = `${binary} on ${role} to be up and enabled`;
  if (mine.length === 0) {
    const elsewhere = all.filter((x) => x.binary === binary).map((x) => x.host);
    throw new CheckFailure(expectedText, elsewhere.length ? `${binary} registered only on ${elsewhere.join(', ')}` : `no ${binary} registered (never started, or cannot reach the database/RabbitMQ: check ${conf})`);
  }
  const bad = mine.find((x) => x.state !== 'up' || x.status !== 'enabled');
  if (bad) {
    const why = [
      bad.state !== 'up' ? `state=down (last heartbeat ${heartbeatAge(bad.updated_at)})` : '',
      bad.status !== 'enabled' ? `status=disabled${bad.disabled_reason ? ` (${bad.disabled_reason})` : ''}` : '',
    ].filter(Boolean);
    throw new CheckFailure(expectedText, why.join(', '), [evidence.json(`os-services ${binary}`, mine)]);
  }
}

check('nova.conductor', api, async (s, t) => {
  t.logOnFailure(api, 'nova-conductor');
  await serviceUp(s, 'nova-conductor', api, 'transport_url and [database] connection in /etc/nova/nova.conf');
});

check('nova.scheduler', api, async (s, t) => {
  t.logOnFailure(api, 'nova-scheduler');
  await serviceUp(s, 'nova-scheduler', api, 'transport_url in /etc/nova/nova.conf');
});

eachCompute('nova.compute-up', (compute) => async (s, t) => {
  t.logOnFailure(compute, 'nova-compute');
  await serviceUp(s, 'nova-compute', compute, `transport_url in /etc/nova/nova.conf on ${compute}`);
});

eachCompute('nova.hypervisor', (compute) => async (s, t) => {
  t.logOnFailure(compute, 'nova-compute');
  const { client } = await adminClient(s);
  const hvs = await need('listing hypervisors', listHypervisors(client));
  const hv = hvs.find((h) => sameHost(ctx.inventory, compute, h.hypervisor_hostname) || (h.service && sameHost(ctx.inventory, compute, h.service.host)));
  if (!hv) throw new CheckFailure(`${compute} listed as a hypervisor`, hvs.length ? `hypervisors: ${hvs.map((h) => h.hypervisor_hostname).join(', ')}` : 'no hypervisors');
  if (hv.hypervisor_type !== 'QEMU') throw new CheckFailure(`hypervisor ${hv.hypervisor_hostname} of type QEMU`, `type ${hv.hypervisor_type ?? 'unknown'}`);
  if (hv.state !== 'up') throw new CheckFailure(`hypervisor ${hv.hypervisor_hostname} up`, `state ${hv.state}`);
});

// The cell and host mappings in nova_api, read as the nova database user.
async function mappings(s: CheckSession): Promise<{ cells: string[]; hosts: string[] }> {
  const nova = expected.services.find((x) => x.name === 'nova')?.db;
  if (!nova) throw new CheckBroken('Nova is not installed at this stage');
  const target = s.mysqlTarget(nova.user, nova.passwordVar);
  try {
    const cells = (await s.mysql.query<RowDataPacket>(target, 'SELECT name FROM nova_api.cell_mappings')).map((r) => String(r.name));
    const hosts = (await s.mysql.query<RowDataPacket>(target, 'SELECT host FROM nova_api.host_mappings')).map((r) => String(r.host));
    return { cells, hosts };
  } catch (err) {
    throw new CheckBroken(`cannot read nova_api as ${nova.user} (${describeMysqlError(err).text}; see mysql.nova-schema)`);
  }
}

// cell0 → nova_cell0 and cell1 → nova on the database host, cell1's transport URL on the RabbitMQ host (passwords
// compared in memory, never shown); then `nova-status upgrade check` on the api host (about 2.5 s) must report no Failure.
check('nova.cells', 'deployment', async (s, t) => {
  const nova = expected.services.find((x) => x.name === 'nova')?.db;
  if (!nova) throw new CheckBroken('Nova is not installed at this stage');
  const rabbit = expected.rabbit;
  const secretVars = [nova.passwordVar, rabbit.passwordVar];
  const status = s.run(api, 'runuser -u nova -- nova-status upgrade check', 120_000).then(
    (r) => ({ r }),
    (err: unknown) => ({ err }),
  );
  const read = await readCellMappings(s, nova, secretVars);
  let cells = read.cells;
  if (read.templated) {
    // URL templates ({username}…): nova-manage formats them; passwords masked on the host before printing
    const r = await s.run(api, LIST_CELLS_COMMAND, 180_000, JSON.stringify({ secrets: secretMap(s, secretVars) }));
    cells = parseListCells(r.stdout);
    if (cells.length === 0) throw new CheckBroken(`cannot list the cells with nova-manage on ${api}`, [s.commandEvidence(r)]);
  }
  t.attach(evidence.json('cell mappings (which variable each password equals)', cells.map(cellForEvidence)));
  const want: CellExpectation = {
    db: { user: nova.user, passwordVar: nova.passwordVar, hosts: roleNames(ctx.inventory, expected.dbRole) },
    mq: { user: rabbit.user, passwordVar: rabbit.passwordVar, hosts: roleNames(ctx.inventory, expected.mqRole), port: Number(ctx.inventory.vars.RABBIT_PORT ?? 5672), vhost: rabbit.vhost },
  };
  const problems = cellProblems(cells, want);
  const expectedText = `cell0 → database nova_cell0 and cell1 → database nova on ${expected.dbRole}, cell1's transport_url rabbit://${rabbit.user}@${expected.mqRole}, with ${nova.passwordVar} and ${rabbit.passwordVar}`;
  if (problems.length > 0) throw new CheckFailure(expectedText, `${problems.join('; ')} (cells: ${cells.map((c) => c.name || c.uuid).join(', ') || 'none'})`);
  const st = await status;
  if ('err' in st) throw st.err;
  const results = parseUpgradeCheck(st.r.stdout);
  t.attach(s.commandEvidence(st.r));
  if (results.length === 0) throw new CheckBroken(`nova-status upgrade check printed no result on ${api} (exit ${st.r.exitCode ?? 'none'})`, [s.commandEvidence(st.r)]);
  const failed = results.filter((x) => /^failure$/i.test(x.result));
  if (failed.length > 0) {
    throw new CheckFailure(`nova-status upgrade check on ${api} reporting no Failure`, failed.map((x) => `${x.check}: ${x.result}${x.details ? ` (${x.details})` : ''}`).join('; '));
  }
});

eachCompute('nova.host-mapping', (compute) => async (s) => {
  const { hosts } = await mappings(s);
  if (!hosts.some((h) => sameHost(ctx.inventory, compute, h))) {
    throw new CheckFailure(`${serviceHost(ctx.inventory, compute)} mapped to a cell`, hosts.length ? `mapped hosts: ${hosts.join(', ')}` : 'no hosts mapped (discover_hosts not run?)');
  }
});

eachCompute(
  'nova.boot',
  (compute) => async (s, t) => {
    t.logOnFailure(compute, 'nova-compute');
    const { client } = await adminClient(s);
    const images = await need('finding the image', listImages(client, expected.image));
    const image = images.find((i) => i.status === 'active');
    if (!image) throw new CheckBroken(`image ${expected.image} is not registered (see glance.images)`);
    const flavor = await need('finding the flavor', findFlavor(client, expected.flavor));
    if (!flavor) throw new CheckBroken(`flavor ${expected.flavor} does not exist (openstack flavor create …)`);
    let networks: string[] = [];
    if (hasNeutron) {
      const nets = await need('finding the network', listNetworks(client));
      const net = nets.find((n) => n.name === expected.network);
      if (!net) throw new CheckBroken(`network ${expected.network} does not exist (see neutron.networks)`);
      networks = [net.id];
    }
    let server;
    try {
      server = await createServer(client, { name: scratchName('boot'), imageRef: image.id, flavorRef: flavor.id, networks, availabilityZone: `nova:${serviceHost(ctx.inventory, compute)}` });
    } catch (err) {
      throw new CheckFailure(`a server create request accepted by nova-api`, describeApiError(err), apiEvidence(err));
    }
    try {
      const r = await poll(() => getServer(client, server.id), (x) => x.status === 'ACTIVE' || x.status === 'ERROR', 300_000, 3000);
      if (r.value.status !== 'ACTIVE') {
        const fault = r.value.fault?.message;
        const failure = new CheckFailure(
          `test server ${server.id} ACTIVE on ${compute} within 5 min`,
          `status ${r.value.status}${fault ? ` (fault: ${fault})` : ''}`,
          [evidence.json('server', r.value)],
        );
        const elsewhere = serverFaultRemedy(fault);
        throw elsewhere ? failure.fixAt(elsewhere.stage, elsewhere.text) : failure;
      }
      const host = r.value['OS-EXT-SRV-ATTR:host'];
      if (host && !sameHost(ctx.inventory, compute, host)) throw new CheckFailure(`the test server on ${compute}`, `it runs on ${host}`);
    } finally {
      await deleteServer(client, server.id).catch(() => undefined);
      await poll(
        () => getServer(client, server.id).then(() => false, () => true),
        (gone) => gone,
        120_000,
        3000,
      ).catch(() => undefined);
    }
  },
  { timeoutMs: 600_000 },
);

// nova.conf on the api node, and on each compute host (written by the nova-compute stage; its [libvirt] rbd_* settings
// and libvirt secret by the cinder-volume stage): every service Nova reaches, in the file and in the running services.
check('nova.config', api, async (s, t) => {
  await checkConfig(s, api, serviceConfig(expected, 'nova', 'controller', { vars: ctx.inventory.vars }), t);
});

eachCompute('nova.config', (compute) => async (s, t) => {
  await checkConfig(s, compute, serviceConfig(expected, 'nova', 'compute', { vars: ctx.inventory.vars, role: compute }), t);
});
