// host-packages.txt proven the way a new machine would see it: a fresh Debian 12 root (debootstrap
// --variant=minbase bookworm, nothing else) gets exactly the list with --no-install-recommends, through the
// host's package cache, in a chroot where services cannot start; then every file and command of
// HOST_REQUIREMENTS must be there (commands looked up on PATH inside the root), shipped by the package the
// table names (dpkg -S). And the list must be minimal where it matters: for each line, apt's simulation of
// the list without it (before the real install) must leave out a named requirement, so removing any line
// from the list fails this test.
//
// The clean minbase root is cached between runs as a tar under /var/cache/stackcheck/minbase/, keyed by the
// day, the mirror and the debootstrap version (written to a temporary name and renamed when complete; older
// keys are deleted), so a rerun the same day extracts it in seconds instead of running debootstrap again.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACNG_PORT, ensureAptCache, hostMirror, type HostMirror } from '../../src/lab/apt-cache.js';
import { containerSources } from '../../src/lab/base.js';
import { bridgeAddresses } from '../../src/lab/bridge.js';
import { exec, execTry, seconds } from '../../src/lab/exec.js';
import { HOST_REQUIREMENTS, linesFor, readHostPackages, type HostRequirement } from '../../src/lab/host-deps.js';
import { hostConfig } from '../../src/lab/hosts.js';
import { defaultSpec } from '../../src/lab/spec.js';
import { prerequisite, requires, type Prerequisite } from '../helpers/requires.js';

const CACHE_DIR = '/var/cache/stackcheck/minbase';
const WORK_PREFIX = 'sc-hostpkgs-';
const PATH_IN_ROOT = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const log = (line: string): void => void process.stderr.write(`host-packages: ${line}\n`);

const list = readHostPackages();
const labLines = linesFor('lab', list);
const nonBase = HOST_REQUIREMENTS.filter((r) => !r.base);

// What this test needs on the machine; outside CI a missing one skips it, on CI it fails.
function mirrorPrerequisite(): Prerequisite {
  let ok = true;
  let why = '';
  try {
    hostMirror();
  } catch (err) {
    ok = false;
    why = (err as Error).message;
  }
  return { what: `the host's Debian bookworm mirror over http${why ? ` (${why})` : ''}`, ok, how: 'a bookworm http:// source in /etc/apt/sources.list.d/*.sources' };
}
const tool = (what: string, path: string, pkg: string): Prerequisite => ({
  what: `${what} (${path})`,
  ok: existsSync(path),
  how: `\`apt-get install ${pkg}\` (scripts/setup.sh installs it)`,
});
const gate = requires(
  prerequisite.root(),
  tool('debootstrap', '/usr/sbin/debootstrap', 'debootstrap'),
  tool('apt-cacher-ng', '/usr/sbin/apt-cacher-ng', 'apt-cacher-ng'),
  mirrorPrerequisite(),
);

// ---- the root, its mounts, and cleaning up -------------------------------------------------------------

