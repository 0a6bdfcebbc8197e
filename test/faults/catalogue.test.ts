// The fault catalogue as data: it reads, every place and variable it uses exists in the lab's and the example
// inventory, every check is shown failing by a fault (or by a named test of the fault suite), and a malformed
// catalogue is refused with file:line and exit code 2 before anything touches a host.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { loadCatalogue, parseCatalogue } from '../../src/faults/catalogue.js';
import { fillVariables, placeRole } from '../../src/faults/inject.js';
import { labInventoryFor } from '../../src/lab/inventory.js';
import { inventoryFromObject } from '../../src/inventory/load.js';
import { parse } from 'yaml';
import { CHECKS } from '../../src/checks/registry.js';
import { InputErrors } from '../../src/error.js';
import { PROVEN_ELSEWHERE } from './proven-elsewhere.js';

const catalogue = loadCatalogue();

describe('the shipped catalogue', () => {
  test('every place and {{ VARIABLE }} resolves on the lab the tutorial builds', () => {
    const { inventory } = labInventoryFor('tutorial');
    for (const f of catalogue.faults) {
      for (const a of [...f.inject, ...f.repair]) {
        expect(() => placeRole(inventory, a.on), `${f.id}: ${a.on}`).not.toThrow();
        expect(() => fillVariables(inventory, a.run), `${f.id}: ${a.run}`).not.toThrow();
      }
    }
    expect(placeRole(inventory, 'compute')).toBe('compute-1');
    expect(placeRole(inventory, 'cinder-volume')).toBe('volume-node');
    expect(placeRole(inventory, 'placement')).toBe('api-node');
    expect(fillVariables(inventory, "set '{{ COMPUTE_HOST }}' {{DB_NODE_IP}}")).toBe("set 'compute-1' 10.99.0.11");
  });

  test('a repair that reads what the injection saved does nothing when it is gone (drill stop repairs again after the student)', () => {
    for (const f of catalogue.faults) {
      for (const a of f.repair) {
        const saved = [...new Set([...a.run.matchAll(/\/root\/\.stackcheck-fault\/[\w.-]+/g)].map((m) => m[0]))];
        for (const file of saved) expect(a.run.trimStart().startsWith(`[ -e ${file} ] || exit 0`), `${f.id}: ${a.run}`).toBe(true);
      }
    }
  });

  test('the places resolve on seven real machines too (the example inventory)', () => {
    const file = 'inventories/example-seven-vms.yaml';
    // (its secrets file is the user's to write: the places do not need it)
    const { secrets_file: _secrets, ...shape } = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const inv = inventoryFromObject(shape, file, 'inventories', {});
    for (const f of catalogue.faults) for (const a of [...f.inject, ...f.repair]) expect(() => placeRole(inv, a.on), `${f.id}: ${a.on}`).not.toThrow();
  });

  test('every check is shown failing by a real fault: a catalogue fault, or a named test of the fault suite', () => {
    const byCatalogue = new Set(catalogue.faults.flatMap((f) => [...f.fails, ...f.functional].map((e) => e.check)));
    const missing = CHECKS.map((c) => c.id).filter((id) => !byCatalogue.has(id) && !PROVEN_ELSEWHERE[id]);
    expect(missing).toEqual([]);
    // Each test named elsewhere exists in its file and names the check.
    for (const [id, proofs] of Object.entries(PROVEN_ELSEWHERE)) {
      for (const p of proofs) {
        const text = readFileSync(p.file, 'utf8');
        expect(text, `${id}: ${p.file} has no test "${p.test}"`).toContain(p.test);
        expect(text, `${id}: ${p.file} does not name ${id}`).toContain(`'${id}'`);
      }
    }
  });

  test('faults have unique ids, symptoms that do not give the cause away, and hints from vague to precise', () => {
    expect(new Set(catalogue.faults.map((f) => f.id)).size).toBe(catalogue.faults.length);
    for (const f of catalogue.faults) {
      expect(f.hints.length, f.id).toBeGreaterThanOrEqual(1);
      // the symptom is what users see: no unit names, no file paths
      expect(f.symptom, f.id).not.toMatch(/systemctl|\/etc\/|\.conf\b/);
    }
  });
});

describe('a malformed catalogue', () => {
  const errorsOf = (text: string): string[] => {
    try {
      parseCatalogue(text, 'faults.yaml');
    } catch (err) {
      expect(err).toBeInstanceOf(InputErrors);
      expect((err as InputErrors).exitCode).toBe(2);
      return (err as InputErrors).errors.map((e) => e.message);
    }
    throw new Error('accepted');
  };
  const fault = (over: string): string =>
    `faults:\n  - id: x-stopped\n    title: X\n    component: nova\n    difficulty: easy\n    symptom: s\n    origin: suite\n    inject: [{ on: nova, run: 'true' }]\n    repair: []\n    hints: [h]\n${over}`;

  test('an unknown check is named at its line, with the nearest id', () => {
    expect(errorsOf(fault('    fails: [{ check: nova.compute-upp }]\n'))).toEqual(['faults.yaml:11: faults.0.fails.0.check: no check "nova.compute-upp" (did you mean "nova.compute-up"?)']);
  });

  test('a mutating check listed with the read-only ones, a bad regular expression, an unknown key, a duplicate id', () => {
    const text = `${fault('    fails: [{ check: nova.boot }, { check: nova.api, message: "(" }]\n    hint: x\n')}${fault('    fails: [{ check: nova.api }]\n').replace('faults:\n', '')}`;
    const errs = errorsOf(text);
    expect(errs.some((e) => /faults\.0\.hint: unknown key/.test(e))).toBe(true);
    const refs = errorsOf(`${fault('    fails: [{ check: nova.boot }, { check: nova.api, message: "(" }]\n')}${fault('    fails: [{ check: nova.api }]\n').replace('faults:\n', '')}`);
    expect(refs).toEqual([
      'faults.yaml:11: faults.0.fails.0.check: nova.boot is a mutating check: list it under functional',
      'faults.yaml:11: faults.0.fails.1.message: not a regular expression: Invalid regular expression: /(/: Unterminated group',
      'faults.yaml:12: faults.1.id: "x-stopped" is already the id of the fault at faults.0',
    ]);
  });

  test('a fault that makes nothing fail, and a `may` naming nothing', () => {
    expect(errorsOf(fault('    fails: []\n    may: [nova.nope]\n'))).toEqual([
      'faults.yaml:11: faults.0.fails: a fault must make at least one check fail (fails or functional)',
      'faults.yaml:12: faults.0.may.0: no check, component or group "nova.nope" (did you mean "nova.api"?)',
    ]);
  });

  test('not YAML at all', () => {
    expect(errorsOf('faults: [\n')[0]).toMatch(/^faults\.yaml:\d+: not valid YAML/);
  });
});
