// What a drill must leave as it found it, taken before the injection and again after `drill stop`: on every host,
// the content, mode and owner of each file under /etc, the mode and owner of /var/lib's folders, the services
// running, the files a fault left in its backup folder; on the database host, its users and grants, every schema's
// Alembic revision, Nova's cell and host mappings, its compute services' enabled flag and Keystone's endpoints; on
// the message queue's host, its users and permissions. One SSH round trip per host, in parallel. Values that could
// hold a secret (database connection URLs, password hashes) are hashed on the host; the differences name what
// changed, never a value.
import type { Inventory } from '../inventory/types.js';
import { remoteCommand } from '../ssh/exec.js';
import type { SshPool } from '../ssh/pool.js';

/** role → kind → key → values (sorted). */
export type Fingerprint = Record<string, Record<string, Record<string, string[]>>>;

const KINDS = ['file', 'meta', 'svc', 'db', 'mq', 'left', 'host'] as const;
type Kind = (typeof KINDS)[number];

// Files under /etc that change by themselves (leases, caches, clocks).
const ETC_VOLATILE = ['/etc/ld.so.cache', '/etc/adjtime', '/etc/resolv.conf', '/etc/machine-id'];

const SQL = [
  // Users (the authentication hashed: mysql_native_password hashes are unsalted, so a password put back is equal).
  "SELECT CONCAT('user ', user, '@', host), SHA2(CONCAT(IFNULL(plugin,''), '|', IFNULL(authentication_string,'')), 256) FROM mysql.user",
  "SELECT CONCAT('grant ', GRANTEE, ' on ', TABLE_SCHEMA), GROUP_CONCAT(PRIVILEGE_TYPE ORDER BY PRIVILEGE_TYPE) FROM information_schema.SCHEMA_PRIVILEGES GROUP BY GRANTEE, TABLE_SCHEMA",
  "SELECT CONCAT('cell ', name), SHA2(CONCAT(IFNULL(transport_url,''), '|', IFNULL(database_connection,'')), 256) FROM nova_api.cell_mappings",
  "SELECT CONCAT('host-mapping ', m.host), c.name FROM nova_api.host_mappings m JOIN nova_api.cell_mappings c ON c.id = m.cell_id",
  "SELECT CONCAT('compute-service ', host, ' ', `binary`), IF(disabled, 'disabled', 'enabled') FROM nova.services WHERE deleted = 0",
  "SELECT CONCAT('endpoint ', s.type, ' ', e.interface, ' ', IFNULL(e.region_id, '')), CONCAT(e.url, IF(e.enabled, '', ' (disabled)')) FROM keystone.endpoint e JOIN keystone.service s ON s.id = e.service_id",
];