// Mount points at or below `dir` (from /proc/self/mounts, octal escapes decoded), deepest first.
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => (l.split(' ')[1] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

// Unmount everything below `dir`, then remove it; never removes anything while a mount is left under it.
async function removeWork(dir: string): Promise<void> {
  for (const m of mountsUnder(dir)) {
    if ((await execTry('umount', [m])).code !== 0) await execTry('umount', ['-l', m]);
  }
  const left = mountsUnder(dir);
  if (left.length > 0) throw new Error(`not removing ${dir}: still mounted: ${left.join(', ')}`);
  await exec('rm', ['-rf', '--one-file-system', dir], { timeoutMs: 300_000 });
}

// Whether a process is alive.
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// Work folders of earlier runs that were killed (their pid is gone): unmount and remove them.
async function removeStaleWork(): Promise<void> {
  for (const name of readdirSync(tmpdir()).filter((n) => n.startsWith(WORK_PREFIX))) {
    const dir = join(tmpdir(), name);
    const pidFile = join(dir, 'pid');
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : NaN;
    if (Number.isInteger(pid) && alive(pid)) continue;
    log(`removing ${dir}, left by an interrupted run`);
    await removeWork(dir);
  }
}

// A clean minbase root: today's cached tar when there is one, else debootstrap (then cached).
async function cleanRoot(root: string, mirror: HostMirror): Promise<string> {
  const version = (await exec('dpkg-query', ['-W', '-f=${Version}', 'debootstrap'])).trim();
  const day = new Date().toISOString().slice(0, 10);
  const key = createHash('sha256').update(`${mirror.mirror}\n${version}`).digest('hex').slice(0, 12);
  const name = `bookworm-minbase-${day}-${key}.tar`;
  const cached = join(CACHE_DIR, name);
  const tarOpts = ['--numeric-owner', '--xattrs', '--xattrs-include=*', '--acls'];
  mkdirSync(root, { mode: 0o755 });
  if (existsSync(cached)) {
    await exec('tar', ['-xpf', cached, ...tarOpts, '-C', root], { timeoutMs: 300_000 });
    return `extracted from ${cached}`;
  }
  await exec('debootstrap', ['--variant=minbase', 'bookworm', root, mirror.mirror], {
    env: { http_proxy: `http://127.0.0.1:${ACNG_PORT}`, DEBIAN_FRONTEND: 'noninteractive' },
    timeoutMs: 1_800_000,
  });
  // Cache it: written under a name of our own, renamed when complete; other days' and dead runs' files go.
  mkdirSync(CACHE_DIR, { recursive: true, mode: 0o700 });
  const partial = `${cached}.partial-${process.pid}`;
  try {
    await exec('tar', ['-cpf', partial, ...tarOpts, '-C', root, '.'], { timeoutMs: 300_000 });
    renameSync(partial, cached);
  } catch (err) {
    rmSync(partial, { force: true });
    log(`could not cache the minbase root (${(err as Error).message}); the next run builds it again`);
  }
  for (const f of readdirSync(CACHE_DIR)) {
    const pid = Number(/\.partial-(\d+)$/.exec(f)?.[1] ?? NaN);
    if (f !== name && !(Number.isInteger(pid) && alive(pid))) rmSync(join(CACHE_DIR, f), { force: true });
  }
  return 'debootstrap --variant=minbase bookworm';
}

// ---- inside the root -----------------------------------------------------------------------------------

let root = '';

// Run a program inside the root with a clean environment (nothing of the host's leaks in).
function inRoot(args: string[], timeoutMs = 600_000): Promise<string> {
  return exec('chroot', [root, '/usr/bin/env', '-i', `PATH=${PATH_IN_ROOT}`, 'LC_ALL=C', 'DEBIAN_FRONTEND=noninteractive', 'HOME=/root', ...args], { timeoutMs });
}

// Packages installed in the root.
async function installedPackages(): Promise<Set<string>> {
  const out = await inRoot(['dpkg-query', '-W', '-f=${db:Status-Abbrev} ${Package}\n']);
  return new Set(out.split('\n').filter((l) => l.startsWith('ii ')).map((l) => l.split(/\s+/)[1]!));
}

// What `apt-get install --no-install-recommends pkgs` would leave installed (apt's simulation, nothing changes).
async function simulate(pkgs: readonly string[], already: Set<string>): Promise<Set<string>> {
  const out = await inRoot(['apt-get', 'install', '-s', '-q', '--no-install-recommends', ...pkgs]);
  const inst = out.split('\n').flatMap((l) => /^Inst (\S+)/.exec(l)?.[1] ?? []);
  return new Set([...already, ...inst]);
}

// Where a requirement is inside the root: the path itself, or the command found on PATH; undefined when absent.
async function locate(r: HostRequirement): Promise<string | undefined> {
  const script = 'case "$1" in /*) [ -e "$1" ] && echo "$1";; *) command -v "$1";; esac; true';
  const out = (await inRoot(['sh', '-c', script, 'sh', r.path])).trim();
  return out === '' ? undefined : out;
}

// The packages that ship a path inside the root (dpkg -S), trying its merged-/usr twin and its real path too.
async function owners(path: string): Promise<string[]> {
  const real = (await inRoot(['readlink', '-f', path])).trim();
  const twin = (p: string): string => (p.startsWith('/usr/') ? p.slice(4) : `/usr${p}`);
  for (const p of [...new Set([path, twin(path), real, twin(real)])]) {
    const r = await execTry('chroot', [root, '/usr/bin/env', '-i', `PATH=${PATH_IN_ROOT}`, 'LC_ALL=C', 'dpkg-query', '-S', p]);
    const found = r.stdout
      .split('\n')
      .filter((l) => l.endsWith(`: ${p}`) && !l.startsWith('diversion by'))
      .flatMap((l) => l.slice(0, -`: ${p}`.length).split(', ').map((s) => s.trim().replace(/:.*$/, '')));
    if (found.length > 0) return [...new Set(found)];
  }
  return [];
}

// ---- what the test learns, step by step ----------------------------------------------------------------

interface Clean {
  installed: Set<string>;
  located: Map<string, string | undefined>;
}
interface Sims {
  full: Set<string>;
  lab: Set<string>;
  withoutFull: Map<string, Set<string>>;
  withoutLab: Map<string, Set<string>>;
  via: Map<string, Set<string>>;
}
interface Installed {
  packages: Set<string>;
  located: Map<string, string | undefined>;
  owners: Map<string, string[]>;
}
let clean: Clean | undefined;
let sims: Sims | undefined;
let after: Installed | undefined;
let work = '';

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`${what} did not complete (see the earlier failure)`);
  return v;
}

