// The host requirements table against the lab's code and the package list, without touching the machine:
// every command src/lab/*.ts runs and every path under /usr, /etc, /bin, /sbin, /lib it names has an entry;
// host-packages.txt and the table agree; scripts/setup.sh reads the same list; the preflight says what it
// installs and why. (test/lab/host-packages.it.test.ts proves the list on a fresh Debian 12.)
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import {
  HOST_PATHS_NOT_FROM_PACKAGES,
  HOST_REQUIREMENTS,
  ensureHostRequirements,
  hostPackagesFile,
  linesFor,
  listLine,
  parseHostPackages,
  readHostPackages,
  type HostAccess,
  type HostRequirement,
} from '../../src/lab/host-deps.js';
import { StackcheckError } from '../../src/error.js';

const ROOT = resolve(import.meta.dirname, '../..');
const LAB_SRC = join(ROOT, 'src/lab');

/** A command run or a path named by the source, with where. */
interface Reference {
  kind: 'command' | 'path';
  value: string;
  at: string;
}

// Functions that run a program: the first argument is the program.
const RUNNERS = new Set(['exec', 'execTry', 'spawn', 'spawnSync', 'execFile', 'execFileSync', 'execSync']);
// Absolute paths in the folders packages ship into; /proc, /sys, /dev, /run, /tmp and /var are the kernel's or ours.
const PATH_RE = /(?<![\w.\-/:}])\/(?:usr|etc|bin|sbin|lib|lib64|opt)(?:\/[\w.+@-]+)*\/?/g;
// A placeholder for an interpolation the scanner cannot resolve (it never appears in a path match).
const UNKNOWN = '{?}';

// Every command run through RUNNERS and every absolute path in a string or template literal of one file.
// Template interpolations of string constants declared in the file (`${ACNG_DIR}/x`) are resolved.
function scanSource(file: string, text: string): { refs: Reference[]; problems: string[] } {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const consts = new Map<string, string>();
  const refs: Reference[] = [];
  const problems: string[] = [];
  const at = (n: ts.Node): string => `${file}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`;
  const value = (n: ts.Node): string | undefined => {
    if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) return n.text;
    if (ts.isTemplateExpression(n)) {
      return (
        n.head.text +
        n.templateSpans.map((s) => (ts.isIdentifier(s.expression) ? (consts.get(s.expression.text) ?? UNKNOWN) : UNKNOWN) + s.literal.text).join('')
      );
    }
    return undefined;
  };
  const visit = (n: ts.Node): void => {
    if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.initializer && ts.isVariableDeclarationList(n.parent) && n.parent.flags & ts.NodeFlags.Const) {
      const v = value(n.initializer);
      if (v !== undefined && !v.includes(UNKNOWN)) consts.set(n.name.text, v);
    }
    if (ts.isCallExpression(n)) {
      // exec(…), spawn(…), child_process.spawn(…); not /re/.exec(…) (a RegExp method of the same name).
      const callee = ts.isIdentifier(n.expression)
        ? n.expression.text
        : ts.isPropertyAccessExpression(n.expression) && n.expression.name.text !== 'exec'
          ? n.expression.name.text
          : '';
      if (RUNNERS.has(callee)) {
        const arg = n.arguments[0];
        const cmd = arg ? value(arg) : undefined;
        // The wrappers everything goes through, in exec.ts: exec(cmd, …) → execTry(cmd, …) → spawn(cmd, …).
        const wrapper = file.endsWith('/exec.ts') && arg !== undefined && ts.isIdentifier(arg) && arg.text === 'cmd';
        if (cmd !== undefined && !cmd.includes(UNKNOWN) && callee !== 'execSync') refs.push({ kind: 'command', value: cmd, at: at(n) });
        else if (!wrapper) problems.push(`${at(n)}: ${callee}(…) runs a program that is not a string literal: the requirements table cannot cover it`);
      }
    }
    if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n) || ts.isTemplateExpression(n)) {
      const text = value(n) ?? '';
      // A path built at run time (`${dir}/${f}`) counts as its fixed part: the folder must be covered.
      for (const m of text.matchAll(PATH_RE)) refs.push({ kind: 'path', value: m[0].replace(/(.)[/.]+$/, '$1'), at: at(n) });
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return { refs, problems };
}

// References without an entry in HOST_REQUIREMENTS (or, for paths, in HOST_PATHS_NOT_FROM_PACKAGES).
function uncovered(refs: Reference[], reqs: readonly HostRequirement[] = HOST_REQUIREMENTS): string[] {
  const known = new Set([...reqs.map((r) => r.path), ...HOST_PATHS_NOT_FROM_PACKAGES.map((p) => p.path)]);
  return refs
    .filter((r) => !known.has(r.value) || (r.kind === 'command' && HOST_PATHS_NOT_FROM_PACKAGES.some((p) => p.path === r.value)))
    .map((r) => `${r.at}: ${r.kind} ${r.value} has no entry in HOST_REQUIREMENTS (src/lab/host-deps.ts)`);
}

