// How the hosts are wired to each other: which hosts use the database and the message queue (and must reach them),
// the TCP probe run on those hosts, host names against the inventory's addresses, and clock agreement.
import type { Inventory } from '../inventory/types.js';
import { shQuote } from '../ssh/exec.js';
import { roleAddress, type Expected } from './expect.js';

/** A host that uses a shared service, and for which of the tutorial's services. */
export interface ClientHost {
  role: string;
  services: string[];
}

// Group (role, service) pairs by role, keeping the inventory's order of roles.
function byRole(inv: Inventory, pairs: [string, string][]): ClientHost[] {
  const roles = Object.keys(inv.hosts);
  const map = new Map<string, Set<string>>();
  for (const [role, svc] of pairs) {
    if (!inv.hosts[role]) continue;
    map.set(role, (map.get(role) ?? new Set()).add(svc));
  }
  return roles.filter((r) => map.has(r)).map((role) => ({ role, services: [...map.get(role)!] }));
}

/**
 * Hosts whose services use MariaDB: every service's API host (the MariaDB stage creates all the databases, so all of
 * them from that stage on), and cinder-volume's host (it writes volume states to the cinder database).
 */
export function databaseClients(e: Expected, inv: Inventory): ClientHost[] {
  const pairs: [string, string][] = e.allServices.filter((s) => s.db).map((s) => [s.db!.clientRole, s.name]);
  pairs.push([e.cinderVolumeRole, 'cinder-volume']);
  return byRole(inv, pairs);
}

/** MariaDB users and the hosts that log in with them (for the grants). */
export function databaseUsers(e: Expected, inv: Inventory): { user: string; schemas: string[]; roles: string[] }[] {
  return e.allServices
    .filter((s) => s.db)
    .map((s) => {
      const d = s.db!;
      const roles = [d.clientRole, ...(s.name === 'cinder' ? [e.cinderVolumeRole] : [])].filter((r, i, a) => inv.hosts[r] && a.indexOf(r) === i);
      return { user: d.user, schemas: d.schemas, roles };
    });
}

/**
 * Hosts whose services use RabbitMQ (a transport_url in the tutorial): Nova's controller and compute hosts, Neutron's
 * server and every Linux bridge agent host, cinder-api/scheduler and cinder-volume.
 */
export function messageQueueClients(e: Expected, inv: Inventory): ClientHost[] {
  const role = (name: string): string | undefined => e.allServices.find((s) => s.name === name)?.role;
  const pairs: [string, string][] = [];
  const nova = role('nova');
  const neutron = role('neutron');
  const cinder = role('cinder');
  if (nova) pairs.push([nova, 'nova']);
  if (neutron) pairs.push([neutron, 'neutron']);
  if (cinder) pairs.push([cinder, 'cinder']);
  pairs.push([e.cinderVolumeRole, 'cinder-volume']);
  for (const c of e.computeRoles) pairs.push([c, 'nova-compute'], [c, 'neutron-linuxbridge-agent']);
  return byRole(inv, pairs);
}

/**
 * A bounded TCP probe run on a host: connect to host:port within 5 s (bash's /dev/tcp), and with `read`, print in hex
 * what the server sends first (MariaDB greets, or refuses the host, before the client says anything).
 */
export function tcpProbeScript(host: string, port: number, read: boolean): string {
  const inner = `exec 3<>"/dev/tcp/$1/$2" || exit 3; echo CONNECTED; if [ "$3" = 1 ]; then timeout 3 dd bs=1024 count=1 <&3 2>/dev/null | od -An -tx1 -v; fi`;
  return [
    'start=$(date +%s%N)',
    `out=$(timeout 5 bash -c ${shQuote(inner)} probe ${shQuote(host)} ${port} ${read ? 1 : 0} 2>&1); rc=$?`,
    'end=$(date +%s%N)',
    'printf "RC %s\\nMS %s\\n%s\\n" "$rc" "$(( (end - start) / 1000000 ))" "$out"',
  ].join('\n');
}

/** What the probe found. */
export interface TcpProbe {
  connected: boolean;
  /** Milliseconds the connection (and read) took on the host. */
  ms: number;
  /** Why it did not connect (the shell's words, or "no answer within 5 s"). */
  error?: string;
  /** Bytes the server sent first (with `read`). */
  bytes: number[];
}

