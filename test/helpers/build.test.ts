// The CLI build the CLI and tutorial tests share: a type error fails it (tsc's exit status, although tsc still
// writes JavaScript), with the compiler's error lines; a clean build leaves under dist/ only what it wrote.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildCli, compilerErrors } from './build.js';
import { tempDir } from './tmp.js';

// A tiny project shaped like this one: tsconfig.build.json compiling src/ into dist/, src/cli.ts the entry.
function project(cliSource: string): string {
  const dir = tempDir('sc-build-');
  mkdirSync(join(dir, 'src'));
  writeFileSync(
    join(dir, 'tsconfig.build.json'),
    JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'ES2022', strict: true, types: [], sourceMap: true, outDir: 'dist', rootDir: '.' }, include: ['src'] }),
  );
  writeFileSync(join(dir, 'src', 'cli.ts'), cliSource);
  writeFileSync(join(dir, 'src', 'util.ts'), 'export const two = 2;\n');
  // What an earlier build left: an old CLI, and JavaScript of sources removed since (a stale check among them).
  mkdirSync(join(dir, 'dist', 'src'), { recursive: true });
  mkdirSync(join(dir, 'dist', 'checks'), { recursive: true });
  writeFileSync(join(dir, 'dist', 'src', 'cli.js'), 'console.log("old build");\n');
  writeFileSync(join(dir, 'dist', 'src', 'gone.js'), 'export {};\n');
  writeFileSync(join(dir, 'dist', 'src', 'gone.js.map'), '{}\n');
  writeFileSync(join(dir, 'dist', 'checks', 'removed.check.js'), 'export {};\n');
  return dir;
}

describe('buildCli', () => {
  it('fails with the compiler errors when the build has a type error, although tsc wrote JavaScript', () => {
    const dir = project("import { two } from './util.js';\nexport const n: number = 'not a number';\nexport const m: string = two;\n");
    let error: unknown;
    try {
      buildCli(dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain('the CLI build failed: tsc -p tsconfig.build.json exited 2');
    expect(message).toContain("src/cli.ts(2,14): error TS2322: Type 'string' is not assignable to type 'number'.");
    expect(message).toContain("src/cli.ts(3,14): error TS2322: Type 'number' is not assignable to type 'string'.");
    expect(message).not.toContain('TSFILE');
    // tsc did emit: only its exit status tells the build failed.
    expect(readFileSync(join(dir, 'dist', 'src', 'cli.js'), 'utf8')).toContain('not a number');
    // Once per process: asked again, the same failure, without building again.
    writeFileSync(join(dir, 'src', 'cli.ts'), 'export const n = 1;\n');
    expect(() => buildCli(dir)).toThrow(message);
  }, 60_000);

  it('builds, returns dist/src/cli.js, and removes JavaScript under dist/ that this build did not write', () => {
    const dir = project("import { two } from './util.js';\nexport const n: number = two;\n");
    const cli = buildCli(dir);
    expect(cli).toBe(join(dir, 'dist', 'src', 'cli.js'));
    expect(readFileSync(cli, 'utf8')).toContain('export const n = two;');
    expect(existsSync(join(dir, 'dist', 'src', 'util.js'))).toBe(true);
    expect(existsSync(join(dir, 'dist', 'src', 'cli.js.map'))).toBe(true);
    expect(existsSync(join(dir, 'dist', 'src', 'gone.js'))).toBe(false);
    expect(existsSync(join(dir, 'dist', 'src', 'gone.js.map'))).toBe(false);
    expect(existsSync(join(dir, 'dist', 'checks', 'removed.check.js'))).toBe(false);
  }, 60_000);
});

describe('compilerErrors', () => {
  it('keeps the error lines and their continuation lines, not the list of emitted files', () => {
    const output = [
      'TSFILE: /p/dist/src/a.js',
      "src/a.ts(3,5): error TS2345: Argument of type 'string | undefined' is not assignable to parameter of type 'readonly string[] | undefined'.",
      "  Type 'string' is not assignable to type 'readonly string[]'.",
      'TSFILE: /p/dist/src/b.js',
      "checks/b.check.ts(7,33): error TS2305: Module '\"../src/x.js\"' has no exported member 'y'.",
      '',
    ].join('\n');
    expect(compilerErrors(output).split('\n')).toEqual([
      "src/a.ts(3,5): error TS2345: Argument of type 'string | undefined' is not assignable to parameter of type 'readonly string[] | undefined'.",
      "  Type 'string' is not assignable to type 'readonly string[]'.",
      "checks/b.check.ts(7,33): error TS2305: Module '\"../src/x.js\"' has no exported member 'y'.",
    ]);
  });

  it('keeps the last lines of an output without error lines, and caps a long list', () => {
    expect(compilerErrors("error TS5058: The specified path does not exist: 'nope.json'.\n")).toBe("error TS5058: The specified path does not exist: 'nope.json'.");
    expect(compilerErrors('Segmentation fault\n')).toBe('Segmentation fault');
    const many = Array.from({ length: 50 }, (_, i) => `src/a.ts(${i + 1},1): error TS1005: ';' expected.`).join('\n');
    const shown = compilerErrors(many, 10).split('\n');
    expect(shown).toHaveLength(11);
    expect(shown[10]).toBe('… and 40 more lines');
  });
});
