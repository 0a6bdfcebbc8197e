// The shipped tutorial parses, names its checks, and uses only variables that the lab vars and the example inventory
// define — for real machines (the default variants: LVM + iSCSI) and for the lab (its vars choose Ceph RBD), from the
// one folder.
import { readFile, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseTutorial } from '../../src/runner/parse.js';
import { selectVariants, variantChoices } from '../../src/runner/variants.js';
import { labInventoryFor } from '../../src/lab/inventory.js';
import type { Tutorial } from '../../src/runner/types.js';
import { findVariables } from '../../src/runner/plan.js';
import { installedByAll, validateStageDeclarations } from '../../src/checks/declared.js';
import { INSTALL_KEYS } from '../../src/checks/expect.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = join(ROOT, 'tutorial');
/** Addresses that `stackcheck lab` provides itself (not in tutorial/vars/lab.yaml). */
const LAB_PROVIDED = ['DB_NODE_IP', 'AUTH_NODE_IP', 'IMAGE_NODE_IP', 'API_NODE_IP', 'NETWORK_NODE_IP', 'VOLUME_NODE_IP', 'COMPUTE_1_IP', 'LAB_BRIDGE_IP'];
const ROLES = ['db-node', 'auth-node', 'image-node', 'api-node', 'network-node', 'volume-node', 'compute-1'];

interface VarsFile { vars?: Record<string, unknown>; secret?: string[] }

// Reads a YAML file with `vars:` and `secret:`.
async function readVars(path: string): Promise<VarsFile> {
  return parseYaml(await readFile(path, 'utf8')) as VarsFile;
}

// The two ways the one folder is read: on real machines (nothing chooses: the defaults) and on the lab (its vars).
async function realMachines(): Promise<Tutorial> {
  return selectVariants(await parseTutorial(MAIN), []);
}
async function onTheLab(): Promise<Tutorial> {
  return selectVariants(await parseTutorial(MAIN), variantChoices(labInventoryFor(MAIN).inventory));
}

describe('one tutorial, two variants of its storage stage', () => {
  it('real machines take LVM + iSCSI (the default), the lab takes Ceph RBD (its vars choose it); the other stages are the same', async () => {
    const [real, lab] = await Promise.all([realMachines(), onTheLab()]);
    const storage = (t: Tutorial): string | undefined => t.stages.find((s) => s.variant)?.id;
    expect(storage(real)).toBe('cinder-volume-with-lvm-and-iscsi-on-volume-node');
    expect(real.variants).toEqual([{ name: 'storage', value: 'lvm', from: expect.stringMatching(/^the tutorial's default \(.*10-cinder-volume-lvm\.md:3\)$/) }]);
    expect(storage(lab)).toBe('lab-variant-cinder-volume-with-ceph-rbd-on-volume-node');
    expect(lab.variants).toEqual([{ name: 'storage', value: 'ceph', from: expect.stringMatching(/^inventory .*vars\/lab\.yaml \(variants\.storage\)$/) }]);
    const others = (t: Tutorial): string[] => t.stages.filter((s) => !s.variant).map((s) => s.id);
    expect(others(lab)).toEqual(others(real));
    // The LVM stage's steps are LVM's (a volume group, tgt), the Ceph stage's are Ceph's.
    const commands = (t: Tutorial): string => t.stages.filter((s) => s.variant).flatMap((s) => s.steps.map((st) => (st.kind === 'shell' ? st.command : st.path))).join('\n');
    expect(commands(real)).toMatch(/vgcreate/);
    expect(commands(real)).not.toMatch(/ceph-mon/);
    expect(commands(lab)).toMatch(/ceph-mon/);
    expect(commands(lab)).not.toMatch(/vgcreate/);
  });

  it('there is no copy of the tutorial to keep in step', async () => {
    expect((await readdir(ROOT)).filter((n) => n.startsWith('tutorial'))).toEqual(['tutorial']);
  });
});

describe.each([
  ['real machines', realMachines],
  ['the lab', onTheLab],
])('tutorial/ on %s', (_name, read) => {
  let tutorial0: Tutorial;
  beforeAll(async () => {
    tutorial0 = await read();
  });
  it('parses into twelve stages, each with steps and a checks line, on the seven roles only', async () => {
    const tutorial = await read();
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
  it('on the lab, tutorial/ needs only what tutorial/vars/lab.yaml and the lab define; secrets are marked', async () => {
    const vars = await readVars(join(MAIN, 'vars', 'lab.yaml'));
    const defined = new Set([...Object.keys(vars.vars ?? {}), ...LAB_PROVIDED]);
    const used = [...findVariables(await onTheLab()).keys()];
    expect(used.filter((v) => !defined.has(v))).toEqual([]);
    const passwords = Object.keys(vars.vars ?? {}).filter((n) => /PASS|_KEY$|^METADATA_SECRET$/.test(n));
    expect(passwords.filter((n) => !(vars.secret ?? []).includes(n))).toEqual([]);
  });

  it('on real machines, tutorial/ needs only what the example inventory defines or declares secret', async () => {
    const inv = await readVars(join(ROOT, 'inventories', 'example-seven-vms.yaml'));
    const defined = new Set([...Object.keys(inv.vars ?? {}), ...(inv.secret ?? [])]);
    const used = [...findVariables(await realMachines()).keys()];
    expect(used.filter((v) => !defined.has(v))).toEqual([]);
  });
});
