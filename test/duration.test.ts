import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../src/duration.js';

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['10m', 600_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['600', 600_000],
    ['1.5', 1500],
    [' 2m ', 120_000],
    [10, 10_000],
  ] as const)('%s → %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['soon', '10x', '-5', '', 'm10', '1 m'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('rejects negative and non-finite numbers', () => {
    expect(parseDuration(-1)).toBeUndefined();
    expect(parseDuration(Number.NaN)).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it.each([
    [500, '500ms'],
    [90_000, '1m30s'],
    [600_000, '10m'],
    [3_900_000, '1h5m'],
    [1000, '1s'],
  ] as const)('%i ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
