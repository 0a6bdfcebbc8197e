// `audit`: every check of every stage against a deployment, no install steps — the operator's conformance audit of
// a cloud built by hand. Expectations come from the tutorial (what its stages install) and the target, never from the
// live catalog alone: a service the tutorial installs and the catalog lacks is a failure. The target is an inventory
// (hosts + variables: every check), or OpenStack API credentials alone (clouds.yaml, openrc, OS_*): then the API
// checks run and every check that needs the hosts (SSH, MariaDB, RabbitMQ, the inventory's addresses or service
// passwords) is reported as not checked, with the reason — never as passed. Results flow through the event stream
// into the usual reports (a run folder: summary.json, junit.xml, Allure).
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { ExitCode, StackcheckError } from '../error.js';
import type { EventBus } from '../log.js';
import { Redactor } from '../redact.js';
import { loadInventory } from '../inventory/load.js';
import type { HostSpec, Inventory } from '../inventory/types.js';
import { parseTutorial } from '../runner/parse.js';
import { RunDir } from '../runner/run-dir.js';
import type { Tutorial } from '../runner/types.js';
import { installedByAll, stageScope } from '../checks/declared.js';
import { tutorialFor } from './tutorial.js';
import { CHECKS, checkMeta } from '../checks/registry.js';
import { allPassed, runChecks } from '../checks/run.js';
import type { CheckResult } from '../checks/types.js';
import { apiCredentials, type ApiCredentials } from '../openstack/credentials.js';
import { allureVitestConfig } from '../report/allure-checks.js';
import { startTutorialReports, type FinishedReports } from '../report/run-reports.js';
import { stackcheckVersion } from '../version.js';

/**
 * The checks that need nothing but the OpenStack APIs and the admin's credentials. Every other check reads a host
 * (SSH, MariaDB, RabbitMQ), the inventory's addresses or the service users' passwords.
 */
export const API_ONLY_CHECKS: ReadonlySet<string> = new Set([
  'keystone.api',
  'keystone.auth',
  'keystone.catalog',
  'glance.api',
  'glance.images',
  'glance.upload',
  'nova.api',
  'nova.conductor',
  'nova.scheduler',
  'nova.compute-up',
  'nova.hypervisor',
  'nova.boot',
  'placement.api',
  'placement.provider',
  'neutron.api',
  'neutron.dhcp-agent',
  'neutron.l3-agent',
  'neutron.metadata-agent',
  'neutron.linuxbridge-agent',
  'neutron.networks',
  'neutron.floating-pool',
  'neutron.router-ports',
  'neutron.floating-ip',
  'cinder.api',
  'cinder.scheduler',
  'cinder.volume',
  'cinder.attach',
]);

export interface AuditOptions {
  /** The tutorial whose stages say what is installed (default: the lab's deployed one, else `tutorial/`). */
  tutorial?: string;
  /** `NAME=VALUE`: the tutorial's alternatives the deployment took (before the inventory's `variants:`). */
  variants?: string[];
  inventory?: string;
  secrets?: string;
  /** A cloud of clouds.yaml ($OS_CLOUD too), or an openrc file; OS_* variables when neither is given. */
  osCloud?: string;
  openrc?: string;
  /** Also the mutating checks (boot a server, upload an image…), which clean up after themselves. */
  functional?: boolean;
  /** Where the run folder goes. */
  reports: string;
  bus: EventBus;
  env?: NodeJS.ProcessEnv;
  /** Where the closing table goes (default stdout; false: nowhere). */
  summaryOut?: { write(s: string): unknown; isTTY?: boolean } | false;
  color?: boolean;
  /**
   * Aborting (Ctrl-C) lets the running check finish — a functional one deletes what it created — and cancels the
   * rest, which are reported as not checked.
   */
  signal?: AbortSignal;
}

export interface AuditResult {
  results: CheckResult[];
  /** 0 everything checked passed, 1 something failed. */
  exitCode: number;
  /** What was audited, in words. */
  target: string;
  runDir?: string;
  reports?: FinishedReports;
}

interface AuditTarget {
  inventory: Inventory;
  /** API credentials only: no host is reachable. */
  apiOnly: boolean;
  describe: string;
}

/** The tutorial to audit against: the argument, else the lab's deployed tutorial (no inventory given), else tutorial/. */
async function auditTutorial(opts: AuditOptions, onLab: boolean): Promise<Tutorial> {
  let path = opts.tutorial;
  if (!path && onLab) {
    const { readDeployment } = await import('../lab/index.js');
    path = readDeployment(opts.env?.STACKCHECK_LAB ?? process.env.STACKCHECK_LAB ?? 'lab').deployment?.source;
  }
  path ??= 'tutorial';
  if (!existsSync(path)) throw new StackcheckError('E_ARGS', `no tutorial at ${resolve(path)}: pass the tutorial the deployment was built from (stackcheck audit TUTORIAL)`);
  return parseTutorial(path);
}