// The requirements that the packages in `present` would not provide, going by their dpkg -S owners.
function lostWithout(present: Set<string>, reqs: readonly HostRequirement[], own: Map<string, string[]>): HostRequirement[] {
  return reqs.filter((r) => !(own.get(r.path) ?? []).some((o) => present.has(o)));
}

gate.describe('host-packages.txt on a fresh Debian 12 (debootstrap minbase + exactly the list)', () => {
  beforeAll(async () => {
    const t0 = Date.now();
    await removeStaleWork();
    const addresses = await bridgeAddresses();
    const mirror = await ensureAptCache(addresses[0] ?? '127.0.0.1', log);
    work = mkdtempSync(join(tmpdir(), WORK_PREFIX));
    writeFileSync(join(work, 'pid'), `${process.pid}\n`);
    root = join(work, 'root');
    let t = Date.now();
    const how = await cleanRoot(root, mirror);
    log(`clean root (${how}): ${seconds(Date.now() - t)}`);
    // apt as the lab's hosts have it: the host's mirror and suites through the cache, the host's validity settings.
    rmSync(join(root, 'etc/apt/sources.list'), { force: true });
    writeFileSync(join(root, 'etc/apt/sources.list.d/debian.sources'), containerSources(mirror));
    const validity: string[] = [];
    for (const key of ['Acquire::Check-Valid-Until', 'Acquire::Check-Date']) {
      if (/"false"/.test((await execTry('apt-config', ['dump', key])).stdout)) validity.push(`${key} "false";`);
    }
    writeFileSync(join(root, 'etc/apt/apt.conf.d/01stackcheck-test'), [`Acquire::http::Proxy "http://127.0.0.1:${ACNG_PORT}";`, ...validity, ''].join('\n'));
    // No service starts inside the root (apt-cacher-ng, ssh… would otherwise try).
    writeFileSync(join(root, 'usr/sbin/policy-rc.d'), '#!/bin/sh\n# stackcheck test: no service starts in this root\nexit 101\n');
    chmodSync(join(root, 'usr/sbin/policy-rc.d'), 0o755);
    await exec('mount', ['-t', 'proc', 'proc', join(root, 'proc')]);
    await exec('mount', ['--bind', '/dev', join(root, 'dev')]);
    t = Date.now();
    await inRoot(['apt-get', 'update', '-q']);
    log(`apt-get update: ${seconds(Date.now() - t)}`);

    const installed = await installedPackages();
    const located = new Map<string, string | undefined>();
    for (const r of HOST_REQUIREMENTS.filter((x) => x.base)) located.set(r.path, await locate(r));
    clean = { installed, located };

    // apt's answer, before anything is installed, for the list and for the list without each line.
    t = Date.now();
    const withoutFull = new Map<string, Set<string>>();
    const withoutLab = new Map<string, Set<string>>();
    for (const p of list) withoutFull.set(p, await simulate(list.filter((x) => x !== p), installed));
    for (const p of labLines) withoutLab.set(p, await simulate(labLines.filter((x) => x !== p), installed));
    const via = new Map<string, Set<string>>();
    for (const v of new Set(nonBase.flatMap((r) => r.via ?? []))) via.set(v, await simulate([v], installed));
    sims = { full: await simulate(list, installed), lab: await simulate(labLines, installed), withoutFull, withoutLab, via };
    log(`${withoutFull.size + withoutLab.size + via.size + 2} apt simulations: ${seconds(Date.now() - t)}; before the install: ${seconds(Date.now() - t0)}`);
  });

  afterAll(async () => {
    if (work) await removeWork(work);
  });

  it('starts from a minimal system that has the base-system requirements and none of the list', () => {
    const c = need(clean, 'preparing the clean root');
    expect(list.filter((p) => c.installed.has(p)), 'already in minbase: not a test of the list').toEqual([]);
    const absent = HOST_REQUIREMENTS.filter((r) => r.base && c.located.get(r.path) === undefined).map((r) => `${r.path} (${r.pkg})`);
    expect(absent, 'marked `base` but not in a minbase system').toEqual([]);
    expect(HOST_REQUIREMENTS.filter((r) => r.base && !c.installed.has(r.pkg)).map((r) => r.pkg)).toEqual([]);
  });

  it('installs exactly the list with --no-install-recommends, as apt simulated', async () => {
    need(sims, 'the simulations');
    const t = Date.now();
    await inRoot(['apt-get', 'install', '-y', '-q', '--no-install-recommends', ...list], 1_500_000);
    const packages = await installedPackages();
    log(`apt-get install of the ${list.length} listed packages (${packages.size - need(clean, 'clean').installed.size} with dependencies): ${seconds(Date.now() - t)}`);
    const located = new Map<string, string | undefined>();
    const own = new Map<string, string[]>();
    for (const r of HOST_REQUIREMENTS) {
      const at = await locate(r);
      located.set(r.path, at);
      own.set(r.path, at ? await owners(at) : []);
    }
    after = { packages, located, owners: own };
    expect(list.filter((p) => !packages.has(p))).toEqual([]);
    expect([...packages].filter((p) => !sims!.full.has(p))).toEqual([]);
  });

  it('has every file and command of HOST_REQUIREMENTS there (commands on PATH inside the root)', () => {
    const a = need(after, 'the install');
    const missing = HOST_REQUIREMENTS.filter((r) => a.located.get(r.path) === undefined).map((r) => `${r.path} (${r.pkg}, ${r.purpose})`);
    expect(missing).toEqual([]);
  });

  it('finds each of them shipped by the package the table names (dpkg -S)', () => {
    const a = need(after, 'the install');
    const wrong = HOST_REQUIREMENTS.filter((r) => a.located.get(r.path) !== undefined && !(a.owners.get(r.path) ?? []).includes(r.pkg)).map(
      (r) => `${r.path} (${a.located.get(r.path)}): table says ${r.pkg}, dpkg -S says ${(a.owners.get(r.path) ?? []).join(', ') || 'no package'}`,
    );
    expect(wrong).toEqual([]);
  });

  it("gives the lab everything it relies on from the lab's lines alone (what `lab up` installs)", () => {
    const a = need(after, 'the install');
    const s = need(sims, 'the simulations');
    const lost = lostWithout(s.lab, HOST_REQUIREMENTS.filter((r) => r.purpose === 'lab'), a.owners).map((r) => `${r.path} (${r.pkg})`);
    expect(lost, `${labLines.join(' ')} leave these out`).toEqual([]);
  });

  it('brings each package recorded as coming `via` a listed line with that line', () => {
    const s = need(sims, 'the simulations');
    const wrong = nonBase.filter((r) => r.via !== undefined && !s.via.get(r.via)!.has(r.pkg)).map((r) => `${r.pkg} does not come with ${r.via} (${r.path})`);
    expect(wrong).toEqual([]);
  });

  for (const p of list) {
    it(`loses a named path when ${p} is left out of the list`, () => {
      const a = need(after, 'the install');
      const s = need(sims, 'the simulations');
      // Lost = there with the whole list (or with the lab's lines), gone without p.
      const withList = nonBase.filter((r) => a.located.get(r.path) !== undefined);
      const withLab = withList.filter((r) => r.purpose === 'lab' && lostWithout(s.lab, [r], a.owners).length === 0);
      const lostFull = lostWithout(s.withoutFull.get(p)!, withList, a.owners);
      const lostLab = labLines.includes(p) ? lostWithout(s.withoutLab.get(p)!, withLab, a.owners) : [];
      const lost = [...new Set([...lostFull, ...lostLab])];
      if (lost.length > 0) {
        log(`without ${p}: ${lost.map((r) => `${r.path} (${r.purpose})`).join(', ')} missing${lostFull.length === 0 ? ' from what `lab up` installs' : ''}`);
      }
      const still = s.withoutFull.get(p)!.has(p);
      expect(
        lost.map((r) => r.path),
        `removing ${p} from host-packages.txt breaks no requirement path${still ? ` (apt installs ${p} anyway, as a dependency of another line: drop the line and record it with \`via\`)` : ` (no requirement is shipped by ${p}: add the path the project needs from it to HOST_REQUIREMENTS)`}`,
      ).not.toEqual([]);
    });
  }

  it('has a requirement for every file the LXC configs of the lab include, transitively', () => {
    need(after, 'the install');
    const features = { kvm: true, tun: true, deviceMapper: false, iscsi: false, openvswitch: false, nfs: false };
    const spec = defaultSpec();
    const host = spec.hosts.find((h) => h.compute) ?? spec.hosts[0]!;
    const configs = [hostConfig(spec, host, 'lxc.rootfs.path = dir:/nonexistent', features)];
    const known = new Set(HOST_REQUIREMENTS.map((r) => r.path));
    const seen = new Set<string>();
    const unknown: string[] = [];
    // lxc.include (a file, or a folder of *.conf), lxc.seccomp.profile and lxc.hook.* name host files.
    const follow = (text: string, from: string): void => {
      for (const m of text.matchAll(/^\s*(lxc\.include|lxc\.seccomp\.profile|lxc\.hook\.[\w.]+)\s*=\s*(\/\S+)/gm)) {
        const p = m[2]!.replace(/\/+$/, '');
        if (seen.has(p)) continue;
        seen.add(p);
        if (!known.has(p)) unknown.push(`${p} (${m[1]} in ${from})`);
        const inRootPath = join(root, p);
        if (!existsSync(inRootPath)) continue;
        if (statSync(inRootPath).isDirectory()) {
          for (const f of readdirSync(inRootPath).filter((x) => x.endsWith('.conf'))) follow(readFileSync(join(inRootPath, f), 'utf8'), `${p}/${f}`);
        } else if (m[1] === 'lxc.include') {
          follow(readFileSync(inRootPath, 'utf8'), p);
        }
      }
    };
    for (const c of configs) follow(c, 'the lab host config (src/lab/hosts.ts)');
    expect(seen.size).toBeGreaterThan(2);
    expect(unknown).toEqual([]);
  });
});
