// What the host machine must have for stackcheck: the Debian packages of the one list
// (host-packages.txt at the package root), every file and command the project relies on with the
// package that ships it, the preflight `lab up` runs before it builds anything, root, and which kernel
// features the tutorial's hosts will (not) find.
import { accessSync, constants, existsSync, openSync, closeSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StackcheckError, ExitCode } from '../error.js';
import { exec, execTry, timed, type Progress } from './exec.js';

/**
 * What a host requirement is needed for: the lab (`stackcheck lab up`), the test suite (a real sshd, sudo,
 * the checks' config reader), report rendering tests (headless Chromium), getting the project (git over
 * https). `lab up` installs only what the lab needs; scripts/setup.sh installs the whole list.
 */
export type HostPurpose = 'lab' | 'tests' | 'reports' | 'source';

/** One file or command the project relies on on the host, and the Debian package that ships it. */
export interface HostRequirement {
  /** An absolute path (file or folder), or a command name looked up on PATH. */
  path: string;
  /** The package that ships it (what `dpkg -S` names; test/lab/host-packages.it.test.ts checks it). */
  pkg: string;
  /**
   * The line of host-packages.txt that brings `pkg` in as a dependency, when `pkg` is not listed itself
   * (the list names only what no other line already pulls in).
   */
  via?: string;
  /** Part of every Debian system (`debootstrap --variant=minbase`): not in the list, never installed by us. */
  base?: true;
  purpose: HostPurpose;
  /** Why it is needed, as a clause after the path: "…, which clones the base as each host". */
  why: string;
}

const lab = (path: string, pkg: string, why: string, extra: { via?: string; base?: true } = {}): HostRequirement => ({ path, pkg, purpose: 'lab', why, ...extra });
const LXC = { via: 'lxc-templates' } as const;
const BASE = { base: true } as const;

/**
 * Every file and command the project relies on on the host. test/lab/host-deps.test.ts fails when
 * src/lab/*.ts runs a command or names a path under /usr, /etc, /bin, /sbin or /lib that is not here
 * (or in HOST_PATHS_NOT_FROM_PACKAGES), and when this table and host-packages.txt disagree.
 */
export const HOST_REQUIREMENTS: readonly HostRequirement[] = [
  // LXC: the configs the lab writes include debian.common.conf, which includes common.conf, which
  // sets a seccomp profile, a clone hook and includes a folder.
  lab('/usr/share/lxc/config/debian.common.conf', 'lxc-templates', "which every lab container's config includes"),
  lab('/usr/share/lxc/config/common.conf', 'liblxc-common', 'which debian.common.conf includes', LXC),
  lab('/usr/share/lxc/config/common.seccomp', 'liblxc-common', 'the seccomp profile common.conf gives every container', LXC),
  lab('/usr/share/lxc/config/common.conf.d', 'liblxc-common', 'the folder common.conf includes', LXC),
  lab('/usr/share/lxc/hooks/clonehostname', 'liblxc-common', 'the clone hook common.conf sets (runs at every lxc-copy)', LXC),
  lab('lxc-copy', 'lxc', 'which clones the base as each host (overlay)', LXC),
  lab('lxc-start', 'lxc', 'which starts the hosts', LXC),
  lab('lxc-stop', 'lxc', 'which stops the hosts', LXC),
  lab('lxc-info', 'lxc', "which reads a host's state", LXC),
  lab('lxc-destroy', 'lxc', 'which removes hosts and the base', LXC),
  lab('lxc-ls', 'lxc', 'which shows that LXC works', LXC),
  lab('lxc-config', 'lxc', "which names LXC's container folder (lxc.lxcpath)", LXC),
  lab('lxc-attach', 'lxc', 'which the error hints tell you to look inside a host with', LXC),
  lab('ip', 'iproute2', "which creates the lab bridge and reads the host's addresses", LXC),
  lab('debootstrap', 'debootstrap', "which builds the lab's base root filesystem"),
  lab('/usr/sbin/apt-cacher-ng', 'apt-cacher-ng', "the package cache the lab's hosts fetch through"),
  lab('/etc/init.d/apt-cacher-ng', 'apt-cacher-ng', 'which starts the package cache where `service` cannot'),
  lab('/etc/apt-cacher-ng', 'apt-cacher-ng', "the package cache's configuration folder (the lab sets its mirror and addresses there)"),
  lab('ssh', 'openssh-client', 'which checks the login into each host with host-key verification'),
  lab('ssh-keygen', 'openssh-client', "which makes the lab's key and each host's host keys"),
  lab('rsync', 'rsync', "which copies the hosts' overlay changes for lab snapshots"),
  // From every Debian system.
  lab('apt-get', 'apt', 'which installs missing host packages', BASE),
  lab('apt-config', 'apt', "which reads the host's apt settings the hosts must share", BASE),
  lab('/etc/apt/sources.list.d', 'apt', "the host's apt sources, whose mirror the lab uses", BASE),
  lab('/usr/share/keyrings/debian-archive-keyring.gpg', 'debian-archive-keyring', "the key debootstrap and the hosts' apt check packages with", BASE),
  lab('service', 'init-system-helpers', 'which starts the package cache', BASE),
  lab('chroot', 'coreutils', 'which configures the base inside it', BASE),
  lab('mv', 'coreutils', 'which puts a finished snapshot in place', BASE),
  lab('rm', 'coreutils', "which replaces the lab's key", BASE),
  lab('du', 'coreutils', "which measures each host's disk use", BASE),
  // The test suite.
  { path: '/usr/sbin/sshd', pkg: 'openssh-server', purpose: 'tests', why: 'the real OpenSSH server the SSH tests start on 127.0.0.1' },
  { path: 'ssh-agent', pkg: 'openssh-client', purpose: 'tests', why: 'which the agent-authentication test starts' },
  { path: 'ssh-add', pkg: 'openssh-client', purpose: 'tests', why: 'which loads the key into that agent' },
  { path: 'ps', pkg: 'procps', via: 'openssh-server', purpose: 'tests', why: 'which the tests look for leftover processes with' },
  { path: 'sudo', pkg: 'sudo', purpose: 'tests', why: "which the runner's sudo tests go through" },
  { path: 'visudo', pkg: 'sudo', purpose: 'tests', why: 'which checks the sudoers file those tests write' },
  { path: 'python3', pkg: 'python3-minimal', via: 'python3', purpose: 'tests', why: "which runs the checks' config reader in its unit test" },
  // (python3-minimal alone lacks json: the reader needs the standard library the python3 line brings; Debian 12's Python is 3.11)
  { path: '/usr/lib/python3.11/json/__init__.py', pkg: 'libpython3.11-stdlib', via: 'python3', purpose: 'tests', why: 'the json module that reader imports' },
  // Report rendering.
  { path: '/usr/bin/chromium', pkg: 'chromium', purpose: 'reports', why: 'which renders the HTML reports in the report tests' },
  // The guide's test drives `stackcheck guide` in a real terminal.
  { path: 'tmux', pkg: 'tmux', purpose: 'tests', why: "in which the guide's test types keys and reads the screen" },
  // The project's source.
  { path: 'git', pkg: 'git', purpose: 'source', why: 'which gets and updates the project' },
  { path: '/usr/share/ca-certificates/mozilla', pkg: 'ca-certificates', purpose: 'source', why: 'the CA certificates git checks https remotes against' },
];

