// BoundedText: the head and the tail of a stream of any size, the cut marked with the sizes.
import { describe, expect, test } from 'vitest';
import { BoundedText } from '../src/bounded-text.js';

describe('BoundedText', () => {
  test('under the bound: everything, unmarked', () => {
    const b = new BoundedText(10, 10);
    for (const c of ['abc', 'def', '', 'ghij']) b.push(c);
    expect(b.toString()).toBe('abcdefghij');
    expect([b.total, b.cut]).toEqual([10, 0]);
  });

  test('over it: the first and the last characters, whatever the chunk sizes, the cut counted', () => {
    for (const size of [1, 3, 7, 50, 1000]) {
      const b = new BoundedText(5, 4);
      const text = Array.from({ length: 100 }, (_, i) => String(i % 10)).join('');
      for (let i = 0; i < text.length; i += size) b.push(text.slice(i, i + size));
      expect(b.total).toBe(100);
      expect(b.cut).toBe(91);
      expect(b.toString(), `chunks of ${size}`).toBe('01234\n… [91 characters left out: 100 in all; the first 5 and the last 4 are kept] …\n6789');
    }
  });

  test('no tail: only the head is kept', () => {
    const b = new BoundedText(3, 0);
    b.push('abcdef');
    expect(b.toString()).toBe('abc\n… [3 characters left out: 6 in all; the first 3 and the last 0 are kept] …\n');
  });
});
