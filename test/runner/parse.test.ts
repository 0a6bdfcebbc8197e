import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputErrors } from '../../src/error.js';
import { parseMarkdown, parseTutorial, slugify } from '../../src/runner/parse.js';
import { parsePrompt } from '../../src/runner/prompt.js';
import { rstToMarkdown } from '../../src/runner/rst.js';
import type { FileStep, ShellStep, Stage, Step, Tutorial } from '../../src/runner/types.js';

const root = resolve(__dirname, '../..');
const fixture = (p: string) => relative(process.cwd(), join(root, 'fixtures', p));
const steps = (stages: Stage[]): Step[] => stages.flatMap((s) => s.steps);
const shell = (s: Step | undefined): ShellStep => {
  expect(s?.kind).toBe('shell');
  return s as ShellStep;
};

// Parses Markdown that must fail; returns the error lines.
function errorsOf(text: string, file = 't.md'): string[] {
  try {
    parseMarkdown(text, file);
  } catch (err) {
    expect(err).toBeInstanceOf(InputErrors);
    expect((err as InputErrors).exitCode).toBe(2);
    for (const e of (err as InputErrors).errors) expect(e.code).toBe('E_TUTORIAL');
    return (err as Error).message.split('\n');
  }
  throw new Error('parsed without errors');
}

describe('parsePrompt', () => {
  it.each([
    ['root@db-node:~# apt-get update', 'root', 'db-node', true, 'apt-get update'],
    ['root@db-node:# apt-get update', 'root', 'db-node', true, 'apt-get update'],
    ['root@compute-1 # virsh list', 'root', 'compute-1', true, 'virsh list'],
    ['student@compute-1:~$ sudo virsh list', 'student', 'compute-1', false, 'sudo virsh list'],
    ['root@gks-NNN:[~] $ ssh root@db-node', 'root', 'gks-NNN', false, 'ssh root@db-node'],
    ['[root@gks-061 ~]# ping 172.16.1.2 -c 1', 'root', 'gks-061', true, 'ping 172.16.1.2 -c 1'],
    ['root@h3:/var/lib/nova/instances/instance-00000193# ll -h', 'root', 'h3', true, 'll -h'],
    ['(tutorial)root@gks-246:[~] $ pip install boto', 'root', 'gks-246', false, 'pip install boto'],
    ['root@compute-1 ~ # ls', 'root', 'compute-1', true, 'ls'],
    ['root@neutron-node:~# ', 'root', 'neutron-node', true, ''],
  ])('%s', (line, user, host, isRoot, rest) => {
    expect(parsePrompt(line)).toEqual({ user, host, root: isRoot, rest });
  });

  it.each([
    '# uname -a',
    '$ ls',
    'Linux cirros 3.0.0-12-virtual #20-Ubuntu SMP',
    "Warning: Permanently added '172.16.1.1' (RSA) to the list of known hosts.",
    'mail root@example.org#not-a-prompt',
    'root@db-node:~#no-space',
    '    root@db-node:~# indented',
    'mysql> CREATE DATABASE keystone;',
  ])('is not a prompt: %s', (line) => {
    expect(parsePrompt(line)).toBeUndefined();
  });
});

