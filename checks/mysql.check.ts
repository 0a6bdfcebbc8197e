// MariaDB: the server answers on the database address; each service's database exists, its user logs in
// with the inventory's password (from here and from the host that uses it), holds ALL on its schemas from the hosts
// that use it, and its schema is at the head migration of the installed package; every host whose services use the
// database reaches it.
import { connect } from 'node:net';
import type { RowDataPacket } from 'mysql2/promise';
import { checkSuite } from '../src/checks/define.js';
import { CheckBroken, CheckFailure, evidence } from '../src/checks/outcome.js';
import { describeMysqlError, type MysqlTarget } from '../src/db/mysql.js';
import type { CheckSession } from '../src/checks/session.js';
import { shQuote } from '../src/ssh/exec.js';
import { roleAddress, roleNames } from '../src/checks/expect.js';
import { grantProblems, grantsScript, parseGrantsReport } from '../src/checks/mysql-grants.js';
import { databaseClients, databaseUsers, mysqlFirstPacket, parseTcpProbe, tcpProbeScript } from '../src/checks/host-wiring.js';
import { compareVersion, MIGRATIONS, parseRevisions, pendingCount, REVISIONS_SCRIPT, sourceKey, type MigrationSource, type Revision } from '../src/checks/migrations.js';

const { check, expected, ctx } = checkSuite();
const db = expected.dbRole;

// Read the server's greeting packet: proves something MySQL-like answers on host:port (no login needed).
function greeting(host: string, port: number): Promise<{ ok: true; version: string } | { ok: false; error: string; code?: string }> {
  return new Promise((resolve) => {
    const sock = connect({ host, port, timeout: 8000 });
    let buf = Buffer.alloc(0);
    const done = (r: { ok: true; version: string } | { ok: false; error: string; code?: string }): void => {
      sock.destroy();
      resolve(r);
    };
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 5) return;
      const len = buf.readUIntLE(0, 3);
      if (buf.length < 4 + len) return;
      const body = buf.subarray(4, 4 + len);
      if (body[0] === 0xff) return done({ ok: false, error: `server refused this client: ${body.subarray(3).toString('utf8').replace(/^#\w{5}/, '')}` });
      const end = body.indexOf(0, 1);
      done({ ok: true, version: body.subarray(1, end > 0 ? end : undefined).toString('utf8') });
    });
    sock.on('timeout', () => done({ ok: false, error: 'no answer within 8 s', code: 'ETIMEDOUT' }));
    sock.on('error', (err: NodeJS.ErrnoException) => done({ ok: false, error: describeMysqlError(err).text, ...(err.code ? { code: err.code } : {}) }));
  });
}

check('mysql.server', db, async (s, t) => {
  t.logOnFailure(db, 'mariadb', '/var/log/mysql/error.log');
  const target = s.dbAddress();
  const g = await greeting(target.host, target.port);
  if (g.ok) return;
  if (g.code === undefined) throw new CheckBroken(`MariaDB on ${target.host}:${target.port} answered but refused this machine (${g.error})`);
  const ss = await s.run(db, 'ss -ltnp 2>/dev/null | grep -E ":3306\\b" || echo "nothing listens on port 3306"; systemctl is-active mariadb 2>&1 || true').catch(() => undefined);
  throw new CheckFailure(`MariaDB answering on ${target.host}:${target.port} (the db-node address, not only localhost)`, g.error, ss ? [s.commandEvidence(ss)] : []);
});

// The MariaDB stage creates every service's database and user at once: expect them all, whatever the stage.
const dbServices = expected.allServices.filter((x) => x.db);
const allSchemas = dbServices.flatMap((x) => x.db!.schemas);

// Log in as a service user; a refused login is the deployment's fault, an unreachable server is not this check's.
async function login(s: CheckSession, target: MysqlTarget, passwordVar: string): Promise<string | undefined> {
  try {
    await s.mysql.query(target, 'SELECT 1');
    return undefined;
  } catch (err) {
    await s.mysql.drop(target);
    const e = describeMysqlError(err);
    if (e.kind === 'unreachable') throw new CheckBroken(`MariaDB on ${target.host}:${target.port} does not answer (${e.text}; see mysql.server)`);
    return `${target.user}: ${e.text.replace(/ \(wrong password, or no such user\)/, '')} (${passwordVar})`;
  }
}

// The databases a user can see (SHOW DATABASES lists only those it has privileges on).
async function visibleDatabases(s: CheckSession, target: MysqlTarget): Promise<string[]> {
  return (await s.mysql.query<RowDataPacket>(target, 'SHOW DATABASES')).map((r) => String(Object.values(r)[0]));
}

