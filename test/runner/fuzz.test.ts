// Property-based: random and mutated tutorials and inventories fed to the parser and the inventory loader. Whatever
// the input — deep lists, quotes, unicode host names, NUL bytes, CRLF, broken fences, huge lines, YAML of any shape —
// the only failure is our own input error (exit 2, with a location or a field), never a crash and never a hang; and
// a prompt line of a fenced block under a stage heading is never lost: it becomes a step, or parsing fails.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { StackcheckError, ExitCode } from '../../src/error.js';
import { parseMarkdown } from '../../src/runner/parse.js';
import { inventoryFromObject, loadInventoryText } from '../../src/inventory/load.js';

const RUNS = 300;

// Fragments a tutorial is made of, some of them hostile.
const word = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);
const noise = fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => s.replace(/```|~~~/g, ''));
const fragment = fc.oneof(
  word.map((w) => `# ${w}`),
  word.map((w) => `## ${w}`),
  noise,
  fc.integer({ min: 1, max: 80 }).map((d) => Array.from({ length: d }, (_, i) => `${'  '.repeat(i)}- ${i}`).join('\n')),
  fc.integer({ min: 1, max: 30 }).map((d) => `${'> '.repeat(d)}quoted`),
  fc.tuple(word, word).map(([h, c]) => `    root@${h}:~# echo ${c}`),
  fc.tuple(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }), word).map(([h, c]) => `    root@${h.replace(/\s/g, 'x')}:~# echo ${c}`),
  fc.tuple(word, word).map(([h, c]) => `\`\`\`sh host=${h}\n${c}\n\`\`\``),
  fc.constant('```sh\nunclosed'),
  fc.constantFrom('<!-- checks: mysql.server -->', '<!-- after: nowhere -->', '<!-- variant: storage=lvm -->', '<!-- variant: = -->', '<!-- installs: keystone -->'),
  fc.constantFrom('\u0000', '\r\n', '\uFFFD', '\u202E', 'x'.repeat(20_000)),
);
const document = fc.array(fragment, { maxLength: 25 }).map((xs) => xs.join('\n\n'));

function onlyInputErrors(run: () => unknown): void {
  try {
    run();
  } catch (err) {
    if (!(err instanceof StackcheckError)) throw err;
    expect(err.exitCode).toBe(ExitCode.badInput);
  }
}

describe('the parser on random tutorials', () => {
  test('parses or refuses with its own input error (file:line), never crashes', () => {
    fc.assert(
      fc.property(document, (doc) => {
        onlyInputErrors(() => parseMarkdown(doc, 'fuzz.md'));
      }),
      { numRuns: RUNS },
    );
  });

  test('a prompt line in a fenced block under a stage heading becomes a step, whatever surrounds it', () => {
    fc.assert(
      fc.property(document, document, word, word, (before, after, host, marker) => {
        const doc = `${before}\n\n## The stage\n\n\`\`\`console\nroot@${host}:~# echo ${marker}-kept\n\`\`\`\n\n${after}`;
        let parsed: ReturnType<typeof parseMarkdown>;
        try {
          parsed = parseMarkdown(doc, 'fuzz.md');
        } catch (err) {
          // Refused as a whole (another fragment is wrong): said, not lost.
          if (err instanceof StackcheckError) return;
          throw err;
        }
        const commands = parsed.stages.flatMap((s) => s.steps).map((s) => (s.kind === 'shell' ? s.command : ''));
        expect(commands).toContain(`echo ${marker}-kept`);
      }),
      { numRuns: RUNS },
    );
  });

  test('CRLF line ends read as LF ends: the same steps', () => {
    fc.assert(
      fc.property(word, word, (host, marker) => {
        const doc = `## S\n\n    root@${host}:~# echo ${marker}\n    output\n`;
        const lf = parseMarkdown(doc, 'a.md').stages.flatMap((s) => s.steps);
        const crlf = parseMarkdown(doc.replace(/\n/g, '\r\n'), 'a.md').stages.flatMap((s) => s.steps);
        expect(crlf.map((s) => (s.kind === 'shell' ? `${s.host} ${s.command}` : ''))).toEqual(lf.map((s) => (s.kind === 'shell' ? `${s.host} ${s.command}` : '')));
      }),
      { numRuns: 100 },
    );
  });
});

describe('the inventory loader on random input', () => {
  const yamlish = fc.oneof(
    fc.anything(),
    fc.record({ hosts: fc.dictionary(word, fc.anything()), vars: fc.anything(), ssh: fc.anything(), variants: fc.anything() }, { requiredKeys: [] }),
    fc.record({ hosts: fc.dictionary(word, fc.record({ address: fc.string(), port: fc.anything(), user: fc.string(), jump: fc.string() }, { requiredKeys: [] })) }),
  );

  test('any YAML value: an inventory, or an input error naming the field; never a crash', () => {
    fc.assert(
      fc.property(yamlish, (obj) => {
        onlyInputErrors(() => inventoryFromObject(obj, 'fuzz.yaml', '/tmp', {}));
      }),
      { numRuns: RUNS },
    );
  });

  test('any text: an inventory, or an input error; never a crash (aliases, tabs, NULs and all)', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      yamlish.map((o) => {
        try {
          return JSON.stringify(o) ?? '';
        } catch {
          return '';
        }
      }),
      fc.constant(`a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nhosts: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n`),
    );
    fc.assert(
      fc.property(text, (t) => {
        onlyInputErrors(() => loadInventoryText(t, 'fuzz.yaml', '/tmp', { env: {} }));
      }),
      { numRuns: RUNS },
    );
    // (the YAML library itself reads what the generator wrote as JSON)
    expect(parseYaml('{"a": 1}')).toEqual({ a: 1 });
  });
});
