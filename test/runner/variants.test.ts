// A tutorial's alternatives (`<!-- variant: storage=lvm -->`): which stages a choice keeps, where the choice comes
// from (--variant, the inventory, the tutorial's default), and every mistake refused with file:line before anything
// runs (exit 2): a choice naming no variant or no alternative, a choice left open, a malformed or misplaced comment.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseTutorial } from '../../src/runner/parse.js';
import { declaredVariants, parseVariantArgs, selectVariants, variantChoices } from '../../src/runner/variants.js';
import { ExitCode, StackcheckError } from '../../src/error.js';
import { tempDir } from '../helpers/tmp.js';
import { inventoryFromObject } from '../../src/inventory/load.js';

const STAGES = {
  '01-base.md': '## Base\n\n```sh host=db-node\necho base\n```\n',
  '02-lvm.md': '## Volumes with LVM\n\n<!-- variant: storage=lvm (default) -->\n\n```sh host=volume-node\necho lvm\n```\n',
  '02-ceph.md': '## Volumes with Ceph\n\n<!-- variant: storage=ceph -->\n\n```sh host=volume-node\necho ceph\n```\n',
  '03-after.md': '## Dashboard\n\n<!-- after: volumes-with-lvm, volumes-with-ceph, base -->\n\n```sh host=api-node\necho after\n```\n',
};

function tutorial(files: Record<string, string> = STAGES): string {
  const dir = tempDir('variants-');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

async function refused(p: Promise<unknown> | (() => unknown)): Promise<StackcheckError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    expect(err).toBeInstanceOf(StackcheckError);
    expect((err as StackcheckError).exitCode).toBe(ExitCode.badInput);
    return err as StackcheckError;
  }
  throw new Error('expected an input error');
}

