// Prompt-style transcripts: which lines are commands typed at a shell prompt naming a host, which belong to the
// command (continuations, here-documents, lines typed at an interactive program's prompt), and which are output.

/** A shell prompt recognised at the start of a line. */
export interface Prompt {
  user: string;
  /** The host part of the prompt: the role. */
  host: string;
  /** `#` prompt (root) or `$` prompt (the SSH user). */
  root: boolean;
  /** What follows the prompt (may be empty: a bare prompt). */
  rest: string;
}

const USER = String.raw`[A-Za-z_][A-Za-z0-9_.-]*`;
const HOST = String.raw`[A-Za-z0-9][A-Za-z0-9_.-]*`;
// Optional virtualenv / conda prefix: `(tutorial)root@host…`.
const ENV_PREFIX = String.raw`(?:\([^()\s]*\)\s?)?`;
// `user@host` + optional `:path`, `:[path]` or ` path` + optional space + `#`/`$` + space (or end of line).
const PLAIN_PROMPT = new RegExp(
  String.raw`^${ENV_PREFIX}(${USER})@(${HOST})(?::\[[^\]\s]*\]|:[^\s#$]*|\s+[~/][^\s#$]*)?\s?([#$])(?:\s+(.*))?$`,
);
// `[user@host path]#` (Red Hat style).
const BRACKET_PROMPT = new RegExp(String.raw`^${ENV_PREFIX}\[(${USER})@(${HOST})(?:\s+[^\]]*)?\]\s?([#$])(?:\s+(.*))?$`);

// The same shapes with any characters in the user and host names: a line that matches these but not the prompts
// above looks like a prompt whose role has characters a role cannot have (`root@db-nöde:~#`). It must not pass as
// output: that would drop a step without a word.
const ANY_NAME = String.raw`[^\s@:#$\[\]()]+`;
const LOOSE_PROMPTS = [
  new RegExp(String.raw`^${ENV_PREFIX}(${ANY_NAME})@(${ANY_NAME})(?::\[[^\]\s]*\]|:[^\s#$]*|\s+[~/][^\s#$]*)?\s?([#$])(?:\s+(.*))?$`, 'u'),
  new RegExp(String.raw`^${ENV_PREFIX}\[(${ANY_NAME})@(${ANY_NAME})(?:\s+[^\]]*)?\]\s?([#$])(?:\s+(.*))?$`, 'u'),
];

/** Why a line that looks like a prompt is not one (a user or host name with characters outside ASCII), if it is such a line. */
export function suspectPrompt(line: string): string | undefined {
  if (parsePrompt(line)) return undefined;
  for (const re of LOOSE_PROMPTS) {
    const m = re.exec(line.trimEnd());
    if (!m) continue;
    const [user, host] = [m[1] ?? '', m[2] ?? ''];
    // eslint-disable-next-line no-control-regex
    const odd = [user, host].find((n) => /[^\x00-\x7f]/.test(n));
    if (odd === undefined) return undefined;
    const what = odd === host ? `host "${host}"` : `user "${user}"`;
    return `"${line.trim().slice(0, 60)}" looks like a prompt, but its ${what} has characters a role or user name cannot have (ASCII letters, digits, ".", "_" and "-"): write the role as the inventory names it, or the line would be read as output`;
  }
  return undefined;
}

/** Recognises a shell prompt at the very start of a line; output lines that merely contain `#` or `$` do not match. */
export function parsePrompt(line: string): Prompt | undefined {
  const m = PLAIN_PROMPT.exec(line.trimEnd()) ?? BRACKET_PROMPT.exec(line.trimEnd());
  if (!m) return undefined;
  return { user: m[1] ?? '', host: (m[2] ?? '').replace(/\.+$/, ''), root: m[3] === '#', rest: (m[4] ?? '').trim() };
}

