// Runs the built CLI (`dist/src/cli.js plan …`) as a user would and checks exit codes and output.
import { tempDir } from '../helpers/tmp.js';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PlanJson } from '../../src/cli/plan.js';
import { buildCli, CLI as cli, ROOT as root } from '../helpers/build.js';

// Runs `stackcheck plan ARGS` from the repository root.
function plan(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, 'plan', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// The built CLI, from this tree: a failed build fails the file.
beforeAll(() => {
  buildCli();
}, 300_000);

describe('stackcheck plan --json', () => {
  it('prints stages, checks and steps with hosts as written and 1-based source lines', () => {
    const r = plan('fixtures/tutorials/prompt-style.md', '--json', '--parse-only');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as PlanJson;
    expect(json.stages.map((s) => s.id)).toEqual(['prompt-style-fixture', 'basic-services', 'keystone', 'keystone-2']);
    expect(json.stages[1]).toEqual({
      id: 'basic-services',
      title: 'Basic services',
      installs: ['mysql', 'rabbitmq'],
      checks: ['mysql.server', 'rabbitmq.user'],
      steps: [
        { host: 'db-node', kind: 'shell', line: 14, command: 'apt-get install -y mariadb-server \\\n    python3-pymysql' },
        {
          host: 'db-node',
          kind: 'shell',
          line: 24,
          command: 'mysql -u root',
          input: "CREATE DATABASE keystone;\nGRANT ALL PRIVILEGES ON keystone.* TO 'keystone'@'%'\nIDENTIFIED BY '{{ KEYSTONE_DBPASS }}';\nexit\n",
        },
        { host: 'db-node', kind: 'shell', line: 36, command: "cat > /etc/mysql/conf.d/99-openstack.cnf <<'EOF'\n[mysqld]\nbind-address = {{ DB_HOST }}\nEOF" },
        { host: 'db-node', kind: 'shell', line: 40, command: 'systemctl restart mariadb' },
        { host: 'db-node', kind: 'shell', line: 41, command: 'systemctl is-active mariadb' },
      ],
    });
  });

  it('prints file steps with their path', () => {
    const json = JSON.parse(plan('fixtures/tutorials/annotated.md', '--json', '--parse-only').stdout) as PlanJson;
    expect(json.stages[0]?.steps[1]).toEqual({ host: 'db-node', kind: 'file', line: 12, path: '/etc/mysql/mariadb.conf.d/99-openstack.cnf' });
  });

  it('adds the file of each step when the tutorial is a folder', () => {
    const json = JSON.parse(plan('fixtures/tutorials/folder', '--json', '--parse-only').stdout) as PlanJson;
    expect(json.stages.flatMap((s) => s.steps)).toEqual([
      { host: 'db-node', kind: 'shell', line: 5, file: 'fixtures/tutorials/folder/01-base.md', command: 'apt-get update' },
      { host: 'auth-node', kind: 'shell', line: 5, file: 'fixtures/tutorials/folder/02-identity.md', command: 'apt-get install -y keystone' },
    ]);
  });

  it('reads every file of the seed tutorial', () => {
    const r = plan('fixtures/seed', '--json', '--parse-only');
    expect(r.code).toBe(0);
    const all = (JSON.parse(r.stdout) as PlanJson).stages.flatMap((s) => s.steps);
    expect(all).toHaveLength(231);
    expect(all.find((s) => s.file === 'fixtures/seed/keystone.rst' && s.line === 71)).toMatchObject({ host: 'db-node', command: 'mysql -u root -p' });
  });

  it('fills variables from the inventory but shows secret ones as {{ NAME }}', () => {
    const r = plan('fixtures/tutorials/prompt-style.md', '--inventory', 'fixtures/inventories/tutorial.yaml', '--json');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('bind-address = 10.99.0.11');
    expect(r.stdout).toContain("IDENTIFIED BY '{{ KEYSTONE_DBPASS }}'");
    expect(r.stdout).toContain('--bootstrap-password {{ ADMIN_PASS }}');
    expect(r.stdout).not.toContain('ks-db-secret');
    expect(r.stdout).not.toContain('admin-secret');
  });
});

describe('stackcheck plan (text)', () => {
  it('warns on stderr about a shell block that runs nothing, and still exits 0', () => {
    const r = plan('fixtures/tutorials/display-only.md', '--json');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      'stackcheck: warning: fixtures/tutorials/display-only.md:5: this `sh` block has no host= and no user@host prompt, so it only shows commands: add host=ROLE to run it\n',
    );
    expect((JSON.parse(r.stdout) as PlanJson).stages[0]?.steps).toHaveLength(1);
  });


  it('shows stages, checks, and each step with host, line and a one-line command', () => {
    const r = plan('fixtures/tutorials/prompt-style.md', '--parse-only');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('Prompt-style fixture  (fixtures/tutorials/prompt-style.md)');
    expect(lines[1]).toBe('4 stages, 10 steps on 2 hosts: db-node, auth-node');
    expect(lines[2]).toBe('variables: KEYSTONE_DBPASS, DB_HOST, ADMIN_PASS (give --inventory to fill them)');
    expect(lines).toContain('2. Basic services  [basic-services]');
    expect(lines).toContain('   checks: mysql.server, rabbitmq.user');
    expect(lines).toContain('   db-node    line 14  # apt-get install -y mariadb-server python3-pymysql');
    expect(lines).toContain('   db-node    line 24  # mysql -u root  ← 4 input lines');
    expect(lines).toContain("   db-node    line 36  # cat > /etc/mysql/conf.d/99-openstack.cnf <<'EOF' … (+3 lines)");
    expect(lines).toContain('   auth-node  line 49  $ sudo apt-get install -y keystone');
  });

  it('with an inventory, shows where each role runs and fills non-secret variables only', () => {
    const r = plan('fixtures/tutorials/prompt-style.md', '--inventory', 'fixtures/inventories/tutorial.yaml');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[2]).toBe('inventory fixtures/inventories/tutorial.yaml (tutorial): db-node → root@10.99.0.11, auth-node → root@10.99.0.12');
    expect(lines).toContain('   auth-node  line 51  # keystone-manage bootstrap --bootstrap-password {{ ADMIN_PASS }}');
    expect(r.stdout).not.toContain('admin-secret');
  });

  it('describes file steps and options', () => {
    const lines = plan('fixtures/tutorials/annotated.md', '--parse-only').stdout.split('\n');
    expect(lines).toContain('   db-node    line 7  # apt-get install -y mariadb-server … (+1 lines)  (timeout 10m, retries 2)');
    expect(lines).toContain('   db-node    line 12  merge INI keys into /etc/mysql/mariadb.conf.d/99-openstack.cnf (3 lines)');
    expect(lines).toContain('   auth-node  line 20  [keystone]$ keystone-manage fernet_setup --keystone-user keystone --keystone-group keystone  (exit 0,1)');
    expect(lines).toContain('   auth-node  line 29  append to /etc/hosts (1 line)');
  });
});

