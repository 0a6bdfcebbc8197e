// Keystone: the v3 API answers; admin and every service user authenticate (password from the inventory) with
// the admin role; the catalog has every service the tutorial installs, with public/internal/admin endpoints
// in the tutorial's region at the expected host and port. Expected from the inventory, not from the catalog.
import { checkSuite } from '../src/checks/define.js';
import { checkConfig, serviceConfig } from '../src/checks/config.js';
import { CheckBroken, CheckFailure, evidence } from '../src/checks/outcome.js';
import { roleNames } from '../src/checks/expect.js';
import { adminClient, apiEvidence, describeApiError } from '../src/checks/api.js';
import type { CheckSession } from '../src/checks/session.js';
import { OpenStackHttpError } from '../src/openstack/http.js';
import { catalogGaps, findEndpoints, type Credentials } from '../src/openstack/keystone.js';

const { check, expected, ctx } = checkSuite();
const auth = expected.services.find((s) => s.name === 'keystone')?.role ?? 'auth-node';
const keystoneLog = '/var/log/keystone/keystone.log';

check('keystone.api', auth, async (s, t) => {
  t.logOnFailure(auth, 'keystone', keystoneLog);
  try {
    const v = await s.keystone.version();
    if (!/^v3/.test(v.id)) throw new CheckFailure(`Keystone v3 at ${s.authUrl()}`, `version ${v.id}`);
  } catch (err) {
    if (err instanceof CheckFailure) throw err;
    throw new CheckFailure(`the Keystone v3 API answering at ${s.authUrl()}`, describeApiError(err), apiEvidence(err));
  }
});

// Authenticate as a user in a project; say precisely what is wrong: the password, or the role on the project.
async function authenticateWithRole(s: CheckSession, c: Credentials, passwordVar: string): Promise<void> {
  const who = `${c.user} (password ${passwordVar}) in project ${c.project}`;
  let roles: string[];
  try {
    roles = (await s.keystone.token(c)).roles;
  } catch (err) {
    if (err instanceof OpenStackHttpError && err.kind !== 'status') {
      throw new CheckBroken(`Keystone does not answer at ${s.authUrl()} (${err.short}; see keystone.api)`, apiEvidence(err), err);
    }
    if (!(err instanceof OpenStackHttpError) || err.status !== 401) {
      throw new CheckFailure(`${who} to get a token from ${s.authUrl()}`, describeApiError(err), apiEvidence(err));
    }
    // Unscoped: right password but no role on the project, or a wrong password?
    const unscoped = await s.keystone.authenticate({ user: c.user, password: c.password, domain: c.domain }).then(
      () => true,
      () => false,
    );
    throw new CheckFailure(
      `${who} to get a token with the admin role`,
      unscoped
        ? `the password is right but ${c.user} has no role on project ${c.project} (HTTP 401 when scoped)`
        : `HTTP 401: Keystone rejects ${c.user}'s password (it differs from ${passwordVar}, or the user does not exist in domain ${c.domain})`,
      apiEvidence(err),
    );
  }
  if (!roles.includes('admin')) {
    throw new CheckFailure(`${c.user} to have the admin role on project ${c.project}`, `roles: ${roles.join(', ') || 'none'}`);
  }
}

check('keystone.auth', auth, async (s, t) => {
  t.logOnFailure(auth, 'keystone', keystoneLog);
  await authenticateWithRole(s, s.adminCredentials(), expected.admin.passwordVar);
});

for (const svc of expected.services) {
  const u = svc.user;
  if (!u) continue;
  check(`keystone.${svc.name}-user`, auth, async (s, t) => {
    t.logOnFailure(auth, 'keystone', keystoneLog);
    await authenticateWithRole(s, { user: u.name, password: s.variable(u.passwordVar), project: expected.serviceProject, domain: expected.domain }, u.passwordVar);
  });
}

const endpoints = expected.services.flatMap((x) => (x.endpoint ? [x.endpoint] : []));

check('keystone.catalog', 'deployment', async (s, t) => {
  const { token } = await adminClient(s);
  const region = expected.region;
  t.attach(evidence.json('catalog', token.catalog.map((c) => ({ type: c.type, name: c.name, endpoints: c.endpoints.map((e) => `${e.interface} ${e.region_id ?? e.region} ${e.url}`) }))));
  const problems: string[] = [];
  for (const ep of endpoints) {
    const gaps = catalogGaps(token.catalog, ep.type, region);
    if (!gaps.present) problems.push(`no ${ep.type} service`);
    else if (gaps.missing.length > 0) {
      problems.push(`${ep.type} lacks ${gaps.missing.join('/')} in ${region}${gaps.otherRegions.length ? ` (has region ${gaps.otherRegions.join(', ')})` : ''}`);
    }
  }
  if (problems.length > 0) {
    const types = [...new Set(token.catalog.map((c) => c.type))].sort();
    throw new CheckFailure(
      `${endpoints.map((e) => e.type).join(', ')} in the catalog with public/internal/admin endpoints in ${region}`,
      `${problems.join('; ')} (the catalog has: ${types.join(', ') || 'nothing'})`,
    );
  }
});

check('keystone.endpoints', 'deployment', async (s, t) => {
  t.logOnFailure(auth, 'keystone', keystoneLog);
  const { token } = await adminClient(s);
  const wrong: string[] = [];
  for (const ep of endpoints) {
    // Each endpoint points at the host and port the tutorial puts the service on.
    const names = roleNames(ctx.inventory, ep.role);
    for (const [iface, e] of Object.entries(findEndpoints(token.catalog, ep.type, expected.region))) {
      let u: URL;
      try {
        u = new URL(e.url.replace(/[%$]\(\w+\)s/g, 'x'));
      } catch {
        wrong.push(`${ep.type} ${iface} ${e.url} is not a URL`);
        continue;
      }
      const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
      const hostOk = names.includes(u.hostname) || names.includes(u.hostname.split('.')[0] ?? '');
      if (!hostOk || port !== ep.port) wrong.push(`${ep.type} ${iface} ${e.url} (expected ${ep.role}:${ep.port})`);
    }
  }
  // The identity endpoints answer (the other services' endpoints are probed by their own .api checks).
  for (const [iface, e] of Object.entries(findEndpoints(token.catalog, 'identity', expected.region))) {
    try {
      await s.keystone.http.request('GET', s.reachable(e.url), { timeoutMs: 15_000 });
    } catch (err) {
      wrong.push(`identity ${iface} ${e.url}: ${describeApiError(err)}`);
    }
  }
  if (wrong.length > 0) throw new CheckFailure('every endpoint URL on the tutorial\'s host and port, identity endpoints answering', wrong.join('; '));
});

check('keystone.config', auth, async (s, t) => {
  await checkConfig(s, auth, serviceConfig(expected, 'keystone'), t);
});
