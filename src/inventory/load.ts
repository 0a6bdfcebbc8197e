// The inventory file: YAML mapping the tutorial's roles to machines, plus variables and secrets, validated with zod.
// Every problem names the file, the line when known, and the field path; all problems are reported together.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { readYaml, type Locate, type Path } from '../yaml.js';
import { z } from 'zod';
import { InputErrors, StackcheckError } from '../error.js';
import { parseDuration } from '../duration.js';
import { closest } from '../suggest.js';
import type { HostSpec, Inventory } from './types.js';

/** Variables with these name endings are always secret (so `ADMIN_PASS`, `KEYSTONE_DBPASS`, `OS_TOKEN`). */
export const SECRET_SUFFIXES = ['PASS', 'PASSWORD', 'SECRET', 'TOKEN'];
/** Environment variables `STACKCHECK_VAR_<NAME>` define or override `NAME`. */
export const ENV_PREFIX = 'STACKCHECK_VAR_';

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ROLE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

const scalar = z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string, number or true/false' });
const duration = z.union([z.number(), z.string()], { error: 'expected a duration such as 10s, 2m or a number of seconds' });
const agent = z.union([z.boolean(), z.string().min(1)], { error: 'expected true, false or the path of an ssh-agent socket' });

// A login name as useradd accepts it: it reaches SSH as data, and must never read as an option or hold a space.
const userName = z.string().regex(/^[a-z_][a-z0-9_.-]{0,31}\$?$/i, { error: 'expected a login name (letters, digits, "_", ".", "-"; not starting with "-")' });
// A host name, IPv4 or IPv6 address: never an option (`-o…`), a space, a quote or a shell character.
const address = z.string().regex(/^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?|\[?[0-9A-Fa-f:.]+(?:%[A-Za-z0-9_.-]+)?\]?)$/, {
  error: 'expected a host name or an IP address (letters, digits, ".", "-", ":"; not starting with "-")',
});

const sshSchema = z.strictObject({
  user: userName.optional(),
  key: z.string().min(1).optional(),
  agent: agent.optional(),
  known_hosts: z.string().min(1).optional(),
  accept_new_host_keys: z.boolean().optional(),
  connect_timeout: duration.optional(),
});

const hostSchema = z.strictObject({
  address,
  port: z.number().int().min(1).max(65535).optional(),
  user: userName.optional(),
  key: z.string().min(1).optional(),
  agent: agent.optional(),
  jump: z.string().min(1).optional(),
  hostname: z.string().min(1).optional(),
});

const inventorySchema = z.strictObject({
  name: z.string().min(1).optional(),
  ssh: sshSchema.optional(),
  hosts: z.record(z.string(), hostSchema),
  vars: z.record(z.string(), scalar).optional(),
  variants: z.record(z.string(), z.string()).optional(),
  secret: z.array(z.string()).optional(),
  secrets_file: z.string().min(1).optional(),
});

type InventoryFile = z.infer<typeof inventorySchema>;
/** Finds the 1-based line of a field (or of a key's name) in the source, when there is a source. */

const KNOWN_KEYS: Record<string, string[]> = {
  '': Object.keys(inventorySchema.shape),
  ssh: Object.keys(sshSchema.shape),
  host: Object.keys(hostSchema.shape),
};

// Reads, parses and validates an inventory file; `secretsFile` adds a secrets file (overriding the inventory's).
export async function loadInventory(
  file: string,
  opts: { secretsFile?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Inventory> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new StackcheckError('E_INVENTORY', `inventory not found: ${file} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`, {
      cause: err,
      hint: 'give the inventory YAML with --inventory FILE (see docs/tutorial-format.md)',
    });
  }
  return loadInventoryText(text, file, dirname(file), opts);
}

/** An inventory from YAML text (a filled template, say): `file` names it in messages, `baseDir` resolves its paths. */
export function loadInventoryText(text: string, file: string, baseDir: string, opts: { secretsFile?: string; env?: NodeJS.ProcessEnv } = {}): Inventory {
  const { value, locate } = readYaml(text, file, 'E_INVENTORY');
  return build(value, file, baseDir, opts.env ?? process.env, locate, { secretsFile: opts.secretsFile, checkFiles: true });
}

