// What the tutorial says the deployment must look like, computed from the inventory alone (never from
// what the deployment reports about itself): service databases, users, catalog entries, queues, agents.
import type { HostSpec, Inventory } from '../inventory/types.js';

/** Default variable names; a tutorial may rename them through the inventory (same names as the install guide). */
export const DEFAULT_ROLES = {
  db: 'db-node',
  auth: 'auth-node',
  image: 'image-node',
  api: 'api-node',
  network: 'network-node',
  volume: 'volume-node',
} as const;

export type ServiceName = 'keystone' | 'glance' | 'placement' | 'nova' | 'neutron' | 'cinder' | 'horizon';

/** Tutorial stages in order; a check run "after stage S" expects only what stages up to S install. */
export const STAGE_ORDER = [
  'overview',
  'mysql',
  'rabbitmq',
  'keystone',
  'glance',
  'placement',
  'nova-controller',
  'neutron',
  'nova-compute',
  'cinder',
  'cinder-volume',
  'horizon',
] as const;

export interface ExpectedDatabase {
  /** Schemas owned by this service's user. */
  schemas: string[];
  user: string;
  passwordVar: string;
  /** Tables that exist once `db sync` ran (one per schema). */
  tables: Record<string, string[]>;
  /** Role of the host that connects with these credentials. */
  clientRole: string;
}

export interface ExpectedEndpoint {
  type: string;
  name: string;
  role: string;
  port: number;
}

export interface ExpectedService {
  name: ServiceName;
  stage: string;
  /** Role that runs the API. */
  role: string;
  db?: ExpectedDatabase;
  /** Keystone service user (in the service project), with the variable holding its password. */
  user?: { name: string; passwordVar: string };
  endpoint?: ExpectedEndpoint;
}

// The tutorial's services, with the roles that host them (roles overridable through `<SERVICE>_ROLE` vars).
function services(vars: Record<string, string>): ExpectedService[] {
  const role = (svc: string, dflt: string): string => vars[`${svc.toUpperCase()}_ROLE`] ?? dflt;
  const auth = role('keystone', DEFAULT_ROLES.auth);
  const image = role('glance', DEFAULT_ROLES.image);
  const api = role('nova', DEFAULT_ROLES.api);
  const placement = role('placement', api);
  const network = role('neutron', DEFAULT_ROLES.network);
  // Cinder's API and scheduler run on the api node; cinder-volume on volume-node (`CINDER_VOLUME_ROLE`).
  const volume = role('cinder', api);
  const horizon = role('horizon', api);
  return [
    {
      name: 'keystone',
      stage: 'keystone',
      role: auth,
      db: { schemas: ['keystone'], user: 'keystone', passwordVar: 'KEYSTONE_DBPASS', tables: { keystone: ['user', 'project', 'endpoint'] }, clientRole: auth },
      endpoint: { type: 'identity', name: 'keystone', role: auth, port: 5000 },
    },
    {
      name: 'glance',
      stage: 'glance',
      role: image,
      db: { schemas: ['glance'], user: 'glance', passwordVar: 'GLANCE_DBPASS', tables: { glance: ['images', 'image_locations'] }, clientRole: image },
      user: { name: 'glance', passwordVar: 'GLANCE_PASS' },
      endpoint: { type: 'image', name: 'glance', role: image, port: 9292 },
    },
    {
      name: 'placement',
      stage: 'placement',
      role: placement,
      db: { schemas: ['placement'], user: 'placement', passwordVar: 'PLACEMENT_DBPASS', tables: { placement: ['resource_providers', 'inventories'] }, clientRole: placement },
      user: { name: 'placement', passwordVar: 'PLACEMENT_PASS' },
      endpoint: { type: 'placement', name: 'placement', role: placement, port: 8778 },
    },
    {
      name: 'nova',
      stage: 'nova-controller',
      role: api,
      db: {
        schemas: ['nova_api', 'nova', 'nova_cell0'],
        user: 'nova',
        passwordVar: 'NOVA_DBPASS',
        tables: { nova_api: ['cell_mappings', 'host_mappings'], nova: ['instances', 'compute_nodes'], nova_cell0: ['instances'] },
        clientRole: api,
      },
      user: { name: 'nova', passwordVar: 'NOVA_PASS' },
      endpoint: { type: 'compute', name: 'nova', role: api, port: 8774 },
    },
    {
      name: 'neutron',
      stage: 'neutron',
      role: network,
      db: { schemas: ['neutron'], user: 'neutron', passwordVar: 'NEUTRON_DBPASS', tables: { neutron: ['networks', 'ports', 'agents'] }, clientRole: network },
      user: { name: 'neutron', passwordVar: 'NEUTRON_PASS' },
      endpoint: { type: 'network', name: 'neutron', role: network, port: 9696 },
    },
    {
      name: 'cinder',
      stage: 'cinder',
      role: volume,
      db: { schemas: ['cinder'], user: 'cinder', passwordVar: 'CINDER_DBPASS', tables: { cinder: ['volumes', 'services'] }, clientRole: volume },
      user: { name: 'cinder', passwordVar: 'CINDER_PASS' },
      endpoint: { type: 'volumev3', name: 'cinderv3', role: volume, port: 8776 },
    },
    { name: 'horizon', stage: 'horizon', role: horizon },
  ];
}

