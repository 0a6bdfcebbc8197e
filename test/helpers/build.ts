// The compiled CLI that the CLI and tutorial tests run (dist/src/cli.js), built by the test process itself.
// A build that fails is a failed test: tsc still writes JavaScript when it finds type errors, so its exit
// status decides, never the presence of dist/. And the JavaScript tested is this build's: anything under
// dist/src or dist/checks that this build did not write (a source since removed or renamed; a stale check
// file would even be run by `stackcheck check`) is removed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'dist', 'src', 'cli.js');
const PROJECT = 'tsconfig.build.json';
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
// What tsconfig.build.json compiles (src, checks), as folders of dist/.
const OUTPUT_DIRS = ['src', 'checks'];

/** The compiler's output cut down to its errors: each `file(l,c): error TS…` line and its indented continuation lines. */
export function compilerErrors(output: string, maxLines = 40): string {
  const lines = output.split('\n').filter((l) => !l.startsWith('TSFILE: ') && l.trim() !== '');
  const picked: string[] = [];
  let inError = false;
  for (const l of lines) {
    if (/\berror TS\d+:/.test(l)) inError = true;
    else if (!/^\s/.test(l)) inError = false;
    if (inError) picked.push(l.trimEnd());
  }
  // No error lines (the compiler crashed, or a configuration problem): its last lines as they are.
  const shown = picked.length > 0 ? picked : lines.slice(-maxLines);
  return shown.length > maxLines ? [...shown.slice(0, maxLines), `… and ${shown.length - maxLines} more lines`].join('\n') : shown.join('\n');
}

function jsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[]).filter((n) => n.endsWith('.js')).map((n) => join(dir, n));
}

const done = new Map<string, { cli: string } | { error: Error }>();

/**
 * Builds the CLI with the production config (`tsc -p tsconfig.build.json`), once per test process, and returns
 * the path of dist/src/cli.js. Throws with the compiler's errors when the build fails. (`root`: another
 * project, for this helper's own test.)
 */
export function buildCli(root = ROOT): string {
  let r = done.get(root);
  if (!r) {
    r = build(root);
    done.set(root, r);
  }
  if ('error' in r) throw r.error;
  return r.cli;
}

function build(root: string): { cli: string } | { error: Error } {
  const cli = join(root, 'dist', 'src', 'cli.js');
  const r = spawnSync(process.execPath, [TSC, '-p', PROJECT, '--pretty', 'false', '--listEmittedFiles'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 300_000,
  });
  if (r.error) return { error: new Error(`could not run the compiler (${TSC}): ${r.error.message}`) };
  const output = `${r.stdout}${r.stderr}`;
  if (r.status !== 0) {
    const how = r.status === null ? `was killed (${r.signal ?? 'timeout'})` : `exited ${r.status}`;
    return { error: new Error(`the CLI build failed: tsc -p ${PROJECT} ${how}; no test may run a stale or half-built dist/.\n${compilerErrors(output)}`) };
  }
  const emitted = new Set(
    output
      .split('\n')
      .filter((l) => l.startsWith('TSFILE: '))
      .map((l) => resolve(root, l.slice('TSFILE: '.length).trim())),
  );
  if (!emitted.has(cli)) return { error: new Error(`tsc -p ${PROJECT} exited 0 but did not write ${relative(root, cli)}:\n${compilerErrors(output)}`) };
  for (const file of OUTPUT_DIRS.flatMap((d) => jsFiles(join(root, 'dist', d)))) {
    if (emitted.has(file)) continue;
    rmSync(file, { force: true });
    rmSync(`${file}.map`, { force: true });
  }
  return { cli };
}
