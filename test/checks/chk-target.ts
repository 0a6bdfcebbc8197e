// A real target for the MariaDB / RabbitMQ / Keystone check tests, brought up by the tests themselves: a
// one-container lab "chk" (src/lab, bridge chkbr0, 10.97.0.0/24) whose host plays db-node and auth-node,
// provisioned as the tutorial's stages 2-4 do (MariaDB, RabbitMQ, Keystone) plus a glance service user and
// image endpoints, so Keystone checks have a service to look at. Idempotent: a second run only re-asserts state.
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { labUp } from '../../src/lab/index.js';
import { labDir } from '../../src/lab/state.js';
import type { Inventory } from '../../src/inventory/types.js';
import { SshPool } from '../../src/ssh/pool.js';
import { remoteCommand, type ExecResult } from '../../src/ssh/exec.js';

const SPEC = resolve(fileURLToPath(new URL('.', import.meta.url)), 'fixtures/chk-lab.yaml');
const ADDRESS = '10.97.0.11';

/** The passwords of the test deployment (a throw-away lab; still treated as secrets by the inventory). */
export const CHK_VARS: Record<string, string> = {
  DB_NODE_IP: ADDRESS,
  AUTH_NODE_IP: ADDRESS,
  REGION: 'RegionOne',
  RABBIT_PASS: 'rabbit-Chk-4711',
  ADMIN_PASS: 'admin-Chk-4711',
  KEYSTONE_DBPASS: 'keystoneDb-Chk-4711',
  GLANCE_DBPASS: 'glanceDb-Chk-4711',
  GLANCE_PASS: 'glance-Chk-4711',
  PLACEMENT_DBPASS: 'placementDb-Chk-4711',
  NOVA_DBPASS: 'novaDb-Chk-4711',
  NEUTRON_DBPASS: 'neutronDb-Chk-4711',
  CINDER_DBPASS: 'cinderDb-Chk-4711',
  // the image service "lives" on this host too (nothing listens there: only its catalog entry matters)
  IMAGE_NODE_IP: ADDRESS,
  GLANCE_ROLE: 'db-node',
};

export interface ChkTarget {
  inventory: Inventory;
  /** Run a root shell script on the target; throws with its output when it fails and `check` is set. */
  sh(script: string, opts?: { check?: boolean; timeoutMs?: number }): Promise<ExecResult>;
  close(): Promise<void>;
}

