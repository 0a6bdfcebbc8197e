// `stackcheck check --inventory F [--only ids|components] [--functional]`: run the conformance checks alone
// and print one line per check and host (status, expected vs found, remedy). Exit 0 conforming, 1 not, 2 bad input.
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ExitCode, StackcheckError } from '../error.js';
import { loadInventory } from '../inventory/load.js';
import { inventoryPath, writeInventory } from '../lab/inventory.js';
import { readDeployment, deployedInstalls, describeRecord } from '../lab/deployment.js';
import { readState } from '../lab/state.js';
import { INSTALL_KEYS, INSTALL_KEY_TITLES } from '../checks/expect.js';
import { installedAfter, installedByAll, stageScope } from '../checks/declared.js';
import { CHECKS, selectChecks } from '../checks/registry.js';
import { allPassed, runChecks } from '../checks/run.js';
import type { CheckResult } from '../checks/types.js';
import { formatResult, summaryLine } from '../report/check-lines.js';
import { allureVitestConfig } from '../report/allure-checks.js';
import { redactorFor } from '../checks/secrets.js';
import { withVariantOption } from './variant-option.js';
import { readTutorialFor } from '../engine/tutorial.js';

export interface CheckCommandOptions {
  inventory?: string;
  secrets?: string;
  only?: string;
  functional?: boolean;
  stage?: string;
  tutorial?: string;
  /** `NAME=VALUE`: the tutorial's alternatives the deployment took (before the inventory's `variants:`). */
  variant?: string[];
  reports?: string;
  json?: boolean;
  list?: boolean;
  color?: boolean;
}

// Order results as the registry lists checks, then by host, so output is stable run to run.
export function sortResults(results: CheckResult[]): CheckResult[] {
  const order = new Map(CHECKS.map((m, i) => [m.id, i]));
  return [...results].sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0) || a.host.localeCompare(b.host));
}

