// Run a script on a role's host the way a step runs: as the step's user, in the host's shared shell state,
// under a remote timeout that kills the whole process group, and killed for real when the run is aborted.
import { randomUUID } from 'node:crypto';
import type { SshPool } from '../ssh/pool.js';
import { explainSudoFailure, killCommand, remoteCommand, type ExecResult } from '../ssh/exec.js';
import { pidFile, withShellState } from './shell-state.js';

export interface RemoteRunOptions {
  runId: string;
  root: boolean;
  user?: string;
  timeoutMs: number;
  input?: string;
  onStdout?: (text: string) => void;
  onStderr?: (text: string) => void;
  signal?: AbortSignal;
  /** Share `export`/`cd` state with the other steps on this host (default true). */
  shellState?: boolean;
  env?: Record<string, string>;
}

export interface RemoteRunResult extends ExecResult {
  /** Why the user switch failed (sudo wants a password, is missing…), when it did. */
  sudoProblem?: string;
}

const KILL_AFTER_MS = 5000;

/** What a step's result keeps of each stream: the first and the last MiB (the rest is counted, and streamed live). */
export const STEP_KEEP = { head: 1024 * 1024, tail: 1024 * 1024 };

// Run one script; never throws for the command's own failure (only for connection problems).
export async function runOnHost(pool: SshPool, role: string, script: string, opts: RemoteRunOptions): Promise<RemoteRunResult> {
  const host = pool.host(role);
  const who = { sshUser: host.user, root: opts.root, ...(opts.user ? { user: opts.user } : {}) };
  const execId = randomUUID().slice(0, 8);
  const wrapped = opts.shellState === false ? script : withShellState(script, { runId: opts.runId, execId, ...(opts.env ? { env: opts.env } : {}) });
  const command = remoteCommand({ ...who, script: wrapped, timeoutMs: opts.timeoutMs, killAfterMs: KILL_AFTER_MS });
  const result = await pool.exec(role, command, {
    ...(opts.input !== undefined ? { input: opts.input } : {}),
    ...(opts.onStdout ? { onStdout: opts.onStdout } : {}),
    ...(opts.onStderr ? { onStderr: opts.onStderr } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    keep: STEP_KEEP,
    // The remote `timeout` normally ends it; this local deadline only guards against a stuck connection.
    timeoutMs: opts.timeoutMs + KILL_AFTER_MS + 10_000,
  });
  if ((result.aborted || result.timedOut) && opts.shellState !== false) {
    // Closing a channel does not stop the remote process: kill its process group by the id it recorded.
    await pool.exec(role, killCommand(who, pidFile(opts.runId, execId)), { timeoutMs: 10_000 }).catch(() => undefined);
  }
  // GNU timeout exits 124 when TERM ended the step; when the step ignored TERM and was killed after the grace period,
  // timeout dies of the same KILL (no exit status: signal KILL), or exits 137.
  const killed = result.exitCode === 137 || (result.exitCode === null && /^(SIG)?KILL$/.test(result.signal ?? ''));
  const remoteTimeout = (result.exitCode === 124 || killed) && result.durationMs >= opts.timeoutMs - 100;
  const out: RemoteRunResult = { ...result, timedOut: result.timedOut || remoteTimeout };
  const sudo = explainSudoFailure(result.stderr, result.exitCode, who);
  if (sudo && result.exitCode !== 0) out.sudoProblem = sudo;
  return out;
}
