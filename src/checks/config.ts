// Service configuration against the inventory, read on the service's own host: every credential and address a
// service uses to reach another (database, message queue, Keystone sections, Placement, Neutron, Glance, Cinder,
// the metadata secret shared by Nova and Neutron, Cinder's storage backend) must be what the tutorial writes with
// the inventory's values. Expected passwords go to the host on stdin and the verdicts come back without any secret
// in them. The same round trip asks systemd when each service that reads the files started and scans its log
// since then: a file changed after its service started, or credentials the running service has been refused, are
// failures too; when neither can be known, the result says the file alone was read.
import { randomBytes } from 'node:crypto';
import { shQuote } from '../ssh/exec.js';
import { roleAddress, roleNames, type Expected, type InstallKey } from './expect.js';
import type { CheckTools } from './define.js';
import { CheckBroken, CheckFailure, evidence } from './outcome.js';
import type { CheckSession } from './session.js';
import type { Evidence } from './types.js';
import type { Inventory } from '../inventory/types.js';

/** Where a setting lives: a section and key of the service's files, or of one other file (`file`). */
interface At {
  section: string;
  key: string;
  /** Read from this file alone instead of the service's files (e.g. /etc/neutron/metadata_agent.ini). */
  file?: string;
  /** Not set is fine (the service's default is right); when set it must be right. */
  optional?: boolean;
  /** The stage (install key) that writes this setting, when not the service's own (the remedy points there). */
  stage?: InstallKey;
  /** What log errors about it are tagged with, when not the section's name (`rbd` for the Ceph settings). */
  tag?: string;
}

/** A setting on the other side of a shared secret, read on its own host to tell who disagrees with whom. */
export interface PeerSetting {
  role: string;
  file: string;
  section: string;
  key: string;
  /** The install key that puts it there (no comparison before that stage ran). */
  needs: InstallKey;
}

/** One setting to verify. `passwordVar` names the inventory variable (its value is sent on stdin only). */
export type ConfigRule =
  | ({ kind: 'db'; user: string; passwordVar: string; hostRole: string; schema: string } & At)
  | ({ kind: 'mq'; user: string; passwordVar: string; hostRole: string; port: number } & At)
  | ({ kind: 'password'; passwordVar: string } & At)
  | ({ kind: 'value'; value: string } & At)
  /** An http(s) URL (or a comma-separated list, `list`) on the role's host and this port. */
  | ({ kind: 'url'; hostRole: string; port: number; list?: boolean } & At)
  /** A bare address or name of the role (my_ip, local_ip, nova_metadata_host, Ceph's mon_host). */
  | ({ kind: 'host'; hostRole: string } & At)
  | ({ kind: 'bool'; value: boolean } & At)
  /** A comma-separated list that names `value` (enabled_backends). */
  | ({ kind: 'contains'; value: string } & At)
  /** Set to anything. */
  | ({ kind: 'set' } & At)
  /** A secret two services share (metadata_proxy_shared_secret): equal to the variable, and to the peer's. */
  | ({ kind: 'shared'; passwordVar: string; file: string; peer: PeerSetting } & At)
  /** A Ceph keyring file holding the key of `entity`, readable by the service's user. */
  | { kind: 'keyring'; file: string; entity: string; passwordVar: string; readableBy?: string; stage?: InstallKey }
  /** A libvirt secret (the Ceph user's key kept by libvirt for QEMU) holding the variable's value. */
  | { kind: 'libvirt-secret'; uuidVar: string; passwordVar: string; stage?: InstallKey };

/** A service that reads some of the files at start (a systemd unit), with its log when not /var/log/<x>/<unit>.log. */
export interface ConfigReader {
  unit: string;
  files: string[];
  log?: string;
  /** Its start (epoch seconds) when systemd cannot tell (a host without systemd, a unit test); systemd's answer wins. */
  started?: number;
  /** The same for a unit that is down: its state, the start of its last attempt, and how often systemd restarted it. */
  state?: string;
  lastStart?: number;
  restarts?: number;
}

/** What a config check looks at on one host: files, rules, the services that read them, and where the fix is. */
export interface ConfigTarget {
  /** Files read together, later ones overriding (rules without their own `file`). */
  files: string[];
  rules: ConfigRule[];
  readers: ConfigReader[];
  /** The install key of the stage that writes these files on this host. */
  stage: InstallKey;
  /** What to do there (the message names the settings). */
  remedy: string;
  /** Said in the evidence: what could not be decided from the inventory (e.g. which Cinder backend). */
  notes?: string[];
}

/** What the reader prints: the files read and one line per wrong setting, never a secret. */
export interface ReaderOutput {
  read: string[];
  problems: string[];
  /** The rule (index) each problem is about. */
  problemRules?: number[];
  /** HMAC (keyed with the request's nonce) of shared secrets, to compare two hosts without seeing either value. */
  digests?: Record<string, string>;
  runtime?: RuntimeFacts;
}

export interface UnitFacts {
  unit: string;
  /** systemd's ActiveState, `not-installed` or `unknown` (systemd could not be asked). */
  state: string;
  /** Wall-clock start of the main process (epoch seconds), when it runs. */
  started: number | null;
  /** Modification time of each file it reads (epoch seconds). */
  files: Record<string, number>;
  log: { source: string; cut: boolean } | null;
  /** When it is down: the start of its last attempt (its log is scanned from there). */
  lastStart?: number;
}

export interface LogFinding {
  unit: string;
  kind: 'auth' | 'connection';
  /** What it is about: `db`, `mq`, `metadata`, `rbd` or a section name (`placement`). */
  tag: string;
  count: number;
  first: number;
  last: number;
  sample: string;
  /** Logged by a unit that is down, at its last start. */
  down?: boolean;
}

export interface RuntimeFacts {
  now: number;
  note: string | null;
  units: UnitFacts[];
  stale: { file: string; mtime: number; unit: string; started: number }[];
  findings: LogFinding[];
}

/** Authentication errors in a log count as a failure when the last one is this recent (older ones are evidence). */
export const RECENT_LOG_S = 600;

