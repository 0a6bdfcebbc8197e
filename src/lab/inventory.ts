// The lab's inventory.yaml (for `stackcheck run --inventory`) and known_hosts, both built from
// the containers themselves: host keys are read from each host's filesystem, never learnt on first use.
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { Document, isMap, parse as parseYaml, parseDocument } from 'yaml';
import { StackcheckError, ExitCode } from '../error.js';
import { addressVar, containerName, type LabSpec } from './spec.js';
import { hostComplete, hostPublicKeys } from './hosts.js';
import { labDir } from './state.js';
import { deploymentVarsCopy, readDeployment, tutorialInventoryPath } from './deployment.js';
import { inventoryFromObject } from '../inventory/load.js';
import type { Inventory } from '../inventory/types.js';
import { defaultSpec } from './spec.js';
import { readState } from './state.js';

// Hosts of the spec whose containers exist (were completely created).
export async function createdHosts(spec: LabSpec): Promise<LabSpec['hosts']> {
  const out: LabSpec['hosts'] = [];
  for (const h of spec.hosts) if (await hostComplete(containerName(spec.name, h.role))) out.push(h);
  return out;
}

// known_hosts lines for every created host: `hostname[,role],address keytype key`.
export async function knownHostsText(spec: LabSpec): Promise<string> {
  const lines: string[] = [];
  for (const h of await createdHosts(spec)) {
    const names = [...new Set([h.hostname, h.role, h.address])].join(',');
    for (const key of await hostPublicKeys(containerName(spec.name, h.role))) lines.push(`${names} ${key}`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

// Write the lab's known_hosts file; returns its path.
export async function writeKnownHosts(spec: LabSpec): Promise<string> {
  const file = join(labDir(spec.name), 'known_hosts');
  writeFileSync(file, await knownHostsText(spec), { mode: 0o644 });
  return file;
}

// The `secret:` list of an extra vars file (names whose values must be redacted), if it has one.
export function readSecretNames(file: string): string[] {
  const data: unknown = parseYaml(readFileSync(file, 'utf8'));
  const list = data && typeof data === 'object' && 'secret' in data ? (data as { secret: unknown }).secret : undefined;
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list) || !list.every((n) => typeof n === 'string')) throw new StackcheckError('E_ARGS', `--vars ${file}: secret: expected a list of variable names`);
  return list as string[];
}

// The `variants:` of an extra vars file (the tutorial's alternatives a lab takes: `storage: ceph`), if it has them.
export function readVarsVariants(file: string): Record<string, string> {
  const data: unknown = parseYaml(readFileSync(file, 'utf8'));
  const v = data && typeof data === 'object' && 'variants' in data ? (data as { variants: unknown }).variants : undefined;
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string')) {
    throw new StackcheckError('E_ARGS', `--vars ${file}: variants: expected a mapping of NAME: VALUE (e.g. storage: ceph)`);
  }
  return v as Record<string, string>;
}