check('mysql.databases', db, async (s) => {
  // As MariaDB's root through its Unix socket on the db host, as the tutorial does (root has no network login).
  const r = await s.run(db, 'mysql -N -B -e "SHOW DATABASES"');
  if (r.exitCode !== 0) throw new CheckBroken(`cannot list databases on ${db} as root (${(r.stderr || r.stdout).trim().split('\n')[0] ?? 'no output'})`, [s.commandEvidence(r)]);
  const have = new Set(r.stdout.split('\n').map((l) => l.trim()).filter(Boolean));
  const missing = allSchemas.filter((x) => !have.has(x));
  if (missing.length > 0) {
    throw new CheckFailure(`databases ${allSchemas.join(', ')} on ${db}`, `${missing.join(', ')} missing`, [s.commandEvidence(r)]);
  }
});

check('mysql.users', db, async (s, t) => {
  t.logOnFailure(db, 'mariadb', '/var/log/mysql/error.log');
  const problems: string[] = [];
  await Promise.all(
    dbServices.map(async (svc) => {
      const d = svc.db!;
      const target = s.mysqlTarget(d.user, d.passwordVar);
      const refused = await login(s, target, d.passwordVar);
      if (refused) return void problems.push(refused);
      const visible = await visibleDatabases(s, target);
      const hidden = d.schemas.filter((x) => !visible.includes(x));
      if (hidden.length > 0) problems.push(`${d.user}: no access to ${hidden.join(', ')}`);
      const fromHost = await loginFromClient(s, d.clientRole, target, d.schemas[0]!);
      if (fromHost) problems.push(fromHost);
    }),
  );
  if (problems.length > 0) {
    throw new CheckFailure(
      `users ${dbServices.map((x) => x.db!.user).join(', ')} logging in to ${s.dbAddress().host} with the inventory passwords, each granted its databases`,
      problems.sort().join('; '),
    );
  }
});

// From the host that uses the credentials (grants may be host-specific), when it has Python's MySQL driver.
async function loginFromClient(s: CheckSession, client: string, target: MysqlTarget, schema: string): Promise<string | undefined> {
  if (!s.inventory.hosts[client] || client === db) return undefined;
  const py = `import sys
try:
    import pymysql
except ImportError:
    print("NO_PYMYSQL"); sys.exit(0)
try:
    pymysql.connect(host=${JSON.stringify(target.host)}, port=${target.port}, user=${JSON.stringify(target.user)}, password=sys.stdin.readline().rstrip("\\n"), database=${JSON.stringify(schema)}, connect_timeout=8).close()
    print("LOGIN_OK")
except Exception as e:
    print("LOGIN_FAILED", e)`;
  const r = await s.run(client, `python3 -c ${shQuote(py)}`, 20_000, `${target.password}\n`).catch(() => undefined);
  if (!r || /LOGIN_OK|NO_PYMYSQL/.test(r.stdout) || !/LOGIN_FAILED/.test(r.stdout)) return undefined;
  return `${target.user} from ${client}: ${r.stdout.replace(/^LOGIN_FAILED\s*/, '').trim().split('\n')[0] ?? ''}`;
}

for (const svc of expected.services.filter((x) => x.db)) {
  const d = svc.db!;
  check(`mysql.${svc.name}-schema`, db, async (s) => {
    const target = s.mysqlTarget(d.user, d.passwordVar);
    const refused = await login(s, target, d.passwordVar);
    if (refused) throw new CheckBroken(`${refused} (see mysql.users)`);
    for (const schema of d.schemas) {
      const want = d.tables[schema] ?? [];
      const rows = await s.mysql.query<RowDataPacket>(target, 'SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ?', [schema]);
      const have = new Set(rows.map((r) => String(r.t)));
      const absent = want.filter((x) => !have.has(x));
      if (absent.length > 0) {
        throw new CheckFailure(
          `schema ${schema} migrated (tables ${want.join(', ')})`,
          have.size === 0 ? `${schema} is empty or not granted to ${d.user} (db sync not run?)` : `missing ${absent.join(', ')} (${have.size} tables)`,
        );
      }
      const first = want[0];
      if (first) {
        try {
          await s.mysql.query(target, `SELECT 1 FROM \`${schema}\`.\`${first}\` LIMIT 1`);
        } catch (err) {
          throw new CheckFailure(`${d.user} able to read ${schema}.${first}`, describeMysqlError(err).text);
        }
      }
    }
    await atHead(s, svc.name, svc.role, target, d.schemas);
  });
}

