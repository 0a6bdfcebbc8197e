// `lab status`: every host of the lab with its address, state, memory and disk use.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execTry } from './exec.js';
import { containerName, type LabSpec } from './spec.js';
import { containerDir, hostComplete, hostState, upperDir } from './hosts.js';
import { listSnapshots } from './snapshot.js';
import { describeRecord, readDeployment, deployedInstalls, type LabDeployment } from './deployment.js';

export interface HostStatus {
  role: string;
  container: string;
  address: string;
  state: string;
  /** Memory charged to the container's cgroup, bytes (running hosts only). */
  memoryBytes: number | undefined;
  /** Disk used by the host's own changes over the base, bytes. */
  diskBytes: number | undefined;
}

export interface LabStatus {
  name: string;
  bridge: string;
  subnet: string;
  hosts: HostStatus[];
  baseDiskBytes: number | undefined;
  snapshots: string[];
  /** What is deployed on the lab, and what else ran there. */
  deployment: LabDeployment;
}

// Memory of a running container from its cgroup (v1 memory controller or v2), in bytes.
export function containerMemory(container: string): number | undefined {
  const candidates = [
    `/sys/fs/cgroup/memory/lxc.payload.${container}/memory.usage_in_bytes`,
    `/sys/fs/cgroup/memory/lxc/${container}/memory.usage_in_bytes`,
    `/sys/fs/cgroup/lxc.payload.${container}/memory.current`,
    `/sys/fs/cgroup/unified/lxc.payload.${container}/memory.current`,
  ];
  for (const f of candidates) {
    if (existsSync(f)) {
      const n = Number(readFileSync(f, 'utf8').trim());
      if (Number.isFinite(n) && n > 0) return n;
    }
  }
  return undefined;
}

// Bytes used on disk by a folder (du, one file system).
export async function diskUsage(path: string): Promise<number | undefined> {
  if (!existsSync(path)) return undefined;
  const r = await execTry('du', ['-sxB1', path]);
  const n = Number(r.stdout.split(/\s+/)[0]);
  return r.code === 0 && Number.isFinite(n) ? n : undefined;
}

// Collect the status of every host in the lab's spec.
export async function labStatus(spec: LabSpec, baseDir: string): Promise<LabStatus> {
  const hosts: HostStatus[] = [];
  for (const h of spec.hosts) {
    const container = containerName(spec.name, h.role);
    const complete = await hostComplete(container);
    const state = complete ? await hostState(container) : 'ABSENT';
    let diskBytes: number | undefined;
    if (complete) {
      const cfg = join(await containerDir(container), 'config');
      diskBytes = await diskUsage(upperDir(readFileSync(cfg, 'utf8'), container));
    }
    hosts.push({
      role: h.role,
      container,
      address: h.address,
      state,
      memoryBytes: state === 'RUNNING' ? containerMemory(container) : undefined,
      diskBytes,
    });
  }
  return {
    name: spec.name,
    bridge: spec.bridge,
    subnet: `${spec.network}/${spec.prefix}`,
    hosts,
    baseDiskBytes: await diskUsage(join(baseDir, 'rootfs')),
    snapshots: listSnapshots(spec),
    deployment: readDeployment(spec.name),
  };
}

// Bytes as MiB with one decimal, or a dash.
export function mib(n: number | undefined): string {
  return n === undefined ? '-' : `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

// The status as a table for the terminal.
export function formatStatus(s: LabStatus): string {
  const rows = [['ROLE', 'CONTAINER', 'ADDRESS', 'STATE', 'MEMORY', 'DISK (own)']];
  for (const h of s.hosts) rows.push([h.role, h.container, h.address, h.state, mib(h.memoryBytes), mib(h.diskBytes)]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const table = rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
  return [
    `lab ${s.name}: bridge ${s.bridge} ${s.subnet}, base ${mib(s.baseDiskBytes)}`,
    table,
    `snapshots: ${s.snapshots.length ? s.snapshots.join(', ') : '(none)'}`,
    ...formatDeployment(s.deployment),
  ].join('\n');
}

// Which tutorial the lab holds (what `check` checks there) and what else ran on it.
export function formatDeployment(d: LabDeployment): string[] {
  const lines: string[] = [];
  if (d.deployment) {
    lines.push(`deployed: ${describeRecord(d.deployment)}`);
    lines.push(`  installed: ${deployedInstalls(d.deployment).join(', ') || 'nothing yet'}`);
    const pending = d.deployment.stages.filter((x) => !x.doneAt).map((x) => x.id);
    if (pending.length > 0) lines.push(`  not run yet: ${pending.join(', ')}`);
  } else {
    lines.push('deployed: nothing (no tutorial stage that installs something has run on these hosts)');
  }
  for (const r of d.alsoRan) lines.push(`also ran (installs nothing, does not change what \`check\` expects): ${describeRecord(r)}`);
  return lines;
}
