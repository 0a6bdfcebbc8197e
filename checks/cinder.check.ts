// Cinder: every endpoint answers; cinder-scheduler and cinder-volume are up; a volume becomes available,
// attaches to a server (in-use), detaches and is deleted (functional; cleaned up even on failure).
import { checkSuite } from '../src/checks/define.js';
import { checkConfig, serviceConfig } from '../src/checks/config.js';
import { CheckBroken, CheckFailure, evidence } from '../src/checks/outcome.js';
import { adminClient, apiEvidence, describeApiError, endpointsAnswer, need, poll, scratchName } from '../src/checks/api.js';
import { sameHost, serviceHost } from '../src/checks/expect.js';
import type { CheckSession } from '../src/checks/session.js';
import { createVolume, deleteVolume, getVolume, listCinderServices } from '../src/openstack/cinder.js';
import { attachVolume, createServer, deleteServer, detachVolume, findFlavor, getServer, heartbeatAge } from '../src/openstack/nova.js';
import { listImages } from '../src/openstack/glance.js';
import { listNetworks } from '../src/openstack/neutron.js';

const { check, expected, ctx } = checkSuite();
const api = expected.services.find((s) => s.name === 'cinder')?.role ?? 'api-node';
const vol = expected.cinderVolumeRole;

check('cinder.api', api, async (s, t) => {
  t.logOnFailure(api, 'apache2', '/var/log/cinder/cinder-api.log');
  await endpointsAnswer(s, 'volumev3', '/volumes?limit=1', 'Cinder');
});

// A cinder service binary on its host up and enabled (cinder-volume's host is `<host>@<backend>`).
async function cinderUp(s: CheckSession, binary: string, role: string): Promise<void> {
  const { client } = await adminClient(s);
  const all = await need('listing volume services (GET /os-services)', listCinderServices(client));
  const mine = all.filter((x) => x.binary === binary && sameHost(ctx.inventory, role, x.host.split('@')[0] ?? x.host));
  const exp = `${binary} on ${role} up and enabled`;
  if (mine.length === 0) throw new CheckFailure(exp, `no ${binary} registered${all.length ? ` (services: ${all.map((x) => `${x.binary}@${x.host}`).join(', ')})` : ''}`);
  const bad = mine.find((x) => x.state !== 'up' || x.status !== 'enabled');
  if (bad) throw new CheckFailure(exp, `state=${bad.state} (last heartbeat ${heartbeatAge(bad.updated_at)}), status=${bad.status}`, [evidence.json(binary, mine)]);
}

check('cinder.scheduler', api, async (s, t) => {
  t.logOnFailure(api, 'cinder-scheduler');
  await cinderUp(s, 'cinder-scheduler', api);
});

check('cinder.volume', vol, async (s, t) => {
  t.logOnFailure(vol, 'cinder-volume');
  await cinderUp(s, 'cinder-volume', vol);
});

check(
  'cinder.attach',
  'deployment',
  async (s, t) => {
    t.logOnFailure(vol, 'cinder-volume');
    const { client } = await adminClient(s);
    const compute = expected.computeRoles[0];
    if (!compute) throw new CheckBroken('the inventory has no compute host');
    if (compute) t.logOnFailure(compute, 'nova-compute');
    const image = (await need('finding the image', listImages(client, expected.image))).find((i) => i.status === 'active');
    const flavor = await need('finding the flavor', findFlavor(client, expected.flavor));
    if (!image || !flavor) throw new CheckBroken(`image ${expected.image} or flavor ${expected.flavor} missing`);
    const priv = expected.services.some((x) => x.name === 'neutron') ? (await need('listing networks', listNetworks(client))).find((n) => n.name === expected.network) : undefined;
    const volume = await createVolume(client, scratchName('vol'), 1).catch((err: unknown) => {
      throw new CheckFailure('a 1 GB volume create request accepted', describeApiError(err), apiEvidence(err));
    });
    let serverId: string | undefined;
    try {
      const avail = await poll(() => getVolume(client, volume.id), (v) => v.status === 'available' || v.status === 'error', 120_000, 2000);
      if (avail.value.status !== 'available') throw new CheckFailure(`volume ${volume.id} available within 2 min`, `status ${avail.value.status}`);
      const server = await need('creating a server', createServer(client, { name: scratchName('vol'), imageRef: image.id, flavorRef: flavor.id, networks: priv ? [priv.id] : [], availabilityZone: `nova:${serviceHost(ctx.inventory, compute)}` }));
      serverId = server.id;
      const up = await poll(() => getServer(client, server.id), (x) => x.status === 'ACTIVE' || x.status === 'ERROR', 300_000, 3000);
      if (up.value.status !== 'ACTIVE') throw new CheckBroken(`the test server did not become ACTIVE (${up.value.status}; see nova.boot)`);
      await attachVolume(client, server.id, volume.id).catch((err: unknown) => {
        throw new CheckFailure('the volume attach request accepted', describeApiError(err), apiEvidence(err));
      });
      const inUse = await poll(() => getVolume(client, volume.id), (v) => v.status === 'in-use' || v.status === 'error_attaching' || v.status === 'available', 120_000, 2000);
      if (inUse.value.status !== 'in-use') throw new CheckFailure(`volume in-use on server ${server.id} within 2 min`, `status ${inUse.value.status}`);
      await detachVolume(client, server.id, volume.id);
      const back = await poll(() => getVolume(client, volume.id), (v) => v.status === 'available' || v.status === 'error_detaching', 120_000, 2000);
      if (back.value.status !== 'available') throw new CheckFailure('the volume available again after detaching', `status ${back.value.status}`);
    } finally {
      if (serverId) {
        await detachVolume(client, serverId, volume.id).catch(() => undefined);
        await deleteServer(client, serverId).catch(() => undefined);
      }
      await poll(() => getVolume(client, volume.id), (v) => v.status === 'available' || v.status === 'error', 60_000, 2000).catch(() => undefined);
      await deleteVolume(client, volume.id).catch(() => undefined);
    }
  },
  { timeoutMs: 900_000 },
);

// cinder-volume's host is configured by its own stage (LVM, or the lab's Ceph variant) after the API's: there the
// backend settings too (RBD pool, user, secret uuid and keyring, or the LVM group and iSCSI address), per the inventory.
const volumeInstalled = expected.installed.has('cinder-volume');
for (const role of [...new Set(volumeInstalled ? [api, vol] : [api])]) {
  check('cinder.config', role, async (s, t) => {
    const side = volumeInstalled && role === vol ? 'volume' : 'controller';
    await checkConfig(s, role, serviceConfig(expected, 'cinder', side, { vars: ctx.inventory.vars, role }), t);
  });
}
