// A real terminal for tests of interactive commands: a tmux server of the test's own (its own socket), windows of a
// given size, keys sent with `send-keys`, the screen read with `capture-pane` (scrollback included, wrapped lines
// joined). `after` does something and waits until a pattern shows once more than before it.
import { execFileSync } from 'node:child_process';

export class Tmux {
  private readonly socket: string;

  constructor(name: string, opts: { width?: number; height?: number; firstWindow?: string; command?: string } = {}) {
    this.socket = `stackcheck-${name}-${process.pid}`;
    this.run('new-session', '-d', '-s', 'main', '-n', opts.firstWindow ?? 'shell', '-x', String(opts.width ?? 80), '-y', String(opts.height ?? 40), opts.command ?? 'bash --norc');
    this.run('set-option', '-g', 'history-limit', '50000');
  }

  run(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
  }

  /** A new window running `command` (kept on screen after it exits when the command ends in a long sleep). */
  window(name: string, command: string): void {
    this.run('new-window', '-d', '-t', 'main', '-n', name, command);
  }

  /** Everything the window has shown (scrollback included, wrapped lines joined). */
  screen(window: string): string {
    return this.run('capture-pane', '-p', '-J', '-S', '-', '-t', `main:${window}`);
  }

  keys(window: string, ...keys: string[]): void {
    this.run('send-keys', '-t', `main:${window}`, ...keys);
  }

  /** Do `action`, then wait until `re` shows on the window once more than before it; returns the screen. */
  async after(window: string, action: () => void, re: RegExp, timeoutMs = 60_000): Promise<string> {
    const count = (text: string): number => text.match(new RegExp(re.source, `${re.flags.replace('g', '')}g`))?.length ?? 0;
    const before = count(this.screen(window));
    action();
    const end = Date.now() + timeoutMs;
    for (;;) {
      const text = this.screen(window);
      if (count(text) > before) return text;
      if (Date.now() > end) throw new Error(`waited ${timeoutMs} ms for ${re} on tmux window ${window}; the screen:\n${text}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  /** Press a key (tmux key name) and wait for `re`. */
  press(window: string, key: string, re: RegExp, timeoutMs?: number): Promise<string> {
    return this.after(window, () => this.keys(window, key), re, timeoutMs);
  }

  kill(): void {
    try {
      execFileSync('tmux', ['-L', this.socket, 'kill-server'], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
}