// The revisions the installed package ships, read on the service's host (ast, nothing imported), per source.
async function packageRevisions(s: CheckSession, role: string, sources: MigrationSource[]): Promise<Map<string, Revision[]>> {
  const r = await s.run(role, `python3 -c ${shQuote(REVISIONS_SCRIPT)}`, 30_000, JSON.stringify(sources));
  let found: ReturnType<typeof parseRevisions>;
  try {
    found = parseRevisions(r.stdout);
  } catch {
    throw new CheckBroken(`cannot read the installed package's migrations on ${role}`, [s.commandEvidence({ ...r, command: 'python3 (alembic revision reader)' })]);
  }
  const out = new Map<string, Revision[]>();
  for (const src of sources) {
    const f = found[sourceKey(src)];
    if (!f || 'error' in f) throw new CheckBroken(`cannot find the package's migrations on ${role} (${f && 'error' in f ? f.error : 'no answer'})`);
    if (f.revisions.length === 0) throw new CheckBroken(`no alembic revision under ${f.path} on ${role}`);
    out.set(sourceKey(src), f.revisions);
  }
  return out;
}

// Each schema's alembic_version against the heads of the package installed on the service's host.
async function atHead(s: CheckSession, service: string, role: string, target: MysqlTarget, schemas: readonly string[]): Promise<void> {
  const sources = MIGRATIONS[service];
  if (!sources) return;
  const want = schemas.filter((x) => sources[x]);
  const revisions = await packageRevisions(s, role, want.map((x) => sources[x]!));
  const problems: string[] = [];
  const report: Record<string, unknown> = {};
  for (const schema of want) {
    const revs = revisions.get(sourceKey(sources[schema]!))!;
    let current: string[] | undefined;
    try {
      current = (await s.mysql.query<RowDataPacket>(target, `SELECT version_num AS v FROM \`${schema}\`.alembic_version`)).map((r) => String(r.v));
    } catch (err) {
      const e = err as { code?: string };
      if (e.code !== 'ER_NO_SUCH_TABLE') throw new CheckBroken(`cannot read ${schema}.alembic_version as ${target.user} (${describeMysqlError(err).text})`);
    }
    const v = compareVersion(revs, current);
    report[schema] = v;
    if (v.state === 'unversioned') problems.push(`${schema} has no alembic version (package head ${v.heads.join(' + ')})`);
    else if (v.state === 'unknown') problems.push(`${schema} is at ${v.unknown.join(' + ')}, which the package installed on ${role} does not ship (heads ${v.heads.join(' + ')}: a newer package's schema?)`);
    else if (v.state === 'behind') problems.push(`${schema} is at ${v.current.join(' + ')}, ${pendingCount(revs, v.current)} migration(s) behind the package's head ${v.missing.join(' + ')}`);
  }
  if (problems.length > 0) {
    throw new CheckFailure(`${want.join(', ')} at the head migration of the ${service} package installed on ${role}`, problems.join('; '), [evidence.json('alembic versions and package heads', report)]);
  }
}

// Each service user holds ALL on its schemas through the account MariaDB picks for the hosts that use it.
check('mysql.grants', db, async (s) => {
  const users = databaseUsers(expected, ctx.inventory);
  const r = await s.run(db, grantsScript(users.map((u) => u.user)), 30_000);
  if (r.exitCode !== 0 || !/^SKIP_NAME_RESOLVE [01]/m.test(r.stdout)) {
    throw new CheckBroken(`cannot read the grants on ${db} as MariaDB's root (${(r.stderr || r.stdout).trim().split('\n')[0] ?? 'no output'})`, [s.commandEvidence(r)]);
  }
  const report = parseGrantsReport(r.stdout);
  const problems = users.flatMap((u) =>
    u.roles.flatMap((role) => {
      const address = roleAddress(ctx.inventory, role) ?? role;
      return grantProblems(report, { user: u.user, schemas: u.schemas, client: { role, address, names: roleNames(ctx.inventory, role) } });
    }),
  );
  if (problems.length > 0) {
    const want = users.map((u) => `${u.user}: ALL on ${u.schemas.join(', ')} from ${u.roles.join(', ')}`).join('; ');
    throw new CheckFailure(want, problems.join('; '), [s.commandEvidence(r)]);
  }
});

// Each host whose services use the database opens a TCP connection to it and gets MariaDB's greeting.
for (const client of databaseClients(expected, ctx.inventory)) {
  check('mysql.reachable', client.role, async (s) => {
    const { host, port } = s.dbAddress();
    const r = await s.run(client.role, tcpProbeScript(host, port, true), 20_000);
    const p = parseTcpProbe(r.stdout);
    const want = `${client.role} (${client.services.join(', ')}) reaching MariaDB on ${host}:${port}`;
    if (!p.connected) throw new CheckFailure(want, `${p.error ?? 'no connection'} after ${p.ms} ms (bind-address in 99-openstack.cnf on ${db}; a firewall between the hosts?)`, [s.commandEvidence(r)]);
    const first = mysqlFirstPacket(p.bytes);
    if (!first.ok) {
      const fix = first.code === 1129 ? ` (too many aborted connections from this host: mysqladmin flush-hosts on ${db})` : first.code === 1130 ? ' (no account admits this host)' : '';
      throw new CheckFailure(want, `MariaDB answered ${first.text}${fix}`, [s.commandEvidence(r)]);
    }
  });
}