// Lines typed at an interactive program's own prompt: `mysql> `, `MariaDB [(none)]> `, `sqlite> `, `virsh # `,
// PostgreSQL's `keystone=> ` / `postgres=# `, Python's `>>> `.
const INTERACTIVE_PROMPT = /^(?:[A-Za-z][\w.-]*(?: \[[^\]]*\])?> |virsh # |[\w-]+=[#>] |>>> )(.*)$/;
// Continuation of the previous interactive line: mysql's `    -> `, PostgreSQL's `keystone-> `, Python's `... `.
const INTERACTIVE_CONTINUATION = /^(?:\s*-> |[\w-]+-[>#] |\.\.\. )(.*)$/;

/** The text typed at an interactive program's prompt, or undefined when the line is not such a line. */
export function parseInteractive(line: string, afterInput: boolean): string | undefined {
  const m = INTERACTIVE_PROMPT.exec(line);
  if (m) return (m[1] ?? '').trimEnd();
  if (afterInput) {
    const c = INTERACTIVE_CONTINUATION.exec(line);
    if (c) return (c[1] ?? '').trimEnd();
  }
  return undefined;
}

/** A here-document opened on a command line (`<<EOF`, `<<'EOF'`, `<<-EOF`). */
export interface HereDoc {
  delimiter: string;
  /** `<<-`: leading tabs are stripped from body lines and the delimiter line. */
  stripTabs: boolean;
}

/** Shell lexing state carried from one physical line to the next. */
export interface ShellLineState {
  /** Open quote at the end of the line ('' when none). */
  quote: '' | "'" | '"';
  /** Open compound commands (`if`…`fi`, `for`/`while`/`until`…`done`, `case`…`esac`). */
  depth: number;
  /** The next word is in command position (where keywords count). */
  cmdPos: boolean;
}

/** The state at the start of a command. */
export const SHELL_START: ShellLineState = { quote: '', depth: 0, cmdPos: true };

/** What one physical line contributes: whether the command goes on, and here-documents it opens. */
export interface ShellLineScan {
  state: ShellLineState;
  /** Ends with an unquoted `\`, `|`, `&&` or `||`: the next line continues the command. */
  continued: boolean;
  heredocs: HereDoc[];
}

const OPENERS = new Set(['if', 'for', 'while', 'until', 'case', 'select']);
const CLOSERS = new Set(['fi', 'done', 'esac']);
// After these keywords the next word is again a command.
const COMMAND_AFTER = new Set(['then', 'do', 'else', 'elif', 'if', 'while', 'until', '!', '{', 'time']);
const OPERATOR = /[;&|()]/;

// Just enough shell lexing to know where a command ends: quotes, backslash-newline, trailing pipes, comments,
// compound commands spanning lines, here-document operators.
export function scanShellLine(line: string, before: ShellLineState): ShellLineScan {
  let { quote, depth, cmdPos } = before;
  const heredocs: HereDoc[] = [];
  let i = 0;
  let lastToken = '';
  while (i < line.length) {
    const c = line[i] ?? '';
    if (quote === "'") {
      if (c === "'") quote = '';
      i++;
      continue;
    }
    if (quote === '"') {
      if (c === '\\') {
        if (i === line.length - 1) return { state: { quote, depth, cmdPos }, continued: true, heredocs };
        i += 2;
        continue;
      }
      if (c === '"') quote = '';
      i++;
      continue;
    }
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '#') break; // at a word start: a comment runs to the end of the line
    if (c === '<' && line.startsWith('<<<', i)) {
      i += 3; // here-string, not a here-document
      lastToken = '<<<';
      continue;
    }
    if (c === '<' && line[i + 1] === '<') {
      const m = /^<<(-?)\s*(?:'([^']+)'|"([^"]+)"|\\?([A-Za-z0-9_.-]+))/.exec(line.slice(i));
      if (m) {
        heredocs.push({ delimiter: m[2] ?? m[3] ?? m[4] ?? '', stripTabs: m[1] === '-' });
        i += m[0].length;
        lastToken = 'heredoc';
        cmdPos = false;
        continue;
      }
    }
    if (OPERATOR.test(c)) {
      const op = /^(;;|&&|\|\||[;&|()])/.exec(line.slice(i))?.[0] ?? c;
      i += op.length;
      lastToken = op;
      cmdPos = true;
      continue;
    }
    // a word: up to whitespace or an operator, honouring quotes and escapes inside it
    let word = '';
    let plain = true;
    while (i < line.length) {
      const w = line[i] ?? '';
      if (quote === '') {
        if (w === ' ' || w === '\t' || OPERATOR.test(w) || (w === '<' && line[i + 1] === '<')) break;
        if (w === '\\') {
          if (i === line.length - 1) {
            if (plain && cmdPos) depth += keywordDelta(word);
            return { state: { quote, depth, cmdPos: false }, continued: true, heredocs };
          }
          word += line[i + 1] ?? '';
          plain = false;
          i += 2;
          continue;
        }
        if (w === "'" || w === '"') {
          quote = w;
          plain = false;
          i++;
          continue;
        }
        word += w;
        i++;
      } else if (quote === "'") {
        if (w === "'") quote = '';
        else word += w;
        i++;
      } else {
        if (w === '\\' && i < line.length - 1) {
          word += line[i + 1] ?? '';
          i += 2;
          continue;
        }
        if (w === '\\') return { state: { quote, depth, cmdPos: false }, continued: true, heredocs };
        if (w === '"') quote = '';
        else word += w;
        i++;
      }
    }
    if (quote !== '') break; // the quote stays open to the next line
    if (plain && cmdPos) depth += keywordDelta(word);
    cmdPos = plain && COMMAND_AFTER.has(word) && cmdPos;
    lastToken = word;
  }
  const continued = quote === '' && (lastToken === '|' || lastToken === '&&' || lastToken === '||');
  if (quote === '' && depth > 0) cmdPos = true; // a newline inside a compound command ends a simple command
  return { state: { quote, depth: Math.max(0, depth), cmdPos: quote === '' ? true : cmdPos }, continued, heredocs };
}