/** Parse the output of `tcpProbeScript`. */
export function parseTcpProbe(out: string): TcpProbe {
  const lines = out.replace(/\r/g, '').split('\n');
  const rc = Number(/^RC (\d+)/.exec(lines[0] ?? '')?.[1] ?? NaN);
  const ms = Number(/^MS (-?\d+)/.exec(lines[1] ?? '')?.[1] ?? NaN);
  const rest = lines.slice(2);
  const connected = rest.includes('CONNECTED');
  const bytes = connected
    ? rest
        .slice(rest.indexOf('CONNECTED') + 1)
        .join(' ')
        .trim()
        .split(/\s+/)
        .filter((x) => /^[0-9a-f]{2}$/i.test(x))
        .map((x) => parseInt(x, 16))
    : [];
  if (connected) return { connected, ms, bytes };
  // bash says `probe: connect: Connection refused`, then `probe: line 1: /dev/tcp/h/p: Connection refused`
  const said = rest.map((l) => l.replace(/^probe: /, '').trim()).filter(Boolean);
  const reason = said.find((l) => l.startsWith('connect: '))?.slice('connect: '.length) ?? said[0];
  const error = rc === 124 ? 'no answer within 5 s (dropped by a firewall, or the address is not there)' : (reason ?? `exit status ${Number.isNaN(rc) ? 'unknown' : rc}`).toLowerCase();
  return { connected, ms, error, bytes };
}

/** What a MariaDB server's first packet says: its greeting (with the version) or why it refuses this host. */
export function mysqlFirstPacket(bytes: readonly number[]): { ok: true; version: string } | { ok: false; code?: number; text: string } {
  if (bytes.length < 5) return { ok: false, text: bytes.length === 0 ? 'nothing (the port answers but sends no MariaDB greeting within 3 s)' : 'a truncated packet' };
  const body = bytes.slice(4);
  if (body[0] === 0x0a) {
    const end = body.indexOf(0, 1);
    return { ok: true, version: String.fromCharCode(...body.slice(1, end > 0 ? end : undefined)) };
  }
  if (body[0] === 0xff) {
    const code = (body[1] ?? 0) + (body[2] ?? 0) * 256;
    let msg = body.slice(3);
    if (msg[0] === 0x23) msg = msg.slice(6);
    return { ok: false, code, text: `error ${code}: ${Buffer.from(msg).toString('utf8')}` };
  }
  return { ok: false, text: `not a MariaDB greeting (first byte 0x${(body[0] ?? 0).toString(16)})` };
}

/** One name the inventory expects every host to resolve, and to what. */
export interface NameExpectation {
  name: string;
  role: string;
  address: string;
  /** Where the address comes from: `COMPUTE_1_IP`, or the host's address in the inventory. */
  source: string;
}

/** The names to resolve: each role, and its host name when it differs, at the role's address (`<ROLE>_IP`, else the SSH address). */
export function nameExpectations(inv: Inventory): NameExpectation[] {
  const out: NameExpectation[] = [];
  for (const [role, h] of Object.entries(inv.hosts)) {
    const address = roleAddress(inv, role);
    if (!address) continue;
    const varName = `${role.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_IP`;
    const source = inv.vars[varName] !== undefined ? varName : `the inventory's address of ${role}`;
    for (const name of [...new Set([role, h.hostname])]) out.push({ name, role, address, source });
  }
  return out;
}

/** Whether a string is an IPv4 or IPv6 address literal (not a name). */
export function isIpLiteral(a: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(a) || (a.includes(':') && /^[0-9a-f:.]+$/i.test(a));
}

/** Everything to look up on a host: the names, and the expected addresses that are names themselves (DNS-named hosts). */
export function namesToResolve(expected: readonly NameExpectation[]): string[] {
  return [...new Set([...expected.map((x) => x.name), ...expected.map((x) => x.address).filter((a) => !isIpLiteral(a))])];
}

/** The script that resolves names on a host: one line per name, `name<TAB>address address…` (in resolver order). */
export function resolveScript(names: readonly string[]): string {
  return `for n in ${names.map(shQuote).join(' ')}; do printf '%s\\t%s\\n' "$n" "$(getent ahosts "$n" | awk '$2 == "STREAM" { print $1 }' | tr '\\n' ' ')"; done`;
}

