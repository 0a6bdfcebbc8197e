// npm's `prepare` (run by `npm ci` / `npm install` in a checkout, and by `npm pack` / `npm publish`): compile the
// TypeScript sources into dist/ (tsc -p tsconfig.build.json, its exit status is ours).
//
// A production install of a checkout (`npm ci --omit=dev`, e.g. after a full `npm ci` built dist/) has no
// compiler: the build it finds in dist/ is kept, with a warning when sources are newer than it. Without a
// build there is nothing to run: that is an error, never a silent success. (Installs of the packed or
// published package never run this: the tarball carries dist/.)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'src', 'cli.js');

function compiler() {
  try {
    return createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
  } catch {
    return undefined;
  }
}

// The newest modification time of the .ts files under the compiled folders.
function newestSource() {
  let newest = 0;
  for (const dir of ['src', 'checks']) {
    const abs = join(root, dir);
    if (!existsSync(abs)) continue;
    for (const name of readdirSync(abs, { recursive: true })) {
      if (String(name).endsWith('.ts')) newest = Math.max(newest, statSync(join(abs, String(name))).mtimeMs);
    }
  }
  return newest;
}

const tsc = compiler();
if (tsc) {
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (r.error) {
    process.stderr.write(`prepare: could not run the TypeScript compiler (${tsc}): ${r.error.message}\n`);
    process.exit(1);
  }
  process.exit(r.status ?? 1);
}

if (!existsSync(cli)) {
  process.stderr.write(
    'prepare: the TypeScript compiler is not installed (a production install: npm ci --omit=dev) and there is no build in dist/.\n' +
      '  stackcheck must be compiled once: run `npm ci` (with the dev dependencies; it builds dist/), then `npm ci --omit=dev` if you want\n' +
      '  only the run-time dependencies; or install the packed package (`npm pack`), which carries its build.\n',
  );
  process.exit(1);
}
const stale = newestSource() > statSync(cli).mtimeMs;
process.stderr.write(
  `prepare: the TypeScript compiler is not installed (a production install): keeping the existing build in dist/.\n${
    stale ? '  warning: some sources are newer than dist/: run `npm ci` (with the dev dependencies) to rebuild it.\n' : ''
  }`,
);
