// Service configuration against the inventory, read on the service's own host: the database URL, the
// transport URL and the Keystone credentials must use the hosts and passwords the tutorial gives. The
// expected passwords go to the host on stdin and the verdicts come back without any secret in them.
import { shQuote } from '../ssh/exec.js';
import { roleNames, type Expected } from './expect.js';
import { CheckBroken, CheckFailure } from './outcome.js';
import type { CheckSession } from './session.js';

/** One setting to verify. `passwordVar` names the inventory variable (its value is sent on stdin only). */
export type ConfigRule =
  | { kind: 'db'; section: string; key: string; user: string; passwordVar: string; hostRole: string; schema: string }
  | { kind: 'mq'; section: string; key: string; user: string; passwordVar: string; hostRole: string; port: number }
  | { kind: 'password'; section: string; key: string; passwordVar: string }
  | { kind: 'value'; section: string; key: string; value: string };

// The script run on the host: reads the files (later ones override), checks each rule, prints verdicts.
export const CONFIG_SCRIPT = String.raw`
import configparser, json, sys
from urllib.parse import urlsplit, unquote
spec = json.loads(sys.stdin.read())
cfg = configparser.RawConfigParser(strict=False, interpolation=None)
read = cfg.read(spec["files"])
out = {"read": read, "problems": []}
def get(sec, key):
    if sec == "DEFAULT":
        return cfg.defaults().get(key)
    return cfg.get(sec, key) if cfg.has_section(sec) and cfg.has_option(sec, key) else None
for r in spec["rules"]:
    where = "[%s] %s" % (r["section"], r["key"])
    v = get(r["section"], r["key"])
    if v is None:
        out["problems"].append("%s is not set" % where); continue
    v = v.strip()
    if r["kind"] in ("db", "mq"):
        url = v.split(",")[0] if r["kind"] == "mq" else v
        try:
            u = urlsplit(url)
            user, pw, host = unquote(u.username or ""), unquote(u.password or ""), (u.hostname or "")
        except Exception as e:
            out["problems"].append("%s is not a URL" % where); continue
        scheme = u.scheme.split("+")[0]
        if scheme != ("mysql" if r["kind"] == "db" else "rabbit"):
            out["problems"].append("%s is a %s URL, not %s" % (where, scheme or "(no scheme)", "mysql+pymysql://" if r["kind"] == "db" else "rabbit://")); continue
        if user != r["user"]:
            out["problems"].append("%s uses user %s, not %s" % (where, user or "(none)", r["user"]))
        if pw != r["password"]:
            out["problems"].append("%s has a password that differs from %s" % (where, r["passwordVar"]))
        if host not in r["hosts"]:
            out["problems"].append("%s points at host %s, not %s" % (where, host or "(none)", r["hosts"][0]))
        if r["kind"] == "db" and u.path.lstrip("/") != r["schema"]:
            out["problems"].append("%s names database %s, not %s" % (where, u.path.lstrip("/") or "(none)", r["schema"]))
        if r["kind"] == "mq" and (u.port or 5672) != r["port"]:
            out["problems"].append("%s uses port %s, not %s" % (where, u.port, r["port"]))
    elif r["kind"] == "password":
        if v != r["password"]:
            out["problems"].append("%s differs from %s" % (where, r["passwordVar"]))
    elif v != r["value"]:
        out["problems"].append("%s = %s, not %s" % (where, v, r["value"]))
print(json.dumps(out))
`;

/** Verify a service's config files on its host against the inventory; fails listing every mismatch. */
export async function checkConfig(s: CheckSession, role: string, files: string[], rules: ConfigRule[]): Promise<void> {
  const spec = {
    files,
    rules: rules.map((r) => {
      if (r.kind === 'db' || r.kind === 'mq') return { ...r, password: s.variable(r.passwordVar), hosts: roleNames(s.inventory, r.hostRole) };
      if (r.kind === 'password') return { ...r, password: s.variable(r.passwordVar) };
      return r;
    }),
  };
  const r = await s.run(role, `python3 -c ${shQuote(CONFIG_SCRIPT)}`, 20_000, JSON.stringify(spec));
  let out: { read: string[]; problems: string[] };
  try {
    out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as { read: string[]; problems: string[] };
  } catch {
    throw new CheckBroken(`cannot read the configuration on ${role}`, [s.commandEvidence({ ...r, command: `python3 (config reader) ${files.join(' ')}` })]);
  }
  if (out.read.length === 0) throw new CheckBroken(`${files[0]} does not exist on ${role} (service not installed yet)`);
  if (out.problems.length > 0) {
    throw new CheckFailure(`${files.join(' + ')} on ${role} using the inventory's hosts and passwords`, out.problems.join('; '));
  }
}

/** Where a service's settings live and what they must be, per the tutorial (controller side or compute side). */
export function serviceConfig(
  e: Expected,
  name: 'keystone' | 'glance' | 'placement' | 'nova' | 'neutron' | 'cinder',
  side: 'controller' | 'compute' = 'controller',
): { files: string[]; rules: ConfigRule[] } {
  const svc = e.services.find((x) => x.name === name);
  const mq: ConfigRule = { kind: 'mq', section: 'DEFAULT', key: 'transport_url', user: e.rabbit.user, passwordVar: e.rabbit.passwordVar, hostRole: e.mqRole, port: 5672 };
  const authtoken = (user: string, passwordVar: string): ConfigRule[] => [
    { kind: 'value', section: 'keystone_authtoken', key: 'username', value: user },
    { kind: 'password', section: 'keystone_authtoken', key: 'password', passwordVar },
  ];
  const db = (section: string, schema: string): ConfigRule[] =>
    svc?.db ? [{ kind: 'db', section, key: 'connection', user: svc.db.user, passwordVar: svc.db.passwordVar, hostRole: e.dbRole, schema }] : [];
  const user = svc?.user;
  switch (name) {
    case 'keystone':
      return { files: ['/etc/keystone/keystone.conf'], rules: db('database', 'keystone') };
    case 'glance':
      return { files: ['/etc/glance/glance-api.conf'], rules: [...db('database', 'glance'), ...(user ? authtoken(user.name, user.passwordVar) : [])] };
    case 'placement':
      return { files: ['/etc/placement/placement.conf'], rules: [...db('placement_database', 'placement'), ...(user ? authtoken(user.name, user.passwordVar) : [])] };
    case 'nova':
      if (side === 'compute') return { files: ['/etc/nova/nova.conf', '/etc/nova/nova-compute.conf'], rules: [mq] };
      return { files: ['/etc/nova/nova.conf'], rules: [...db('api_database', 'nova_api'), ...db('database', 'nova'), mq, ...(user ? authtoken(user.name, user.passwordVar) : [])] };
    case 'neutron':
      if (side === 'compute') return { files: ['/etc/neutron/neutron.conf'], rules: [mq] };
      return { files: ['/etc/neutron/neutron.conf'], rules: [...db('database', 'neutron'), mq, ...(user ? authtoken(user.name, user.passwordVar) : [])] };
    case 'cinder':
      return { files: ['/etc/cinder/cinder.conf'], rules: [...db('database', 'cinder'), mq, ...(user ? authtoken(user.name, user.passwordVar) : [])] };
  }
}