// The script each host runs (as root). Lines: kind TAB key TAB value.
export function fingerprintScript(): string {
  const volatile = ETC_VOLATILE.map((p) => `! -path '${p}'`).join(' ');
  const sql = SQL.map((q) => `mysql -N -B -e "${q.replace(/[`"$\\]/g, '\\$&')}" 2>/dev/null | awk -F '\\t' '{ print "db\\t" $1 "\\t" $2 }'`);
  return [
    'export LC_ALL=C',
    `find /etc -xdev -type f ${volatile} -print0 2>/dev/null | sort -z | xargs -0 -r sha256sum 2>/dev/null | awk '{ h = $1; sub(/^[^ ]+  /, ""); print "file\\t" $0 "\\t" h }'`,
    `find /etc -xdev -type f ${volatile} -printf 'meta\\t%p\\t%m %u:%g\\n' 2>/dev/null`,
    "find /var/lib -xdev -mindepth 1 -maxdepth 2 -type d -printf 'meta\\t%p\\t%m %u:%g\\n' 2>/dev/null",
    "systemctl list-units --type=service --state=running --no-legend --plain 2>/dev/null | awk '$1 !~ /^(user@|session-|run-)/ { print \"svc\\t\" $1 \"\\trunning\" }'",
    "find /root/.stackcheck-fault -mindepth 1 -type f -printf 'left\\t%p\\tpresent\\n' 2>/dev/null",
    // The database's, where root reaches it through its socket.
    'if command -v mysql >/dev/null && mysql -N -B -e "SELECT 1" >/dev/null 2>&1; then',
    ...sql.map((l) => `  ${l}`),
    `  for s in $(mysql -N -B -e "SELECT table_schema FROM information_schema.tables WHERE table_name = 'alembic_version'" 2>/dev/null); do printf 'db\\talembic %s\\t%s\\n' "$s" "$(mysql -N -B -e "SELECT IFNULL(GROUP_CONCAT(version_num ORDER BY version_num), 'none') FROM $s.alembic_version" 2>/dev/null)"; done`,
    'fi',
    // The message queue's.
    'if command -v rabbitmqctl >/dev/null && systemctl is-active -q rabbitmq-server; then',
    "  timeout 30 rabbitmqctl -s list_users 2>/dev/null | awk -F '\\t' '{ print \"mq\\tuser \" $1 \"\\t\" $2 }'",
    "  timeout 30 rabbitmqctl -s list_permissions -p / 2>/dev/null | awk -F '\\t' '{ print \"mq\\tpermissions \" $1 \"\\t\" $2 \" \" $3 \" \" $4 }'",
    'fi',
    'true',
  ].join('\n');
}

/** Parse what the script printed into kind → key → values. */
export function parseFingerprint(text: string): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {};
  for (const line of text.split('\n')) {
    const [kind, key, ...rest] = line.split('\t');
    if (!kind || !key || !(KINDS as readonly string[]).includes(kind)) continue;
    const byKey = (out[kind] ??= {});
    (byKey[key] ??= []).push(rest.join('\t'));
  }
  for (const byKey of Object.values(out)) for (const k of Object.keys(byKey)) byKey[k]!.sort();
  return out;
}

/**
 * Take the fingerprint of every machine of the inventory (a machine that cannot be reached is recorded as such), once
 * a machine: roles that share one (an all-in-one) are keyed together, `db-node/auth-node`.
 */
export async function takeFingerprint(inventory: Inventory, pool: SshPool): Promise<Fingerprint> {
  const script = fingerprintScript();
  const machines = new Map<string, string[]>();
  for (const [role, spec] of Object.entries(inventory.hosts)) {
    const at = `${spec.address}:${spec.port}`;
    machines.set(at, [...(machines.get(at) ?? []), role]);
  }
  const entries = await Promise.all(
    [...machines.values()].map(async (roles): Promise<[string, Record<string, Record<string, string[]>>]> => {
      const role = roles[0]!;
      const spec = inventory.hosts[role]!;
      const name = roles.join('/');
      try {
        const r = await pool.exec(role, remoteCommand({ script, sshUser: spec.user, root: true, timeoutMs: 90_000 }));
        if (r.exitCode !== 0) return [name, { host: { state: [`the fingerprint script failed (exit ${r.exitCode ?? r.signal ?? 'none'})`] } }];
        return [name, parseFingerprint(r.stdout)];
      } catch (err) {
        return [name, { host: { state: [`unreachable: ${(err as Error).message}`] } }];
      }
    }),
  );
  return Object.fromEntries(entries);
}

const same = (a: readonly string[] | undefined, b: readonly string[] | undefined): boolean => (a ?? []).join('\n') === (b ?? []).join('\n');

/**
 * How `after` differs from `before`, in words (never a value: they may be hashes of secrets). Services: one that ran
 * and no longer runs; modes: of paths present both times; left-behind files: new ones; the rest: any change.
 */
export function compareFingerprints(before: Fingerprint, after: Fingerprint): string[] {
  const out: string[] = [];
  for (const role of Object.keys(before).sort()) {
    const b = before[role] ?? {};
    const a = after[role] ?? {};
    if (!same(b.host?.state, a.host?.state)) {
      out.push(`${role}: ${a.host?.state?.[0] ?? 'reachable again'} (before: ${b.host?.state?.[0] ?? 'reachable'})`);
      continue;
    }
    const keys = (k: Kind): string[] => [...new Set([...Object.keys(b[k] ?? {}), ...Object.keys(a[k] ?? {})])].sort();
    for (const key of keys('file')) {
      const [x, y] = [b.file?.[key], a.file?.[key]];
      if (!x) out.push(`${role}: ${key} was added`);
      else if (!y) out.push(`${role}: ${key} was removed`);
      else if (!same(x, y)) out.push(`${role}: ${key} changed`);
    }
    for (const key of keys('meta')) {
      const [x, y] = [b.meta?.[key], a.meta?.[key]];
      if (x && y && !same(x, y)) out.push(`${role}: ${key} changed mode or owner (${x.join()} → ${y.join()})`);
    }
    for (const key of keys('svc')) if (b.svc?.[key] && !a.svc?.[key]) out.push(`${role}: ${key} no longer runs`);
    for (const key of keys('left')) if (!b.left?.[key] && a.left?.[key]) out.push(`${role}: ${key} was left behind`);
    for (const kind of ['db', 'mq'] as const) {
      for (const key of keys(kind)) {
        const [x, y] = [b[kind]?.[key], a[kind]?.[key]];
        if (!x) out.push(`${role}: ${kind === 'db' ? 'database' : 'RabbitMQ'} ${key} is new`);
        else if (!y) out.push(`${role}: ${kind === 'db' ? 'database' : 'RabbitMQ'} ${key} is gone`);
        else if (!same(x, y)) out.push(`${role}: ${kind === 'db' ? 'database' : 'RabbitMQ'} ${key} changed`);
      }
    }
  }
  return out;
}

/** How much a fingerprint covers, for the report ("412 files, 38 services, … compared"). */
export function fingerprintSize(f: Fingerprint): string {
  const count = (k: Kind): number => Object.values(f).reduce((n, h) => n + Object.keys(h[k] ?? {}).length, 0);
  return `${Object.keys(f).length} hosts: ${count('file')} files, ${count('svc')} running services, ${count('db')} database and ${count('mq')} RabbitMQ entries`;
}
