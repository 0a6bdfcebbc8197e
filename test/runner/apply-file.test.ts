// What a file step writes, before any host is involved.
import { describe, expect, it } from 'vitest';
import { newContent, pathWord } from '../../src/runner/apply-file.js';

describe('newContent', () => {
  it('replace writes the content with a final newline', () => {
    expect(newContent({ mode: 'replace', content: 'a' }, 'old\n')).toBe('a\n');
    expect(newContent({ mode: 'replace', content: 'a\n' }, undefined)).toBe('a\n');
  });
  it('append adds the block once, on its own line', () => {
    expect(newContent({ mode: 'append', content: 'x = 1' }, undefined)).toBe('x = 1\n');
    expect(newContent({ mode: 'append', content: 'x = 1' }, 'a')).toBe('a\nx = 1\n');
    expect(newContent({ mode: 'append', content: 'x = 1' }, 'a\nx = 1\n\n')).toBe('a\nx = 1\n\n');
  });
  it('ini merges keys and is stable when merged again', () => {
    const once = newContent({ mode: 'ini', content: '[a]\nk = v' }, '[a]\nk = old\n# keep\n');
    expect(once).toBe('[a]\nk = v\n# keep\n');
    expect(newContent({ mode: 'ini', content: '[a]\nk = v' }, once)).toBe(once);
  });
});

describe('pathWord', () => {
  it('expands ~/ to the effective user\'s home and quotes the rest', () => {
    expect(pathWord('~/admin-openrc')).toBe(`"$HOME"/'admin-openrc'`);
    expect(pathWord("/etc/it's.conf")).toBe(`'/etc/it'\\''s.conf'`);
  });
});
