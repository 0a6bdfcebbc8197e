// What a drill works on: the inventory (the local lab by default), whether it is the lab (snapshots, no ownership
// question), and what the deployment holds (the lab's record, or --tutorial), so a drill check expects the right things.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { StackcheckError } from '../error.js';
import { loadInventory } from '../inventory/load.js';
import type { Inventory } from '../inventory/types.js';
import type { LabSpec } from '../lab/spec.js';
import { installedByAll, validateStageDeclarations } from '../checks/declared.js';
import { parseTutorial } from '../runner/parse.js';

export interface DrillTargetOptions {
  /** An inventory; absent: the local lab ($STACKCHECK_LAB or "lab"). */
  inventory?: string;
  secrets?: string;
  /** What the deployment was built from (default on the lab: its deployed tutorial; elsewhere: a complete one). */
  tutorial?: string;
  /** The inventory given is this local lab's (snapshots apply, no ownership question). */
  lab?: string;
  env?: NodeJS.ProcessEnv;
}

export interface DrillTarget {
  inventory: Inventory;
  inventoryFile: string;
  lab?: { name: string; spec: LabSpec };
  /** Install keys the deployment holds; absent: a complete deployment. */
  installed?: string[];
  describe: string;
}

export async function drillTarget(opts: DrillTargetOptions): Promise<DrillTarget> {
  const env = opts.env ?? process.env;
  const load = (file: string): Promise<Inventory> => loadInventory(file, { ...(opts.secrets ? { secretsFile: opts.secrets } : {}), env });
  let installed: string[] | undefined;
  if (opts.tutorial) {
    if (!existsSync(opts.tutorial)) throw new StackcheckError('E_ARGS', `--tutorial ${opts.tutorial}: no such folder (${resolve(opts.tutorial)})`);
    const t = await parseTutorial(opts.tutorial);
    validateStageDeclarations(t);
    installed = installedByAll(t);
  }
  const { readState, writeInventory, readDeployment, deployedInstalls } = await import('../lab/index.js');
  if (opts.inventory) {
    const inventoryFile = resolve(opts.inventory);
    const state = opts.lab ? readState(opts.lab) : undefined;
    if (opts.lab && !state) throw new StackcheckError('E_ARGS', `--lab ${opts.lab}: there is no local lab of that name (stackcheck lab status)`);
    const lab = opts.lab && state ? { lab: { name: opts.lab, spec: state.spec } } : {};
    return { inventory: await load(inventoryFile), inventoryFile, ...lab, ...(installed ? { installed } : {}), describe: opts.lab ? `the local lab "${opts.lab}" (inventory ${opts.inventory})` : `inventory ${opts.inventory}` };
  }
  const name = opts.lab ?? env.STACKCHECK_LAB ?? 'lab';
  const state = readState(name);
  if (!state) {
    throw new StackcheckError('E_ARGS', `no inventory given and no local lab "${name}": pass --inventory FILE (the cloud to drill on), or build the lab (stackcheck lab up, stackcheck run tutorial)`);
  }
  const inventoryFile = await writeInventory(state.spec);
  const record = readDeployment(name).deployment;
  installed ??= record ? deployedInstalls(record) : undefined;
  return { inventory: await load(inventoryFile), inventoryFile, lab: { name, spec: state.spec }, ...(installed ? { installed } : {}), describe: `the local lab "${name}"` };
}