function scanLab(): { refs: Reference[]; problems: string[] } {
  const refs: Reference[] = [];
  const problems: string[] = [];
  for (const f of readdirSync(LAB_SRC).filter((f) => f.endsWith('.ts')).sort()) {
    const r = scanSource(`src/lab/${f}`, readFileSync(join(LAB_SRC, f), 'utf8'));
    refs.push(...r.refs);
    problems.push(...r.problems);
  }
  return { refs, problems };
}

describe('every command and host path of src/lab/*.ts has a requirement', () => {
  const { refs, problems } = scanLab();

  it('finds the commands and paths (the scan is not vacuous)', () => {
    const commands = new Set(refs.filter((r) => r.kind === 'command').map((r) => r.value));
    const paths = new Set(refs.filter((r) => r.kind === 'path').map((r) => r.value));
    for (const c of ['lxc-copy', 'lxc-start', 'lxc-info', 'lxc-stop', 'lxc-destroy', 'lxc-ls', 'lxc-config', 'debootstrap', 'ip', 'rsync', 'ssh', 'ssh-keygen', 'chroot', 'apt-config', 'apt-get', 'service', '/etc/init.d/apt-cacher-ng']) {
      expect(commands, c).toContain(c);
    }
    expect(paths).toContain('/usr/share/lxc/config/debian.common.conf');
    expect(paths).toContain('/etc/apt-cacher-ng/zz_stackcheck.conf'); // `${ACNG_DIR}/…` resolved
  });

  it('runs programs only by literal name (or through the one wrapper in exec.ts)', () => {
    expect(problems).toEqual([]);
  });

  it('has an entry for each of them', () => {
    expect(uncovered(refs)).toEqual([]);
  });

  it('catches a new command, a new path and a computed command', () => {
    const src = [
      "const DIR = '/usr/share/newtool';",
      "await exec('newtool', ['-x']);",
      "await execTry(`${DIR}/helper`, []);",
      "const cfg = 'lxc.include = /etc/lxc/extra.conf';",
      'await exec(prog, []);',
      'const f = `/usr/lib/${arch}/x.so`;',
    ].join('\n');
    const r = scanSource('src/lab/new.ts', src);
    expect(r.problems).toEqual(['src/lab/new.ts:5: exec(…) runs a program that is not a string literal: the requirements table cannot cover it']);
    expect(uncovered(r.refs)).toEqual([
      'src/lab/new.ts:1: path /usr/share/newtool has no entry in HOST_REQUIREMENTS (src/lab/host-deps.ts)',
      'src/lab/new.ts:2: command newtool has no entry in HOST_REQUIREMENTS (src/lab/host-deps.ts)',
      'src/lab/new.ts:3: command /usr/share/newtool/helper has no entry in HOST_REQUIREMENTS (src/lab/host-deps.ts)',
      'src/lab/new.ts:3: path /usr/share/newtool/helper has no entry in HOST_REQUIREMENTS (src/lab/host-deps.ts)',
      'src/lab/new.ts:4: path /etc/lxc/extra.conf has no entry in HOST_REQUIREMENTS (src/lab/host-deps.ts)',
      'src/lab/new.ts:6: path /usr/lib has no entry in HOST_REQUIREMENTS (src/lab/host-deps.ts)',
    ]);
    // URLs and paths under /proc, /sys, /dev are not package paths.
    expect(scanSource('x.ts', "const a = 'http://deb.debian.org/usr/x /proc/sys/net /dev/net/tun';").refs).toEqual([]);
  });
});

describe('host-packages.txt and the requirements table', () => {
  const list = readHostPackages();

  it('is read from the package root', () => {
    expect(hostPackagesFile()).toBe(join(ROOT, 'host-packages.txt'));
    expect(list.length).toBeGreaterThan(5);
  });

  it('justifies every listed package by at least one requirement', () => {
    const lines = new Set(HOST_REQUIREMENTS.map(listLine));
    expect(list.filter((p) => !lines.has(p))).toEqual([]);
  });

  it('lists the package (or the line that brings it) of every requirement outside the base system', () => {
    const bad = HOST_REQUIREMENTS.filter((r) => !r.base && !list.includes(listLine(r)!)).map((r) => `${r.path}: ${listLine(r)}`);
    expect(bad).toEqual([]);
  });

  it('names a package in `via` only when it is not listed itself, and lists no base-system package', () => {
    expect(HOST_REQUIREMENTS.filter((r) => r.via !== undefined && list.includes(r.pkg)).map((r) => r.path)).toEqual([]);
    expect(HOST_REQUIREMENTS.filter((r) => r.base && (list.includes(r.pkg) || r.via !== undefined)).map((r) => r.path)).toEqual([]);
  });

  it('has one entry per path, and absolute paths or bare command names only', () => {
    const paths = HOST_REQUIREMENTS.map((r) => r.path);
    expect(paths.filter((p, i) => paths.indexOf(p) !== i)).toEqual([]);
    expect(paths.filter((p) => !p.startsWith('/') && p.includes('/'))).toEqual([]);
  });

  it("gives the lab its own lines: what `lab up` may install", () => {
    expect(linesFor('lab', list)).toEqual(['lxc-templates', 'debootstrap', 'apt-cacher-ng', 'openssh-client', 'rsync']);
  });

  it('is the list scripts/setup.sh installs', () => {
    const out = execFileSync('bash', [join(ROOT, 'scripts/setup.sh'), '--list'], { encoding: 'utf8' });
    expect(out.trim().split('\n')).toEqual(list);
  });

  it('parses comments and rejects a line that is not one package', () => {
    expect(parseHostPackages('# a comment\n\nlxc-templates   # why\n  rsync\n')).toEqual(['lxc-templates', 'rsync']);
    expect(() => parseHostPackages('lxc rsync\n', 'f.txt')).toThrow('f.txt:1: "lxc rsync" is not one Debian package name');
    expect(() => parseHostPackages('git\ngit\n', 'f.txt')).toThrow('f.txt:2: git is listed twice');
  });
});

