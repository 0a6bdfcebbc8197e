// The Markdown of one tutorial stage, as `stackcheck guide` shows it: the text under the stage's heading, without
// the machine comments (`<!-- checks: … -->`, `<!-- installs: … -->`, `<!-- after: … -->`).
import { readFile } from 'node:fs/promises';
import MarkdownIt from 'markdown-it';
import type { Token } from 'markdown-it';
import { StackcheckError } from '../error.js';
import { documentMarkdown } from '../runner/parse.js';
import type { Tutorial } from '../runner/types.js';

const md = new MarkdownIt({ html: true });
// A code span (kept: it may show a comment as an example), a line holding only a comment, or a comment in a line
// (with the blanks before it).
const COMMENT = /(`+)[\s\S]*?\1|^[ \t]*<!--[\s\S]*?-->[ \t]*(?:\n|$)|[ \t]*<!--[\s\S]*?-->/gm;

/**
 * The Markdown text of a stage: from the line after its heading up to the next `##` heading of its file (or `#`
 * heading: the parser ends a stage there too), or the end of the file. HTML comments
 * outside code blocks are removed; everything else, code fences included, is kept as written.
 */
export async function stageMarkdown(tutorial: Tutorial, stageId: string): Promise<string> {
  const stage = tutorial.stages.find((s) => s.id === stageId);
  if (!stage) {
    throw new StackcheckError('E_ARGS', `no stage "${stageId}" in ${tutorial.source}`, {
      hint: `stages: ${tutorial.stages.map((s) => s.id).join(', ') || '(none)'}`,
    });
  }
  const { file, line } = stage.loc;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new StackcheckError('E_TUTORIAL', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  // The parser reads `.rst` as Markdown rewritten line for line, so its line numbers hold for the rewritten text.
  const markdown = documentMarkdown(file, text);
  const lines = markdown.split(/\r?\n/);
  const tokens = md.parse(markdown, {});
  const headings = tokens.filter((t) => t.type === 'heading_open' && (t.tag === 'h1' || t.tag === 'h2') && t.map);
  // A stage opened by a heading starts after it; an implicit stage at the top of a headingless file starts at line 1.
  const own = headings.find((t) => startOf(t) === line - 1);
  const from = own ? (own.map?.[1] ?? line) : line - 1;
  const next = headings.find((t) => startOf(t) >= from);
  const to = next ? startOf(next) : lines.length;
  return withoutComments(lines, from, to, tokens).join('\n').replace(/^\s*\n/, '').trimEnd();
}

/** The explanation a stage opens with: its Markdown before the first code block (all of it if there is none). */
export function stageIntro(markdown: string): string {
  const code = md.parse(markdown, {}).find((t) => (t.type === 'fence' || t.type === 'code_block') && t.map);
  if (!code) return markdown.trim();
  const lines = markdown.split(/\r?\n/).slice(0, code.map?.[0] ?? 0);
  // A heading right before the code block titles what follows it, not the explanation.
  while (lines.length > 0 && /^\s*(#{1,6}\s|$)/.test(lines[lines.length - 1] ?? '')) lines.pop();
  return lines.join('\n').trim();
}

function startOf(token: Token): number {
  return token.map?.[0] ?? -1;
}

// Lines [from, to) with HTML comments removed outside code blocks; a line that held only comments goes, and so does
// a blank line it leaves doubled.
function withoutComments(lines: string[], from: number, to: number, tokens: Token[]): string[] {
  const code = new Set<number>();
  for (const t of tokens) {
    if ((t.type === 'fence' || t.type === 'code_block') && t.map) for (let i = t.map[0]; i < t.map[1]; i++) code.add(i);
  }
  const out: string[] = [];
  let prose: string[] = [];
  const flush = (): void => {
    if (prose.length === 0) return;
    const kept = prose
      .join('\n')
      .replace(COMMENT, (m) => (m.startsWith('`') ? m : ''))
      .split('\n');
    for (const l of kept) if (!(l.trim() === '' && out.length > 0 && out[out.length - 1]?.trim() === '')) out.push(l);
    prose = [];
  };
  for (let i = from; i < to; i++) {
    if (code.has(i)) {
      flush();
      out.push(lines[i] ?? '');
    } else {
      prose.push(lines[i] ?? '');
    }
  }
  flush();
  return out;
}
