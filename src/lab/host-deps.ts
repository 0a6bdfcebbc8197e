// What the host machine must have for the lab: root, the LXC tools, debootstrap, the package cache,
// and which kernel features the tutorial's hosts will (not) find.
import { existsSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { StackcheckError, ExitCode } from '../error.js';
import { exec, execTry, timed, type Progress } from './exec.js';

/** Debian packages the lab needs on the host, with the program that proves each is there. */
export const HOST_PACKAGES: { pkg: string; binary: string }[] = [
  { pkg: 'lxc', binary: '/usr/bin/lxc-start' },
  { pkg: 'debootstrap', binary: '/usr/sbin/debootstrap' },
  { pkg: 'apt-cacher-ng', binary: '/usr/sbin/apt-cacher-ng' },
  { pkg: 'openssh-client', binary: '/usr/bin/ssh-keygen' },
  { pkg: 'rsync', binary: '/usr/bin/rsync' },
  { pkg: 'iproute2', binary: '/usr/sbin/ip' },
];

// The lab creates containers and bridges: only root can.
export function ensureRoot(): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new StackcheckError('E_LAB', 'the lab needs root (it creates LXC containers and a network bridge)', {
      exitCode: ExitCode.badInput,
      hint: 'run it as root, e.g. `sudo npx stackcheck lab up`',
    });
  }
}

// Packages from HOST_PACKAGES that are not installed.
export function missingHostPackages(): string[] {
  return HOST_PACKAGES.filter((p) => !existsSync(p.binary)).map((p) => p.pkg);
}

// Install the missing host packages with apt, saying so; a clear error when apt cannot.
export async function ensureHostPackages(progress: Progress): Promise<void> {
  const missing = missingHostPackages();
  if (missing.length === 0) return;
  progress(`host: installing missing packages with apt: ${missing.join(' ')}`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  try {
    await timed(progress, 'host: apt-get update', () => exec('apt-get', ['update', '-q'], { env, timeoutMs: 600_000 }));
    await timed(progress, `host: apt-get install ${missing.join(' ')}`, () =>
      exec('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { env, timeoutMs: 1_200_000 }),
    );
  } catch (err) {
    throw new StackcheckError('E_LAB', `LXC or its helpers are missing and could not be installed (${missing.join(', ')})`, {
      cause: err,
      hint: `install them by hand: apt-get install ${missing.join(' ')}\n${(err as Error).message}`,
    });
  }
  const still = missingHostPackages();
  if (still.length > 0) throw new StackcheckError('E_LAB', `still missing after apt-get install: ${still.join(', ')}`);
}

/** What the kernel offers the tutorial's hosts. */
export interface HostFeatures {
  kvm: boolean;
  tun: boolean;
  deviceMapper: boolean;
  iscsi: boolean;
  openvswitch: boolean;
  nfs: boolean;
}

// Whether a device node exists and can be opened for reading and writing.
function deviceWorks(path: string): boolean {
  try {
    const fd = openSync(path, 'r+');
    closeSync(fd);
    return true;
  } catch {
    return false;
  }
}

// Whether a line of /proc/<file> mentions `word`.
function procHas(file: string, word: RegExp): boolean {
  try {
    return word.test(readFileSync(`/proc/${file}`, 'utf8'));
  } catch {
    return false;
  }
}

// Probe the kernel features the tutorial relies on (no module loading: this kernel cannot).
export function hostFeatures(): HostFeatures {
  return {
    kvm: deviceWorks('/dev/kvm'),
    tun: existsSync('/dev/net/tun'),
    deviceMapper: procHas('devices', /\bdevice-mapper\b/) || existsSync('/dev/mapper/control'),
    iscsi: existsSync('/sys/module/iscsi_tcp') || existsSync('/sys/class/iscsi_transport/tcp'),
    openvswitch: existsSync('/sys/module/openvswitch'),
    nfs: procHas('filesystems', /\bnfs4?\b/),
  };
}

// Tell the user, once per `up`, what the tutorial's hosts will not find on this machine.
export function reportHostFeatures(f: HostFeatures, progress: Progress): void {
  if (!f.kvm) progress('host: no working /dev/kvm: compute hosts run qemu without KVM (TCG), as the tutorial does anyway');
  else progress('host: /dev/kvm works: compute hosts get it (the tutorial still configures plain qemu)');
  if (!f.tun) progress('host: WARNING: /dev/net/tun is missing: instances on compute hosts will have no network');
  if (!f.deviceMapper) progress('host: missing device-mapper: LVM logical volumes cannot be activated (cinder LVM backend will fail)');
  if (!f.iscsi) progress('host: missing iSCSI: cinder volumes cannot be attached over iSCSI');
  if (!f.openvswitch) progress('host: missing Open vSwitch kernel module: use the linuxbridge agent');
  if (!f.nfs) progress('host: missing NFS client: NFS-backed storage will not mount');
}

// Whether the LXC tools work at all (e.g. lxc-ls runs).
export async function lxcWorks(): Promise<boolean> {
  const r = await execTry('lxc-ls', ['--version']).catch(() => undefined);
  return r !== undefined && r.code === 0;
}

/** Kernel limits that many systemd containers need, with the value the lab sets when the host's is lower. */
const HOST_LIMITS: { key: string; min: number; why: string }[] = [
  // Every systemd (PID 1 of each container, and its services) holds inotify instances; the default 128 runs
  // out around a dozen containers: init exits 255 or sshd never starts.
  { key: 'fs.inotify.max_user_instances', min: 1024, why: 'systemd in every container watches files' },
  { key: 'fs.inotify.max_user_watches', min: 524288, why: 'systemd in every container watches files' },
];

// Raise host kernel limits that would make containers fail to boot; says what it changed.
export function ensureHostLimits(progress: Progress): void {
  for (const { key, min, why } of HOST_LIMITS) {
    const file = `/proc/sys/${key.replace(/\./g, '/')}`;
    if (!existsSync(file)) continue;
    const now = Number(readFileSync(file, 'utf8').trim());
    if (Number.isFinite(now) && now < min) {
      writeFileSync(file, `${min}\n`);
      progress(`host: ${key} raised from ${now} to ${min} (${why})`);
    }
  }
}
