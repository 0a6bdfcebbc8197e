// `stackcheck grade` on real deployments in different states, graded in one roster at the same time: the full lab the
// tutorial tier built; the chk lab (MariaDB, RabbitMQ and Keystone only) with a sabotage of the course (the RabbitMQ
// password changed); the full lab seen with a wrong admin password (an inventory from the course's template); and a
// student whose hosts do not answer. The gradebook orders them and names each fault; shards merge into the same
// gradebook. (30 entries against 1, time and peak memory: bench/grade.bench.ts.)
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { buildCli, CLI, ROOT } from '../../helpers/build.js';
import { requires } from '../../helpers/requires.js';
import { tempDir } from '../../helpers/tmp.js';
import { chkTarget, CHK_VARS, type ChkTarget } from '../../checks/chk-target.js';
import { labDir } from '../../../src/lab/state.js';
import type { Gradebook } from '../../../src/grade/grade.js';

// The graded-hosts ledger of these runs stays in a temporary folder, not the machine's.
const STATE = tempDir('grade-state-');
const LAB_INVENTORY = '/var/lib/stackcheck/lab/lab/inventory.yaml';
const gate = requires({
  what: `the deployed lab's inventory (${LAB_INVENTORY})`,
  ok: existsSync(LAB_INVENTORY),
  how: 'build the lab and install the tutorial on it first: `npx stackcheck run tutorial` (or `npm run test:tutorial`)',
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

// The built CLI.
function cli(args: string[]): Promise<Run> {
  return new Promise((done) => {
    const p = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', STACKCHECK_STATE_DIR: STATE } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => done({ code, stdout, stderr }));
  });
}

const book = (dir: string): Gradebook => JSON.parse(readFileSync(join(dir, 'gradebook.json'), 'utf8')) as Gradebook;
// What must be equal between two gradings of the same deployments.
const essence = (b: Gradebook): unknown => b.students.map((s) => ({ id: s.id, points: s.points, status: s.status, failures: s.failures.map((f) => `${f.id}@${f.host}:${f.status}`) }));

gate.describe('stackcheck grade on real deployments', () => {
  let chk: ChkTarget;
  let dir: string;
  let roster: string;

  beforeAll(async () => {
    buildCli();
    chk = await chkTarget();
    dir = tempDir('grade-');
    const lab = readFileSync(LAB_INVENTORY, 'utf8').replace('key: ./id_ed25519', `key: ${labDir('lab')}/id_ed25519`).replace('known_hosts: ./known_hosts', `known_hosts: ${labDir('lab')}/known_hosts`);
    writeFileSync(join(dir, 'lab.yaml'), lab, { mode: 0o600 });
    // The course's template: the lab with the student's admin password filled in from the roster.
    writeFileSync(join(dir, 'template.yaml'), lab.replace(/^ {2}ADMIN_PASS: .*$/m, '  ADMIN_PASS: "{{ ADMIN }}"'), { mode: 0o600 });
    const c = labDir('chk');
    writeFileSync(
      join(dir, 'chk.yaml'),
      ['ssh:', '  user: root', `  key: ${c}/id_ed25519`, `  known_hosts: ${c}/known_hosts`, 'hosts:', `  db-node: { address: ${CHK_VARS.DB_NODE_IP}, hostname: db-node }`, `  auth-node: { address: ${CHK_VARS.DB_NODE_IP}, hostname: db-node }`, 'vars:', ...Object.entries(CHK_VARS).map(([k, v]) => `  ${k}: "${v}"`), ''].join('\n'),
      { mode: 0o600 },
    );
    // Nobody home: every host and service address on loopback, where nothing of OpenStack listens.
    writeFileSync(
      join(dir, 'unreachable.yaml'),
      lab.replace(/address: 10\.99\.0\.\d+, port: 22/g, 'address: 127.0.0.1, port: 1').replace(/^( {2}[A-Z0-9_]+_IP): 10\.99\.0\.\d+$/gm, '$1: 127.0.0.1').replace('connect_timeout: 10s', 'connect_timeout: 3s'),
      { mode: 0o600 },
    );
    roster = join(dir, 'class.yaml');
    writeFileSync(
      roster,
      [
        'template: template.yaml',
        'students:',
        '  - { id: full, name: Full Lab, inventory: lab.yaml }',
        '  - { id: keystone-only, name: Keystone Lab, inventory: chk.yaml }',
        '  - { id: wrong-pass, name: Wrong Password, vars: { ADMIN: wrong-Admin-Pass-1 } }',
        '  - { id: unreachable, name: Nobody Home, inventory: unreachable.yaml }',
        '',
      ].join('\n'),
    );
    await chk.sh("rabbitmqctl change_password openstack 'sabotaged-Rabbit-9'");
  }, 900_000);

  afterAll(async () => {
    await chk?.sh(`rabbitmqctl change_password openstack '${CHK_VARS.RABBIT_PASS}'`).catch(() => undefined);
    await chk?.close();
  });

  gate.it('grades four deployments side by side, orders them and names each fault; shards merge into the same gradebook', async () => {
    const out = join(dir, 'out');
    const r = await cli(['grade', '--roster', roster, '--tutorial', 'tutorial', '--out', out, '--timeout', '5m']);
    expect(r.code, r.stderr).toBe(0);
    const b = book(out);
    const by = Object.fromEntries(b.students.map((s) => [s.id, s]));
    expect(b.students.map((s) => s.id)).toEqual(['full', 'keystone-only', 'unreachable', 'wrong-pass']);
    expect(by.full).toMatchObject({ status: 'graded', percent: 100, failures: [] });
    for (const id of ['keystone-only', 'wrong-pass', 'unreachable']) expect(by[id]?.points ?? 100, id).toBeLessThan(by.full?.points ?? 0);
    expect(by.unreachable).toMatchObject({ status: 'unreachable', points: 0 });
    expect(by.unreachable?.reason).toMatch(/connect|reach|refused/i);
    // each fault named, with its remedy
    expect(by['keystone-only']?.failures.find((f) => f.id === 'rabbitmq.user')).toMatchObject({ status: 'failed', remedy: expect.stringContaining('rabbitmqctl') });
    expect(by['keystone-only']?.failures.find((f) => f.id === 'rabbitmq.user')?.message).toMatch(/openstack/);
    expect(by['wrong-pass']?.failures.map((f) => f.id)).toContain('keystone.auth');
    expect(by['wrong-pass']?.status).toBe('graded');
    expect((by['keystone-only']?.points ?? 0) > 0).toBe(true);
    // The files: CSV rows, a report per student, the class overview; no password anywhere.
    const csv = readFileSync(join(out, 'gradebook.csv'), 'utf8');
    expect(csv.split('\n')[1]).toMatch(/^full,Full Lab,100,100,100,graded,/);
    for (const id of Object.keys(by)) expect(existsSync(join(out, 'students', `${id}.html`))).toBe(true);
    expect(readFileSync(join(out, 'overview.html'), 'utf8')).toContain('what to teach again');
    const all = [csv, readFileSync(join(out, 'gradebook.json'), 'utf8'), ...Object.keys(by).map((id) => readFileSync(join(out, 'students', `${id}.html`), 'utf8'))].join('\n');
    for (const secret of [CHK_VARS.RABBIT_PASS, CHK_VARS.ADMIN_PASS, 'wrong-Admin-Pass-1', /ADMIN_PASS: (\S+)/.exec(readFileSync(LAB_INVENTORY, 'utf8'))?.[1]]) expect(all.includes(secret as string), 'a password in the gradebook').toBe(false);

    // The same deployments graded again: the same scores (deterministic), and the progress columns filled.
    const again = await cli(['grade', '--roster', roster, '--tutorial', 'tutorial', '--out', out]);
    expect(again.code).toBe(0);
    expect(essence(book(out))).toEqual(essence(b));
    expect(book(out).students.find((s) => s.id === 'full')?.previous?.points).toBe(100);

    // Shards 1/3, 2/3, 3/3 merged: the unsharded gradebook.
    const shards = [1, 2, 3].map((i) => join(dir, `shard-${i}`));
    const runs = await Promise.all(shards.map((s, i) => cli(['grade', '--roster', roster, '--tutorial', 'tutorial', '--shard', `${i + 1}/3`, '--out', s])));
    for (const s of runs) expect(s.code, s.stderr).toBe(0);
    const merged = join(dir, 'merged');
    const m = await cli(['grade', 'merge', ...shards, '--out', merged]);
    expect(m.code, m.stderr).toBe(0);
    expect(essence(book(merged))).toEqual(essence(b));
  }, 900_000);
});
