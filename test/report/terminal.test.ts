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
});
