import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputErrors } from '../../src/error.js';
import { inventoryFromObject } from '../../src/inventory/load.js';
import { parseMarkdown, parseTutorial } from '../../src/runner/parse.js';
import { fillVariables, findVariables, resolvePlan } from '../../src/runner/plan.js';
import type { FileStep, ShellStep, Tutorial } from '../../src/runner/types.js';

const fixture = (p: string) => relative(process.cwd(), join(resolve(__dirname, '../..'), 'fixtures', p));
const inventory = (vars: Record<string, string>, hosts: string[] = ['db-node', 'auth-node'], secret: string[] = []) =>
  inventoryFromObject({ hosts: Object.fromEntries(hosts.map((h, i) => [h, { address: `10.0.0.${i + 3}` }])), vars, secret }, 'inv.yaml', '/tmp', {});
const tutorialOf = (text: string): Tutorial => ({ source: 't.md', ...parseMarkdown(text, 't.md') });

// resolvePlan that must fail: the error lines and codes.
function planErrors(t: Tutorial, inv: ReturnType<typeof inventory>): Array<[string, string]> {
  try {
    resolvePlan(t, inv);
  } catch (err) {
    expect(err).toBeInstanceOf(InputErrors);
    expect((err as InputErrors).exitCode).toBe(2);
    return (err as InputErrors).errors.map((e) => [e.code, e.message]);
  }
  throw new Error('resolved without errors');
}

describe('resolvePlan', () => {
  it('fills {{ NAME }} (spaces optional) in commands, input, file paths and content; keeps the tutorial untouched', async () => {
    const t = await parseTutorial(fixture('tutorials/prompt-style.md'));
    const plan = resolvePlan(t, inventory({ KEYSTONE_DBPASS: 'ks-pw', DB_HOST: '10.0.0.3', ADMIN_PASS: 'adm' }));
    const steps = plan.tutorial.stages.flatMap((s) => s.steps) as ShellStep[];
    expect(steps[2]?.input).toContain("IDENTIFIED BY 'ks-pw';");
    expect(steps[3]?.command).toContain('bind-address = 10.0.0.3');
    expect(steps[8]?.command).toBe('keystone-manage bootstrap --bootstrap-password adm');
    expect((t.stages[2]?.steps[2] as ShellStep).command).toContain('{{ ADMIN_PASS }}'); // the parsed tutorial is not mutated

    const a = await parseTutorial(fixture('tutorials/annotated.md'));
    const filled = resolvePlan(a, inventory({ DB_HOST: '10.0.0.3', KEYSTONE_DBPASS: 'k' })).tutorial.stages.flatMap((s) => s.steps);
    expect((filled[1] as FileStep).content).toBe('[mysqld]\nbind-address = 10.0.0.3\nmax_connections = 4096\n');
    expect((filled[3] as FileStep).content).toBe('[database]\nconnection = mysql+pymysql://keystone:k@10.0.0.3/keystone\n');
    const paths = resolvePlan(tutorialOf('## S\n```text file=/etc/{{SERVICE}}/{{ SERVICE }}.conf host=db-node\nx\n```\n'), inventory({ SERVICE: 'nova' }));
    expect((paths.tutorial.stages[0]?.steps[0] as FileStep).path).toBe('/etc/nova/nova.conf');
  });

  it('lists the values of secret variables (listed, from suffixes) in Plan.secrets, longest first', () => {
    const t = tutorialOf('## S\n    root@db-node:~# echo {{ A }} {{ RABBIT_PASS }} {{ TOKEN_X }}\n');
    const plan = resolvePlan(t, inventory({ A: 'short', RABBIT_PASS: 'rabbit-secret', TOKEN_X: 'visible', UNUSED_PASS: '' }, ['db-node'], ['A']));
    expect(plan.secrets).toEqual(['rabbit-secret', 'short']);
    expect(plan.inventory.hosts['db-node']?.address).toBe('10.0.0.3');
  });

  it('reports every undefined variable once, at its first use with the exact line, and where to define it', () => {
    const t = tutorialOf(
      ['## S', '', '```', 'root@db-node:~# mysql -u root \\', '   -h {{ DB_HOTS }}', 'mysql> GRANT ... BY {{ PW }};', '```', '', '    root@db-node:~# ping {{ DB_HOTS }}', ''].join('\n'),
    );
    expect(planErrors(t, inventory({ DB_HOST: 'x' }))).toEqual([
      [
        'E_VARIABLE',
        't.md:5: {{ DB_HOTS }} is not defined (did you mean {{ DB_HOST }}?): add DB_HOTS under vars: in inv.yaml, to the secrets file, or set STACKCHECK_VAR_DB_HOTS (also used at t.md:9)',
      ],
      ['E_VARIABLE', 't.md:6: {{ PW }} is not defined: add PW under vars: in inv.yaml, to the secrets file, or set STACKCHECK_VAR_PW'],
    ]);
  });

  it('points at the content line of a file block and the fence line for its path', () => {
    const t = tutorialOf(['## S', '```ini file=/etc/{{ SVC }}.conf host=db-node', '[a]', 'x = {{ X }}', '```'].join('\n'));
    expect(planErrors(t, inventory({})).map((e) => e[1].split(' is not defined')[0])).toEqual(['t.md:2: {{ SVC }}', 't.md:4: {{ X }}']);
  });

  it('reports each role missing from the inventory once, with the roles it has', () => {
    const t = tutorialOf(['## S', '    root@db-nod:~# true', '    root@db-nod:~# false', '    root@compute-1:~# true'].join('\n'));
    expect(planErrors(t, inventory({}))).toEqual([
      [
        'E_ROLE',
        't.md:2: host role "db-nod" is not in inv.yaml (did you mean "db-node"?): add it under hosts: with its address (2 steps run there; the inventory has db-node, auth-node)',
      ],
      ['E_ROLE', 't.md:4: host role "compute-1" is not in inv.yaml: add it under hosts: with its address (1 step run there; the inventory has db-node, auth-node)'],
    ]);
  });

  it('reports variables and roles together, in document order', async () => {
    const t = await parseTutorial(fixture('tutorials/broken/undefined-vars.md'));
    const f = fixture('tutorials/broken/undefined-vars.md');
    expect(planErrors(t, inventory({ DB_HOST: '10.0.0.3', ADMIN_PASS: 'x' })).map((e) => `${e[0]} ${e[1].split(':').slice(0, 2).join(':')}`)).toEqual([
      `E_VARIABLE ${f}:5`,
      `E_VARIABLE ${f}:5`,
      `E_ROLE ${f}:6`,
      `E_VARIABLE ${f}:8`,
    ]);
  });
});

describe('findVariables / fillVariables', () => {
  it('finds each variable with all its uses', async () => {
    const vars = findVariables(await parseTutorial(fixture('tutorials/prompt-style.md')));
    const f = fixture('tutorials/prompt-style.md');
    expect(Object.fromEntries([...vars].map(([k, v]) => [k, v.map((l) => `${l.file}:${l.line}`)]))).toEqual({
      KEYSTONE_DBPASS: [`${f}:29`],
      DB_HOST: [`${f}:38`],
      ADMIN_PASS: [`${f}:51`],
    });
  });

  it('leaves unknown names and non-variables such as {{.State}} alone', () => {
    expect(fillVariables("{{ A }}{{B}} {{ C }} {{.State}} {{ 1X }}", { A: '1', B: '2' })).toBe('12 {{ C }} {{.State}} {{ 1X }}');
    expect(fillVariables('{{ A }}', { A: '$& {{ B }}', B: 'no' })).toBe('$& {{ B }}');
  });
});
