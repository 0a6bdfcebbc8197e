// The live terminal reporter prints remote output as plain text: a step's escape sequences and \r redraws
// cannot drive the student's terminal.
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/log.js';
import { terminalReporter } from '../../src/report/terminal.js';
import { localStages } from './local-run.js';

describe('terminalReporter live output', () => {
  it('neutralises control sequences from the remote in live output and in the failure block', () => {
    const bus = new EventBus();
    let out = '';
    terminalReporter(bus, { out: { write: (s: string) => (out += s), isTTY: false }, color: false });
    const [stage] = localStages([{ id: 's', title: 'S', steps: [{ host: 'db-node', command: 'x' }] }]);
    const step = stage?.steps[0];
    if (!step) throw new Error('no step');
    bus.emit({ kind: 'step-start', step, attempt: 1 });
    bus.emit({ kind: 'step-output', step, stream: 'stdout', text: '\u001b]0;pwned\u0007\u001b[2J10%\r100%\nbell\u0007\n' });
    bus.emit({
      kind: 'step-end',
      step,
      result: { stepId: step.id, host: 'db-node', status: 'failed', exitCode: 1, timedOut: false, durationMs: 5, stdout: '', stderr: 'E: \u001b[31mfailed\u001b[0m\n', attempts: 1 },
    });
    bus.emit({ kind: 'run-end', status: 'failed', durationMs: 5 });
    // eslint-disable-next-line no-control-regex
    expect(out).not.toMatch(/[\u0007\u001b\r]/);
    expect(out).toContain('[db-node] 100%\n');
    expect(out).toContain('[db-node] bell\\x07\n');
    expect(out).toContain('    E: failed');
  });

  it('shows a spinner with elapsed time for a quiet step on a TTY, erased before anything else is printed', async () => {
    const bus = new EventBus();
    let out = '';
    const off = terminalReporter(bus, { out: { write: (s: string) => (out += s), isTTY: true }, color: false, spinnerAfterMs: 50 });
    const step = localStages([{ id: 's', title: 'S', steps: [{ host: 'db-node', command: 'sleep 10' }] }])[0]?.steps[0];
    if (!step) throw new Error('no step');
    bus.emit({ kind: 'step-start', step, attempt: 1 });
    await new Promise((r) => setTimeout(r, 400));
    // eslint-disable-next-line no-control-regex
    expect(out).toMatch(/\r\u001b\[K⠋ \[db-node\] s\/1 running 0s/);
    bus.emit({ kind: 'step-output', step, stream: 'stdout', text: 'hello\n' });
    bus.emit({ kind: 'step-end', step, result: { stepId: step.id, host: 'db-node', status: 'passed', exitCode: 0, timedOut: false, durationMs: 400, stdout: '', stderr: '', attempts: 1 } });
    off();
    // The spinner line is cleared before the output line and before the result line.
    // eslint-disable-next-line no-control-regex
    expect(out).toMatch(/running 0s\r\u001b\[K\[db-node\] hello\n/);
    expect(out.endsWith('✔ [db-node] s/1 400 ms\n')).toBe(true);
  });

  it('never draws a spinner when the output is not a terminal', async () => {
    const bus = new EventBus();
    let out = '';
    const off = terminalReporter(bus, { out: { write: (s: string) => (out += s), isTTY: false }, color: false, spinnerAfterMs: 20 });
    const step = localStages([{ id: 's', title: 'S', steps: [{ host: 'db-node', command: 'sleep 10' }] }])[0]?.steps[0];
    if (!step) throw new Error('no step');
    bus.emit({ kind: 'step-start', step, attempt: 1 });
    await new Promise((r) => setTimeout(r, 200));
    off();
    expect(out).not.toContain('\r');
    expect(out).not.toContain('running');
  });
});
