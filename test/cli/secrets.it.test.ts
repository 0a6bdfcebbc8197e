// Secrets planted in a run, with the built CLI on a real sshd: a password from the secrets file printed plainly, split
// by colour escapes, split across two writes, inside a URL and in a failing step's message; then the whole run folder
// (step logs, state, run.json, Allure, JUnit, summary.json) is searched for it in every form the scan knows (plain,
// JSON/HTML-escaped, URL-encoded, base64, split by escapes), and the captured terminal output too. The step logs are
// safe to `cat`: no escape sequence or other control character is kept in them.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSshd, type TestSshd } from '../helpers/sshd.js';
import { prerequisite, requires } from '../helpers/requires.js';
import { buildCli, CLI } from '../helpers/build.js';
import { tempDir } from '../helpers/tmp.js';
import { findSecretLeaks } from '../../src/report/redact-results.js';

const SECRET = 'Zq9xK7vLmP2wRt';

requires(prerequisite.sshd()).describe('secrets planted in a run (built CLI, real sshd)', () => {
  let sshd: TestSshd;
  let dir: string;

  beforeAll(async () => {
    buildCli();
    sshd = await startSshd();
    dir = tempDir('sc-secrets-');
  }, 300_000);

  afterAll(async () => {
    await sshd?.stop();
  });

  it('is nowhere in the run folder or on the terminal, however the target prints it', async () => {
    writeFileSync(join(dir, 'secrets.yaml'), `DB_PASS: ${SECRET}\n`, { mode: 0o600 });
    const inventory = join(dir, 'inv.yaml');
    writeFileSync(inventory, ['ssh:', `  known_hosts: ${sshd.knownHostsFile}`, 'hosts:', '  node:', '    address: 127.0.0.1', `    port: ${sshd.port}`, `    user: ${sshd.user}`, `    key: ${sshd.keyFile}`, ''].join('\n'));
    const tutorial = join(dir, 'leaky.md');
    writeFileSync(
      tutorial,
      [
        '# Leaky',
        '',
        '## Print it',
        '',
        '```sh host=node',
        "printf 'plain {{ DB_PASS }}\\n'",
        "printf 'coloured Zq9x\\033[31mK7vLmP2wRt\\033[0m\\n'",
        "printf 'bold Z\\033[1mq9x\\033[0mK7v\\033[38;5;196mLmP2wRt\\033[0m\\n'",
        "printf 'two writes Zq9xK7v'; sleep 0.3; printf 'LmP2wRt\\n'",
        "echo 'url mysql+pymysql://nova:{{ DB_PASS }}@db-node/nova'",
        "printf 'title \\033]0;{{ DB_PASS }}\\007 and a clear screen \\033[2J\\n'",
        '```',
        '',
        '## Fail with it',
        '',
        '```sh host=node',
        'echo "the password {{ DB_PASS }} is wrong" >&2; exit 3',
        '```',
        '',
      ].join('\n'),
    );
    const reports = join(dir, 'reports');
    const r = await new Promise<{ code: number | null; out: string }>((done) => {
      const p = spawn(process.execPath, [CLI, 'run', tutorial, '--inventory', inventory, '--secrets', join(dir, 'secrets.yaml'), '--reports', reports], { cwd: dir, env: { ...process.env, FORCE_COLOR: '1' } });
      let out = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr.on('data', (d: Buffer) => (out += d.toString()));
      p.on('close', (code) => done({ code, out }));
    });
    expect(r.code, r.out).toBe(1);
    expect(r.out).toContain('plain ••••••');
    // The terminal: the secret in no form, also once every escape sequence is removed.
    // eslint-disable-next-line no-control-regex
    const screen = r.out.replace(/\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)/g, '');
    expect(screen).not.toContain(SECRET);
    expect(r.out).not.toContain(SECRET);
    // The run folder, every file, every form.
    expect(findSecretLeaks(reports, { DB_PASS: SECRET })).toEqual([]);
    // Step logs are safe to cat: no escape or other control character but newline and tab.
    const logs = (readdirSync(join(reports, 'latest', 'steps'), { recursive: true }) as string[]).map((n) => join(reports, 'latest', 'steps', n)).filter((p) => statSync(p).isFile());
    expect(logs.length).toBeGreaterThan(0);
    for (const f of logs) {
      // eslint-disable-next-line no-control-regex
      expect(readFileSync(f, 'utf8'), f).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f\x9b]/);
    }
  }, 180_000);
});
