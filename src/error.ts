// Errors that a user reads. Each carries a stable `code`, the process exit code it maps to,
// and the underlying error as `cause` (never swallowed).

/** Exit codes of the `stackcheck` command. */
export const ExitCode = {
  ok: 0,
  /** A step or check failed. */
  failed: 1,
  /** Bad input: tutorial, inventory, arguments. Detected before any host is touched. */
  badInput: 2,
} as const;

export type ErrorCode =
  | 'E_TUTORIAL' // the tutorial document is malformed
  | 'E_INVENTORY' // the inventory file is malformed
  | 'E_VARIABLE' // a {{ VARIABLE }} is not defined
  | 'E_ROLE' // a step names a role the inventory does not map
  | 'E_ARGS' // bad command-line arguments
  | 'E_CATALOGUE' // the fault catalogue is malformed
  | 'E_ROSTER' // a grading roster is malformed
  | 'E_RUBRIC' // a grading rubric is malformed
  | 'E_SSH_CONNECT' // host unreachable / auth failed
  | 'E_SSH_HOSTKEY' // host key unknown or mismatched
  | 'E_STEP' // a step failed (exit code, timeout)
  | 'E_LAB' // the lab could not be built / used
  | 'E_CHECK' // a check could not run
  | 'E_INTERNAL';

/** Where in a source file something is; `line` is 1-based. */
export interface Location {
  file: string;
  line: number;
}

export function formatLocation(loc: Location): string {
  return `${loc.file}:${loc.line}`;
}

// Base error: message for humans, code for machines, exit code for the CLI.
export class StackcheckError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  readonly location: Location | undefined;
  readonly hint: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { location?: Location; hint?: string; cause?: unknown; exitCode?: number } = {},
  ) {
    super(opts.location ? `${formatLocation(opts.location)}: ${message}` : message, { cause: opts.cause });
    this.name = 'StackcheckError';
    this.code = code;
    this.location = opts.location;
    this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? (isInputError(code) ? ExitCode.badInput : ExitCode.failed);
  }
}

// Input errors are all reported before anything runs, with exit code 2.
function isInputError(code: ErrorCode): boolean {
  return code === 'E_TUTORIAL' || code === 'E_INVENTORY' || code === 'E_VARIABLE' || code === 'E_ROLE' || code === 'E_ARGS' || code === 'E_CATALOGUE' || code === 'E_ROSTER' || code === 'E_RUBRIC';
}

// Several input errors found in one pass, reported together (a user fixes them all at once).
export class InputErrors extends StackcheckError {
  readonly errors: StackcheckError[];
  constructor(errors: StackcheckError[]) {
    super(errors[0]?.code ?? 'E_TUTORIAL', errors.map((e) => e.message).join('\n'), { exitCode: ExitCode.badInput });
    this.name = 'InputErrors';
    this.errors = errors;
  }
}

const EXIT_CODE_WORDS: Record<number, string> = {
  1: 'general error',
  2: 'misuse of shell builtin / invalid argument',
  100: 'apt/dpkg error (apt-get returns 100 when a package cannot be installed)',
  124: 'timed out',
  126: 'command found but not executable (permission denied)',
  127: 'command not found',
  128: 'invalid exit argument',
  130: 'interrupted (SIGINT)',
  137: 'killed (SIGKILL, often out of memory)',
  143: 'terminated (SIGTERM)',
};

// Turn a shell exit code into words, as zx's error.ts does.
export function describeExitCode(code: number | null, signal?: string | null): string {
  if (signal) return `killed by signal ${signal}`;
  if (code === null) return 'no exit status';
  const known = EXIT_CODE_WORDS[code];
  if (known) return `exit code ${code} (${known})`;
  if (code > 128 && code < 160) return `exit code ${code} (killed by signal ${code - 128})`;
  return `exit code ${code}`;
}

const ERROR_LINE = /\b(error|err:|e:|fatal|failed|failure|denied|not found|no such|cannot|can't|unable|traceback|exception|refused|timed out|invalid)\b/i;

// Lift the lines that explain a failure out of long output (zx's findErrors idea):
// error-looking lines first, then the tail, at most `max` lines.
export function findErrors(output: string, max = 8): string[] {
  const lines = output.split(/\r?\n/).filter((l) => l.trim() !== '');
  const errors = lines.filter((l) => ERROR_LINE.test(l));
  const picked = errors.length > 0 ? errors.slice(-max) : lines.slice(-max);
  return picked.map((l) => (l.length > 300 ? `${l.slice(0, 300)}…` : l));
}
