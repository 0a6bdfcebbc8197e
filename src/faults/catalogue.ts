// The fault catalogue (faults/catalogue.yaml): faults a cloud built by the tutorial really shows, how to inject and
// repair each, and the checks each must make fail. One source for the fault suite and the troubleshooting drills.
// Every problem names the file, the line and the field, all at once, before anything touches a host.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { InputErrors, StackcheckError } from '../error.js';
import { CHECKS, COMPONENTS, selectChecks } from '../checks/registry.js';
import { readYaml } from '../yaml.js';
import { closest } from '../suggest.js';

/** Where an action runs or a result is expected: a role, a service of the tutorial, or a kind of host. */
export const PLACES = ['compute', 'cinder-volume', 'database', 'message-queue', 'keystone', 'glance', 'placement', 'nova', 'neutron', 'cinder', 'horizon'] as const;

const ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;

const action = z.strictObject({
  on: z.string().min(1),
  run: z.string().min(1),
  /** A file the action changes: backed up before, put back first by the repair. */
  edit: z.string().regex(/^\/[^\s'"]+$/, 'an absolute path without spaces or quotes').optional(),
  /** A repair action for a host the deployment may not have (a service it lacks): skipped there. */
  optional: z.boolean().optional(),
});

const expectation = z.strictObject({
  check: z.string().min(1),
  on: z.string().min(1).optional(),
  status: z.enum(['failed', 'broken']).default('failed'),
  /** A regular expression the result's message must match. */
  message: z.string().min(1).optional(),
});

const fault = z.strictObject({
  id: z.string().regex(ID, 'lower-case words joined by hyphens'),
  title: z.string().min(1),
  component: z.enum(COMPONENTS as unknown as [string, ...string[]]),
  difficulty: z.enum(['easy', 'medium', 'hard']),
  symptom: z.string().min(1),
  origin: z.enum(['course', 'suite']),
  inject: z.array(action).min(1),
  repair: z.array(action),
  fails: z.array(expectation),
  may: z.array(z.string()).default([]),
  functional: z.array(expectation).default([]),
  settle: z.number().int().min(0).max(900).default(60),
  when: action.omit({ edit: true }).optional(),
  hints: z.array(z.string().min(1)).min(1),
});

const file = z.strictObject({ faults: z.array(fault).min(1) });

export type FaultAction = z.infer<typeof action>;
export type FaultExpectation = z.infer<typeof expectation>;
/** One fault of the catalogue, with the line it starts on. */
export type Fault = z.infer<typeof fault> & { line: number };

export interface Catalogue {
  file: string;
  faults: Fault[];
}

/** The catalogue shipped with stackcheck. */
export function defaultCataloguePath(): string {
  // src/faults/ (tsx, vitest) or dist/src/faults/ (the built package): faults/ sits at the package root.
  const here = dirname(fileURLToPath(import.meta.url));
  const up = here.includes(`${join('dist', 'src')}`) ? join(here, '..', '..', '..') : join(here, '..', '..');
  return join(up, 'faults', 'catalogue.yaml');
}

/** Read and validate a catalogue; every problem is reported with file:line, exit code 2. */
export function loadCatalogue(path = defaultCataloguePath()): Catalogue {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new StackcheckError('E_CATALOGUE', `cannot read the fault catalogue ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseCatalogue(text, path);
}

export function parseCatalogue(text: string, path: string): Catalogue {
  const { value, locate } = readYaml(text, path, 'E_CATALOGUE');
  const errors: StackcheckError[] = [];
  const add = (p: ReadonlyArray<string | number>, message: string): void => {
    const line = locate(p);
    const field = p.join('.');
    errors.push(new StackcheckError('E_CATALOGUE', `${field ? `${field}: ` : ''}${message}`, line !== undefined ? { location: { file: path, line } } : {}));
  };
  const parsed = file.safeParse(value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const p = issue.path.filter((x): x is string | number => typeof x !== 'symbol');
      if (issue.code === 'unrecognized_keys') for (const k of issue.keys) add([...p, k], 'unknown key');
      else add(p, issue.message);
    }
    throw new InputErrors(sortByLine(errors));
  }
  const faults = parsed.data.faults.map((f, i) => ({ ...f, line: locate(['faults', i]) ?? 0 }));
  checkReferences(faults, add);
  if (errors.length > 0) throw new InputErrors(sortByLine(errors));
  return { file: path, faults };
}

// Ids unique, check ids known, places known, hosts of expectations plausible.
function checkReferences(faults: Fault[], add: (p: ReadonlyArray<string | number>, m: string) => void): void {
  const seen = new Map<string, number>();
  const ids = CHECKS.map((c) => c.id);
  faults.forEach((f, i) => {
    const before = seen.get(f.id);
    if (before !== undefined) add(['faults', i, 'id'], `"${f.id}" is already the id of the fault at faults.${before}`);
    seen.set(f.id, i);
    const place = (p: ReadonlyArray<string | number>, on: string, allowDeployment: boolean): void => {
      if (allowDeployment && on === 'deployment') return;
      // A role name of the inventory is allowed too: it cannot be verified here (no inventory yet), so only its shape.
      if (!(PLACES as readonly string[]).includes(on) && !/^[a-z0-9][a-z0-9-]*$/.test(on)) add(p, `"${on}" is not a place: use a role, or one of ${PLACES.join(', ')}`);
    };
    for (const [list, key] of [[f.inject, 'inject'], [f.repair, 'repair']] as const) list.forEach((a, j) => place(['faults', i, key, j, 'on'], a.on, false));
    for (const [list, key] of [[f.fails, 'fails'], [f.functional, 'functional']] as const) {
      list.forEach((e, j) => {
        if (!ids.includes(e.check)) {
          const near = closest(e.check, ids);
          add(['faults', i, key, j, 'check'], `no check "${e.check}"${near ? ` (did you mean "${near}"?)` : ''}`);
        } else if (key === 'fails' && CHECKS.find((c) => c.id === e.check)?.mutating) {
          add(['faults', i, key, j, 'check'], `${e.check} is a mutating check: list it under functional`);
        } else if (key === 'functional' && !CHECKS.find((c) => c.id === e.check)?.mutating) {
          add(['faults', i, key, j, 'check'], `${e.check} is read-only: list it under fails`);
        }
        if (e.on) place(['faults', i, key, j, 'on'], e.on, true);
        if (e.message) {
          try {
            new RegExp(e.message);
          } catch (err) {
            add(['faults', i, key, j, 'message'], `not a regular expression: ${(err as Error).message}`);
          }
        }
      });
    }
    // `may` takes what `check --only` takes (ids, components, groups, globs such as neutron.*): expanded to ids here.
    const may = new Set<string>();
    f.may.forEach((m, j) => {
      try {
        for (const id of selectChecks([m])) may.add(id);
      } catch {
        const near = closest(m, ids);
        add(['faults', i, 'may', j], `no check, component or group "${m}"${near ? ` (did you mean "${near}"?)` : ''}`);
      }
    });
    f.may = [...may];
    if (f.fails.length === 0 && f.functional.length === 0) add(['faults', i, 'fails'], 'a fault must make at least one check fail (fails or functional)');
  });
}

function sortByLine(errors: StackcheckError[]): StackcheckError[] {
  return [...errors].sort((a, b) => (a.location?.line ?? 0) - (b.location?.line ?? 0));
}

/** The faults that name a check among those they make fail. */
export function faultsFailing(catalogue: Catalogue, checkId: string): Fault[] {
  return catalogue.faults.filter((f) => [...f.fails, ...f.functional].some((e) => e.check === checkId));
}
