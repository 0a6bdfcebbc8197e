// The one list of every conformance check: id, component, severity, grading weight, mutating flag, remedy.
import type { CheckMeta, Severity } from './types.js';
import { StackcheckError } from '../error.js';
import type { InstallKey } from './expect.js';

type Component = CheckMeta['component'];

// Build one entry (keeps the table below one line per check). `stage` is the install key of the stage that sets up
// what the check looks at (its remedy points there); `also` names other installs without which it cannot run.
function c(
  id: string,
  title: string,
  severity: Severity,
  weight: number,
  stage: InstallKey,
  text: string,
  opts: { mutating?: boolean; also?: InstallKey[] } = {},
): CheckMeta {
  const component = id.split('.')[0] as Component;
  const needs = [stage, ...(opts.also ?? []).filter((k) => k !== stage)];
  return { id, component, title, severity, weight, mutating: opts.mutating ?? false, needs, remedy: { stage, text } };
}

const MUTATING = { mutating: true } as const;

const SERVICE_DBS = ['keystone', 'glance', 'placement', 'nova', 'neutron', 'cinder'] as const;
const SERVICE_USERS = ['glance', 'placement', 'nova', 'neutron', 'cinder'] as const;
const STAGE_OF = {
  keystone: 'keystone',
  glance: 'glance',
  placement: 'placement',
  nova: 'nova-controller',
  neutron: 'neutron',
  cinder: 'cinder',
} as const satisfies Record<(typeof SERVICE_DBS)[number], InstallKey>;