/**
 * Paths the lab code names that no host package has to ship: the lab writes them, reads them only when
 * present, or names them inside the lab's hosts.
 */
export const HOST_PATHS_NOT_FROM_PACKAGES: readonly { path: string; why: string }[] = [
  { path: '/etc/apt-cacher-ng/backends_debian', why: "written by `lab up`: the package cache's Debian mirror (the host's own)" },
  { path: '/etc/apt-cacher-ng/zz_stackcheck.conf', why: 'written by `lab up`: the addresses the package cache serves' },
  { path: '/etc/apt/sources.list', why: "the host's one-line apt sources, read when present (deb822 hosts have none)" },
  { path: '/etc/hosts', why: "a lab host's own, named in the resolv.conf the base gets (the host machine's is not read)" },
];

/** The line of host-packages.txt a requirement comes from (undefined for the base system's). */
export function listLine(r: HostRequirement): string | undefined {
  return r.base ? undefined : (r.via ?? r.pkg);
}

/** The package list's file name, at the package root. */
export const HOST_PACKAGES_FILE = 'host-packages.txt';

// The list at the package root: two folders up from src/lab/ (tsx, vitest), three from dist/src/lab/ (the built CLI).
export function hostPackagesFile(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, '..', '..', HOST_PACKAGES_FILE), join(here, '..', '..', '..', HOST_PACKAGES_FILE)];
  return candidates.find((f) => existsSync(f)) ?? candidates[0]!;
}

/** Parse the list: one package per line, `#` to the end of a line is a comment. */
export function parseHostPackages(text: string, file = HOST_PACKAGES_FILE): string[] {
  const pkgs: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    if (!/^[a-z0-9][a-z0-9+.-]+$/.test(line)) {
      throw new StackcheckError('E_INTERNAL', `${file}:${i + 1}: "${line}" is not one Debian package name (one package per line, # for comments)`);
    }
    if (pkgs.includes(line)) throw new StackcheckError('E_INTERNAL', `${file}:${i + 1}: ${line} is listed twice`);
    pkgs.push(line);
  });
  return pkgs;
}

/** The host package list (host-packages.txt), read at run time. */
export function readHostPackages(file = hostPackagesFile()): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new StackcheckError('E_INTERNAL', `cannot read the host package list ${file}: ${(err as Error).message}`, {
      cause: err,
      hint: `${HOST_PACKAGES_FILE} ships at the root of the stackcheck package; reinstall it`,
    });
  }
  return parseHostPackages(text, file);
}

