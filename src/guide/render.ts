// Markdown → text for a terminal, with marked and marked-terminal. A few gaps of marked-terminal 7 with current
// marked are filled here, each where it is patched: inline Markdown in tight list items, lists (nested ones were
// renumbered), reflow inside lists and block quotes, table widths, code blocks and links (never OSC 8 hyperlinks)
// that follow `color`, HTML blocks, and `{{ VAR }}` placeholders kept on one line.
import { stripVTControlCharacters } from 'node:util';
import { Marked, type MarkedExtension, type Token, type Tokens } from 'marked';
import { markedTerminal, type TerminalRendererOptions } from 'marked-terminal';
import pc from 'picocolors';
import wrapAnsi from 'wrap-ansi';

export interface RenderOptions {
  /** Columns to reflow prose to. Code block lines are shown as written, never wrapped (commands stay copyable). */
  width: number;
  /** ANSI styling; without it the output holds no escape sequence at all. */
  color: boolean;
}

/** Indentation of code blocks, block quotes and list levels. */
const TAB = 2;
/** Narrowest width rendered for; below it lines would hold a word or two. */
const MIN_WIDTH = 20;
/** marked-terminal writes `:` in code spans as this until the enclosing block is done (so emoji codes skip them). */
const COLON_PLACEHOLDER = '*#COLON|*';
/** `{{ VAR }}` with the spaces inside made no-break spaces, so that reflowing never splits it. */
const PLACEHOLDER = /\{\{([ \u00a0]*)([A-Za-z_][A-Za-z0-9_]*)([ \u00a0]*)\}\}/g;
const NBSP = '\u00a0';

/** Renders Markdown for a terminal `width` columns wide. A new renderer each call: no state is shared. */
export function renderMarkdown(markdown: string, opts: RenderOptions): string {
  const width = Math.max(MIN_WIDTH, Math.floor(opts.width));
  const c = pc.createColors(opts.color);
  const style = (...fs: Array<(s: string) => string>) => (s: string) => fs.reduceRight((acc, f) => f(acc), s);
  const plain = (s: string) => s;
  const styles = {
    code: style(c.yellow),
    blockquote: style(c.gray, c.italic),
    html: style(c.gray),
    heading: style(c.green, c.bold),
    firstHeading: style(c.magenta, c.underline, c.bold),
    hr: plain,
    listitem: plain,
    table: plain,
    paragraph: plain,
    strong: style(c.bold),
    em: style(c.italic),
    codespan: style(c.yellow),
    del: style(c.dim, c.gray, c.strikethrough),
    link: style(c.blue),
    href: style(c.blue, c.underline),
  } satisfies TerminalRendererOptions;
  // Read by cli-table3 when marked-terminal draws a table; `colWidths` is set per table below.
  const tableOptions: { colWidths: number[]; wordWrap: boolean; style?: { head: string[]; border: string[] } } = {
    colWidths: [],
    wordWrap: true,
    ...(opts.color ? {} : { style: { head: [], border: [] } }),
  };
  const terminal = markedTerminal({ ...styles, width, reflowText: true, emoji: false, tab: TAB, showSectionPrefix: true, tableOptions });

  // Columns left for the paragraphs and texts of list items and block quotes: marked-terminal reflows them to the
  // full width and indents them afterwards.
  const inner = new Map<Token, number>();
  const wrap = (text: string, columns: number): string =>
    text
      .split(COLON_PLACEHOLDER)
      .join(':')
      .split('\r') // a hard line break, as marked-terminal writes it when reflowing
      .map((part) => wrapAnsi(part.replace(/\s*\n\s*/g, ' '), Math.max(MIN_WIDTH / 2, columns), { hard: true, trim: true }))
      .join('\n');

  const fixes: MarkedExtension = {
    renderer: {
      // marked-terminal renders a tight list item's text token as its raw Markdown (mikaelbr/marked-terminal#304):
      // render its inline tokens.
      text(token) {
        if (!('tokens' in token) || !token.tokens) return false;
        const text = unescapeEntities(this.parser.parseInline(token.tokens));
        const columns = inner.get(token);
        return columns === undefined ? text : wrap(text, columns);
      },
      paragraph(token) {
        const columns = inner.get(token);
        if (columns === undefined) return false;
        return `${styles.paragraph(wrap(unescapeEntities(this.parser.parseInline(token.tokens)), columns))}\n\n`;
      },
      // marked-terminal numbers a nested bullet list as items of an enclosing ordered list, and indents the lines of
      // nested items oddly: each item is its marker, then its blocks indented under it; the list is indented by TAB.
      list(token) {
        const first = token.ordered && typeof token.start === 'number' ? token.start : 1;
        const markers = token.items.map((_item, i) => (token.ordered ? `${first + i}. ` : '* '));
        const size = Math.max(...markers.map((m) => m.length));
        const items = token.items.map((item, i) => {
          const blocks: string[] = [];
          let checkbox = '';
          for (const block of item.tokens) {
            const text = this.parser.parse([block]).replace(/^\n+|\s+$/g, '');
            if (block.type === 'checkbox') checkbox = `${text} `;
            else if (text !== '') blocks.push(checkbox + text);
            if (block.type !== 'checkbox') checkbox = '';
          }
          const body = blocks.join(item.loose ? '\n\n' : '\n');
          const lines = body.split('\n').map((l, n) => (n === 0 ? (markers[i] ?? '').padEnd(size) : l === '' ? '' : ' '.repeat(size)) + l);
          return styles.listitem(lines.join('\n'));
        });
        const text = items.join(token.loose ? '\n\n' : '\n');
        return `${text.replace(/^(?=.)/gm, ' '.repeat(TAB))}\n\n`;
      },
      // Code as written, indented by TAB, styled only with `color`: marked-terminal highlights with highlight.js when
      // the global chalk sees a colour terminal, which ignores this call's `color` and warns on stderr about every
      // annotated fence (`sh host=db-node` is not a language).
      code(token) {
        const lines = token.text.replace(/\n+$/, '').split('\n');
        return `${lines.map((l) => (l === '' ? '' : ' '.repeat(TAB) + styles.code(stripVTControlCharacters(l)))).join('\n')}\n\n`;
      },
      // An HTML block as written, then a blank line (marked-terminal runs it into the next block).
      html(token) {
        if (!token.block) return false;
        return `${styles.html(stripVTControlCharacters(token.text).trimEnd())}\n\n`;
      },
      // `label (url)`; marked-terminal writes an OSC 8 hyperlink when it guesses that stdout supports them.
      link(token) {
        const label = this.parser.parseInline(token.tokens);
        const href = styles.href(token.href);
        const same = stripVTControlCharacters(label) === token.href || token.href === `mailto:${stripVTControlCharacters(label)}`;
        return styles.link(same ? href : `${label} (${href})`);
      },
      // cli-table3 sizes columns to their content and wraps only columns of a given width: give every column its
      // content's width, taking from the widest ones until the table fits.
      table(token) {
        tableOptions.colWidths = tableWidths(token, width, (tokens) => this.parser.parseInline(tokens));
        return false;
      },
    },
  };

  const marked = new Marked(terminal as unknown as MarkedExtension, fixes);
  const tokens = marked.lexer(markdown.replace(PLACEHOLDER, (m) => m.replaceAll(' ', NBSP)));
  measureContainers(tokens, width, false, inner);
  const out =
    marked
      .parser(tokens)
      .replace(PLACEHOLDER, (m) => m.replaceAll(NBSP, ' '))
      .replace(/^\n+/, '')
      .trimEnd() + '\n';
  // Styling goes through `styles` (and cli-table3's, turned off above); this also catches escape sequences written
  // in the Markdown itself.
  return opts.color ? out : stripVTControlCharacters(out);
}