describe('prompt style', () => {
  it('reads the fixture: implicit stage, continuations, output, interactive input, here-documents', async () => {
    const t = await parseTutorial(fixture('tutorials/prompt-style.md'));
    expect(t.title).toBe('Prompt-style fixture');
    expect(t.stages.map((s) => [s.id, s.title, s.checks, s.steps.length])).toEqual([
      ['prompt-style-fixture', 'Prompt-style fixture', [], 1],
      ['basic-services', 'Basic services', ['mysql.server', 'rabbitmq.user'], 5],
      ['keystone', 'Keystone', ['keystone.catalog'], 3],
      ['keystone-2', 'Keystone', [], 1],
    ]);
    const [hostname, install, mysql, heredoc, restart, active, sudo, exported, bootstrap] = steps(t.stages).map(shell);
    expect(hostname).toMatchObject({ id: 'prompt-style-fixture/1', host: 'db-node', root: true, command: 'hostname', loc: { line: 5 } });
    expect(install).toMatchObject({
      id: 'basic-services/1',
      stage: 'basic-services',
      loc: { file: fixture('tutorials/prompt-style.md'), line: 14 },
      command: 'apt-get install -y mariadb-server \\\n    python3-pymysql',
      output: 'Reading package lists... Done\n# this output line starts with a hash\n$ and this one with a dollar',
      expectExit: [0],
      retries: 0,
    });
    expect(mysql?.command).toBe('mysql -u root');
    expect(mysql?.input).toBe(
      "CREATE DATABASE keystone;\nGRANT ALL PRIVILEGES ON keystone.* TO 'keystone'@'%'\nIDENTIFIED BY '{{ KEYSTONE_DBPASS }}';\nexit\n",
    );
    expect(mysql?.inputLines).toEqual([25, 28, 29, 30]);
    expect(mysql?.output).toBe('Query OK, 1 row affected (0.001 sec)\n\nBye');
    expect(heredoc?.command).toBe("cat > /etc/mysql/conf.d/99-openstack.cnf <<'EOF'\n[mysqld]\nbind-address = {{ DB_HOST }}\nEOF");
    expect(heredoc?.loc.line).toBe(36);
    expect(restart).toMatchObject({ command: 'systemctl restart mariadb', loc: { line: 40 } });
    expect(active).toMatchObject({ command: 'systemctl is-active mariadb', output: 'active', loc: { line: 41 } });
    expect(sudo).toMatchObject({ host: 'auth-node', root: false, command: 'sudo apt-get install -y keystone' });
    expect(exported).toMatchObject({ host: 'auth-node', root: false, command: 'export OS_USERNAME=admin' });
    expect(bootstrap).toMatchObject({ host: 'auth-node', root: true, loc: { line: 51 } });
  });

  it('keeps a here-document with <<- and tabs, a quoted delimiter, and two here-documents on one line', () => {
    const doc = ['## S', '', '```', 'root@h:~# cat <<-END', '\tline', '\tEND', 'root@h:~# paste <(cat) <<A 3<<"B"', 'a', 'A', 'b', 'B', 'root@h:~# cat<<X', 'x', 'X', '```'].join('\n');
    const [one, two, three] = steps(parseMarkdown(doc, 't.md').stages).map(shell);
    expect(three?.command).toBe('cat<<X\nx\nX');
    expect(one?.command).toBe('cat <<-END\n\tline\n\tEND');
    expect(two?.command).toBe('paste <(cat) <<A 3<<"B"\na\nA\nb\nB');
  });

  it('does not mistake a here-string, a quoted << or a comment for a here-document', () => {
    const doc = ['## S', '', '    root@h:~# grep x <<< "$v"', "    root@h:~# echo '<<EOF' # don't <<X", '    out'].join('\n');
    const s = steps(parseMarkdown(doc, 't.md').stages).map(shell);
    expect(s.map((x) => x.command)).toEqual(['grep x <<< "$v"', "echo '<<EOF' # don't <<X"]);
    expect(s[1]?.output).toBe('out');
  });

  it('continues a command over open quotes, trailing pipes, compound commands and PS2 "> " lines', () => {
    const doc = [
      '## S',
      '',
      '```',
      'root@h:~# mysql -e "CREATE DATABASE nova;',
      '  GRANT ALL ON nova.* TO nova;"',
      'root@h:~# ls |',
      '  wc -l',
      '3',
      'root@h:~# for i in 1 2',
      '> do',
      '>   echo $i',
      '> done',
      '1',
      'root@h:~# if true; then',
      'echo done; fi',
      'root@h:~# echo done',
      '```',
    ].join('\n');
    const s = steps(parseMarkdown(doc, 't.md').stages).map(shell);
    expect(s.map((x) => x.command)).toEqual([
      'mysql -e "CREATE DATABASE nova;\n  GRANT ALL ON nova.* TO nova;"',
      'ls |\n  wc -l',
      'for i in 1 2\ndo\n  echo $i\ndone',
      'if true; then\necho done; fi',
      'echo done',
    ]);
    expect(s[1]?.output).toBe('3');
    expect(s[2]?.output).toBe('1');
  });

  it('ignores blocks without prompts and lines before the first prompt', () => {
    const doc = ['## S', '', '```sh', 'apt-get update', '```', '', '```', 'some output first', 'root@h:~# true', '```'].join('\n');
    const s = steps(parseMarkdown(doc, 't.md').stages).map(shell);
    expect(s.map((x) => [x.command, x.loc.line])).toEqual([['true', 9]]);
  });

  it('treats mysql/MariaDB/psql/python prompts as input only after a command', () => {
    const doc = ['## S', '', '```', 'mysql> SELECT 1;', 'root@h:~# psql', 'keystone=> SELECT 1', 'keystone-> ;', '```'].join('\n');
    const s = steps(parseMarkdown(doc, 't.md').stages).map(shell);
    expect(s).toHaveLength(1);
    expect(s[0]?.input).toBe('SELECT 1\n;\n');
  });
});

