// Run one command over an open SSH channel: live output, stdin, a timeout that really kills the remote
// process group, exit code and signal; and the command line that runs a script as root / another user.
import { BoundedText } from '../bounded-text.js';
import type { ClientChannel } from 'ssh2';

export interface ExecOptions {
  /** Written to stdin, then stdin is closed (stdin is always closed, so nothing waits for a terminal). */
  input?: string;
  /** Called with each chunk as it arrives. */
  onStdout?: (text: string) => void;
  onStderr?: (text: string) => void;
  /** Local deadline: after it the channel is closed and the result marked timed out. */
  timeoutMs?: number;
  /** Aborting closes the channel (the caller kills the remote process group, see `killCommand`). */
  signal?: AbortSignal;
  /** Characters of each stream kept in the result: its head and its tail (default 8 Mi each; see BoundedText). */
  keep?: { head: number; tail: number };
}

/** What a result keeps of each stream by default: enough for any check's output, bounded for a hostile target. */
export const DEFAULT_KEEP = { head: 8 * 1024 * 1024, tail: 8 * 1024 * 1024 };

export interface ExecResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  aborted: boolean;
  /** The channel closed without an exit status (connection dropped, sshd killed). */
  lost: boolean;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** Characters of each stream left out of `stdout`/`stderr` (the middle of a huge output), when any were. */
  cut?: { stdout: number; stderr: number; total: { stdout: number; stderr: number } };
}

// Quote a string for any POSIX shell.
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

// Drain a channel opened with `exec`: collect and stream output, feed stdin, wait for exit + close.
export function collectChannel(channel: ClientChannel, opts: ExecOptions = {}): Promise<ExecResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const keep = opts.keep ?? DEFAULT_KEEP;
    const stdout = new BoundedText(keep.head, keep.tail);
    const stderr = new BoundedText(keep.head, keep.tail);
    let exitCode: number | null = null;
    let signal: string | null = null;
    let timedOut = false;
    let aborted = false;
    let gotExit = false;
    let done = false;
    const outDecoder = new TextDecoder();
    const errDecoder = new TextDecoder();

    const finish = (): void => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      const outTail = outDecoder.decode();
      const errTail = errDecoder.decode();
      if (outTail) {
        stdout.push(outTail);
        opts.onStdout?.(outTail);
      }
      if (errTail) {
        stderr.push(errTail);
        opts.onStderr?.(errTail);
      }
      const lost = !gotExit && !timedOut && !aborted;
      const cut = stdout.cut > 0 || stderr.cut > 0 ? { cut: { stdout: stdout.cut, stderr: stderr.cut, total: { stdout: stdout.total, stderr: stderr.total } } } : {};
      resolve({ exitCode, signal, timedOut, aborted, lost, stdout: stdout.toString(), stderr: stderr.toString(), durationMs: Math.round(performance.now() - started), ...cut });
    };
    const onAbort = (): void => {
      aborted = true;
      channel.close();
      // A channel that never answers the close must not hang the run.
      setTimeout(finish, 2000).unref();
    };
    const timer =
      opts.timeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true;
            channel.close();
            setTimeout(finish, 2000).unref();
          }, opts.timeoutMs)
        : undefined;
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });

    channel.on('data', (chunk: Buffer) => {
      const text = outDecoder.decode(chunk, { stream: true });
      stdout.push(text);
      if (text) opts.onStdout?.(text);
    });
    channel.stderr.on('data', (chunk: Buffer) => {
      const text = errDecoder.decode(chunk, { stream: true });
      stderr.push(text);
      if (text) opts.onStderr?.(text);
    });
    channel.on('exit', (code: number | null, sig?: string) => {
      // ssh2 reports `exit(null, signalName)` when the process died of a signal.
      gotExit = true;
      if (typeof code === 'number') exitCode = code;
      if (sig) signal = sig;
    });
    // ssh2 repeats the exit status as the arguments of 'close': a fallback when 'exit' was missed.
    channel.on('close', (code?: number | null, sig?: string) => {
      if (exitCode === null && typeof code === 'number') {
        exitCode = code;
        gotExit = true;
      }
      if (signal === null && sig) signal = sig;
      finish();
    });
    channel.on('error', () => finish());
    if (opts.input !== undefined && opts.input !== '') channel.end(opts.input);
    else channel.end();
  });
}

