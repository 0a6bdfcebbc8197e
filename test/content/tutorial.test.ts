// The shipped tutorial (tutorial/ and its lab twin tutorial-lab/) parses, names its checks, and
// uses only variables that the lab vars and the example inventory define.
import { readFile, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseTutorial } from '../../src/runner/parse.js';
import { findVariables } from '../../src/runner/plan.js';
import { installedByAll, validateStageDeclarations } from '../../src/checks/declared.js';
import { INSTALL_KEYS } from '../../src/checks/expect.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = join(ROOT, 'tutorial');
const LAB = join(ROOT, 'tutorial-lab');
const LAB_VARIANT = '10-cinder-volume-ceph.md';
const MAIN_ONLY = '10-cinder-volume-lvm.md';
/** Addresses that `stackcheck lab` provides itself (not in tutorial/vars/lab.yaml). */
const LAB_PROVIDED = ['DB_NODE_IP', 'AUTH_NODE_IP', 'IMAGE_NODE_IP', 'API_NODE_IP', 'NETWORK_NODE_IP', 'VOLUME_NODE_IP', 'COMPUTE_1_IP', 'LAB_BRIDGE_IP'];
const ROLES = ['db-node', 'auth-node', 'image-node', 'api-node', 'network-node', 'volume-node', 'compute-1'];

interface VarsFile { vars?: Record<string, unknown>; secret?: string[] }

// Reads a YAML file with `vars:` and `secret:`.
async function readVars(path: string): Promise<VarsFile> {
  return parseYaml(await readFile(path, 'utf8')) as VarsFile;
}

describe('tutorial-lab/ is tutorial/ with the Ceph variant as stage 10', () => {
  it('has the same files except stage 10, byte for byte (run scripts/sync-tutorial-lab.sh)', async () => {
    const main = (await readdir(MAIN)).filter((n) => n.endsWith('.md'));
    const lab = (await readdir(LAB)).filter((n) => n.endsWith('.md'));
    expect(lab.sort()).toEqual([...main.filter((n) => n !== MAIN_ONLY), LAB_VARIANT].sort());
    for (const name of main.filter((n) => n !== MAIN_ONLY)) {
      const [a, b] = await Promise.all([readFile(join(MAIN, name), 'utf8'), readFile(join(LAB, name), 'utf8')]);
      expect(b, `tutorial-lab/${name} differs from tutorial/${name}`).toBe(a);
    }
  });
});

describe.each([
  ['tutorial', MAIN],
  ['tutorial-lab', LAB],
])('%s/', (_name, dir) => {
  let tutorial0: Awaited<ReturnType<typeof parseTutorial>>;
  beforeAll(async () => {
    tutorial0 = await parseTutorial(dir);
  });
  it('parses into twelve stages, each with steps and a checks line, on the seven roles only', async () => {
    const tutorial = await parseTutorial(dir);
    expect(tutorial.stages).toHaveLength(12);
    for (const stage of tutorial.stages) {
      expect(stage.steps.length, `stage ${stage.id} has no steps`).toBeGreaterThan(0);
      expect(stage.checks.length, `stage ${stage.id} declares no checks`).toBeGreaterThan(0);
      for (const step of stage.steps) expect(ROLES, `${step.loc.file}:${step.loc.line}`).toContain(step.host);
    }
    expect(tutorial.stages[0]?.id).toBe('overview-and-hosts');
    expect(tutorial.stages.at(-1)?.id).toBe('first-instance');
  });

  it('names only check ids that exist, each at a stage after what it needs', async () => {
    expect(() => validateStageDeclarations(tutorial0)).not.toThrow();
  });

  it('declares that its stages, together, install every service the checks know', () => {
    expect(installedByAll(tutorial0)).toEqual([...INSTALL_KEYS]);
    // every stage but the last (which uses the cloud) installs something
    for (const stage of tutorial0.stages.slice(0, -1)) expect(stage.installs?.keys.length, stage.id).toBeGreaterThan(0);
  });
});

describe('variables', () => {
  it('tutorial-lab/ needs only what tutorial/vars/lab.yaml and the lab define; secrets are marked', async () => {
    const vars = await readVars(join(MAIN, 'vars', 'lab.yaml'));
    const defined = new Set([...Object.keys(vars.vars ?? {}), ...LAB_PROVIDED]);
    const used = [...findVariables(await parseTutorial(LAB)).keys()];
    expect(used.filter((v) => !defined.has(v))).toEqual([]);
    const passwords = Object.keys(vars.vars ?? {}).filter((n) => /PASS|_KEY$|^METADATA_SECRET$/.test(n));
    expect(passwords.filter((n) => !(vars.secret ?? []).includes(n))).toEqual([]);
  });

  it('tutorial/ needs only what the example inventory defines or declares secret', async () => {
    const inv = await readVars(join(ROOT, 'inventories', 'example-seven-vms.yaml'));
    const defined = new Set([...Object.keys(inv.vars ?? {}), ...(inv.secret ?? [])]);
    const used = [...findVariables(await parseTutorial(MAIN)).keys()];
    expect(used.filter((v) => !defined.has(v))).toEqual([]);
  });
});
