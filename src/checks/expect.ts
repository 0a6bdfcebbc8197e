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

/**
 * What a tutorial stage may declare it installs (`<!-- installs: … -->`), in the tutorial's usual order. A check
 * expects a service once a stage that installs it has run; nothing is guessed from a stage's heading.
 */
export const INSTALL_KEYS = [
  'hosts',
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

export type InstallKey = (typeof INSTALL_KEYS)[number];

/** One line per install key, for `check --list` and error hints. */
export const INSTALL_KEY_TITLES: Readonly<Record<InstallKey, string>> = {
  hosts: 'host preparation (names, clocks, machine ids, package sources)',
  mysql: 'MariaDB with every service database and user',
  rabbitmq: 'RabbitMQ with the openstack user',
  keystone: 'Keystone, its catalog and the service project',
  glance: 'Glance (image service) and the tutorial\'s images',
  placement: 'Placement',
  'nova-controller': 'nova-api, nova-scheduler, nova-conductor and the cells',
  neutron: 'neutron-server, the agents and the tutorial\'s networks',
  'nova-compute': 'nova-compute with libvirt/qemu on the compute hosts',
  cinder: 'cinder-api and cinder-scheduler',
  'cinder-volume': 'cinder-volume and its storage backend',
  horizon: 'the dashboard',
};

/** Whether a word is an install key. */
export function isInstallKey(key: string): key is InstallKey {
  return (INSTALL_KEYS as readonly string[]).includes(key);
}

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
  /** The install key of the stage that installs it. */
  stage: InstallKey;
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
  /** What the stages run so far installed (every key when the caller did not say: a complete deployment). */
  installed: ReadonlySet<InstallKey>;
  /** Services installed by the stages run so far (all of them for a complete deployment). */
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

/** The tutorial stage that installs `key` (the first to declare it), for remedies that point at the tutorial. */
export function stageInstalling(key: string, stages: readonly { id: string; installs?: readonly string[] }[]): string | undefined {
  return stages.find((s) => s.installs?.includes(key))?.id;
}

// Compute the expectations for one inventory and what its stages installed so far (everything when not given).
export function expectedFor(inv: Inventory, installedKeys?: readonly string[]): Expected {
  const v = inv.vars;
  const all = services(v);
  const installed = new Set<InstallKey>(installedKeys ? installedKeys.filter(isInstallKey) : INSTALL_KEYS);
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
    installed,
    services: all.filter((s) => installed.has(s.stage)),
    allServices: all,
    computeRoles: computeRoles(inv),
    computeInstalled: installed.has('nova-compute'),
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