export const CHECKS: readonly CheckMeta[] = [
  // MariaDB
  c('mysql.server', 'MariaDB answers on the database address', 'blocker', 5, 'mysql',
    'systemctl status mariadb; set bind-address to the db-node address in /etc/mysql/mariadb.conf.d/99-openstack.cnf and restart'),
  c('mysql.databases', "every service database of the tutorial exists", 'critical', 3, 'mysql',
    'CREATE DATABASE IF NOT EXISTS <name> for keystone, glance, placement, nova_api, nova, nova_cell0, neutron, cinder'),
  c('mysql.users', 'every service user logs in with the inventory password and sees its databases', 'critical', 3, 'mysql',
    "GRANT ALL PRIVILEGES ON <db>.* TO '<user>'@'%' IDENTIFIED BY '<password from the inventory>'; the same password in the service's [database] connection"),
  c('mysql.grants', 'each service user holds ALL on its databases from the hosts that use it', 'critical', 2, 'mysql',
    "SHOW GRANTS FOR '<user>'@'%'; GRANT ALL PRIVILEGES ON <db>.* TO '<user>'@'%' (a more specific account, e.g. '<user>'@'<host address>' or an anonymous one, wins over '%': give it the grants or drop it)"),
  c('mysql.reachable', 'the host reaches MariaDB on the database address (TCP, greeting)', 'critical', 3, 'mysql',
    'bind-address = <DB_NODE_IP> in /etc/mysql/mariadb.conf.d/99-openstack.cnf and restart mariadb; open TCP 3306 between the hosts; a blocked host: mysqladmin flush-hosts'),
  ...SERVICE_DBS.map((s) =>
    c(`mysql.${s}-schema`, `the ${s} schema is migrated to the installed package's head and readable by ${s}`, 'critical', 2, STAGE_OF[s],
      s === 'nova' ? 'nova-manage api_db sync; nova-manage cell_v2 map_cell0; nova-manage db sync' : `su -s /bin/sh -c "${s}-manage db sync" ${s}`),
  ),
  // RabbitMQ
  c('rabbitmq.user', 'the openstack user logs in to RabbitMQ', 'blocker', 5, 'rabbitmq',
    'systemctl status rabbitmq-server; rabbitmqctl add_user openstack <RABBIT_PASS>; rabbitmqctl set_permissions openstack ".*" ".*" ".*"'),
  c('rabbitmq.permissions', 'the openstack user may configure, write and read everything on its vhost', 'critical', 2, 'rabbitmq',
    'rabbitmqctl list_user_permissions openstack; rabbitmqctl set_permissions -p / openstack ".*" ".*" ".*"'),
  c('rabbitmq.reachable', 'the host reaches RabbitMQ on the message-queue address (TCP)', 'critical', 3, 'rabbitmq',
    'systemctl status rabbitmq-server; ss -ltn | grep 5672 on the RabbitMQ host; open TCP 5672 between the hosts'),
  c('rabbitmq.nova-conductor', 'nova-conductor consumes its RPC queue', 'critical', 2, 'nova-controller',
    'systemctl status nova-conductor; check transport_url and [database] in /etc/nova/nova.conf'),
  c('rabbitmq.nova-scheduler', 'nova-scheduler consumes its RPC queue', 'critical', 2, 'nova-controller',
    'systemctl status nova-scheduler; check transport_url in /etc/nova/nova.conf'),
  c('rabbitmq.nova-compute', 'nova-compute consumes compute.<host>', 'critical', 2, 'nova-compute',
    'systemctl status nova-compute; check transport_url in /etc/nova/nova.conf on the compute host'),
  c('rabbitmq.neutron-server', 'neutron-rpc-server consumes q-plugin', 'critical', 2, 'neutron',
    'systemctl status neutron-rpc-server; check transport_url in /etc/neutron/neutron.conf'),
  c('rabbitmq.neutron-linuxbridge-agent', 'the Linux bridge agent consumes q-agent-notifier-port-update.<host>', 'normal', 1, 'neutron',
    'systemctl status neutron-linuxbridge-agent; check transport_url in /etc/neutron/neutron.conf on that host'),
  c('rabbitmq.neutron-dhcp-agent', 'the DHCP agent consumes dhcp_agent.<host>', 'normal', 1, 'neutron',
    'systemctl status neutron-dhcp-agent; check transport_url in /etc/neutron/neutron.conf'),
  c('rabbitmq.neutron-l3-agent', 'the L3 agent consumes l3_agent.<host>', 'normal', 1, 'neutron',
    'systemctl status neutron-l3-agent; check transport_url in /etc/neutron/neutron.conf'),
  c('rabbitmq.cinder-scheduler', 'cinder-scheduler consumes its RPC queue', 'critical', 2, 'cinder',
    'systemctl status cinder-scheduler; check transport_url in /etc/cinder/cinder.conf'),
  c('rabbitmq.cinder-volume', 'cinder-volume consumes its queue (cinder-volume.<host>@<CINDER_BACKEND>, or the cinder-volume topic)', 'critical', 2, 'cinder-volume',
    'systemctl status cinder-volume; check transport_url and enabled_backends in /etc/cinder/cinder.conf'),
  // Keystone
  c('keystone.api', 'the Keystone v3 API answers', 'blocker', 3, 'keystone',
    'systemctl status keystone (uwsgi); check /var/log/keystone/keystone.log'),
  c('keystone.auth', 'admin gets a token for the admin project with the admin role', 'blocker', 3, 'keystone',
    'keystone-manage bootstrap --bootstrap-password <ADMIN_PASS> … --bootstrap-region-id RegionOne'),
  ...SERVICE_USERS.map((s) =>
    c(`keystone.${s}-user`, `the ${s} user authenticates in the service project with the admin role`, 'critical', 2, STAGE_OF[s],
      `openstack user create --domain default --password <${s.toUpperCase()}_PASS> ${s}; openstack role add --project service --user ${s} admin; the same password in [keystone_authtoken] of /etc/${s}/${s === 'glance' ? 'glance-api' : s}.conf`),
  ),
  c('keystone.catalog', "the catalog has every service the tutorial installed so far, each with public/internal/admin endpoints in the region", 'critical', 3, 'keystone',
    'openstack service create --name <name> <type>; openstack endpoint create --region RegionOne <type> public|internal|admin <url>'),
  c('keystone.endpoints', 'every catalog endpoint points at the host and port the tutorial gives, and the identity endpoints answer', 'critical', 2, 'keystone',
    'openstack endpoint list; openstack endpoint set --url http://<host>:<port>/… <endpoint id>'),
  // Service configuration files against the inventory (read on each host; secrets compared there, never shown)
  ...(['keystone', 'glance', 'placement', 'nova', 'neutron', 'cinder'] as const).map((svc) =>
    c(`${svc}.config`, `${svc}'s configuration uses the tutorial's database, message queue and Keystone credentials`, 'critical', 2, STAGE_OF[svc],
      `set what the message names (${
        {
          keystone: '[database] connection of /etc/keystone/keystone.conf',
          glance: '[database] connection and [keystone_authtoken] of /etc/glance/glance-api.conf',
          placement: '[placement_database] connection and [keystone_authtoken] of /etc/placement/placement.conf',
          nova: '/etc/nova/nova.conf: databases, transport_url, [keystone_authtoken], [service_user], [placement], [glance], [neutron] with the metadata secret, [cinder]; on compute hosts also [vnc] and, with Ceph, [libvirt] rbd_* and the libvirt secret',
          neutron: "/etc/neutron/neutron.conf: database, transport_url, [keystone_authtoken], [nova]; metadata_agent.ini: Nova's address and the metadata secret; linuxbridge_agent.ini: local_ip",
          cinder: '/etc/cinder/cinder.conf: database, transport_url, [keystone_authtoken]; on the volume host the backend (RBD pool, user, secret uuid, keyring; or LVM group and iSCSI address)',
        }[svc]
      }) in the file on the host it names, as the tutorial writes it with the inventory's values; then restart the services that read it (a file changed after they started is not in effect)`),
  ),
  // Glance
  c('glance.api', 'every Glance endpoint answers', 'critical', 2, 'glance', 'systemctl status glance-api; check /var/log/glance/glance-api.log'),
  c('glance.images', 'the images the tutorial registers exist and are active', 'normal', 2, 'glance',
    'openstack image create --disk-format qcow2 --container-format bare --public --file <image> <name>'),
  c('glance.upload', 'an uploaded image becomes active and downloads back unchanged', 'critical', 3, 'glance',
    'check [glance_store] filesystem_store_datadir in /etc/glance/glance-api.conf and its permissions', MUTATING),
  // Nova
  c('nova.api', 'every Nova endpoint answers', 'critical', 2, 'nova-controller', 'systemctl status nova-api; check /var/log/nova/nova-api.log'),
  c('nova.conductor', 'nova-conductor is up and enabled', 'critical', 2, 'nova-controller',
    'systemctl status nova-conductor; check transport_url and [database] connection in /etc/nova/nova.conf'),
  c('nova.scheduler', 'nova-scheduler is up and enabled', 'critical', 2, 'nova-controller',
    'systemctl status nova-scheduler; check transport_url in /etc/nova/nova.conf'),
  c('nova.compute-up', 'nova-compute is up and enabled', 'blocker', 3, 'nova-compute',
    'systemctl status nova-compute; check transport_url in /etc/nova/nova.conf'),
  c('nova.hypervisor', 'the compute host is a QEMU hypervisor', 'critical', 2, 'nova-compute',
    'install nova-compute-qemu; [libvirt] virt_type = qemu in /etc/nova/nova-compute.conf'),
  c('nova.cells', "cell0 and cell1 map to the tutorial's databases and RabbitMQ; nova-status upgrade check reports no failure", 'critical', 2, 'nova-controller',
    'nova-manage cell_v2 list_cells --verbose; nova-manage cell_v2 map_cell0; nova-manage cell_v2 create_cell --name=cell1 --verbose (a wrong URL: nova-manage cell_v2 update_cell --cell_uuid <uuid> --database_connection <url> --transport-url <url>)'),
  c('nova.host-mapping', 'the compute host is mapped to a cell', 'critical', 2, 'nova-compute',
    'nova-manage cell_v2 discover_hosts --verbose (on api-node, after nova-compute started)'),
  c('nova.boot', 'a test server boots to ACTIVE on the host and is deleted', 'blocker', 5, 'nova-compute',
    'see /var/log/nova/nova-compute.log on the host; check the image, flavor and network exist', { mutating: true, also: ['glance', 'neutron'] }),
  // Placement
  c('placement.api', 'every Placement endpoint answers', 'critical', 2, 'placement',
    'check the placement-api site under Apache/uwsgi and /var/log/placement/placement-api.log'),
  c('placement.provider', 'the compute host is a resource provider with VCPU, MEMORY_MB and DISK_GB', 'critical', 2, 'nova-compute',
    'check [placement] in /etc/nova/nova.conf on the compute host and restart nova-compute'),
  // Neutron
  c('neutron.api', 'every Neutron endpoint answers', 'critical', 2, 'neutron', 'systemctl status neutron-api neutron-rpc-server; check /var/log/neutron/neutron-api.log'),
  c('neutron.dhcp-agent', 'the DHCP agent is alive', 'critical', 2, 'neutron', 'systemctl status neutron-dhcp-agent'),
  c('neutron.l3-agent', 'the L3 agent is alive', 'critical', 2, 'neutron', 'systemctl status neutron-l3-agent'),
  c('neutron.metadata-agent', 'the metadata agent is alive', 'normal', 1, 'neutron', 'systemctl status neutron-metadata-agent; check metadata_proxy_shared_secret'),
  c('neutron.linuxbridge-agent', 'the Linux bridge agent is alive on the host', 'critical', 2, 'neutron',
    'systemctl status neutron-linuxbridge-agent; check physical_interface_mappings in linuxbridge_agent.ini'),
  c('neutron.linuxbridge-retry', 'the Linux bridge agent is not stuck retrying a failing command (so it wires new ports)', 'critical', 2, 'neutron',
    'the drop-in /etc/systemd/system/neutron-linuxbridge-agent.service.d/ebtables.conf clears its ebtables chains before it starts: add it, systemctl daemon-reload, systemctl restart neutron-linuxbridge-agent'),
  c('neutron.networks', "the tutorial's networks, subnets and router exist", 'critical', 2, 'neutron',
    'openstack network create / subnet create / router create as in the tutorial'),
  c('neutron.floating-pool', 'the external subnet allocates the tutorial\'s floating address range', 'normal', 2, 'neutron',
    'openstack subnet create --allocation-pool start=<FLOATING_IP_START>,end=<FLOATING_IP_END> on the external network'),
  c('neutron.router-ports', "the router has an ACTIVE interface on the self-service subnet and its gateway on the provider network", 'critical', 2, 'neutron',
    'openstack router add subnet router selfservice-v4; openstack router set --external-gateway provider router; a port not ACTIVE: see neutron-l3-agent.log'),
  c('neutron.dhcp-namespace', "a dnsmasq serves each DHCP-enabled network inside its qdhcp- namespace on the network host", 'critical', 2, 'neutron',
    'systemctl status neutron-dhcp-agent; check interface_driver and dhcp_driver in /etc/neutron/dhcp_agent.ini; ip netns; see neutron-dhcp-agent.log'),
  c('neutron.bridge-mapping', 'the provider network is mapped to the provider interface (provider0), which is up, in the file and in the running agent', 'critical', 2, 'neutron',
    'physical_interface_mappings = provider:provider0 in [linux_bridge] of /etc/neutron/plugins/ml2/linuxbridge_agent.ini on network-node; systemctl status provider-veth; restart neutron-linuxbridge-agent'),
  c('neutron.floating-ip', 'a floating IP attaches to a running server and detaches', 'critical', 3, 'neutron',
    'check the router has an external gateway and an interface on the private subnet; see neutron-l3-agent.log', { mutating: true, also: ['nova-compute', 'glance'] }),
  // Data plane (one instance, end to end; each failure names the hop that broke)
  c('dataplane.end-to-end', 'an instance gets DHCP and metadata, answers ping and HTTP on its floating IP from outside, its security group is enforced, and (with Cinder) it sees an attached volume', 'critical', 5, 'neutron',
    'follow the hop the message names: DHCP/metadata/L3 agents and bridge mapping in the Neutron stage, security group rules in "First instance", the test image in the Glance stage', { mutating: true, also: ['nova-compute', 'glance'] }),
  // Cinder
  c('cinder.api', 'every Cinder endpoint answers', 'critical', 2, 'cinder', 'systemctl status cinder-api; check /var/log/cinder/cinder-api.log'),
  c('cinder.scheduler', 'cinder-scheduler is up', 'critical', 2, 'cinder', 'systemctl status cinder-scheduler; check transport_url in /etc/cinder/cinder.conf'),
  c('cinder.volume', 'cinder-volume is up', 'critical', 2, 'cinder-volume', 'systemctl status cinder-volume; check enabled_backends in /etc/cinder/cinder.conf'),
  c('cinder.attach', 'a volume becomes available, attaches to a server, detaches and is deleted', 'critical', 3, 'cinder-volume',
    'see /var/log/cinder/cinder-volume.log and nova-compute.log', { mutating: true, also: ['nova-compute', 'glance', 'neutron'] }),
  // QEMU on compute hosts
  c('qemu.instances', 'one qemu process per ACTIVE instance on the host, none orphaned', 'critical', 2, 'nova-compute',
    'virsh list --all; nova reboot --hard <server>; kill orphaned qemu-system processes'),
  c('qemu.virt-type', 'libvirt virt_type is qemu', 'normal', 1, 'nova-compute', 'set [libvirt] virt_type = qemu in /etc/nova/nova-compute.conf and restart nova-compute'),
  // Host pitfalls
  c('host.machine-id', '/etc/machine-id holds a machine id', 'critical', 2, 'hosts',
    'systemd-machine-id-setup (an empty /etc/machine-id makes instance spawn fail with IndexError)'),
  c('host.instances-space', 'the instances directory has free space', 'critical', 2, 'nova-compute',
    'free space in /var/lib/nova/instances (df -h /var/lib/nova/instances; remove stray files)'),
  c('host.names', "every host's name resolves, on this host, to the address the inventory gives it", 'critical', 2, 'hosts',
    'add "<address> <name>" for every host to /etc/hosts on every host (and remove a 127.0.1.1 line naming the host itself)'),
  c('host.clock', "the host's clock agrees with the other hosts' (within CLOCK_TOLERANCE_S, 3 s by default)", 'critical', 2, 'hosts',
    'timedatectl set-ntp true; check /etc/systemd/timesyncd.conf and timedatectl timesync-status (a container shares its host\'s clock: fix it there)'),
  // Horizon
  c('horizon.page', 'the dashboard login page answers', 'normal', 2, 'horizon', 'systemctl status apache2; check /var/log/apache2/error.log'),
  c('horizon.login', 'the admin logs in to the dashboard', 'normal', 2, 'horizon',
    'check OPENSTACK_HOST and OPENSTACK_KEYSTONE_URL in /etc/openstack-dashboard/local_settings.py'),
];

