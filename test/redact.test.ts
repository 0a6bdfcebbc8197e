// The run's Redactor: known secrets and secret-looking patterns masked, also when a target splits a secret with
// terminal escape sequences (a colour change in the middle shows the secret whole on a terminal).
import { describe, expect, test } from 'vitest';
import { Redactor } from '../src/redact.js';

const SECRET = 'Zq9xK7vLmP2wRt';

describe('Redactor', () => {
  test('masks a secret as printed, and secret-looking patterns', () => {
    const r = new Redactor([SECRET]);
    expect(r.redact(`pw is ${SECRET}.`)).toBe('pw is ••••••.');
    expect(r.redact('mysql+pymysql://nova:hunter2@db-node/nova')).toBe('mysql+pymysql://nova:••••••@db-node/nova');
  });

  test('masks a secret split by colour codes, OSC sequences or 8-bit CSI, escapes and all', () => {
    const r = new Redactor([SECRET, 'a.b*c']);
    for (const split of [
      'Zq9x\x1b[31mK7vLmP2wRt\x1b[0m',
      'Z\x1b[1;31mq9x\x1b[0mK7v\x1b[38;5;196mLmP2wRt',
      'Zq9xK7v\x1b]0;title\x07LmP2wRt',
      'Zq9xK7v\x1b]8;;http://x\x1b\\LmP2wRt',
      'Zq9x\x9b31mK7vLmP2wRt',
    ]) {
      const out = r.redact(`before ${split} after`);
      expect([`before ${'\u2022'.repeat(6)} after`, `before ${'\u2022'.repeat(6)}\x1b[0m after`], JSON.stringify(split)).toContain(out);
      // eslint-disable-next-line no-control-regex
      expect(out.replace(/\x1b\[[0-9;]*m|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x9b[0-9;]*m/g, '')).not.toContain(SECRET);
    }
    // Regular-expression characters in a secret are literal.
    expect(r.redact('x a.\x1b[2mb*c y')).toBe('x •••••• y');
    expect(r.redact('x aXb*c y')).toBe('x aXb*c y');
  });
});
