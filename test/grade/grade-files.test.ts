// Grading input and output without deployments: the roster (CSV, YAML, template values, errors naming the row),
// the rubric (check ids, components, errors naming the field), scoring, shards, the gradebook's files and merging.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRoster, parseShard, shardOf } from '../../src/grade/roster.js';
import { defaultRubric, loadRubric } from '../../src/grade/rubric.js';
import { scoreResults } from '../../src/grade/score.js';
import { classOverview, mergeGradebooks, writeGradebook } from '../../src/grade/gradebook.js';
import { grade, type Gradebook, type StudentGrade } from '../../src/grade/grade.js';
import type { CheckResult } from '../../src/checks/types.js';
import { checkMeta } from '../../src/checks/registry.js';
import { InputErrors, StackcheckError } from '../../src/error.js';
import { tempDir } from '../helpers/tmp.js';

function messages(f: () => unknown): string[] {
  try {
    f();
  } catch (err) {
    if (err instanceof InputErrors) return err.errors.map((e) => e.message);
    if (err instanceof StackcheckError) return [err.message];
    throw err;
  }
  throw new Error('did not throw');
}

const result = (id: string, status: CheckResult['status'], host = 'deployment'): CheckResult => {
  const m = checkMeta(id);
  return { id, host, component: m.component, title: m.title, severity: m.severity, weight: m.weight, status, message: status, remedy: m.remedy, evidence: [], durationMs: 1 };
};

