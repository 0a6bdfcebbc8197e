// The lab remembers what is deployed on it: the tutorial whose stages installed services there. A small tutorial run
// on the lab afterwards (it installs nothing) is remembered beside it and changes nothing `check` expects.
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { join, resolve } from 'node:path';
import { deployedInstalls, readDeployment, recordStageDone, tutorialInventoryPath, clearDeployment, writeDeployment } from '../../src/lab/deployment.js';
import { formatDeployment } from '../../src/lab/status.js';
import { deploymentVarsFile, labInventoryFor } from '../../src/lab/inventory.js';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tempDir } from '../helpers/tmp.js';

const COURSE = {
  source: 'tutorial',
  title: 'OpenStack by hand',
  stages: [
    { id: 'databases', title: 'Databases', installs: { keys: ['mysql', 'rabbitmq'] } },
    { id: 'identity', title: 'Identity', installs: { keys: ['keystone'] } },
    { id: 'first-instance', title: 'First instance' },
  ],
};
const LAB_DIR_BEFORE = process.env.STACKCHECK_LAB_DIR;
afterAll(() => {
  if (LAB_DIR_BEFORE === undefined) delete process.env.STACKCHECK_LAB_DIR;
  else process.env.STACKCHECK_LAB_DIR = LAB_DIR_BEFORE;
});

const FIX = { source: 'fixtures/tutorials/one-off-fix.md', stages: [{ id: 'fix-it', title: 'Fix it' }] };

describe('the lab deployment record', () => {
  beforeEach(() => {
    process.env.STACKCHECK_LAB_DIR = tempDir('sc-deploy-');
  });

  it('records the stages a tutorial that installs something completed, and what they installed', () => {
    expect(readDeployment('lab').deployment).toBeUndefined();
    recordStageDone('lab', COURSE, 'databases', 'tutorial/vars/lab.yaml');
    let d = readDeployment('lab');
    expect(d.deployment?.source).toBe(resolve('tutorial'));
    expect(d.deployment?.varsFile).toBe(resolve('tutorial/vars/lab.yaml'));
    expect(deployedInstalls(d.deployment!)).toEqual(['mysql', 'rabbitmq']);
    recordStageDone('lab', COURSE, 'identity', undefined);
    d = readDeployment('lab');
    expect(deployedInstalls(d.deployment!)).toEqual(['mysql', 'rabbitmq', 'keystone']);
    // the vars file is kept when a later stage's run does not name one
    expect(d.deployment?.varsFile).toBe(resolve('tutorial/vars/lab.yaml'));
    expect(formatDeployment(d)[0]).toMatch(/^deployed: OpenStack by hand \(.*tutorial\): 2\/3 stages done, last \d{4}-\d\d-\d\d /);
    expect(formatDeployment(d)).toContain('  not run yet: first-instance');
  });

  it('a stage run after the stages it builds on (run --from) counts them as done, keeping earlier times', () => {
    recordStageDone('lab', COURSE, 'databases', undefined);
    const first = readDeployment('lab').deployment!.stages[0]!.doneAt;
    recordStageDone('lab', { ...COURSE }, 'first-instance', undefined, ['databases', 'identity']);
    const d = readDeployment('lab').deployment!;
    expect(d.stages.map((s) => !!s.doneAt)).toEqual([true, true, true]);
    expect(d.stages[0]!.doneAt).toBe(first);
  });

  it('a tutorial that installs nothing is remembered beside the deployment and does not replace it', () => {
    recordStageDone('lab', COURSE, 'databases', 'tutorial/vars/lab.yaml');
    recordStageDone('lab', FIX, 'fix-it', undefined);
    const d = readDeployment('lab');
    expect(d.deployment?.source).toBe(resolve('tutorial'));
    expect(d.alsoRan.map((r) => r.source)).toEqual([resolve(FIX.source)]);
    expect(formatDeployment(d).at(-1)).toMatch(/^also ran \(installs nothing, does not change what `check` expects\): one-off-fix\.md/);
  });

  it('another tutorial that installs something replaces it (it now builds on these hosts)', () => {
    recordStageDone('lab', COURSE, 'databases', undefined);
    recordStageDone('lab', { ...COURSE, source: 'another-course' }, 'identity', undefined);
    const d = readDeployment('lab');
    expect(d.deployment?.source).toBe(resolve('another-course'));
    expect(deployedInstalls(d.deployment!)).toEqual(['keystone']);
  });

  it('is forgotten when the hosts are rebuilt, and a snapshot\'s copy is validated before it is put back', () => {
    recordStageDone('lab', COURSE, 'databases', undefined);
    clearDeployment('lab');
    expect(readDeployment('lab')).toEqual({ alsoRan: [] });
    writeDeployment('lab', { deployment: { nonsense: true } });
    expect(readDeployment('lab')).toEqual({ alsoRan: [] });
  });

  it('keeps the variables the stages ran with when the tutorial\'s folder is gone or its vars change (a deleted CI clone)', () => {
    const clone = tempDir('sc-clone-');
    const vars = join(clone, 'vars', 'lab.yaml');
    mkdirSync(join(clone, 'vars'));
    writeFileSync(vars, 'vars:\n  ADMIN_PASS: what-the-hosts-hold\nsecret: [ADMIN_PASS]\n');
    recordStageDone('lab', { ...COURSE, source: clone }, 'databases', vars);
    writeFileSync(vars, 'vars:\n  ADMIN_PASS: edited-later\n');
    expect(readFileSync(deploymentVarsFile('lab') ?? '', 'utf8')).toContain('what-the-hosts-hold');
    rmSync(clone, { recursive: true });
    const kept = deploymentVarsFile('lab') ?? '';
    expect(readFileSync(kept, 'utf8')).toContain('what-the-hosts-hold');
    expect(statSync(kept).mode & 0o077).toBe(0);
    clearDeployment('lab');
    expect(deploymentVarsFile('lab')).toBeUndefined();
  });

  it('each tutorial run on the lab gets its own inventory file, never the lab\'s', () => {
    const a = tutorialInventoryPath('lab', 'tutorial');
    const b = tutorialInventoryPath('lab', 'fixtures/tutorials/one-off-fix.md');
    expect(a).not.toBe(b);
    expect(a).not.toBe(join(process.env.STACKCHECK_LAB_DIR!, 'lab', 'inventory.yaml'));
  });
});

describe('the inventory `run` without --inventory would use (for `plan`)', () => {
  it('has every role of the lab and the tutorial\'s lab vars, with their secrets marked', () => {
    process.env.STACKCHECK_LAB_DIR = tempDir('sc-deploy-');
    const { inventory, varsFile } = labInventoryFor('tutorial');
    expect(varsFile).toBe(join('tutorial', 'vars', 'lab.yaml'));
    // The lab's vars choose the tutorial's Ceph variant.
    expect(inventory.variants).toEqual({ storage: 'ceph' });
    expect(Object.keys(inventory.hosts)).toEqual(['db-node', 'auth-node', 'image-node', 'api-node', 'network-node', 'volume-node', 'compute-1']);
    expect(inventory.vars.DB_NODE_IP).toBe('10.99.0.11');
    expect(inventory.vars.REGION).toBe('RegionOne');
    expect(inventory.secretNames).toContain('ADMIN_PASS');
    // messages about a missing variable name the file a user edits, not a generated one
    expect(inventory.file).toBe(varsFile);
  });
});
