// A Neutron agent stuck retrying one failing command. Neutron's agents retry some commands (ebtables, ip) with an
// exponential back-off and no limit: while one fails for good, the agent keeps reporting its heartbeat — alive in
// `openstack network agent list` — but never gets past that command, so it wires no new port. Seen on Debian 12:
// ebtables-nft 1.8.9 cannot delete a port's `--among-src` rule (RULE_DELETE failed (Invalid argument)), and the
// Linux bridge agent retries that deletion for ever after a restart with instances running.
//
// What is read on the host: the unit's running process id, the host's clock, and the ERROR lines of the agent's log
// (oslo.log: `2026-11-26 18:37:54.767 16986 ERROR neutron.agent.linux.utils [req…] Exit code: 4; Cmd: [...]; …`).

/** The host script: MainPID, the time now, then the log's last ERROR lines (oslo.log uses local time, as `date`). */
export function agentRetryScript(unit: string, log: string): string {
  return [
    `systemctl show -p MainPID --value ${unit}`,
    "date '+%F %T'",
    `if [ -r ${log} ]; then grep -a ' ERROR ' ${log} | tail -n 300; else echo 'NO LOG'; fi`,
  ].join('; ');
}

export interface FailedCommand {
  at: number;
  command: string;
  exitCode: number;
  stderr: string;
}

export interface StuckRetry {
  command: string;
  exitCode: number;
  stderr: string;
  /** How many times the running process failed it in a row, and when first and last. */
  times: number;
  first: string;
  last: string;
}

export type RetryReading = { state: 'not-running' } | { state: 'no-log' } | { state: 'ok' } | ({ state: 'stuck' } & StuckRetry);

const LINE = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?) (\d+) ERROR \S+ \[[^\]]*\] Exit code: (-?\d+); Cmd: \[(.*?)\]; Stdin: .*?; Stdout: .*?; Stderr: (.*)$/;

function parseTime(s: string): number {
  // Both sides are the host's local time: compare them as if they were UTC.
  return Date.parse(`${s.replace(' ', 'T')}Z`);
}

function commandText(list: string): string {
  return [...list.matchAll(/'((?:[^'\\]|\\.)*)'/g)].map((m) => m[1]).join(' ');
}

/** The failed commands a process logged, in order. */
export function failedCommands(log: string, pid: number): FailedCommand[] {
  const out: FailedCommand[] = [];
  for (const line of log.split('\n')) {
    const m = LINE.exec(line.trimEnd());
    if (!m || Number(m[2]) !== pid) continue;
    out.push({ at: parseTime(m[1]!), command: commandText(m[4]!), exitCode: Number(m[3]), stderr: m[5]!.trim() });
  }
  return out;
}

/** At least this many failures in a row of one command make a retry loop (the first five take under a second). */
export const MIN_RETRIES = 5;

/**
 * Read the script's output. Stuck: the running process failed the same command at least MIN_RETRIES times in a row as
 * its last errors, and the next retry is still due (back-off doubles: a retry that then succeeded leaves a silence
 * well over twice the last gap).
 */
export function readAgentRetry(out: string): RetryReading {
  const [pidLine = '', nowLine = '', ...rest] = out.split('\n');
  const pid = Number(pidLine.trim());
  if (!Number.isInteger(pid) || pid <= 0) return { state: 'not-running' };
  if (rest[0]?.trim() === 'NO LOG') return { state: 'no-log' };
  const now = parseTime(nowLine.trim());
  const failed = failedCommands(rest.join('\n'), pid);
  const last = failed.at(-1);
  if (!last) return { state: 'ok' };
  let i = failed.length - 1;
  while (i > 0 && failed[i - 1]!.command === last.command) i--;
  const run = failed.slice(i);
  if (run.length < MIN_RETRIES) return { state: 'ok' };
  const gap = last.at - run.at(-2)!.at;
  if (now - last.at > 2.5 * gap + 10_000) return { state: 'ok' };
  const stamp = (t: number): string => new Date(t).toISOString().slice(0, 19).replace('T', ' ');
  return { state: 'stuck', command: last.command, exitCode: last.exitCode, stderr: last.stderr, times: run.length, first: stamp(run[0]!.at), last: stamp(last.at) };
}
