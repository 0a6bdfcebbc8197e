// `stackcheck lab …`: the tutorial's hosts as local LXC containers (see docs/lab.md).
import type { Command } from 'commander';
import { labUp } from '../lab/up.js';
import { labDown } from '../lab/down.js';
import { snapshotLab, restoreLab } from '../lab/snapshot.js';
import { labStatus, formatStatus } from '../lab/status.js';
import { writeInventory, createdHosts, noHostsError } from '../lab/inventory.js';
import { baseDir } from '../lab/base.js';
import { ensureRoot } from '../lab/host-deps.js';
import { labName, readState, requireState, withLabLock } from '../lab/state.js';
import type { Progress } from '../lab/exec.js';

// Progress lines go to stderr so stdout stays clean for paths and JSON.
const progress: Progress = (line) => process.stderr.write(`lab: ${line}\n`);

interface LabOpt {
  lab?: string;
}

// Adds `lab up|status|down|snapshot|restore|inventory`.
export function registerLab(program: Command): void {
  const lab = program
    .command('lab')
    .description('the tutorial\'s hosts as local Debian 12 LXC containers on a private bridge')
    .option('--lab <name>', 'which lab (default: $STACKCHECK_LAB or "lab")');
  const name = (cmd: Command): string => labName((cmd.optsWithGlobals() as LabOpt).lab);

  lab
    .command('up')
    .description('create and start the lab hosts (idempotent); prints the inventory path')
    .option('--hosts <roles>', 'comma-separated roles to bring up (default: all)')
    .option('--spec <file>', 'YAML lab spec: name, bridge, subnet, hosts (see docs/lab.md)')
    .action(async (opts: { hosts?: string; spec?: string }, cmd: Command) => {
      const labOpt = (cmd.optsWithGlobals() as LabOpt).lab;
      const r = await labUp({
        ...(labOpt !== undefined ? { lab: labName(labOpt) } : {}),
        ...(opts.spec !== undefined ? { specFile: opts.spec } : {}),
        ...(opts.hosts !== undefined ? { hosts: opts.hosts } : {}),
        progress,
      });
      process.stdout.write(`${r.inventoryFile}\n`);
    });

  lab
    .command('status')
    .description('hosts, addresses, state, memory and disk use')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const state = requireState(name(cmd));
      const s = await labStatus(state.spec, await baseDir(state.spec));
      process.stdout.write(opts.json ? `${JSON.stringify(s, null, 2)}\n` : `${formatStatus(s)}\n`);
    });

  lab
    .command('down')
    .description('stop every lab host; --purge also removes containers, base, bridge and state')
    .option('--purge', 'remove everything the lab put on disk')
    .action(async (opts: { purge?: boolean }, cmd: Command) => {
      ensureRoot();
      const n = name(cmd);
      const state = readState(n);
      if (!state) {
        progress(`no lab "${n}" on this machine: nothing to do`);
        return;
      }
      await withLabLock(n, progress, () => labDown(state.spec, { purge: opts.purge === true }, progress));
    });

  lab
    .command('snapshot <name>')
    .description('snapshot every lab host (hosts stop for the copy and start again)')
    .action(async (snap: string, _opts: unknown, cmd: Command) => {
      ensureRoot();
      const n = name(cmd);
      await withLabLock(n, progress, () => snapshotLab(requireState(n).spec, snap, progress));
    });

  lab
    .command('restore <name>')
    .description('roll every lab host back to a snapshot')
    .action(async (snap: string, _opts: unknown, cmd: Command) => {
      ensureRoot();
      const n = name(cmd);
      await withLabLock(n, progress, () => restoreLab(requireState(n).spec, snap, progress));
    });

  lab
    .command('inventory')
    .description('write the inventory for `stackcheck run --inventory` and print its path')
    .option('--out <file>', 'where to write it (default: inventory.yaml in the lab folder)')
    .option('--vars <file>', 'YAML mapping of extra variables to merge into `vars`')
    .action(async (opts: { out?: string; vars?: string }, cmd: Command) => {
      const n = name(cmd);
      const spec = requireState(n).spec;
      if ((await createdHosts(spec)).length === 0) throw noHostsError(n);
      const file = await writeInventory(spec, {
        ...(opts.out !== undefined ? { out: opts.out } : {}),
        ...(opts.vars !== undefined ? { varsFile: opts.vars } : {}),
      });
      process.stdout.write(`${file}\n`);
    });
}