describe('variants of a tutorial', () => {
  test('the parser keeps every alternative, each stage with its variant; the choices are listed with file:line', async () => {
    const dir = tutorial();
    const t = await parseTutorial(dir);
    expect(t.stages.map((s) => [s.id, s.variant ? `${s.variant.name}=${s.variant.value}` : ''])).toEqual([
      ['base', ''],
      ['volumes-with-ceph', 'storage=ceph'],
      ['volumes-with-lvm', 'storage=lvm'],
      ['dashboard', ''],
    ]);
    const [storage] = declaredVariants(t);
    expect(storage?.values.map((v) => `${v.value} ${v.loc.file}:${v.loc.line}`)).toEqual([`ceph ${join(dir, '02-ceph.md')}:3`, `lvm ${join(dir, '02-lvm.md')}:3`]);
    expect(storage?.default?.value).toBe('lvm');
  });

  test('nothing chooses: the default is taken, and the plan says so', async () => {
    const t = selectVariants(await parseTutorial(tutorial()), []);
    expect(t.stages.map((s) => s.id)).toEqual(['base', 'volumes-with-lvm', 'dashboard']);
    expect(t.variants).toEqual([{ name: 'storage', value: 'lvm', from: expect.stringMatching(/^the tutorial's default \(.*02-lvm\.md:3\)$/) }]);
    // A stage that waited for both alternatives waits for the one left.
    expect(t.stages[2]?.after?.ids).toEqual(['volumes-with-lvm', 'base']);
  });

  test('the inventory chooses; --variant comes before it', async () => {
    const parsed = await parseTutorial(tutorial());
    const inv = inventoryFromObject({ hosts: { 'db-node': { address: '10.0.0.1' } }, variants: { storage: 'ceph' } }, 'lab.yaml', '/tmp', {});
    expect(inv.variants).toEqual({ storage: 'ceph' });
    const byInventory = selectVariants(parsed, variantChoices(inv));
    expect(byInventory.stages.map((s) => s.id)).toEqual(['base', 'volumes-with-ceph', 'dashboard']);
    expect(byInventory.variants?.[0]?.from).toBe('inventory lab.yaml (variants.storage)');
    const byFlag = selectVariants(parsed, variantChoices(inv, ['storage=lvm']));
    expect(byFlag.stages.map((s) => s.id)).toEqual(['base', 'volumes-with-lvm', 'dashboard']);
    expect(byFlag.variants?.[0]?.from).toBe('--variant storage=lvm');
  });

  test('a choice of an alternative that does not exist names the alternatives with file:line', async () => {
    const parsed = await parseTutorial(tutorial());
    const e = await refused(() => selectVariants(parsed, parseVariantArgs(['storage=nfs'])));
    expect(e.message).toMatch(/^--variant storage=nfs: "nfs" is no alternative of variant "storage" of .*: choose one of ceph \(.*02-ceph\.md:3\), lvm \(.*02-lvm\.md:3\)$/);
    const e2 = await refused(() => selectVariants(parsed, parseVariantArgs(['network=ovs'])));
    expect(e2.message).toContain('--variant network=ovs: the tutorial');
    expect(e2.message).toContain('has no variant "network"; its variants: storage (ceph, lvm)');
  });

  test('a choice left open with no default is an error at the first alternative, with how to choose', async () => {
    const dir = tutorial({ ...STAGES, '02-lvm.md': STAGES['02-lvm.md'].replace(' (default)', '') });
    const e = await refused(async () => selectVariants(await parseTutorial(dir), []));
    expect(e.location).toEqual({ file: join(dir, '02-ceph.md'), line: 3 });
    expect(e.message).toContain('variant "storage" has alternatives ceph');
    expect(e.message).toContain('and nothing chooses one');
    expect(e.hint).toContain('--variant storage=ceph');
  });

  test('malformed, misplaced or doubled variant comments are refused at their line', async () => {
    const bad = await refused(parseTutorial(tutorial({ 'a.md': '## A\n\n<!-- variant: storage -->\n\n```sh host=x\ntrue\n```\n' })));
    expect(bad.message).toMatch(/a\.md:3: "<!-- variant: storage -->": write <!-- variant: NAME=VALUE -->/);
    const late = await refused(parseTutorial(tutorial({ 'a.md': '## A\n\n```sh host=x\ntrue\n```\n\n<!-- variant: storage=lvm -->\n' })));
    expect(late.message).toMatch(/a\.md:7: the variant comment of stage "a" comes after its first step/);
    const twice = await refused(parseTutorial(tutorial({ 'a.md': '## A\n\n<!-- variant: storage=lvm -->\n<!-- variant: net=ovs -->\n' })));
    expect(twice.message).toMatch(/a\.md:4: stage "a" already belongs to variant storage=lvm \(line 3\)/);
    const defaults = await refused(parseTutorial(tutorial({ 'a.md': '## A\n\n<!-- variant: storage=lvm (default) -->\n\n## B\n\n<!-- variant: storage=ceph (default) -->\n' })));
    expect(defaults.message).toMatch(/a\.md:7: variant "storage" has two defaults: lvm \(.*a\.md:3\) and ceph: mark one/);
  });

  test('--variant must be NAME=VALUE; an inventory\'s variants are checked for form with the field named', async () => {
    const e = await refused(() => parseVariantArgs(['storage']));
    expect(e.message).toBe('--variant storage: expected NAME=VALUE, e.g. --variant storage=ceph');
    const inv = await refused(() => inventoryFromObject({ hosts: { a: { address: '10.0.0.1' } }, variants: { storage: 'ce ph' } }, 'inv.yaml', '/tmp', {}));
    expect(inv.message).toContain('variants.storage');
    expect(inv.message).toContain('"ce ph" is not a variant value');
  });

  test('a tutorial without variants: nothing changes, and a choice for it is an error', async () => {
    const parsed = await parseTutorial(tutorial({ '01-base.md': STAGES['01-base.md'] }));
    expect(selectVariants(parsed, [])).toEqual(parsed);
    const e = await refused(() => selectVariants(parsed, parseVariantArgs(['storage=ceph'])));
    expect(e.message).toContain('(it has no variants)');
  });
});
