// `lab down`: stop every host (nothing left running); with --purge also remove the containers,
// the base, the bridge and the lab's state folder (nothing left on disk).
import { existsSync, rmSync } from 'node:fs';
import { containerName, type LabSpec } from './spec.js';
import { containerDir, destroyHost, hostState, stopHost } from './hosts.js';
import { destroyBase } from './base.js';
import { removeBridge } from './bridge.js';
import { labDir } from './state.js';
import { seconds, type Progress } from './exec.js';

// Stop (and with purge remove) everything the lab made.
export async function labDown(spec: LabSpec, opts: { purge: boolean }, progress: Progress): Promise<void> {
  const start = Date.now();
  const containers = spec.hosts.map((h) => containerName(spec.name, h.role));
  const present: string[] = [];
  for (const c of containers) if ((await hostState(c)) !== 'ABSENT' || existsSync(await containerDir(c))) present.push(c);
  await Promise.all(present.map((c) => stopHost(c)));
  progress(`stopped ${present.length} host${present.length === 1 ? '' : 's'} in ${seconds(Date.now() - start)}`);
  if (!opts.purge) return;
  let t = Date.now();
  for (const c of present) await destroyHost(c);
  progress(`removed ${present.length} container${present.length === 1 ? '' : 's'} in ${seconds(Date.now() - t)}`);
  t = Date.now();
  await destroyBase(spec);
  progress(`removed the base in ${seconds(Date.now() - t)}`);
  const br = await removeBridge(spec);
  rmSync(labDir(spec.name), { recursive: true, force: true });
  progress(
    `purged lab ${spec.name}: ${present.length} container${present.length === 1 ? '' : 's'}, the base${br ? `, bridge ${spec.bridge}` : ''} and ${labDir(spec.name)} (${seconds(Date.now() - start)})`,
  );
  progress('the package cache (apt-cacher-ng) is a host service shared with other labs: it keeps running, with its cached packages');
}