export interface RemoteCommandSpec {
  /** The bash script to run (already wrapped for shell state if wanted). */
  script: string;
  /** The SSH login user of the host. */
  sshUser: string;
  /** Run as root. */
  root: boolean;
  /** Run as this user (overrides `root`). */
  user?: string;
  /** Remote deadline; the whole process group gets SIGTERM, then SIGKILL after `killAfterMs`. */
  timeoutMs?: number;
  killAfterMs?: number;
}

// Which user the script runs as, given the login user and the step's wishes.
export function effectiveUser(spec: Pick<RemoteCommandSpec, 'sshUser' | 'root' | 'user'>): string {
  return spec.user ?? (spec.root ? 'root' : spec.sshUser);
}

// Prefix that switches user: none, `sudo -n` (never prompts), or runuser when we already are root.
export function switchUserPrefix(spec: Pick<RemoteCommandSpec, 'sshUser' | 'root' | 'user'>): string {
  const target = effectiveUser(spec);
  if (target === spec.sshUser) return '';
  if (spec.sshUser === 'root') return `runuser -u ${shQuote(target)} -- `;
  return target === 'root' ? 'sudo -n -- ' : `sudo -n -u ${shQuote(target)} -- `;
}

// Seconds for GNU timeout (fractions allowed).
function seconds(ms: number): string {
  return `${Math.max(ms, 1) / 1000}s`;
}

// The command line sent over SSH. `timeout` runs in the target user's context and puts the script in its own
// process group, so a timeout (or a kill of that group) ends the script and everything it started.
export function remoteCommand(spec: RemoteCommandSpec): string {
  const prefix = switchUserPrefix(spec);
  const timeout =
    spec.timeoutMs !== undefined ? `timeout -k ${seconds(spec.killAfterMs ?? 5000)} ${seconds(spec.timeoutMs)} ` : '';
  return `exec ${prefix}${timeout}bash -c ${shQuote(spec.script)}`;
}

// Command that kills a process group whose id the script wrote to `pidFile` (run as the same user).
// `pidFile` is a shell expression expanded remotely (it may contain `$(id -u)`), made of safe characters only.
export function killCommand(spec: Pick<RemoteCommandSpec, 'sshUser' | 'root' | 'user'>, pidFile: string): string {
  if (/["`\\]/.test(pidFile)) throw new Error(`unsafe pid file expression: ${pidFile}`);
  const f = `"${pidFile}"`;
  const script = `pg=$(cat ${f} 2>/dev/null); if [ -n "$pg" ]; then kill -TERM -- "-$pg" 2>/dev/null; sleep 0.5; kill -KILL -- "-$pg" 2>/dev/null; fi; rm -f ${f}; true`;
  return `exec ${switchUserPrefix(spec)}bash -c ${shQuote(script)}`;
}

// Explain the usual ways a user switch fails, from the command's stderr.
export function explainSudoFailure(stderr: string, exitCode: number | null, spec: Pick<RemoteCommandSpec, 'sshUser' | 'root' | 'user'>): string | undefined {
  if (switchUserPrefix(spec) === '') return undefined;
  const target = effectiveUser(spec);
  if (/sudo: (a password is required|a terminal is required)/.test(stderr)) {
    return `sudo needs a password for ${spec.sshUser} to run as ${target}; allow it without one (e.g. "${spec.sshUser} ALL=(ALL) NOPASSWD:ALL" in /etc/sudoers.d/) or log in as root`;
  }
  if (exitCode === 127 && /sudo: (command )?not found|sudo: No such file/.test(stderr)) {
    return `sudo is not installed, so ${spec.sshUser} cannot run commands as ${target}; install sudo or log in as root`;
  }
  if (/is not in the sudoers file|is not allowed to (execute|run)/.test(stderr)) {
    return `${spec.sshUser} may not use sudo to run as ${target}`;
  }
  return undefined;
}
