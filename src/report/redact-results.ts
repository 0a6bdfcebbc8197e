// Secrets never reach a report: an Allure Writer that redacts everything before it is written,
// and a final guard that scans a run folder for every secret value (plain, JSON/HTML-escaped, base64).
import { stripVTControlCharacters } from 'node:util';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import type { Globals, TestResult, TestResultContainer } from 'allure-js-commons';
import type { Category, EnvironmentInfo } from 'allure-js-commons/sdk';
import type { Writer } from 'allure-js-commons/sdk/reporter';
import type { Redactor } from '../redact.js';
import { StackcheckError } from '../error.js';

// Redact every string inside a JSON-like value (result names, messages, traces, parameters, steps…).
export function redactDeep<T>(value: T, redactor: Redactor): T {
  if (typeof value === 'string') return redactor.redact(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => redactDeep(v, redactor)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = redactDeep(v, redactor);
    return out as T;
  }
  return value;
}

// Text attachments are redacted; binary ones (screenshots) pass as they are.
function redactBuffer(content: Buffer, redactor: Redactor): Buffer {
  if (content.includes(0)) return content;
  const text = content.toString('utf8');
  // Not valid UTF-8 → binary.
  if (!Buffer.from(text, 'utf8').equals(content)) return content;
  return Buffer.from(redactor.redact(text), 'utf8');
}

/** Wraps any allure-js Writer so nothing reaches disk (or a message bus) unredacted. */
export class RedactingWriter implements Writer {
  constructor(
    private readonly inner: Writer,
    private readonly redactor: Redactor,
  ) {}
  writeResult(result: TestResult): void {
    this.inner.writeResult(redactDeep(result, this.redactor));
  }
  writeGroup(result: TestResultContainer): void {
    this.inner.writeGroup(redactDeep(result, this.redactor));
  }
  writeAttachment(distFileName: string, content: Buffer): void {
    this.inner.writeAttachment(distFileName, redactBuffer(content, this.redactor));
  }
  writeAttachmentFromPath(distFileName: string, from: string): void {
    this.writeAttachment(distFileName, readFileSync(from));
  }
  writeEnvironmentInfo(info: EnvironmentInfo): void {
    this.inner.writeEnvironmentInfo(redactDeep(info, this.redactor));
  }
  writeCategoriesDefinitions(categories: Category[]): void {
    this.inner.writeCategoriesDefinitions(redactDeep(categories, this.redactor));
  }
  writeGlobals(distFileName: string, info: Globals): void {
    this.inner.writeGlobals(distFileName, redactDeep(info, this.redactor));
  }
}

/** A secret found where it must not be: file and which secret (by name, never by value). */
export interface SecretLeak {
  file: string;
  secret: string;
  form: 'plain' | 'json-escaped' | 'html-escaped' | 'url-encoded' | 'base64';
  /** Found only once terminal escapes were removed (a secret split by a colour code). */
  splitByEscapes?: true;
}

// The byte patterns a secret can take once written into JSON, HTML, URLs or base64 (single-file reports embed data as base64).
export function secretForms(value: string): { form: SecretLeak['form']; bytes: Buffer }[] {
  const forms: { form: SecretLeak['form']; bytes: Buffer }[] = [{ form: 'plain', bytes: Buffer.from(value) }];
  const json = JSON.stringify(value).slice(1, -1);
  if (json !== value) forms.push({ form: 'json-escaped', bytes: Buffer.from(json) });
  const html = value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
  if (html !== value) forms.push({ form: 'html-escaped', bytes: Buffer.from(html) });
  const url = encodeURIComponent(value);
  if (url !== value) forms.push({ form: 'url-encoded', bytes: Buffer.from(url) });
  // base64 at each of the 3 byte alignments: keep only the characters made purely of the secret's bits.
  const raw = Buffer.from(value);
  for (let k = 0; k < 3; k++) {
    const b64 = Buffer.concat([Buffer.alloc(k), raw]).toString('base64');
    const bits = (k + raw.length) * 8;
    const core = b64.slice(Math.ceil((k * 8) / 6), Math.floor(bits / 6));
    // Short cores would match random base64 by chance (a 4-character core is likely somewhere in 3 MB).
    if (core.length >= 8) forms.push({ form: 'base64', bytes: Buffer.from(core) });
  }
  return forms;
}

// Every regular file under a folder (or the file itself).
function walk(dir: string): string[] {
  if (statSync(dir).isFile()) return [dir];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...walk(p));
    else if (st.isFile()) out.push(p);
  }
  return out;
}

// The Allure report's own code (bundle files, code inlined as data: URIs) holds no run data, and common words
// in it ("admin", "secret") must not pass for a leaked password.
const REPORT_CODE_FILE = /^html\/[^/]+\.(js|css|txt)$/;
const INLINED_CODE = /data:(?:text\/javascript|application\/javascript|text\/css)(?:;charset=[\w-]+)?;base64,[A-Za-z0-9+/=]+/g;

// What of a file may hold run data.
function scannable(rel: string, content: Buffer): Buffer | undefined {
  if (REPORT_CODE_FILE.test(rel)) return undefined;
  if (!rel.endsWith('.html')) return content;
  return Buffer.from(content.toString('utf8').replace(INLINED_CODE, 'data:code'), 'utf8');
}

/** Find every secret value anywhere under `dir` (a folder or one file). `secrets` maps a name (for the message) to the value. */
export function findSecretLeaks(dir: string, secrets: Record<string, string>): SecretLeak[] {
  const wanted = Object.entries(secrets)
    .filter(([, v]) => v.length >= 3)
    .map(([name, v]) => ({ name, forms: secretForms(v) }));
  const leaks: SecretLeak[] = [];
  for (const file of walk(dir)) {
    const rel = (relative(dir, file) || basename(file)).split(sep).join('/');
    const content = scannable(rel, readFileSync(file));
    if (!content) continue;
    // A secret split by terminal escapes (`Zq9x\e[31mK7v…`) is a secret on screen: look in the text without them too.
    const text = content.toString('utf8');
    const plain = text.includes('\u001b') ? Buffer.from(stripVTControlCharacters(text), 'utf8') : undefined;
    for (const s of wanted) {
      const hit = s.forms.find((f) => content.includes(f.bytes));
      const escaped = !hit && plain ? s.forms.find((f) => plain.includes(f.bytes)) : undefined;
      if (hit) leaks.push({ file: rel, secret: s.name, form: hit.form });
      else if (escaped) leaks.push({ file: rel, secret: s.name, form: escaped.form, splitByEscapes: true });
    }
  }
  return leaks;
}

/** The last line of defence: fail loudly if any secret made it into the run folder. */
export function assertNoSecrets(dir: string, secrets: Record<string, string>): void {
  const leaks = findSecretLeaks(dir, secrets);
  if (leaks.length === 0) return;
  const lines = leaks.slice(0, 20).map((l) => `  ${l.file}: secret ${l.secret} (${l.form}${l.splitByEscapes ? ', split by terminal escapes' : ''})`);
  throw new StackcheckError('E_INTERNAL', `secret values found in ${dir} — do not share this folder:\n${lines.join('\n')}`, {
    hint: 'this is a stackcheck bug: a writer bypassed the run Redactor; delete the folder and report it',
  });
}