// Builds an inventory from an object shaped like the YAML file (the lab and grade modes generate them).
export function inventoryFromObject(obj: unknown, file: string, baseDir: string, env: NodeJS.ProcessEnv = process.env): Inventory {
  return build(obj, file, baseDir, env, () => undefined, { checkFiles: false });
}

/** Collects problems with their field path; `fail()` throws them all at once. */
class Problems {
  readonly errors: StackcheckError[] = [];
  constructor(
    private readonly file: string,
    private readonly locate: Locate,
  ) {}

  add(path: Path, message: string, keyName?: string): void {
    const field = [...path, ...(keyName !== undefined ? [keyName] : [])].join('.');
    const line = this.locate(path, keyName);
    const text = `${field ? `${field}: ` : ''}${message}`;
    this.errors.push(
      line !== undefined
        ? new StackcheckError('E_INVENTORY', text, { location: { file: this.file, line } })
        : new StackcheckError('E_INVENTORY', `${this.file}: ${text}`),
    );
  }

  fail(): void {
    if (this.errors.length === 0) return;
    const line = (e: StackcheckError) => (e.location?.file === this.file ? e.location.line : Infinity);
    throw new InputErrors([...this.errors].sort((a, b) => line(a) - line(b)));
  }
}

// How a value found in the file reads in a message.
function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

const EXPECTED: Record<string, string> = {
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping (key: value lines)',
  record: 'a mapping (key: value lines)',
  array: 'a list',
};

function valueAt(obj: unknown, path: Path): unknown {
  let v: unknown = obj;
  for (const p of path) v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[p] : undefined;
  return v;
}

// One zod issue → one message in the user's terms.
function report(problems: Problems, obj: unknown, issue: z.core.$ZodIssue): void {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const got = valueAt(obj, path);
  if (issue.code === 'unrecognized_keys') {
    const known = path.length === 0 ? KNOWN_KEYS[''] : path[0] === 'ssh' ? KNOWN_KEYS.ssh : KNOWN_KEYS.host;
    for (const key of issue.keys) {
      const near = closest(key, known ?? []);
      problems.add(path, `unknown key${near ? ` (did you mean "${near}"?)` : ''}; allowed here: ${(known ?? []).join(', ')}`, key);
    }
  } else if (issue.code === 'invalid_type') {
    if (got === undefined) {
      const hint =
        path[path.length - 1] === 'address'
          ? ' (the IP address or DNS name to connect to)'
          : path[0] === 'hosts'
            ? ' (map each role of the tutorial to a machine: hosts: { db-node: { address: 10.0.0.3 } })'
            : '';
      problems.add(path, `required${hint}`);
    } else problems.add(path, `expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${describe(got)}`);
  } else if ((issue.code === 'too_small' || issue.code === 'too_big') && path[path.length - 1] === 'port') {
    problems.add(path, `expected a port from 1 to 65535, got ${describe(got)}`);
  } else if (issue.code === 'too_small' && typeof got === 'string') {
    problems.add(path, 'must not be empty');
  } else if (issue.code === 'invalid_union') {
    problems.add(path, `${issue.message}, got ${describe(got)}`);
  } else {
    problems.add(path, `${issue.message} (got ${describe(got)})`);
  }
}

// `~/x` → home; relative paths are relative to the inventory's folder.
function resolvePath(p: string, baseDir: string): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/')) return join(homedir(), p.slice(2));
  return isAbsolute(p) ? p : resolve(baseDir, p);
}

/** True when a variable's value must never be printed. */
export function isSecretName(name: string, listed: readonly string[] = []): boolean {
  return listed.includes(name) || SECRET_SUFFIXES.some((s) => name.toUpperCase().endsWith(s));
}