// +1 for a keyword that opens a compound command, -1 for one that closes it.
function keywordDelta(word: string): number {
  if (OPENERS.has(word)) return 1;
  if (CLOSERS.has(word)) return -1;
  return 0;
}

// The shell's continuation prompt in a transcript.
const PS2 = /^> /;

/** One line of a code block with its 1-based source line. */
export interface SourceLine {
  text: string;
  line: number;
}

/** A command found in a transcript, before it becomes a step. */
export interface TranscriptCommand {
  prompt: Prompt;
  /** Source line of the prompt. */
  line: number;
  command: string;
  input: SourceLine[];
  output: string[];
}

/** A problem found while reading a transcript, at a source line. */
export interface TranscriptProblem {
  line: number;
  message: string;
}

/** True when at least one line of the block starts with a host prompt. */
export function hasPrompt(lines: SourceLine[]): boolean {
  return lines.some((l) => parsePrompt(l.text) !== undefined || suspectPrompt(l.text) !== undefined);
}

// Splits a prompt-style block into commands: prompt line + continuations + here-documents, then interactive input
// lines and output lines up to the next prompt. Lines before the first prompt are display only.
export function readTranscript(block: SourceLine[]): { commands: TranscriptCommand[]; problems: TranscriptProblem[] } {
  const lines = dedent(block);
  const commands: TranscriptCommand[] = [];
  const problems: TranscriptProblem[] = [];
  let current: TranscriptCommand | undefined;
  let afterInput = false;
  let i = 0;
  while (i < lines.length) {
    const { text, line } = lines[i] as SourceLine;
    const prompt = parsePrompt(text);
    const suspect = prompt ? undefined : suspectPrompt(text);
    if (suspect) problems.push({ line, message: suspect });
    if (prompt) {
      current = undefined;
      afterInput = false;
      i++;
      if (prompt.rest === '') continue; // a bare prompt: nothing typed
      const read = readCommand(prompt.rest, lines, i, line);
      problems.push(...read.problems);
      i = read.next;
      current = { prompt, line, command: read.command, input: [], output: [] };
      commands.push(current);
      continue;
    }
    i++;
    if (!current) continue;
    const typed = parseInteractive(text, afterInput);
    if (typed !== undefined) {
      current.input.push({ text: typed, line });
      afterInput = true;
    } else if (text.trim() === '') {
      current.output.push('');
    } else {
      current.output.push(text);
      afterInput = false;
    }
  }
  for (const c of commands) trimBlankEdges(c.output);
  return { commands, problems };
}