// The script run on the host: reads the files, checks each rule, asks systemd and the logs, prints verdicts.
export const CONFIG_SCRIPT = String.raw`
import configparser, json, sys, os, re, time, hmac, hashlib, subprocess
from urllib.parse import urlsplit, unquote
spec = json.loads(sys.stdin.read())
out = {"read": [], "problems": [], "problemRules": [], "digests": {}}

def norm(k):
    return re.sub(r"[-\s]+", "_", k.strip().lower())

class Conf:
    def __init__(self, files):
        self.read, self.error, self.data = [], None, {}
        p = configparser.RawConfigParser(strict=False, interpolation=None)
        try:
            self.read = p.read(files)
        except configparser.Error as e:
            self.error = e.__class__.__name__
            return
        self.data["DEFAULT"] = {norm(k): v for k, v in p.defaults().items()}
        for s in p.sections():
            own = getattr(p, "_sections", {}).get(s, {})
            self.data[s] = {norm(k): v for k, v in own.items()}
    def get(self, sec, key):
        v = self.data.get(sec, {}).get(norm(key))
        return None if v is None else v.strip()

main = Conf(spec["files"])
out["read"] = main.read
others = {}
def conf_for(r):
    f = r.get("file")
    if not f:
        return main
    if f not in others:
        others[f] = Conf([f])
    return others[f]

def where(r):
    return "[%s] %s%s" % (r["section"], r["key"], (" in %s" % r["file"]) if r.get("file") else "")

def problem(i, text):
    out["problems"].append(text)
    out["problemRules"].append(i)

def digest(v):
    return hmac.new(spec.get("nonce", "").encode(), v.encode(), hashlib.sha256).hexdigest()

TRUE = ("true", "1", "yes", "on", "y", "t")

def split_hosts(v):
    hosts = []
    for part in re.split(r"[,\s]+", v):
        part = part.strip().strip("[]")
        if not part:
            continue
        part = re.sub(r"^v[12]:", "", part).split("/")[0]
        if part.count(":") == 1:
            part = part.split(":")[0]
        hosts.append(part.strip("[]"))
    return hosts

def keyring(r):
    f = r["file"]
    try:
        text = open(f, encoding="utf-8", errors="replace").read()
    except FileNotFoundError:
        return "%s does not exist" % f
    except PermissionError:
        return "%s is not readable" % f
    sec, key = None, None
    for line in text.splitlines():
        m = re.match(r"^\s*\[(.+)\]\s*$", line)
        if m:
            sec = m.group(1).strip()
            continue
        m = re.match(r"^\s*key\s*=\s*(\S+)", line)
        if m and sec == r["entity"]:
            key = m.group(1)
    if key is None:
        return "%s has no key for %s" % (f, r["entity"])
    if key != r["password"]:
        return "the key of %s in %s differs from %s" % (r["entity"], f, r["passwordVar"])
    user = r.get("readableBy")
    if user:
        try:
            import pwd, grp
            pw = pwd.getpwnam(user)
        except (KeyError, ImportError):
            return None
        st = os.stat(f)
        groups = {pw.pw_gid} | {g.gr_gid for g in grp.getgrall() if user in g.gr_mem}
        ok = (st.st_uid == pw.pw_uid and st.st_mode & 0o400) or (st.st_gid in groups and st.st_mode & 0o040) or (st.st_mode & 0o004)
        if not ok:
            try:
                owner = "%s:%s" % (pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name)
            except KeyError:
                owner = "%d:%d" % (st.st_uid, st.st_gid)
            return "%s is not readable by %s (mode %04o, owner %s)" % (f, user, st.st_mode & 0o7777, owner)
    return None

def libvirt_secret(r):
    try:
        p = subprocess.run(["virsh", "secret-get-value", r["uuid"]], capture_output=True, text=True, timeout=15)
    except FileNotFoundError:
        return "virsh is not installed (libvirt holds the key of the Ceph user)"
    except subprocess.TimeoutExpired:
        return "virsh secret-get-value %s did not answer within 15 s" % r["uuid"]
    if p.returncode != 0:
        return "libvirt has no secret %s (%s) with a value" % (r["uuid"], r["uuidVar"])
    if p.stdout.strip() != r["password"]:
        return "libvirt secret %s holds a key that differs from %s" % (r["uuid"], r["passwordVar"])
    return None

for i, r in enumerate(spec["rules"]):
    k = r["kind"]
    if k == "keyring":
        t = keyring(r)
        if t:
            problem(i, t)
        continue
    if k == "libvirt-secret":
        t = libvirt_secret(r)
        if t:
            problem(i, t)
        continue
    c = conf_for(r)
    if c.error:
        problem(i, "%s cannot be parsed (%s)" % (r.get("file") or spec["files"][0], c.error)); continue
    if r.get("file") and not c.read:
        problem(i, "%s does not exist" % r["file"]); continue
    v = c.get(r["section"], r["key"])
    if v is None or (v == "" and k not in ("value",)):
        if not r.get("optional"):
            problem(i, "%s is not set" % where(r))
        continue
    if k in ("db", "mq"):
        url = v.split(",")[0] if k == "mq" else v
        try:
            u = urlsplit(url)
            user, pw, host, port = unquote(u.username or ""), unquote(u.password or ""), (u.hostname or ""), u.port
        except Exception:
            problem(i, "%s is not a URL" % where(r)); continue
        scheme = u.scheme.split("+")[0]
        if scheme != ("mysql" if k == "db" else "rabbit"):
            problem(i, "%s is a %s URL, not %s" % (where(r), scheme or "(no scheme)", "mysql+pymysql://" if k == "db" else "rabbit://")); continue
        if user != r["user"]:
            problem(i, "%s uses user %s, not %s" % (where(r), user or "(none)", r["user"]))
        if pw != r["password"]:
            problem(i, "%s has a password that differs from %s" % (where(r), r["passwordVar"]))
        if host not in r["hosts"]:
            problem(i, "%s points at host %s, not %s" % (where(r), host or "(none)", r["hosts"][0]))
        if k == "db" and u.path.lstrip("/") != r["schema"]:
            problem(i, "%s names database %s, not %s" % (where(r), u.path.lstrip("/") or "(none)", r["schema"]))
        if k == "mq" and (port or 5672) != r["port"]:
            problem(i, "%s uses port %s, not %s" % (where(r), port, r["port"]))
    elif k == "password":
        if v != r["password"]:
            problem(i, "%s differs from %s" % (where(r), r["passwordVar"]))
    elif k == "shared":
        out["digests"][str(i)] = digest(v)
        if v != r["password"]:
            problem(i, "%s differs from %s" % (where(r), r["passwordVar"]))
    elif k == "digest":
        out["digests"][str(i)] = digest(v)
    elif k == "url":
        for one in ([x.strip() for x in v.split(",") if x.strip()] if r.get("list") else [v]):
            try:
                u = urlsplit(one)
                host, port = (u.hostname or ""), (u.port or (443 if u.scheme == "https" else 80))
            except ValueError:
                problem(i, "%s is not a URL (%s)" % (where(r), one)); continue
            if u.scheme not in ("http", "https"):
                problem(i, "%s is not an http(s) URL (%s)" % (where(r), one)); continue
            if host.lower() not in [h.lower() for h in r["hosts"]]:
                problem(i, "%s points at host %s, not %s" % (where(r), host or "(none)", r["label"]))
            elif port != r["port"]:
                problem(i, "%s uses port %s, not %s" % (where(r), port, r["port"]))
    elif k == "host":
        bad = [h for h in split_hosts(v) if h.lower() not in [x.lower() for x in r["hosts"]]]
        if bad or not split_hosts(v):
            problem(i, "%s is %s, not %s" % (where(r), v or "empty", r["label"]))
    elif k == "bool":
        if (v.lower() in TRUE) != r["value"]:
            problem(i, "%s = %s, not %s" % (where(r), v, "true" if r["value"] else "false"))
    elif k == "contains":
        if r["value"] not in [x.strip() for x in v.split(",")]:
            problem(i, "%s = %s, which does not name %s" % (where(r), v, r["value"]))
    elif k == "set":
        pass
    elif v != r["value"]:
        problem(i, "%s = %s, not %s" % (where(r), v, r["value"]))

# Run time: when did each service that reads these files start, did a file change after that, and what did the
# service log since then about the sections checked here (authentication refused, connection failed).
LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?) (\d+) (CRITICAL|ERROR|WARNING|INFO|DEBUG|TRACE) (\S+) ?(.*)$")
MODULES = [
    ("placement", re.compile(r"scheduler/client/report|scheduler\.client\.report|placement", re.I)),
    ("neutron", re.compile(r"nova/network/neutron|nova\.network\.neutron|neutronclient", re.I)),
    ("cinder", re.compile(r"nova/volume/cinder|nova\.volume\.cinder|cinderclient", re.I)),
    ("glance", re.compile(r"nova/image/glance|nova\.image\.glance|glanceclient|glance_api_servers", re.I)),
    ("nova", re.compile(r"neutron/notifiers/nova|neutron\.notifiers\.nova|novaclient", re.I)),
    ("keystone_authtoken", re.compile(r"keystonemiddleware", re.I)),
]
AUTH_HTTP = re.compile(r"HTTP 401|\b401\b|requires authentication|Unauthorized|rejected authorization")
CONNECT = re.compile(r"Unable to establish connection|ConnectFailure|Connection refused|ConnectionRefused|timed out|No route to host|Name or service not known")
SECRETISH = re.compile(r"[A-Za-z0-9+=_-]{32,}")

def last_module(text):
    best, at = None, -1
    for tag, rx in MODULES:
        for m in rx.finditer(text):
            if m.start() > at:
                best, at = tag, m.start()
    return best

def classify(name, text):
    if "ACCESS_REFUSED" in text:
        return "auth", "mq"
    if "Access denied for user" in text:
        return "auth", "db"
    if ("Signature" in text and "does not match the expected value" in text) or "shared secrets do not match" in text:
        return "auth", "metadata"
    if "Placement service credentials do not work" in text:
        return "auth", "placement"
    if name.startswith("cinder.volume.drivers.rbd") or "rados." in text:
        if re.search(r"Permission denied|PermissionError|EACCES|errno 13|\[errno 1\]|operation not permitted", text, re.I):
            return "auth", "rbd"
        if re.search(r"Error connecting to ceph cluster|TimedOut|timed out", text, re.I):
            return "connection", "rbd"
    if name.startswith("keystonemiddleware"):
        if AUTH_HTTP.search(text):
            return "auth", "keystone_authtoken"
        if re.search(r"Unable to validate token|Failed to fetch token data", text) or CONNECT.search(text):
            return "connection", "keystone_authtoken"
    if AUTH_HTTP.search(text):
        tag = last_module(text)
        return ("auth", tag) if tag else None
    if re.search(r"AMQP server on \S+ is unreachable", text) or (re.match(r"oslo[._]messaging", name) and CONNECT.search(text)):
        return "connection", "mq"
    if re.search(r"Can't connect to MySQL server|Lost connection to MySQL|\(2003, |\(2013, ", text):
        return "connection", "db"
    if "Placement API service is not responding" in text:
        return "connection", "placement"
    if "Error contacting glance server" in text:
        return "connection", "glance"
    if CONNECT.search(text):
        tag = last_module(text)
        return ("connection", tag) if tag else None
    return None

def epoch(ts):
    return time.mktime(time.strptime(ts[:19], "%Y-%m-%d %H:%M:%S")) + (float("0" + ts[19:]) if len(ts) > 19 else 0.0)

LOG_LIMIT = 4 * 1024 * 1024

def read_log(unit, started):
    path = unit.get("log") or "/var/log/%s/%s.log" % (unit["unit"].split("-")[0], unit["unit"])
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            cut = size > LOG_LIMIT
            if cut:
                fh.seek(size - LOG_LIMIT)
                fh.readline()
            return path, fh.read().decode("utf-8", "replace").splitlines(), cut
    except OSError:
        pass
    if not started:
        return None, None, False
    try:
        p = subprocess.run(["journalctl", "-q", "--no-pager", "-o", "cat", "-u", unit["unit"], "-S", "@%d" % int(started), "-n", "20000"], capture_output=True, text=True, timeout=15)
    except (OSError, subprocess.TimeoutExpired):
        return None, None, False
    if p.returncode != 0:
        return None, None, False
    return "journal of %s" % unit["unit"], p.stdout.splitlines(), False

def scan(unit, started, tags):
    source, lines, cut = read_log(unit, started)
    if lines is None:
        return None, []
    found = {}
    records, cur = [], None
    for line in lines:
        m = LINE.match(line)
        if not m:
            continue
        ts, pid, level, name, rest = m.groups()
        key = (ts, pid, level, name)
        if cur and cur[0] == key:
            cur[1].append(rest)
        else:
            cur = (key, [rest])
            records.append(cur)
    for (ts, pid, level, name), parts in records:
        if level not in ("WARNING", "ERROR", "CRITICAL"):
            continue
        try:
            at = epoch(ts)
        except ValueError:
            continue
        # Strictly after the start: a crash-looping service's last refusal comes a fraction of a second before the
        # start of the attempt that works (log times are wall-clock to the millisecond, the start is systemd's).
        if started and at < started - 0.01:
            continue
        text = "\n".join(parts)
        c = classify(name, text)
        if not c or c[1] not in tags:
            continue
        f = found.setdefault(c, {"unit": unit["unit"], "kind": c[0], "tag": c[1], "count": 0, "first": at, "last": at, "sample": ""})
        f["count"] += 1
        if at >= f["last"]:
            f["last"] = at
            f["sample"] = SECRETISH.sub("…", re.sub(r"^\[[^\]]*\]\s*", "", parts[0].strip()))[:240]
    return {"source": source, "cut": cut}, list(found.values())

def units_facts(names):
    try:
        p = subprocess.run(["systemctl", "show", "-p", "LoadState,ActiveState,MainPID,ExecMainStartTimestampMonotonic,NRestarts", "--"] + [n if "." in n else n + ".service" for n in names], capture_output=True, text=True, timeout=15)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, "systemctl cannot be run (%s)" % e.__class__.__name__
    blocks = [b for b in p.stdout.strip("\n").split("\n\n")] if p.stdout.strip() else []
    if len(blocks) != len(names):
        err = (p.stderr.strip().splitlines() or ["no answer"])[-1]
        return None, "systemd cannot be asked (%s)" % err
    offset = time.time() - time.monotonic()
    facts = {}
    for n, b in zip(names, blocks):
        kv = dict(l.split("=", 1) for l in b.splitlines() if "=" in l)
        mono = int(kv.get("ExecMainStartTimestampMonotonic") or 0)
        facts[n] = {"load": kv.get("LoadState", ""), "active": kv.get("ActiveState", ""), "pid": int(kv.get("MainPID") or 0), "started": (offset + mono / 1e6) if mono else None, "restarts": int(kv.get("NRestarts") or 0)}
        # (a unit that is down keeps the start time of its last attempt: a crash-looping one, of its last crash)
    return facts, None

units = spec.get("units") or []
if units:
    rt = {"now": time.time(), "units": [], "stale": [], "findings": [], "note": None}
    facts, note = units_facts([u["unit"] for u in units])
    rt["note"] = None if facts is None and any(u.get("started") or u.get("lastStart") for u in units) else note
    tags = spec.get("tags") or {}
    for u in units:
        f = (facts or {}).get(u["unit"])
        entry = {"unit": u["unit"], "state": "unknown", "started": None, "files": {}, "log": None}
        last, restarts = None, 0
        if f:
            entry["state"] = "not-installed" if f["load"] == "not-found" else (f["active"] or "unknown")
            if f["active"] == "active" and f["started"]:
                entry["started"] = f["started"]
            elif f["load"] != "not-found" and f["started"]:
                last = f["started"]
                restarts = f["restarts"]
        elif u.get("started"):
            entry["state"], entry["started"] = "active", u["started"]
        elif u.get("lastStart"):
            entry["state"], last, restarts = u.get("state") or "failed", u["lastStart"], u.get("restarts") or 0
        for path in u["files"]:
            try:
                mtime = os.stat(path).st_mtime
            except OSError:
                continue
            entry["files"][path] = mtime
            if entry["started"] and mtime > entry["started"] + 1:
                rt["stale"].append({"file": path, "mtime": mtime, "unit": u["unit"], "started": entry["started"]})
        if entry["started"]:
            info, found = scan(u, entry["started"], tags)
            entry["log"] = info
            rt["findings"].extend(found)
        elif last:
            # Down: what it logged when it last started (a service refused at start exits, and systemd retries it;
            # while it is activating again, the attempts before this one say why: a minute back covers them).
            since = last - 60 if entry["state"] == "activating" and restarts > 0 else last
            info, found = scan(u, since, tags)
            entry["log"], entry["lastStart"] = info, last
            for x in found:
                x["down"] = True
            rt["findings"].extend(found)
        rt["units"].append(entry)
    out["runtime"] = rt
print(json.dumps(out))
`;

