import { describe, expect, test } from 'vitest';
import { CheckBroken, CheckFailure, excerpt, expectThat, logExcerpt, toOutcome } from '../../src/checks/outcome.js';

describe('check outcomes', () => {
  test('a failure reads "expected X, found Y" and keeps its evidence', () => {
    const o = toOutcome(new CheckFailure('nova-compute on compute-1 to be up and enabled', 'state=down (last heartbeat 3 min ago)', [{ name: 'e', contentType: 'text/plain', body: 'b' }]));
    expect(o.status).toBe('failed');
    expect(o.message).toBe('expected nova-compute on compute-1 to be up and enabled, found state=down (last heartbeat 3 min ago)');
    expect(o.expected).toBe('nova-compute on compute-1 to be up and enabled');
    expect(o.evidence).toHaveLength(1);
  });

  test('a broken check says it cannot check, and why', () => {
    const o = toOutcome(new CheckBroken('cannot reach compute-1 over SSH (timed out)'));
    expect(o).toMatchObject({ status: 'broken', message: 'cannot check: cannot reach compute-1 over SSH (timed out)' });
  });

  test('an unexpected exception is broken, not failed, with its stack as evidence', () => {
    const o = toOutcome(new TypeError('x is undefined'));
    expect(o.status).toBe('broken');
    expect(o.message).toBe('cannot check: x is undefined');
    expect(o.evidence[0]?.body).toContain('TypeError');
  });

  test('expectThat only throws when the condition is false, computing found lazily', () => {
    let computed = false;
    expectThat(true, 'a', () => {
      computed = true;
      return 'b';
    });
    expect(computed).toBe(false);
    expect(() => expectThat(false, 'a', 'b')).toThrow('expected a, found b');
  });

  test('log excerpts put ERROR and TRACE lines first', () => {
    const log = ['INFO start', 'ERROR nova.compute.manager Instance failed to spawn', 'TRACE IndexError: list index out of range', ...Array.from({ length: 50 }, (_, i) => `INFO line ${i}`)].join('\n');
    const out = logExcerpt(log, 10, 5);
    const lines = out.split('\n');
    expect(lines[0]).toBe('--- ERROR/TRACE lines (2)');
    expect(lines[1]).toContain('Instance failed to spawn');
    expect(lines[2]).toContain('IndexError');
    expect(out).toContain('INFO line 49');
    expect(out).not.toContain('INFO line 10\n');
  });

  test('long evidence is cut in the middle with a note; control characters go', () => {
    const e = excerpt(`\x1b[31m${'a'.repeat(100)}${'b'.repeat(100)}`, 50);
    expect(e).toMatch(/^\[31ma+\n… \[\d+ characters cut\] …\nb+$/);
    expect(e).not.toContain('\x1b');
  });
});