/** The lines of the list a purpose relies on (the lab's: what `lab up` may install). */
export function linesFor(purpose: HostPurpose, list: readonly string[], reqs: readonly HostRequirement[] = HOST_REQUIREMENTS): string[] {
  const wanted = new Set(reqs.filter((r) => r.purpose === purpose).map(listLine));
  return list.filter((p) => wanted.has(p));
}

// The first executable file called `cmd` on PATH.
export function onPath(cmd: string, pathVar = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathVar.split(':').filter(Boolean)) {
    const file = join(dir, cmd);
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Whether a requirement is met on this machine: a path exists, a command is on PATH (as the lab runs it). */
export function requirementMet(r: HostRequirement): boolean {
  return r.path.startsWith('/') ? existsSync(r.path) : onPath(r.path) !== undefined;
}

/** What the preflight needs from the machine; the real one by default, a fake in unit tests. */
export interface HostAccess {
  met: (r: HostRequirement) => boolean;
  install: (pkgs: string[], progress: Progress) => Promise<void>;
  list: () => string[];
}

// apt-get update + install, without recommends; waits for another apt to finish instead of failing at once.
async function aptInstall(pkgs: string[], progress: Progress): Promise<void> {
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  const lock = ['-o', 'DPkg::Lock::Timeout=300'];
  await timed(progress, 'host: apt-get update', () => exec('apt-get', ['update', '-q', ...lock], { env, timeoutMs: 600_000 }));
  await timed(progress, `host: apt-get install --no-install-recommends ${pkgs.join(' ')}`, () =>
    exec('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...lock, ...pkgs], { env, timeoutMs: 1_800_000 }),
  );
}

const realHost: HostAccess = { met: requirementMet, install: aptInstall, list: () => readHostPackages() };

// "lxc-copy (from lxc), which clones …" — a requirement as the preflight names it.
function describeRequirement(r: HostRequirement, line: string): string {
  return `${r.path}${r.pkg !== line ? ` (from ${r.pkg})` : ''}, ${r.why}`;
}

/**
 * The preflight of `lab up`, before anything is built: checks every file and command the lab relies
 * on, installs with apt the lines of host-packages.txt that bring the missing ones (saying which and
 * why), checks again, and fails naming whatever is still missing. Returns the packages it installed.
 */
export async function ensureHostRequirements(progress: Progress, host: HostAccess = realHost): Promise<string[]> {
  const list = host.list();
  const reqs = HOST_REQUIREMENTS.filter((r) => r.purpose === 'lab');
  const missing = reqs.filter((r) => !host.met(r));
  if (missing.length === 0) return [];
  const byLine = new Map<string, HostRequirement[]>();
  for (const r of missing) {
    const line = listLine(r) ?? r.pkg; // a base-system package: reinstalled by name
    byLine.set(line, [...(byLine.get(line) ?? []), r]);
  }
  const pkgs = [...byLine.keys()];
  const unlisted = pkgs.filter((p) => !list.includes(p) && !missing.some((r) => r.base && r.pkg === p));
  if (unlisted.length > 0) {
    throw new StackcheckError('E_INTERNAL', `the host package list does not name ${unlisted.join(', ')}, which the lab needs (${HOST_PACKAGES_FILE})`);
  }
  for (const [line, rs] of byLine) progress(`host: installing ${line} (provides ${rs.map((r) => describeRequirement(r, line)).join('; ')})`);
  try {
    await host.install(pkgs, progress);
  } catch (err) {
    throw new StackcheckError('E_LAB', `the lab's host packages are missing and could not be installed (${pkgs.join(', ')})`, {
      cause: err,
      hint: `install them by hand: apt-get install --no-install-recommends ${pkgs.join(' ')}\n${(err as Error).message}`,
    });
  }
  const still = reqs.filter((r) => !host.met(r));
  if (still.length > 0) {
    const what = still.map((r) => `${r.path} (package ${r.pkg})`).join(', ');
    const commands = still.filter((r) => !r.path.startsWith('/'));
    throw new StackcheckError('E_LAB', `still missing after installing ${pkgs.join(' ')}: ${what}`, {
      hint: [
        `reinstall: apt-get install --reinstall ${[...new Set(still.map((r) => r.pkg))].join(' ')}`,
        ...(commands.length > 0 ? [`commands are looked up on PATH=${process.env.PATH ?? ''}`] : []),
      ].join('\n'),
    });
  }
  progress(`host: installed ${pkgs.join(' ')}; every file and command the lab relies on is there`);
  return pkgs;
}

// The lab creates containers and bridges: only root can.
export function ensureRoot(): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new StackcheckError('E_LAB', 'the lab needs root (it creates LXC containers and a network bridge)', {
      exitCode: ExitCode.badInput,
      hint: 'run it as root, e.g. `sudo npx stackcheck lab up`',
    });
  }
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
