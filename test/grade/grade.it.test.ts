// Grading against a real deployment (the chk lab: MariaDB, RabbitMQ, Keystone) through the library: a student who
// takes longer than --timeout is let go at the timeout with what was checked by then (status timed-out, the reason),
// and never holds up the student graded beside them.
import { writeFileSync } from 'node:fs';
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
});