// Reads one command starting with the text after the prompt: `\` continuations, open quotes, compound commands,
// trailing pipes and here-document bodies. Continuation lines shown with the shell's `> ` prompt lose it.
function readCommand(
  first: string,
  lines: SourceLine[],
  start: number,
  promptLine: number,
): { command: string; next: number; problems: TranscriptProblem[] } {
  const problems: TranscriptProblem[] = [];
  const parts: string[] = [];
  let state: ShellLineState = SHELL_START;
  let pending: HereDoc[] = [];
  let text = first.trimEnd();
  let i = start;
  for (;;) {
    const scan = scanShellLine(text, state);
    parts.push(text);
    state = scan.state;
    pending.push(...scan.heredocs);
    const inQuote = state.quote !== '';
    const continues = scan.continued || inQuote || state.depth > 0;
    if (!inQuote && !scan.continued && pending.length > 0) {
      for (const doc of pending) {
        const body = readHereDoc(doc, lines, i);
        for (const l of body.lines) parts.push(l); // (not push(...): a here-doc may have 100,000 lines)
        i = body.next;
        if (!body.closed) {
          problems.push({
            line: promptLine,
            message:
              `here-document <<${doc.delimiter} is not closed: no line "${doc.delimiter}" before the end of the code block` +
              (body.nearMiss ? ` (line ${body.nearMiss} has it indented; the delimiter must start the line, or use <<-)` : ''),
          });
        }
      }
      pending = [];
    }
    if (!continues) break;
    const next = lines[i];
    if (!next || parsePrompt(next.text)) {
      const what = inQuote
        ? `unterminated ${state.quote} quote`
        : state.depth > 0
          ? 'unfinished compound command (a for/while/until needs "done", an if "fi", a case "esac")'
          : undefined;
      if (what) problems.push({ line: promptLine, message: `${what}: the command does not end before the ${next ? 'next prompt' : 'end of the code block'}` });
      break;
    }
    const raw = next.text.replace(PS2, '');
    text = inQuote ? raw : raw.trimEnd();
    i++;
  }
  return { command: parts.join('\n'), next: i, problems };
}

// A here-document body runs up to the line that is exactly the delimiter (after leading tabs for `<<-`).
function readHereDoc(
  doc: HereDoc,
  lines: SourceLine[],
  start: number,
): { lines: string[]; next: number; closed: boolean; nearMiss?: number } {
  const body: string[] = [];
  let nearMiss: number | undefined;
  const ps2 = PS2.test((lines[start] as SourceLine | undefined)?.text ?? '');
  for (let i = start; i < lines.length; i++) {
    const raw = ps2 ? (lines[i] as SourceLine).text.replace(PS2, '') : (lines[i] as SourceLine).text;
    const cmp = (doc.stripTabs ? raw.replace(/^\t+/, '') : raw).replace(/\r$/, '');
    body.push(raw);
    if (cmp === doc.delimiter) return { lines: body, next: i + 1, closed: true };
    if (nearMiss === undefined && raw.trim() === doc.delimiter) nearMiss = (lines[i] as SourceLine).line;
  }
  return { lines: body, next: lines.length, closed: false, nearMiss };
}

function trimBlankEdges(lines: string[]): void {
  while (lines.length > 0 && (lines[0] ?? '').trim() === '') lines.shift();
  while (lines.length > 0 && (lines[lines.length - 1] ?? '').trim() === '') lines.pop();
}

// Removes the indentation common to every non-blank line, so prompts indented inside a code block still start a line.
function dedent(lines: SourceLine[]): SourceLine[] {
  const indents = lines.filter((l) => l.text.trim() !== '').map((l) => l.text.length - l.text.trimStart().length);
  // (reduce, not Math.min(...): a 130,000-line block would overflow the call stack)
  const common = indents.length > 0 ? indents.reduce((a, b) => Math.min(a, b)) : 0;
  return common === 0 ? lines : lines.map((l) => ({ text: l.text.slice(Math.min(common, l.text.length - l.text.trimStart().length)), line: l.line }));
}
