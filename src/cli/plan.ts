// `stackcheck plan <tutorial> [--inventory F] [--json]`: parse and validate everything, run nothing.
import { stat } from 'node:fs/promises';
import { StackcheckError } from '../error.js';
import type { Command } from 'commander';
import pc from 'picocolors';
import { loadInventory } from '../inventory/load.js';
import type { Inventory } from '../inventory/types.js';
import { formatDuration } from '../duration.js';
import { parseTutorial } from '../runner/parse.js';
import { validateStageDeclarations } from '../checks/declared.js';
import { findVariables, resolvePlan } from '../runner/plan.js';
import type { Step, Tutorial, VariantChoice } from '../runner/types.js';
import { describeVariants, selectVariants, variantChoices } from '../runner/variants.js';
import { withVariantOption } from './variant-option.js';

/** One step as `plan --json` prints it. */
export interface PlanJsonStep {
  host: string;
  kind: 'shell' | 'file';
  line: number;
  file?: string;
  command?: string;
  path?: string;
  input?: string;
}

/** The document `plan --json` prints. */
export interface PlanJson {
  /** The alternative taken of each of the tutorial's choices, and why. */
  variants?: VariantChoice[];
  stages: Array<{ id: string; title: string; variant?: string; installs: string[]; checks: string[]; after?: string[]; steps: PlanJsonStep[] }>;
}

export interface PlanOptions {
  inventory?: string;
  secrets?: string;
  json?: boolean;
  /** `NAME=VALUE`: the tutorial's alternatives to take (before the inventory's `variants:`). */
  variant?: string[];
  /** Check the document alone: no inventory, no lab defaults, variables not checked. */
  parseOnly?: boolean;
}

export function registerPlan(program: Command): void {
  withVariantOption(program.command('plan'))
    .description('Parse and validate a tutorial (and inventory); print its stages, checks and steps; run nothing')
    .argument('<tutorial>', 'a Markdown file, or a folder of .md files read in name order')
    .option('-i, --inventory <file>', 'inventory YAML: fill {{ VARIABLES }} and check every role has a host')
    .option('--secrets <file>', 'extra secrets file (NAME: value), used with --inventory')
    .option('--json', 'print the plan as JSON')
    .option('--parse-only', 'check the document alone: without --inventory, variables are not checked against the lab\'s defaults')
    .action(async (tutorialPath: string, opts: PlanOptions) => {
      const out = await planCommand(tutorialPath, opts);
      process.stdout.write(out);
    });
}

// Builds the command's output; with an inventory, secret variables stay `{{ NAME }}` so no secret is printed.
export async function planCommand(tutorialPath: string, opts: PlanOptions): Promise<string> {
  const parsed = await parseTutorial(tutorialPath);
  for (const w of parsed.warnings ?? []) process.stderr.write(`stackcheck: warning: ${w.loc.file}:${w.loc.line}: ${w.message}\n`);
  const isFolder = (await stat(tutorialPath)).isDirectory();
  let tutorial: Tutorial;
  let inventory: Inventory | undefined;
  if (opts.inventory && opts.parseOnly) throw new StackcheckError('E_ARGS', 'use either --inventory or --parse-only, not both');
  if (opts.inventory) {
    inventory = await loadInventory(opts.inventory, opts.secrets ? { secretsFile: opts.secrets } : {});
    tutorial = selectVariants(parsed, variantChoices(inventory, opts.variant));
    validateStageDeclarations(tutorial);
    resolvePlan(tutorial, inventory); // validates with the real values
  } else if (opts.parseOnly) {
    // The document alone: every alternative is shown (each stage with its variant), unless --variant chooses.
    tutorial = opts.variant?.length ? selectVariants(parsed, variantChoices(undefined, opts.variant)) : parsed;
    validateStageDeclarations(tutorial);
  } else {
    // As `run` without --inventory would: the local lab's roles and `<tutorial>/vars/lab.yaml`. An undefined
    // variable or a role the lab lacks fails here exactly as it would fail the run (nothing is touched).
    const { labInventoryFor } = await import('../lab/inventory.js');
    const lab = labInventoryFor(tutorialPath);
    try {
      tutorial = selectVariants(parsed, variantChoices(lab.inventory, opts.variant));
      validateStageDeclarations(tutorial);
      resolvePlan(tutorial, lab.inventory);
    } catch (err) {
      if (err instanceof StackcheckError) {
        const where = lab.varsFile ? `the local lab and ${lab.varsFile}` : `the local lab and no variables (no ${lab.inventory.file})`;
        process.stderr.write(`stackcheck: without --inventory, \`run\` uses ${where}; with those (--parse-only checks the document alone):\n`);
      }
      throw err;
    }
  }
  const shown = inventory ? resolvePlan(tutorial, maskSecrets(inventory)).tutorial : tutorial;
  return opts.json ? `${JSON.stringify(toJson(shown, isFolder), null, 2)}\n` : toText(shown, tutorial, isFolder, inventory);
}

// A copy of the inventory whose secret variables fill in as their own `{{ NAME }}` placeholder.
function maskSecrets(inventory: Inventory): Inventory {
  const vars = { ...inventory.vars };
  for (const name of inventory.secretNames) if (Object.hasOwn(vars, name)) vars[name] = `{{ ${name} }}`;
  return { ...inventory, vars };
}

