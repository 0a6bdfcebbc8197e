// Tutorial documents → stages and steps, as a pipeline:
//   files → (rst → Markdown) → markdown-it tokens → blocks (headings, checks, code) → steps → stages.
// Every problem is collected with its file:line and reported together (InputErrors, exit code 2).
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import MarkdownIt from 'markdown-it';
import type { Token } from 'markdown-it';
import { InputErrors, StackcheckError, type Location } from '../error.js';
import type { FileStep, ShellStep, Stage, Step, Tutorial } from './types.js';
import { SHELL_LANGS, isAnnotated, readFenceSpec } from './fence.js';
import { parsePrompt, readTranscript, type SourceLine } from './prompt.js';
import { rstToMarkdown } from './rst.js';
import { variantDeclarationErrors } from './variants.js';

/** File name endings read as tutorial documents when the tutorial is a folder. */
export const TUTORIAL_EXTENSIONS = ['.md', '.markdown', '.rst'];

/** A unit of the document that matters to stackcheck, in source order. */
export type Block =
  | { kind: 'heading'; level: number; title: string; line: number }
  | { kind: 'checks'; ids: string[]; line: number }
  | { kind: 'after'; ids: string[]; line: number }
  | { kind: 'installs'; keys: string[]; line: number }
  | { kind: 'variant'; name: string; value: string; isDefault: boolean; line: number }
  | { kind: 'code'; info: string | undefined; lines: SourceLine[]; line: number };

/** A step before it is numbered within its stage. */
type DraftStep = Omit<ShellStep, 'id' | 'stage'> | Omit<FileStep, 'id' | 'stage'>;

/** State shared by the files of one tutorial: stage ids are unique across files; problems are collected. */
interface ParseContext {
  usedIds: Set<string>;
  errors: StackcheckError[];
  warnings: Array<{ loc: Location; message: string }>;
}

// Reads a tutorial file, or every .md/.markdown/.rst file of a folder in name order, into stages and steps.
export async function parseTutorial(path: string): Promise<Tutorial> {
  const files = await tutorialFiles(path);
  const ctx: ParseContext = { usedIds: new Set(), errors: [], warnings: [] };
  const stages: Stage[] = [];
  let title: string | undefined;
  for (const [index, file] of files.entries()) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new StackcheckError('E_TUTORIAL', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
    const doc = parseDocument(text, file, ctx);
    if (index === 0) title = doc.title;
    stages.push(...doc.stages);
  }
  checkAfter(stages, ctx);
  ctx.errors.push(...variantDeclarationErrors({ stages }));
  if (ctx.errors.length > 0) throw new InputErrors(ctx.errors);
  return { source: path, ...(title !== undefined ? { title } : {}), stages, ...(ctx.warnings.length > 0 ? { warnings: ctx.warnings } : {}) };
}

// The documents of a tutorial: the file itself, or the folder's tutorial files sorted by name.
async function tutorialFiles(path: string): Promise<string[]> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    throw new StackcheckError('E_TUTORIAL', `tutorial not found: ${path}`, {
      cause: err,
      hint: 'give a Markdown file or a folder of .md files',
    });
  }
  if (!info.isDirectory()) return [path];
  const names = (await readdir(path, { withFileTypes: true }))
    .filter((e) => e.isFile() && TUTORIAL_EXTENSIONS.includes(extname(e.name).toLowerCase()))
    .map((e) => e.name)
    .sort();
  if (names.length === 0) {
    throw new StackcheckError('E_TUTORIAL', `${path}: no tutorial files (${TUTORIAL_EXTENSIONS.join(', ')}) in this folder`);
  }
  return names.map((n) => join(path, n));
}

// Parses one Markdown document (for tests and single files); throws InputErrors listing every problem.
export function parseMarkdown(text: string, file: string): { title?: string; stages: Stage[]; warnings?: Tutorial['warnings'] } {
  const ctx: ParseContext = { usedIds: new Set(), errors: [], warnings: [] };
  const doc = parseDocument(text, file, ctx);
  checkAfter(doc.stages, ctx);
  if (ctx.errors.length > 0) throw new InputErrors(ctx.errors);
  return { ...doc, ...(ctx.warnings.length > 0 ? { warnings: ctx.warnings } : {}) };
}

