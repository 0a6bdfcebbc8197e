// Whole-lab snapshots: every host's overlay upper folder (all it changed over the base) copied
// with rsync while the hosts are stopped; restore copies it back. A stage re-runs from there in seconds.
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StackcheckError, ExitCode } from '../error.js';
import { exec, seconds, type Progress } from './exec.js';
import { containerName, type LabHost, type LabSpec } from './spec.js';
import { containerDir, hostComplete, hostState, startHost, stopHost, upperDir } from './hosts.js';
import { labDir } from './state.js';
import { clearDeployment, deploymentVarsCopy, readDeployment, writeDeployment } from './deployment.js';

const SNAP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

// The folder of snapshot `snap` of a lab.
function snapDir(spec: LabSpec, snap: string): string {
  return join(labDir(spec.name), 'snapshots', snap);
}

// A snapshot name must be a plain file name.
function checkName(snap: string): void {
  if (!SNAP_NAME.test(snap)) {
    throw new StackcheckError('E_ARGS', `snapshot name "${snap}": use letters, digits, ., _ and - (at most 64)`);
  }
}

// Hosts of the lab whose containers exist.
async function existing(spec: LabSpec): Promise<LabHost[]> {
  const out: LabHost[] = [];
  for (const h of spec.hosts) if (await hostComplete(containerName(spec.name, h.role))) out.push(h);
  return out;
}

// The upper folder of a host's overlay.
async function upperOf(spec: LabSpec, h: LabHost): Promise<string> {
  const name = containerName(spec.name, h.role);
  return upperDir(readFileSync(join(await containerDir(name), 'config'), 'utf8'), name);
}

// Stop the hosts, run `fn`, start again those that were running (even when `fn` fails).
async function whileStopped<T>(spec: LabSpec, hosts: LabHost[], fn: () => Promise<T>): Promise<T> {
  const running = [];
  for (const h of hosts) if ((await hostState(containerName(spec.name, h.role))) === 'RUNNING') running.push(h);
  await Promise.all(running.map((h) => stopHost(containerName(spec.name, h.role))));
  try {
    return await fn();
  } finally {
    await Promise.all(running.map((h) => startHost(spec, h)));
  }
}

// rsync that keeps everything an overlay upper folder holds: owners, hard links, ACLs, xattrs
// (opaque directories) and device nodes (whiteouts).
function rsyncMirror(from: string, to: string): Promise<string> {
  return exec('rsync', ['-aHAX', '--numeric-ids', '--delete', `${from}/`, `${to}/`], { timeoutMs: 1_800_000 });
}

// `lab snapshot NAME`: copy every host's changes; replaces an older snapshot of the same name.
export async function snapshotLab(spec: LabSpec, snap: string, progress: Progress): Promise<void> {
  checkName(snap);
  const hosts = await existing(spec);
  if (hosts.length === 0) throw new StackcheckError('E_LAB', `lab "${spec.name}" has no hosts to snapshot`, { exitCode: ExitCode.badInput });
  const start = Date.now();
  const dir = snapDir(spec, snap);
  const partial = `${dir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true, mode: 0o700 });
  try {
    await whileStopped(spec, hosts, async () => {
      for (const h of hosts) await rsyncMirror(await upperOf(spec, h), join(partial, h.role));
    });
    writeFileSync(join(partial, 'snapshot.json'), `${JSON.stringify({ hosts: hosts.map((h) => h.role), takenAt: new Date().toISOString() })}\n`);
    // What was deployed comes back with the hosts (so `check` after a restore expects what they hold).
    writeFileSync(join(partial, 'deployment.json'), `${JSON.stringify(readDeployment(spec.name), null, 2)}\n`, { mode: 0o600 });
    if (existsSync(deploymentVarsCopy(spec.name))) copyFileSync(deploymentVarsCopy(spec.name), join(partial, 'deployment-vars.yaml'));
    rmSync(dir, { recursive: true, force: true });
    await exec('mv', [partial, dir]);
  } catch (err) {
    rmSync(partial, { recursive: true, force: true });
    throw err;
  }
  progress(`snapshot ${snap}: ${hosts.map((h) => h.role).join(', ')} in ${seconds(Date.now() - start)}`);
}

// `lab restore NAME`: put every host back to the snapshot (hosts not in it are left alone).
export async function restoreLab(spec: LabSpec, snap: string, progress: Progress): Promise<void> {
  checkName(snap);
  const dir = snapDir(spec, snap);
  if (!existsSync(join(dir, 'snapshot.json'))) {
    const have = listSnapshots(spec);
    throw new StackcheckError('E_LAB', `lab "${spec.name}" has no snapshot "${snap}"`, {
      exitCode: ExitCode.badInput,
      hint: have.length ? `snapshots: ${have.join(', ')}` : 'take one with `stackcheck lab snapshot NAME`',
    });
  }
  const roles = (JSON.parse(readFileSync(join(dir, 'snapshot.json'), 'utf8')) as { hosts: string[] }).hosts;
  const hosts = (await existing(spec)).filter((h) => roles.includes(h.role));
  const missing = roles.filter((r) => !hosts.some((h) => h.role === r));
  if (missing.length) {
    throw new StackcheckError('E_LAB', `snapshot "${snap}" has hosts that no longer exist: ${missing.join(', ')}`, {
      hint: `bring them up first: stackcheck lab up --hosts ${missing.join(',')}`,
    });
  }
  const start = Date.now();
  await whileStopped(spec, hosts, async () => {
    for (const h of hosts) {
      const upper = await upperOf(spec, h);
      await rsyncMirror(join(dir, h.role), upper);
      // The overlay's work folder may hold stale state from before the restore.
      for (const w of ['work', 'olwork']) {
        const work = join(upper, '..', w);
        if (existsSync(work)) for (const f of readdirSync(work)) rmSync(join(work, f), { recursive: true, force: true });
      }
    }
  });
  const recorded = join(dir, 'deployment.json');
  if (existsSync(recorded)) writeDeployment(spec.name, JSON.parse(readFileSync(recorded, 'utf8')) as unknown);
  else clearDeployment(spec.name);
  const vars = join(dir, 'deployment-vars.yaml');
  if (existsSync(vars) && existsSync(recorded)) copyFileSync(vars, deploymentVarsCopy(spec.name));
  else rmSync(deploymentVarsCopy(spec.name), { force: true });
  progress(`restore ${snap}: ${hosts.map((h) => h.role).join(', ')} in ${seconds(Date.now() - start)}`);
}

// Names of a lab's snapshots.
export function listSnapshots(spec: LabSpec): string[] {
  const d = join(labDir(spec.name), 'snapshots');
  if (!existsSync(d)) return [];
  return readdirSync(d).filter((n) => existsSync(join(d, n, 'snapshot.json'))).sort();
}

// Remove a snapshot (a drill's, once it is stopped); a missing one is not an error.
export function removeSnapshot(spec: LabSpec, snap: string): void {
  checkName(snap);
  rmSync(snapDir(spec, snap), { recursive: true, force: true });
}