describe('stages and checks', () => {
  it('gives stable, unique slugs', () => {
    expect(slugify('Keystone: Identity service')).toBe('keystone-identity-service');
    expect(slugify('life of a VM (Compute service) - nova-compute')).toBe('life-of-a-vm-compute-service-nova-compute');
    expect(slugify('Crème brûlée & co')).toBe('creme-brulee-co');
    expect(slugify('!!!')).toBe('stage');
    const { stages } = parseMarkdown('## A\n<!-- checks: x.y -->\n## A\n## A\n', 't.md');
    expect(stages.map((s) => s.id)).toEqual(['a', 'a-2', 'a-3']);
    expect(stages.map((s) => s.loc.line)).toEqual([1, 3, 4]);
  });

  it('ignores YAML front matter, keeping line numbers', () => {
    const { stages } = parseMarkdown('---\ntitle: x\nlayout: page\n---\n## Real\n    root@h:~# true\n', 't.md');
    expect(stages.map((s) => [s.id, s.loc.line, s.steps[0]?.loc.line])).toEqual([['real', 5, 6]]);
  });

  it('collects checks from several comments (inline too), without duplicates, ignoring comments in code', () => {
    const doc = ['## S', '<!-- checks: mysql.server, rabbitmq.server -->', '', 'Text <!-- checks: mysql.server, keystone.catalog --> more.', '', '    <!-- checks: not.this -->'].join('\n');
    expect(parseMarkdown(doc, 't.md').stages[0]?.checks).toEqual(['mysql.server', 'rabbitmq.server', 'keystone.catalog']);
  });

  it('puts steps after a later # heading into an implicit stage named after it; no steps, no implicit stage', () => {
    const doc = ['# Part one', 'text', '# Part two', '', '    root@h:~# true', '## Real', '    root@h:~# false'].join('\n');
    const { title, stages } = parseMarkdown(doc, 'x/part.md');
    expect(title).toBe('Part one');
    expect(stages.map((s) => [s.id, s.loc.line, s.steps.map((x) => x.id)])).toEqual([
      ['part-two', 3, ['part-two/1']],
      ['real', 6, ['real/1']],
    ]);
    expect(parseMarkdown('    root@h:~# true\n', 'dir/no-title.md').stages[0]?.id).toBe('no-title');
  });

  it('reports malformed checks comments with their line', () => {
    expect(errorsOf(readFileSync(join(root, 'fixtures/tutorials/broken/bad-checks.md'), 'utf8'), 'bad-checks.md')).toEqual([
      'bad-checks.md:5: "<!-- check: … -->" is not recognised: write <!-- checks: mysql.server -->',
      'bad-checks.md:7: checks comment lists no checks: write e.g. <!-- checks: mysql.server, keystone.catalog -->',
      'bad-checks.md:9: "not a check" is not a check id: ids are dotted names such as mysql.server, separated by commas',
    ]);
  });
});

describe('after comments (stages that may run side by side)', () => {
  it('a stage keeps the earlier stages it names; a stage without one has none recorded', () => {
    const doc = ['## Keystone', '    root@auth:~# true', '## Glance', '<!-- after: keystone -->', '    root@img:~# true', '## Nova', 'Needs Keystone only. <!-- after: keystone -->', '## Last'].join('\n');
    const { stages } = parseMarkdown(doc, 't.md');
    expect(stages.map((s) => [s.id, s.after?.ids ?? null, s.after?.line ?? null])).toEqual([
      ['keystone', null, null],
      ['glance', ['keystone'], 4],
      ['nova', ['keystone'], 7],
      ['last', null, null],
    ]);
  });

  it('names an unknown or later stage, an empty list and a second comment, each at its line', () => {
    const doc = ['## A', '<!-- after: b -->', '## B', '<!-- after: nowhere, a -->', '## C', '<!-- after: -->', '## D', '<!-- after: a -->', '<!-- after: b -->'].join('\n');
    expect(errorsOf(doc)).toEqual([
      't.md:6: after comment names no stage: write e.g. <!-- after: keystone-on-auth-node --> (stage ids as `stackcheck plan` shows them)',
      't.md:9: stage "d" already has an after comment: list every stage it needs in one',
      't.md:2: stage "a" comes after "b" in its after comment, but "b" comes later in the tutorial (or is this stage): a stage can only wait for earlier ones',
      't.md:4: after: no stage "nowhere" before this one; earlier stages: a',
    ]);
  });
});

