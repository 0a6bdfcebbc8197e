// `stackcheck drill` on a real deployment (the chk lab: MariaDB, RabbitMQ, Keystone), through the command line as a
// student uses it. On a cloud that is not the lab: refused without --i-own-this-cloud; a fault injected, seen by
// `drill check`, an incomplete repair (config fixed, service not restarted) not accepted, the full one accepted with
// the time taken, `drill stop` applies the catalogue's repair and writes the report. On the lab: `drill start`
// snapshots it, `drill stop` puts it back exactly (a file written meanwhile is gone).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { prerequisite, requires } from '../helpers/requires.js';
import { tempDir } from '../helpers/tmp.js';
import { buildCli, CLI, ROOT } from '../helpers/build.js';
import { chkTarget, CHK_VARS, type ChkTarget } from '../checks/chk-target.js';
import { labDir } from '../../src/lab/state.js';
import { recordGraded } from '../../src/grade/ledger.js';

const gate = requires(prerequisite.root());

interface Out {
  code: number | null;
  stdout: string;
  stderr: string;
}

gate.describe('stackcheck drill on a real deployment', () => {
  let chk: ChkTarget;
  let dir: string;
  let inventory: string;
  let env: NodeJS.ProcessEnv;

  const drill = (args: string[]): Promise<Out> =>
    new Promise((res) => {
      const p = spawn('node', [CLI, 'drill', ...args], { cwd: ROOT, env });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.on('close', (code) => res({ code, stdout, stderr }));
    });
  const ONLY = ['--only', 'mysql.server,mysql.reachable,mysql.users,rabbitmq.user,rabbitmq.permissions,keystone.api'];
  const secrets = Object.entries(CHK_VARS).filter(([k]) => /PASS$/.test(k)).map(([, v]) => v);

  beforeAll(async () => {
    buildCli();
    chk = await chkTarget();
    dir = tempDir('drill-it-');
    const c = labDir('chk');
    inventory = join(dir, 'chk.yaml');
    writeFileSync(
      inventory,
      ['ssh:', '  user: root', `  key: ${c}/id_ed25519`, `  known_hosts: ${c}/known_hosts`, 'hosts:', `  db-node: { address: ${CHK_VARS.DB_NODE_IP}, hostname: db-node }`, `  auth-node: { address: ${CHK_VARS.DB_NODE_IP}, hostname: db-node }`, 'vars:', ...Object.entries(CHK_VARS).map(([k, v]) => `  ${k}: "${v}"`), ''].join('\n'),
      { mode: 0o600 },
    );
    env = { ...process.env, STACKCHECK_STATE_DIR: join(dir, 'state'), NO_COLOR: '1' };
  }, 900_000);
  afterAll(async () => {
    // Whatever happened, leave the deployment as it was.
    await drill(['stop', '--inventory', inventory, ...ONLY]);
    await drill(['stop', '--lab', 'chk', '--inventory', inventory, ...ONLY]);
    await chk?.sh('systemctl start mariadb rabbitmq-server', { check: false });
    await chk?.close();
  });

  gate.it('on a cloud that is not the lab: refused without ownership; injected, an incomplete repair refused, the real one timed; stop repairs and reports', async () => {
    const reports = join(dir, 'reports');
    const refused = await drill(['start', 'mariadb-localhost-only', '--inventory', inventory, ...ONLY, '--reports', reports]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/is not the local lab: a drill breaks it on purpose\. Pass --i-own-this-cloud/);
    expect(existsSync(reports)).toBe(false);
    // A cloud that was graded: refused even with --i-own-this-cloud, naming the roster.
    recordGraded(join(dir, 'class.csv'), [CHK_VARS.DB_NODE_IP!], env);
    const graded = await drill(['start', 'mariadb-localhost-only', '--inventory', inventory, '--i-own-this-cloud', ...ONLY, '--reports', reports]);
    expect(graded.code).toBe(2);
    expect(graded.stderr).toMatch(/has host 10\.97\.0\.11, which stackcheck graded with the roster .*class\.csv .*: a drill there would break a student's cloud/);
    expect(graded.stderr).toContain(`remove "10.97.0.11" from ${join(dir, 'state', 'graded-hosts.json')}`);
    rmSync(join(dir, 'state', 'graded-hosts.json'));
    const unknown = await drill(['start', 'mariadb-localhost-onyl', '--inventory', inventory, '--i-own-this-cloud']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('did you mean mariadb-localhost-only?');
    const absent = await drill(['start', 'nova-api-stopped', '--inventory', inventory, '--i-own-this-cloud', ...ONLY]);
    expect(absent.code).toBe(2);
    expect(absent.stderr).toMatch(/fault nova-api-stopped cannot be drilled on inventory .*: it acts on "nova", which this deployment does not have/);

    const start = await drill(['start', 'mariadb-localhost-only', '--inventory', inventory, '--i-own-this-cloud', ...ONLY, '--reports', reports]);
    expect(start.code, start.stderr).toBe(0);
    expect(start.stdout).toContain('every OpenStack command fails with an error 500 or "Service Unavailable"');
    // The student is told the symptom, never the fault.
    expect(start.stdout + start.stderr).not.toMatch(/mariadb-localhost-only|bind-address|127\.0\.0\.1/);
    const again = await drill(['start', '--random', '--inventory', inventory, '--i-own-this-cloud', ...ONLY]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('a drill is already running on inventory');

    const broken = await drill(['check', '--inventory', inventory, ...ONLY]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/✘ mysql\.reachable @ /);
    expect(broken.stdout).toContain('not repaired yet');
    const hint = await drill(['hint', '--inventory', inventory, ...ONLY]);
    expect(hint.stdout).toMatch(/^hint 1 of 3: Everything that needs the database fails at once/);

    // Config fixed, MariaDB not restarted: still listening on 127.0.0.1, not accepted.
    await chk.sh(`sed -i -E 's/^(bind-address *= *).*/\\1${CHK_VARS.DB_NODE_IP}/' /etc/mysql/mariadb.conf.d/99-openstack.cnf`);
    const half = await drill(['check', '--inventory', inventory, ...ONLY]);
    expect(half.code).toBe(1);
    expect(half.stdout).toContain('not repaired yet');
    await chk.sh('systemctl restart mariadb');
    let fixed = await drill(['check', '--inventory', inventory, ...ONLY]);
    // Keystone reconnects to the database on its next request.
    for (let i = 0; i < 6 && fixed.code !== 0; i++) {
      await new Promise((r) => setTimeout(r, 5_000));
      fixed = await drill(['check', '--inventory', inventory, ...ONLY]);
    }
    expect(fixed.code, fixed.stdout).toBe(0);
    expect(fixed.stdout).toMatch(/✔ repaired: every check the drill broke passes again, (\d+m)?\d+s after the fault showed/);

    // Something the student left behind that the catalogue's repair does not undo: drill stop compares the
    // deployment with its fingerprint from before the drill, names the difference and exits 1.
    await chk.sh("echo '# a student was here' > /etc/mysql/conf.d/zz-student.cnf");
    const stop = await drill(['stop', '--inventory', inventory, ...ONLY]);
    await chk.sh('rm -f /etc/mysql/conf.d/zz-student.cnf');
    expect(stop.code, stop.stderr).toBe(1);
    expect(stop.stdout).toContain("the catalogue's repair was applied");
    expect(stop.stdout).toContain('The deployment is NOT as it was before the drill (1 difference):\n  db-node/auth-node: /etc/mysql/conf.d/zz-student.cnf was added\n');
    expect(stop.stdout).toMatch(/mariadb-localhost-only: MariaDB listens on localhost only .* — repaired/);
    expect(stop.stdout).toContain('hints used: 1');
    const [folder] = readdirSync(reports);
    const report = readFileSync(join(reports, folder!, 'report.md'), 'utf8');
    expect(report).toContain('**mariadb-localhost-only** (mysql, easy)');
    expect(report).toMatch(/Hints used: 1 of 3; repaired at /);
    expect(report).toMatch(/: [1-9]\d* failing \(.*mysql\.reachable@/);
    expect(report).toContain('- left as found: no: db-node/auth-node: /etc/mysql/conf.d/zz-student.cnf was added');
    // For a gradebook or a CI: the fault repaired (a passing testcase, the time to repair), the deployment not as found.
    const junit = readFileSync(join(reports, folder!, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<testcase classname="drill.mysql" name="mariadb-localhost-only \(mysql, easy\)" time="\d+"><system-out>repaired; hints used 1 of 3/);
    expect(junit).toContain('<testcase classname="drill" name="deployment left as found" time="0"><failure type="not-as-found"');
    const result = JSON.parse(readFileSync(join(reports, folder!, 'result.json'), 'utf8')) as { faults: { id: string; hintsUsed: number }[]; repairedInSeconds?: number };
    expect(result.faults).toMatchObject([{ id: 'mariadb-localhost-only', hintsUsed: 1 }]);
    expect(result.repairedInSeconds).toBeGreaterThan(0);
    const record = readFileSync(join(reports, folder!, 'drill.json'), 'utf8');
    for (const s of secrets) expect(report + record + start.stdout + stop.stdout, 'a password in the drill output').not.toContain(s);
    // The catalogue's repair put the file back as it was, and the drill is over.
    expect((await chk.sh('grep -c "^bind-address *= *10.97.0.11" /etc/mysql/mariadb.conf.d/99-openstack.cnf')).stdout.trim()).toBe('1');
    expect((await drill(['check', '--inventory', inventory, ...ONLY])).stderr).toContain('no drill is running on inventory');
  }, 900_000);

  gate.it('on the lab: start snapshots it, reveal names the fault and the repair, stop restores the snapshot exactly', async () => {
    const reports = join(dir, 'lab-reports');
    const perms = "rabbitmqctl -q list_user_permissions openstack | awk '$1 == \"/\" {print $2}'";
    const start = await drill(['start', 'rabbitmq-no-configure-permission', '--lab', 'chk', '--inventory', inventory, ...ONLY, '--reports', reports]);
    expect(start.code, start.stderr).toBe(0);
    expect(start.stderr).toMatch(/snapshot drill-\d{8}-\d{6}: db-node in /);
    expect(start.stdout).toContain('services that restart never come back to work');
    expect((await chk.sh(perms)).stdout.trim()).toBe('^$');
    // Something the student changes meanwhile, besides the fault.
    await chk.sh('echo student-was-here > /root/drill-marker');

    const reveal = await drill(['reveal', '--lab', 'chk', '--inventory', inventory, ...ONLY]);
    expect(reveal.stdout).toContain('rabbitmq-no-configure-permission (rabbitmq, hard): The openstack RabbitMQ user may no longer configure');
    expect(reveal.stdout).toContain("on message-queue: rabbitmqctl set_permissions -p / '{{ RABBIT_USER }}' '.*' '.*' '.*'");

    const stop = await drill(['stop', '--lab', 'chk', '--inventory', inventory, ...ONLY]);
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toContain('the lab is back to its snapshot');
    expect(stop.stdout).toMatch(/The deployment is as it was before the drill \(1 hosts: [1-9]\d* files, [1-9]\d* running services, [1-9]\d* database and [1-9]\d* RabbitMQ entries compared\)/);
    expect(stop.stdout).toContain('not repaired');
    let restored = '';
    for (let i = 0; i < 30 && restored !== '.*'; i++) {
      restored = (await chk.sh(perms, { check: false })).stdout.trim();
      if (restored !== '.*') await new Promise((r) => setTimeout(r, 3_000));
    }
    expect(restored).toBe('.*');
    expect((await chk.sh('test -e /root/drill-marker && echo present || echo gone')).stdout.trim()).toBe('gone');
    // The drill's snapshot is gone with it.
    expect(readdirSync(join(labDir('chk'), 'snapshots')).filter((n) => n.startsWith('drill-'))).toEqual([]);
    const [folder] = readdirSync(reports);
    expect(readFileSync(join(reports, folder!, 'report.md'), 'utf8')).toMatch(/revealed: yes/);
  }, 900_000);
});
