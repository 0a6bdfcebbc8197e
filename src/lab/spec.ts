// The lab layout: which roles exist, their addresses, the bridge and subnet they live on.
// Default: the tutorial's seven hosts on labbr0, 10.99.0.0/24. A YAML file (`--spec`) may override it.
import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { StackcheckError, ExitCode } from '../error.js';

/** One lab host: a role of the tutorial played by one LXC container. */
export interface LabHost {
  role: string;
  address: string;
  hostname: string;
  /** Compute hosts get /dev/net/tun and (when the machine has a working one) /dev/kvm. */
  compute: boolean;
}

/** A whole lab: name, bridge, subnet and hosts. */
export interface LabSpec {
  name: string;
  bridge: string;
  /** Network address of the /prefix subnet, e.g. 10.99.0.0. */
  network: string;
  prefix: number;
  /** The host machine's address on the bridge (the package cache listens there). */
  bridgeAddress: string;
  hosts: LabHost[];
}

export const DEFAULT_ROLES = [
  'db-node',
  'auth-node',
  'image-node',
  'api-node',
  'network-node',
  'volume-node',
  'compute-1',
] as const;

// The default seven-host layout: 10.99.0.11 … 10.99.0.17 on labbr0.
export function defaultSpec(): LabSpec {
  return {
    name: 'lab',
    bridge: 'labbr0',
    network: '10.99.0.0',
    prefix: 24,
    bridgeAddress: '10.99.0.1',
    hosts: DEFAULT_ROLES.map((role, i) => ({ role, address: `10.99.0.${11 + i}`, hostname: role, compute: isComputeRole(role) })),
  };
}

// A role named compute… is a hypervisor unless the spec says otherwise.
function isComputeRole(role: string): boolean {
  return /^compute/.test(role);
}

const NAME = /^[a-z][a-z0-9]{0,7}$/;
const ROLE = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/;
const IFNAME = /^[a-zA-Z][a-zA-Z0-9_.-]{0,14}$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

const hostSchema = z
  .object({
    address: z.string().regex(IPV4, 'must be an IPv4 address such as 10.99.0.11'),
    hostname: z.string().regex(ROLE, 'must be a host name: lower-case letters, digits and -').optional(),
    compute: z.boolean().optional(),
  })
  .strict();

const specSchema = z
  .object({
    name: z.string().regex(NAME, 'must be 1-8 lower-case letters or digits, starting with a letter').optional(),
    bridge: z.string().regex(IFNAME, 'must be a network interface name of at most 15 characters').optional(),
    subnet: z
      .string()
      .regex(/^[0-9.]+\/(1[6-9]|2[0-9]|30)$/, 'must be an IPv4 subnet in CIDR form, /16 to /30, such as 10.99.0.0/24')
      .optional(),
    bridge_address: z.string().regex(IPV4, 'must be an IPv4 address').optional(),
    hosts: z.record(z.string(), hostSchema),
  })
  .strict();

// Dotted quad → 32-bit unsigned number.
export function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

// 32-bit unsigned number → dotted quad.
export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => String(Math.floor(n / 2 ** s) % 256)).join('.');
}

// Whether `ip` is a usable host address (not network, not broadcast) of network/prefix.
export function inSubnet(ip: string, network: string, prefix: number): boolean {
  const size = 2 ** (32 - prefix);
  const base = ipToInt(network);
  const n = ipToInt(ip);
  return n > base && n < base + size - 1;
}

// An input error in the spec file, naming the file and the field (exit 2).
function specError(file: string, field: string, message: string, cause?: unknown): StackcheckError {
  return new StackcheckError('E_LAB', `${file}: ${field}: ${message}`, {
    exitCode: ExitCode.badInput,
    hint: 'see docs/lab.md for the spec format',
    cause,
  });
}

