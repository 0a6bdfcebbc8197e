// JUnit XML for CI systems: one testsuite per stage; steps (classname = stage) and checks
// (classname = component) as testcases, failures with message and remedy, output in system-out.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { EventBus, RunEvent, StepResult } from '../log.js';
import type { Redactor } from '../redact.js';
import type { Step } from '../runner/types.js';
import type { CheckResult } from '../checks/types.js';
import { describeExitCode, formatLocation } from '../error.js';
import { cleanOutput, oneLine } from './text.js';
import { stepTitle } from './allure.js';

// Characters XML 1.0 forbids even when escaped (most C0 controls, lone surrogates, U+FFFE/FFFF).
const INVALID_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Text safe inside an XML attribute or element. */
export function xmlEscape(text: string): string {
  return text
    .replace(INVALID_XML, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

interface Case {
  classname: string;
  name: string;
  timeSec: number;
  outcome: { kind: 'passed' } | { kind: 'skipped'; message: string } | { kind: 'failure' | 'error'; type: string; message: string; body: string };
  out?: string;
}

/** Collects one run's steps and checks, grouped by stage, and renders JUnit XML. */
export class JunitCollector {
  private readonly suites = new Map<string, Case[]>();

  constructor(private readonly name: string) {}

  private suite(stage: string): Case[] {
    let s = this.suites.get(stage);
    if (!s) {
      s = [];
      this.suites.set(stage, s);
    }
    return s;
  }

  handle(event: RunEvent): void {
    if (event.kind === 'stage-start') this.suite(event.stage.id);
    else if (event.kind === 'step-end') this.addStep(event.step, event.result);
    else if (event.kind === 'step-skip') this.addStep(event.step, undefined, event.reason);
    else if (event.kind === 'check-result') this.addChecks([event.result]);
  }

  addStep(step: Step, result: StepResult | undefined, skipReason?: string): void {
    const name = `${stepTitle(step)} [${step.host}]`;
    const out = result ? cleanOutput([result.stdout, result.stderr && `--- stderr ---\n${result.stderr}`].filter(Boolean).join('\n')) : undefined;
    let outcome: Case['outcome'] = { kind: 'passed' };
    if (!result || result.status === 'skipped') outcome = { kind: 'skipped', message: skipReason ?? 'skipped' };
    else if (result.status === 'failed') {
      const why = result.message ?? (result.timedOut ? 'timed out' : describeExitCode(result.exitCode, result.signal));
      const kind = result.exitCode === null && !result.timedOut ? 'error' : 'failure';
      outcome = {
        kind,
        type: result.timedOut ? 'timeout' : 'step-failed',
        message: `step ${step.id} on ${step.host} failed: ${oneLine(why, 300)}`,
        body: `${formatLocation(step.loc)}\n${step.kind === 'shell' ? step.command : `edit ${step.path}`}\n${why}\nFix: correct the cause shown in the output, then resume with \`stackcheck run … --resume\`.`,
      };
    }
    this.suite(step.stage).push({ classname: step.stage, name, timeSec: (result?.durationMs ?? 0) / 1000, outcome, ...(out ? { out } : {}) });
  }

  addChecks(results: readonly CheckResult[]): void {
    for (const r of results) {
      const remedy = `Fix (stage ${r.remedy.stage}): ${r.remedy.text}`;
      const detail = [r.message, r.expected !== undefined ? `expected: ${r.expected}` : '', r.found !== undefined ? `found: ${r.found}` : '', remedy]
        .filter(Boolean)
        .join('\n');
      let outcome: Case['outcome'] = { kind: 'passed' };
      if (r.status === 'skipped') outcome = { kind: 'skipped', message: r.message };
      else if (r.status === 'failed' || r.status === 'broken') {
        outcome = { kind: r.status === 'failed' ? 'failure' : 'error', type: `check-${r.status}`, message: `${oneLine(r.message, 300)} — ${remedy}`, body: detail };
      }
      const evidence = r.evidence.map((e) => `--- ${e.name} ---\n${e.body}`).join('\n');
      this.suite(r.stage ?? r.remedy.stage).push({
        classname: `checks.${r.component}`,
        name: `${r.id} [${r.host}]`,
        timeSec: r.durationMs / 1000,
        outcome,
        ...(evidence ? { out: cleanOutput(evidence) } : {}),
      });
    }
  }

  /** The JUnit document, redacted. */
  render(redactor: Redactor): string {
    const x = (s: string): string => xmlEscape(redactor.redact(s));
    const all = [...this.suites.values()].flat();
    const count = (cases: Case[], k: Case['outcome']['kind']): number => cases.filter((c) => c.outcome.kind === k).length;
    const time = (cases: Case[]): string => cases.reduce((t, c) => t + c.timeSec, 0).toFixed(3);
    const lines = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      `<testsuites name="${x(this.name)}" tests="${all.length}" failures="${count(all, 'failure')}" errors="${count(all, 'error')}" skipped="${count(all, 'skipped')}" time="${time(all)}">`,
    ];
    for (const [stage, cases] of this.suites) {
      lines.push(
        `  <testsuite name="${x(stage)}" tests="${cases.length}" failures="${count(cases, 'failure')}" errors="${count(cases, 'error')}" skipped="${count(cases, 'skipped')}" time="${time(cases)}">`,
      );
      for (const c of cases) {
        lines.push(`    <testcase classname="${x(c.classname)}" name="${x(c.name)}" time="${c.timeSec.toFixed(3)}">`);
        const o = c.outcome;
        if (o.kind === 'skipped') lines.push(`      <skipped message="${x(o.message)}"/>`);
        if (o.kind === 'failure' || o.kind === 'error') lines.push(`      <${o.kind} message="${x(o.message)}" type="${x(o.type)}">${x(o.body)}</${o.kind}>`);
        if (c.out) lines.push(`      <system-out>${x(c.out)}</system-out>`);
        lines.push('    </testcase>');
      }
      lines.push('  </testsuite>');
    }
    lines.push('</testsuites>');
    return lines.join('\n') + '\n';
  }

  attach(bus: EventBus): () => void {
    return bus.on((e) => this.handle(e));
  }
}

/** Write the JUnit file (e.g. reports/<run>/junit.xml). */
export function writeJunit(file: string, collector: JunitCollector, redactor: Redactor): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, collector.render(redactor));
}
