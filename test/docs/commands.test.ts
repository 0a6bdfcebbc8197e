// The README, the docs and the help describe only commands and options that exist: every `stackcheck …` command
// line they show is checked against the real command tree (the one `stackcheck --help` prints).
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerCommands } from '../../src/cli/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];

// The program as the CLI builds it.
function program(): Command {
  const p = new Command('stackcheck');
  registerCommands(p);
  return p;
}

/** A `stackcheck …` command line quoted in a document, with where it is. */
interface Quoted {
  where: string;
  words: string[];
}

// Every `stackcheck …` inside code spans and code blocks (prose mentions of the name are not commands).
export function quotedCommands(file: string, text: string): Quoted[] {
  const out: Quoted[] = [];
  const lines = text.split('\n');
  let inBlock = false;
  lines.forEach((line, i) => {
    if (/^\s*(```|~~~)/.test(line)) {
      inBlock = !inBlock;
      return;
    }
    const pieces = inBlock ? [line.replace(/#.*$/, '')] : [...line.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? '');
    for (const piece of pieces) {
      for (const m of piece.matchAll(/(?:^|[\s;&|(])(?:npx\s+)?stackcheck((?:\s+[^\s;&|)]+)*)/g)) {
        out.push({ where: `${file}:${i + 1}`, words: (m[1] ?? '').trim().split(/\s+/).filter(Boolean) });
      }
    }
  });
  return out;
}

// The subcommand a quoted line names (following nested commands such as `lab up`), and the options it uses.
function resolve(root: Command, words: string[]): { command?: Command; path: string[]; options: string[] } {
  let cmd = root;
  const path: string[] = [];
  for (const w of words) {
    if (w.startsWith('-') || /[<[{A-Z/.]/.test(w[0] ?? '')) break;
    const sub = cmd.commands.find((c) => c.name() === w || c.aliases().includes(w));
    if (!sub) {
      if (cmd === root) return { path: [w], options: [] };
      break;
    }
    cmd = sub;
    path.push(w);
  }
  const options = words.filter((w) => /^--?[a-z]/.test(w)).map((w) => w.split('=')[0] ?? w);
  return { command: cmd === root ? undefined : cmd, path, options };
}

describe('documented commands exist', () => {
  const root = program();
  const quoted = DOCS.flatMap((f) => quotedCommands(f, readFileSync(join(ROOT, f), 'utf8')));

  it('finds the command lines the documents quote', () => {
    expect(quoted.length).toBeGreaterThan(20);
  });

  it('every quoted command and option is one the CLI has', () => {
    const problems: string[] = [];
    for (const q of quoted) {
      if (q.words.length === 0 || q.words[0]?.startsWith('-')) continue;
      const r = resolve(root, q.words);
      if (!r.command) {
        problems.push(`${q.where}: \`stackcheck ${r.path.join(' ')}\` is not a command (commands: ${root.commands.map((c) => c.name()).join(', ')})`);
        continue;
      }
      const known = new Set(['-h', '--help', ...r.command.options.flatMap((o) => [o.long, o.short].filter((x): x is string => !!x))]);
      for (const o of r.options) if (!known.has(o) && !(o.startsWith('--no-') && known.has(`--${o.slice(5)}`))) problems.push(`${q.where}: \`stackcheck ${r.path.join(' ')}\` has no option ${o}`);
    }
    expect(problems).toEqual([]);
  });

  it('a command that does not exist is caught (the test can fail)', () => {
    const r = resolve(root, quotedCommands('x.md', 'Run `stackcheck teach --class r.csv` to grade.')[0]!.words);
    expect(r.command).toBeUndefined();
    const o = resolve(root, ['run', 'tutorial', '--fast']);
    expect(o.command?.name()).toBe('run');
    expect(o.command?.options.some((x) => x.long === '--fast')).toBe(false);
  });
});
