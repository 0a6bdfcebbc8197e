// The guide's one prompt: a row of choices, each with its key shown on screen. A choice's key picks it at once;
// ←/→ (or ↑/↓, Tab) move the highlight and Enter picks the highlighted one. Built on @inquirer/core (its raw-mode
// input, redraws and Ctrl-C handling), so no terminal handling is written here.
import { createPrompt, isEnterKey, isTabKey, useKeypress, useState, type KeypressEvent } from '@inquirer/core';
import pc from 'picocolors';

export interface Choice<T extends string> {
  /** One lower-case letter or digit, unique in the row. */
  key: string;
  label: string;
  value: T;
}

export interface ChooseConfig<T extends string> {
  message: string;
  choices: readonly Choice<T>[];
  /** Highlighted at first (default: the first choice). */
  default?: T;
  color: boolean;
  /** Terminal columns (the row breaks between choices to fit). */
  width?: number;
}

const isLeft = (k: KeypressEvent): boolean => k.name === 'left' || k.name === 'up';
const isRight = (k: KeypressEvent): boolean => k.name === 'right' || k.name === 'down' || isTabKey(k);

/** The row of choices as the student sees it, broken between choices (never inside one) to fit `width`. */
export function choiceRow<T extends string>(choices: readonly Choice<T>[], active: number, color: boolean, width = 80): string {
  const c = pc.createColors(color);
  const lines: string[] = [];
  let line = '';
  let used = 0;
  choices.forEach((ch, i) => {
    const text = `[${ch.key}] ${ch.label}`;
    // Without colour the highlight is a marker, so it shows in any terminal.
    const shown = i !== active ? text : color ? c.inverse(c.bold(text)) : `>${text}<`;
    const len = i === active && !color ? text.length + 2 : text.length;
    if (used > 0 && used + 2 + len > width - 1) {
      lines.push(line);
      line = '';
      used = 0;
    }
    line += used > 0 ? `  ${shown}` : shown;
    used += (used > 0 ? 2 : 0) + len;
  });
  lines.push(line);
  return lines.join('\n');
}

function validate<T extends string>(config: ChooseConfig<T>): void {
  const keys = config.choices.map((ch) => ch.key);
  if (keys.length === 0) throw new Error('choose: no choices');
  if (new Set(keys).size !== keys.length || keys.some((k) => !/^[a-z0-9]$/.test(k))) throw new Error(`choose: keys must be unique single letters or digits (${keys.join(', ')})`);
}

// The prompt works on strings; `choose` gives it back its choice type.
const prompt = createPrompt((config: ChooseConfig<string>, done: (value: string) => void): string => {
  const first = Math.max(0, config.choices.findIndex((ch) => ch.value === config.default));
  const [active, setActive] = useState(first);
  const [picked, setPicked] = useState<number | undefined>(undefined);
  const n = config.choices.length;
  useKeypress((key) => {
    if (picked !== undefined) return;
    let index: number | undefined;
    if (isEnterKey(key)) index = active;
    else if (isLeft(key)) setActive((active - 1 + n) % n);
    else if (isRight(key)) setActive((active + 1) % n);
    else if (!key.ctrl) index = config.choices.findIndex((ch) => ch.key === key.name?.toLowerCase());
    if (index !== undefined && index >= 0) {
      const choice = config.choices[index] as Choice<string>;
      setPicked(index);
      done(choice.value);
    }
  });
  const c = pc.createColors(config.color);
  if (picked !== undefined) return `${c.bold(config.message)} ${c.cyan(config.choices[picked]?.label ?? '')}`;
  return `${c.bold(config.message)}\n${choiceRow(config.choices, active, config.color, config.width)}`;
});

/** Ask; resolves with the picked choice's value. Ctrl-C rejects (ExitPromptError), as does `signal`. */
export function choose<T extends string>(
  config: ChooseConfig<T>,
  context: { input?: NodeJS.ReadableStream; output?: NodeJS.WritableStream; signal?: AbortSignal } = {},
): Promise<T> {
  validate(config);
  return prompt(config, context) as Promise<T>;
}
