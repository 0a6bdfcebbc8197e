// How the guide shows a step: its host, source line and command with the inventory's variables filled in, except
// secrets, which stay `{{ NAME }}` (the student has them; the screen never does); and what to type for a step the
// student does by hand.
import { formatLocation } from '../error.js';
import type { Inventory } from '../inventory/types.js';
import { fillVariables } from '../runner/plan.js';
import type { Step } from '../runner/types.js';

/** The step as written in the tutorial, with every variable but the secrets filled in. */
export function displayStep(raw: Step, inventory: Pick<Inventory, 'vars' | 'secretNames'>): Step {
  const secret = new Set(inventory.secretNames);
  const vars = Object.fromEntries(Object.entries(inventory.vars).filter(([name]) => !secret.has(name)));
  const fill = (text: string): string => fillVariables(text, vars);
  if (raw.kind === 'file') return { ...raw, path: fill(raw.path), content: fill(raw.content) };
  return { ...raw, command: fill(raw.command), ...(raw.input !== undefined ? { input: fill(raw.input) } : {}) };
}

/** Who the step runs as, in words. */
export function runsAs(step: Step, sshUser: string | undefined): string {
  if (step.user) return `as ${step.user}`;
  return step.root ? 'as root' : `as ${sshUser ?? 'the SSH user'}`;
}

/** The secrets a step needs, by name (shown as `{{ NAME }}`). */
export function secretsIn(step: Step, inventory: Pick<Inventory, 'secretNames'>): string[] {
  const text = step.kind === 'file' ? `${step.path}\n${step.content}` : `${step.command}\n${step.input ?? ''}`;
  return inventory.secretNames.filter((n) => new RegExp(`\\{\\{\\s*${n}\\s*\\}\\}`).test(text));
}

const indent = (text: string, by = '    '): string =>
  text
    .replace(/\n$/, '')
    .split('\n')
    .map((l) => `${by}${l}`)
    .join('\n');

/** The step's header line and body: what it does where. */
export function stepCard(step: Step, n: number, total: number, as: string): { header: string; body: string } {
  const header = `Step ${n} of ${total} · ${step.host} (${as}) · ${formatLocation(step.loc)}`;
  if (step.kind === 'file') return { header, body: `  ${fileAction(step)}\n${indent(step.content)}` };
  const input = step.input ? `\n  then, at its prompt:\n${indent(step.input)}` : '';
  return { header, body: `${indent(step.command)}${input}` };
}

function fileAction(step: Extract<Step, { kind: 'file' }>): string {
  switch (step.mode) {
    case 'ini':
      return `in ${step.path}, set these keys in their [sections] (keep every other line):`;
    case 'append':
      return `add to the end of ${step.path} (unless it is already there):`;
    default:
      return `write ${step.path} with exactly:`;
  }
}

/** What to do for a step typed by hand: where, the text, and which secrets to fill in. */
export function typingInstructions(step: Step, as: string, secrets: string[]): { where: string; body: string; note?: string } {
  const where = `On ${step.host}, ${as}, ${step.kind === 'file' ? 'edit the file' : 'type'}:`;
  const body = step.kind === 'file' ? `  ${fileAction(step)}\n${indent(step.content)}` : `${indent(step.command)}${step.input ? `\n  then, at its prompt:\n${indent(step.input)}` : ''}`;
  if (secrets.length === 0) return { where, body };
  return { where, body, note: `(${secrets.map((s) => `{{ ${s} }}`).join(', ')}: your own value${secrets.length > 1 ? 's' : ''}, from your secrets file or inventory)` };
}
