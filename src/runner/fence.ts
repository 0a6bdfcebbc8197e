// Annotated fences: the info string of ```` ```sh host=db-node timeout=10m ```` read into validated step options.
import { parseDuration } from '../duration.js';
import { closest } from '../suggest.js';

/** Languages whose annotated block is one shell command. */
export const SHELL_LANGS = ['sh', 'bash', 'shell', 'console'] as const;

/** Every option an annotated fence accepts. */
export const FENCE_OPTIONS = [
  'host',
  'user',
  'timeout',
  'expect-exit',
  'retries',
  'retry-delay',
  'file',
  'mode',
  'chmod',
  'owner',
] as const;
type OptionName = (typeof FENCE_OPTIONS)[number];

const FILE_ONLY: OptionName[] = ['file', 'mode', 'chmod', 'owner'];
const SHELL_ONLY: OptionName[] = ['expect-exit'];

/** Options of an annotated fence, validated; `errors` says what is wrong, one message each. */
export interface FenceSpec {
  lang: string;
  host: string;
  kind: 'shell' | 'file';
  user?: string;
  timeoutMs?: number;
  expectExit: number[];
  retries: number;
  retryDelayMs?: number;
  path?: string;
  mode?: 'ini' | 'replace' | 'append';
  fileMode?: string;
  owner?: string;
}

/** The info string split into its language and `key=value` words. */
export interface InfoWords {
  lang: string;
  options: Array<{ key: string; value: string }>;
  /** Words without `=` after the language. */
  bare: string[];
  /** A quote that is never closed. */
  unclosedQuote: boolean;
}

// Splits an info string into words, honouring "double" and 'single' quotes inside values.
export function splitInfo(info: string): InfoWords {
  const words: string[] = [];
  let word = '';
  let quote = '';
  let inWord = false;
  const text = info.trim();
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? '';
    if (!quote && text.startsWith('{{', i)) {
      // a {{ VARIABLE }} may hold spaces: it belongs to the word
      const end = text.indexOf('}}', i);
      const stop = end < 0 ? text.length : end + 2;
      word += text.slice(i, stop);
      inWord = true;
      i = stop - 1;
      continue;
    }
    if (quote) {
      if (c === quote) quote = '';
      else word += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
      continue;
    }
    if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    word += c;
    inWord = true;
  }
  if (inWord) words.push(word);
  const first = words[0];
  const lang = first !== undefined && !first.includes('=') ? first : '';
  const rest = lang ? words.slice(1) : words;
  const options: Array<{ key: string; value: string }> = [];
  const bare: string[] = [];
  for (const w of rest) {
    const eq = w.indexOf('=');
    if (eq > 0) options.push({ key: w.slice(0, eq), value: w.slice(eq + 1) });
    else bare.push(w);
  }
  return { lang, options, bare, unclosedQuote: quote !== '' };
}

/** A fence is annotated (executable) when its info string has at least one `key=value` word. */
export function isAnnotated(info: string): boolean {
  return splitInfo(info).options.length > 0;
}