/** Parse the output of `resolveScript`. */
export function parseResolved(out: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const line of out.replace(/\r/g, '').split('\n')) {
    const [name, addrs] = line.split('\t');
    if (!name || addrs === undefined) continue;
    m.set(name, [...new Set(addrs.trim().split(/\s+/).filter(Boolean))]);
  }
  return m;
}

/** What is wrong with name resolution on one host (empty: every name resolves first to its inventory address). */
export function nameProblems(resolved: Map<string, string[]>, expected: readonly NameExpectation[]): string[] {
  const problems: string[] = [];
  for (const x of expected) {
    const got = resolved.get(x.name);
    if (got === undefined) {
      problems.push(`${x.name} was not looked up`);
      continue;
    }
    if (got.length === 0) {
      problems.push(`${x.name} does not resolve (expected ${x.address} from ${x.source})`);
      continue;
    }
    // an address given as a DNS name: what it resolves to on the same host
    const want = isIpLiteral(x.address) ? [x.address] : (resolved.get(x.address) ?? []);
    if (want.includes(got[0]!)) continue;
    const wantText = isIpLiteral(x.address) ? x.address : `${x.address} (${want.join(', ') || 'which does not resolve'})`;
    const also = got.some((a) => want.includes(a)) ? ` first, then ${got.filter((a) => a !== got[0]).join(', ')}` : '';
    const loop = /^127\./.test(got[0]!) ? ` (a ${got[0]} line for ${x.name} in /etc/hosts: remove it)` : '';
    problems.push(`${x.name} resolves to ${got[0]}${also}, not ${wantText} (${x.source})${loop}`);
  }
  return problems;
}

/** `date +%s.%N` as milliseconds since the epoch (undefined when it is not that). */
export function parseEpochMs(out: string): number | undefined {
  const m = /(\d{9,})\.(\d{1,9})/.exec(out);
  if (!m) return undefined;
  return Number(m[1]) * 1000 + Number(m[2]!.padEnd(9, '0')) / 1e6;
}

/** One host's clock reading: its offset from this machine's clock (at the middle of the round trip) and ± half the round trip. */
export interface ClockSample {
  role: string;
  offsetMs: number;
  uncertaintyMs: number;
}

/** The offset of a reading taken between local times t0 and t1. */
export function clockSample(role: string, remoteMs: number, t0: number, t1: number): ClockSample {
  return { role, offsetMs: remoteMs - (t0 + t1) / 2, uncertaintyMs: (t1 - t0) / 2 };
}

/** How each host's clock compares with the reference: this machine's clock, or the hosts' median when they agree among themselves and not with it. */
export interface ClockVerdicts {
  reference: 'local' | 'hosts';
  /** The reference's offset from this machine's clock. */
  referenceMs: number;
  byRole: Map<string, { ok: boolean; deltaMs: number; uncertaintyMs: number }>;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Judge every sample against the tolerance (a host passes when |delta| ≤ tolerance + its uncertainty). */
export function clockVerdicts(samples: readonly ClockSample[], toleranceMs: number): ClockVerdicts {
  const within = (x: ClockSample, ref: number): boolean => Math.abs(x.offsetMs - ref) <= toleranceMs + x.uncertaintyMs;
  let reference: 'local' | 'hosts' = 'local';
  let referenceMs = 0;
  if (samples.length >= 2) {
    const m = median(samples.map((x) => x.offsetMs));
    const agreeWithMedian = samples.filter((x) => within(x, m)).length;
    const agreeWithLocal = samples.filter((x) => within(x, 0)).length;
    // this machine is the odd one out: most hosts agree with each other, not with it
    if (agreeWithMedian > samples.length / 2 && agreeWithMedian > agreeWithLocal) {
      reference = 'hosts';
      referenceMs = m;
    }
  }
  const byRole = new Map(samples.map((x) => [x.role, { ok: within(x, referenceMs), deltaMs: x.offsetMs - referenceMs, uncertaintyMs: x.uncertaintyMs }]));
  return { reference, referenceMs, byRole };
}

/** `+1.234 s` / `-0.020 s`. */
export function signedSeconds(ms: number): string {
  return `${ms >= 0 ? '+' : '-'}${(Math.abs(ms) / 1000).toFixed(3)} s`;
}
