import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { Marked, marked, type MarkedExtension } from 'marked';
import { markedTerminal } from 'marked-terminal';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderMarkdown } from '../../src/guide/render.js';
import { stageMarkdown } from '../../src/guide/stage-text.js';
import { parseTutorial } from '../../src/runner/parse.js';
import type { Tutorial } from '../../src/runner/types.js';

const root = resolve(__dirname, '../..');
// eslint-disable-next-line no-control-regex
const ESC = /[\u001b\u009b\u0007]/; // ESC, the 8-bit CSI, BEL (ends an OSC 8 hyperlink)
const E = '\u001b';
const PLACEHOLDER = /\{\{ [A-Z0-9_]+ \}\}/g;

// The lines of the code blocks of some Markdown, as written.
function codeLines(markdown: string): Set<string> {
  const lines = new Set<string>();
  for (const m of markdown.matchAll(/^```[^\n]*\n([\s\S]*?)^```$/gm)) for (const l of (m[1] ?? '').split('\n')) lines.add(l);
  return lines;
}

// Rendered lines wider than `width` columns that are not a line of a code block. The renderer shows code lines as
// written, indented, and never wraps them (a command split over two lines is no longer the command to type): they
// are the only lines allowed past the width.
function overlong(rendered: string, markdown: string, width: number): string[] {
  const code = codeLines(markdown);
  return rendered
    .split('\n')
    .map((l) => stripVTControlCharacters(l))
    .filter((l) => l.length > width && !code.has(l.replace(/^ {2}/, '')));
}