describe('the roster', () => {
  it('reads CSV: inventory files, or columns that fill the template', () => {
    const dir = tempDir('roster-');
    writeFileSync(join(dir, 'class.csv'), 'id,name,inventory,JUMP_HOST\ns01,Ada Lovelace,s01.yaml,\ns02,Alan Turing,,10.0.0.2\n');
    const r = loadRoster(join(dir, 'class.csv'), { template: join(dir, 'template.yaml') });
    expect(r.entries).toEqual([
      { id: 's01', name: 'Ada Lovelace', where: `${join(dir, 'class.csv')}: row 1 (id s01)`, inventory: join(dir, 's01.yaml') },
      { id: 's02', name: 'Alan Turing', where: `${join(dir, 'class.csv')}: row 2 (id s02)`, values: { JUMP_HOST: '10.0.0.2' } },
    ]);
  });

  it('reads YAML with its template, and names the row of every problem', () => {
    const dir = tempDir('roster-');
    const file = join(dir, 'class.yaml');
    writeFileSync(file, 'template: t.yaml\nstudents:\n  - { id: s01, name: Ada, vars: { JUMP_HOST: 10.0.0.1 } }\n');
    expect(loadRoster(file).template).toBe(join(dir, 't.yaml'));
    writeFileSync(file, 'students:\n  - { id: s01, name: Ada, inventory: a.yaml }\n  - { id: s01, name: Bob, inventory: b.yaml, vars: { X: 1 } }\n  - { id: "no good", name: Eve }\n  - { id: s04, name: Dan, color: red }\n');
    expect(messages(() => loadRoster(file))).toEqual([`${file}:5: students.3: Unrecognized key: "color"`]);
    writeFileSync(file, 'students:\n  - { id: s01, name: Ada, inventory: a.yaml }\n  - { id: s01, name: Bob, inventory: b.yaml, vars: { X: 1 } }\n  - { id: "no good", name: Eve }\n');
    expect(messages(() => loadRoster(file))).toEqual([
      `${file}:3 (id s01): id "s01" is already used at ${file}:2 (id s01)`,
      `${file}:3 (id s01): either an inventory or template values, not both`,
      `${file}:3 (id s01): template values but no template (give template: in the roster, or --template FILE)`,
      `${file}:4 (id no good): id "no good" must be letters, digits, ".", "_" or "-" (it names the student's files)`,
      `${file}:4 (id no good): no inventory and no values for the template`,
    ]);
  });

  it('a row may choose the tutorial\'s variant (CSV column or YAML field); a choice the tutorial lacks names the row, before anything is contacted', async () => {
    const dir = tempDir('roster-');
    writeFileSync(join(dir, 'class.csv'), 'id,name,inventory,variant\ns01,Ada,s01.yaml,storage=ceph\ns02,Alan,s01.yaml,\n');
    const r = loadRoster(join(dir, 'class.csv'));
    expect(r.entries.map((e) => [e.id, e.variants, e.values])).toEqual([['s01', ['storage=ceph'], undefined], ['s02', undefined, undefined]]);
    writeFileSync(join(dir, 'class.yaml'), 'students:\n  - { id: s01, name: Ada, inventory: s01.yaml, variant: "storage=nfs" }\n');
    expect(loadRoster(join(dir, 'class.yaml')).entries[0]?.variants).toEqual(['storage=nfs']);
    // A tutorial with the storage choice, and an inventory on an address nothing listens on (never contacted).
    const tut = join(dir, 'tutorial');
    mkdirSync(tut);
    writeFileSync(join(tut, '01-lvm.md'), '## Volumes with LVM\n\n<!-- variant: storage=lvm (default) -->\n\n```sh host=db-node\ntrue\n```\n');
    writeFileSync(join(tut, '02-ceph.md'), '## Volumes with Ceph\n\n<!-- variant: storage=ceph -->\n\n```sh host=db-node\ntrue\n```\n');
    writeFileSync(join(dir, 's01.yaml'), 'hosts:\n  db-node: { address: 127.0.0.1, port: 9 }\n');
    const err = await grade({ roster: join(dir, 'class.yaml'), tutorial: tut, env: { STACKCHECK_STATE_DIR: join(dir, 'state') } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StackcheckError);
    expect((err as StackcheckError).exitCode).toBe(2);
    expect((err as StackcheckError).message).toMatch(/class\.yaml:2 \(id s01\): the row's variant storage=nfs: "nfs" is no alternative of variant "storage" of .*tutorial: choose one of lvm \(.*01-lvm\.md:3\), ceph \(.*02-ceph\.md:3\)/);
  });

  it('shards deterministically: disjoint slices that cover the roster', () => {
    const entries = ['c', 'a', 'e', 'b', 'd', 'f', 'g'].map((id) => ({ id, name: id, where: id, inventory: id }));
    const slices = [1, 2, 3].map((i) => shardOf(entries, i, 3).map((e) => e.id));
    expect(slices).toEqual([['a', 'd', 'g'], ['b', 'e'], ['c', 'f']]);
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    expect(messages(() => parseShard('4/3'))).toEqual(['--shard 4/3: expected i/n with 1 ≤ i ≤ n (e.g. 2/3)']);
  });
});

describe('the rubric and the score', () => {
  it('scores with the default rubric: weights scaled to 100, partial credit per host', () => {
    const rubric = defaultRubric();
    expect(rubric.total).toBe(100);
    const all = Object.keys(rubric.points).map((id) => result(id, 'passed'));
    expect(scoreResults(all, rubric)).toMatchObject({ points: 100, max: 100, percent: 100 });
    const half = [...all.filter((r) => r.id !== 'nova.compute-up'), result('nova.compute-up', 'passed', 'compute-1'), result('nova.compute-up', 'failed', 'compute-2')];
    const s = scoreResults(half, rubric);
    const worth = (rubric.points['nova.compute-up'] as number) * (100 / Object.values(rubric.points).reduce((a, b) => a + b, 0));
    expect(s.points).toBeCloseTo(100 - worth / 2, 1);
    expect(scoreResults([], rubric).points).toBe(0);
    // the same results, the same score
    expect(scoreResults(half, rubric)).toEqual(s);
  });

  it('reads points per check and per component, and names a bad field with its line', () => {
    const dir = tempDir('rubric-');
    const file = join(dir, 'rubric.yaml');
    writeFileSync(file, 'total: 20\npartial: false\npoints:\n  keystone.catalog: 5\n  rabbitmq: 5\n');
    const r = loadRubric(file);
    expect(r.points['keystone.catalog']).toBe(5);
    expect(Object.keys(r.points).filter((id) => id.startsWith('rabbitmq.')).length).toBeGreaterThan(3);
    expect(Object.values(r.points).reduce((a, b) => a + b, 0)).toBeCloseTo(10);
    const res = [result('keystone.catalog', 'passed'), result('rabbitmq.user', 'failed')];
    expect(scoreResults(res, r).points).toBe(10);
    writeFileSync(file, 'points:\n  keystone.catalog: 5\n  kestone: 3\n  nova.boot: 2\n  glance.api: -1\n');
    expect(messages(() => loadRubric(file))).toEqual([`${file}:5: points.glance.api: Too small: expected number to be >=0`]);
    writeFileSync(file, 'points:\n  keystone.catalog: 5\n  kestone: 3\n  nova.boot: 2\n');
    expect(messages(() => loadRubric(file))).toEqual([
      `${file}:3: points.kestone: not a check id or component (stackcheck check --list shows them)`,
      `${file}:4: points.nova.boot: nova.boot changes the deployment (it is graded only with --functional)`,
    ]);
  });
});

describe('the gradebook', () => {
  const student = (id: string, points: number, failures: string[] = []): StudentGrade => ({
    id,
    name: `Student ${id}`,
    status: 'graded',
    points,
    max: 100,
    percent: points,
    components: { keystone: { points, max: 100 } },
    checks: { total: 3, passed: 3 - failures.length, failed: failures.length, broken: 0 },
    failures: failures.map((f) => ({ id: f, host: 'auth-node', status: 'failed', message: `${f} failed <b>`, remedy: 'read it again' })),
    durationMs: 5,
  });
  const book = (students: StudentGrade[], at = '2026-11-26T10:00:00.000Z'): Gradebook => ({ gradedAt: at, tutorial: 'T', rubric: { source: 'default', total: 100 }, students });

  it('writes CSV, JSON, a report per student (escaped) and the class overview; a second grading shows progress', () => {
    const out = tempDir('gradebook-');
    writeGradebook(book([student('s01', 80, ['keystone.catalog']), student('s02', 100)]), out, ['keystone.catalog', 'keystone.api']);
    const csv = readFileSync(join(out, 'gradebook.csv'), 'utf8').split('\n');
    expect(csv[0]).toBe('id,name,points,max,percent,status,checks_passed,checks_total,failed_checks,previous_points,change,keystone,reason');
    expect(csv[1]).toBe('s01,Student s01,80,100,80,graded,2,3,keystone.catalog@auth-node,,,80,');
    const html = readFileSync(join(out, 'students', 's01.html'), 'utf8');
    expect(html).toContain('keystone.catalog failed &lt;b&gt;');
    expect(html).not.toContain('failed <b>');
    expect(classOverview(book([student('s01', 80, ['keystone.catalog']), student('s02', 100)]).students, ['keystone.catalog', 'keystone.api'])).toEqual([
      { id: 'keystone.catalog', passed: 1, graded: 2, rate: 50 },
      { id: 'keystone.api', passed: 2, graded: 2, rate: 100 },
    ]);
    writeGradebook(book([student('s01', 95), student('s02', 100)], '2026-11-27T10:00:00.000Z'), out, ['keystone.catalog']);
    const again = JSON.parse(readFileSync(join(out, 'gradebook.json'), 'utf8')) as Gradebook;
    expect(again.students[0]?.previous).toEqual({ points: 80, percent: 80, gradedAt: '2026-11-26T10:00:00.000Z' });
    expect(readFileSync(join(out, 'gradebook.csv'), 'utf8').split('\n')[1]).toBe('s01,Student s01,95,100,95,graded,3,3,,80,15,95,');
  });

  it('merges shards into the unsharded gradebook, and refuses overlapping ones', () => {
    const [a, b] = [tempDir('shard-'), tempDir('shard-')];
    writeGradebook(book([student('s03', 70), student('s01', 80)]), a as string, []);
    writeGradebook(book([student('s02', 90)]), b as string, []);
    const merged = mergeGradebooks([a as string, b as string]);
    expect(merged.students.map((s) => s.id)).toEqual(['s01', 's02', 's03']);
    expect(merged.students).toEqual(book([student('s01', 80), student('s02', 90), student('s03', 70)]).students);
    expect(messages(() => mergeGradebooks([a as string, a as string]))).toEqual([`student s03 is in ${a} and in ${a}: merge the outputs of disjoint shards`]);
  });
});
