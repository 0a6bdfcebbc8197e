// Injecting and repairing a catalogue fault on a deployment, over the run's SSH connections. Places resolve against
// the inventory (a role, a service of the tutorial, compute, cinder-volume, database, message-queue); {{ VARIABLES }}
// come from the inventory. Scripts travel on the channel's standard input, never on a command line (they may hold
// a password), and whatever goes wrong is reported with the inventory's secrets masked.
import { StackcheckError } from '../error.js';
import type { Inventory } from '../inventory/types.js';
import { expectedFor, serviceHost } from '../checks/expect.js';
import { redactorFor } from '../checks/secrets.js';
import { remoteCommand } from '../ssh/exec.js';
import type { SshPool } from '../ssh/pool.js';
import type { Fault, FaultAction, FaultExpectation } from './catalogue.js';

/** What a fault is injected into: one deployment's inventory and its connections. */
export interface FaultTarget {
  inventory: Inventory;
  pool: SshPool;
}

/** The inventory role a place names. */
export function placeRole(inv: Inventory, on: string): string {
  if (inv.hosts[on]) return on;
  const e = expectedFor(inv);
  const role =
    on === 'compute'
      ? e.computeRoles[0]
      : on === 'cinder-volume'
        ? e.cinderVolumeRole
        : on === 'database'
          ? e.dbRole
          : on === 'message-queue'
            ? e.mqRole
            : e.allServices.find((s) => s.name === on)?.role;
  if (!role || !inv.hosts[role]) {
    throw new StackcheckError('E_CATALOGUE', `the fault catalogue names "${on}", which is no role of ${inv.file}${role ? ` (it means role ${role})` : ''}`);
  }
  return role;
}

/** Whether the deployment has the place (a role, a service's host…) an action names. */
export function hasPlace(inv: Inventory, on: string): boolean {
  try {
    placeRole(inv, on);
    return true;
  } catch {
    return false;
  }
}

/** Whether a check result is one an expectation speaks of (its check, and its place when it names one). */
export function expectationCovers(inv: Inventory, e: FaultExpectation, result: { id: string; host: string }): boolean {
  if (result.id !== e.check) return false;
  if (!e.on) return true;
  return result.host === (e.on === 'deployment' ? 'deployment' : placeRole(inv, e.on));
}

/** How a result differs from what the fault makes of it (undefined: as expected). */
export function expectationMismatch(e: FaultExpectation, result: { status: string; message: string }): string | undefined {
  if (result.status !== e.status) return `expected ${e.status}, found ${result.status}: ${result.message}`;
  if (e.message && !new RegExp(e.message).test(result.message)) return `expected a message matching /${e.message}/, found: ${result.message}`;
  return undefined;
}

/**
 * A script with its {{ VARIABLES }} filled from the inventory, plus COMPUTE_HOST (the first compute host's name) and
 * the names the checks expect (PRIVATE_NETWORK, PUBLIC_NETWORK, ROUTER_NAME, RABBIT_USER, ADMIN_USER); an unknown one is an error.
 */
export function fillVariables(inv: Inventory, script: string): string {
  // The tutorial's names, as the checks expect them (the inventory may rename them: PRIVATE_NETWORK…).
  const e = expectedFor(inv);
  const extra: Record<string, string> = { PRIVATE_NETWORK: e.network, PUBLIC_NETWORK: e.externalNetwork, ROUTER_NAME: e.router, RABBIT_USER: e.rabbit.user, ADMIN_USER: e.admin.user };
  const compute = e.computeRoles[0];
  if (compute && inv.hosts[compute]) extra.COMPUTE_HOST = serviceHost(inv, compute);
  return script.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_m, name: string) => {
    const v = inv.vars[name] ?? extra[name];
    if (v === undefined) throw new StackcheckError('E_VARIABLE', `the fault catalogue uses {{ ${name} }}, which ${inv.file} does not set`);
    return v;
  });
}

const BACKUPS = '/root/.stackcheck-fault';

function backupOf(fault: Fault, path: string): string {
  return `${BACKUPS}/${fault.id}/${path.replace(/\//g, '%')}`;
}

async function run(target: FaultTarget, fault: Fault, what: string, a: Pick<FaultAction, 'on' | 'run'>, allowFailure = false): Promise<{ ok: boolean; output: string }> {
  const inv = target.inventory;
  const role = placeRole(inv, a.on);
  const spec = inv.hosts[role];
  if (!spec) throw new StackcheckError('E_ROLE', `role "${role}" is not in the inventory ${inv.file}`);
  const script = fillVariables(inv, a.run);
  // The script is read whole into a private file first: a command in it that reads its input (rabbitmqctl does)
  // must not swallow the rest of the script.
  const runner = 'f=$(mktemp) && cat > "$f" && bash "$f" </dev/null; rc=$?; rm -f "$f"; exit $rc';
  const r = await target.pool.exec(role, remoteCommand({ script: runner, sshUser: spec.user, root: true, timeoutMs: 300_000 }), { input: `set -o pipefail\n${script}\n` });
  const output = redactorFor(inv).redact(`${r.stdout}${r.stderr}`.trim());
  if (r.exitCode !== 0 && !allowFailure) {
    throw new StackcheckError('E_CHECK', `fault ${fault.id}: ${what} on ${role} failed (exit ${r.exitCode ?? 'none'}): ${output.split('\n').slice(-5).join(' | ') || 'no output'}`);
  }
  return { ok: r.exitCode === 0, output };
}

/** Whether the fault applies to this deployment (its `when` test, e.g. the Ceph variant's files). */
export async function faultApplies(fault: Fault, target: FaultTarget): Promise<boolean> {
  if (!fault.when) return true;
  return (await run(target, fault, 'the applicability test', fault.when, true)).ok;
}

/**
 * Inject a fault. A file an action edits is backed up first (owner and mode kept); a backup left by an interrupted
 * run is put back first instead, so a sabotaged copy never becomes the "original".
 */
export async function injectFault(fault: Fault, target: FaultTarget): Promise<void> {
  for (const a of fault.inject) {
    if (a.edit) {
      const b = backupOf(fault, a.edit);
      await run(target, fault, `backing up ${a.edit}`, { on: a.on, run: `mkdir -p -m 700 ${BACKUPS}/${fault.id} && if [ -e '${b}' ]; then cp -p '${b}' '${a.edit}'; else cp -p '${a.edit}' '${b}'; fi` });
    }
    await run(target, fault, 'the injection', a);
  }
}

/**
 * Repair a fault: edited files back (last edit first), then the repair actions, then its backup folder removed. Every
 * action is tried even when one before failed (a repair may follow an injection that stopped half-way); the first
 * failure is thrown at the end.
 */
export async function repairFault(fault: Fault, target: FaultTarget): Promise<void> {
  const errors: unknown[] = [];
  const attempt = async (what: string, a: Pick<FaultAction, 'on' | 'run'>): Promise<void> => {
    try {
      await run(target, fault, what, a);
    } catch (err) {
      errors.push(err);
    }
  };
  const edited = [...fault.inject].reverse().filter((a) => a.edit);
  for (const a of edited) {
    const b = backupOf(fault, a.edit ?? '');
    await attempt(`putting ${a.edit} back`, { on: a.on, run: `if [ -e '${b}' ]; then mv '${b}' '${a.edit}'; fi; rmdir ${BACKUPS}/${fault.id} 2>/dev/null || true` });
  }
  for (const a of fault.repair) {
    if (a.optional && !hasPlace(target.inventory, a.on)) continue;
    await attempt('the repair', a);
  }
  if (errors.length > 0) throw errors[0];
}
