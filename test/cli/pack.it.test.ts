// The package as its users get it: `npm pack` (which builds dist/), the tarball installed with production
// dependencies only (`--omit=dev`) into an empty project, and that install's `stackcheck` run as a user would:
// --help, plan (the course with the shipped example inventory), check (vitest and allure-vitest loaded from the
// production install: a check must come back broken, not crash on a missing module) and report (the Allure 3
// CLI from the production install writes report.html). Then the same for a built checkout after
// `npm ci --omit=dev`, whose `prepare` must keep the build when the compiler is not installed.
import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { utils } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/checks/types.js';
import type { PlanJson } from '../../src/cli/plan.js';
import { buildCli, ROOT } from '../helpers/build.js';
import { tempDir } from '../helpers/tmp.js';

interface Manifest {
  name: string;
  version: string;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}
const MANIFEST = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest;
// Build and lint tools: nothing at run time needs them, so a production install must not have them at all.
const BUILD_TOOLS = ['typescript', 'eslint', '@eslint/js', 'typescript-eslint'];
const CHECK_ID = 'host.machine-id';

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

// The environment for child processes: npm's own lifecycle variables left out (under `npm test` they would tell
// the nested npm to behave like the outer one), colours off.
function childEnv(): NodeJS.ProcessEnv {
  const keep = /^npm_config_(cache|registry|userconfig|globalconfig|cafile|proxy|https_proxy|noproxy|strict_ssl)$/;
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.toLowerCase().startsWith('npm_') || keep.test(k.toLowerCase())) env[k] = v;
  return { ...env, NO_COLOR: '1', FORCE_COLOR: '0' };
}

// Runs a program; resolves with its exit status and output whatever the status (a spawn failure rejects).
function run(cmd: string, args: string[], cwd: string, timeoutMs = 120_000): Promise<Ran> {
  return new Promise((done, fail) => {
    execFile(cmd, args, { cwd, env: childEnv(), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs }, (err, stdout, stderr) => {
      // A string code is a failure to run it at all (ENOENT, output too large): not an exit status.
      if (typeof err?.code === 'string') return fail(new Error(`${cmd} ${args.join(' ')}: ${err.message}`));
      if (!err) return done({ code: 0, stdout, stderr });
      const code = typeof err.code === 'number' ? err.code : null;
      done({ code, stdout, stderr: code === null ? `${stderr}\n(ended by ${err.signal ?? 'a signal'}${err.killed ? ` after ${timeoutMs} ms` : ''})` : stderr });
    });
  });
}

// Fails with the command's output when it did not exit as expected.
function expectExit(r: Ran, code: number, what: string): void {
  if (r.code !== code) throw new Error(`${what}: exit ${r.code}, expected ${code}\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-4000)}`);
}

const npm = (args: string[], cwd: string, timeoutMs = 300_000): Promise<Ran> => run('npm', ['--no-audit', '--no-fund', '--prefer-offline', ...args], cwd, timeoutMs);

// Every module a run-time import resolves to must come from the production install, never a stack trace.
const MODULE_CRASH = /Cannot find (module|package)|ERR_MODULE_NOT_FOUND|MODULE_NOT_FOUND|internal error/;

// A TCP server that accepts connections and drops them at once: an SSH host that never answers, on a port the
// test holds for as long as it runs (nothing else can be listening there).
async function droppingServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((sock) => sock.destroy());
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, port: (server.address() as AddressInfo).port };
}

// An inventory with one compute host on that port, and an OpenSSH key for it (the key is parsed, never accepted).
function unreachableInventory(dir: string, port: number): string {
  const key = join(dir, 'id_ed25519');
  writeFileSync(key, utils.generateKeyPairSync('ed25519').private, { mode: 0o600 });
  writeFileSync(join(dir, 'known_hosts'), '');
  const file = join(dir, 'unreachable.yaml');
  writeFileSync(
    file,
    [
      'name: unreachable',
      'ssh:',
      `  key: ${key}`,
      `  known_hosts: ${join(dir, 'known_hosts')}`,
      '  connect_timeout: 5s',
      'hosts:',
      `  compute-1: { address: 127.0.0.1, port: ${port}, user: root, hostname: compute-1 }`,
      'vars: {}',
      '',
    ].join('\n'),
  );
  return file;
}