const fmtTime = (epoch: number): string => `${new Date(epoch * 1000).toISOString().slice(0, 19).replace('T', ' ')} UTC`;

/** `auth-node (10.99.0.12)`: how a role is named in messages about addresses. */
export function roleLabel(inv: Inventory, role: string): string {
  const address = roleAddress(inv, role);
  return address && address !== role ? `${role} (${address})` : role;
}

// `[section] key` or `[section] key in <file>`, as the reader names a setting.
function settingName(r: ConfigRule): string {
  if (r.kind === 'keyring') return `the key of ${r.entity} in ${r.file}`;
  if (r.kind === 'libvirt-secret') return `the libvirt secret ${r.uuidVar}`;
  return `[${r.section}] ${r.key}${r.file ? ` in ${r.file}` : ''}`;
}

// What a log finding's tag is about, per rule: the sections checked here (a finding about anything else is ignored).
function tagOf(r: ConfigRule): string {
  if ('tag' in r && typeof r.tag === 'string') return r.tag;
  if (r.kind === 'db' || r.kind === 'mq') return r.kind;
  if (r.kind === 'shared') return 'metadata';
  if (r.kind === 'keyring' || r.kind === 'libvirt-secret') return 'rbd';
  return r.section;
}

/** Tag → the settings it names in messages (`placement` → `[placement]`, `db` → `[database] connection`). */
export function logTags(rules: readonly ConfigRule[]): Record<string, string> {
  const out: Record<string, string[]> = {};
  for (const r of rules) {
    const tag = tagOf(r);
    const label = r.kind === 'db' || r.kind === 'mq' || r.kind === 'shared' || r.kind === 'keyring' || r.kind === 'libvirt-secret' ? settingName(r) : `[${r.section}]`;
    const list = (out[tag] ??= []);
    if (!list.includes(label)) list.push(label);
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.join(', ')]));
}