/**
 * A tutorial file's text as the parser reads it: `.rst` rewritten as Markdown line for line, YAML front matter blanked;
 * line numbers hold for the result (the guide reads a stage's text from it).
 */
export function documentMarkdown(file: string, text: string): string {
  return extname(file).toLowerCase() === '.rst' ? rstToMarkdown(text) : withoutFrontMatter(text);
}

// One document through the pipeline.
function parseDocument(text: string, file: string, ctx: ParseContext): { title?: string; stages: Stage[] } {
  const markdown = documentMarkdown(file, text);
  const blocks = toBlocks(markdown, file, ctx);
  return toStages(blocks, file, ctx);
}

// YAML front matter (`---` … `---` at the top) is blanked line for line; Markdown would read it as a heading.
function withoutFrontMatter(text: string): string {
  const lines = text.split('\n');
  if (lines[0]?.trimEnd() !== '---') return text;
  const end = lines.findIndex((l, i) => i > 0 && /^(---|\.\.\.)\s*$/.test(l));
  if (end < 0) return text;
  return lines.map((l, i) => (i <= end ? '' : l)).join('\n');
}

// markdown-it stops reading a document silently where it nests deeper than maxNesting (lists, quotes): every step after
// would be lost. The limit is high, and reaching it is an error (toBlocks).
const MAX_NESTING = 1000;
const md = new MarkdownIt({ html: true, maxNesting: MAX_NESTING });
const CHECKS_COMMENT = /<!--\s*(checks?|after|installs?|variants?)\s*:([\s\S]*?)-->/g;
const VARIANT = /^([A-Za-z][A-Za-z0-9_-]*)\s*=\s*([A-Za-z0-9][A-Za-z0-9_.-]*)(\s+\(default\))?$/;
const CHECK_ID = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