describe('the preflight of `lab up`', () => {
  const list = readHostPackages();
  // A machine where the given paths are missing until `install` runs (and some stay missing).
  function fakeHost(missing: string[], stayMissing: string[] = []): HostAccess & { installed: string[][] } {
    const gone = new Set(missing);
    const installed: string[][] = [];
    return {
      installed,
      met: (r) => !gone.has(r.path),
      install: async (pkgs) => {
        installed.push(pkgs);
        for (const p of missing) if (!stayMissing.includes(p)) gone.delete(p);
      },
      list: () => list,
    };
  }

  it('does nothing when everything is there', async () => {
    const lines: string[] = [];
    const host = fakeHost([]);
    expect(await ensureHostRequirements((l) => lines.push(l), host)).toEqual([]);
    expect(host.installed).toEqual([]);
    expect(lines).toEqual([]);
  });

  it('installs lxc-templates when debian.common.conf is missing, and says why', async () => {
    const lines: string[] = [];
    const host = fakeHost(['/usr/share/lxc/config/debian.common.conf']);
    expect(await ensureHostRequirements((l) => lines.push(l), host)).toEqual(['lxc-templates']);
    expect(host.installed).toEqual([['lxc-templates']]);
    expect(lines[0]).toBe(
      "host: installing lxc-templates (provides /usr/share/lxc/config/debian.common.conf, which every lab container's config includes)",
    );
  });

  it('installs the listed line that brings a missing dependency, naming the package it comes from', async () => {
    const lines: string[] = [];
    const host = fakeHost(['lxc-copy', 'lxc-start', '/usr/share/lxc/config/debian.common.conf', 'rsync']);
    expect(await ensureHostRequirements((l) => lines.push(l), host)).toEqual(['lxc-templates', 'rsync']);
    expect(lines[0]).toBe(
      "host: installing lxc-templates (provides /usr/share/lxc/config/debian.common.conf, which every lab container's config includes; lxc-copy (from lxc), which clones the base as each host (overlay); lxc-start (from lxc), which starts the hosts)",
    );
    expect(lines[1]).toBe("host: installing rsync (provides rsync, which copies the hosts' overlay changes for lab snapshots)");
  });

  it('checks only what the lab relies on (a missing Chromium is not its business)', async () => {
    const host = fakeHost(['/usr/bin/chromium', '/usr/sbin/sshd']);
    expect(await ensureHostRequirements(() => undefined, host)).toEqual([]);
  });

  it('fails naming what is still missing after apt', async () => {
    const host = fakeHost(['debootstrap', '/etc/apt-cacher-ng'], ['debootstrap']);
    const err = await ensureHostRequirements(() => undefined, host).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StackcheckError);
    expect((err as StackcheckError).message).toBe('still missing after installing debootstrap apt-cacher-ng: debootstrap (package debootstrap)');
    expect((err as StackcheckError).hint).toContain('apt-get install --reinstall debootstrap');
  });

  it('fails clearly when apt fails', async () => {
    const host: HostAccess = { ...fakeHost(['rsync']), install: () => Promise.reject(new Error('E: Unable to locate package rsync')) };
    const err = (await ensureHostRequirements(() => undefined, host).catch((e: unknown) => e)) as StackcheckError;
    expect(err.message).toBe("the lab's host packages are missing and could not be installed (rsync)");
    expect(err.hint).toContain('E: Unable to locate package rsync');
  });

  it('refuses to install a package the list does not name', async () => {
    const host: HostAccess = { ...fakeHost(['rsync']), list: () => list.filter((p) => p !== 'rsync') };
    await expect(ensureHostRequirements(() => undefined, host)).rejects.toThrow('the host package list does not name rsync');
  });
});