// Validates the object and turns it into the Inventory the runner uses.
function build(
  obj: unknown,
  file: string,
  baseDir: string,
  env: NodeJS.ProcessEnv,
  locate: Locate,
  opts: { secretsFile?: string; checkFiles: boolean },
): Inventory {
  const problems = new Problems(file, locate);
  if (obj === null || obj === undefined || typeof obj !== 'object' || Array.isArray(obj)) {
    problems.add([], `expected a mapping with hosts:, vars: … at the top, got ${describe(obj)}`);
    problems.fail();
  }
  const parsed = inventorySchema.safeParse(obj);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) report(problems, obj, issue);
    problems.fail();
  }
  const data = parsed.data as InventoryFile;
  const ssh = data.ssh ?? {};

  const connectTimeoutMs = ssh.connect_timeout === undefined ? DEFAULT_CONNECT_TIMEOUT_MS : parseDuration(ssh.connect_timeout);
  if (connectTimeoutMs === undefined || connectTimeoutMs <= 0) {
    problems.add(['ssh', 'connect_timeout'], `expected a duration such as 10s, 2m or a number of seconds, got ${describe(ssh.connect_timeout)}`);
  }

  const agentSocket = (value: boolean | string | undefined, path: Path): string | undefined => {
    if (value === undefined || value === false) return undefined;
    if (value === true) {
      if (!env.SSH_AUTH_SOCK) problems.add(path, 'true, but SSH_AUTH_SOCK is not set: start ssh-agent, or give the socket path');
      return env.SSH_AUTH_SOCK;
    }
    return resolvePath(value, baseDir);
  };
  const defaultAgent = agentSocket(ssh.agent, ['ssh', 'agent']);

  const roles = Object.keys(data.hosts);
  const hosts: Record<string, HostSpec> = {};
  for (const [role, h] of Object.entries(data.hosts)) {
    if (!ROLE_NAME.test(role)) {
      problems.add(['hosts'], `"${role}" is not a role name: use letters, digits, "-", "_" or "." (as in the tutorial's prompts)`, role);
    }
    const keyText = h.key ?? ssh.key;
    const keyFile = keyText !== undefined ? resolvePath(keyText, baseDir) : undefined;
    if (keyFile && opts.checkFiles && !existsSync(keyFile)) {
      problems.add(h.key !== undefined ? ['hosts', role, 'key'] : ['ssh', 'key'], `key file not found: ${keyFile}`);
    }
    const hostAgent = h.agent !== undefined ? agentSocket(h.agent, ['hosts', role, 'agent']) : defaultAgent;
    if (h.jump !== undefined) {
      if (h.jump === role) problems.add(['hosts', role, 'jump'], 'a host cannot jump through itself');
      else if (!roles.includes(h.jump) && !/^([^@\s]+@)?[A-Za-z0-9][A-Za-z0-9_.-]*(:\d{1,5})?$/.test(h.jump)) {
        problems.add(['hosts', role, 'jump'], `"${h.jump}" is neither a role in hosts: nor user@host:port`);
      } else if (!roles.includes(h.jump) && !h.jump.includes('@') && !h.jump.includes(':') && !h.jump.includes('.')) {
        const near = closest(h.jump, roles);
        problems.add(['hosts', role, 'jump'], `"${h.jump}" is not a role in hosts:${near ? ` (did you mean "${near}"?)` : ''}; give a role, or user@host:port`);
      }
    }
    hosts[role] = {
      role,
      address: h.address,
      port: h.port ?? 22,
      user: h.user ?? ssh.user ?? 'root',
      ...(keyFile !== undefined ? { keyFile } : {}),
      ...(hostAgent !== undefined ? { agent: hostAgent } : {}),
      ...(h.jump !== undefined ? { jump: h.jump } : {}),
      hostname: h.hostname ?? role,
    };
  }
  // jump chains must end
  for (const role of roles) {
    const seen = [role];
    for (let j = hosts[role]?.jump; j !== undefined && roles.includes(j); j = hosts[j]?.jump) {
      if (seen.includes(j)) {
        problems.add(['hosts', role, 'jump'], `jump hosts form a loop: ${[...seen, j].join(' → ')}`);
        break;
      }
      seen.push(j);
    }
  }

  const vars: Record<string, string> = {};
  for (const [name, value] of Object.entries(data.vars ?? {})) {
    if (!VAR_NAME.test(name)) problems.add(['vars'], `"${name}" is not a variable name: use letters, digits and _ (e.g. DB_HOST)`, name);
    vars[name] = String(value);
  }
  for (const [name, value] of Object.entries(data.variants ?? {})) {
    if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(name)) problems.add(['variants'], `"${name}" is not a variant name: letters, digits, _ and - (e.g. storage)`, name);
    else if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(value)) problems.add(['variants', name], `"${value}" is not a variant value: letters, digits, _, . and - (e.g. ceph)`);
  }
  const listed = data.secret ?? [];
  listed.forEach((name, i) => {
    if (!VAR_NAME.test(name)) problems.add(['secret', i], `"${name}" is not a variable name`);
  });
  const secretNames = new Set<string>(listed);

  const secretFiles = [
    ...(data.secrets_file !== undefined ? [{ path: resolvePath(data.secrets_file, baseDir), field: ['secrets_file'] }] : []),
    ...(opts.secretsFile !== undefined ? [{ path: resolve(opts.secretsFile), field: [] as string[] }] : []),
  ];
  for (const sf of secretFiles) {
    for (const [name, value] of Object.entries(readSecretsFile(sf.path, sf.field, problems, env.STACKCHECK_ALLOW_READABLE_SECRETS === '1'))) {
      vars[name] = value;
      secretNames.add(name);
    }
  }

  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith(ENV_PREFIX) || value === undefined) continue;
    const name = key.slice(ENV_PREFIX.length);
    if (!VAR_NAME.test(name)) continue;
    vars[name] = value;
  }
  for (const name of Object.keys(vars)) if (isSecretName(name, listed)) secretNames.add(name);

  problems.fail();
  return {
    file,
    name: data.name ?? basename(file, extname(file)),
    hosts,
    vars,
    ...(data.variants && Object.keys(data.variants).length ? { variants: data.variants } : {}),
    secretNames: [...secretNames].sort(),
    knownHosts: resolvePath(ssh.known_hosts ?? '~/.ssh/known_hosts', baseDir),
    acceptNewHostKeys: ssh.accept_new_host_keys ?? false,
    connectTimeoutMs: connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
  };
}

