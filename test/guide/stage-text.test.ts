import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { StackcheckError } from '../../src/error.js';
import { stageIntro, stageMarkdown } from '../../src/guide/stage-text.js';
import { parseTutorial } from '../../src/runner/parse.js';
import type { Stage, Tutorial } from '../../src/runner/types.js';
import { tempDir } from '../helpers/tmp.js';

const root = resolve(__dirname, '../..');

function stageTitled(tutorial: Tutorial, title: RegExp): Stage {
  const stage = tutorial.stages.find((s) => title.test(s.title));
  expect(stage, `a stage titled ${title}`).toBeDefined();
  return stage as Stage;
}

// The non-blank lines of a file after line `after` (1-based), as written, but for its comments (each on a line of
// its own in tutorial/).
function linesAfter(file: string, after: number): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .slice(after)
    .filter((l) => l.trim() !== '' && !l.startsWith('<!--'));
}

describe('stageMarkdown on the course in tutorial/', () => {
  let tutorial: Tutorial;
  beforeAll(async () => {
    tutorial = await parseTutorial(join(root, 'tutorial'));
  });

  it('gives the Keystone stage from after its heading to the end of its file, without the installs comment', async () => {
    const stage = stageTitled(tutorial, /^Keystone/);
    const file = readFileSync(stage.loc.file, 'utf8');
    expect(file).toContain('<!-- installs: keystone -->');
    expect(file).toMatch(/\n<!-- checks: .*-->\s*$/); // the file ends with a checks comment
    const md = await stageMarkdown(tutorial, stage.id);
    expect(md.startsWith("**Keystone** is OpenStack's identity service.")).toBe(true);
    expect(md).not.toContain('## Keystone on auth-node');
    expect(md).not.toContain('<!--');
    // Sub-headings, code fences with their info strings and placeholders are kept as written.
    expect(md).toMatch(/^### Install, without debconf's help$/m);
    expect(md).toContain('```ini file=/etc/keystone/keystone.conf host=auth-node\n[database]\nconnection = mysql+pymysql://keystone:{{ KEYSTONE_DBPASS }}@{{ DB_NODE_IP }}/keystone\n');
    // It runs to the end of its file (the closing fence before the checks comment), not into the next file's stage.
    expect(md.endsWith('+--------------+-----------+----------------------------+\n```')).toBe(true);
    expect(md).not.toContain('## Glance');
    // Every other line of the file is there, in order: only the heading and the comment went.
    expect(md.split('\n').filter((l) => l.trim() !== '')).toEqual(linesAfter(stage.loc.file, stage.loc.line));
  });

  it('starts a stage that follows the document title after its own ## heading, not at the top of the file', async () => {
    const stage = stageTitled(tutorial, /^Overview/);
    expect(stage.loc.line).toBeGreaterThan(1);
    const md = await stageMarkdown(tutorial, stage.id);
    const before = readFileSync(stage.loc.file, 'utf8').split('\n').slice(0, stage.loc.line);
    expect(before[0]).toMatch(/^# /);
    expect(md).not.toContain(before[0] as string);
    expect(md.split('\n')[0]).toBe(linesAfter(stage.loc.file, stage.loc.line)[0]);
  });

  it('fails, naming the stages, for an id the tutorial does not have', async () => {
    const err = await stageMarkdown(tutorial, 'no-such-stage').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StackcheckError);
    expect((err as StackcheckError).message).toContain('no stage "no-such-stage"');
    expect((err as StackcheckError).hint).toContain(stageTitled(tutorial, /^Keystone/).id);
  });
});

describe('stageMarkdown between two ## headings of one file', () => {
  const FILE = [
    '# A course', // 1
    '',
    'Words before any stage.',
    '',
    '## First stage', // 5
    '',
    '<!-- checks: mysql.server -->',
    '',
    'Text of the first stage. <!-- a note for authors -->',
    '',
    '```sh host=db-node',
    'echo one',
    '## a comment in a script, not a heading',
    "echo '<!-- kept: this is code -->'",
    '```',
    '',
    'Write `<!-- checks: a.b -->` to declare checks.',
    '',
    '## Second stage', // 19
    '<!-- after: first-stage -->',
    '<!--',
    'a comment over',
    'three lines',
    '-->',
    'Second text.',
    '',
    '```sh host=db-node',
    'echo two',
    '```',
    '',
    '~~~html',
    '<!-- shown: an example page -->',
    '~~~',
    '',
    '# Appendix',
    '',
    'Notes after the stages: a # heading ends a stage too.',
    '',
  ].join('\n');
  let tutorial: Tutorial;
  beforeAll(async () => {
    const file = join(tempDir('sc-stage-text-'), 'course.md');
    writeFileSync(file, FILE);
    tutorial = await parseTutorial(file);
    expect(tutorial.stages.map((s) => [s.id, s.loc.line])).toEqual([
      ['first-stage', 5],
      ['second-stage', 19],
    ]);
  });

  it('ends the first stage before the next ## heading; a ## line inside a code block does not end it', async () => {
    expect(await stageMarkdown(tutorial, 'first-stage')).toBe(
      [
        'Text of the first stage.',
        '',
        '```sh host=db-node',
        'echo one',
        '## a comment in a script, not a heading',
        "echo '<!-- kept: this is code -->'",
        '```',
        '',
        'Write `<!-- checks: a.b -->` to declare checks.',
      ].join('\n'),
    );
  });

  it('starts the second stage after its heading, drops its after comment and a comment over several lines, ends at a # heading', async () => {
    expect(await stageMarkdown(tutorial, 'second-stage')).toBe(
      ['Second text.', '', '```sh host=db-node', 'echo two', '```', '', '~~~html', '<!-- shown: an example page -->', '~~~'].join('\n'),
    );
  });

  it('stageIntro is the prose before the first code block', async () => {
    expect(stageIntro(await stageMarkdown(tutorial, 'first-stage'))).toBe('Text of the first stage.');
    expect(stageIntro(await stageMarkdown(tutorial, 'second-stage'))).toBe('Second text.');
  });
});

describe('stageIntro', () => {
  it("is the Keystone stage's explanation, up to the first command block", async () => {
    const tutorial = await parseTutorial(join(root, 'tutorial'));
    const md = await stageMarkdown(tutorial, stageTitled(tutorial, /^Keystone/).id);
    const intro = stageIntro(md);
    expect(md.startsWith(intro)).toBe(true);
    expect(intro).toMatch(/^\*\*Keystone\*\* is OpenStack's identity service/);
    expect(intro).toContain('### Install, without debconf');
    expect(intro.endsWith('so that you see each\nstep:')).toBe(true);
    expect(intro).not.toContain('```');
    expect(md.slice(intro.length).trimStart().startsWith('```sh host=auth-node')).toBe(true);
  });

  it('is all of a text without code; an indented code block counts as code too', () => {
    expect(stageIntro('\nJust words.\n\nMore words.\n')).toBe('Just words.\n\nMore words.');
    expect(stageIntro('Words.\n\n    indented code\n\n```sh\nls\n```\n')).toBe('Words.');
  });
});