// The provisioning script: the tutorial's MariaDB, RabbitMQ and Keystone stages, as one idempotent script.
function provisionScript(v: Record<string, string>): string {
  const dbs: [string, string, string[]][] = [
    ['keystone', v.KEYSTONE_DBPASS!, ['keystone']],
    ['glance', v.GLANCE_DBPASS!, ['glance']],
    ['placement', v.PLACEMENT_DBPASS!, ['placement']],
    ['nova', v.NOVA_DBPASS!, ['nova_api', 'nova', 'nova_cell0']],
    ['neutron', v.NEUTRON_DBPASS!, ['neutron']],
    ['cinder', v.CINDER_DBPASS!, ['cinder']],
  ];
  const sql = dbs
    .flatMap(([user, pass, schemas]) => schemas.flatMap((s) => [`CREATE DATABASE IF NOT EXISTS ${s};`, `GRANT ALL PRIVILEGES ON ${s}.* TO '${user}'@'%' IDENTIFIED BY '${pass}';`]))
    .join('\n');
  return `set -e
export DEBIAN_FRONTEND=noninteractive
if ! dpkg -s keystone python3-openstackclient rabbitmq-server mariadb-server >/dev/null 2>&1; then
  debconf-set-selections <<'DEBCONF'
keystone keystone/configure_db boolean false
keystone keystone/create-admin-tenant boolean false
keystone keystone/register-endpoint boolean false
DEBCONF
  apt-get update -q
  apt-get install -y -q mariadb-server rabbitmq-server python3-pymysql keystone python3-openstackclient >/dev/null
fi
cat > /etc/mysql/mariadb.conf.d/99-openstack.cnf <<'EOF'
[mysqld]
bind-address = ${v.DB_NODE_IP}
max_connections = 1024
skip-name-resolve
EOF
systemctl restart mariadb
mysql <<'SQL'
${sql}
FLUSH PRIVILEGES;
SQL
systemctl start rabbitmq-server
for i in $(seq 30); do rabbitmqctl -q status >/dev/null 2>&1 && break; sleep 1; done
rabbitmqctl add_user openstack '${v.RABBIT_PASS}' 2>/dev/null || rabbitmqctl change_password openstack '${v.RABBIT_PASS}'
rabbitmqctl set_permissions -p / openstack ".*" ".*" ".*" >/dev/null
cat > /etc/keystone/keystone.conf <<'EOF'
[DEFAULT]
log_dir = /var/log/keystone
[database]
connection = mysql+pymysql://keystone:${v.KEYSTONE_DBPASS}@${v.DB_NODE_IP}/keystone
[token]
provider = fernet
EOF
chown root:keystone /etc/keystone/keystone.conf; chmod 640 /etc/keystone/keystone.conf
sed -i 's/^processes = .*/processes = 2/' /etc/keystone/keystone-uwsgi.ini || true
su -s /bin/sh -c "keystone-manage db_sync" keystone
keystone-manage fernet_setup --keystone-user keystone --keystone-group keystone
keystone-manage credential_setup --keystone-user keystone --keystone-group keystone
keystone-manage bootstrap --bootstrap-password '${v.ADMIN_PASS}' --bootstrap-admin-url http://${v.AUTH_NODE_IP}:5000/v3/ \\
  --bootstrap-internal-url http://${v.AUTH_NODE_IP}:5000/v3/ --bootstrap-public-url http://${v.AUTH_NODE_IP}:5000/v3/ --bootstrap-region-id RegionOne
systemctl restart keystone
for i in $(seq 60); do curl -sf http://${v.AUTH_NODE_IP}:5000/v3/ >/dev/null && break; sleep 1; done
export OS_USERNAME=admin OS_PASSWORD='${v.ADMIN_PASS}' OS_PROJECT_NAME=admin OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default
export OS_AUTH_URL=http://${v.AUTH_NODE_IP}:5000/v3 OS_IDENTITY_API_VERSION=3 OS_REGION_NAME=RegionOne
openstack project show service >/dev/null 2>&1 || openstack project create --domain default service >/dev/null
openstack user show glance >/dev/null 2>&1 || openstack user create --domain default --password '${v.GLANCE_PASS}' glance >/dev/null
openstack user set --password '${v.GLANCE_PASS}' glance
openstack role add --project service --user glance admin
openstack service show image >/dev/null 2>&1 || openstack service create --name glance image >/dev/null
for i in public internal admin; do
  [ -n "$(openstack endpoint list --service image --interface $i -f value -c ID)" ] || openstack endpoint create --region RegionOne image $i http://${v.IMAGE_NODE_IP}:9292 >/dev/null
done
echo PROVISIONED`;
}