// A secrets file is a flat YAML map NAME: value; every entry is secret. Its values never appear in messages.
function readSecretsFile(path: string, field: string[], problems: Problems, allowReadable: boolean): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
    // As ssh refuses a private key others can read: the passwords of a cloud are the owner's alone.
    const mode = statSync(path).mode & 0o777;
    if (mode & 0o077 && !allowReadable) {
      const who = [mode & 0o070 ? 'its group' : '', mode & 0o007 ? 'everyone' : ''].filter(Boolean).join(' and ');
      const why = `the secrets file ${path} can be read by ${who} (mode ${mode.toString(8).padStart(4, '0')}): make it yours alone with chmod 600 ${path} (or set STACKCHECK_ALLOW_READABLE_SECRETS=1 to accept it)`;
      if (field.length === 0) problems.errors.push(new StackcheckError('E_INVENTORY', `--secrets ${path}: ${why}`));
      else problems.add(field, why);
      return {};
    }
  } catch (err) {
    const why = `cannot read the secrets file ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
    // --secrets is a command-line argument: the inventory has no line to blame for it.
    if (field.length === 0) problems.errors.push(new StackcheckError('E_INVENTORY', `--secrets ${path}: ${why.replace(`the secrets file ${path}`, 'it')}`));
    else problems.add(field, why);
    return {};
  }
  let value: unknown;
  try {
    value = readYaml(text, path, 'E_INVENTORY').value;
  } catch (err) {
    if (err instanceof InputErrors) problems.errors.push(...err.errors);
    return {};
  }
  if (value === null || value === undefined) return {};
  const sub = new Problems(path, () => undefined);
  if (typeof value !== 'object' || Array.isArray(value)) {
    sub.add([], `expected NAME: value lines, got ${describe(value)}`);
    problems.errors.push(...sub.errors);
    return {};
  }
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
    if (!VAR_NAME.test(name)) sub.add([], `"${name}" is not a variable name: use letters, digits and _`);
    else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[name] = String(v);
    else sub.add([name], `expected a string or number (the value is not shown: it is secret), got ${Array.isArray(v) ? 'a list' : v === null ? 'an empty value' : 'a mapping'}`);
  }
  problems.errors.push(...sub.errors);
  return out;
}