// Reads and checks every option of an annotated fence; all problems are reported, not just the first.
export function readFenceSpec(info: string): { spec?: FenceSpec; errors: string[] } {
  const words = splitInfo(info);
  const errors: string[] = [];
  const seen = new Map<string, string>();
  if (words.unclosedQuote) errors.push(`unclosed quote in the fence options "${info.trim()}"`);
  for (const b of words.bare) {
    errors.push(`"${b}" is not an option: options are written key=value (known: ${FENCE_OPTIONS.join(', ')})`);
  }
  for (const { key, value } of words.options) {
    if (!(FENCE_OPTIONS as readonly string[]).includes(key)) {
      const near = closest(key, FENCE_OPTIONS);
      errors.push(`unknown option ${key}=${near ? ` (did you mean ${near}=?)` : ''}; known options: ${FENCE_OPTIONS.join(', ')}`);
      continue;
    }
    if (seen.has(key)) {
      errors.push(`option ${key}= is given twice`);
      continue;
    }
    seen.set(key, value);
  }
  const kind: 'shell' | 'file' = seen.has('file') ? 'file' : 'shell';
  const lang = words.lang.toLowerCase();
  if (kind === 'shell' && lang !== '' && !(SHELL_LANGS as readonly string[]).includes(lang)) {
    errors.push(
      `a \`${words.lang}\` block cannot be run: use ${SHELL_LANGS.join('/')} for commands, or add file=PATH to write it to a file`,
    );
  }
  for (const key of seen.keys()) {
    if (kind === 'shell' && FILE_ONLY.includes(key as OptionName) && key !== 'file') {
      errors.push(`option ${key}= only applies to file blocks: add file=PATH, or remove ${key}=`);
    }
    if (kind === 'file' && SHELL_ONLY.includes(key as OptionName)) {
      errors.push(`option ${key}= only applies to shell blocks, not to file=${seen.get('file') ?? ''}`);
    }
  }
  const host = seen.get('host');
  if (host === undefined || host === '') {
    errors.push(
      kind === 'file'
        ? 'missing host=: say which role gets this file, e.g. ```ini file=/etc/keystone/keystone.conf host=auth-node```'
        : 'missing host=: say which role runs this block, e.g. ```sh host=db-node```',
    );
  } else if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(host)) {
    errors.push(`host=${host}: a role is letters, digits, "-", "_" or "." (e.g. db-node)`);
  }
  const spec: FenceSpec = { lang, host: host ?? '', kind, expectExit: [0], retries: 0 };
  const user = seen.get('user');
  if (user !== undefined) {
    if (!/^[a-z_][a-z0-9_.-]*\$?$/i.test(user)) errors.push(`user=${user}: expected a user name such as root or stack`);
    else if (user !== 'root') spec.user = user;
  }
  const timeout = seen.get('timeout');
  if (timeout !== undefined) {
    const ms = parseDuration(timeout);
    if (ms === undefined || ms <= 0) errors.push(`timeout=${timeout}: expected a duration such as 90s, 10m, 1h or a number of seconds`);
    else spec.timeoutMs = ms;
  }
  const retryDelay = seen.get('retry-delay');
  if (retryDelay !== undefined) {
    const ms = parseDuration(retryDelay);
    if (ms === undefined) errors.push(`retry-delay=${retryDelay}: expected a duration such as 5s, 1m or a number of seconds`);
    else spec.retryDelayMs = ms;
  }
  const retries = seen.get('retries');
  if (retries !== undefined) {
    if (!/^\d+$/.test(retries) || Number(retries) > 100) errors.push(`retries=${retries}: expected a whole number from 0 to 100`);
    else spec.retries = Number(retries);
  }
  const expectExit = seen.get('expect-exit');
  if (expectExit !== undefined) {
    const codes = expectExit.split(',').map((c) => c.trim());
    if (codes.some((c) => !/^\d+$/.test(c) || Number(c) > 255)) {
      errors.push(`expect-exit=${expectExit}: expected exit codes from 0 to 255 separated by commas, e.g. expect-exit=0,1`);
    } else spec.expectExit = [...new Set(codes.map(Number))];
  }
  if (kind === 'file') {
    const path = seen.get('file') ?? '';
    if (!path.startsWith('/') && !path.startsWith('~/') && !path.startsWith('{{')) {
      errors.push(`file=${path}: expected an absolute path such as /etc/nova/nova.conf (or ~/path in the user's home)`);
    }
    spec.path = path;
    const mode = seen.get('mode') ?? (lang === 'ini' ? 'ini' : 'replace');
    if (mode !== 'ini' && mode !== 'replace' && mode !== 'append') {
      errors.push(`mode=${mode}: expected ini (merge keys), replace (write the whole file) or append (add the lines if absent)`);
    } else spec.mode = mode;
    const chmod = seen.get('chmod');
    if (chmod !== undefined) {
      if (!/^0?[0-7]{3,4}$/.test(chmod)) errors.push(`chmod=${chmod}: expected an octal mode such as 0640`);
      else spec.fileMode = chmod.length === 3 ? `0${chmod}` : chmod;
    }
    const owner = seen.get('owner');
    if (owner !== undefined) {
      if (!/^[a-z_][a-z0-9_.-]*(:[a-z_][a-z0-9_.-]*)?$/i.test(owner)) errors.push(`owner=${owner}: expected user or user:group, e.g. root:keystone`);
      else spec.owner = owner;
    }
  }
  return errors.length > 0 ? { errors } : { spec, errors };
}
