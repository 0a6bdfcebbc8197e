// Troubleshooting drills: a catalogue fault injected into a deployment, found and repaired by a student, confirmed by
// the checks. The library API of `stackcheck drill` (src/cli/drill.ts only parses arguments and prints):
// startDrill → checkDrill (again and again) / drillHint / revealDrill → stopDrill. The record (record.ts) is written
// before anything is injected, so a stop after a crash still repairs what was done.
import { randomInt } from 'node:crypto';
import { join, resolve } from 'node:path';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { StackcheckError } from '../error.js';
import { CHECKS, selectChecks } from '../checks/registry.js';
import { runChecks } from '../checks/run.js';
import type { CheckResult } from '../checks/types.js';
import { loadCatalogue, type Catalogue, type Fault } from '../faults/catalogue.js';
import { faultApplies, injectFault, placeRole, repairFault } from '../faults/inject.js';
import { SshPool } from '../ssh/pool.js';
import { closest } from '../suggest.js';
import { activeDrill, faultKey, newSalt, resolveFault, saveDrill, type DrillRecord } from './record.js';
import { drillTarget, type DrillTarget, type DrillTargetOptions } from './target.js';
import { faultsShow, judge, notPassing, resultKey, type Verdict } from './judge.js';
import { drillJunit, drillReport, drillResult } from './report.js';
import { gradedAddress, ledgerFile } from '../grade/ledger.js';
import { compareFingerprints, fingerprintSize, takeFingerprint, type Fingerprint } from './fingerprint.js';
import { stateDir } from '../state-dir.js';
import { writeAtomicSync } from '../atomic-write.js';

export const DIFFICULTIES = ['easy', 'medium', 'hard'] as const;
export type Difficulty = (typeof DIFFICULTIES)[number];

export interface DrillCommonOptions extends DrillTargetOptions {
  /** The fault catalogue (default: the one shipped with stackcheck). */
  catalogue?: string;
  /** What a drill check runs: ids, components or globs (default: every read-only check). */
  only?: string[];
  /** Progress lines (snapshot, injection, waiting for the fault to show). */
  progress?: (line: string) => void;
}

export interface StartOptions extends DrillCommonOptions {
  /** Fault ids; absent: one chosen at random. */
  faults?: string[];
  difficulty?: Difficulty;
  /** How many faults at once (random choice). */
  count?: number;
  /** Required on a target that is not the local lab. */
  iOwnThisCloud?: boolean;
  /** Snapshot the lab first (default true on the lab; never elsewhere). */
  snapshot?: boolean;
  /** Where the drill's folder goes. */
  reports: string;
  now?: () => Date;
}

export interface Started {
  record: DrillRecord;
  /** What the cloud's users complain about, one line a fault. */
  symptoms: string[];
  /** The faults showed in their checks before start returned. */
  shown: boolean;
}

/** A fault that can be drilled on a target, or why not. */
export function unusableBecause(f: Fault, t: DrillTarget, checks: ReadonlySet<string>): string | undefined {
  if (f.fails.length === 0) return 'no check shows it';
  for (const a of [...f.inject, ...f.repair.filter((r) => !r.optional), ...(f.when ? [f.when] : [])]) {
    try {
      placeRole(t.inventory, a.on);
    } catch {
      return `it acts on "${a.on}", which this deployment does not have`;
    }
  }
  const missing = f.fails.map((e) => e.check).filter((id) => !checks.has(id));
  if (missing.length) return `its checks (${[...new Set(missing)].join(', ')}) are not among those this drill runs`;
  const needs = t.installed;
  if (needs) {
    const absent = f.fails.flatMap((e) => CHECKS.find((m) => m.id === e.check)?.needs ?? []).filter((k) => !needs.includes(k));
    if (absent.length) return `it needs ${[...new Set(absent)].join(', ')}, which this deployment does not hold`;
  }
  return undefined;
}

/** The read-only checks a drill runs. */
export function drillChecks(only: readonly string[] | undefined): string[] {
  const ids = new Set(selectChecks(only));
  return CHECKS.filter((m) => !m.mutating && ids.has(m.id)).map((m) => m.id);
}

function runDrillChecks(t: Pick<DrillTarget, 'inventory' | 'installed'>, only: string[]): Promise<CheckResult[]> {
  return runChecks({ inventory: t.inventory, only, ...(t.installed ? { installed: t.installed } : {}) });
}

const stamp = (d: Date): string => d.toISOString().replace(/\.\d+Z$/, 'Z');

function drillId(d: Date): string {
  return `drill-${d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '').replace('T', '-')}`;
}