describe('annotated fences', () => {
  it('reads shell and file blocks with their options', async () => {
    const t = await parseTutorial(fixture('tutorials/annotated.md'));
    const [install, mycnf, fernet, keystoneConf, hosts, endpoints] = steps(t.stages);
    expect(install).toMatchObject({
      kind: 'shell',
      id: 'database/1',
      host: 'db-node',
      root: true,
      loc: { line: 7 },
      bodyLine: 8,
      command: 'apt-get install -y mariadb-server\nsystemctl enable --now mariadb',
      timeoutMs: 600_000,
      retries: 2,
      retryDelayMs: 5000,
      expectExit: [0],
    });
    expect(mycnf).toEqual({
      kind: 'file',
      id: 'database/2',
      stage: 'database',
      host: 'db-node',
      loc: { file: fixture('tutorials/annotated.md'), line: 12 },
      bodyLine: 13,
      root: true,
      expectExit: [0],
      retries: 0,
      path: '/etc/mysql/mariadb.conf.d/99-openstack.cnf',
      mode: 'ini',
      content: '[mysqld]\nbind-address = {{ DB_HOST }}\nmax_connections = 4096\n',
      fileMode: '0644',
      owner: 'root:root',
    } satisfies FileStep);
    expect(fernet).toMatchObject({ kind: 'shell', host: 'auth-node', root: false, user: 'keystone', expectExit: [0, 1] });
    expect(keystoneConf).toMatchObject({ kind: 'file', mode: 'ini', path: '/etc/keystone/keystone.conf' });
    expect(hosts).toMatchObject({ kind: 'file', mode: 'append', path: '/etc/hosts', content: '{{ DB_HOST }} db-node\n' });
    expect(endpoints).toMatchObject({ kind: 'shell', host: 'auth-node', timeoutMs: 90_000, command: 'openstack endpoint list' });
    expect(steps(t.stages)).toHaveLength(6); // the ```python block without options is display only
  });

  it('reads fences inside list items and block quotes', () => {
    const doc = ['## S', '', '1. Install:', '', '   ```sh host=db-node', '   apt-get update', '   ```', '', '> ```', '> root@db-node:~# true', '> ```'].join('\n');
    expect(steps(parseMarkdown(doc, 't.md').stages).map((s) => [(s as ShellStep).command, s.loc.line])).toEqual([
      ['apt-get update', 5],
      ['true', 10],
    ]);
  });

  it('accepts {{ VARIABLES }} with spaces inside option values, and user=root as root', () => {
    const doc = '## S\n```text file=/etc/{{ SERVICE }}/x.conf host=h user=root\nx\n```\n';
    expect(steps(parseMarkdown(doc, 't.md').stages)[0]).toMatchObject({ path: '/etc/{{ SERVICE }}/x.conf', root: true, mode: 'replace' });
    expect(steps(parseMarkdown(doc, 't.md').stages)[0]).not.toHaveProperty('user');
  });

  it('reports every bad option with its line', () => {
    const f = 'bad-options.md';
    expect(errorsOf(readFileSync(join(root, 'fixtures/tutorials/broken/bad-options.md'), 'utf8'), f)).toEqual([
      `${f}:5: unknown option hots= (did you mean host=?); known options: host, user, timeout, expect-exit, retries, retry-delay, file, mode, chmod, owner`,
      `${f}:5: missing host=: say which role runs this block, e.g. \`\`\`sh host=db-node\`\`\``,
      `${f}:5: timeout=soon: expected a duration such as 90s, 10m, 1h or a number of seconds`,
      `${f}:9: option chmod= only applies to file blocks: add file=PATH, or remove chmod=`,
      `${f}:9: retries=-1: expected a whole number from 0 to 100`,
      `${f}:9: expect-exit=0,x: expected exit codes from 0 to 255 separated by commas, e.g. expect-exit=0,1`,
      `${f}:13: file=etc/keystone.conf: expected an absolute path such as /etc/nova/nova.conf (or ~/path in the user's home)`,
      `${f}:13: mode=merge: expected ini (merge keys), replace (write the whole file) or append (add the lines if absent)`,
      `${f}:17: a \`python\` block cannot be run: use sh/bash/shell/console for commands, or add file=PATH to write it to a file`,
      `${f}:21: "verbose" is not an option: options are written key=value (known: host, user, timeout, expect-exit, retries, retry-delay, file, mode, chmod, owner)`,
    ]);
  });

  it('refuses a prompt inside an annotated block, an empty shell block and an unclosed fence', () => {
    const f = 'p.md';
    expect(errorsOf(readFileSync(join(root, 'fixtures/tutorials/broken/prompt-in-annotated.md'), 'utf8'), f)).toEqual([
      `${f}:6: line starts with a shell prompt inside an annotated block (host=db-node): the whole block runs as written, so remove the prompt, or drop the options and write the block in prompt style`,
      `${f}:9: empty \`sh\` block for host=db-node: nothing to run`,
    ]);
    expect(errorsOf(readFileSync(join(root, 'fixtures/tutorials/broken/unclosed-fence.md'), 'utf8'), f)).toEqual([
      `${f}:5: code block opened with \`\`\` is never closed: add a \`\`\` line after its last line`,
    ]);
  });

  it('reports an unclosed here-document (pointing at an indented delimiter), quote and compound command', () => {
    const f = 'h.md';
    expect(errorsOf(readFileSync(join(root, 'fixtures/tutorials/broken/unclosed-heredoc.md'), 'utf8'), f)).toEqual([
      `${f}:5: here-document <<EOF is not closed: no line "EOF" before the end of the code block (line 7 has it indented; the delimiter must start the line, or use <<-)`,
      `${f}:11: unterminated ' quote: the command does not end before the next prompt`,
      `${f}:12: unfinished compound command (a for/while/until needs "done", an if "fi", a case "esac"): the command does not end before the end of the code block`,
    ]);
  });
});

