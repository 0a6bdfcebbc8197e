// Placement: every endpoint answers; each compute host is a resource provider with VCPU, MEMORY_MB and DISK_GB.
import { checkSuite } from '../src/checks/define.js';
import { checkConfig, serviceConfig } from '../src/checks/config.js';
import { CheckFailure, evidence } from '../src/checks/outcome.js';
import { adminClient, endpointsAnswer, need } from '../src/checks/api.js';
import { sameHost } from '../src/checks/expect.js';
import { listResourceProviders, providerInventories } from '../src/openstack/placement.js';

const { check, eachCompute, expected, ctx } = checkSuite();
const api = expected.services.find((s) => s.name === 'placement')?.role ?? 'api-node';

check('placement.api', api, async (s, t) => {
  t.logOnFailure(api, 'placement-api', '/var/log/placement/placement-api.log');
  await endpointsAnswer(s, 'placement', '/resource_providers', 'Placement');
});

const RESOURCES = ['VCPU', 'MEMORY_MB', 'DISK_GB'];
eachCompute('placement.provider', (compute) => async (s, t) => {
    t.logOnFailure(compute, 'nova-compute');
    const { client } = await adminClient(s);
    const rps = await need('listing resource providers', listResourceProviders(client));
    const rp = rps.find((r) => sameHost(ctx.inventory, compute, r.name));
    if (!rp) {
      throw new CheckFailure(`a resource provider for ${compute}`, rps.length ? `providers: ${rps.map((r) => r.name).join(', ')}` : 'no resource providers (nova-compute never reported to Placement)');
    }
    const inv = await need('reading inventories', providerInventories(client, rp.uuid));
    t.attach(evidence.json(`inventory of ${rp.name}`, inv));
    const missing = RESOURCES.filter((r) => !inv[r] || inv[r].total <= 0);
    if (missing.length > 0) throw new CheckFailure(`${RESOURCES.join(', ')} inventory on provider ${rp.name}`, `missing ${missing.join(', ')} (has: ${Object.keys(inv).join(', ') || 'nothing'})`);
});

check('placement.config', api, async (s, t) => {
  await checkConfig(s, api, serviceConfig(expected, 'placement'), t);
});
