// Remote output hygiene: what a student's terminal sent becomes plain, bounded text.
import { describe, expect, it } from 'vitest';
import { cleanOutput, neutralizeControl, oneLine, truncateMiddle } from '../../src/report/text.js';

describe('neutralizeControl', () => {
  it('drops colour and cursor escapes and keeps the text', () => {
    expect(neutralizeControl('\u001b[1;31mERROR\u001b[0m: disk full\u001b[2K')).toBe('ERROR: disk full');
    expect(neutralizeControl('\u001b]0;title\u0007done')).toBe('done');
  });

  it('resolves \\r progress redraws to what was finally on the line', () => {
    expect(neutralizeControl('Progress 10%\rProgress 55%\rProgress 100%\nnext')).toBe('Progress 100%\nnext');
    expect(neutralizeControl('windows line\r\n')).toBe('windows line\n');
  });

  it('shows other control characters visibly instead of passing them on', () => {
    expect(neutralizeControl('a\u0000b\u0008c\u007f')).toBe('a\\x00b\\x08c\\x7f');
    expect(neutralizeControl('tab\tkept')).toBe('tab\tkept');
  });
});

describe('truncateMiddle', () => {
  it('keeps short text unchanged', () => {
    expect(truncateMiddle('short', 100)).toBe('short');
  });

  it('keeps head and tail of huge output and says how much was cut', () => {
    const lines = Array.from({ length: 10_000 }, (_, i) => `line ${i}`).join('\n');
    const out = truncateMiddle(lines, 1000);
    expect(out.length).toBeLessThan(1200);
    expect(out.startsWith('line 0\n')).toBe(true);
    expect(out.endsWith('line 9999')).toBe(true);
    const cut = /\[stackcheck: (\d+) characters \((\d+) lines\) cut/.exec(out);
    expect(Number(cut?.[1])).toBe(lines.length - 1000);
    expect(Number(cut?.[2])).toBeGreaterThan(9000);
  });

  it('cleanOutput does both', () => {
    const out = cleanOutput('\u001b[32mok\u001b[0m' + 'x'.repeat(5000), 100);
    expect(out).toMatch(/^okx{38}\n… \[stackcheck: 4902 characters/);
    expect(out).not.toContain('\u001b');
  });
});

describe('oneLine', () => {
  it('takes the first non-empty line and shortens it', () => {
    expect(oneLine('\n  first\nsecond')).toBe('first');
    expect(oneLine('a'.repeat(50), 10)).toBe(`${'a'.repeat(9)}…`);
  });
});
