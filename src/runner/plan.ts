// Tutorial + inventory → plan: every `{{ NAME }}` filled, every role mapped to a host. All problems are found in one
// pass and reported together at their file:line, before anything runs.
import { InputErrors, StackcheckError, formatLocation, type Location } from '../error.js';
import type { Inventory } from '../inventory/types.js';
import { closest } from '../suggest.js';
import type { Plan, Step, Tutorial } from './types.js';

/** `{{ NAME }}`, spaces optional; NAME is letters, digits and `_`, not starting with a digit. */
export const VARIABLE = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** Where a variable is used. */
export interface VariableUse {
  name: string;
  loc: Location;
  stepId: string;
  field: 'command' | 'input' | 'path' | 'content';
}

// Every `{{ NAME }}` in the steps, in document order, at the exact source line of the text that holds it.
export function variableUses(tutorial: Tutorial): VariableUse[] {
  const uses: VariableUse[] = [];
  for (const step of allSteps(tutorial)) {
    const scan = (text: string | undefined, field: VariableUse['field'], lineOf: (index: number) => number): void => {
      if (text === undefined) return;
      text.split('\n').forEach((line, index) => {
        for (const m of line.matchAll(VARIABLE)) {
          uses.push({ name: m[1] ?? '', loc: { file: step.loc.file, line: lineOf(index) }, stepId: step.id, field });
        }
      });
    };
    const body = step.bodyLine ?? (step.kind === 'file' ? step.loc.line + 1 : step.loc.line);
    if (step.kind === 'shell') {
      scan(step.command, 'command', (i) => body + i);
      scan(step.input, 'input', (i) => step.inputLines?.[i] ?? step.loc.line);
    } else {
      scan(step.path, 'path', () => step.loc.line);
      scan(step.content, 'content', (i) => body + i);
    }
  }
  return uses;
}

/** The variables a tutorial needs, each with every place it is used (for `plan` without an inventory). */
export function findVariables(tutorial: Tutorial): Map<string, Location[]> {
  const found = new Map<string, Location[]>();
  for (const use of variableUses(tutorial)) {
    const list = found.get(use.name) ?? [];
    list.push(use.loc);
    found.set(use.name, list);
  }
  return found;
}

/** Replaces each `{{ NAME }}` whose NAME is in `vars`; unknown names stay as written. */
export function fillVariables(text: string, vars: Readonly<Record<string, string>>): string {
  return text.replace(VARIABLE, (whole, name: string) => (Object.hasOwn(vars, name) ? (vars[name] as string) : whole));
}

function allSteps(tutorial: Tutorial): Step[] {
  return tutorial.stages.flatMap((s) => s.steps);
}

// Binds a tutorial to an inventory; throws InputErrors naming every undefined variable and unmapped role.
export function resolvePlan(tutorial: Tutorial, inventory: Inventory): Plan {
  const errors: Array<{ at: number; error: StackcheckError }> = [];
  const order = new Map(allSteps(tutorial).map((s, i) => [s.id, i]));

  const uses = variableUses(tutorial);
  const undefinedNames = [...new Set(uses.filter((u) => !Object.hasOwn(inventory.vars, u.name)).map((u) => u.name))];
  for (const name of undefinedNames) {
    const at = uses.filter((u) => u.name === name);
    const first = at[0] as VariableUse;
    const others = at.slice(1).map((u) => formatLocation(u.loc));
    const near = closest(name, Object.keys(inventory.vars));
    errors.push({
      at: order.get(first.stepId) ?? 0,
      error: new StackcheckError(
        'E_VARIABLE',
        `{{ ${name} }} is not defined${near ? ` (did you mean {{ ${near} }}?)` : ''}: ` +
          `add ${name} under vars: in ${inventory.file}, to the secrets file, or set STACKCHECK_VAR_${name}` +
          (others.length > 0 ? ` (also used at ${others.slice(0, 3).join(', ')}${others.length > 3 ? ` and ${others.length - 3} more` : ''})` : ''),
        { location: first.loc },
      ),
    });
  }

  const steps = allSteps(tutorial);
  const roles = Object.keys(inventory.hosts);
  const missingRoles = [...new Set(steps.filter((s) => !Object.hasOwn(inventory.hosts, s.host)).map((s) => s.host))];
  for (const role of missingRoles) {
    const using = steps.filter((s) => s.host === role);
    const first = using[0] as Step;
    const near = closest(role, roles);
    errors.push({
      at: order.get(first.id) ?? 0,
      error: new StackcheckError(
        'E_ROLE',
        `host role "${role}" is not in ${inventory.file}${near ? ` (did you mean "${near}"?)` : ''}: ` +
          `add it under hosts: with its address (${using.length} step${using.length === 1 ? '' : 's'} run there; ` +
          `the inventory has ${roles.length > 0 ? roles.join(', ') : 'no hosts'})`,
        { location: first.loc },
      ),
    });
  }

  if (errors.length > 0) throw new InputErrors(errors.sort((a, b) => a.at - b.at).map((e) => e.error));

  const vars = inventory.vars;
  const filled: Tutorial = {
    ...tutorial,
    stages: tutorial.stages.map((stage) => ({
      ...stage,
      checks: [...stage.checks],
      steps: stage.steps.map((step): Step => {
        if (step.kind === 'shell') {
          return {
            ...step,
            command: fillVariables(step.command, vars),
            ...(step.input !== undefined ? { input: fillVariables(step.input, vars) } : {}),
          };
        }
        return { ...step, path: fillVariables(step.path, vars), content: fillVariables(step.content, vars) };
      }),
    })),
  };
  const secrets = [...new Set(inventory.secretNames.map((n) => vars[n]).filter((v): v is string => v !== undefined && v !== ''))];
  return { tutorial: filled, inventory, secrets: secrets.sort((a, b) => b.length - a.length) };
}
