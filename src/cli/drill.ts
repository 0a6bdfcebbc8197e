// `stackcheck drill`: the command line of the troubleshooting drills (src/drill/drill.ts): arguments, the terminal,
// the exit code. list · start · check · hint · reveal · stop.
import type { Command } from 'commander';
import pc from 'picocolors';
import { ExitCode, StackcheckError } from '../error.js';
import { checkDrill, DIFFICULTIES, drillHint, listFaults, revealDrill, startDrill, stopDrill, type Difficulty, type DrillCommonOptions } from '../drill/drill.js';
import { formatDuration } from '../duration.js';
import { formatResult } from '../report/check-lines.js';
import { loadCatalogue } from '../faults/catalogue.js';
import { sortResults } from './check.js';

interface CommonFlags {
  inventory?: string;
  lab?: string;
  secrets?: string;
  tutorial?: string;
  only?: string;
  catalogue?: string;
  color?: boolean;
}

function common(o: CommonFlags): DrillCommonOptions {
  const only = o.only?.split(',').map((s) => s.trim()).filter(Boolean);
  return {
    ...(o.inventory ? { inventory: o.inventory } : {}),
    ...(o.lab ? { lab: o.lab } : {}),
    ...(o.secrets ? { secrets: o.secrets } : {}),
    ...(o.tutorial ? { tutorial: o.tutorial } : {}),
    ...(o.catalogue ? { catalogue: o.catalogue } : {}),
    ...(only?.length ? { only } : {}),
    progress: (line) => process.stderr.write(`drill: ${line}\n`),
  };
}

function withTarget(cmd: Command): Command {
  return cmd
    .option('-i, --inventory <file>', 'the cloud (default: the local lab)')
    .option('--lab <name>', 'the local lab to drill on (default: $STACKCHECK_LAB or "lab"); with --inventory: that inventory is this lab\'s')
    .option('--secrets <file>', 'secrets file merged into the inventory variables')
    .option('--tutorial <path>', 'what the deployment was built from (default on the lab: its deployed tutorial)')
    .option('--only <list>', 'the checks a drill check runs: ids, components or globs (default: every read-only check)')
    .option('--catalogue <file>', 'the fault catalogue (default: the one shipped with stackcheck)')
    .option('--no-color', 'no colours');
}

const colorOf = (o: CommonFlags): boolean => o.color !== false && !!process.stdout.isTTY && !process.env.NO_COLOR;