// `stackcheck check` for one check, with Allure results under runDir: the check is reported, not a crash.
async function checkOne(stackcheck: string[], cwd: string, inventory: string, runDir: string): Promise<CheckResult> {
  const r = await run(stackcheck[0] as string, [...stackcheck.slice(1), 'check', '--inventory', inventory, '--only', CHECK_ID, '--reports', runDir, '--json'], cwd);
  expect(`${r.stdout}\n${r.stderr}`).not.toMatch(MODULE_CRASH);
  expectExit(r, 1, 'stackcheck check (an unreachable host: the check fails or is broken)');
  const results = JSON.parse(r.stdout) as CheckResult[];
  expect(results.map((x) => [x.id, x.host])).toEqual([[CHECK_ID, 'compute-1']]);
  const [result] = results as [CheckResult];
  expect(['broken', 'failed']).toContain(result.status);
  expect(result.message).toMatch(/compute-1/);
  expect(readdirSync(join(runDir, 'allure-results')).some((f) => f.endsWith('-result.json'))).toBe(true);
  return result;
}

// `stackcheck report RUN`: the Allure 3 CLI builds html/ and the single-file report.html, which shows the check.
async function reportOf(stackcheck: string[], cwd: string, runDir: string): Promise<void> {
  const r = await run(stackcheck[0] as string, [...stackcheck.slice(1), 'report', runDir, '--reports', join(cwd, 'reports')], cwd, 300_000);
  expect(`${r.stdout}\n${r.stderr}`).not.toMatch(MODULE_CRASH);
  expectExit(r, 0, 'stackcheck report');
  const single = join(runDir, 'report.html');
  expect(r.stdout).toContain(single);
  expect(statSync(single).size).toBeGreaterThan(10_000);
  expect(existsSync(join(runDir, 'html', 'index.html'))).toBe(true);
  // The single file carries its data as base64 JSON documents, `d("widgets/tree.json", "eyJ…")`: the check is in them.
  const data = [...readFileSync(single, 'utf8').matchAll(/\bd\("([^"]+)","([A-Za-z0-9+/=]+)"\)/g)].map((m) => Buffer.from(m[2] as string, 'base64').toString('utf8'));
  expect(data.length).toBeGreaterThan(0);
  expect(data.some((d) => d.includes(CHECK_ID)), `${CHECK_ID} in the report's data`).toBe(true);
}

// The package's files, from `npm pack --json`.
interface Packed {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: { path: string }[];
}

describe('the packed package, installed with production dependencies only', () => {
  let work: string;
  let tarball: string;
  let packed: Packed;
  let app: string;
  let installed: string;
  let stackcheck: string[];
  let sshHost: { server: Server; port: number };

  beforeAll(async () => {
    const t0 = Date.now();
    // The compiled CLI of this tree (a failed build throws: the file fails); `npm pack` then builds again
    // through `prepare`, and its failure fails the file too.
    buildCli();
    work = tempDir('sc-pack-');
    const pack = await npm(['pack', '--json', '--pack-destination', work], ROOT);
    expectExit(pack, 0, 'npm pack');
    [packed] = JSON.parse(pack.stdout.slice(Math.max(0, pack.stdout.search(/^\[/m)))) as [Packed];
    tarball = join(work, packed.filename);
    const t1 = Date.now();

    app = join(work, 'app');
    mkdirSync(app);
    expectExit(await npm(['init', '-y'], app), 0, 'npm init -y');
    const install = await npm(['install', '--omit=dev', tarball], app);
    expectExit(install, 0, `npm install --omit=dev ${basename(tarball)}`);
    installed = join(app, 'node_modules', MANIFEST.name);
    stackcheck = [join(app, 'node_modules', '.bin', 'stackcheck')];
    sshHost = await droppingServer();
    process.stderr.write(`pack: npm pack ${t1 - t0} ms (${packed.size} bytes, ${packed.entryCount} files); install ${Date.now() - t1} ms\n`);
  }, 600_000);
  afterAll(async () => {
    await new Promise<void>((ok) => (sshHost ? sshHost.server.close(() => ok()) : ok()));
  });

  it('holds the build, the compiled checks and the docs, and no sources, tests or source maps', () => {
    const paths = packed.files.map((f) => f.path);
    expect(paths).toContain('package.json');
    expect(paths).toContain('README.md');
    expect(paths).toContain(MANIFEST.bin.stackcheck?.replace(/^\.\//, ''));
    // Every check file, compiled, where the check runner looks for it (dist/checks/<component>.check.js).
    const checks = readdirSync(join(ROOT, 'checks')).filter((f) => f.endsWith('.check.ts'));
    expect(checks.length).toBeGreaterThan(0);
    for (const f of checks) expect(paths).toContain(`dist/checks/${f.replace(/\.ts$/, '.js')}`);
    expect(paths).toContain('inventories/example-seven-vms.yaml');
    expect(paths).toContain('docs/checks.md');
    // The fault catalogue, found from the built code at the package root.
    expect(paths).toContain('faults/catalogue.yaml');
    // The host package list (the lab's apt packages), read at run time from the package root.
    const readsList = paths.some((p) => p.endsWith('.js') && readFileSync(join(installed, p), 'utf8').includes('host-packages.txt'));
    if (readsList || existsSync(join(ROOT, 'host-packages.txt'))) expect(paths).toContain('host-packages.txt');
    const unwanted = paths.filter((p) => /\.map$|\.ts$/.test(p) || /^(src|test|checks|fixtures|bench|scripts|reports|\.ci|node_modules)\//.test(p));
    expect(unwanted).toEqual([]);
    expect(paths.every((p) => !p.startsWith('dist/') || /^dist\/(src|checks)\//.test(p))).toBe(true);
  });

  it('finds its fault catalogue where it is installed', async () => {
    const mod = (await import(pathToFileURL(join(installed, 'dist/src/faults/catalogue.js')).href)) as typeof import('../../src/faults/catalogue.js');
    expect(mod.defaultCataloguePath()).toBe(join(installed, 'faults', 'catalogue.yaml'));
    expect(mod.loadCatalogue().faults.length).toBeGreaterThan(20);
  });

  it('declares as dependencies exactly the packages its JavaScript loads', () => {
    // Every module id the shipped JavaScript names: static and dynamic imports, require and require.resolve
    // (the Allure CLI and allure-vitest's setup file are found that way).
    const ids = new Set<string>();
    const js = readdirSync(join(installed, 'dist'), { recursive: true }).map(String).filter((f) => f.endsWith('.js'));
    expect(js.length).toBeGreaterThan(20);
    for (const f of js) {
      const code = readFileSync(join(installed, 'dist', f), 'utf8');
      for (const m of code.matchAll(/(?<=[\s}])from\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|\bimport\s+['"]([^'"]+)['"]|\brequire(?:\.resolve)?\(\s*['"]([^'"]+)['"]\s*\)/g)) {
        ids.add((m[1] ?? m[2] ?? m[3] ?? m[4]) as string);
      }
    }
    const packages = [...ids]
      .filter((id) => /^(@[\w.-]+\/)?[\w.-]+(\/[\w./-]*)?$/.test(id) && !id.startsWith('.') && !id.startsWith('node:') && !builtinModules.includes(id))
      .map((id) => id.split('/').slice(0, id.startsWith('@') ? 2 : 1).join('/'));
    expect(packages).toContain('vitest');
    expect(packages).toContain('allure');
    expect([...new Set(packages)].sort()).toEqual(Object.keys(MANIFEST.dependencies).sort());
  });

  it('installs every run-time dependency at its pinned version and no build or lint tool', () => {
    for (const [name, version] of Object.entries(MANIFEST.dependencies)) {
      const at = [join(installed, 'node_modules', name), join(app, 'node_modules', name)].find((d) => existsSync(join(d, 'package.json')));
      expect(at, `${name} is installed`).toBeDefined();
      expect((JSON.parse(readFileSync(join(at as string, 'package.json'), 'utf8')) as { version: string }).version, name).toBe(version);
    }
    for (const tool of BUILD_TOOLS) {
      expect(MANIFEST.devDependencies).toHaveProperty([tool]);
      expect(existsSync(join(app, 'node_modules', tool)), `${tool} installed`).toBe(false);
      expect(existsSync(join(installed, 'node_modules', tool)), `${tool} installed`).toBe(false);
    }
    // A devDependency may only be there because a run-time package needs it (mysql2 depends on @types/node…).
    const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string>; peerDependencies?: Record<string, string> }>;
    };
    const needed = new Set(
      Object.entries(lock.packages)
        .filter(([path]) => path !== '' && path !== `node_modules/${MANIFEST.name}`)
        .flatMap(([, p]) => [...Object.keys(p.dependencies ?? {}), ...Object.keys(p.optionalDependencies ?? {}), ...Object.keys(p.peerDependencies ?? {})]),
    );
    const stray = Object.keys(MANIFEST.devDependencies).filter((d) => existsSync(join(app, 'node_modules', d)) && !needed.has(d));
    expect(stray).toEqual([]);
  });

  it('stackcheck --help lists the commands', async () => {
    const r = await run(stackcheck[0] as string, ['--help'], app);
    expectExit(r, 0, 'stackcheck --help');
    for (const cmd of ['plan', 'run', 'check', 'report', 'lab']) expect(r.stdout).toMatch(new RegExp(`^\\s+${cmd}\\b`, 'm'));
    const v = await run(stackcheck[0] as string, ['--version'], app);
    expectExit(v, 0, 'stackcheck --version');
    expect(v.stdout.trim()).toBe(MANIFEST.version);
  });

  it('stackcheck plan validates the course against the shipped example inventory', async () => {
    // The shipped example inventory, pointed at a key and a secrets file of this test.
    const dir = join(work, 'plan');
    mkdirSync(dir);
    writeFileSync(join(dir, 'key'), utils.generateKeyPairSync('ed25519').private, { mode: 0o600 });
    writeFileSync(join(dir, 'known_hosts'), '');
    const example = readFileSync(join(installed, 'inventories', 'example-seven-vms.yaml'), 'utf8');
    const secretNames = [...(/^secret:\n((?:\s+- \w+\n)+)/m.exec(example)?.[1] ?? '').matchAll(/- (\w+)/g)].map((m) => m[1] as string);
    expect(secretNames).toContain('ADMIN_PASS');
    const secretFile = /^secrets_file:\s*(\S+)/m.exec(example)?.[1];
    expect(secretFile).toBeDefined();
    writeFileSync(join(dir, secretFile as string), secretNames.map((n) => `${n}: S3cret-${n}-x9`).join('\n') + '\n', { mode: 0o600 });
    const inventory = join(dir, 'seven-vms.yaml');
    writeFileSync(inventory, example.replace('~/.ssh/id_ed25519', join(dir, 'key')).replace('~/.ssh/known_hosts', join(dir, 'known_hosts')));
    const course = join(dir, 'tutorial');
    cpSync(join(ROOT, 'tutorial'), course, { recursive: true });

    const r = await run(stackcheck[0] as string, ['plan', course, '--inventory', inventory, '--json'], app);
    expectExit(r, 0, 'stackcheck plan tutorial --inventory seven-vms.yaml --json');
    const plan = JSON.parse(r.stdout) as PlanJson;
    expect(plan.stages.length).toBeGreaterThan(5);
    // Seven real machines take the tutorial's default storage variant: LVM + iSCSI, not the lab's Ceph.
    expect(plan.variants).toEqual([{ name: 'storage', value: 'lvm', from: expect.stringMatching(/^the tutorial's default \(.*10-cinder-volume-lvm\.md:3\)$/) }]);
    expect(plan.stages.filter((s) => s.variant).map((s) => s.id)).toEqual(['cinder-volume-with-lvm-and-iscsi-on-volume-node']);
    const steps = plan.stages.flatMap((s) => s.steps);
    expect(new Set(steps.map((s) => s.host))).toContain('db-node');
    // Every variable filled; secrets stay placeholders and never print.
    const text = JSON.stringify(plan);
    const left = [...new Set([...text.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1] as string))];
    expect(left.filter((n) => !secretNames.includes(n))).toEqual([]);
    expect(text).not.toContain('S3cret-');
    // Values of the example inventory, filled into commands: its disk, region and the controller's address.
    for (const value of ['/dev/vdb', 'RegionOne', '10.0.0.12']) expect(text).toContain(value);
  });

  it('stackcheck check runs a check through vitest from the production install (broken: the host never answers)', async () => {
    const runDir = join(work, 'runs', 'check-1');
    const inventory = unreachableInventory(join(work), sshHost.port);
    const result = await checkOne(stackcheck, app, inventory, runDir);
    expect(result.message).toMatch(/SSH|connect|closed|reset|handshake/i);
  });

  it('stackcheck report builds the HTML report of that run with the Allure CLI from the production install', async () => {
    const runDir = join(work, 'runs', 'check-1');
    expect(existsSync(join(runDir, 'allure-results')), 'the check test left a run').toBe(true);
    await reportOf(stackcheck, app, runDir);
  });
});

describe('a built checkout after npm ci --omit=dev', () => {
  let checkout: string;
  let sshHost: { server: Server; port: number };

  beforeAll(async () => {
    buildCli();
    // What a deployment of a checkout keeps after a full `npm ci` built it: the manifest, the lockfile, prepare
    // and the build.
    checkout = tempDir('sc-checkout-');
    for (const f of ['package.json', 'package-lock.json', 'scripts/prepare.mjs']) {
      mkdirSync(join(checkout, f, '..'), { recursive: true });
      copyFileSync(join(ROOT, f), join(checkout, f));
    }
    for (const d of ['src', 'checks']) cpSync(join(ROOT, 'dist', d), join(checkout, 'dist', d), { recursive: true });
    sshHost = await droppingServer();
  }, 300_000);
  afterAll(async () => {
    await new Promise<void>((ok) => (sshHost ? sshHost.server.close(() => ok()) : ok()));
  });

  it('installs, keeps the build (no compiler installed), and runs check and report', async () => {
    const ci = await npm(['ci', '--omit=dev'], checkout);
    expectExit(ci, 0, 'npm ci --omit=dev');
    expect(ci.stdout + ci.stderr).toContain('keeping the existing build in dist/');
    for (const tool of BUILD_TOOLS) expect(existsSync(join(checkout, 'node_modules', tool)), `${tool} installed`).toBe(false);
    const stackcheck = [process.execPath, join(checkout, MANIFEST.bin.stackcheck as string)];
    expectExit(await run(stackcheck[0] as string, [...stackcheck.slice(1), '--help'], checkout), 0, 'stackcheck --help');
    const runDir = join(checkout, 'reports', 'check-1');
    await checkOne(stackcheck, checkout, unreachableInventory(checkout, sshHost.port), runDir);
    await reportOf(stackcheck, checkout, runDir);
  });

  it('prepare fails, saying why, when there is neither a compiler nor a build', async () => {
    const bare = tempDir('sc-checkout-bare-');
    for (const f of ['package.json', 'package-lock.json', 'scripts/prepare.mjs']) {
      mkdirSync(join(bare, f, '..'), { recursive: true });
      copyFileSync(join(ROOT, f), join(bare, f));
    }
    // (npm ci would install everything first, then run prepare and fail the same way.)
    const prepare = await npm(['run', 'prepare'], bare);
    expect(prepare.code).not.toBe(0);
    expect(prepare.stderr).toContain('there is no build in dist/');
  });
});