describe('folders', () => {
  it('reads .md files in name order, skips other files, keeps each step’s file', async () => {
    const t = await parseTutorial(fixture('tutorials/folder'));
    expect(t.source).toBe(fixture('tutorials/folder'));
    expect(t.title).toBe('Folder fixture');
    expect(t.stages.map((s) => [s.id, s.loc.file])).toEqual([
      ['base', fixture('tutorials/folder/01-base.md')],
      ['identity', fixture('tutorials/folder/02-identity.md')],
    ]);
    expect(steps(t.stages).map((s) => `${s.loc.file}:${s.loc.line}`)).toEqual([
      `${fixture('tutorials/folder/01-base.md')}:5`,
      `${fixture('tutorials/folder/02-identity.md')}:5`,
    ]);
  });

  it('says so when the tutorial does not exist or a folder has no tutorial files', async () => {
    await expect(parseTutorial(fixture('tutorials/nope.md'))).rejects.toThrow(`tutorial not found: ${fixture('tutorials/nope.md')}`);
    await expect(parseTutorial(fixture('inventories'))).rejects.toThrow(
      `${fixture('inventories')}: no tutorial files (.md, .markdown, .rst) in this folder`,
    );
  });
});

describe('rst read as Markdown', () => {
  it('reads code-block directives and literal blocks in list items as code, skipping directive options', () => {
    const rst = [
      'Title', '=====', '', 'Stage', '-----', '', '.. code-block:: console', '   :linenos:', '', '   root@h:~# one', '',
      '* in a list::', '', '    root@h:~# two', '', '  still the item', '', '.. note::', '', '   A note with', '   text.', '',
    ].join('\n');
    const { stages } = parseMarkdown(rstToMarkdown(rst), 'x.md');
    expect(stages.map((s) => [s.id, s.steps.map((x) => [(x as ShellStep).command, x.loc.line])])).toEqual([
      ['stage', [['one', 10], ['two', 14]]],
    ]);
  });


  it('keeps the line count and turns titles, comments and :: blocks into Markdown', () => {
    const rst = [
      '-----', 'Title', '-----', '', 'Section', '=======', '', 'Run this::', '', '  root@h:~# true', '', '.. a comment', '   root@h:~# false', '', '.. checks: a.b', '', 'Sub', '~~~', ''].join('\n');
    const md = rstToMarkdown(rst);
    expect(md.split('\n')).toHaveLength(rst.split('\n').length);
    expect(md.split('\n')).toEqual(['', '# Title', '', '', '## Section', '', '', 'Run this:', '', '    root@h:~# true', '', '', '', '', '<!-- checks: a.b -->', '', '### Sub', '', '']);
  });
});