describe('stackcheck plan: bad input exits 2 with file:line, printing nothing on stdout', () => {
  it('a malformed tutorial', () => {
    const r = plan('fixtures/tutorials/broken/unclosed-fence.md', '--json');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'stackcheck: fixtures/tutorials/broken/unclosed-fence.md:5: code block opened with ``` is never closed: add a ``` line after its last line\n',
    );
  });

  it('a malformed inventory', () => {
    const r = plan('fixtures/tutorials/prompt-style.md', '--inventory', 'fixtures/inventories/bad-fields.yaml');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('fixtures/inventories/bad-fields.yaml:7: hosts.db-node.port: expected a number, got "abc"\n');
  });

  it('an undefined variable and an unknown role, without printing secret values', () => {
    const dir = tempDir('stackcheck-plan-');
    writeFileSync(join(dir, 'inv.yaml'), 'hosts:\n  db-node: { address: 10.0.0.3 }\nvars:\n  ADMIN_PASS: hunter2-secret\n');
    const r = plan('fixtures/tutorials/broken/undefined-vars.md', '--inventory', join(dir, 'inv.yaml'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`fixtures/tutorials/broken/undefined-vars.md:5: {{ DB_HOTS }} is not defined`);
    expect(r.stderr).toContain(`fixtures/tutorials/broken/undefined-vars.md:6: host role "db-nod" is not in ${join(dir, 'inv.yaml')} (did you mean "db-node"?)`);
    expect(r.stderr).toContain('fixtures/tutorials/broken/undefined-vars.md:8: host role "auth-node"');
    expect(r.stderr).not.toContain('hunter2');
  });

  it('without --inventory: a variable the lab\'s defaults do not define, as `run` would fail', () => {
    const r = plan('fixtures/tutorials/prompt-style.md');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('without --inventory, `run` uses the local lab and no variables');
    expect(r.stderr).toContain('fixtures/tutorials/prompt-style.md:29: {{ KEYSTONE_DBPASS }} is not defined');
    // the tutorial's own lab vars define everything the lab variant uses, and choose it
    const lab = plan('tutorial');
    expect(lab.code, lab.stderr).toBe(0);
    expect(lab.stdout).toMatch(/^variant: storage=ceph \(inventory .*tutorial\/vars\/lab\.yaml \(variants\.storage\)\)$/m);
    expect(lab.stdout).toMatch(/Lab variant: cinder-volume with Ceph RBD on volume-node .*\(variant storage=ceph\)/);
    expect(lab.stdout).not.toContain('cinder-volume with LVM and iSCSI');
    // the real-machines variant needs a disk the lab does not have
    const real = plan('tutorial', '--variant', 'storage=lvm');
    expect(real.code).toBe(2);
    expect(real.stderr).toContain('{{ CINDER_DISK }} is not defined');
    expect(real.stderr).toContain('tutorial/vars/lab.yaml');
  });

  it('the tutorial\'s variants: the document alone shows both storage stages; --variant keeps one; a wrong choice is exit 2 with file:line', () => {
    const ids = (r: { stdout: string }): string[] => (JSON.parse(r.stdout) as PlanJson).stages.filter((s) => s.variant).map((s) => `${s.id} ${s.variant}`);
    const both = plan('tutorial', '--parse-only', '--json');
    expect(both.code, both.stderr).toBe(0);
    expect(ids(both)).toEqual(['lab-variant-cinder-volume-with-ceph-rbd-on-volume-node storage=ceph', 'cinder-volume-with-lvm-and-iscsi-on-volume-node storage=lvm']);
    const real = plan('tutorial', '--parse-only', '--json', '--variant', 'storage=lvm');
    expect(ids(real)).toEqual(['cinder-volume-with-lvm-and-iscsi-on-volume-node storage=lvm']);
    expect((JSON.parse(real.stdout) as PlanJson).variants).toEqual([{ name: 'storage', value: 'lvm', from: '--variant storage=lvm' }]);
    const wrong = plan('tutorial', '--parse-only', '--variant', 'storage=nfs');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--variant storage=nfs: "nfs" is no alternative of variant "storage" of tutorial: choose one of ceph \(tutorial\/10-cinder-volume-ceph\.md:3\), lvm \(tutorial\/10-cinder-volume-lvm\.md:3\)/);
  });

  it('a tutorial that does not exist', () => {
    const r = plan('fixtures/tutorials/missing.md');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('stackcheck: tutorial not found: fixtures/tutorials/missing.md\n  hint: give a Markdown file or a folder of .md files\n');
  });
});
