// Grading against a real deployment (the chk lab: MariaDB, RabbitMQ, Keystone) through the library: a student who
// takes longer than --timeout is let go at the timeout with what was checked by then (status timed-out, the reason),
// and never holds up the student graded beside them.
import { writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { prerequisite, requires } from '../helpers/requires.js';
import { tempDir } from '../helpers/tmp.js';
import { chkTarget, CHK_VARS, type ChkTarget } from '../checks/chk-target.js';
import { labDir } from '../../src/lab/state.js';
import { grade } from '../../src/grade/grade.js';
import { gradedAddress } from '../../src/grade/ledger.js';

const gate = requires(prerequisite.root());

gate.describe('grade on a real deployment', () => {
  let chk: ChkTarget;
  let roster: string;
  // The chk deployment graded by the first test (for the hostile one, which grades it again beside a hostile student).
  let gradedAlone: Awaited<ReturnType<typeof grade>>['students'][number] | undefined;

  beforeAll(async () => {
    chk = await chkTarget();
    const dir = tempDir('grade-it-');
    const c = labDir('chk');
    writeFileSync(
      join(dir, 'chk.yaml'),
      ['ssh:', '  user: root', `  key: ${c}/id_ed25519`, `  known_hosts: ${c}/known_hosts`, 'hosts:', `  db-node: { address: ${CHK_VARS.DB_NODE_IP}, hostname: db-node }`, `  auth-node: { address: ${CHK_VARS.DB_NODE_IP}, hostname: db-node }`, 'vars:', ...Object.entries(CHK_VARS).map(([k, v]) => `  ${k}: "${v}"`), ''].join('\n'),
      { mode: 0o600 },
    );
    roster = join(dir, 'class.csv');
    writeFileSync(roster, 'id,name,inventory\nquick,Quick,chk.yaml\nslow,Slow,chk.yaml\n');
  }, 900_000);
  afterAll(() => chk?.close());

  gate.it('lets a student go at the timeout with the reason, the other graded in full', async () => {
    const env = { STACKCHECK_STATE_DIR: tempDir('grade-state-') };
    const full = await grade({ roster, tutorial: 'tutorial', concurrency: 2, timeoutMs: 600_000, env });
    // The deployments graded are remembered, so a drill will not break them by mistake.
    expect(gradedAddress([CHK_VARS.DB_NODE_IP!], env)).toMatchObject({ address: CHK_VARS.DB_NODE_IP, roster });
    const quick = full.students.find((s) => s.id === 'quick');
    gradedAlone = quick;
    expect(quick?.status).toBe('graded');
    expect(quick?.points).toBeGreaterThan(0);
    // The same deployment twice: the same score.
    expect(full.students.find((s) => s.id === 'slow')?.points).toBe(quick?.points);

    const started = Date.now();
    const cut = await grade({ roster, tutorial: 'tutorial', concurrency: 2, timeoutMs: 1500, env });
    expect(Date.now() - started).toBeLessThan(120_000);
    for (const s of cut.students) {
      expect(s.status).toBe('timed-out');
      expect(s.reason).toMatch(/stopped after 2 s \(--timeout\)/);
      expect(s.points).toBeLessThan(quick?.points ?? 0);
      expect(s.max).toBe(quick?.max);
    }
  }, 900_000);
  gate.it('a hostile student (SSH, Keystone, MariaDB and RabbitMQ that accept and never answer) beside a good one: the good one graded in full, the other let go within its timeout', async () => {
    const sockets = new Set<Socket>();
    const track = (x: Server | HttpServer): void => void x.on('connection', (k: Socket) => (sockets.add(k), k.on('close', () => sockets.delete(k))));
    const tcp = createServer(() => undefined);
    const http = createHttpServer(() => undefined);
    track(tcp);
    track(http);
    const port = async (x: Server | HttpServer): Promise<number> => {
      await new Promise<void>((res) => x.listen(0, '127.0.0.1', res));
      return (x.address() as { port: number }).port;
    };
    const [t, h] = [await port(tcp), await port(http)];
    try {
      const dir = tempDir('grade-hostile-');
      const c = labDir('chk');
      writeFileSync(join(dir, 'chk.yaml'), ['ssh:', '  user: root', `  key: ${c}/id_ed25519`, `  known_hosts: ${c}/known_hosts`, 'hosts:', `  db-node: { address: ${CHK_VARS.DB_NODE_IP}, hostname: db-node }`, `  auth-node: { address: ${CHK_VARS.DB_NODE_IP}, hostname: db-node }`, 'vars:', ...Object.entries(CHK_VARS).map(([k, v]) => `  ${k}: "${v}"`), ''].join('\n'), { mode: 0o600 });
      const hostileVars = { ...CHK_VARS, OS_AUTH_URL: `http://127.0.0.1:${h}/v3`, DB_PORT: String(t), RABBIT_PORT: String(t), DB_NODE_IP: '127.0.0.1', AUTH_NODE_IP: '127.0.0.1' };
      writeFileSync(join(dir, 'hostile.yaml'), ['ssh:', '  user: root', `  key: ${c}/id_ed25519`, `  known_hosts: ${c}/known_hosts`, '  connect_timeout: 3s', 'hosts:', `  db-node: { address: 127.0.0.1, port: ${t} }`, `  auth-node: { address: 127.0.0.1, port: ${t} }`, 'vars:', ...Object.entries(hostileVars).map(([k, v]) => `  ${k}: "${v}"`), ''].join('\n'), { mode: 0o600 });
      const two = join(dir, 'class.csv');
      writeFileSync(two, 'id,name,inventory\ngood,Good,chk.yaml\nhostile,Hostile,hostile.yaml\n');
      const env = { STACKCHECK_STATE_DIR: tempDir('grade-state-') };
      // (graded alone by the test before: `quick`)
      const alone = gradedAlone;
      expect(alone?.status).toBe('graded');
      const started = Date.now();
      const book = await grade({ roster: two, tutorial: 'tutorial', concurrency: 2, timeoutMs: 30_000, env });
      const took = Date.now() - started;
      const good = book.students.find((s) => s.id === 'good');
      const hostile = book.students.find((s) => s.id === 'hostile');
      // The good deployment: graded in full, exactly as when it is graded alone.
      expect(good?.status).toBe('graded');
      expect(good?.reason).toBeUndefined();
      expect(good?.points).toBeGreaterThan(0);
      expect(good?.points).toBe(alone?.points);
      const ids = (g: typeof good): string[] => (g?.failures ?? []).map((f) => `${f.id}@${f.host} ${f.status}`).sort();
      expect(ids(good)).toEqual(ids(alone));
      // The hostile one: nothing passes, and it is let go (unreachable, or at its timeout) — not held for ever.
      expect(['unreachable', 'timed-out', 'graded']).toContain(hostile?.status);
      expect(hostile?.points).toBe(0);
      expect(took).toBeLessThan(120_000);
    } finally {
      for (const k of sockets) k.destroy();
      await Promise.all([tcp, http].map((x) => new Promise((res) => x.close(res))));
    }
  }, 900_000);
});