function shuffle<T>(xs: readonly T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

function validateStart(opts: StartOptions, catalogue: Catalogue): void {
  const ids = catalogue.faults.map((f) => f.id);
  for (const id of opts.faults ?? []) {
    if (!ids.includes(id)) {
      const near = closest(id, ids);
      throw new StackcheckError('E_ARGS', `no fault "${id}" in ${catalogue.file}${near ? `: did you mean ${near}?` : ''}`, { hint: 'stackcheck drill list shows them' });
    }
  }
  if (opts.faults?.length && (opts.difficulty || opts.count !== undefined)) {
    throw new StackcheckError('E_ARGS', 'name faults, or choose at random with --random [--difficulty D] [--count N]: not both');
  }
  if (opts.count !== undefined && (!Number.isInteger(opts.count) || opts.count < 1 || opts.count > 5)) {
    throw new StackcheckError('E_ARGS', `--count ${opts.count}: a whole number from 1 to 5`);
  }
  if (opts.difficulty && !DIFFICULTIES.includes(opts.difficulty)) {
    throw new StackcheckError('E_ARGS', `--difficulty ${opts.difficulty}: one of ${DIFFICULTIES.join(', ')}`);
  }
}

/**
 * The checks before the drill. Right after a snapshot the hosts have just started again and their services come up
 * one after another (RabbitMQ takes most of a minute): look again every 15 s while something fails, up to `patienceMs`.
 */
async function baselineOf(t: DrillTarget, checks: string[], progress: (l: string) => void, patienceMs: number): Promise<CheckResult[]> {
  const deadline = Date.now() + patienceMs;
  let last = '';
  let since = Date.now();
  for (;;) {
    const results = await runDrillChecks(t, checks);
    const bad = results.filter(notPassing);
    const key = bad.map(resultKey).join(',');
    if (key !== last) [last, since] = [key, Date.now()];
    // Nothing changed for a minute: what still fails failed before the snapshot too.
    if (bad.length === 0 || Date.now() > deadline || Date.now() - since >= 60_000) return results;
    progress(`${bad.length} check${bad.length === 1 ? '' : 's'} not passing yet (${bad.slice(0, 4).map(resultKey).join(', ')}${bad.length > 4 ? ', …' : ''}): the hosts are starting again; looking again in 15 s`);
    await new Promise((r) => setTimeout(r, 15_000));
  }
}

/** Start a drill: validate, (snapshot the lab), take the baseline, choose, record, inject, wait for the fault to show. */
export async function startDrill(opts: StartOptions): Promise<Started> {
  const progress = opts.progress ?? (() => undefined);
  const catalogue = loadCatalogue(opts.catalogue);
  validateStart(opts, catalogue);
  const checks = drillChecks(opts.only);
  const checkSet = new Set(checks);
  const t = await drillTarget(opts);
  if (!t.lab && !opts.iOwnThisCloud) {
    throw new StackcheckError('E_ARGS', `${t.describe} is not the local lab: a drill breaks it on purpose. Pass --i-own-this-cloud if it is yours to break`, {
      hint: 'never a student\'s graded cloud; the lab (stackcheck lab up) is the place for drills',
    });
  }
  if (!t.lab) {
    const graded = gradedAddress(Object.values(t.inventory.hosts).map((h) => h.address), opts.env);
    if (graded) {
      throw new StackcheckError('E_ARGS', `${t.describe} has host ${graded.address}, which stackcheck graded with the roster ${graded.roster} (${graded.at}): a drill there would break a student's cloud`, {
        hint: `if this cloud is really yours to break now, remove "${graded.address}" from ${ledgerFile(opts.env)}`,
      });
    }
  }
  const running = activeDrill(t.inventoryFile, opts.env);
  if (running && running.status !== 'stopped') {
    throw new StackcheckError('E_ARGS', `a drill is already running on ${t.describe} (since ${running.startedAt}): stackcheck drill check, or stackcheck drill stop`);
  }
  const named = (opts.faults ?? []).map((id) => catalogue.faults.find((f) => f.id === id)!);
  for (const f of named) {
    const why = unusableBecause(f, t, checkSet);
    if (why) throw new StackcheckError('E_ARGS', `fault ${f.id} cannot be drilled on ${t.describe}: ${why}`);
  }
  const now = opts.now ?? (() => new Date());
  const started = now();
  const id = drillId(started);
  const dir = resolve(opts.reports, id);

  const useSnapshot = !!t.lab && opts.snapshot !== false;
  if (useSnapshot && t.lab) {
    progress(`snapshot of lab "${t.lab.name}" (the hosts stop for the copy; drill stop puts them back exactly)`);
    const { snapshotLab } = await import('../lab/index.js');
    await snapshotLab(t.lab.spec, id, progress);
  }
  progress(`checking the deployment before the drill (${checks.length} checks)`);
  const baseline = await baselineOf(t, checks, progress, useSnapshot ? 240_000 : 0);
  const before = baseline.filter(notPassing);
  const broken = new Set(before.map((r) => r.id));

  const p = new SshPool(t.inventory, { maxChannels: 4 });
  let chosen: Fault[];
  try {
    const healthy = (f: Fault): boolean => f.fails.every((e) => !broken.has(e.check));
    for (const f of named) {
      if (!healthy(f)) throw new StackcheckError('E_ARGS', `fault ${f.id} cannot be drilled now: its checks (${f.fails.map((e) => e.check).join(', ')}) already fail on ${t.describe}; repair the deployment first (stackcheck check)`);
      if (!(await faultApplies(f, { inventory: t.inventory, pool: p }))) throw new StackcheckError('E_ARGS', `fault ${f.id} does not apply to ${t.describe} (its condition: ${f.when?.run})`);
    }
    if (named.length) chosen = named;
    else {
      const want = opts.count ?? 1;
      chosen = [];
      for (const f of shuffle(catalogue.faults)) {
        if (chosen.length === want) break;
        if (opts.difficulty && f.difficulty !== opts.difficulty) continue;
        if (unusableBecause(f, t, checkSet) || !healthy(f)) continue;
        // Several faults: each of another component, and no two sharing a check (each must show on its own).
        if (chosen.some((c) => c.component === f.component || c.fails.some((e) => f.fails.some((x) => x.check === e.check)))) continue;
        if (!(await faultApplies(f, { inventory: t.inventory, pool: p }))) continue;
        chosen.push(f);
      }
      if (chosen.length < want) {
        throw new StackcheckError('E_ARGS', `only ${chosen.length} fault${chosen.length === 1 ? '' : 's'}${opts.difficulty ? ` of difficulty ${opts.difficulty}` : ''} can be drilled on ${t.describe} now (wanted ${want})`, {
          hint: 'stackcheck drill list --inventory … shows which apply',
        });
      }
    }
  } catch (err) {
    await p.close();
    if (useSnapshot && t.lab) await dropSnapshot(t.lab.spec, id);
    throw err;
  }

  const salt = newSalt();
  const record: DrillRecord = {
    version: 1,
    id,
    startedAt: stamp(started),
    target: { inventory: t.inventoryFile, ...(t.lab ? { lab: t.lab.name } : {}), describe: t.describe },
    salt,
    faults: chosen.map((f) => ({ key: faultKey(salt, f.id), hints: 0 })),
    checks,
    ...(t.installed ? { installed: t.installed } : {}),
    baseline: before.map(resultKey),
    ...(useSnapshot ? { snapshot: id } : {}),
    status: 'injecting',
    rounds: [],
    dir,
  };
  progress('taking the fingerprint of the deployment (what drill stop must find again)');
  const print = await takeFingerprint(t.inventory, p);
  mkdirSync(join(stateDir(opts.env), 'drills'), { recursive: true, mode: 0o700 });
  writeAtomicSync(fingerprintFile(id, opts.env), `${JSON.stringify(print)}\n`);
  record.fingerprint = fingerprintSize(print);
  saveDrill(record, opts.env);
  try {
    for (const f of chosen) {
      progress(`injecting fault ${chosen.indexOf(f) + 1} of ${chosen.length}`);
      await injectFault(f, { inventory: t.inventory, pool: p });
    }
  } catch (err) {
    progress('the injection failed: repairing what was done');
    for (const f of chosen) await repairFault(f, { inventory: t.inventory, pool: p }).catch(() => undefined);
    await p.close();
    record.status = 'stopped';
    record.stoppedAt = stamp(now());
    record.stoppedBy = 'catalogue';
    saveDrill(record, opts.env);
    if (useSnapshot && t.lab) await dropSnapshot(t.lab.spec, id);
    throw err;
  }
  await p.close();

  // Wait for the faults to show in their checks (missed heartbeats take a minute or two).
  const settle = Math.max(...chosen.map((f) => f.settle)) + 30;
  const own = [...new Set(chosen.flatMap((f) => f.fails.map((e) => e.check)))];
  const deadline = Date.now() + settle * 1000;
  progress(`waiting for the fault to show (up to ${settle} s)`);
  let shown = false;
  for (;;) {
    const r = await runDrillChecks(t, own);
    if (faultsShow(t.inventory, chosen, r)) {
      shown = true;
      break;
    }
    if (Date.now() > deadline) break;
    await new Promise((res) => setTimeout(res, 5_000));
  }
  record.status = 'active';
  record.shownAt = stamp(now());
  saveDrill(record, opts.env);
  writeReport(record, catalogue);
  return { record, symptoms: chosen.map((f) => f.symptom), shown };
}

// The deployment's fingerprint before the drill: in the state folder, out of the drill's folder that the student reads
// (it would show which file changed).
function fingerprintFile(id: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(stateDir(env), 'drills', `${id}.fingerprint.json`);
}

/**
 * Compare the deployment with its fingerprint from before the drill; while something differs, look again every 10 s
 * up to `patienceMs` (services come up after a snapshot is restored). Undefined: no fingerprint was taken.
 */
async function leftAsFound(t: DrillTarget, id: string, env: NodeJS.ProcessEnv | undefined, patienceMs: number, progress: (l: string) => void): Promise<string[] | undefined> {
  const file = fingerprintFile(id, env);
  if (!existsSync(file)) return undefined;
  const before = JSON.parse(readFileSync(file, 'utf8')) as Fingerprint;
  const deadline = Date.now() + patienceMs;
  const pool = new SshPool(t.inventory, { maxChannels: 4 });
  try {
    for (;;) {
      const diff = compareFingerprints(before, await takeFingerprint(t.inventory, pool));
      if (diff.length === 0 || Date.now() > deadline) return diff;
      progress(`${diff.length} difference${diff.length === 1 ? '' : 's'} from before the drill (${diff.slice(0, 3).join('; ')}${diff.length > 3 ? '; …' : ''}): looking again in 10 s`);
      await new Promise((r) => setTimeout(r, 10_000));
    }
  } finally {
    await pool.close();
  }
}

async function dropSnapshot(spec: import('../lab/spec.js').LabSpec, snap: string): Promise<void> {
  const { removeSnapshot } = await import('../lab/snapshot.js');
  removeSnapshot(spec, snap);
}

function faultsOf(record: DrillRecord, catalogue: Catalogue): Fault[] {
  return record.faults.map((e) => resolveFault(record, e, catalogue));
}

/** The target's running drill, its faults resolved against the catalogue (what check, hint, reveal and stop work on). */
async function openDrill(opts: DrillCommonOptions & { now?: () => Date }): Promise<{ t: DrillTarget; record: DrillRecord; catalogue: Catalogue; faults: Fault[]; at: () => string }> {
  const t = await drillTarget(opts);
  const record = activeDrill(t.inventoryFile, opts.env);
  if (!record || record.status === 'stopped') throw new StackcheckError('E_ARGS', `no drill is running on ${t.describe}: stackcheck drill start`);
  const catalogue = loadCatalogue(opts.catalogue);
  return { t, record, catalogue, faults: faultsOf(record, catalogue), at: () => stamp((opts.now ?? (() => new Date()))()) };
}

function writeReport(record: DrillRecord, catalogue: Catalogue): void {
  const faults = record.status === 'stopped' ? faultsOf(record, catalogue) : undefined;
  writeFileSync(join(record.dir, 'report.md'), drillReport(record, faults), { mode: 0o600 });
  if (faults) {
    const result = drillResult(record, faults);
    writeFileSync(join(record.dir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`, { mode: 0o600 });
    writeFileSync(join(record.dir, 'junit.xml'), drillJunit(result), { mode: 0o600 });
  }
}

export interface Checked {
  record: DrillRecord;
  results: CheckResult[];
  verdict: Verdict;
  /** Repaired at this check or before: the time from the fault showing to the first check that found it repaired. */
  repairedInMs?: number;
}

/**
 * Run the drill's checks (those chosen at start, or `only` for this round) and judge them; the first round that finds
 * everything repaired stops the clock. A fault whose checks a round leaves out is not found repaired by it.
 */
export async function checkDrill(opts: DrillCommonOptions & { now?: () => Date }): Promise<Checked> {
  const { t, record, catalogue, faults, at: now } = await openDrill(opts);
  const results = await runDrillChecks({ inventory: t.inventory, ...(record.installed ? { installed: record.installed } : {}) }, opts.only ? drillChecks(opts.only) : record.checks);
  const verdict = judge(t.inventory, faults, results, record.baseline);
  const at = now();
  record.rounds.push({ at, failing: verdict.failing.map(resultKey), repaired: verdict.faults.filter((v) => v.repaired).length, other: verdict.other });
  verdict.faults.forEach((v, i) => {
    const e = record.faults[i]!;
    if (v.repaired && !e.repairedAt) e.repairedAt = at;
    if (!v.repaired) delete e.repairedAt;
  });
  if (verdict.repaired && !record.repairedAt) record.repairedAt = at;
  saveDrill(record, opts.env);
  writeReport(record, catalogue);
  const from = Date.parse(record.shownAt ?? record.startedAt);
  return { record, results, verdict, ...(record.repairedAt ? { repairedInMs: Date.parse(record.repairedAt) - from } : {}) };
}

export interface Hint {
  text: string;
  /** 1-based, of `of`. */
  number: number;
  of: number;
  /** Which fault of several (1-based). */
  fault: number;
  faults: number;
}

/** The next hint for the first fault not yet repaired (undefined: none left). */
export async function drillHint(opts: DrillCommonOptions): Promise<Hint | undefined> {
  const { record, catalogue, faults } = await openDrill(opts);
  const i = record.faults.findIndex((e, n) => !e.repairedAt && e.hints < faults[n]!.hints.length);
  if (i < 0) return undefined;
  const entry = record.faults[i]!;
  const fault = faults[i]!;
  entry.hints += 1;
  saveDrill(record, opts.env);
  writeReport(record, catalogue);
  return { text: fault.hints[entry.hints - 1]!, number: entry.hints, of: fault.hints.length, fault: i + 1, faults: faults.length };
}

export interface Revealed {
  faults: { id: string; title: string; component: string; difficulty: string; repair: string[] }[];
}

/** Name the faults and how they are repaired (recorded: the report says the student asked). */
export async function revealDrill(opts: DrillCommonOptions & { now?: () => Date }): Promise<Revealed> {
  const { record, catalogue, faults, at } = await openDrill(opts);
  const when = at();
  for (const e of record.faults) e.revealedAt ??= when;
  saveDrill(record, opts.env);
  writeReport(record, catalogue);
  return { faults: faults.map((f) => ({ id: f.id, title: f.title, component: f.component, difficulty: f.difficulty, repair: repairText(f) })) };
}

/** How a fault is repaired, in words and commands (the catalogue's repair, edited files put back first). */
export function repairText(f: Fault): string[] {
  const out: string[] = [];
  for (const a of f.inject) if (a.edit) out.push(`put ${a.edit} back as it was (on ${a.on})`);
  for (const a of f.repair) out.push(`on ${a.on}${a.optional ? ' (where there is one)' : ''}: ${a.run.trim()}`);
  if (out.length === 0) out.push('nothing to run: the fault goes away by itself');
  return out;
}

export interface Stopped {
  record: DrillRecord;
  faults: Fault[];
  report: string;
}

/** End the drill: the lab back to its snapshot, or the catalogue's repair on another target; the report written. */
export async function stopDrill(opts: DrillCommonOptions & { now?: () => Date }): Promise<Stopped> {
  const progress = opts.progress ?? (() => undefined);
  const { t, record, catalogue, faults, at } = await openDrill(opts);
  if (record.snapshot && t.lab) {
    const { restoreLab } = await import('../lab/index.js');
    progress(`restoring lab "${t.lab.name}" to the snapshot taken at the start`);
    await restoreLab(t.lab.spec, record.snapshot, progress);
    await dropSnapshot(t.lab.spec, record.snapshot);
    record.stoppedBy = 'snapshot';
  } else {
    const pool = new SshPool(t.inventory, { maxChannels: 4 });
    try {
      for (const f of faults) {
        progress(`repairing fault ${faults.indexOf(f) + 1} of ${faults.length} (the catalogue's repair)`);
        await repairFault(f, { inventory: t.inventory, pool });
      }
    } finally {
      await pool.close();
    }
    record.stoppedBy = 'catalogue';
  }
  progress('comparing the deployment with its fingerprint from before the drill');
  const diff = await leftAsFound(t, record.id, opts.env, record.stoppedBy === 'snapshot' ? 240_000 : 60_000, progress);
  if (diff) record.differences = diff;
  rmSync(fingerprintFile(record.id, opts.env), { force: true });
  record.status = 'stopped';
  record.stoppedAt = at();
  saveDrill(record, opts.env);
  writeReport(record, catalogue);
  return { record, faults, report: join(record.dir, 'report.md') };
}

/** The catalogue's faults, as a student may see them (never how they are injected). */
export function listFaults(catalogue = loadCatalogue()): { id: string; difficulty: string; component: string; symptom: string }[] {
  return catalogue.faults.map((f) => ({ id: f.id, difficulty: f.difficulty, component: f.component, symptom: f.symptom }));
}