/** Everything the checks compare against, derived from the inventory (and the stage, when given). */
export interface Expected {
  region: string;
  dbRole: string;
  mqRole: string;
  rabbit: { user: string; passwordVar: string; vhost: string };
  admin: { user: string; project: string; passwordVar: string };
  serviceProject: string;
  domain: string;
  /** Services installed by the stages up to `stage` (all of them without a stage). */
  services: ExpectedService[];
  /** Every service of the tutorial, whatever the stage (the MariaDB stage creates all their databases). */
  allServices: ExpectedService[];
  /** Compute hosts: roles `compute-N` / `compute<N>` / `hypervisor-N` (or the `COMPUTE_ROLES` var, comma-separated). */
  computeRoles: string[];
  /** nova-compute is installed by the stages run so far (compute-host checks only then). */
  computeInstalled: boolean;
  /** Role that runs cinder-volume. */
  cinderVolumeRole: string;
  /** Image the tutorial registers, flavor and network used by functional checks. */
  image: string;
  flavor: string;
  network: string;
  externalNetwork: string;
  router: string;
  /** First and last floating address of the external subnet's pool, when the tutorial sets them. */
  floatingRange?: { start: string; end: string };
  horizonUrl: string;
}

const COMPUTE_ROLE = /^(compute-?\d+|hypervisor-?\d+)$/;

// Which inventory roles are compute hosts (expected nova-compute, qemu, a resource provider).
export function computeRoles(inv: Inventory): string[] {
  const listed = inv.vars.COMPUTE_ROLES;
  if (listed) return listed.split(',').map((s) => s.trim()).filter(Boolean);
  return Object.keys(inv.hosts)
    .filter((r) => COMPUTE_ROLE.test(r))
    .sort();
}

/** Which of our stage keys a tutorial stage id is (`keystone-on-auth-node` → `keystone`), by the words in it. */
const STAGE_WORDS: [string, RegExp][] = [
  ['cinder-volume', /cinder-volume|ceph|lvm/],
  ['nova-compute', /nova-compute|compute-node|hypervisor/],
  ['nova-controller', /nova/],
  ['overview', /overview|hosts|prerequisite/],
  ['mysql', /mysql|mariadb|database/],
  ['rabbitmq', /rabbit|message-queue/],
  ['keystone', /keystone|identity/],
  ['glance', /glance|image/],
  ['placement', /placement/],
  ['neutron', /neutron|network/],
  ['cinder', /cinder|volume|block-storage/],
  ['horizon', /horizon|dashboard/],
];

/** Our stage key for a tutorial stage id, when its words say which one it is. */
export function stageKey(stageId: string): string | undefined {
  if ((STAGE_ORDER as readonly string[]).includes(stageId)) return stageId;
  return STAGE_WORDS.find(([, re]) => re.test(stageId))?.[0];
}

