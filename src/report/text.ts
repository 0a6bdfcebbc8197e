// Remote output made safe to store and show: control characters neutralised, huge outputs cut with a note.

/** Default cap for one stored output (head + tail are kept). */
export const MAX_OUTPUT_CHARS = 64 * 1024;

// CSI / OSC / other ESC sequences that terminals interpret (colours, cursor moves, titles).
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)|[PX^_][^\u001b]*\u001b\\|[@-Z\\-_])/g;
// C0 controls except tab and newline, DEL, and C1 controls.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;

// Terminal output → plain text: drop escape sequences, resolve `\r` progress redraws to their final state,
// and show any remaining control character visibly (U+FFFD would hide what was there).
export function neutralizeControl(text: string): string {
  const noAnsi = text.replace(ANSI, '');
  const lines = noAnsi.split('\n').map((line) => {
    const l = line.endsWith('\r') ? line.slice(0, -1) : line;
    // A bare \r redraws the line: keep what the user finally saw.
    const parts = l.split('\r');
    return parts.length > 1 ? overlay(parts) : l;
  });
  return lines.join('\n').replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

// Emulate carriage returns: each segment overwrites the start of the line.
function overlay(parts: string[]): string {
  let line = '';
  for (const p of parts) line = p + line.slice(p.length);
  return line;
}

/** Keep the head and tail of a long text and say how much was cut. */
export function truncateMiddle(text: string, max = MAX_OUTPUT_CHARS): string {
  if (text.length <= max) return text;
  const head = Math.floor(max * 0.4);
  const tail = max - head;
  const cut = text.length - head - tail;
  const cutLines = text.slice(head, text.length - tail).split('\n').length - 1;
  return `${text.slice(0, head)}\n… [stackcheck: ${cut} characters (${cutLines} lines) cut; head and tail kept] …\n${text.slice(-tail)}`;
}

/** What every stored or displayed remote output goes through. */
export function cleanOutput(text: string, max = MAX_OUTPUT_CHARS): string {
  return truncateMiddle(neutralizeControl(text), max);
}

/** First line of a text, shortened to `max` characters (for names and table cells). */
export function oneLine(text: string, max = 120): string {
  const first = text.split('\n').find((l) => l.trim() !== '') ?? '';
  const t = first.trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}
