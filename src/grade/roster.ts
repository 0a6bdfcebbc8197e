// The class roster: one row per student — id, name, and either an inventory file or the values that fill the
// course's inventory template (`{{ FIELD }}` in a YAML inventory: the student's host or jump host, their passwords
// file…). CSV (a header row; every column but id, name, inventory, secrets fills the template) or YAML
// (`template:` and `students:`). Every problem names the file and the row or field (exit 2, before anything runs).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { z } from 'zod';
import { InputErrors, StackcheckError } from '../error.js';
import { issueErrors, readYaml } from '../yaml.js';

export interface RosterEntry {
  id: string;
  name: string;
  /** Where the row is (`roster.csv:4`), for messages. */
  where: string;
  /** An inventory file (absolute) … */
  inventory?: string;
  /** … or the template's values. */
  values?: Record<string, string>;
  /** A secrets file (absolute) merged into the inventory. */
  secrets?: string;
  /** The tutorial's alternatives this student's deployment took (`storage=ceph`), before the inventory's. */
  variants?: string[];
}

export interface Roster {
  file: string;
  /** The inventory template (absolute), for rows without an inventory. */
  template?: string;
  entries: RosterEntry[];
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const RESERVED = new Set(['id', 'name', 'inventory', 'secrets', 'variant']);

// `storage=ceph net=vxlan` (spaces, commas or semicolons between): the row's variant choices.
const variantsOf = (text: string | undefined): string[] => (text ?? '').split(/[\s,;]+/).filter(Boolean);

const yamlSchema = z
  .object({
    template: z.string().min(1).optional(),
    students: z.array(
      z
        .object({
          id: z.union([z.string(), z.number()]).transform(String),
          name: z.string().min(1),
          inventory: z.string().min(1).optional(),
          secrets: z.string().min(1).optional(),
          variant: z.string().min(1).optional(),
          vars: z.record(z.string(), z.union([z.string(), z.number()]).transform(String)).optional(),
        })
        .strict(),
    ),
  })
  .strict();

/** Read a roster (`.csv`, else YAML); `template` (from --template) is used when the roster names none. */
export function loadRoster(file: string, opts: { template?: string } = {}): Roster {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new StackcheckError('E_ROSTER', `roster not found: ${file} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  const base = dirname(resolve(file));
  const roster = file.toLowerCase().endsWith('.csv') ? fromCsv(text, file, base) : fromYaml(text, file, base);
  const template = roster.template ?? (opts.template ? resolve(opts.template) : undefined);
  validate(roster.entries, file, template);
  return { file, ...(template ? { template } : {}), entries: roster.entries };
}

function fromCsv(text: string, file: string, base: string): { template?: string; entries: RosterEntry[] } {
  let rows: Record<string, string>[];
  try {
    rows = parseCsv(text, { columns: (h: string[]) => h.map((c) => c.trim()), skip_empty_lines: true, trim: true, comment: '#', relax_column_count: false }) as Record<string, string>[];
  } catch (err) {
    const line = (err as { lines?: number }).lines;
    throw new StackcheckError('E_ROSTER', `not valid CSV: ${(err as Error).message}`, line ? { location: { file, line } } : {});
  }
  // Line numbers: the header is line 1; data rows follow (comments and blank lines are not counted here, so say "row").
  return {
    entries: rows.map((r, i) => {
      const where = `${file}: row ${i + 1} (id ${r.id ?? '?'})`;
      const values = Object.fromEntries(Object.entries(r).filter(([k, v]) => !RESERVED.has(k) && v !== ''));
      return {
        id: r.id ?? '',
        name: r.name ?? '',
        where,
        ...(r.inventory ? { inventory: resolve(base, r.inventory) } : {}),
        ...(r.secrets ? { secrets: resolve(base, r.secrets) } : {}),
        ...(r.variant ? { variants: variantsOf(r.variant) } : {}),
        ...(Object.keys(values).length > 0 ? { values } : {}),
      };
    }),
  };
}

function fromYaml(text: string, file: string, base: string): { template?: string; entries: RosterEntry[] } {
  const { value, locate } = readYaml(text, file, 'E_ROSTER');
  const parsed = yamlSchema.safeParse(value);
  if (!parsed.success) throw new InputErrors(issueErrors(parsed.error.issues, file, locate, 'E_ROSTER'));
  return {
    ...(parsed.data.template ? { template: resolve(base, parsed.data.template) } : {}),
    entries: parsed.data.students.map((s, i) => ({
      id: s.id,
      name: s.name,
      where: `${file}:${locate(['students', i]) ?? 1} (id ${s.id})`,
      ...(s.inventory ? { inventory: resolve(base, s.inventory) } : {}),
      ...(s.secrets ? { secrets: resolve(base, s.secrets) } : {}),
      ...(s.variant ? { variants: variantsOf(s.variant) } : {}),
      ...(s.vars ? { values: s.vars } : {}),
    })),
  };
}

function validate(entries: RosterEntry[], file: string, template: string | undefined): void {
  const errors: StackcheckError[] = [];
  const seen = new Map<string, string>();
  if (entries.length === 0) errors.push(new StackcheckError('E_ROSTER', `${file}: no students`));
  for (const e of entries) {
    if (!ID.test(e.id)) errors.push(new StackcheckError('E_ROSTER', `${e.where}: id "${e.id}" must be letters, digits, ".", "_" or "-" (it names the student's files)`));
    if (!e.name) errors.push(new StackcheckError('E_ROSTER', `${e.where}: no name`));
    const dup = seen.get(e.id);
    if (dup) errors.push(new StackcheckError('E_ROSTER', `${e.where}: id "${e.id}" is already used at ${dup}`));
    seen.set(e.id, e.where);
    if (e.inventory && e.values) errors.push(new StackcheckError('E_ROSTER', `${e.where}: either an inventory or template values, not both`));
    if (!e.inventory && !e.values) errors.push(new StackcheckError('E_ROSTER', `${e.where}: no inventory and no values for the template`));
    if (e.values && !template) errors.push(new StackcheckError('E_ROSTER', `${e.where}: template values but no template (give template: in the roster, or --template FILE)`));
  }
  if (errors.length > 0) throw new InputErrors(errors);
}

/** The deterministic slice of a roster for shard `index` of `count` (1-based): by id order, every count-th. */
export function shardOf(entries: readonly RosterEntry[], index: number, count: number): RosterEntry[] {
  return [...entries].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).filter((_, i) => i % count === index - 1);
}

/** `--shard i/n`: 1 ≤ i ≤ n (exit 2 otherwise). */
export function parseShard(value: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count) throw new StackcheckError('E_ARGS', `--shard ${value}: expected i/n with 1 ≤ i ≤ n (e.g. 2/3)`);
  return { index, count };
}
