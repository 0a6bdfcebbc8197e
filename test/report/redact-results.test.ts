// Secrets are redacted before any Allure writer sees them, and the final guard finds a secret in any form
// a report can hold it (plain, JSON/HTML-escaped, URL-encoded, base64 as in single-file reports).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReporterRuntime, FileSystemWriter } from 'allure-js-commons/sdk/reporter';
import { Redactor } from '../../src/redact.js';
import { assertNoSecrets, findSecretLeaks, RedactingWriter } from '../../src/report/redact-results.js';
import { StackcheckError } from '../../src/error.js';

const SECRET = 'p@ss"w<o>rd&42';

describe('RedactingWriter', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sc-red-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('masks secrets in names, messages, masked parameters, attachments and environment — binary attachments untouched', () => {
    const rt = new ReporterRuntime({
      writer: new RedactingWriter(new FileSystemWriter({ resultsDir: dir }), new Redactor([SECRET])),
      environmentInfo: { 'db.url': `mysql://nova:${SECRET}@db/nova` },
    });
    rt.writeEnvironmentInfo();
    const uuid = rt.startTest({ name: `login with ${SECRET}` });
    rt.updateTest(uuid, (r) => {
      // Allure shows a masked parameter as <masked> but writes its value in plain text: we must not rely on it.
      r.parameters.push({ name: 'password', value: SECRET, mode: 'masked' });
      r.statusDetails = { message: `denied for ${SECRET}`, trace: `at ${SECRET}` };
      r.status = 'failed' as never;
    });
    rt.writeAttachment(uuid, null, 'log', Buffer.from(`line ${SECRET}\n`), { contentType: 'text/plain' });
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0xff, ...Buffer.from(SECRET)]);
    rt.writeAttachment(uuid, null, 'shot', png, { contentType: 'image/png' });
    rt.stopTest(uuid);
    rt.writeTest(uuid);
    const files = readdirSync(dir);
    const texts = files.filter((f) => !f.endsWith('.png')).map((f) => readFileSync(join(dir, f), 'utf8'));
    expect(texts.join('\n')).not.toContain(SECRET);
    expect(texts.join('\n')).toContain('denied for ••••••');
    const shot = files.find((f) => f.endsWith('.png'));
    expect(shot && readFileSync(join(dir, shot)).equals(png)).toBe(true);
  });
});

describe('findSecretLeaks / assertNoSecrets', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sc-leak-'));
    mkdirSync(join(dir, 'html', 'data'), { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('finds a secret in every form a report can hold it', () => {
    writeFileSync(join(dir, 'plain.log'), `x ${SECRET} y`);
    writeFileSync(join(dir, 'r.json'), JSON.stringify({ m: SECRET }));
    writeFileSync(join(dir, 'page.html'), `<p>${SECRET.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')}</p>`);
    writeFileSync(join(dir, 'url.txt'), `https://127.0.0.1/?p=${encodeURIComponent(SECRET)}`);
    // Single-file reports embed data as base64 at any byte offset.
    for (const prefix of ['', 'a', 'ab']) writeFileSync(join(dir, 'html', 'data', `b64-${prefix.length}.html`), `d("x","${Buffer.from(`{"m":"${prefix}${SECRET}"}`).toString('base64')}")`);
    writeFileSync(join(dir, 'clean.txt'), 'nothing here ••••••');
    const leaks = findSecretLeaks(dir, { KEYSTONE_DBPASS: SECRET });
    expect(leaks.map((l) => `${l.file}:${l.form}`).sort()).toEqual(
      ['html/data/b64-0.html:base64', 'html/data/b64-1.html:base64', 'html/data/b64-2.html:base64', 'page.html:html-escaped', 'plain.log:plain', 'r.json:json-escaped', 'url.txt:url-encoded'].sort(),
    );
  });

  it('finds a secret split by terminal escapes (it shows whole on a screen)', () => {
    writeFileSync(join(dir, 'step.log'), `pw: ${SECRET.slice(0, 4)}\u001b[31m${SECRET.slice(4)}\u001b[0m\n`);
    writeFileSync(join(dir, 'other.log'), `${SECRET.slice(0, 4)} and then ${SECRET.slice(4)}\n`);
    expect(findSecretLeaks(dir, { KEYSTONE_DBPASS: SECRET })).toEqual([{ file: 'step.log', secret: 'KEYSTONE_DBPASS', form: 'plain', splitByEscapes: true }]);
    expect(() => assertNoSecrets(dir, { KEYSTONE_DBPASS: SECRET })).toThrow(/step\.log: secret KEYSTONE_DBPASS \(plain, split by terminal escapes\)/);
  });

  it('fails loudly naming file and secret name, never the value', () => {
    writeFileSync(join(dir, 'leak.txt'), SECRET);
    let err: unknown;
    try {
      assertNoSecrets(dir, { KEYSTONE_DBPASS: SECRET });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StackcheckError);
    expect((err as Error).message).toContain('leak.txt: secret KEYSTONE_DBPASS (plain)');
    expect((err as Error).message).not.toContain(SECRET);
    rmSync(join(dir, 'leak.txt'));
    expect(() => assertNoSecrets(dir, { KEYSTONE_DBPASS: SECRET })).not.toThrow();
  });

  it("ignores the report's own code (a common word in Allure's bundle is not a leak) but not the run data in the page", () => {
    const word = 'administrator';
    const code = `function x(){return "${word}"}`;
    writeFileSync(join(dir, 'html', 'app-123.js'), code);
    writeFileSync(join(dir, 'report.html'), `<script src="data:text/javascript;base64,${Buffer.from(code).toString('base64')}"></script>`);
    expect(findSecretLeaks(dir, { ADMIN_PASS: word })).toEqual([]);
    writeFileSync(join(dir, 'report.html'), `<script src="data:text/javascript;base64,${Buffer.from(code).toString('base64')}"></script><script>d("r.json","${Buffer.from(`{"m":"${word}"}`).toString('base64')}")</script>`);
    expect(findSecretLeaks(dir, { ADMIN_PASS: word })).toEqual([{ file: 'report.html', secret: 'ADMIN_PASS', form: 'base64' }]);
  });
});
