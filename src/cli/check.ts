// `stackcheck check --inventory F [--only ids|components] [--functional]`: run the conformance checks alone
// and print one line per check and host (status, expected vs found, remedy). Exit 0 conforming, 1 not, 2 bad input.
import type { Command } from 'commander';
import pc from 'picocolors';
import { ExitCode, StackcheckError } from '../error.js';
import { loadInventory } from '../inventory/load.js';
import { inventoryPath } from '../lab/inventory.js';
import { CHECKS, selectChecks } from '../checks/registry.js';
import { allPassed, runChecks } from '../checks/run.js';
import type { CheckResult } from '../checks/types.js';

export interface CheckCommandOptions {
  inventory?: string;
  secrets?: string;
  only?: string;
  functional?: boolean;
  stage?: string;
  reports?: string;
  json?: boolean;
  list?: boolean;
  color?: boolean;
}

const MARK: Record<CheckResult['status'], string> = { passed: '✔', failed: '✘', broken: '!', skipped: '-' };

// Order results as the registry lists checks, then by host, so output is stable run to run.
export function sortResults(results: CheckResult[]): CheckResult[] {
  const order = new Map(CHECKS.map((m, i) => [m.id, i]));
  return [...results].sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0) || a.host.localeCompare(b.host));
}

/** One line for a result: `✘ nova.compute-up @ compute-1: expected …, found … — fix: see stage "…" (…)`. */
export function formatResult(r: CheckResult, color = false): string {
  const c = pc.createColors(color);
  const paint = { passed: c.green, failed: c.red, broken: c.yellow, skipped: c.dim }[r.status];
  const head = `${paint(MARK[r.status])} ${r.id} @ ${r.host}`;
  if (r.status === 'passed') return head;
  if (r.status === 'skipped') return `${head} ${c.dim(`(${r.message})`)}`;
  const fix = r.status === 'failed' ? ` — fix: see stage "${r.remedy.stage}" (${r.remedy.text})` : '';
  return `${head}: ${r.message}${c.dim(fix)}`;
}

/** The closing summary line. */
export function summaryLine(results: CheckResult[]): string {
  const n = (s: CheckResult['status']): number => results.filter((r) => r.status === s).length;
  return `${results.length} checks: ${n('passed')} passed, ${n('failed')} failed, ${n('broken')} broken, ${n('skipped')} skipped`;
}

// The command body; returns the exit code.
export async function checkCommand(opts: CheckCommandOptions): Promise<number> {
  const color = opts.color !== false && !!process.stdout.isTTY && !process.env.NO_COLOR;
  if (opts.list) {
    for (const m of CHECKS) process.stdout.write(`${m.id.padEnd(32)} ${m.severity.padEnd(8)} w${m.weight} ${m.mutating ? 'mutating ' : ''}${m.title}\n`);
    return ExitCode.ok;
  }
  // Without --inventory: the local lab's, when it exists (as `run` targets the lab).
  const inventoryFile = opts.inventory ?? inventoryPath(process.env.STACKCHECK_LAB ?? 'lab');
  if (!inventoryFile) {
    throw new StackcheckError('E_ARGS', 'no inventory: pass --inventory FILE (which machine plays each role)', { hint: 'for the local lab: stackcheck lab up, then stackcheck check' });
  }
  const only = opts.only?.split(',').map((s) => s.trim()).filter(Boolean);
  selectChecks(only); // unknown ids are input errors (exit 2) before anything connects
  const inventory = await loadInventory(inventoryFile, opts.secrets ? { secretsFile: opts.secrets } : {});
  const results = sortResults(
    await runChecks({
      inventory,
      ...(only ? { only } : {}),
      functional: !!opts.functional,
      ...(opts.stage ? { stage: opts.stage } : {}),
      ...(opts.reports ? { reportsDir: opts.reports } : {}),
    }),
  );
  if (opts.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  else {
    for (const r of results) process.stdout.write(`${formatResult(r, color)}\n`);
    process.stdout.write(`${summaryLine(results)}\n`);
  }
  return allPassed(results) ? ExitCode.ok : ExitCode.failed;
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('run the conformance checks against a deployment (read-only unless --functional)')
    .option('-i, --inventory <file>', 'inventory: which machine plays each role, and the variables (default: the local lab)')
    .option('--secrets <file>', 'secrets file (passwords) merged into the inventory variables')
    .option('--only <list>', 'comma-separated check ids, components or prefixes (keystone, nova.compute-up, nova.*)')
    .option('--functional', 'also run mutating checks (boot a server, upload an image…); they clean up after themselves')
    .option('--stage <id>', 'expect only what the tutorial installs up to this stage')
    .option('--reports <dir>', 'write Allure results under <dir>/allure-results')
    .option('--json', 'print the results as JSON')
    .option('--list', 'list every check id and exit')
    .option('--no-color', 'no colours')
    .action(async (opts: CheckCommandOptions) => {
      process.exitCode = await checkCommand(opts);
    });
}