// The seed tutorial: real prompt-style input, every file of it read by one parseTutorial call.
describe('seed tutorial (fixtures/seed)', () => {
  const seed = fixture('seed');
  let tutorial: Tutorial | undefined;
  const load = async (): Promise<Tutorial> => (tutorial ??= await parseTutorial(seed));
  const at = async (file: string, line: number): Promise<ShellStep> => {
    const found = steps((await load()).stages).find((s) => s.loc.file === join(seed, file) && s.loc.line === line);
    expect(found, `${file}:${line}`).toBeDefined();
    return shell(found);
  };

  it('finds the number of steps per file counted by reading the files', async () => {
    const counts: Record<string, number> = {};
    for (const s of steps((await load()).stages)) counts[s.loc.file.slice(seed.length + 1)] = (counts[s.loc.file.slice(seed.length + 1)] ?? 0) + 1;
    expect(counts).toEqual({
      'basic_services.rst': 14,
      'boto.rst': 5,
      'cinder.rst': 25,
      'glance.rst': 19,
      'keystone.rst': 25,
      'neutron.rst': 48,
      'nova_api.rst': 26,
      'nova_compute.rst': 33,
      'nova_network.rst': 12,
      'troubleshooting1.rst': 23,
      'working_the_cloud.rst': 1,
    });
  });

  it('points every step at the source line holding its prompt and the first line of its command', async () => {
    const texts = new Map<string, string[]>();
    for (const s of steps((await load()).stages).map(shell)) {
      if (!texts.has(s.loc.file)) texts.set(s.loc.file, readFileSync(s.loc.file, 'utf8').split('\n'));
      const line = texts.get(s.loc.file)?.[s.loc.line - 1] ?? '';
      expect(parsePrompt(line.trim())?.host, `${s.loc.file}:${s.loc.line}`).toBe(s.host);
      expect(line, `${s.loc.file}:${s.loc.line}`).toContain(s.command.split('\n')[0]);
    }
  });

  it('makes stages of rst sections, the title-level text of a file an implicit stage', async () => {
    const files = (await load()).stages.filter((s) => s.loc.file === join(seed, 'basic_services.rst'));
    expect(files.map((s) => [s.id, s.loc.line, s.steps.length])).toEqual([
      ['db-node', 5, 0],
      ['update-system-and-install-ntp-package', 29, 3],
      ['mysql-installation', 48, 4],
      ['rabbitmq', 132, 7],
    ]);
    expect((await at('keystone.rst', 40)).stage).toBe('keystone-identity-service');
  });

  it('reads the varying prompts: root@gks-NNN:[~] $, root@db-nodes:#, root@db-node #, [root@gks-061 ~]#, paths', async () => {
    expect(await at('basic_services.rst', 38)).toMatchObject({ host: 'gks-NNN', root: false, command: 'ssh root@db-node' });
    expect(await at('basic_services.rst', 44)).toMatchObject({ host: 'db-nodes', root: true, command: 'apt-get update -y' });
    expect(await at('basic_services.rst', 62)).toMatchObject({ host: 'db-node', root: true, command: 'aptitude install -y mysql-server python-mysqldb' });
    expect(await at('neutron.rst', 698)).toMatchObject({ host: 'gks-061', root: true, command: 'ping 172.16.1.2 -c 1' });
    expect(await at('working_the_cloud.rst', 232)).toMatchObject({ host: 'h3', command: 'll -h' });
    expect(await at('boto.rst', 40)).toMatchObject({ host: 'gks-246', root: false, command: 'pip install boto' });
    expect(await at('nova_api.rst', 329)).toMatchObject({ host: 'compute-node', command: 'apt-get install openstack-dashboard' });
  });

  it('joins continuation lines and keeps the output table apart', async () => {
    const endpoint = await at('glance.rst', 90);
    expect(endpoint.command).toBe(
      [
        'keystone endpoint-create --region RegionOne \\',
        "    --publicurl 'http://image-node.example.org:9292/v2' \\",
        "    --adminurl 'http://image-node.example.org:9292/v2' \\",
        "    --internalurl 'http://image-node:9292/v2' \\",
        '    --region RegionOne --service glance',
      ].join('\n'),
    );
    expect(endpoint.output?.split('\n')[0]).toBe('+-------------+---------------------------------------+');
    expect(endpoint.output?.split('\n')).toHaveLength(10);
    const hypervisor = await at('nova_compute.rst', 71);
    expect(hypervisor).toMatchObject({ host: 'hypervisor-1', root: true });
    expect(hypervisor.command.split('\n')).toHaveLength(3);
    const rabbit = await at('basic_services.rst', 152);
    expect(rabbit.output?.split('\n')[0]).toBe("Status of node 'rabbit@db-node' ...");
    expect(rabbit.output?.split('\n').at(-1)).toBe('...done.');
    const partial = await at('keystone.rst', 360);
    expect(partial.command).toBe('keystone --os-username admin --os-tenant-name admin \\\n    --os-password gridka --os-auth-url http://auth-node.example.org:5000/v2.0');
    expect(partial.output).toBe('                <subcommand>');
  });

  it('feeds mysql> lines to the client as input, not the commented-out one after them', async () => {
    expect(await at('keystone.rst', 71)).toMatchObject({
      host: 'db-node',
      command: 'mysql -u root -p',
      input: "CREATE DATABASE keystone;\nGRANT ALL PRIVILEGES ON keystone.* TO 'keystone'@'%' IDENTIFIED BY 'gridka';\nFLUSH PRIVILEGES;\nexit\n",
      inputLines: [72, 73, 74, 75],
    });
    expect((await at('neutron.rst', 22)).input).toBe("CREATE DATABASE neutron;\nGRANT ALL ON neutron.* TO 'neutron'@'%' IDENTIFIED BY 'gridka';\nFLUSH PRIVILEGES;\nexit\n");
    expect((await at('boto.rst', 46)).input).toBe('import boto\n');
  });

  it('reads shell loops over several lines', async () => {
    expect((await at('nova_network.rst', 299)).command).toBe('for i in {1..254}\ndo\nnova-manage floating create --ip_range 172.16.1.$i --pool=public\ndone');
    expect((await at('nova_api.rst', 239)).command).toBe('for serv in \\\n    nova-{api,conductor,scheduler,novncproxy,consoleauth,cert};\\\n    do service $serv restart; done');
  });

  it('skips commands inside rst comments and takes commands from literal blocks inside list items', async () => {
    const all = steps((await load()).stages);
    const lines = (file: string) => all.filter((s) => s.loc.file === join(seed, file)).map((s) => s.loc.line);
    expect(lines('nova_compute.rst')).not.toContain(84);
    expect(lines('nova_compute.rst')).not.toContain(117);
    expect(lines('cinder.rst')).not.toContain(142);
    expect(lines('troubleshooting1.rst')).not.toContain(601);
    expect(await at('troubleshooting1.rst', 324)).toMatchObject({ host: 'gks-061', command: 'tcpdump -i br1 -n icmp' });
    expect(await at('troubleshooting1.rst', 213)).toMatchObject({ host: 'network-node', command: 'iptables -L -t nat -v' });
  });

  it('ends a command at a bare prompt', async () => {
    const grep = await at('neutron.rst', 637);
    expect(grep.command).toBe('ip addr show|grep 10.99');
    expect(grep.output).toBeUndefined();
  });
});

