// Running host commands for the lab (lxc-*, ip, debootstrap, apt-get) and reporting progress.
import { spawn } from 'node:child_process';
import { StackcheckError, describeExitCode, findErrors } from '../error.js';

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Kill after this many ms. */
  timeoutMs?: number;
  /** Text written to stdin. */
  input?: string;
}

// Run a program (no shell), collect its output; never throws for a non-zero exit.
export function execTry(cmd: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: { ...process.env, LC_ALL: 'C', ...opts.env },
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) {
      timer = setTimeout(() => {
        stderr += `\n(timed out after ${Math.round(opts.timeoutMs! / 1000)} s)`;
        child.kill('SIGKILL');
      }, opts.timeoutMs);
    }
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      reject(new StackcheckError('E_LAB', `cannot run ${cmd}: ${err.message}`, { cause: err }));
    });
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (child.stdin) {
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input);
    }
  });
}

// Run a program and throw a StackcheckError naming the command and its error lines when it fails.
export async function exec(cmd: string, args: string[], opts: ExecOptions = {}): Promise<string> {
  const r = await execTry(cmd, args, opts);
  if (r.code !== 0) {
    const lines = findErrors(`${r.stdout}\n${r.stderr}`, 6);
    throw new StackcheckError(
      'E_LAB',
      `${cmd} ${args.join(' ')} failed: ${describeExitCode(r.code)}${lines.length ? `\n    ${lines.join('\n    ')}` : ''}`,
    );
  }
  return r.stdout;
}

/** Where progress lines go (the CLI prints them to stderr; tests may collect them). */
export type Progress = (line: string) => void;

// Print "what … done in N s" around a piece of work.
export async function timed<T>(progress: Progress, what: string, fn: () => Promise<T>): Promise<T> {
  const start = Date.now();
  progress(`${what} …`);
  const result = await fn();
  progress(`${what}: done in ${seconds(Date.now() - start)}`);
  return result;
}

// Milliseconds as a short human figure.
export function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

// Sleep for `ms` milliseconds.
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