/**
 * The reader's input for a target: each rule with what the host needs to judge it (passwords from the inventory,
 * the names a role's host goes by), the services that read the files, the log tags, and the nonce for digests.
 */
export function readerSpec(
  inv: Inventory,
  variable: (name: string) => string,
  target: Pick<ConfigTarget, 'files' | 'rules' | 'readers'>,
  nonce: string,
): Record<string, unknown> {
  const rules = target.rules.map((r): Record<string, unknown> => {
    switch (r.kind) {
      case 'db':
      case 'mq':
        return { ...r, password: variable(r.passwordVar), hosts: roleNames(inv, r.hostRole) };
      case 'password':
      case 'keyring':
        return { ...r, password: variable(r.passwordVar) };
      case 'shared': {
        const { peer: _peer, ...rest } = r;
        return { ...rest, password: variable(r.passwordVar) };
      }
      case 'libvirt-secret':
        return { ...r, uuid: variable(r.uuidVar), password: variable(r.passwordVar) };
      case 'url':
      case 'host':
        return { ...r, hosts: [...roleNames(inv, r.hostRole), ...extraHosts(inv.vars, r)], label: roleLabel(inv, r.hostRole) };
      default:
        return { ...r };
    }
  });
  return { files: target.files, rules, units: target.readers, tags: logTags(target.rules), nonce };
}

// An explicit Keystone URL in the inventory (OS_AUTH_URL, KEYSTONE_URL) names the auth host too.
function extraHosts(vars: Readonly<Record<string, string>>, r: ConfigRule & { kind: 'url' | 'host' }): string[] {
  if (r.kind !== 'url' || r.port !== 5000) return [];
  const out: string[] = [];
  for (const v of [vars.OS_AUTH_URL, vars.KEYSTONE_URL]) {
    if (!v) continue;
    try {
      out.push(new URL(v).hostname);
    } catch {
      // not a URL: nothing to add
    }
  }
  return out;
}

