// A tutorial's alternatives (`<!-- variant: storage=lvm -->` under a stage's heading) and the choice between them:
// `--variant storage=ceph` first, then the inventory's `variants:`, then the alternative the tutorial marks
// `(default)`. Stages of an unchosen alternative leave the plan, and their checks with them. A choice that names no
// alternative, or a choice left open with no default, is an input error naming file:line (exit code 2).
import { InputErrors, StackcheckError, formatLocation, type Location } from '../error.js';
import type { Inventory } from '../inventory/types.js';
import type { Stage, Tutorial, VariantChoice } from './types.js';

/** Each choice of a tutorial: its alternatives, where each is first declared, and its default. */
export interface DeclaredVariant {
  name: string;
  values: { value: string; loc: Location; stages: string[] }[];
  default?: { value: string; loc: Location };
}

const at = (s: Stage): Location => ({ file: s.loc.file, line: s.variant?.line ?? s.loc.line });

/** The tutorial's choices, in the order they appear. */
export function declaredVariants(t: Pick<Tutorial, 'stages'>): DeclaredVariant[] {
  const out = new Map<string, DeclaredVariant>();
  for (const s of t.stages) {
    if (!s.variant) continue;
    const d = out.get(s.variant.name) ?? { name: s.variant.name, values: [] };
    out.set(d.name, d);
    const v = d.values.find((x) => x.value === s.variant?.value);
    if (v) v.stages.push(s.id);
    else d.values.push({ value: s.variant.value, loc: at(s), stages: [s.id] });
    if (s.variant.isDefault && !d.default) d.default = { value: s.variant.value, loc: at(s) };
  }
  return [...out.values()];
}

/** Problems of the declarations themselves: two defaults for one choice, a default on one stage of an alternative but not another. */
export function variantDeclarationErrors(t: Pick<Tutorial, 'stages'>): StackcheckError[] {
  const errors: StackcheckError[] = [];
  for (const d of declaredVariants(t)) {
    const defaults = t.stages.filter((s) => s.variant?.name === d.name && s.variant.isDefault);
    const values = new Set(defaults.map((s) => s.variant?.value));
    if (values.size > 1) {
      const [first, second] = [defaults[0]!, defaults.find((s) => s.variant?.value !== defaults[0]!.variant?.value)!];
      errors.push(new StackcheckError('E_TUTORIAL', `variant "${d.name}" has two defaults: ${first.variant?.value} (${formatLocation(at(first))}) and ${second.variant?.value}: mark one`, { location: at(second) }));
    }
  }
  return errors;
}

const list = (d: DeclaredVariant): string => d.values.map((v) => `${v.value} (${formatLocation(v.loc)})`).join(', ');

/** `name=value` choices (the command line's `--variant`, a roster row's `variant`), checked for form (the tutorial checks the names and values). */
export function parseVariantArgs(args: readonly string[] | undefined, label = '--variant'): VariantChoice[] {
  return (args ?? []).map((a) => {
    const m = /^([A-Za-z][A-Za-z0-9_-]*)=([A-Za-z0-9][A-Za-z0-9_.-]*)$/.exec(a.trim());
    if (!m) throw new StackcheckError('E_ARGS', `${label} ${a}: expected NAME=VALUE, e.g. ${label} storage=ceph`);
    return { name: m[1]!, value: m[2]!, from: `${label} ${m[1]}=${m[2]}` };
  });
}

/** The choices made for a run: the command line's first, then the inventory's `variants:`. */
export function variantChoices(inventory: Pick<Inventory, 'file' | 'variants'> | undefined, args?: readonly string[], label?: string): VariantChoice[] {
  const out = parseVariantArgs(args, label);
  for (const [name, value] of Object.entries(inventory?.variants ?? {})) {
    if (!out.some((c) => c.name === name)) out.push({ name, value, from: `inventory ${inventory?.file} (variants.${name})` });
  }
  return out;
}

/**
 * The tutorial with one alternative of each choice: the chosen one, else the default. Every problem is reported
 * together: a choice the tutorial does not have, a value it does not offer, a choice left open without a default.
 */
export function selectVariants(t: Tutorial, choices: readonly VariantChoice[]): Tutorial {
  const declared = declaredVariants(t);
  const errors: StackcheckError[] = [];
  const taken: VariantChoice[] = [];
  for (const c of choices) {
    const d = declared.find((x) => x.name === c.name);
    if (!d) {
      errors.push(
        new StackcheckError('E_ARGS', `${c.from}: the tutorial ${t.source} has no variant "${c.name}"${declared.length ? `; its variants: ${declared.map((x) => `${x.name} (${x.values.map((v) => v.value).join(', ')})`).join('; ')}` : ' (it has no variants)'}`),
      );
    } else if (!d.values.some((v) => v.value === c.value)) {
      errors.push(new StackcheckError('E_ARGS', `${c.from}: "${c.value}" is no alternative of variant "${c.name}" of ${t.source}: choose one of ${list(d)}`));
    } else taken.push(c);
  }
  for (const d of declared) {
    if (choices.some((c) => c.name === d.name)) continue;
    if (d.default) taken.push({ name: d.name, value: d.default.value, from: `the tutorial's default (${formatLocation(d.default.loc)})` });
    else {
      errors.push(
        new StackcheckError('E_TUTORIAL', `variant "${d.name}" has alternatives ${list(d)} and nothing chooses one`, {
          location: d.values[0]!.loc,
          hint: `pass --variant ${d.name}=${d.values[0]!.value}, set "variants: { ${d.name}: ${d.values[0]!.value} }" in the inventory, or mark one alternative "(default)"`,
        }),
      );
    }
  }
  if (errors.length > 0) throw errors.length === 1 ? errors[0]! : new InputErrors(errors);
  const chosen = (s: Stage): boolean => !s.variant || taken.some((c) => c.name === s.variant?.name && c.value === s.variant.value);
  const left = new Set(t.stages.filter((s) => !chosen(s)).map((s) => s.id));
  const stages = t.stages.filter(chosen).map((s) => {
    if (!s.after || !s.after.ids.some((id) => left.has(id))) return s;
    // It waited for a stage of the other alternative: it waits for what is left, or (nothing left) for every stage before it.
    const ids = s.after.ids.filter((id) => !left.has(id));
    const { after: _after, ...rest } = s;
    return ids.length ? { ...s, after: { ...s.after, ids } } : rest;
  });
  return { ...t, stages, ...(taken.length ? { variants: taken } : {}) };
}

/** `storage=ceph (inventory lab.yaml (variants.storage))`, for `plan` and the reports. */
export function describeVariants(choices: readonly VariantChoice[] | undefined): string[] {
  return (choices ?? []).map((c) => `${c.name}=${c.value} (${c.from})`);
}