// Read and validate a YAML lab spec; every error names the file and the field.
export function loadSpec(file: string): LabSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new StackcheckError('E_LAB', `${file}: cannot read the lab spec: ${(err as Error).message}`, {
      exitCode: ExitCode.badInput,
      cause: err,
    });
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (err) {
    const line = err instanceof YAMLParseError ? (err.linePos?.[0]?.line ?? 0) : 0;
    throw new StackcheckError('E_LAB', `${file}${line ? `:${line}` : ''}: not valid YAML: ${(err as Error).message.split('\n')[0]}`, {
      exitCode: ExitCode.badInput,
      cause: err,
    });
  }
  return specFromData(data, file);
}

// Validate parsed spec data (also used by tests) and fill in defaults.
export function specFromData(data: unknown, file: string): LabSpec {
  // Role names first: zod reports a bad record key without saying why.
  const rawHosts = data && typeof data === 'object' ? (data as { hosts?: unknown }).hosts : undefined;
  if (rawHosts && typeof rawHosts === 'object' && !Array.isArray(rawHosts)) {
    for (const role of Object.keys(rawHosts)) {
      if (!ROLE.test(role)) {
        throw specError(file, `hosts.${role}`, 'role names are lower-case letters, digits and - (2-32 characters, such as db-node)');
      }
    }
  }
  const parsed = specSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : '(top level)';
    throw specError(file, field, issue?.message ?? 'invalid');
  }
  const raw = parsed.data;
  const subnet = raw.subnet ?? '10.99.0.0/24';
  const [netRaw, prefixRaw] = subnet.split('/') as [string, string];
  if (!IPV4.test(netRaw)) throw specError(file, 'subnet', `"${subnet}" is not an IPv4 subnet`);
  const prefix = Number(prefixRaw);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const networkInt = (ipToInt(netRaw) & mask) >>> 0;
  if (networkInt !== ipToInt(netRaw)) {
    throw specError(file, 'subnet', `"${subnet}" has host bits set; did you mean ${intToIp(networkInt)}/${prefix}?`);
  }
  const network = intToIp(networkInt);
  const bridgeAddress = raw.bridge_address ?? intToIp(networkInt + 1);
  if (!inSubnet(bridgeAddress, network, prefix)) {
    throw specError(file, 'bridge_address', `${bridgeAddress} is not a host address of ${subnet}`);
  }
  const roles = Object.keys(raw.hosts);
  if (roles.length === 0) throw specError(file, 'hosts', 'the lab needs at least one host');
  const seen = new Map<string, string>([[bridgeAddress, 'the bridge (host side)']]);
  const hosts: LabHost[] = [];
  for (const role of roles) {
    const h = raw.hosts[role]!;
    if (!inSubnet(h.address, network, prefix)) {
      throw specError(file, `hosts.${role}.address`, `${h.address} is not a host address of ${subnet}`);
    }
    const clash = seen.get(h.address);
    if (clash) throw specError(file, `hosts.${role}.address`, `${h.address} is already used by ${clash}`);
    seen.set(h.address, role);
    hosts.push({ role, address: h.address, hostname: h.hostname ?? role, compute: h.compute ?? isComputeRole(role) });
  }
  return { name: raw.name ?? 'lab', bridge: raw.bridge ?? 'labbr0', network, prefix, bridgeAddress, hosts };
}

// The hosts named by `--hosts a,b` (all when absent); unknown roles are an input error.
export function selectHosts(spec: LabSpec, list: string | undefined): LabHost[] {
  if (list === undefined || list.trim() === '') return spec.hosts;
  const wanted = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const unknown = wanted.filter((r) => !spec.hosts.some((h) => h.role === r));
  if (unknown.length > 0) {
    throw new StackcheckError('E_ARGS', `--hosts: unknown role${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`, {
      hint: `the lab's roles are: ${spec.hosts.map((h) => h.role).join(', ')}`,
    });
  }
  return spec.hosts.filter((h) => wanted.includes(h.role));
}

// The name of the LXC container playing `role` in lab `lab` (the base is role `base`).
export function containerName(lab: string, role: string): string {
  return `sc-${lab}-${role}`;
}

// Variable name for a role's address in the tutorial: db-node → DB_NODE_IP.
export function addressVar(role: string): string {
  return `${role.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_IP`;
}