// Records the columns left for paragraphs and texts inside list items (indented by TAB and the marker, as `list`
// draws them) and block quotes (indented by TAB), nested ones included.
function measureContainers(tokens: Token[], columns: number, inside: boolean, inner: Map<Token, number>): void {
  for (const token of tokens) {
    if (inside && (token.type === 'paragraph' || token.type === 'text')) inner.set(token, columns);
    if (token.type === 'list') {
      const list = token as Tokens.List;
      const first = list.ordered && typeof list.start === 'number' ? list.start : 1;
      const marker = list.ordered ? `${first + list.items.length - 1}. `.length : 2;
      for (const item of list.items) measureContainers(item.tokens, columns - TAB - marker, true, inner);
    } else if (token.type === 'blockquote') {
      measureContainers((token as Tokens.Blockquote).tokens, columns - TAB, true, inner);
    }
  }
}

// Column widths (padding included) for cli-table3 so that the table, borders included, fits `width` if it can.
function tableWidths(token: Tokens.Table, width: number, inline: (tokens: Token[]) => string): number[] {
  const cellWidth = (cell: Tokens.TableCell): number =>
    Math.max(0, ...stripVTControlCharacters(inline(cell.tokens).split(COLON_PLACEHOLDER).join(':')).split('\n').map((l) => l.length));
  const widths = token.header.map((h, i) => Math.max(cellWidth(h), ...token.rows.map((r) => (r[i] ? cellWidth(r[i]) : 0))) + 2);
  const room = width - (widths.length + 1);
  const narrowest = 6;
  while (widths.reduce((a, b) => a + b, 0) > room) {
    const widest = widths.indexOf(Math.max(...widths));
    if ((widths[widest] ?? 0) <= narrowest) break;
    widths[widest] = (widths[widest] ?? 0) - 1;
  }
  return widths;
}

// What marked-terminal undoes in the blocks it renders itself: marked escapes text for HTML.
function unescapeEntities(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (_m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e] ?? _m);
}