// The command body; returns the exit code.
export async function checkCommand(opts: CheckCommandOptions): Promise<number> {
  const color = opts.color !== false && !!process.stdout.isTTY && !process.env.NO_COLOR;
  if (opts.list) {
    for (const m of CHECKS) process.stdout.write(`${m.id.padEnd(32)} ${m.severity.padEnd(8)} w${m.weight} ${m.mutating ? 'mutating ' : ''}${m.title} (needs: ${m.needs.join(', ')})\n`);
    process.stdout.write('\nwhat a stage may declare it installs (<!-- installs: … -->):\n');
    for (const k of INSTALL_KEYS) process.stdout.write(`  ${k.padEnd(16)} ${INSTALL_KEY_TITLES[k]}\n`);
    return ExitCode.ok;
  }
  const only = opts.only?.split(',').map((s) => s.trim()).filter(Boolean);
  selectChecks(only); // unknown ids or patterns that match nothing are input errors (exit 2) before anything connects
  const target = await checkTarget(opts);
  const inventory = await loadInventory(target.inventoryFile, opts.secrets ? { secretsFile: opts.secrets } : {});
  if (target.note && !opts.json) process.stderr.write(`${target.note}\n`);
  const results = sortResults(
    await runChecks({
      inventory,
      ...(only ? { only } : {}),
      functional: !!opts.functional,
      ...(opts.stage ? { stage: opts.stage } : {}),
      ...(target.installed ? { installed: target.installed } : {}),
      ...(target.stages ? { reportScope: { ...(target.title ? { tutorial: target.title } : {}), stages: target.stages } } : {}),
      ...(opts.reports ? { vitestReporters: allureVitestConfig(join(resolve(opts.reports), 'allure-results'), redactorFor(inventory), target.stages ? { ...(target.title ? { tutorial: target.title } : {}), stages: target.stages } : {}) } : {}),
    }),
  );
  if (opts.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  else {
    for (const r of results) process.stdout.write(`${formatResult(r, color)}\n`);
    process.stdout.write(`${summaryLine(results)}\n`);
  }
  return allPassed(results) ? ExitCode.ok : ExitCode.failed;
}

/** What `check` checks: the inventory, and what the deployment holds (from the tutorial or the lab's record). */
interface CheckTarget {
  inventoryFile: string;
  /** Install keys expected; absent: a complete deployment. */
  installed?: string[];
  stages?: { id: string; title: string; installs: string[] }[];
  title?: string;
  /** Said once on stderr: where the expectations come from. */
  note?: string;
}

// --inventory, else the local lab's (with what its record says is deployed); --tutorial/--stage narrow expectations.
export async function checkTarget(opts: Pick<CheckCommandOptions, 'inventory' | 'secrets' | 'stage' | 'tutorial' | 'variant'>): Promise<CheckTarget> {
  const labName = process.env.STACKCHECK_LAB ?? 'lab';
  const onLab = opts.inventory === undefined;
  const record = onLab ? readDeployment(labName).deployment : undefined;
  let inventoryFile = opts.inventory;
  if (onLab) {
    const state = readState(labName);
    if (state && record) {
      // Regenerated so it carries the deployment's variables whatever ran on the lab since.
      inventoryFile = await writeInventory(state.spec);
    } else {
      inventoryFile = inventoryPath(labName);
    }
  }
  if (!inventoryFile) {
    throw new StackcheckError('E_ARGS', 'no inventory: pass --inventory FILE (which machine plays each role)', { hint: 'for the local lab: stackcheck lab up, then stackcheck check' });
  }
  const tutorialPath = opts.tutorial ?? record?.source;
  if (opts.stage && !tutorialPath) {
    throw new StackcheckError('E_ARGS', `--stage ${opts.stage}: which tutorial? pass --tutorial DIR (stage ids are the tutorial's)`);
  }
  if (tutorialPath && (opts.tutorial || opts.stage)) {
    const tutorial = await readTutorialFor(tutorialPath, await loadInventory(inventoryFile, opts.secrets ? { secretsFile: opts.secrets } : {}), opts.variant);
    const ids = tutorial.stages.map((s) => s.id);
    if (opts.stage && !ids.includes(opts.stage)) {
      throw new StackcheckError('E_ARGS', `--stage ${opts.stage}: no such stage in ${tutorialPath}`, { hint: `stages are: ${ids.join(', ')}` });
    }
    const installed = opts.stage ? installedAfter(tutorial, opts.stage) : installedByAll(tutorial);
    return {
      inventoryFile,
      installed,
      stages: stageScope(tutorial),
      ...(tutorial.title ? { title: tutorial.title } : {}),
      note: `expecting what ${opts.stage ? `the stages up to "${opts.stage}" of ` : ''}${tutorialPath} install${opts.stage ? '' : 's'}: ${installed.join(', ') || 'nothing'}`,
    };
  }
  if (record) {
    const installed = deployedInstalls(record);
    return {
      inventoryFile,
      installed,
      stages: record.stages.map(({ id, title, installs }) => ({ id, title, installs })),
      ...(record.title ? { title: record.title } : {}),
      note: `lab "${labName}" holds ${describeRecord(record)}; expecting what those stages installed: ${installed.join(', ') || 'nothing'}`,
    };
  }
  return { inventoryFile };
}

export function registerCheck(program: Command): void {
  withVariantOption(program.command('check'))
    .description('run the conformance checks against a deployment (read-only unless --functional)')
    .option('-i, --inventory <file>', 'inventory: which machine plays each role, and the variables (default: the local lab)')
    .option('--secrets <file>', 'secrets file (passwords) merged into the inventory variables')
    .option('--only <list>', 'comma-separated check ids, components or prefixes (keystone, nova.compute-up, nova.*)')
    .option('--functional', 'also run mutating checks (boot a server, upload an image…); they clean up after themselves')
    .option('--tutorial <path>', 'expect what this tutorial installs (default on the lab: the tutorial deployed there)')
    .option('--stage <id>', 'expect only what the tutorial installs up to this stage')
    .option('--reports <dir>', 'write Allure results under <dir>/allure-results')
    .option('--json', 'print the results as JSON')
    .option('--list', 'list every check id and exit')
    .option('--no-color', 'no colours')
    .action(async (opts: CheckCommandOptions) => {
      process.exitCode = await checkCommand(opts);
    });
}
