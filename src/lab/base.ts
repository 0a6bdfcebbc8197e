// The lab's base root filesystem: Debian 12 built once with debootstrap (through the package cache),
// kept bare because every service enabled here starts in every host cloned from it.
import { existsSync, mkdirSync, readFileSync, rmSync, renameSync, writeFileSync, unlinkSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { exec, execTry, timed, type Progress } from './exec.js';
import { containerName, type LabSpec } from './spec.js';
import { ACNG_PORT, type HostMirror } from './apt-cache.js';
import { lxcPath } from './state.js';

/** Bump when the base's content changes: an older base is rebuilt. */
export const BASE_VERSION = 1;

/** What the base holds besides debootstrap's minimal system. */
export const BASE_PACKAGES = [
  'systemd',
  'systemd-sysv',
  'dbus',
  'libpam-systemd',
  'openssh-server',
  'iproute2',
  'iputils-ping',
  'procps',
  'ca-certificates',
  'python3',
  'sudo',
  'curl',
  'less',
  'vim-tiny',
  'netbase',
  'kmod',
];

// Where the base container of a lab lives.
export async function baseDir(spec: LabSpec): Promise<string> {
  return join(await lxcPath(), containerName(spec.name, 'base'));
}

// The version of a complete base (undefined when there is none or it is half-made).
export function baseVersion(dir: string): number | undefined {
  const marker = join(dir, 'stackcheck-base.json');
  if (!existsSync(marker)) return undefined;
  try {
    return (JSON.parse(readFileSync(marker, 'utf8')) as { version: number }).version;
  } catch {
    return undefined;
  }
}

// apt settings the containers must share with the host (the host's mirror may be a dated snapshot).
async function hostAptValidity(): Promise<string[]> {
  const lines: string[] = [];
  for (const key of ['Acquire::Check-Valid-Until', 'Acquire::Check-Date']) {
    const r = await execTry('apt-config', ['dump', key]);
    if (/"false"/.test(r.stdout)) lines.push(`${key} "false";`);
  }
  return lines;
}

// The deb822 sources a lab host uses: the same mirror and suites as the host machine.
export function containerSources(m: HostMirror): string {
  const paras = [
    ['Types: deb', `URIs: ${m.mirror}`, `Suites: ${[...new Set(m.suites)].join(' ')}`, 'Components: main', 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg'],
  ];
  if (m.security) {
    paras.push([
      'Types: deb',
      `URIs: ${m.security}`,
      `Suites: ${[...new Set(m.securitySuites)].join(' ') || 'bookworm-security'}`,
      'Components: main',
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
    ]);
  }
  return `${paras.map((p) => p.join('\n')).join('\n\n')}\n`;
}

// Build the base once: debootstrap into rootfs.partial, configure, then rename (never half-made).
export async function ensureBase(spec: LabSpec, mirror: HostMirror, progress: Progress): Promise<string> {
  const dir = await baseDir(spec);
  const version = baseVersion(dir);
  if (version !== undefined) {
    // Never rebuild under existing clones: their overlays sit on this root filesystem.
    if (version !== BASE_VERSION) {
      progress(`base: ${containerName(spec.name, 'base')} is from an older stackcheck (v${version}); \`lab down --purge\` rebuilds it`);
    } else {
      progress(`base: ${containerName(spec.name, 'base')} exists (Debian 12, built once)`);
    }
    return dir;
  }
  if (existsSync(dir)) {
    progress(`base: removing an incomplete or outdated base at ${dir}`);
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true, mode: 0o770 });
  const partial = join(dir, 'rootfs.partial');
  const proxyEnv = { http_proxy: `http://127.0.0.1:${ACNG_PORT}`, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    await timed(progress, `base: debootstrap bookworm (${BASE_PACKAGES.length} extra packages, via the package cache)`, () =>
      exec(
        'debootstrap',
        ['--variant=minbase', `--include=${BASE_PACKAGES.join(',')}`, 'bookworm', partial, mirror.mirror],
        { env: proxyEnv, timeoutMs: 1_800_000 },
      ),
    );
    await timed(progress, 'base: configuring', () => configureBase(spec, partial, mirror));
    renameSync(partial, join(dir, 'rootfs'));
    writeFileSync(
      join(dir, 'config'),
      [
        `# stackcheck lab ${spec.name}: the base every lab host is cloned from (never started).`,
        'lxc.include = /usr/share/lxc/config/debian.common.conf',
        'lxc.arch = linux64',
        `lxc.rootfs.path = dir:${join(dir, 'rootfs')}`,
        'lxc.uts.name = base',
        'lxc.apparmor.profile = unconfined',
        'lxc.net.0.type = empty',
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'stackcheck-base.json'), `${JSON.stringify({ version: BASE_VERSION, builtAt: new Date().toISOString() })}\n`);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return dir;
}

// Inside the fresh root filesystem: apt through the cache, no DNS, no host keys, empty machine-id.
async function configureBase(spec: LabSpec, root: string, mirror: HostMirror): Promise<void> {
  const etc = (p: string): string => join(root, 'etc', p);
  // Same sources as the host, through the host's package cache on the bridge.
  rmSync(etc('apt/sources.list'), { force: true });
  mkdirSync(etc('apt/sources.list.d'), { recursive: true });
  writeFileSync(etc('apt/sources.list.d/debian.sources'), containerSources(mirror));
  const aptConf = [
    '// stackcheck lab: packages come through the package cache on the lab host (the only address the lab reaches).',
    `Acquire::http::Proxy "http://${spec.bridgeAddress}:${ACNG_PORT}";`,
    ...(await hostAptValidity()),
    '',
  ];
  writeFileSync(etc('apt/apt.conf.d/01stackcheck-lab'), aptConf.join('\n'));
  // No DNS server in the lab: lab host names are in /etc/hosts, packages go through the proxy.
  rmSync(etc('resolv.conf'), { force: true });
  writeFileSync(etc('resolv.conf'), '# stackcheck lab: no DNS; lab host names are in /etc/hosts\n');
  // Each host gets its own keys and machine-id when it is cloned.
  for (const f of readdirSync(etc('ssh'))) if (f.startsWith('ssh_host_')) unlinkSync(etc(`ssh/${f}`));
  writeFileSync(etc('machine-id'), '');
  rmSync(join(root, 'var/lib/dbus/machine-id'), { force: true });
  writeFileSync(etc('hostname'), 'base\n');
  writeFileSync(etc('default/locale'), 'LANG=C.UTF-8\n');
  // Fresh package lists, fetched through the cache on loopback (the chroot shares the host's network).
  await exec('chroot', [root, 'apt-get', '-q', '-o', `Acquire::http::Proxy=http://127.0.0.1:${ACNG_PORT}`, 'update'], {
    env: { DEBIAN_FRONTEND: 'noninteractive' },
    timeoutMs: 600_000,
  });
  await exec('chroot', [root, 'apt-get', 'clean']);
  // Units that have nothing to do in a container on a private bridge.
  await exec('chroot', [root, 'systemctl', 'mask', 'systemd-networkd-wait-online.service', 'apt-daily.timer', 'apt-daily-upgrade.timer']);
}

// Remove the base (after its clones are gone).
export async function destroyBase(spec: LabSpec): Promise<boolean> {
  const dir = await baseDir(spec);
  if (!existsSync(dir)) return false;
  const r = await execTry('lxc-destroy', ['-n', containerName(spec.name, 'base')]);
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  return r.code === 0 || !existsSync(dir);
}
