// A FileStep on a host: read the file, compute the new content (INI merge, replace, append-if-absent),
// and write it atomically (temp file + mv) keeping owner and mode; nothing is written when nothing changes.
import type { SshPool } from '../ssh/pool.js';
import { shQuote } from '../ssh/exec.js';
import type { FileStep } from './types.js';
import { mergeIni } from './ini.js';
import { runOnHost, type RemoteRunResult } from './remote.js';

export interface ApplyFileOptions {
  runId: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface ApplyFileResult {
  status: 'created' | 'changed' | 'unchanged' | 'failed';
  /** Human-readable one-liner (`/etc/x.conf: changed`). */
  summary: string;
  /** The remote command that failed, when one did. */
  failure?: RemoteRunResult;
  durationMs: number;
}

// A path as a shell word: `~/x` is the effective user's home; relative paths follow the shared `cd`.
export function pathWord(path: string): string {
  if (path === '~') return '"$HOME"';
  if (path.startsWith('~/')) return `"$HOME"/${shQuote(path.slice(2))}`;
  return shQuote(path);
}

// The content a step wants, given what is there now (undefined = file absent).
export function newContent(step: Pick<FileStep, 'mode' | 'content'>, existing: string | undefined): string {
  const body = step.content.endsWith('\n') || step.content === '' ? step.content : `${step.content}\n`;
  switch (step.mode) {
    case 'ini':
      return mergeIni(existing ?? '', body);
    case 'replace':
      return body;
    case 'append': {
      if (existing === undefined || existing === '') return body;
      // Idempotent: a block already present (ignoring surrounding blank lines) is not added again.
      if (existing.includes(body.trim())) return existing;
      return `${existing}${existing.endsWith('\n') ? '' : '\n'}${body}`;
    }
  }
}

// Script printing `mode owner group` and the base64 content, or ABSENT.
function readScript(path: string): string {
  return [
    `f=${pathWord(path)}`,
    `[ -L "$f" ] && f=$(readlink -f -- "$f")`,
    `if [ -e "$f" ]; then stat -c '%a %U %G' -- "$f" && base64 -w0 -- "$f" && echo; else echo ABSENT; fi`,
  ].join('\n');
}

// Script writing stdin (base64) to the file atomically, keeping owner/mode of an existing file.
function writeScript(path: string, fileMode: string, owner: string | undefined): string {
  return [
    `f=${pathWord(path)}`,
    `[ -L "$f" ] && f=$(readlink -f -- "$f")`,
    `d=$(dirname -- "$f")`,
    `mkdir -p -- "$d" || exit 1`,
    `t=$(mktemp -- "$d/.stackcheck.XXXXXX") || exit 1`,
    `if [ -e "$f" ]; then set_attrs() { chmod --reference="$f" -- "$t" && chown --reference="$f" -- "$t"; }`,
    `else set_attrs() { chmod ${shQuote(fileMode)} -- "$t"${owner ? ` && chown ${shQuote(owner)} -- "$t"` : ''}; }; fi`,
    `if base64 -d > "$t" && set_attrs && mv -f -- "$t" "$f"; then echo "wrote $f"; else rm -f -- "$t"; exit 1; fi`,
  ].join('\n');
}

// Apply one file step; reports unchanged without writing when the content is already right.
export async function applyFile(pool: SshPool, step: FileStep, opts: ApplyFileOptions): Promise<ApplyFileResult> {
  const started = performance.now();
  const common = {
    runId: opts.runId,
    root: step.root,
    timeoutMs: opts.timeoutMs,
    ...(step.user ? { user: step.user } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
  const ms = (): number => Math.round(performance.now() - started);
  const read = await runOnHost(pool, step.host, readScript(step.path), common);
  if (read.exitCode !== 0) return { status: 'failed', summary: `${step.path}: cannot read it`, failure: read, durationMs: ms() };
  const [head = '', data = ''] = read.stdout.split('\n');
  const existing = head === 'ABSENT' ? undefined : Buffer.from(data, 'base64').toString('utf8');
  const wanted = newContent(step, existing);
  if (existing !== undefined && wanted === existing) return { status: 'unchanged', summary: `${step.path}: unchanged`, durationMs: ms() };
  // A new file: the step's chmod=/owner=, else 0644 and root:root when we write as root.
  const asRoot = step.user === undefined ? step.root : step.user === 'root';
  const owner = step.owner ?? (asRoot ? 'root:root' : undefined);
  const write = await runOnHost(pool, step.host, writeScript(step.path, step.fileMode ?? '0644', owner), {
    ...common,
    input: Buffer.from(wanted, 'utf8').toString('base64'),
  });
  if (write.exitCode !== 0) return { status: 'failed', summary: `${step.path}: cannot write it`, failure: write, durationMs: ms() };
  const status = existing === undefined ? 'created' : 'changed';
  return { status, summary: `${step.path}: ${status}`, durationMs: ms() };
}
