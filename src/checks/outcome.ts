// How a check reports what it found: a failure (non-conforming) or a broken check (could not run), each
// with one line "expected X, found Y" and the evidence that shows it. Thrown inside a vitest test.
import type { CheckStatus, Evidence } from './types.js';

/** What a check attaches to its vitest task (`task.meta.stackcheck`), read back by the runner. */
export interface CheckOutcome {
  status: Exclude<CheckStatus, 'skipped'>;
  message: string;
  expected?: string;
  found?: string;
  evidence: Evidence[];
  /** Where the fix is when it is not where the check usually points (`stage` is an install key). */
  remedy?: { stage: string; text: string };
}

const MAX_EVIDENCE = 8_000;

// Keep evidence bodies short enough to read and to store in hundreds of results.
export function excerpt(text: string, max = MAX_EVIDENCE): string {
  // Control characters (other than newline and tab) would garble terminals and XML reports.
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '');
  if (clean.length <= max) return clean;
  const head = clean.slice(0, Math.floor(max / 2));
  const tail = clean.slice(-Math.floor(max / 2));
  return `${head}\n… [${clean.length - max} characters cut] …\n${tail}`;
}

/** The one-line message: `expected X, found Y`. */
export function expectedFound(expected: string, found: string): string {
  return `expected ${expected}, found ${found}`;
}

// Base of both outcomes: carries expected/found and evidence across the vitest boundary.
export class CheckOutcomeError extends Error {
  readonly status: 'failed' | 'broken';
  readonly expected: string | undefined;
  readonly found: string | undefined;
  readonly evidence: Evidence[];
  /** Set by `fixAt` when what was found points at another stage than the check's usual remedy. */
  remedy: { stage: string; text: string } | undefined;

  constructor(status: 'failed' | 'broken', message: string, opts: { expected?: string; found?: string; evidence?: Evidence[]; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.status = status;
    this.expected = opts.expected;
    this.found = opts.found;
    this.evidence = opts.evidence ?? [];
  }

  /** Point the remedy at the stage (install key) that really configures what broke, with what to do there. */
  fixAt(stage: string, text: string): this {
    this.remedy = { stage, text };
    return this;
  }

  /** Attach more evidence (e.g. a service log tail) before the error leaves the test. */
  attach(...ev: Evidence[]): this {
    this.evidence.push(...ev);
    return this;
  }
}

/** The deployment does not conform: expected X, found Y. */
export class CheckFailure extends CheckOutcomeError {
  constructor(expected: string, found: string, evidence: Evidence[] = [], cause?: unknown) {
    super('failed', expectedFound(expected, found), { expected, found, evidence, cause });
    this.name = 'CheckFailure';
  }
}

/** The check could not run (host unreachable, prerequisite missing): says why. */
export class CheckBroken extends CheckOutcomeError {
  constructor(reason: string, evidence: Evidence[] = [], cause?: unknown) {
    super('broken', `cannot check: ${reason}`, { evidence, cause });
    this.name = 'CheckBroken';
  }
}

/** Fail unless `ok`; `found` is computed lazily (it may describe a large value). */
export function expectThat(ok: boolean, expected: string, found: string | (() => string), evidence: Evidence[] = []): void {
  if (!ok) throw new CheckFailure(expected, typeof found === 'function' ? found() : found, evidence);
}

/** Evidence helpers. */
export const evidence = {
  text(name: string, body: string): Evidence {
    return { name, contentType: 'text/plain', body: excerpt(body) };
  },
  json(name: string, value: unknown): Evidence {
    return { name, contentType: 'application/json', body: excerpt(JSON.stringify(value, null, 2)) };
  },
  http(method: string, url: string, status: number | undefined, body: string): Evidence {
    return { name: `HTTP ${method} ${url}`, contentType: 'text/plain', body: excerpt(`${method} ${url}\n→ ${status ?? 'no response'}\n\n${body}`, 4000) };
  },
  command(host: string, command: string, r: { exitCode: number | null; stdout: string; stderr: string }): Evidence {
    return {
      name: `${host}: ${command.length > 80 ? `${command.slice(0, 77)}…` : command}`,
      contentType: 'text/plain',
      body: excerpt(`$ ${command}\nexit ${r.exitCode ?? 'none'}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`),
    };
  },
};

const LOG_ERROR = /\b(ERROR|CRITICAL|TRACE|Traceback|Exception)\b/;

// A log tail with its ERROR/TRACE lines first (the reason), then the plain tail (the context).
export function logExcerpt(log: string, maxErrorLines = 40, maxTail = 30): string {
  const lines = log.split(/\r?\n/).filter((l) => l.trim() !== '');
  const errors = lines.filter((l) => LOG_ERROR.test(l)).slice(-maxErrorLines);
  const tail = lines.slice(-maxTail);
  const parts: string[] = [];
  if (errors.length > 0) parts.push(`--- ERROR/TRACE lines (${errors.length})`, ...errors);
  parts.push(`--- last ${tail.length} lines`, ...tail);
  return parts.join('\n');
}

// Turn anything thrown inside a check into an outcome: our errors keep their status, others are broken.
export function toOutcome(err: unknown): CheckOutcome {
  if (err instanceof CheckOutcomeError) {
    return {
      status: err.status,
      message: err.message,
      ...(err.expected !== undefined ? { expected: err.expected } : {}),
      ...(err.found !== undefined ? { found: err.found } : {}),
      evidence: err.evidence,
      ...(err.remedy ? { remedy: err.remedy } : {}),
    };
  }
  const msg = err instanceof Error ? err.message : String(err);
  const stack = err instanceof Error && err.stack ? [{ name: 'error', contentType: 'text/plain' as const, body: excerpt(err.stack, 4000) }] : [];
  return { status: 'broken', message: `cannot check: ${msg}`, evidence: stack };
}