/** Parse the reader's last output line; undefined when it printed no verdicts (python3 missing, a crash). */
export function parseReaderOutput(stdout: string): ReaderOutput | undefined {
  try {
    const out = JSON.parse(stdout.trim().split('\n').pop() ?? '') as ReaderOutput;
    return Array.isArray(out.read) && Array.isArray(out.problems) ? out : undefined;
  } catch {
    return undefined;
  }
}

/** What the run-time facts say: failures (a file changed after its service started, recent refusals), notes, evidence. */
export interface RuntimeVerdict {
  problems: string[];
  /** Those of `problems` that are refusals the services logged (what a wrong file already caused). */
  refusals: string[];
  /** Set when no service could be looked at: the result rests on the file alone, and says why. */
  fileOnly?: string;
  /** Units to restart for the stale files. */
  restart: string[];
  evidence: Evidence[];
}

/** Judge the run-time facts the reader gathered on `role` for `target` (pure: the unit tests call it). */
export function judgeRuntime(role: string, target: Pick<ConfigTarget, 'rules' | 'readers'>, rt: RuntimeFacts | undefined): RuntimeVerdict {
  if (!rt) return { problems: [], refusals: [], fileOnly: 'the reader did not report on the services', restart: [], evidence: [] };
  const labels = logTags(target.rules);
  const problems: string[] = [];
  const running = rt.units.filter((u) => u.started !== null);
  const idle = rt.units.filter((u) => u.started === null);
  let fileOnly: string | undefined;
  if (rt.note) fileOnly = rt.note;
  else if (running.length === 0) fileOnly = `${idle.map((u) => `${u.unit} is ${u.state === 'not-installed' ? 'not installed' : `not running (${u.state})`}`).join(', ')}`;

  // Files changed after a service that reads them started: grouped per file.
  const byFile = new Map<string, { mtime: number; units: { unit: string; started: number }[] }>();
  for (const s of rt.stale) {
    const e = byFile.get(s.file) ?? { mtime: s.mtime, units: [] };
    e.units.push({ unit: s.unit, started: s.started });
    byFile.set(s.file, e);
  }
  const restart = new Set<string>();
  for (const [file, e] of byFile) {
    const names = e.units.map((u) => u.unit);
    names.forEach((n) => restart.add(n));
    const one = names.length === 1;
    problems.push(
      `${file} changed at ${fmtTime(e.mtime)}, after ${names.join(', ')} started (${e.units.map((u) => fmtTime(u.started)).join(', ')}): ` +
        `the running service${one ? ' still uses' : 's still use'} the old settings; restart ${one ? 'it' : 'them'} (systemctl restart ${names.join(' ')})`,
    );
  }

  // Refusals the running services logged since they started, about the settings checked here.
  const older: LogFinding[] = [];
  const refusals: string[] = [];
  for (const f of rt.findings) {
    const about = labels[f.tag] ?? f.tag;
    const times = `${f.count} time${f.count === 1 ? '' : 's'}, last at ${fmtTime(f.last)}: "${f.sample}"`;
    if (f.kind === 'auth' && rt.now - f.last <= RECENT_LOG_S && f.down) {
      const state = rt.units.find((u) => u.unit === f.unit)?.state ?? 'down';
      refusals.push(`${f.unit} is not running (${state}): when it last started it was refused with the credentials of ${about} (${times}); it exits at start until they work`);
    } else if (f.kind === 'auth' && rt.now - f.last <= RECENT_LOG_S) {
      refusals.push(`${f.unit} has been refused with the credentials of ${about} since it started (${times})`);
    } else older.push(f);
  }
  problems.push(...refusals);

  const lines: string[] = [];
  for (const u of rt.units) {
    const head = u.started !== null ? `${u.unit}: running since ${fmtTime(u.started)}` : `${u.unit}: ${u.state === 'not-installed' ? 'not installed' : u.state === 'unknown' ? 'state unknown' : `not running (${u.state})`} — it reads the file when it starts`;
    const files = Object.entries(u.files).map(([f, m]) => `${f} modified ${fmtTime(m)}`);
    const since = u.started !== null ? 'the start' : `its last start (${fmtTime(u.lastStart ?? 0)})`;
    const log = u.log ? `log: ${u.log.source}${u.log.cut ? ' (last 4 MB)' : ''} scanned since ${since}` : u.started !== null ? 'log: none found (not scanned)' : '';
    lines.push([head, ...files.map((x) => `  ${x}`), ...(log ? [`  ${log}`] : [])].join('\n'));
  }
  if (rt.note) lines.unshift(`run time not checked: ${rt.note}`);
  if (older.length > 0) {
    lines.push('log lines about the checked settings (evidence; not failures: connection errors, or refusals older than 10 min):');
    for (const f of older) lines.push(`  ${f.unit}: ${f.kind} error about ${labels[f.tag] ?? f.tag}, ${f.count}×, ${fmtTime(f.first)} – ${fmtTime(f.last)}: ${f.sample}`);
  }
  const evidenceList = [evidence.text(`${role}: services reading the configuration`, lines.join('\n'))];
  return { problems, refusals, ...(fileOnly ? { fileOnly } : {}), restart: [...restart], evidence: evidenceList };
}

