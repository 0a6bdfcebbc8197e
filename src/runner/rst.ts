// reStructuredText read as Markdown: rewrites, line for line, the few rst constructs that markdown-it would
// misread, so that a .rst tutorial goes through the same Markdown pipeline with the same line numbers.
//  - section titles (underlined, or over- and underlined) become `#`…`######` headings; the adornment styles get
//    levels in order of first appearance, as in rst (the first style is the document title, the second `##`);
//  - comments (`.. text` and their indented body), targets, footnotes, substitutions and directive lines are blanked,
//    except a comment `.. checks: a.b, c.d` (or `.. after: …`, `.. installs: …`), which becomes `<!-- checks: a.b, c.d -->`;
//  - a paragraph ending in `::` loses one colon, and the literal block after it is indented enough for markdown-it
//    to read it as an indented code block (also inside list items); `.. code-block::` bodies are literal blocks too.

const ADORNMENT = /^([!-/:-@[-`{-~])\1{2,}\s*$/;
const LIST_MARKER = /^(\s*)(?:[-*+•]|\d+[.)]|[A-Za-z][.)]|\(\d+\)|#\.)\s+/;
const CODE_DIRECTIVES = new Set(['code-block', 'code', 'sourcecode']);

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

function isBlank(line: string | undefined): boolean {
  return line === undefined || line.trim() === '';
}

/** Converts rst text to Markdown text with exactly the same number of lines. */
export function rstToMarkdown(text: string): string {
  const lines = text.split(/\r?\n/);
  const out = [...lines];
  const styles: string[] = [];
  const levelOf = (style: string): number => {
    if (!styles.includes(style)) styles.push(style);
    return Math.min(styles.indexOf(style) + 1, 6);
  };
  let prevBlank = true;
  let literal: { parentIndent: number; contentIndent: number; start: number } | undefined;
  let literalCandidate: { parentIndent: number; contentIndent: number } | undefined;
  let comment: { indent: number } | undefined;
  let i = 0;

  // Shifts a finished literal block right so that markdown-it sees an indented code block.
  const closeLiteral = (end: number): void => {
    if (!literal) return;
    const body = lines.slice(literal.start, end).filter((l) => !isBlank(l));
    const min = body.map(indentOf).reduce((a, b) => Math.min(a, b), Infinity);
    const shift = Math.max(0, literal.contentIndent + 4 - min);
    for (let k = literal.start; k < end; k++) if (!isBlank(lines[k])) out[k] = ' '.repeat(shift) + (lines[k] ?? '');
    literal = undefined;
  };

  while (i < lines.length) {
    const line = lines[i] ?? '';
    if (literal) {
      if (isBlank(line) || indentOf(line) > literal.parentIndent) {
        prevBlank = isBlank(line);
        i++;
        continue;
      }
      closeLiteral(i);
    }
    if (comment) {
      if (isBlank(line) || indentOf(line) > comment.indent) {
        prevBlank = isBlank(line);
        out[i] = '';
        i++;
        continue;
      }
      comment = undefined;
    }
    if (isBlank(line)) {
      prevBlank = true;
      i++;
      continue;
    }
    if (literalCandidate) {
      if (indentOf(line) > literalCandidate.parentIndent) {
        literal = { ...literalCandidate, start: i };
        literalCandidate = undefined;
        continue;
      }
      literalCandidate = undefined;
    }
    const markup = /^(\s*)\.\.(?:\s+(.*))?$/.exec(line);
    if (markup && prevBlank) {
      const indent = (markup[1] ?? '').length;
      const rest = (markup[2] ?? '').trim();
      const directive = /^([\w-]+(?::[\w-]+)*)::/.exec(rest);
      if (directive && CODE_DIRECTIVES.has(directive[1] ?? '')) {
        out[i] = '';
        i++;
        while (i < lines.length && /^\s+:[\w-]+:/.test(lines[i] ?? '')) out[i++] = '';
        literalCandidate = { parentIndent: indent, contentIndent: indent };
        prevBlank = false;
        continue;
      }
      if (directive) {
        out[i] = ''; // the directive line; its body stays and reads as text
      } else if (/^(checks|after|installs)\s*:/i.test(rest)) {
        out[i] = `<!-- ${rest} -->`;
      } else {
        out[i] = '';
        comment = { indent };
      }
      prevBlank = false;
      i++;
      continue;
    }
    if (indentOf(line) === 0) {
      const next = lines[i + 1];
      const after = lines[i + 2];
      if (ADORNMENT.test(line) && !isBlank(next) && after !== undefined && ADORNMENT.test(after) && after[0] === line[0]) {
        out[i] = '';
        out[i + 1] = `${'#'.repeat(levelOf(`over${line[0]}`))} ${(next ?? '').trim()}`;
        out[i + 2] = '';
        i += 3;
        prevBlank = false;
        continue;
      }
      if (!ADORNMENT.test(line) && prevBlank && next !== undefined && ADORNMENT.test(next)) {
        const title = line.trim();
        if (next.trim().length >= Math.min(3, title.length)) {
          out[i] = `${'#'.repeat(levelOf(`under${next[0]}`))} ${title}`;
          out[i + 1] = '';
          i += 2;
          prevBlank = false;
          continue;
        }
      }
      if (ADORNMENT.test(line)) {
        out[i] = ''; // a transition; Markdown would read it as a rule or a setext underline
        prevBlank = true;
        i++;
        continue;
      }
    }
    if (/::\s*$/.test(line)) {
      out[i] = /^\s*::\s*$/.test(line) ? '' : line.replace(/\s*::\s*$/, (m) => (/^\s/.test(m) ? '' : ':'));
      const marker = LIST_MARKER.exec(line);
      const textIndent = marker ? marker[0].length : indentOf(line);
      literalCandidate = { parentIndent: textIndent, contentIndent: textIndent };
    }
    prevBlank = false;
    i++;
  }
  closeLiteral(lines.length);
  return out.join('\n');
}