/** The `--json` document: stages with their checks and steps (`file` on steps when the tutorial is a folder). */
export function toJson(tutorial: Tutorial, withFile: boolean): PlanJson {
  return {
    ...(tutorial.variants ? { variants: tutorial.variants } : {}),
    stages: tutorial.stages.map((stage) => ({
      id: stage.id,
      title: stage.title,
      ...(stage.variant ? { variant: `${stage.variant.name}=${stage.variant.value}` } : {}),
      installs: stage.installs?.keys ?? [],
      checks: stage.checks,
      ...(stage.after ? { after: stage.after.ids } : {}),
      steps: stage.steps.map((step): PlanJsonStep => {
        const base = { host: step.host, kind: step.kind, line: step.loc.line, ...(withFile ? { file: step.loc.file } : {}) };
        if (step.kind === 'file') return { ...base, path: step.path };
        return { ...base, command: step.command, ...(step.input !== undefined ? { input: step.input } : {}) };
      }),
    })),
  };
}

// A command on one line: `\` continuations joined, further lines counted.
export function oneLine(command: string): string {
  const lines = command.replace(/\s*\\\n\s*/g, ' ').split('\n');
  return lines.length > 1 ? `${lines[0]} … (+${lines.length - 1} lines)` : (lines[0] ?? '');
}

// What a step does, in one line: `# cmd` (root), `$ cmd` (SSH user), `[user]$ cmd`, or the file it edits.
function describeStep(step: Step): string {
  const opts = [
    step.timeoutMs !== undefined ? `timeout ${formatDuration(step.timeoutMs)}` : '',
    step.retries > 0 ? `retries ${step.retries}` : '',
    step.expectExit.join(',') !== '0' ? `exit ${step.expectExit.join(',')}` : '',
  ].filter(Boolean);
  const suffix = opts.length > 0 ? pc.dim(`  (${opts.join(', ')})`) : '';
  if (step.kind === 'file') {
    const lines = step.content === '' ? 0 : step.content.replace(/\n$/, '').split('\n').length;
    const what = step.mode === 'ini' ? 'merge INI keys into' : step.mode === 'append' ? 'append to' : 'write';
    return `${what} ${step.path} (${lines} line${lines === 1 ? '' : 's'})${suffix}`;
  }
  const prompt = step.user ? `[${step.user}]$` : step.root ? '#' : '$';
  const input = step.input ? pc.dim(`  ← ${step.input.split('\n').filter(Boolean).length} input lines`) : '';
  return `${prompt} ${oneLine(step.command)}${input}${suffix}`;
}

// Human-readable plan: stages, their checks, and each step with host and file:line.
function toText(shown: Tutorial, original: Tutorial, isFolder: boolean, inventory: Inventory | undefined): string {
  const out: string[] = [];
  const steps = shown.stages.flatMap((s) => s.steps);
  out.push(`${pc.bold(shown.title ?? shown.source)}${shown.title ? pc.dim(`  (${shown.source})`) : ''}`);
  const roles = [...new Set(steps.map((s) => s.host))];
  out.push(`${shown.stages.length} stages, ${steps.length} steps on ${roles.length} hosts: ${roles.join(', ') || '-'}`);
  if (inventory) {
    const where = roles.map((r) => {
      const h = inventory.hosts[r];
      return h ? `${r} → ${h.user}@${h.address}${h.port !== 22 ? `:${h.port}` : ''}${h.jump ? ` via ${h.jump}` : ''}` : r;
    });
    out.push(`inventory ${inventory.file} (${inventory.name}): ${where.join(', ')}`);
  }
  for (const v of describeVariants(shown.variants)) out.push(`variant: ${v}`);
  const variables = findVariables(original);
  if (variables.size > 0) {
    out.push(
      `variables: ${[...variables.keys()].join(', ')}${inventory ? pc.dim(` (filled from ${inventory.file}; secrets shown as {{ NAME }})`) : pc.dim(' (give --inventory to fill them)')}`,
    );
  }
  const width = Math.max(4, ...roles.map((r) => r.length));
  shown.stages.forEach((stage, i) => {
    out.push('');
    out.push(`${pc.bold(`${i + 1}. ${stage.title}`)}  ${pc.dim(`[${stage.id}]`)}${stage.variant ? `  ${pc.yellow(`(variant ${stage.variant.name}=${stage.variant.value}${stage.variant.isDefault ? ', the default' : ''})`)}` : ''}`);
    if (stage.after) out.push(`   after: ${stage.after.ids.join(', ')} ${pc.dim('(may run beside other stages with run --jobs)')}`);
    if (stage.installs) out.push(`   installs: ${stage.installs.keys.join(', ')}`);
    if (stage.checks.length > 0) out.push(`   checks: ${stage.checks.join(', ')}`);
    if (stage.steps.length === 0) out.push(pc.dim('   (no steps)'));
    for (const step of stage.steps) {
      const where = isFolder ? `${step.loc.file}:${step.loc.line}` : `line ${step.loc.line}`;
      out.push(`   ${pc.cyan(step.host.padEnd(width))}  ${pc.dim(where)}  ${describeStep(step)}`);
    }
  });
  out.push('');
  return out.join('\n');
}