describe('docs/tutorial-format.md', () => {
  it('its complete example parses into the stages and steps the page describes', () => {
    const doc = readFileSync(join(root, 'docs/tutorial-format.md'), 'utf8');
    const example = /## A complete small example\n\n````markdown\n([\s\S]*?)\n````/.exec(doc)?.[1];
    expect(example).toBeDefined();
    const { title, stages } = parseMarkdown(example ?? '', 'example.md');
    expect(title).toBe('Small cloud');
    expect(stages.map((s) => [s.id, s.checks, s.steps.map((x) => `${x.kind}:${x.host}:${x.root ? 'root' : (x.user ?? 'ssh')}`)])).toEqual([
      ['database', ['mysql.server'], ['shell:db-node:root', 'shell:db-node:root', 'file:db-node:root', 'shell:db-node:root']],
      ['identity', ['keystone.catalog'], ['shell:auth-node:root', 'file:auth-node:root', 'shell:auth-node:keystone']],
    ]);
    expect(shell(stages[0]?.steps[1]).input).toContain('CREATE DATABASE keystone;\n');
  });
});

describe('warnings', () => {
  it('warns about blocks that look like commands but run nothing, and only about those', () => {
    const doc = ['## S', '', '```bash', 'apt-get update', '```', '', '    $ openstack server list', '', '```yaml', 'a: 1', '```', '', '```', 'root@h:~# true', '$ output', '```'].join('\n');
    const { warnings } = parseMarkdown(doc, 'w.md');
    expect(warnings).toEqual([
      { loc: { file: 'w.md', line: 3 }, message: 'this `bash` block has no host= and no user@host prompt, so it only shows commands: add host=ROLE to run it' },
      {
        loc: { file: 'w.md', line: 7 },
        message: '"$ command" names no host, so this block only shows commands: write the prompt as user@host:~$ (e.g. root@db-node:~#), or add host=ROLE to the fence',
      },
    ]);
    expect(parseMarkdown('## S\n    root@h:~# true\n', 'ok.md').warnings).toBeUndefined();
  });
});

