// Stages side by side (`run --jobs N` with `<!-- after: … -->`) on a real sshd: independent stages overlap,
// steps on one host never do, and a failure stops new stages from starting.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { join } from 'node:path';
import { EventBus, type RunEvent } from '../../src/log.js';
import { executePlan, type ExecuteOptions } from '../../src/runner/execute.js';
import { RunDir } from '../../src/runner/run-dir.js';
import { SshPool } from '../../src/ssh/pool.js';
import type { Plan } from '../../src/runner/types.js';
import { inventoryFor, startSshd, type TestSshd } from '../helpers/sshd.js';
import { prerequisite, requires } from '../helpers/requires.js';
import { makePlan, sh } from '../helpers/plan.js';
import { tempDir } from '../helpers/tmp.js';

// A step that prints when it started and ended (seconds, with nanoseconds) around a short sleep.
const timed = (host: string, tag: string, secs = 1) => sh(host, { command: `echo "${tag} $(date +%s.%N)"; sleep ${secs}; echo "${tag} $(date +%s.%N)"` });

// The [start, end] times a timed step printed.
function span(outcome: Awaited<ReturnType<typeof executePlan>>, stepId: string): [number, number] {
  const r = outcome.results.find((x) => x.stepId === stepId);
  if (!r) throw new Error(`no result for ${stepId}`);
  const t = r.stdout.trim().split('\n').map((l) => Number(l.split(' ')[1]));
  return [t[0] ?? NaN, t[1] ?? NaN];
}

// Give stage `id` an after comment.
function after(plan: Plan, id: string, ...ids: string[]): Plan {
  const stage = plan.tutorial.stages.find((s) => s.id === id);
  if (!stage) throw new Error(`no stage ${id}`);
  stage.after = { ids, line: stage.loc.line };
  return plan;
}

requires(prerequisite.sshd()).describe('stages side by side on a real sshd', () => {
  let sshd: TestSshd;
  let pool: SshPool;
  let work: string;
  const inv = (): ReturnType<typeof inventoryFor> => inventoryFor(sshd, ['db-node', 'auth-node', 'image-node']);

  beforeAll(async () => {
    sshd = await startSshd();
    pool = new SshPool(inv());
    work = tempDir('sc-sched-');
  });
  afterAll(async () => {
    await pool?.close();
    await sshd?.stop();
  });

  async function run(plan: Plan, extra: Partial<ExecuteOptions> = {}): Promise<{ outcome: Awaited<ReturnType<typeof executePlan>>; events: RunEvent[] }> {
    const bus = new EventBus();
    const events: RunEvent[] = [];
    bus.on((e) => events.push(e));
    const runDir = await RunDir.create(join(work, 'reports'), { tutorial: plan.tutorial.source, inventory: plan.inventory.file });
    const outcome = await executePlan(plan, { bus, pool, ...extra, runDir });
    return { outcome, events };
  }

  const order = (events: RunEvent[]): string[] =>
    events.flatMap((e) => (e.kind === 'stage-start' ? [`+${e.stage.id}`] : e.kind === 'stage-end' ? [`-${e.stage.id}`] : []));

  it('with --jobs 2, two stages that need only the first run at the same time on their own hosts', async () => {
    const plan = after(after(makePlan(inv(), {
      base: [sh('db-node', { command: 'true' })],
      glance: [timed('image-node', 'g', 2)],
      nova: [timed('auth-node', 'n', 2)],
      last: [sh('db-node', { command: 'true' })],
    }), 'glance', 'base'), 'nova', 'base');
    const { outcome, events } = await run(plan, { jobs: 2 });
    expect(outcome.status).toBe('passed');
    const g = span(outcome, 'glance/1');
    const n = span(outcome, 'nova/1');
    // Overlap: each started before the other ended.
    expect(n[0]).toBeLessThan(g[1]);
    expect(g[0]).toBeLessThan(n[1]);
    const o = order(events);
    expect(o.slice(0, 4)).toEqual(['+base', '-base', '+glance', '+nova']);
    // `last` has no after comment: it waits for every stage before it.
    expect(o.slice(-2)).toEqual(['+last', '-last']);
  });

  it('steps of side-by-side stages on the same host take turns, never overlap', async () => {
    const plan = after(after(makePlan(inv(), {
      base: [sh('db-node', { command: 'true' })],
      a: [timed('auth-node', 'a1'), timed('auth-node', 'a2')],
      b: [timed('auth-node', 'b1'), timed('auth-node', 'b2')],
    }), 'a', 'base'), 'b', 'base');
    const { outcome } = await run(plan, { jobs: 2 });
    expect(outcome.status).toBe('passed');
    const spans = ['a/1', 'a/2', 'b/1', 'b/2'].map((id) => span(outcome, id)).sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
  });

  it('with one job (the default) the tutorial order holds even where after comments allow more', async () => {
    const plan = after(makePlan(inv(), {
      base: [sh('db-node', { command: 'true' })],
      glance: [timed('image-node', 'g')],
      nova: [timed('auth-node', 'n')],
    }), 'nova', 'base');
    const { outcome, events } = await run(plan);
    expect(outcome.status).toBe('passed');
    expect(order(events)).toEqual(['+base', '-base', '+glance', '-glance', '+nova', '-nova']);
    expect(span(outcome, 'nova/1')[0]).toBeGreaterThanOrEqual(span(outcome, 'glance/1')[1]);
  });

  it('a failing stage: the stage beside it finishes, nothing new starts, the run fails naming the step', async () => {
    const plan = after(after(after(makePlan(inv(), {
      base: [sh('db-node', { command: 'true' })],
      broken: [sh('image-node', { command: 'echo "E: Unable to locate package nova-apii" >&2; exit 100' })],
      slow: [timed('auth-node', 's', 2)],
      third: [sh('db-node', { command: 'true' })],
    }), 'broken', 'base'), 'slow', 'base'), 'third', 'base');
    const { outcome, events } = await run(plan, { jobs: 2 });
    expect(outcome.status).toBe('failed');
    expect(outcome.failed?.step.id).toBe('broken/1');
    // `slow` was running when `broken` failed: it completes; `third` (ready, but no slot) never starts.
    expect(outcome.results.find((r) => r.stepId === 'slow/1')?.status).toBe('passed');
    expect(order(events)).not.toContain('+third');
    expect(events.filter((e) => e.kind === 'stage-end').map((e) => (e.kind === 'stage-end' ? `${e.stage.id}:${e.status}` : ''))).toEqual(
      expect.arrayContaining(['broken:failed', 'slow:passed']),
    );
  });
});
