// Helpers shared by the API checks: an admin client whose failure makes a check broken (not failed), and
// the "every endpoint of this service answers an authenticated request" probe.
import { NoEndpointError, type OpenStackClient } from '../openstack/client.js';
import { joinUrl, OpenStackHttpError } from '../openstack/http.js';
import { findEndpoints, INTERFACES, type Token } from '../openstack/keystone.js';
import { CheckBroken, CheckFailure, evidence } from './outcome.js';
import type { CheckSession } from './session.js';
import type { Evidence } from './types.js';

/** A short description of any API error for a one-line message. */
export function describeApiError(err: unknown): string {
  if (err instanceof OpenStackHttpError) return err.kind === 'status' ? `${err.short} from ${err.method} ${err.url}` : `${err.short} (${err.url})`;
  if (err instanceof NoEndpointError) return err.message;
  return err instanceof Error ? err.message : String(err);
}

/** Evidence for an API error (status and body excerpt). */
export function apiEvidence(err: unknown): Evidence[] {
  if (err instanceof OpenStackHttpError) return [evidence.http(err.method, err.url, err.status, err.body || err.message)];
  return [];
}

/** The admin client with a valid token; when admin cannot log in the check cannot run (keystone.auth says why). */
export async function adminClient(s: CheckSession): Promise<{ client: OpenStackClient; token: Token }> {
  const client = s.admin();
  try {
    return { client, token: await client.token() };
  } catch (err) {
    throw new CheckBroken(`the admin cannot log in to Keystone at ${s.authUrl()} (${describeApiError(err)}; see keystone.auth)`, apiEvidence(err), err);
  }
}

/** Run an API call whose failure means the check cannot go on (e.g. listing services when the API is down). */
export async function need<T>(what: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw new CheckBroken(`${what} failed: ${describeApiError(err)}`, apiEvidence(err), err);
  }
}

/**
 * Every catalog endpoint (public, internal, admin) of a service type answers an authenticated GET of `path`
 * with a 2xx status. A missing catalog entry makes this broken (keystone.catalog fails for it).
 */
export async function endpointsAnswer(s: CheckSession, type: string, path: string, serviceName: string): Promise<void> {
  const { token } = await adminClient(s);
  const eps = findEndpoints(token.catalog, type, s.expected.region);
  const present = INTERFACES.filter((i) => eps[i]);
  if (present.length === 0) throw new CheckBroken(`the catalog has no ${type} endpoint in ${s.expected.region} (see keystone.catalog)`);
  const problems: string[] = [];
  const ev: Evidence[] = [];
  await Promise.all(
    present.map(async (iface) => {
      const raw = eps[iface]!.url.replace(/[%$]\((?:project_id|tenant_id)\)s/g, token.projectId ?? '');
      const url = joinUrl(s.reachable(raw), path);
      try {
        await s.keystone.http.request('GET', url, { headers: { 'X-Auth-Token': token.value }, timeoutMs: 30_000 });
      } catch (err) {
        problems.push(`${iface} ${raw}: ${err instanceof OpenStackHttpError ? err.short : describeApiError(err)}`);
        ev.push(...apiEvidence(err));
      }
    }),
  );
  if (problems.length > 0) {
    throw new CheckFailure(`every ${serviceName} endpoint answering an authenticated GET ${path}`, problems.sort().join('; '), ev);
  }
}

/** Poll until `done` says so or the deadline passes; returns the last value and whether it finished. */
export async function poll<T>(get: () => Promise<T>, done: (v: T) => boolean, timeoutMs: number, everyMs = 2000): Promise<{ value: T; finished: boolean }> {
  const deadline = Date.now() + timeoutMs;
  let value = await get();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, everyMs));
    value = await get();
  }
  return { value, finished: done(value) };
}

/** A unique, recognisable name for things a functional check creates (and must delete). */
export function scratchName(what: string): string {
  return `stackcheck-${what}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
}

/**
 * Where to look when Nova puts a server in ERROR, from its fault message: "No valid host" is the scheduler and
 * Placement, a network allocation failure is Neutron, a missing image is Glance — not the compute host the check
 * was about. Undefined when the fault says nothing more specific (the check's own remedy stands).
 */
export function serverFaultRemedy(fault: string | undefined): { stage: string; text: string } | undefined {
  if (!fault) return undefined;
  if (/No valid host was found/i.test(fault)) {
    return {
      stage: 'placement',
      text: 'the scheduler found no compute host for the request: openstack resource provider list / inventory list (placement.provider), nova-scheduler.log on api-node, and nova-manage cell_v2 discover_hosts for an unmapped host',
    };
  }
  if (/allocate the network|VirtualInterfaceCreateException|PortBinding|binding_failed|vif_type=binding_failed/i.test(fault)) {
    return {
      stage: 'neutron',
      text: 'Neutron could not plug the port: the Linux bridge agent on the compute host (neutron.linuxbridge-agent), and [nova] in neutron.conf (port events reach Nova)',
    };
  }
  if (/image .*(could not be found|not found)|glance/i.test(fault)) {
    return { stage: 'glance', text: 'the image could not be read: glance-api on image-node, and [glance] in nova.conf on the compute host' };
  }
  if (/IndexError|machine-id/i.test(fault)) {
    return { stage: 'hosts', text: 'an empty /etc/machine-id breaks the spawn: systemd-machine-id-setup on the compute host' };
  }
  return undefined;
}
