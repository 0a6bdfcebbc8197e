// The one presentation scheme (labels, identity, remedy text) for steps and checks, so a report is navigable by stage, then host,
// and several runs or students merge without collapsing into each other.
import { createHash } from 'node:crypto';
import type { Label } from 'allure-js-commons';
import type { Category } from 'allure-js-commons/sdk';
import type { CheckResult } from '../checks/types.js';

/** `layer` label values: what produced the result (categories match on it). */
export const LAYER = { step: 'step', check: 'check' } as const;

/** Who/what a result is about, besides the test itself. */
export interface ResultScope {
  /** Tutorial title (epic). */
  tutorial: string;
  /** Inventory name: the deployment / student (owner; part of the history identity). */
  inventory: string;
  /** Stage id (slug) and its display title. */
  stage: string;
  stageTitle: string;
  /** 1-based position of the stage in the tutorial (keeps tutorial order in the tree). */
  stageIndex?: number;
  /** Role or host the result is about (`compute-1`, or `deployment`). */
  host: string;
}

// "03 · Keystone": numbered so the Allure tree sorts stages in tutorial order.
export function stageSuite(scope: Pick<ResultScope, 'stageTitle' | 'stageIndex'>): string {
  return scope.stageIndex === undefined ? scope.stageTitle : `${String(scope.stageIndex).padStart(2, '0')} · ${scope.stageTitle}`;
}

/** Labels common to steps and checks: epic/feature/story, suites stage → host → kind, owner = inventory. */
export function scopeLabels(scope: ResultScope, kind: keyof typeof LAYER, story: string): Label[] {
  const feature = stageSuite(scope);
  return [
    { name: 'epic', value: scope.tutorial },
    { name: 'feature', value: feature },
    { name: 'story', value: story },
    { name: 'parentSuite', value: feature },
    { name: 'suite', value: scope.host },
    { name: 'subSuite', value: kind === 'step' ? 'Steps' : 'Checks' },
    { name: 'host', value: scope.host },
    { name: 'owner', value: scope.inventory },
    { name: 'layer', value: LAYER[kind] },
    { name: 'stage', value: scope.stage },
    { name: 'inventory', value: scope.inventory },
  ];
}

// Stable identity across runs: same deployment + same thing + same host = one history line; other students differ.
export function historyKey(...parts: string[]): string {
  return createHash('md5').update(parts.join('\u0000')).digest('hex');
}

/** Failure categories for categories.json (Allure 2 readers) — matched on status and message. */
export const CATEGORIES: Category[] = [
  { name: 'Step failed', matchedStatuses: ['failed', 'broken'] as Category['matchedStatuses'], messageRegex: '(?s)^Step .*' },
  { name: 'Check failed', matchedStatuses: ['failed'] as Category['matchedStatuses'], messageRegex: '(?s)^Check .*' },
  { name: 'Check broken', matchedStatuses: ['broken'] as Category['matchedStatuses'], messageRegex: '(?s)^Check .*' },
];

/** The same categories for Allure 3 (allurerc `categories`), matched on the `layer` label. */
export const ALLURE3_CATEGORIES = [
  { id: 'step-failed', name: 'Step failed', matchers: { statuses: ['failed', 'broken'], labels: { layer: `^${LAYER.step}$` } }, groupBy: ['owner', { label: 'host' }] },
  { id: 'check-failed', name: 'Check failed', matchers: { statuses: ['failed'], labels: { layer: `^${LAYER.check}$` } }, groupBy: ['owner', { label: 'host' }] },
  { id: 'check-broken', name: 'Check broken', matchers: { statuses: ['broken'], labels: { layer: `^${LAYER.check}$` } }, groupBy: ['owner', { label: 'host' }] },
] as const;

/** The one line a student reads for a failed check: what was wrong and how to fix it. */
export function checkMessage(result: Pick<CheckResult, 'id' | 'host' | 'status' | 'message' | 'remedy'>): string {
  return `Check ${result.id} on ${result.host} ${result.status}: ${result.message}\nFix (stage ${result.remedy.stage}): ${result.remedy.text}`;
}

// Remedy first, then expected vs found: what a student needs before any evidence.
export function checkDescription(result: Pick<CheckResult, 'status' | 'remedy' | 'expected' | 'found'>): string {
  const lines: string[] = [];
  if (result.status !== 'passed') lines.push(`**Remedy** (tutorial stage \`${result.remedy.stage}\`): ${result.remedy.text}`, '');
  if (result.expected !== undefined) lines.push(`- expected: ${result.expected}`);
  if (result.found !== undefined) lines.push(`- found: ${result.found}`);
  return lines.join('\n');
}