describe('huge input', () => {
  it('parses a 130,000-line code block (annotated and at a prompt) without overflowing the stack', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sc-huge-'));
    try {
      const body = Array.from({ length: 130_000 }, (_, i) => `  echo ${i}`).join('\n');
      writeFileSync(join(dir, 't.md'), `## Huge\n\n\`\`\`sh host=db-node\n${body}\n\`\`\`\n\n\`\`\`console\nroot@db-node:~# cat <<'EOF'\n${body}\nEOF\n\`\`\`\n`);
      const t = await parseTutorial(join(dir, 't.md'));
      const steps = t.stages[0]?.steps ?? [];
      expect(steps).toHaveLength(2);
      for (const s of steps) expect(s.kind === 'shell' && s.command.split('\n').length).toBeGreaterThanOrEqual(130_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('nothing is lost silently: deep nesting and prompts with characters a role cannot have', () => {
  const nested = (depth: number): string =>
    ['## Before', '', ...Array.from({ length: depth }, (_, i) => `${'  '.repeat(i)}- item ${i}`), '', '## After', '', '    root@db-node:~# echo after', ''].join('\n');

  it('a list nested 50 levels deep: the stage and the step after it are kept', () => {
    const t = parseMarkdown(nested(50), 'deep.md');
    expect(t.stages.map((s) => s.id)).toEqual(['before', 'after']);
    expect(steps(t.stages).map(shell).map((s) => s.command)).toEqual(['echo after']);
  });

  it('nesting deeper than the parser reads is an error at its line, not a tutorial cut short', () => {
    expect(errorsOf(nested(600), 'deeper.md')).toEqual([expect.stringMatching(/^deeper\.md:\d+: lists or quotes nest deeper than stackcheck reads \(about 500 levels\): the rest of deeper\.md would be lost; flatten them$/)]);
  });

  it('a prompt whose host or user is not ASCII is an error at its line, never output of the step before', () => {
    const doc = '## S\n\n    root@db-node:~# echo one\n    one\n    root@db-nöde:~# echo two\n    two\n';
    expect(errorsOf(doc, 'u.md')).toEqual([
      'u.md:5: "root@db-nöde:~# echo two" looks like a prompt, but its host "db-nöde" has characters a role or user name cannot have (ASCII letters, digits, ".", "_" and "-"): write the role as the inventory names it, or the line would be read as output',
    ]);
    // Alone in its block too (a block with no other prompt is not read as display only).
    expect(errorsOf('## S\n\n    röot@db-node:~# echo one\n', 'v.md')[0]).toMatch(/^v\.md:3: .*its user "röot" has characters/);
    // Output that merely mentions an address is output.
    const ok = parseMarkdown('## S\n\n    root@db-node:~# cat /etc/motd\n    contact: ünïcode@example.org\n', 'w.md');
    expect(steps(ok.stages).map(shell)[0]?.output).toBe('contact: ünïcode@example.org');
  });
});
