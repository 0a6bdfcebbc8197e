// Where a lab keeps its state on the host (outside the git checkout): the ssh key pair, known_hosts,
// inventory.yaml, the spec it was built from and its snapshots.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StackcheckError, ExitCode } from '../error.js';
import { exec } from './exec.js';
import type { LabSpec } from './spec.js';
import { processAlive } from '../process-alive.js';

// Root of every lab's state; STACKCHECK_LAB_DIR moves it (tests, non-standard hosts).
export function labRoot(): string {
  return process.env.STACKCHECK_LAB_DIR ?? '/var/lib/stackcheck/lab';
}

// The state folder of lab `name`.
export function labDir(name: string): string {
  return join(labRoot(), name);
}

// The lab name a command acts on: --lab, then $STACKCHECK_LAB, then `lab`.
export function labName(opt: string | undefined): string {
  const name = opt ?? process.env.STACKCHECK_LAB ?? 'lab';
  if (!/^[a-z][a-z0-9]{0,7}$/.test(name)) {
    throw new StackcheckError('E_ARGS', `--lab: "${name}" is not a lab name (1-8 lower-case letters or digits, starting with a letter)`);
  }
  return name;
}

/** What `lab up` records: the spec the lab was built from. */
export interface LabState {
  spec: LabSpec;
  createdAt: string;
}

// Read a lab's recorded state, or undefined when the lab was never brought up (or was purged).
export function readState(name: string): LabState | undefined {
  const file = join(labDir(name), 'lab.json');
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as LabState;
}

// Record the lab's spec (first `up`), refusing a different layout for an existing lab.
export function writeState(spec: LabSpec): LabState {
  const dir = labDir(spec.name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const old = readState(spec.name);
  if (old) {
    const a = JSON.stringify({ ...old.spec });
    const b = JSON.stringify({ ...spec });
    if (a !== b) {
      throw new StackcheckError('E_LAB', `lab "${spec.name}" exists with a different layout (bridge, subnet or hosts)`, {
        exitCode: ExitCode.badInput,
        hint: `remove it first with \`stackcheck lab down --purge --lab ${spec.name}\`, or use another lab name in the spec`,
      });
    }
    return old;
  }
  const state: LabState = { spec, createdAt: new Date().toISOString() };
  writeFileSync(join(dir, 'lab.json'), `${JSON.stringify(state, null, 2)}\n`);
  return state;
}

// The state of an existing lab, or a clear error that it was never brought up.
export function requireState(name: string): LabState {
  const s = readState(name);
  if (!s) {
    throw new StackcheckError('E_LAB', `no lab "${name}" on this machine (nothing under ${labDir(name)})`, {
      exitCode: ExitCode.badInput,
      hint: `bring it up with \`stackcheck lab up${name === 'lab' ? '' : ` --lab ${name}`}\``,
    });
  }
  return s;
}

// LXC's container folder (usually /var/lib/lxc).
export async function lxcPath(): Promise<string> {
  return (await exec('lxc-config', ['lxc.lxcpath'])).trim() || '/var/lib/lxc';
}

// The lab's ssh key pair (ed25519), created once.
export async function ensureLabKey(name: string): Promise<{ privateKey: string; publicKey: string }> {
  const dir = labDir(name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const privateKey = join(dir, 'id_ed25519');
  if (!existsSync(privateKey) || !existsSync(`${privateKey}.pub`)) {
    await exec('rm', ['-f', privateKey, `${privateKey}.pub`]);
    await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `stackcheck-lab-${name}`, '-f', privateKey]);
  }
  return { privateKey, publicKey: readFileSync(`${privateKey}.pub`, 'utf8').trim() };
}


// Run `fn` holding the lab's lock, so two commands (or two test files calling ensureLab) never
// build or change the same lab at once; a lock left by a dead process is taken over.
export async function withLabLock<T>(name: string, onWait: (line: string) => void, fn: () => Promise<T>): Promise<T> {
  mkdirSync(labRoot(), { recursive: true, mode: 0o755 });
  const lock = join(labRoot(), `.${name}.lock`);
  const deadline = Date.now() + 30 * 60_000;
  let told = false;
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(lock, 'utf8').trim());
      if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) {
        rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new StackcheckError('E_LAB', `lab "${name}" is locked by process ${pid} for more than 30 min (${lock})`);
      if (!told) onWait(`waiting for another stackcheck (pid ${pid}) working on lab "${name}"`);
      told = true;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}