describe('renderMarkdown on the Keystone stage of tutorial/', () => {
  let tutorial: Tutorial;
  let md: string;
  beforeAll(async () => {
    tutorial = await parseTutorial(join(root, 'tutorial'));
    const stage = tutorial.stages.find((s) => s.title.startsWith('Keystone'));
    expect(stage).toBeDefined();
    md = await stageMarkdown(tutorial, stage?.id as string);
  });

  it('at 80 columns without colour: fits, no escape characters, headings, lists, inline code and code blocks rendered', () => {
    const out = renderMarkdown(md, { width: 80, color: false });
    expect(out).not.toMatch(ESC);
    expect(overlong(out, md, 80)).toEqual([]);
    // The width is used: the source's prose lines (up to ~100 columns) are reflowed, not kept or cut short.
    expect(md.split('\n').some((l) => l.length > 80 && !codeLines(md).has(l))).toBe(true);
    expect(out.split('\n').filter((l) => l.length > 72 && l.length <= 80).length).toBeGreaterThan(5);
    expect(out).toContain("Keystone is OpenStack's identity service. It answers three questions for every\nother service:");
    // Headings, with their level shown.
    expect(out).toMatch(/^### Install, without debconf's help$/m);
    expect(out).toMatch(/^### Bootstrap: the chicken and the egg$/m);
    // List items: a bullet, the emphasis and inline code rendered (no Markdown left), continuation lines indented.
    expect(out).toMatch(/^ {2}\* Who are you\? Users \(people, and one user per service\), grouped in domains,$/m);
    expect(out).toMatch(/^ {2}\* What may you do\? Users have roles \(admin, member, reader\) on projects$/m);
    expect(out).toMatch(/^ {4}\(formerly "tenants"\), the units that own instances, networks and volumes\.$/m);
    expect(out).not.toContain('**');
    expect(out).not.toMatch(/\*Who are you/);
    expect(out).toContain('a token in the X-Auth-Token header');
    expect(out).not.toContain('`');
    // Code blocks: the lines as written (placeholders included), indented, without the fences.
    expect(out).toContain('\n  [database]\n  connection = mysql+pymysql://keystone:{{ KEYSTONE_DBPASS }}@{{ DB_NODE_IP }}/keystone\n');
    expect(out).toContain('\n  keystone-manage fernet_setup --keystone-user keystone --keystone-group keystone\n');
    expect(out).not.toMatch(/^\s*```/m);
    expect(out).not.toContain('host=auth-node');
    // The stage's machine comments are not shown.
    expect(out).not.toContain('<!--');
    expect(out).not.toMatch(/installs:|checks:/);
    // Every placeholder comes through unchanged.
    expect(out.match(PLACEHOLDER)).toEqual(md.match(PLACEHOLDER));
  });

  it('with colour: ANSI styling, the same text once the styling is removed', () => {
    const out = renderMarkdown(md, { width: 80, color: true });
    expect(out).toContain(`${E}[1mKeystone${E}[22m`); // **Keystone**: bold
    expect(out).toContain(`${E}[32m${E}[1m### Configure${E}[22m${E}[39m`); // heading: green, bold
    expect(out).toContain(`${E}[33mX-Auth-Token${E}[39m`); // inline code: yellow
    expect(out).toContain(`\n  ${E}[33mkeystone-manage fernet_setup --keystone-user keystone --keystone-group keystone${E}[39m\n`);
    expect(out).not.toContain(`${E}]8;`); // no OSC 8 hyperlink
    expect(overlong(out, md, 80)).toEqual([]);
    const plain = stripVTControlCharacters(out).replace(/ +$/gm, '');
    expect(plain).toBe(renderMarkdown(md, { width: 80, color: false }).replace(/ +$/gm, ''));
  });

  it('at 40 columns: prose and list items are reflowed to 40, placeholders stay whole', () => {
    for (const color of [false, true]) {
      const out = renderMarkdown(md, { width: 40, color });
      expect(overlong(out, md, 40)).toEqual([]);
      // Code lines are the ones left wider (see overlong).
      expect(out.split('\n').some((l) => stripVTControlCharacters(l).length > 40)).toBe(true);
      expect(out.match(PLACEHOLDER)).toEqual(md.match(PLACEHOLDER));
    }
    const out = renderMarkdown(md, { width: 40, color: false });
    expect(out).toContain('\n  * Who are you? Users (people, and one\n    user per service), grouped in\n');
    expect(out.startsWith("Keystone is OpenStack's identity\nservice. It answers three questions for\n")).toBe(true);
  });
});

describe('renderMarkdown on every stage of tutorial/', () => {
  it('keeps every line but code lines within 40 and 80 columns (tables and block quotes included), and every placeholder', async () => {
    const tutorial = await parseTutorial(join(root, 'tutorial'));
    let tables = 0;
    let quotes = 0;
    for (const stage of tutorial.stages) {
      const md = await stageMarkdown(tutorial, stage.id);
      if (/^\|.*\|$/m.test(md.replace(/^```[\s\S]*?^```$/gm, ''))) tables++;
      if (/^> /m.test(md)) quotes++;
      for (const width of [40, 80]) {
        const out = renderMarkdown(md, { width, color: false });
        expect(overlong(out, md, width), `${stage.id} at ${width}`).toEqual([]);
        expect(out, stage.id).not.toMatch(ESC);
        // At 40 a "word" wider than the line is cut, placeholders in it too (RabbitMQ's transport URL is 57 wide).
        if (width === 80) expect(out.match(PLACEHOLDER), `placeholders of ${stage.id}`).toEqual(md.match(PLACEHOLDER));
      }
    }
    expect(tables).toBeGreaterThan(0);
    expect(quotes).toBeGreaterThan(0);
  });
});

describe('renderMarkdown', () => {
  it('shows links as "label (url)", never as OSC 8 hyperlinks', () => {
    const md = 'Read [the install guide](https://docs.openstack.org/keystone/) or <https://www.openstack.org/>.';
    expect(renderMarkdown(md, { width: 100, color: false })).toBe('Read the install guide (https://docs.openstack.org/keystone/) or https://www.openstack.org/.\n');
    const colored = renderMarkdown(md, { width: 100, color: true });
    expect(colored).toContain(`${E}[`);
    expect(colored).not.toContain(`${E}]8;`);
    expect(colored).not.toContain('\u0007');
    expect(stripVTControlCharacters(colored)).toBe('Read the install guide (https://docs.openstack.org/keystone/) or https://www.openstack.org/.\n');
  });

  it('writes no OSC 8 hyperlink even where marked-terminal would (a terminal that supports them)', () => {
    // marked-terminal asks supports-hyperlinks (its dependency) on every link; pretend stdout supports them.
    const hyperlinks = createRequire(import.meta.url)('supports-hyperlinks') as { stdout: boolean };
    const saved = hyperlinks.stdout;
    hyperlinks.stdout = true;
    try {
      const md = 'Read [the guide](https://docs.openstack.org/).';
      // marked-terminal alone does write one here: the pretence works.
      expect(new Marked(markedTerminal() as unknown as MarkedExtension).parse(md)).toContain(`${E}]8;;https://docs.openstack.org/`);
      for (const color of [false, true]) {
        const out = renderMarkdown(md, { width: 80, color });
        expect(out).not.toContain(`${E}]8;`);
        expect(stripVTControlCharacters(out)).toBe('Read the guide (https://docs.openstack.org/).\n');
      }
    } finally {
      hyperlinks.stdout = saved;
    }
  });

  it('never breaks a line inside a {{ VARIABLE }} placeholder (that fits on a line)', () => {
    const md = 'Put the password {{ KEYSTONE_DBPASS }} and the address {{ DB_NODE_IP }} of `db-node` in `{{ CONF }}`.';
    for (let width = 22; width <= 90; width++) {
      const out = renderMarkdown(md, { width, color: false });
      expect(out.match(PLACEHOLDER), `at ${width}`).toEqual(['{{ KEYSTONE_DBPASS }}', '{{ DB_NODE_IP }}', '{{ CONF }}']);
      expect(out.replace(/\s+/g, ' ').trim(), `at ${width}`).toBe(md.replaceAll('`', ''));
    }
  });

  it('shows code blocks line for line (blank lines kept, long lines not wrapped) and HTML blocks as written', () => {
    const long = `echo ${'x'.repeat(60)}`;
    const md = ['Text.', '', '```sh host=db-node', 'one', '', '', long, '```', '', '<div>', 'html', '</div>', '', 'End.'].join('\n');
    expect(renderMarkdown(md, { width: 40, color: false })).toBe(['Text.', '', '  one', '', '', `  ${long}`, '', '<div>', 'html', '</div>', '', 'End.', ''].join('\n'));
  });

  it('renders inline Markdown in list items and numbers nested lists right', () => {
    const md = ['1. **first** step', '2. second step', '   - a *detail*', '   - another `detail`', '3. third step'].join('\n');
    expect(renderMarkdown(md, { width: 80, color: false })).toBe(
      ['  1. first step', '  2. second step', '       * a detail', '       * another detail', '  3. third step', ''].join('\n'),
    );
  });

  it('reflows block quotes within the width, quote indentation included', () => {
    const md = `> ${'word '.repeat(40).trim()}`;
    const out = renderMarkdown(md, { width: 30, color: false });
    const lines = out.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(5);
    for (const l of lines) expect(l).toMatch(/^ {2}word( word)*$/);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(30);
  });

  it('fits a table to the width by wrapping its cells', () => {
    const md = ['| Host | Runs |', '|---|---|', `| api-node | ${'service '.repeat(20).trim()} |`].join('\n');
    const wide = renderMarkdown(md, { width: 200, color: false });
    expect(wide.split('\n').filter((l) => l !== '')).toHaveLength(5); // top, head, separator, one row, bottom
    const narrow = renderMarkdown(md, { width: 40, color: false });
    expect(narrow.split('\n').length).toBeGreaterThan(6);
    for (const l of narrow.split('\n')) expect(l.length).toBeLessThanOrEqual(40);
    expect(narrow.match(/service/g)).toHaveLength(20);
  });

  it('keeps no state between calls and leaves the global marked alone', () => {
    const table = ['| a | b |', '|---|---|', `| x | ${'y '.repeat(30).trim()} |`].join('\n');
    const text = `${'words '.repeat(30).trim()}\n\n${table}`;
    const first = renderMarkdown(text, { width: 40, color: false });
    expect(renderMarkdown(text, { width: 100, color: true })).not.toBe(first);
    expect(renderMarkdown('| c |\n|---|\n| z |', { width: 30, color: false })).toContain('│ z │');
    expect(renderMarkdown(text, { width: 40, color: false })).toBe(first);
    expect(marked.parse('**bold** [x](https://x.org)')).toBe('<p><strong>bold</strong> <a href="https://x.org">x</a></p>\n');
  });
});
