// The run folder: ids sort by time, state survives a reopen, --resume finds the newest run of a tutorial.
import { tempDir } from '../helpers/tmp.js';
import { describe, expect, it } from 'vitest';
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { newRunId, RunDir, stepHash } from '../../src/runner/run-dir.js';
import type { ShellStep } from '../../src/runner/types.js';

const step: ShellStep = { kind: 'shell', id: 's/1', stage: 's', host: 'db-node', loc: { file: 't.md', line: 3 }, root: true, expectExit: [0], retries: 0, command: 'echo hi' };
const host = { role: 'db-node', address: '10.0.0.1', port: 22, user: 'root', hostname: 'db' };

describe('run folder', () => {
  it('run ids sort in time order and differ within one millisecond', () => {
    const t = new Date('2026-01-02T03:04:05.006Z');
    expect(newRunId(t) < newRunId(new Date('2026-01-02T03:04:05.007Z'))).toBe(true);
    expect(newRunId(t)).toMatch(/^2026-01-02T03-04-05-006Z-[0-9a-f]{4}$/);
    expect(newRunId(t)).not.toBe(newRunId(t));
  });

  it('the step hash changes with the command or the target machine, not with the line it moved to', () => {
    const h = stepHash(step, host);
    expect(stepHash({ ...step, loc: { file: 't.md', line: 9 } }, host)).toBe(h);
    expect(stepHash({ ...step, command: 'echo ho' }, host)).not.toBe(h);
    expect(stepHash(step, { ...host, address: '10.0.0.2' })).not.toBe(h);
  });

  it('records steps, reopens for resume, and finds the latest run of the same tutorial', async () => {
    const reports = tempDir('sc-rd-');
    const older = await RunDir.create(reports, { tutorial: '/t/tut.md', inventory: 'inv.yaml' }, '2026-01-01T00-00-00-000Z-aaaa');
    await RunDir.create(reports, { tutorial: '/t/other.md', inventory: 'inv.yaml' }, '2026-01-03T00-00-00-000Z-cccc');
    const newer = await RunDir.create(reports, { tutorial: '/t/tut.md', inventory: 'inv.yaml' }, '2026-01-02T00-00-00-000Z-bbbb');
    expect(readlinkSync(join(reports, 'latest'))).toBe(newer.runId);
    await newer.recordStep(step, { stepId: 's/1', host: 'db-node', status: 'passed', exitCode: 0, timedOut: false, durationMs: 5, stdout: 'hi\n', stderr: '', attempts: 1 }, 'h1', 'hi\n');
    expect(readFileSync(join(newer.dir, 'steps', 's', '1.log'), 'utf8')).toBe('hi\n');
    expect(await RunDir.findLatest(reports, '/t/tut.md')).toBe(newer.dir);
    expect(await RunDir.findLatest(reports, '/t/none.md')).toBeUndefined();
    const reopened = await RunDir.open(newer.dir);
    expect(reopened.completed('s/1', 'h1')).toBe(true);
    expect(reopened.completed('s/1', 'h2')).toBe(false);
    expect(reopened.readSummary().attempts).toBe(2);
    expect(older.completed('s/1', 'h1')).toBe(false);
    await expect(RunDir.open(join(reports, 'nope'))).rejects.toThrow(/not a stackcheck run folder/);
  });
});