export function registerDrill(program: Command): void {
  const drill = program.command('drill').description('troubleshooting drills: a known fault injected, the student finds and repairs it, the checks confirm');

  drill
    .command('list')
    .description('the faults of the catalogue: difficulty, component and what users see (never how it is done)')
    .option('--catalogue <file>', 'the fault catalogue')
    .action((o: { catalogue?: string }) => {
      const faults = listFaults(loadCatalogue(o.catalogue));
      const w = Math.max(...faults.map((f) => f.id.length));
      for (const f of faults) process.stdout.write(`${f.id.padEnd(w)}  ${f.difficulty.padEnd(6)}  ${f.component.padEnd(9)}  ${f.symptom}\n`);
      process.stdout.write(`\n${faults.length} faults. stackcheck drill start FAULT, or --random [--difficulty easy|medium|hard] [--count N]\n`);
    });

  withTarget(
    drill
      .command('start')
      .description('inject a fault (snapshotting the lab first) and say what the cloud\'s users now complain about')
      .argument('[faults...]', 'fault ids (stackcheck drill list); none: --random')
      .option('--random', 'a fault chosen at random among those that apply')
      .option('--difficulty <level>', `with --random: ${DIFFICULTIES.join(', ')}`)
      .option('--count <n>', 'with --random: several faults at once, of different components', (v) => Number(v))
      .option('--i-own-this-cloud', 'required on a target that is not the local lab')
      .option('--no-snapshot', 'on the lab: no snapshot (drill stop applies the catalogue\'s repair instead)')
      .option('--reports <dir>', 'where the drill\'s folder (record and report) goes', 'reports'),
  ).action(async (faults: string[], o: CommonFlags & { random?: boolean; difficulty?: string; count?: number; iOwnThisCloud?: boolean; snapshot?: boolean; reports: string }) => {
    if (faults.length && o.random) throw new StackcheckError('E_ARGS', 'name faults or pass --random, not both');
    if (!faults.length && !o.random) throw new StackcheckError('E_ARGS', 'which fault? name one (stackcheck drill list) or pass --random');
    const s = await startDrill({
      ...common(o),
      ...(faults.length ? { faults } : {}),
      ...(o.difficulty ? { difficulty: o.difficulty as Difficulty } : {}),
      ...(o.count !== undefined ? { count: o.count } : {}),
      ...(o.iOwnThisCloud ? { iOwnThisCloud: true } : {}),
      ...(o.snapshot === false ? { snapshot: false } : {}),
      reports: o.reports,
    });
    const c = pc.createColors(colorOf(o));
    process.stdout.write(`\n${c.bold(`Drill ${s.record.id} started on ${s.record.target.describe}`)} (${s.symptoms.length} fault${s.symptoms.length === 1 ? '' : 's'}).\n`);
    process.stdout.write('The cloud\'s users complain:\n');
    for (const sym of s.symptoms) process.stdout.write(`  • ${sym}\n`);
    if (!s.shown) process.stdout.write(c.yellow('(the checks do not show it yet: give it a minute)\n'));
    process.stdout.write('\nFind it and repair it. stackcheck drill check tells you where you stand; drill hint helps; drill reveal gives the answer; drill stop ends the drill.\n');
  });

  withTarget(drill.command('check').description('run the checks: how many fail, and whether the fault is repaired (with the time taken)')).action(async (o: CommonFlags) => {
    const r = await checkDrill(common(o));
    const color = colorOf(o);
    const c = pc.createColors(color);
    for (const x of sortResults(r.verdict.failing)) process.stdout.write(`${formatResult(x, color)}\n`);
    const n = r.verdict.failing.length;
    const total = r.results.length;
    const fixed = r.verdict.faults.filter((v) => v.repaired).length;
    const faults = r.verdict.faults.length;
    process.stdout.write(`\n${total} checks: ${n} fail${r.record.baseline.length ? ` (${r.record.baseline.length} that failed before the drill not counted)` : ''}.\n`);
    if (r.verdict.repaired) {
      process.stdout.write(c.green(`✔ repaired: every check the drill broke passes again${r.repairedInMs !== undefined ? `, ${formatDuration(r.repairedInMs)} after the fault showed` : ''}.\n`));
      process.stdout.write('stackcheck drill stop ends the drill (and writes its report).\n');
      process.exitCode = ExitCode.ok;
      return;
    }
    if (fixed === faults && r.verdict.other.length) process.stdout.write(c.yellow(`the drill's fault${faults === 1 ? ' is' : 's are'} repaired, but something else now fails that passed before: ${r.verdict.other.join(', ')}\n`));
    else process.stdout.write(c.red(`not repaired yet${faults > 1 ? ` (${fixed} of ${faults} faults repaired)` : ''}.\n`));
    process.exitCode = ExitCode.failed;
  });

  withTarget(drill.command('hint').description('the next hint, from vague to precise')).action(async (o: CommonFlags) => {
    const h = await drillHint(common(o));
    if (!h) {
      process.stdout.write('no more hints: stackcheck drill reveal names the fault and its repair.\n');
      return;
    }
    process.stdout.write(`hint ${h.number} of ${h.of}${h.faults > 1 ? ` (fault ${h.fault} of ${h.faults})` : ''}: ${h.text}\n`);
  });

  withTarget(drill.command('reveal').description('name the fault and how it is repaired (the report records it)')).action(async (o: CommonFlags) => {
    const r = await revealDrill(common(o));
    for (const f of r.faults) {
      process.stdout.write(`${f.id} (${f.component}, ${f.difficulty}): ${f.title}\nrepair:\n`);
      for (const line of f.repair) process.stdout.write(`  ${line.replace(/\n/g, '\n    ')}\n`);
    }
  });

  withTarget(drill.command('stop').description('end the drill: the lab back to its snapshot (elsewhere: the catalogue\'s repair); writes the report')).action(async (o: CommonFlags) => {
    const s = await stopDrill(common(o));
    const r = s.record;
    const from = Date.parse(r.shownAt ?? r.startedAt);
    process.stdout.write(`Drill ${r.id} stopped: ${r.stoppedBy === 'snapshot' ? 'the lab is back to its snapshot' : "the catalogue's repair was applied"}.\n`);
    s.faults.forEach((f, i) => process.stdout.write(`  ${f.id}: ${f.title}${r.faults[i]?.repairedAt ? ' — repaired' : ' — not repaired'}\n`));
    process.stdout.write(`${r.repairedAt ? `repaired in ${formatDuration(Date.parse(r.repairedAt) - from)}` : 'not repaired'}; hints used: ${r.faults.reduce((n, f) => n + f.hints, 0)}; report: ${s.report}\n`);
    if (r.differences?.length === 0) process.stdout.write(`The deployment is as it was before the drill (${r.fingerprint ?? 'its fingerprint'} compared).\n`);
    if (r.differences?.length) {
      process.stdout.write(`The deployment is NOT as it was before the drill (${r.differences.length} difference${r.differences.length === 1 ? '' : 's'}):\n`);
      for (const d of r.differences) process.stdout.write(`  ${d}\n`);
      process.exitCode = 1;
    }
  });
}