/** The tutorial's stage id for one of our stage keys (`nova-controller` → `placement-and-the-nova-controller-on-api-node`). */
export function tutorialStageFor(key: string, stageIds: readonly string[]): string | undefined {
  return stageIds.find((id) => stageKey(id) === key) ?? stageIds.find((id) => id.split('-').includes(key));
}

// Whether a service's stage comes at or before the given tutorial stage (an unknown stage: everything counts).
export function stageReached(serviceStage: string, stage: string | undefined): boolean {
  if (!stage) return true;
  const order: readonly string[] = STAGE_ORDER;
  const key = stageKey(stage);
  const at = key ? order.indexOf(key) : -1;
  const svc = order.indexOf(serviceStage);
  if (at < 0 || svc < 0) return true;
  return svc <= at;
}

// Compute the expectations for one inventory (and optionally the stage just finished).
export function expectedFor(inv: Inventory, stage?: string): Expected {
  const v = inv.vars;
  const all = services(v);
  // The tutorial's provider subnet allocates 203.0.113.101-200 (stage "Neutron"); an inventory may say otherwise.
  const start = v.FLOATING_IP_START ?? '203.0.113.101';
  const end = v.FLOATING_IP_END ?? '203.0.113.200';
  const api = all.find((s) => s.name === 'horizon')?.role ?? DEFAULT_ROLES.api;
  const apiHost = inv.hosts[api];
  return {
    region: v.REGION ?? 'RegionOne',
    dbRole: v.DB_ROLE ?? DEFAULT_ROLES.db,
    mqRole: v.RABBIT_ROLE ?? v.DB_ROLE ?? DEFAULT_ROLES.db,
    rabbit: { user: v.RABBIT_USER ?? 'openstack', passwordVar: 'RABBIT_PASS', vhost: v.RABBIT_VHOST ?? '/' },
    admin: { user: v.ADMIN_USER ?? 'admin', project: v.ADMIN_PROJECT ?? 'admin', passwordVar: 'ADMIN_PASS' },
    serviceProject: v.SERVICE_PROJECT ?? 'service',
    domain: v.DOMAIN ?? 'Default',
    services: all.filter((s) => stageReached(s.stage, stage)),
    allServices: all,
    computeRoles: computeRoles(inv),
    computeInstalled: stageReached('nova-compute', stage),
    cinderVolumeRole: v.CINDER_VOLUME_ROLE ?? DEFAULT_ROLES.volume,
    image: v.IMAGE_NAME ?? 'tiny',
    flavor: v.FLAVOR_NAME ?? 'm1.tiny',
    network: v.PRIVATE_NETWORK ?? 'selfservice',
    externalNetwork: v.PUBLIC_NETWORK ?? 'provider',
    router: v.ROUTER_NAME ?? 'router',
    ...(start && end ? { floatingRange: { start, end } } : {}),
    horizonUrl: v.HORIZON_URL ?? `http://${apiHost?.address ?? api}/horizon/`,
  };
}

/** The address a role's services listen on: `<ROLE>_IP` var (db-node → DB_NODE_IP), else the SSH address. */
export function roleAddress(inv: Inventory, role: string): string | undefined {
  const varName = `${role.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_IP`;
  return inv.vars[varName] ?? inv.hosts[role]?.address;
}

/** Names a role may appear under in URLs and service host fields. */
export function roleNames(inv: Inventory, role: string): string[] {
  const h: HostSpec | undefined = inv.hosts[role];
  const names = [role, roleAddress(inv, role), h?.address, h?.hostname].filter((x): x is string => !!x);
  return [...new Set(names)];
}

/** The hostname a service on this role registers under (nova `host`, queue suffixes). */
export function serviceHost(inv: Inventory, role: string): string {
  return inv.hosts[role]?.hostname ?? role;
}

/** Whether a name reported by a service (possibly an FQDN) designates this role's host. */
export function sameHost(inv: Inventory, role: string, reported: string): boolean {
  const short = reported.split('.')[0] ?? reported;
  return roleNames(inv, role).some((n) => n === reported || n === short);
}