// The second side of a shared secret, read on its own host: equal to ours (digests under the same nonce) or not.
async function peerAgrees(s: CheckSession, peer: PeerSetting, nonce: string, own: string | undefined): Promise<boolean | string> {
  if (!s.expected.installed.has(peer.needs)) return `not installed there yet`;
  try {
    const spec = { files: [], rules: [{ kind: 'digest', section: peer.section, key: peer.key, file: peer.file }], nonce };
    const r = await s.run(peer.role, `python3 -c ${shQuote(CONFIG_SCRIPT)}`, 20_000, JSON.stringify(spec));
    const out = parseReaderOutput(r.stdout);
    if (!out) return 'unreadable';
    if (out.problems.length > 0) return out.problems.join('; ');
    const theirs = out.digests?.['0'];
    return theirs !== undefined && own !== undefined && theirs === own;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/**
 * The problem of a shared secret that differs from the inventory's, naming both files: whether the other side holds
 * the same secret (`true`: the inventory is out of date), another one (`false`), or could not be compared (why).
 */
export function sharedMessage(r: ConfigRule & { kind: 'shared' }, agrees: boolean | string): string {
  const mine = `[${r.section}] ${r.key} in ${r.file}`;
  const theirs = `[${r.peer.section}] ${r.peer.key} in ${r.peer.file} on ${r.peer.role}`;
  if (agrees === true) return `${mine} differs from ${r.passwordVar}, but holds the same secret as ${theirs}: the two sides agree, the inventory's ${r.passwordVar} is not the deployed one`;
  if (agrees === false) return `${mine} differs from ${r.passwordVar} and from ${theirs}: both must hold ${r.passwordVar}, or Nova refuses the metadata agent's requests (instances get no metadata)`;
  return `${mine} differs from ${r.passwordVar}; ${theirs} must hold the same secret (${agrees})`;
}

/** The stage a failure's remedy points at: the one that writes the first wrong setting, else the files' own. */
export function remedyStage(target: Pick<ConfigTarget, 'rules' | 'stage'>, problemRules: readonly number[]): InstallKey {
  const first = target.rules[problemRules[0] ?? -1];
  return first?.stage ?? target.stage;
}

/**
 * Verify a service's configuration on its host against the inventory, and that its running services use it;
 * fails listing every mismatch, pointing the remedy at the stage that writes these files on this host.
 */
export async function checkConfig(s: CheckSession, role: string, target: ConfigTarget, t?: CheckTools): Promise<void> {
  const nonce = randomBytes(32).toString('hex');
  const spec = readerSpec(s.inventory, (n) => s.variable(n), target, nonce);
  const r = await s.run(role, `python3 -c ${shQuote(CONFIG_SCRIPT)}`, 30_000, JSON.stringify(spec));
  const out = parseReaderOutput(r.stdout);
  if (!out) throw new CheckBroken(`cannot read the configuration on ${role}`, [s.commandEvidence({ ...r, command: `python3 (config reader) ${target.files.join(' ')}` })]);
  if (out.read.length === 0) throw new CheckBroken(`${target.files[0]} does not exist on ${role} (service not installed yet)`);

  const owners = out.problemRules ?? [];
  const fileProblems = await Promise.all(
    out.problems.map(async (p, i) => {
      const rule = target.rules[owners[i] ?? -1];
      // A shared secret that differs from the inventory's: the other side, asked on its host, says who disagrees.
      if (rule?.kind !== 'shared' || !p.endsWith(`differs from ${rule.passwordVar}`)) return p;
      return sharedMessage(rule, await peerAgrees(s, rule.peer, nonce, out.digests?.[String(owners[i])]));
    }),
  );
  const rt = judgeRuntime(role, target, out.runtime);
  const ev = [...rt.evidence, ...(target.notes ?? []).map((n) => evidence.text(`${role}: note`, n))];
  const units = target.readers.map((x) => x.unit);
  const restartAll = `systemctl restart ${[...new Set(units)].join(' ')}`;
  const onlyFile = rt.fileOnly ? ` (only the files were read: ${rt.fileOnly})` : '';

  if (fileProblems.length > 0) {
    const stage = remedyStage(target, owners);
    // What the services did with the wrong settings is part of what the student must read (a service refused at start
    // and restarted in a loop), not only evidence. (Not "restart it" for a file changed since: with a wrong file,
    // the restart would break the running service.)
    const runtime = rt.refusals.length > 0 ? `; at run time: ${rt.refusals.join('; ')}` : onlyFile;
    const failure = new CheckFailure(`${target.files.join(' + ')} on ${role} using the inventory's hosts and passwords`, `${fileProblems.join('; ')}${runtime}`, [
      ...ev,
      ...rt.problems.map((p) => evidence.text(`${role}: also found at run time`, p)),
    ]);
    throw failure.fixAt(stage, `${target.remedy}; then ${restartAll}`);
  }
  if (rt.problems.length > 0) {
    const failure = new CheckFailure(`${target.files.join(' + ')} on ${role} in effect in the services that read ${target.files.length === 1 ? 'it' : 'them'} (${units.join(', ')})`, rt.problems.join('; '), ev);
    const restart = rt.restart.length > 0 ? `systemctl restart ${rt.restart.join(' ')}` : restartAll;
    throw failure.fixAt(target.stage, `the running services must use the settings in the files: ${restart}; if they are refused with the file's credentials, the other side (Keystone user, MariaDB grant, RabbitMQ user) differs — see the keystone.*-user, mysql.users and rabbitmq.user checks`);
  }
  if (rt.fileOnly) t?.attach(evidence.text(`${role}: only the files were read`, `the services' run time was not checked: ${rt.fileOnly}`));
  for (const e of ev) t?.attach(e);
}

/** Which Cinder backend the inventory describes: `CINDER_BACKEND` (its name), else `CINDER_DISK` (LVM), else Ceph variables (RBD). */
export function cinderBackend(vars: Readonly<Record<string, string>>): { name?: string; driver?: 'rbd' | 'lvm'; why: string } {
  const ceph = !!(vars.CEPH_CINDER_KEY || vars.CEPH_CINDER_SECRET_UUID || vars.CEPH_FSID);
  const named = vars.CINDER_BACKEND;
  if (named) {
    if (/rbd|ceph/i.test(named)) return { name: named, driver: 'rbd', why: `CINDER_BACKEND=${named}` };
    if (/lvm/i.test(named)) return { name: named, driver: 'lvm', why: `CINDER_BACKEND=${named}` };
    if (ceph) return { name: named, driver: 'rbd', why: `CINDER_BACKEND=${named} with Ceph variables` };
    if (vars.CINDER_DISK) return { name: named, driver: 'lvm', why: `CINDER_BACKEND=${named} with CINDER_DISK` };
    return { name: named, why: `CINDER_BACKEND=${named} (driver unknown: neither Ceph variables nor CINDER_DISK)` };
  }
  // CINDER_DISK is only the LVM stage's (a secrets file shared by both tutorials may still hold CEPH_CINDER_KEY).
  if (vars.CINDER_DISK) return { name: 'lvm', driver: 'lvm', why: `the inventory sets CINDER_DISK: the LVM + iSCSI backend${ceph ? ' (it also has Ceph variables: set CINDER_BACKEND=ceph for the RBD one)' : ''}` };
  if (ceph) return { name: 'ceph', driver: 'rbd', why: 'the inventory has Ceph variables (CEPH_*) and no CINDER_DISK: the RBD backend of the lab variant' };
  return { why: 'the inventory names no backend (CINDER_BACKEND, CEPH_* or CINDER_DISK): only enabled_backends is checked' };
}

export type ConfigSide = 'controller' | 'compute' | 'volume';

/**
 * Where a service's settings live on one host and what they must be, per the tutorial's file steps: `controller`
 * (the service's own host), `compute` (nova and neutron on a compute host), `volume` (cinder-volume's host).
 * `vars` decides the storage backend; `role` is the host checked (default: the service's role).
 */
export function serviceConfig(
  e: Expected,
  name: 'keystone' | 'glance' | 'placement' | 'nova' | 'neutron' | 'cinder',
  side: ConfigSide = 'controller',
  opts: { vars?: Readonly<Record<string, string>>; role?: string } = {},
): ConfigTarget {
  const vars = opts.vars ?? {};
  const svcOf = (n: string): Expected['allServices'][number] | undefined => e.services.find((x) => x.name === n) ?? e.allServices.find((x) => x.name === n);
  const svc = svcOf(name);
  const roleOf = (n: string, dflt: string): string => svcOf(n)?.role ?? dflt;
  const auth = roleOf('keystone', 'auth-node');
  const imageRole = roleOf('glance', 'image-node');
  const apiRole = roleOf('nova', 'api-node');
  const netRole = roleOf('neutron', 'network-node');
  const volRole = e.cinderVolumeRole;
  const host = opts.role ?? (side === 'volume' ? volRole : (svc?.role ?? name));
  const userOf = (n: string, dfltVar: string): { name: string; passwordVar: string } => svcOf(n)?.user ?? { name: n, passwordVar: dfltVar };

  const mq: ConfigRule = { kind: 'mq', section: 'DEFAULT', key: 'transport_url', user: e.rabbit.user, passwordVar: e.rabbit.passwordVar, hostRole: e.mqRole, port: 5672 };
  const db = (section: string, schema: string): ConfigRule[] =>
    svc?.db ? [{ kind: 'db', section, key: 'connection', user: svc.db.user, passwordVar: svc.db.passwordVar, hostRole: e.dbRole, schema }] : [];
  // A Keystone credentials section: the user and its password, on the auth host's :5000, in the service project.
  const keystone = (section: string, user: { name: string; passwordVar: string }, opt: { www?: boolean } = {}): ConfigRule[] => [
    { kind: 'value', section, key: 'username', value: user.name },
    { kind: 'password', section, key: 'password', passwordVar: user.passwordVar },
    { kind: 'url', section, key: 'auth_url', hostRole: auth, port: 5000 },
    ...(opt.www ? [{ kind: 'url', section, key: 'www_authenticate_uri', hostRole: auth, port: 5000, optional: true } as const] : []),
    { kind: 'value', section, key: 'auth_type', value: 'password' },
    { kind: 'value', section, key: 'project_name', value: e.serviceProject },
    { kind: 'value', section, key: 'region_name', value: e.region, optional: true },
  ];
  const own = svc?.user ?? { name, passwordVar: `${name.toUpperCase()}_PASS` };
  const myIp: ConfigRule = { kind: 'host', section: 'DEFAULT', key: 'my_ip', hostRole: host, optional: true };
  const readers = (units: string[], files: string[]): ConfigReader[] => units.map((unit) => ({ unit, files }));
  const remedy = (files: string[], what: string): string =>
    `set the settings named in the message in ${files.join(' and ')} on ${host} as ${what} writes them (hosts and passwords from the inventory)`;

  switch (name) {
    case 'keystone': {
      const files = ['/etc/keystone/keystone.conf'];
      return { files, rules: db('database', 'keystone'), readers: readers(['keystone'], files), stage: 'keystone', remedy: remedy(files, 'the Keystone stage') };
    }
    case 'glance': {
      const files = ['/etc/glance/glance-api.conf'];
      return {
        files,
        rules: [...db('database', 'glance'), ...keystone('keystone_authtoken', own, { www: true })],
        readers: readers(['glance-api'], files),
        stage: 'glance',
        remedy: remedy(files, 'the Glance stage'),
      };
    }
    case 'placement': {
      const files = ['/etc/placement/placement.conf'];
      return {
        files,
        rules: [...db('placement_database', 'placement'), ...keystone('keystone_authtoken', own, { www: true })],
        readers: readers(['placement-api'], files),
        stage: 'placement',
        remedy: remedy(files, 'the Placement stage'),
      };
    }
    case 'nova': {
      // What Nova uses to reach the others, on the controller and on each compute host alike.
      const wiring: ConfigRule[] = [
        ...keystone('keystone_authtoken', own, { www: true }),
        ...keystone('service_user', own),
        { kind: 'bool', section: 'service_user', key: 'send_service_user_token', value: true },
        ...keystone('placement', userOf('placement', 'PLACEMENT_PASS')),
        { kind: 'url', section: 'glance', key: 'api_servers', hostRole: imageRole, port: 9292, list: true },
        ...keystone('neutron', userOf('neutron', 'NEUTRON_PASS')),
      ];
      const cinder: ConfigRule = { kind: 'value', section: 'cinder', key: 'os_region_name', value: e.region };
      if (side === 'compute') {
        const files = ['/etc/nova/nova.conf', '/etc/nova/nova-compute.conf'];
        const backend = cinderBackend(vars);
        // The lab variant's Cinder on Ceph: QEMU reaches the volumes as the Ceph user whose key libvirt keeps.
        const ceph: ConfigRule[] =
          e.installed.has('cinder-volume') && backend.driver === 'rbd'
            ? [
                { kind: 'value', section: 'libvirt', key: 'rbd_user', value: vars.CEPH_USER ?? 'cinder', stage: 'cinder-volume' },
                ...(vars.CEPH_CINDER_SECRET_UUID ? [{ kind: 'value', section: 'libvirt', key: 'rbd_secret_uuid', value: vars.CEPH_CINDER_SECRET_UUID, stage: 'cinder-volume' } as const] : []),
                ...(vars.CEPH_CINDER_SECRET_UUID && vars.CEPH_CINDER_KEY ? [{ kind: 'libvirt-secret', uuidVar: 'CEPH_CINDER_SECRET_UUID', passwordVar: 'CEPH_CINDER_KEY', stage: 'cinder-volume' } as const] : []),
                ...cephConf(vars, e.cinderVolumeRole),
              ]
            : [];
        return {
          files,
          rules: [
            myIp,
            mq,
            ...wiring,
            cinder,
            { kind: 'url', section: 'vnc', key: 'novncproxy_base_url', hostRole: apiRole, port: 6080 },
            ...ceph,
          ],
          readers: readers(['nova-compute'], files),
          stage: 'nova-compute',
          remedy: remedy(files, 'the nova-compute stage (the [libvirt] rbd_* settings and the libvirt secret: the cinder-volume stage)'),
        };
      }
      const files = ['/etc/nova/nova.conf'];
      return {
        files,
        rules: [
          myIp,
          ...db('api_database', 'nova_api'),
          ...db('database', 'nova'),
          mq,
          ...wiring,
          { kind: 'bool', section: 'neutron', key: 'service_metadata_proxy', value: true },
          {
            kind: 'shared',
            section: 'neutron',
            key: 'metadata_proxy_shared_secret',
            file: '/etc/nova/nova.conf',
            passwordVar: 'METADATA_SECRET',
            peer: { role: netRole, file: '/etc/neutron/metadata_agent.ini', section: 'DEFAULT', key: 'metadata_proxy_shared_secret', needs: 'neutron' },
          },
          cinder,
        ],
        readers: readers(['nova-api', 'nova-api-metadata', 'nova-scheduler', 'nova-conductor', 'nova-novncproxy'], files),
        stage: 'nova-controller',
        remedy: remedy(files, 'the Nova controller stage'),
      };
    }
    case 'neutron': {
      const files = ['/etc/neutron/neutron.conf'];
      const bridge = '/etc/neutron/plugins/ml2/linuxbridge_agent.ini';
      const localIp: ConfigRule = { kind: 'host', section: 'vxlan', key: 'local_ip', file: bridge, hostRole: host };
      if (side === 'compute') {
        return {
          files,
          rules: [mq, localIp],
          readers: [{ unit: 'neutron-linuxbridge-agent', files: [...files, bridge] }],
          stage: 'neutron',
          remedy: remedy([...files, bridge], 'the Neutron stage'),
        };
      }
      const metadata = '/etc/neutron/metadata_agent.ini';
      return {
        files,
        rules: [
          ...db('database', 'neutron'),
          mq,
          ...keystone('keystone_authtoken', own, { www: true }),
          ...keystone('nova', userOf('nova', 'NOVA_PASS')),
          localIp,
          { kind: 'host', section: 'DEFAULT', key: 'nova_metadata_host', file: metadata, hostRole: apiRole },
          {
            kind: 'shared',
            section: 'DEFAULT',
            key: 'metadata_proxy_shared_secret',
            file: metadata,
            passwordVar: 'METADATA_SECRET',
            peer: { role: apiRole, file: '/etc/nova/nova.conf', section: 'neutron', key: 'metadata_proxy_shared_secret', needs: 'nova-controller' },
          },
        ],
        readers: [
          ...readers(['neutron-api', 'neutron-rpc-server', 'neutron-dhcp-agent', 'neutron-l3-agent'], files),
          { unit: 'neutron-linuxbridge-agent', files: [...files, bridge] },
          { unit: 'neutron-metadata-agent', files: [...files, metadata] },
        ],
        stage: 'neutron',
        remedy: remedy([...files, metadata, bridge], 'the Neutron stage'),
      };
    }
    case 'cinder': {
      const files = ['/etc/cinder/cinder.conf'];
      const common: ConfigRule[] = [myIp, ...db('database', 'cinder'), mq, ...keystone('keystone_authtoken', own, { www: true })];
      // Cinder's API trusts Nova's service token only with the service role (detaching a volume needs it).
      const apiOnly: ConfigRule[] = [
        { kind: 'bool', section: 'keystone_authtoken', key: 'service_token_roles_required', value: true },
        { kind: 'contains', section: 'keystone_authtoken', key: 'service_token_roles', value: 'service', optional: true },
      ];
      const apiUnits = ['cinder-api', 'cinder-scheduler'];
      if (side === 'volume') {
        const backend = cinderBackend(vars);
        // cinder-volume on the API's host: one cinder.conf holds both parts.
        const withApi = host === svc?.role;
        return {
          files,
          rules: [
            ...common,
            ...(withApi ? apiOnly : []),
            { kind: 'url', section: 'DEFAULT', key: 'glance_api_servers', hostRole: imageRole, port: 9292, list: true },
            ...backendRules(vars, backend, volRole),
          ],
          readers: readers([...(withApi ? apiUnits : []), 'cinder-volume'], files),
          stage: 'cinder-volume',
          remedy: remedy(files, 'the cinder-volume stage'),
          notes: [`storage backend: ${backend.why}`],
        };
      }
      return { files, rules: [...common, ...apiOnly], readers: readers(apiUnits, files), stage: 'cinder', remedy: remedy(files, 'the Cinder stage') };
    }
  }
}

// Ceph's client configuration: the monitor on the Ceph host, the cluster id of the inventory.
function cephConf(vars: Readonly<Record<string, string>>, volRole: string): ConfigRule[] {
  const file = '/etc/ceph/ceph.conf';
  const mon = vars.CEPH_MON_ROLE ?? volRole;
  return [
    { kind: 'host', section: 'global', key: 'mon_host', file, hostRole: mon, stage: 'cinder-volume', tag: 'rbd' },
    ...(vars.CEPH_FSID ? [{ kind: 'value', section: 'global', key: 'fsid', file, value: vars.CEPH_FSID, stage: 'cinder-volume', tag: 'rbd' } as const] : []),
  ] as ConfigRule[];
}

// The backend section of cinder.conf on the volume host: RBD (pool, user, secret uuid, keyring) or LVM (group, iSCSI address).
function backendRules(vars: Readonly<Record<string, string>>, backend: ReturnType<typeof cinderBackend>, volRole: string): ConfigRule[] {
  if (!backend.name) return [{ kind: 'set', section: 'DEFAULT', key: 'enabled_backends' }];
  const section = backend.name;
  const base: ConfigRule[] = [{ kind: 'contains', section: 'DEFAULT', key: 'enabled_backends', value: section }];
  if (backend.driver === 'rbd') {
    const user = vars.CEPH_USER ?? 'cinder';
    return [
      ...base,
      ...([
        { kind: 'value', section, key: 'volume_driver', value: 'cinder.volume.drivers.rbd.RBDDriver' },
        { kind: 'value', section, key: 'rbd_pool', value: vars.CEPH_POOL ?? 'volumes' },
        { kind: 'value', section, key: 'rbd_user', value: user },
        vars.CEPH_CINDER_SECRET_UUID ? { kind: 'value', section, key: 'rbd_secret_uuid', value: vars.CEPH_CINDER_SECRET_UUID } : { kind: 'set', section, key: 'rbd_secret_uuid' },
        { kind: 'value', section, key: 'rbd_ceph_conf', value: '/etc/ceph/ceph.conf', optional: true },
      ] as const).map((r) => ({ ...r, tag: 'rbd' })),
      ...cephConf(vars, volRole),
      ...(vars.CEPH_CINDER_KEY ? [{ kind: 'keyring', file: `/etc/ceph/ceph.client.${user}.keyring`, entity: `client.${user}`, passwordVar: 'CEPH_CINDER_KEY', readableBy: 'cinder' } as const] : []),
    ] as ConfigRule[];
  }
  if (backend.driver === 'lvm') {
    return [
      ...base,
      { kind: 'value', section, key: 'volume_driver', value: 'cinder.volume.drivers.lvm.LVMVolumeDriver' },
      { kind: 'value', section, key: 'volume_group', value: vars.CINDER_VG ?? 'cinder-volumes' },
      { kind: 'value', section, key: 'target_protocol', value: 'iscsi', optional: true },
      { kind: 'value', section, key: 'target_helper', value: 'tgtadm', optional: true },
      { kind: 'host', section, key: 'target_ip_address', hostRole: volRole, optional: true },
    ];
  }
  return [...base, { kind: 'set', section, key: 'volume_driver' }];
}
