// `lab up`: host preflight (files, commands, packages) → bridge → package cache → base → one clone per role →
// started, verified, inventory written. Idempotent: every stage checks what exists and only builds what is missing.
import { StackcheckError } from '../error.js';
import { exec, seconds, timed, type Progress } from './exec.js';
import { ensureHostLimits, ensureHostRequirements, ensureRoot, hostFeatures, reportHostFeatures } from './host-deps.js';
import { ensureBridge, checkBridge } from './bridge.js';
import { ensureAptCache } from './apt-cache.js';
import { ensureBase } from './base.js';
import { createHost, destroyHost, hostComplete, hostState, refreshHostConfig, startHost } from './hosts.js';
import { writeInventory } from './inventory.js';
import { containerName, defaultSpec, loadSpec, selectHosts, type LabHost, type LabSpec } from './spec.js';
import { ensureLabKey, labDir, readState, withLabLock, writeState } from './state.js';
import { clearDeployment } from './deployment.js';
import { join } from 'node:path';

export interface UpOptions {
  /** Lab name when no spec file is given (default `lab`, or the recorded spec of that lab). */
  lab?: string;
  /** YAML lab spec. */
  specFile?: string;
  /** Comma-separated roles to bring up (default: all). */
  hosts?: string;
  progress?: Progress;
}

export interface UpResult {
  spec: LabSpec;
  inventoryFile: string;
  hosts: LabHost[];
  durationMs: number;
}

// Which spec `up` uses: --spec, else the recorded spec of the lab, else the default layout.
export function resolveSpec(opts: { lab?: string; specFile?: string }): LabSpec {
  if (opts.specFile) {
    const spec = loadSpec(opts.specFile);
    if (opts.lab && opts.lab !== spec.name) {
      throw new StackcheckError('E_ARGS', `--lab ${opts.lab} does not match the spec's name "${spec.name}" (${opts.specFile})`);
    }
    return spec;
  }
  const name = opts.lab ?? 'lab';
  const recorded = readState(name)?.spec;
  if (recorded) return recorded;
  return { ...defaultSpec(), name };
}

// Bring the lab (or the chosen hosts) up; returns the inventory path.
export async function labUp(opts: UpOptions): Promise<UpResult> {
  const progress = opts.progress ?? ((l: string) => process.stderr.write(`${l}\n`));
  // Input first: nothing is touched when the spec, roles or user are wrong.
  const spec = resolveSpec(opts);
  const hosts = selectHosts(spec, opts.hosts);
  ensureRoot();
  return withLabLock(spec.name, progress, () => build(spec, hosts, progress));
}

// The build itself (under the lab's lock).
async function build(spec: LabSpec, hosts: LabHost[], progress: Progress): Promise<UpResult> {
  const start = Date.now();
  progress(`lab "${spec.name}": ${hosts.map((h) => `${h.role} ${h.address}`).join(', ')} on ${spec.bridge} (${spec.network}/${spec.prefix})`);
  await ensureHostRequirements(progress);
  ensureHostLimits(progress);
  await checkBridge(spec);
  writeState(spec);
  const features = hostFeatures();
  reportHostFeatures(features, progress);
  const br = await ensureBridge(spec);
  progress(`bridge: ${spec.bridge} ${spec.bridgeAddress}/${spec.prefix} ${br === 'created' ? 'created' : 'exists'} (no NAT, no route out)`);
  const mirror = await ensureAptCache(spec.bridgeAddress, progress);
  const base = await ensureBase(spec, mirror, progress);
  const key = await ensureLabKey(spec.name);
  for (const h of hosts) {
    const name = containerName(spec.name, h.role);
    if ((await hostState(name)) !== 'ABSENT' && !(await hostComplete(name))) {
      progress(`${h.role}: removing half-made container ${name}`);
      await destroyHost(name);
    }
    if (!(await hostComplete(name))) {
      // A host made afresh from the base holds nothing of what was deployed.
      clearDeployment(spec.name);
      await timed(progress, `${h.role}: cloning base (overlay) as ${name}`, () =>
        createHost(spec, h, join(base, 'rootfs'), key.publicKey, features),
      );
    } else {
      await refreshHostConfig(spec, h, features);
    }
  }
  await timed(progress, `starting ${hosts.length} host${hosts.length > 1 ? 's' : ''} and waiting for sshd`, () =>
    Promise.all(hosts.map((h) => startHost(spec, h))),
  );
  const inventoryFile = await writeInventory(spec);
  await timed(progress, 'checking ssh with host-key verification', () => verifySsh(spec, hosts));
  const durationMs = Date.now() - start;
  progress(`lab "${spec.name}" is up in ${seconds(durationMs)}; inventory: ${inventoryFile}`);
  progress('time: the hosts share the host machine\'s kernel clock, so they are always in sync (no NTP inside)');
  return { spec, inventoryFile, hosts, durationMs };
}

// Log in to every host as the inventory will (key + known_hosts, strict host-key checking).
async function verifySsh(spec: LabSpec, hosts: LabHost[]): Promise<void> {
  const dir = labDir(spec.name);
  await Promise.all(
    hosts.map((h) =>
      exec(
        'ssh',
        [
          '-o', 'BatchMode=yes',
          '-o', 'StrictHostKeyChecking=yes',
          '-o', `UserKnownHostsFile=${join(dir, 'known_hosts')}`,
          '-o', 'GlobalKnownHostsFile=/dev/null',
          '-o', 'ConnectTimeout=10',
          '-i', join(dir, 'id_ed25519'),
          `root@${h.address}`,
          'true',
        ],
        { timeoutMs: 30_000 },
      ).catch((err: unknown) => {
        throw new StackcheckError('E_LAB', `${h.role}: ssh root@${h.address} with the lab key and known_hosts failed`, { cause: err, hint: (err as Error).message });
      }),
    ),
  );
}

/** Options of ensureLab (used by run/guide/check when no inventory is given). */
export interface EnsureLabOptions {
  lab?: string;
  /** Roles that must be up (those the tutorial runs on); default: every host of the lab. */
  roles?: string[];
  progress?: Progress;
}

// Bring the lab's hosts up (the roles asked for, else all) when they are not all running; return its inventory.
export async function ensureLab(opts: EnsureLabOptions = {}): Promise<{ inventoryFile: string }> {
  const name = opts.lab ?? process.env.STACKCHECK_LAB ?? 'lab';
  const state = readState(name);
  const progress = opts.progress ? { progress: opts.progress } : {};
  const spec = state?.spec;
  const wanted = spec ? spec.hosts.filter((h) => !opts.roles || opts.roles.includes(h.role)) : [];
  if (spec && wanted.length > 0) {
    const states = await Promise.all(wanted.map(async (h) => ((await hostComplete(containerName(name, h.role))) ? hostState(containerName(name, h.role)) : 'ABSENT')));
    if (states.every((s) => s === 'RUNNING')) return { inventoryFile: await writeInventory(spec) };
    const r = await labUp({ lab: name, hosts: wanted.map((h) => h.role).join(','), ...progress });
    return { inventoryFile: r.inventoryFile };
  }
  const r = await labUp({ lab: name, ...progress });
  return { inventoryFile: r.inventoryFile };
}