// markdown-it tokens → the blocks that matter: headings, `<!-- checks: … -->` comments, code blocks.
function toBlocks(markdown: string, file: string, ctx: ParseContext): Block[] {
  const sourceLines = markdown.split(/\r?\n/);
  const tokens = md.parse(markdown, {});
  const blocks: Block[] = [];
  const deepest = tokens.reduce<Token | undefined>((d, t) => (!d || t.level > d.level ? t : d), undefined);
  if (deepest && deepest.level >= MAX_NESTING - 1) {
    ctx.errors.push(
      err('E_TUTORIAL', file, (deepest.map?.[0] ?? 0) + 1, `lists or quotes nest deeper than stackcheck reads (about ${MAX_NESTING / 2} levels): the rest of ${basename(file)} would be lost; flatten them`),
    );
    return blocks;
  }
  for (let t = 0; t < tokens.length; t++) {
    const token = tokens[t] as Token;
    const start = token.map?.[0] ?? 0;
    if (token.type === 'heading_open') {
      blocks.push({ kind: 'heading', level: Number(token.tag.slice(1)), title: inlineText(tokens[t + 1]), line: start + 1 });
    } else if (token.type === 'html_block') {
      blocks.push(...checksIn(token.content, start + 1, file, ctx));
    } else if (token.type === 'inline' && token.children?.some((c) => c.type === 'html_inline')) {
      blocks.push(...checksIn(token.content, start + 1, file, ctx));
    } else if (token.type === 'fence') {
      const end = token.map?.[1] ?? start + 1;
      const closing = sourceLines[end - 1]?.replace(/^[\s>]*/, '').trim() ?? ''; // fences may sit in lists or quotes
      const closed = end - 1 > start && closing.startsWith(token.markup) && /^[`~]+$/.test(closing);
      if (!closed) {
        ctx.errors.push(
          err('E_TUTORIAL', file, start + 1, `code block opened with ${token.markup} is never closed: add a ${token.markup} line after its last line`),
        );
      }
      blocks.push({ kind: 'code', info: token.info, lines: contentLines(token.content, start + 2), line: start + 1 });
    } else if (token.type === 'code_block') {
      blocks.push({ kind: 'code', info: undefined, lines: contentLines(token.content, start + 1), line: start + 1 });
    }
  }
  return blocks;
}

// The plain text of a heading's inline token (code spans keep their text, markup goes).
function inlineText(token: Token | undefined): string {
  if (!token?.children) return token?.content.trim() ?? '';
  return token.children
    .map((c) => (c.type === 'text' || c.type === 'code_inline' ? c.content : c.type === 'softbreak' ? ' ' : ''))
    .join('')
    .trim();
}

// `<!-- checks: a.b, c.d -->`, `<!-- after: stage-id, … -->` and `<!-- installs: key, … -->` comments inside an HTML block or paragraph, at their own line.
function checksIn(content: string, firstLine: number, file: string, ctx: ParseContext): Block[] {
  const blocks: Block[] = [];
  for (const m of content.matchAll(CHECKS_COMMENT)) {
    const line = firstLine + content.slice(0, m.index).split('\n').length - 1;
    if (m[1] === 'variant' || m[1] === 'variants') {
      const text = (m[2] ?? '').trim();
      const v = VARIANT.exec(text);
      if (m[1] === 'variants' || !v) {
        ctx.errors.push(err('E_TUTORIAL', file, line, `"<!-- ${m[1]}: ${text} -->": write <!-- variant: NAME=VALUE --> (e.g. <!-- variant: storage=lvm -->, and "(default)" after the value for the one chosen when nothing chooses)`));
      } else blocks.push({ kind: 'variant', name: v[1]!, value: v[2]!, isDefault: !!v[3], line });
      continue;
    }
    if (m[1] === 'check' || m[1] === 'install') {
      ctx.errors.push(err('E_TUTORIAL', file, line, `"<!-- ${m[1]}: … -->" is not recognised: write <!-- ${m[1]}s: ${(m[2] ?? '').trim()} -->`));
      continue;
    }
    const ids = (m[2] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (m[1] === 'after') {
      if (ids.length === 0) ctx.errors.push(err('E_TUTORIAL', file, line, 'after comment names no stage: write e.g. <!-- after: keystone-on-auth-node --> (stage ids as `stackcheck plan` shows them)'));
      else blocks.push({ kind: 'after', ids, line });
      continue;
    }
    if (m[1] === 'installs') {
      if (ids.length === 0) ctx.errors.push(err('E_TUTORIAL', file, line, 'installs comment names nothing: write e.g. <!-- installs: keystone --> (what this stage installs; `stackcheck check --list` shows the keys)'));
      else blocks.push({ kind: 'installs', keys: ids, line });
      continue;
    }
    if (ids.length === 0) {
      ctx.errors.push(err('E_TUTORIAL', file, line, 'checks comment lists no checks: write e.g. <!-- checks: mysql.server, keystone.catalog -->'));
      continue;
    }
    const bad = ids.filter((id) => !CHECK_ID.test(id));
    for (const id of bad) {
      ctx.errors.push(err('E_TUTORIAL', file, line, `"${id}" is not a check id: ids are dotted names such as mysql.server, separated by commas`));
    }
    if (bad.length === 0) blocks.push({ kind: 'checks', ids, line });
  }
  return blocks;
}

// A code token's content as lines numbered from the first content line.
function contentLines(content: string, firstLine: number): SourceLine[] {
  const lines = content.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((text, k) => ({ text: text.replace(/\r$/, ''), line: firstLine + k }));
}

// Blocks → stages: `##` starts a stage; steps before the first `##` after a `#` heading (or the file start) go into
// an implicit stage named after that `#` heading (or the file name).
function toStages(blocks: Block[], file: string, ctx: ParseContext): { title?: string; stages: Stage[] } {
  const stages: Stage[] = [];
  let title: string | undefined;
  let current: Stage | undefined;
  let implicit = { title: basename(file, extname(file)), line: 1 };
  const draftSteps = new Map<Stage, DraftStep[]>();
  const open = (stageTitle: string, line: number): Stage => {
    const stage: Stage = { id: uniqueId(slugify(stageTitle), ctx.usedIds), title: stageTitle, checks: [], steps: [], loc: { file, line } };
    stages.push(stage);
    draftSteps.set(stage, []);
    return stage;
  };
  for (const block of blocks) {
    if (block.kind === 'heading') {
      if (block.level === 1) {
        title ??= block.title;
        implicit = { title: block.title, line: block.line };
        current = undefined;
      } else if (block.level === 2) {
        current = open(block.title, block.line);
      }
    } else if (block.kind === 'checks') {
      current ??= open(implicit.title, implicit.line);
      for (const id of block.ids) if (!current.checks.includes(id)) current.checks.push(id);
    } else if (block.kind === 'after') {
      current ??= open(implicit.title, implicit.line);
      if (current.after) ctx.errors.push(err('E_TUTORIAL', file, block.line, `stage "${current.id}" already has an after comment: list every stage it needs in one`));
      else current.after = { ids: block.ids, line: block.line };
    } else if (block.kind === 'variant') {
      current ??= open(implicit.title, implicit.line);
      if (current.variant) ctx.errors.push(err('E_TUTORIAL', file, block.line, `stage "${current.id}" already belongs to variant ${current.variant.name}=${current.variant.value} (line ${current.variant.line}): a stage belongs to one variant`));
      else if ((draftSteps.get(current) ?? []).length > 0) ctx.errors.push(err('E_TUTORIAL', file, block.line, `the variant comment of stage "${current.id}" comes after its first step: put it under the stage's heading`));
      else current.variant = { name: block.name, value: block.value, line: block.line, ...(block.isDefault ? { isDefault: true } : {}) };
    } else if (block.kind === 'installs') {
      current ??= open(implicit.title, implicit.line);
      if (current.installs) ctx.errors.push(err('E_TUTORIAL', file, block.line, `stage "${current.id}" already has an installs comment: list everything it installs in one`));
      else current.installs = { keys: block.keys, line: block.line };
    } else {
      const steps = stepsOf(block, file, ctx);
      if (steps.length === 0) continue;
      current ??= open(implicit.title, implicit.line);
      draftSteps.get(current)?.push(...steps);
    }
  }
  for (const stage of stages) {
    stage.steps = (draftSteps.get(stage) ?? []).map((s, n) => ({ ...s, id: `${stage.id}/${n + 1}`, stage: stage.id }) as Step);
  }
  return { ...(title !== undefined ? { title } : {}), stages };
}

// Every stage an `after` comment names must come earlier in the tutorial (a student reads it in order).
function checkAfter(stages: Stage[], ctx: ParseContext): void {
  const seen = new Set<string>();
  for (const stage of stages) {
    for (const id of stage.after?.ids ?? []) {
      if (seen.has(id)) continue;
      const later = stages.some((s) => s.id === id);
      const where = stage.after?.line ?? stage.loc.line;
      ctx.errors.push(
        err(
          'E_TUTORIAL',
          stage.loc.file,
          where,
          later
            ? `stage "${stage.id}" comes after "${id}" in its after comment, but "${id}" comes later in the tutorial (or is this stage): a stage can only wait for earlier ones`
            : `after: no stage "${id}" before this one; earlier stages: ${[...seen].join(', ') || '(none)'}`,
        ),
      );
    }
    seen.add(stage.id);
  }
}

/** A stable id from a heading: lower case, letters and digits, words joined by `-`. */
export function slugify(title: string): string {
  const slug = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9\s_-]/g, '')
    .trim()
    .replace(/[\s_-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return slug || 'stage';
}

// Same heading twice: the second id gets `-2`, the third `-3`.
function uniqueId(slug: string, used: Set<string>): string {
  let id = slug;
  for (let n = 2; used.has(id); n++) id = `${slug}-${n}`;
  used.add(id);
  return id;
}

// A code block → its steps: an annotated fence is one step; otherwise each prompt line is one; no prompt, no step.
function stepsOf(block: Extract<Block, { kind: 'code' }>, file: string, ctx: ParseContext): DraftStep[] {
  if (block.info !== undefined && isAnnotated(block.info)) return annotatedStep(block, file, ctx);
  const steps = promptSteps(block.lines, file, ctx);
  if (steps.length === 0) warnDisplayOnly(block, file, ctx);
  return steps;
}

// A block that runs nothing but looks like commands: a shell-language fence, or `$ cmd` lines without user@host.
function warnDisplayOnly(block: Extract<Block, { kind: 'code' }>, file: string, ctx: ParseContext): void {
  const lang = (block.info ?? '').trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  const bare = block.lines.find((l) => /^\s*\$ \S/.test(l.text));
  if (bare) {
    ctx.warnings.push({
      loc: { file, line: bare.line },
      message: '"$ command" names no host, so this block only shows commands: write the prompt as user@host:~$ (e.g. root@db-node:~#), or add host=ROLE to the fence',
    });
  } else if ((SHELL_LANGS as readonly string[]).includes(lang) && block.lines.some((l) => l.text.trim() !== '')) {
    ctx.warnings.push({
      loc: { file, line: block.line },
      message: `this \`${lang}\` block has no host= and no user@host prompt, so it only shows commands: add host=ROLE to run it`,
    });
  }
}

// ```` ```sh host=db-node ```` (one shell step) or ```` ```ini file=… host=… ```` (one file step).
function annotatedStep(block: Extract<Block, { kind: 'code' }>, file: string, ctx: ParseContext): DraftStep[] {
  const { spec, errors } = readFenceSpec(block.info ?? '');
  for (const e of errors) ctx.errors.push(err('E_TUTORIAL', file, block.line, e));
  if (!spec) return [];
  const content = block.lines.map((l) => l.text).join('\n');
  const base = {
    host: spec.host,
    loc: { file, line: block.line },
    bodyLine: block.line + 1,
    root: spec.user === undefined,
    ...(spec.user !== undefined ? { user: spec.user } : {}),
    ...(spec.timeoutMs !== undefined ? { timeoutMs: spec.timeoutMs } : {}),
    expectExit: spec.expectExit,
    retries: spec.retries,
    ...(spec.retryDelayMs !== undefined ? { retryDelayMs: spec.retryDelayMs } : {}),
  };
  if (spec.kind === 'file') {
    return [
      {
        ...base,
        kind: 'file',
        path: spec.path ?? '',
        mode: spec.mode ?? 'replace',
        content: block.lines.length > 0 ? `${content}\n` : '',
        ...(spec.fileMode !== undefined ? { fileMode: spec.fileMode } : {}),
        ...(spec.owner !== undefined ? { owner: spec.owner } : {}),
      },
    ];
  }
  if (content.trim() === '') {
    ctx.errors.push(err('E_TUTORIAL', file, block.line, `empty \`${spec.lang || 'sh'}\` block for host=${spec.host}: nothing to run`));
    return [];
  }
  const prompted = block.lines.find((l) => parsePrompt(l.text));
  if (prompted) {
    ctx.errors.push(
      err(
        'E_TUTORIAL',
        file,
        prompted.line,
        `line starts with a shell prompt inside an annotated block (host=${spec.host}): the whole block runs as written, ` +
          'so remove the prompt, or drop the options and write the block in prompt style',
      ),
    );
    return [];
  }
  return [{ ...base, kind: 'shell', command: content }];
}

// Prompt style: one step per prompt line, with its continuations, here-documents, interactive input and output.
function promptSteps(lines: SourceLine[], file: string, ctx: ParseContext): DraftStep[] {
  const { commands, problems } = readTranscript(lines);
  for (const p of problems) ctx.errors.push(err('E_TUTORIAL', file, p.line, p.message));
  return commands.map((c) => ({
    kind: 'shell' as const,
    host: c.prompt.host,
    loc: { file, line: c.line },
    bodyLine: c.line,
    root: c.prompt.root,
    expectExit: [0],
    retries: 0,
    command: c.command,
    ...(c.input.length > 0 ? { input: c.input.map((l) => `${l.text}\n`).join(''), inputLines: c.input.map((l) => l.line) } : {}),
    ...(c.output.length > 0 ? { output: c.output.join('\n') } : {}),
  }));
}

function err(code: 'E_TUTORIAL', file: string, line: number, message: string): StackcheckError {
  return new StackcheckError(code, message, { location: { file, line } });
}