// Glance as the tutorial's stage 5 installs it, on the same host, with the image the tutorial registers.
function glanceScript(v: Record<string, string>): string {
  return `set -e
export DEBIAN_FRONTEND=noninteractive
if ! dpkg -s glance >/dev/null 2>&1; then
  debconf-set-selections <<'DEBCONF'
glance-common glance/configure_db boolean false
glance-api glance/register-endpoint boolean false
DEBCONF
  apt-get install -y -q --no-install-recommends glance >/dev/null
fi
cat > /etc/glance/glance-api.conf <<'CONF'
[DEFAULT]
workers = 2
enabled_backends = fs:file
[database]
connection = mysql+pymysql://glance:${v.GLANCE_DBPASS}@${v.DB_NODE_IP}/glance
[keystone_authtoken]
www_authenticate_uri = http://${v.AUTH_NODE_IP}:5000
auth_url = http://${v.AUTH_NODE_IP}:5000
auth_type = password
region_name = RegionOne
project_domain_name = Default
user_domain_name = Default
project_name = service
username = glance
password = ${v.GLANCE_PASS}
[paste_deploy]
flavor = keystone
[glance_store]
default_backend = fs
[fs]
filesystem_store_datadir = /var/lib/glance/images/
CONF
chown root:glance /etc/glance/glance-api.conf; chmod 640 /etc/glance/glance-api.conf
su -s /bin/sh -c "glance-manage db_sync" glance >/dev/null 2>&1
systemctl restart glance-api
for i in $(seq 90); do curl -sf http://${v.IMAGE_NODE_IP}:9292/ >/dev/null && break; sleep 1; done
export OS_USERNAME=admin OS_PASSWORD='${v.ADMIN_PASS}' OS_PROJECT_NAME=admin OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default
export OS_AUTH_URL=http://${v.AUTH_NODE_IP}:5000/v3 OS_IDENTITY_API_VERSION=3 OS_REGION_NAME=RegionOne
if ! openstack image show tiny >/dev/null 2>&1; then
  head -c 1048576 /dev/urandom > /var/tmp/tiny.raw
  openstack image create --disk-format raw --container-format bare --public --file /var/tmp/tiny.raw tiny >/dev/null
fi
echo GLANCE_READY`;
}

/** Bring the chk lab up (src/lab), provision it, and return an inventory for it (`glance`: stage 5 too). */
export async function chkTarget(progress: (line: string) => void = () => undefined, opts: { glance?: boolean } = {}): Promise<ChkTarget> {
  const up = await labUp({ specFile: SPEC, progress });
  const dir = labDir(up.spec.name);
  const host = (role: string): Inventory['hosts'][string] => ({ role, address: ADDRESS, port: 22, user: 'root', keyFile: join(dir, 'id_ed25519'), hostname: 'db-node' });
  const inventory: Inventory = {
    file: up.inventoryFile,
    name: 'chk',
    hosts: { 'db-node': host('db-node'), 'auth-node': host('auth-node') },
    vars: { ...CHK_VARS },
    secretNames: Object.keys(CHK_VARS).filter((k) => /PASS$/.test(k)),
    knownHosts: join(dir, 'known_hosts'),
    acceptNewHostKeys: false,
    connectTimeoutMs: 10_000,
  };
  const pool = new SshPool(inventory);
  const sh = async (script: string, opts: { check?: boolean; timeoutMs?: number } = {}): Promise<ExecResult> => {
    const run = (): Promise<ExecResult> => pool.exec('db-node', remoteCommand({ script, sshUser: 'root', root: true, timeoutMs: opts.timeoutMs ?? 120_000 }));
    let r = await run();
    // A channel that closed without an exit status (seen once under load): the scripts are idempotent, run again.
    if (r.exitCode === null && !r.signal && !r.timedOut) r = await run();
    if (opts.check !== false && r.exitCode !== 0) throw new Error(`chk target: script failed (${r.exitCode}):\n${script.slice(0, 300)}\n--- stdout\n${r.stdout.slice(-2000)}\n--- stderr\n${r.stderr.slice(-2000)}`);
    return r;
  };
  await sh(provisionScript(inventory.vars), { timeoutMs: 900_000 });
  if (opts.glance) await sh(glanceScript(inventory.vars), { timeoutMs: 900_000 });
  return { inventory, sh, close: () => pool.close() };
}

/** Shell prefix that makes `openstack` act as the target's admin. */
export function adminEnv(v: Record<string, string>): string {
  return `export OS_USERNAME=admin OS_PASSWORD='${v.ADMIN_PASS}' OS_PROJECT_NAME=admin OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default OS_AUTH_URL=http://${v.AUTH_NODE_IP}:5000/v3 OS_IDENTITY_API_VERSION=3 OS_REGION_NAME=RegionOne;`;
}