const BY_ID = new Map(CHECKS.map((m) => [m.id, m]));

/**
 * Group ids a tutorial may reference in `<!-- checks: … -->` for several checks at once. Each expands to
 * the checks of the group; checks about things a later stage installs produce no result before that stage.
 */
export const CHECK_GROUPS: Readonly<Record<string, readonly string[]>> = {
  'nova.services': ['nova.conductor', 'nova.scheduler', 'nova.compute-up'],
  'nova.hypervisors': ['nova.hypervisor'],
  'placement.providers': ['placement.provider'],
  'neutron.agents': ['neutron.dhcp-agent', 'neutron.l3-agent', 'neutron.metadata-agent', 'neutron.linuxbridge-agent', 'neutron.linuxbridge-retry'],
  'rabbitmq.consumers': CHECKS.filter((m) => m.component === 'rabbitmq' && !['rabbitmq.user', 'rabbitmq.permissions', 'rabbitmq.reachable'].includes(m.id)).map((m) => m.id),
  'cinder.services': ['cinder.scheduler', 'cinder.volume'],
  'cinder.volume-attach': ['cinder.attach'],
  'qemu.processes': ['qemu.instances'],
  // Every check that changes nothing on the target, of every component: the end of a tutorial checks everything.
  'read-only': CHECKS.filter((m) => !m.mutating).map((m) => m.id),
};

