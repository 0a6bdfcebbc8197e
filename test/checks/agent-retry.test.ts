// The Linux bridge agent stuck on an ebtables deletion, read from its log as the lab's compute-1 wrote it (a CI run of
// 2026-11-26: the agent restarted at 18:37:51 with an instance running, then retried one deletion until the end).
import { describe, expect, test } from 'vitest';
import { agentRetryScript, failedCommands, readAgentRetry } from '../../src/checks/agent-retry.js';

const PID = 16986;
const EBTABLES =
  "Exit code: 4; Cmd: ['ebtables', '-t', 'nat', '--concurrent', '-D', 'neutronMAC-tap8fb73dda-28', '-i', 'tap8fb73dda-28', '--among-src', 'fa:16:3e:d4:84:de', '-j', 'RETURN']; Stdin: ; Stdout: ; Stderr: ebtables v1.8.9 (nf_tables):  RULE_DELETE failed (Invalid argument): rule in chain neutronMAC-tap8fb73dda-28";
const line = (at: string, pid = PID, what = EBTABLES): string =>
  `2026-11-26 ${at} ${pid} ERROR neutron.agent.linux.utils [None req-ed3cad2c-8c1c-4326-ade5-8a641f22b6aa - - - - - -] ${what}`;
// The retries as logged: the gaps double (tenacity's exponential back-off), 20 s, 41 s, 82 s, 164 s, 328 s, 655 s.
const RETRIES = ['18:37:54.767', '18:37:54.804', '18:37:54.867', '18:37:54.969', '18:37:55.139', '18:37:55.473', '18:37:56.142', '18:37:57.443', '18:38:00.015', '18:38:05.167', '18:38:15.431', '18:38:35.935', '18:39:16.916', '18:40:38.859', '18:43:22.719', '18:48:50.424', '18:59:45.807'];
const AMQP = line('18:56:33.863', PID, '').replace(/neutron\.agent\.linux\.utils \[[^\]]*\] /, 'oslo.messaging._drivers.impl_rabbit [-] AMQP server on 10.99.0.11:5672 is unreachable: [Errno 104] Connection reset by peer.');
const out = (pid: number, now: string, lines: string[]): string => [String(pid), `2026-11-26 ${now}`, ...lines].join('\n');

describe('an agent stuck retrying one command', () => {
  const log = [...RETRIES.slice(0, 16).map((t) => line(t)), AMQP, line(RETRIES[16]!)];

  test('the running process failing the same command again and again, the next retry still due: stuck, naming the command and the error', () => {
    const r = readAgentRetry(out(PID, '19:19:00', log));
    expect(r).toMatchObject({ state: 'stuck', exitCode: 4, times: 17, first: '2026-11-26 18:37:54', last: '2026-11-26 18:59:45' });
    if (r.state !== 'stuck') return;
    expect(r.command).toBe('ebtables -t nat --concurrent -D neutronMAC-tap8fb73dda-28 -i tap8fb73dda-28 --among-src fa:16:3e:d4:84:de -j RETURN');
    expect(r.stderr).toContain('RULE_DELETE failed (Invalid argument)');
  });

  test('a few seconds after the restart (five failures in under a second) it is already stuck', () => {
    expect(readAgentRetry(out(PID, '18:37:56', log.slice(0, 5))).state).toBe('stuck');
  });

  test('errors of an earlier process (the agent restarted since) do not count', () => {
    expect(readAgentRetry(out(41, '19:19:00', log)).state).toBe('ok');
    expect(failedCommands(log.join('\n'), 41)).toEqual([]);
  });

  test('a command that failed a few times and then went through: the silence is far longer than the back-off', () => {
    // Retried 10 times (last gap 5 s), nothing since for an hour: it succeeded.
    expect(readAgentRetry(out(PID, '19:40:00', log.slice(0, 10))).state).toBe('ok');
    // Four failures are not a loop.
    expect(readAgentRetry(out(PID, '18:37:55', log.slice(0, 4))).state).toBe('ok');
  });

  test('different commands failing in turn are not one retry loop', () => {
    const other = "Exit code: 1; Cmd: ['ip', 'link', 'set', 'tapx', 'up']; Stdin: ; Stdout: ; Stderr: Cannot find device";
    const mixed = RETRIES.slice(0, 8).map((t, i) => line(t, PID, i % 2 ? other : EBTABLES));
    expect(readAgentRetry(out(PID, '18:37:58', mixed)).state).toBe('ok');
  });

  test('a stopped agent and a missing log are said so, not read as healthy', () => {
    expect(readAgentRetry(out(0, '19:19:00', log)).state).toBe('not-running');
    expect(readAgentRetry(out(PID, '19:19:00', ['NO LOG'])).state).toBe('no-log');
    expect(readAgentRetry(out(PID, '19:19:00', [])).state).toBe('ok');
  });

  test('the host script reads the unit, the clock and the ERROR lines of the log', () => {
    const s = agentRetryScript('neutron-linuxbridge-agent', '/var/log/neutron/neutron-linuxbridge-agent.log');
    expect(s).toContain('systemctl show -p MainPID --value neutron-linuxbridge-agent');
    expect(s).toContain("grep -a ' ERROR ' /var/log/neutron/neutron-linuxbridge-agent.log");
  });
});