// Read an extra vars file (a YAML mapping of names to scalars) to merge into the inventory's vars.
export function readVarsFile(file: string): Record<string, string> {
  let data: unknown;
  try {
    data = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new StackcheckError('E_ARGS', `--vars ${file}: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  const vars = (data && typeof data === 'object' && 'vars' in data ? (data as { vars: unknown }).vars : data) as unknown;
  if (!vars || typeof vars !== 'object' || Array.isArray(vars)) {
    throw new StackcheckError('E_ARGS', `--vars ${file}: expected a mapping of NAME: value (optionally under \`vars:\`)`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars as Record<string, unknown>)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new StackcheckError('E_ARGS', `--vars ${file}: ${k}: not a variable name`);
    if (v === null || typeof v === 'object') throw new StackcheckError('E_ARGS', `--vars ${file}: ${k}: expected a string or number`);
    out[k] = String(v);
  }
  return out;
}

// The inventory document for the lab (hosts that exist, the addresses of every role as vars).
export async function inventoryYaml(spec: LabSpec, inventoryFile: string, extraVars: Record<string, string> = {}, secretNames: string[] = [], variants: Record<string, string> = {}): Promise<string> {
  return inventoryYamlFor(spec, await createdHosts(spec), inventoryFile, extraVars, secretNames, variants);
}

/** The same document for given hosts (e.g. every host of the spec, for `plan` before the lab exists). */
export function inventoryYamlFor(spec: LabSpec, present: LabSpec['hosts'], inventoryFile: string, extraVars: Record<string, string> = {}, secretNames: string[] = [], variants: Record<string, string> = {}): string {
  const folder = dirname(resolve(inventoryFile));
  const rel = (p: string): string => {
    const r = relative(folder, p);
    return r.startsWith('..') || r.startsWith('/') ? p : `./${r}`;
  };
  const dir = labDir(spec.name);
  const hosts: Record<string, { address: string; port: number; hostname: string }> = {};
  for (const h of present) hosts[h.role] = { address: h.address, port: 22, hostname: h.hostname };
  const vars: Record<string, string> = {};
  for (const h of spec.hosts) vars[addressVar(h.role)] = h.address;
  vars.LAB_BRIDGE_IP = spec.bridgeAddress;
  Object.assign(vars, extraVars);
  const doc = new Document({
    name: spec.name,
    ssh: {
      user: 'root',
      key: rel(join(dir, 'id_ed25519')),
      known_hosts: rel(join(dir, 'known_hosts')),
      accept_new_host_keys: false,
      connect_timeout: '10s',
    },
    hosts,
    vars,
    ...(Object.keys(variants).length > 0 ? { variants } : {}),
    ...(secretNames.length > 0 ? { secret: secretNames } : {}),
  });
  const hostsNode = doc.get('hosts');
  if (isMap(hostsNode)) {
    for (const item of hostsNode.items) if (isMap(item.value)) item.value.flow = true;
  }
  doc.commentBefore = ` stackcheck lab "${spec.name}": generated by stackcheck (\`lab up\`, \`lab inventory\`, \`run\`); regenerated by every \`lab up\`.`;
  return doc.toString({ lineWidth: 0 });
}

/** The vars file of what is deployed on the lab (so its inventory keeps the deployment's variables), if it still exists. */
export function deploymentVarsFile(name: string): string | undefined {
  const d = readDeployment(name).deployment;
  if (!d?.varsFile) return undefined;
  // The copy taken when the stages ran is what the hosts hold; the original may have moved or changed since.
  const copy = deploymentVarsCopy(name);
  if (existsSync(copy)) return copy;
  return existsSync(d.varsFile) ? d.varsFile : undefined;
}

// Write inventory.yaml (default: the lab's own, for its deployment) and known_hosts; returns the inventory path.
// The lab's own inventory always carries the deployment's variables: without a vars file given, it uses those.
export async function writeInventory(spec: LabSpec, opts: { out?: string; varsFile?: string } = {}): Promise<string> {
  const varsFile = opts.varsFile ?? (opts.out === undefined ? deploymentVarsFile(spec.name) : undefined);
  opts = { ...opts, ...(varsFile ? { varsFile } : {}) };
  const extra = opts.varsFile ? readVarsFile(opts.varsFile) : {};
  const file = resolve(opts.out ?? join(labDir(spec.name), 'inventory.yaml'));
  await writeKnownHosts(spec);
  mkdirSync(dirname(file), { recursive: true });
  const text = await inventoryYaml(spec, file, extra, opts.varsFile ? readSecretNames(opts.varsFile) : [], opts.varsFile ? readVarsVariants(opts.varsFile) : {});
  // Sanity: what we write must read back as YAML.
  if (parseDocument(text).errors.length > 0) throw new StackcheckError('E_INTERNAL', `generated inventory ${file} is not valid YAML`);
  // It may hold the tutorial's passwords: readable by root only.
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

// Whether a lab has an inventory file already.
export function inventoryPath(name: string): string | undefined {
  const f = join(labDir(name), 'inventory.yaml');
  return existsSync(f) ? f : undefined;
}

// For messages: a lab with no created hosts cannot produce a usable inventory.
export function noHostsError(name: string): StackcheckError {
  return new StackcheckError('E_LAB', `lab "${name}" has no hosts yet`, {
    exitCode: ExitCode.badInput,
    hint: `bring it up with \`stackcheck lab up${name === 'lab' ? '' : ` --lab ${name}`}\``,
  });
}

/** The lab variables shipped beside a tutorial (`<tutorial>/vars/lab.yaml`), merged into the lab inventory. */
export function labVarsFor(tutorialPath: string): string | undefined {
  const dir = existsSync(tutorialPath) && statSync(tutorialPath).isDirectory() ? tutorialPath : join(tutorialPath, '..');
  const file = join(dir, 'vars', 'lab.yaml');
  return existsSync(file) ? file : undefined;
}

/**
 * The inventory `run` without --inventory would use for this tutorial (the lab's layout, every role, and
 * `<tutorial>/vars/lab.yaml`), built in memory without touching the lab: `plan` validates against it.
 */
export function labInventoryFor(tutorialPath: string, lab = process.env.STACKCHECK_LAB ?? 'lab'): { inventory: Inventory; varsFile?: string } {
  const spec = readState(lab)?.spec ?? { ...defaultSpec(), name: lab };
  const varsFile = labVarsFor(tutorialPath);
  const file = tutorialInventoryPath(lab, tutorialPath);
  const text = inventoryYamlFor(spec, spec.hosts, file, varsFile ? readVarsFile(varsFile) : {}, varsFile ? readSecretNames(varsFile) : [], varsFile ? readVarsVariants(varsFile) : {});
  // Messages name the file a user edits to add a variable: the tutorial's lab vars (generated files are rewritten).
  const shownAs = varsFile ?? join(existsSync(tutorialPath) && statSync(tutorialPath).isDirectory() ? tutorialPath : dirname(tutorialPath), 'vars', 'lab.yaml');
  return { inventory: inventoryFromObject(parseYaml(text) as unknown, shownAs, dirname(file)), ...(varsFile ? { varsFile } : {}) };
}