/** An inventory for API credentials alone: the tutorial's roles as names (no address: nothing is contacted). */
export function credentialsInventory(creds: ApiCredentials, tutorial: Tutorial): Inventory {
  const roles = [...new Set(tutorial.stages.flatMap((s) => s.steps.map((st) => st.host)))].sort();
  const hosts: Record<string, HostSpec> = Object.fromEntries(roles.map((role) => [role, { role, address: role, port: 22, user: 'root', hostname: role }]));
  return {
    file: creds.source,
    name: 'api',
    hosts,
    vars: {
      OS_AUTH_URL: creds.authUrl,
      ADMIN_USER: creds.username,
      ADMIN_PASS: creds.password,
      ADMIN_PROJECT: creds.projectName,
      DOMAIN: creds.userDomainName,
      ...(creds.regionName ? { REGION: creds.regionName } : {}),
    },
    secretNames: ['ADMIN_PASS'],
    knownHosts: '/dev/null',
    acceptNewHostKeys: false,
    connectTimeoutMs: 10_000,
    access: 'api',
  };
}

async function auditTarget(opts: AuditOptions, tutorial: Tutorial, creds: ApiCredentials | undefined): Promise<AuditTarget> {
  if (opts.inventory) {
    const inventory = await loadInventory(opts.inventory, opts.secrets ? { secretsFile: opts.secrets } : {});
    return { inventory, apiOnly: false, describe: `inventory ${opts.inventory}` };
  }
  if (creds) return { inventory: credentialsInventory(creds, tutorial), apiOnly: true, describe: `${creds.source} (API credentials only: host-level checks not checked)` };
  const { readState, writeInventory } = await import('../lab/index.js');
  const lab = opts.env?.STACKCHECK_LAB ?? process.env.STACKCHECK_LAB ?? 'lab';
  const state = readState(lab);
  if (!state) {
    throw new StackcheckError('E_ARGS', 'nothing to audit: pass --inventory FILE, or API credentials (--os-cloud NAME, --openrc FILE, OS_* variables)', {
      hint: `there is no local lab "${lab}" either (stackcheck lab up)`,
    });
  }
  const file = await writeInventory(state.spec);
  return { inventory: await loadInventory(file, opts.secrets ? { secretsFile: opts.secrets } : {}), apiOnly: false, describe: `the local lab "${lab}"` };
}

/** A check not run, and why (reported as skipped: never passed). */
function notChecked(id: string, why: string): CheckResult {
  const m = checkMeta(id);
  return { id, host: 'deployment', component: m.component, title: m.title, severity: m.severity, weight: m.weight, status: 'skipped', message: `not checked: ${why}`, remedy: m.remedy, evidence: [], durationMs: 0 };
}

/** Audit a deployment: input validated first (exit-2 errors before anything is contacted), then every check. */
export async function audit(opts: AuditOptions): Promise<AuditResult> {
  const env = opts.env ?? process.env;
  const creds = opts.inventory ? undefined : apiCredentials(opts, env);
  const parsed = await auditTutorial(opts, !opts.inventory && !creds);
  const target = await auditTarget(opts, parsed, creds);
  const { inventory } = target;
  const tutorial = tutorialFor(parsed, inventory, opts.variants);
  const installed = installedByAll(tutorial);
  const wanted = CHECKS.filter((m) => opts.functional || !m.mutating).map((m) => m.id);
  const run = target.apiOnly ? wanted.filter((id) => API_ONLY_CHECKS.has(id)) : wanted;
  const skippedHere = wanted
    .filter((id) => !run.includes(id))
    .map((id) => notChecked(id, 'it needs the hosts (SSH, MariaDB, RabbitMQ, their addresses or the service passwords) and only API credentials were given: audit with --inventory to check it'));

  const { bus } = opts;
  const scope = { ...(tutorial.title ? { tutorial: tutorial.title } : {}), stages: stageScope(tutorial) };
  const redactor = new Redactor(inventory.secretNames.map((n) => inventory.vars[n]).filter((v): v is string => !!v));
  const runDir = await RunDir.create(opts.reports, { tutorial: tutorial.source, inventory: inventory.file, mode: 'audit' });
  const reports = startTutorialReports({ bus, runDir, redactor, inventory }, tutorial, stackcheckVersion());
  const started = Date.now();
  bus.emit({ kind: 'run-start', runId: runDir.runId, runDir: runDir.dir, tutorial: tutorial.source, inventory: inventory.file, stages: 0, steps: 0 });
  bus.emit({ kind: 'info', message: `auditing ${target.describe} against what ${tutorial.source} installs: ${installed.join(', ') || 'nothing'}` });
  bus.emit({ kind: 'checks-start', stage: 'audit', checks: run });
  let results: CheckResult[];
  try {
    results = await runChecks({
      inventory,
      only: run,
      functional: !!opts.functional,
      installed,
      reportScope: scope,
      vitestReporters: allureVitestConfig(resolve(runDir.dir, 'allure-results'), redactor, scope),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (err) {
    await runDir.finish({ status: 'failed' });
    throw err;
  }
  results = [...results, ...skippedHere];
  for (const result of results) bus.emit({ kind: 'check-result', stage: 'audit', result });
  bus.emit({ kind: 'checks-end', stage: 'audit', results });
  const ok = allPassed(results);
  const durationMs = Date.now() - started;
  bus.emit({ kind: 'run-end', status: ok ? 'passed' : 'failed', durationMs });
  await runDir.finish({ status: ok ? 'passed' : 'failed', durationMs });
  const finished = await reports.finish({ ...(opts.color !== undefined ? { color: opts.color } : {}), ...(opts.summaryOut !== undefined ? { out: opts.summaryOut === false ? null : opts.summaryOut } : {}) });
  return { results, exitCode: opts.signal?.aborted ? 130 : ok ? ExitCode.ok : ExitCode.failed, target: target.describe, runDir: runDir.dir, reports: finished };
}