/** Whether a name is a known check id or group (what a tutorial may reference). */
export function isKnownCheck(name: string): boolean {
  return BY_ID.has(name) || name in CHECK_GROUPS;
}

/** The metadata of a check id, or an error naming the unknown id. */
export function checkMeta(id: string): CheckMeta {
  const m = BY_ID.get(id);
  if (!m) throw new StackcheckError('E_INTERNAL', `unknown check id "${id}" (not in src/checks/registry.ts)`);
  return m;
}

export const COMPONENTS: readonly Component[] = ['mysql', 'rabbitmq', 'keystone', 'glance', 'nova', 'placement', 'neutron', 'cinder', 'qemu', 'horizon', 'host', 'dataplane'];

// Expand `--only` (ids, components, `component.*` globs) into check ids; unknown names are input errors.
export function selectChecks(only: readonly string[] | undefined): string[] {
  if (!only || only.length === 0) return CHECKS.map((m) => m.id);
  const out = new Set<string>();
  const unknown: string[] = [];
  for (const raw of only) {
    const name = raw.trim();
    if (!name) continue;
    const glob = name.includes('*') ? new RegExp(`^${name.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`) : undefined;
    const group = CHECK_GROUPS[name];
    const matched = CHECKS.filter((m) => m.id === name || m.component === name || (glob?.test(m.id) ?? false) || (group?.includes(m.id) ?? false));
    if (matched.length === 0) unknown.push(name);
    for (const m of matched) out.add(m.id);
  }
  if (unknown.length > 0) {
    throw new StackcheckError('E_ARGS', `unknown check id or component: ${unknown.join(', ')}`, {
      hint: `components: ${COMPONENTS.join(', ')}; ids like ${CHECKS.slice(0, 3).map((m) => m.id).join(', ')} (stackcheck check --list)`,
    });
  }
  return CHECKS.filter((m) => out.has(m.id)).map((m) => m.id);
}
