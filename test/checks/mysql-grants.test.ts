// SHOW GRANTS as the db host prints it (captured from the lab's MariaDB 10.11 through grantsScript), and which
// account MariaDB picks for a client.
import { describe, expect, test } from 'vitest';
import { accountFor, grantProblems, grantsScript, hostMatches, parseGrantLine, parseGrantsReport, type GrantNeed } from '../../src/checks/mysql-grants.js';

// grantsScript's output on the lab after the MariaDB stage (hashes already stripped on the host by its sed).
const LAB = `SKIP_NAME_RESOLVE 1
## cinder\t%
GRANT USAGE ON *.* TO \`cinder\`@\`%\`
GRANT ALL PRIVILEGES ON \`cinder\`.* TO \`cinder\`@\`%\`
## glance\t%
GRANT USAGE ON *.* TO \`glance\`@\`%\`
GRANT ALL PRIVILEGES ON \`glance\`.* TO \`glance\`@\`%\`
## nova\t%
GRANT USAGE ON *.* TO \`nova\`@\`%\`
GRANT ALL PRIVILEGES ON \`nova\`.* TO \`nova\`@\`%\`
GRANT ALL PRIVILEGES ON \`nova_api\`.* TO \`nova\`@\`%\`
GRANT ALL PRIVILEGES ON \`nova_cell0\`.* TO \`nova\`@\`%\`
`;

const api = { role: 'api-node', address: '10.99.0.14', names: ['api-node', '10.99.0.14'] };
const novaNeed: GrantNeed = { user: 'nova', schemas: ['nova_api', 'nova', 'nova_cell0'], client: api };

describe('SHOW GRANTS lines', () => {
  test('privileges, database and table; column lists stay whole; role and proxy grants are not privileges', () => {
    expect(parseGrantLine('GRANT ALL PRIVILEGES ON `nova_api`.* TO `nova`@`%`')).toEqual({ privileges: ['ALL PRIVILEGES'], db: 'nova_api', table: '*' });
    expect(parseGrantLine("GRANT USAGE ON *.* TO `nova`@`%` IDENTIFIED BY PASSWORD '*8A3ABB45A25C100132C3604F76241D1C681C7478'")).toEqual({ privileges: ['USAGE'], db: '*', table: '*' });
    expect(parseGrantLine('GRANT SELECT (id, name), INSERT ON `nova`.`instances` TO `nova`@`10.99.0.%`')).toEqual({ privileges: ['SELECT (ID, NAME)', 'INSERT'], db: 'nova', table: 'instances' });
    expect(parseGrantLine('GRANT `ops_role` TO `nova`@`%`')).toBeUndefined();
    expect(parseGrantLine("GRANT PROXY ON ''@'%' TO 'root'@'localhost' WITH GRANT OPTION")).toBeUndefined();
  });

  test('the report: accounts with their grants and the name-resolve mode', () => {
    const r = parseGrantsReport(LAB);
    expect(r.skipNameResolve).toBe(true);
    expect(r.accounts.map((a) => `${a.user}@${a.host}:${a.grants.length}`)).toEqual(['cinder@%:2', 'glance@%:2', 'nova@%:4']);
  });

  test('the script strips password hashes on the host and keeps anonymous accounts (empty user) apart', () => {
    const s = grantsScript(['nova', "x'; DROP"]);
    expect(s).toContain("IN ('nova','xDROP')");
    expect(s).toContain("IFS='|'");
    expect(s).toContain('s/ IDENTIFIED (BY PASSWORD|VIA|WITH) .*$//');
  });
});

describe('which account MariaDB uses', () => {
  test('host patterns: %, LIKE wildcards, escapes, netmasks; names only when the server resolves them', () => {
    expect(hostMatches('%', api, true)).toBe(true);
    expect(hostMatches('10.99.0.%', api, true)).toBe(true);
    expect(hostMatches('10.99.1.%', api, true)).toBe(false);
    expect(hostMatches('10.99.0.0/255.255.255.0', api, true)).toBe(true);
    expect(hostMatches('10.99.0.0/255.255.255.248', api, true)).toBe(false);
    expect(hostMatches('api-node', api, true)).toBe(false);
    expect(hostMatches('api-node', api, false)).toBe(true);
    expect(hostMatches('api\\_node', { ...api, names: ['apiXnode'] }, false)).toBe(false);
  });

  test('the most specific host wins; at equal hosts a named user beats the anonymous one', () => {
    const r = parseGrantsReport(`SKIP_NAME_RESOLVE 1
## nova\t%
GRANT ALL PRIVILEGES ON \`nova\`.* TO \`nova\`@\`%\`
## nova\t10.99.0.%
GRANT SELECT ON \`nova\`.* TO \`nova\`@\`10.99.0.%\`
## nova\t10.99.0.14
GRANT USAGE ON *.* TO \`nova\`@\`10.99.0.14\`
## \t%
GRANT USAGE ON *.* TO \`\`@\`%\`
`);
    expect(accountFor(r, 'nova', api)?.host).toBe('10.99.0.14');
    expect(accountFor(r, 'nova', { ...api, address: '10.99.0.15' })?.host).toBe('10.99.0.%');
    expect(accountFor(r, 'nova', { ...api, address: '192.0.2.1' })).toMatchObject({ user: 'nova', host: '%' });
  });
});

describe('grant problems', () => {
  test('the tutorial grants pass', () => {
    expect(grantProblems(parseGrantsReport(LAB), novaNeed)).toEqual([]);
    expect(grantProblems(parseGrantsReport(LAB), { user: 'cinder', schemas: ['cinder'], client: { role: 'volume-node', address: '10.99.0.16', names: [] } })).toEqual([]);
  });

  test('a dropped grant names the account, the schema and what it still has', () => {
    const dropped = LAB.replace('GRANT ALL PRIVILEGES ON `nova_cell0`.* TO `nova`@`%`\n', 'GRANT SELECT, INSERT ON `nova_cell0`.* TO `nova`@`%`\n');
    expect(grantProblems(parseGrantsReport(dropped), novaNeed)).toEqual([
      "nova from api-node (10.99.0.14): 'nova'@'%' lacks ALL PRIVILEGES on nova_cell0.* (has SELECT, INSERT)",
    ]);
  });

  test('a more specific account without grants shadows the % one', () => {
    const r = parseGrantsReport(`${LAB}## nova\t10.99.0.14\nGRANT USAGE ON *.* TO \`nova\`@\`10.99.0.14\`\n`);
    expect(grantProblems(r, novaNeed)).toEqual([
      "nova from api-node (10.99.0.14): 'nova'@'10.99.0.14' lacks ALL PRIVILEGES on nova_api.* (no privilege on it)",
      "nova from api-node (10.99.0.14): 'nova'@'10.99.0.14' lacks ALL PRIVILEGES on nova.* (no privilege on it)",
      "nova from api-node (10.99.0.14): 'nova'@'10.99.0.14' lacks ALL PRIVILEGES on nova_cell0.* (no privilege on it)",
    ]);
  });

  test('an anonymous account for the client host wins over the user\'s %', () => {
    const r = parseGrantsReport(`${LAB}## \t10.99.0.14\nGRANT USAGE ON *.* TO \`\`@\`10.99.0.14\`\n`);
    expect(grantProblems(r, novaNeed)).toEqual([
      "nova from api-node (10.99.0.14): MariaDB picks the anonymous account ''@'10.99.0.14', which is more specific than nova's (drop it: DROP USER ''@'10.99.0.14')",
    ]);
  });

  test('a user only allowed from localhost, and a missing user', () => {
    const r = parseGrantsReport(LAB.replace('## nova\t%', '## nova\tlocalhost'));
    expect(grantProblems(r, novaNeed)).toEqual(["nova from api-node (10.99.0.14): no account admits this host (accounts: 'nova'@'localhost')"]);
    expect(grantProblems(r, { ...novaNeed, user: 'neutron', schemas: ['neutron'] })).toEqual(['neutron from api-node (10.99.0.14): no account admits this host (no account named neutron)']);
  });

  test('ALL on *.* or on a matching pattern covers the schema', () => {
    const r = parseGrantsReport('SKIP_NAME_RESOLVE 0\n## nova\t%\nGRANT ALL PRIVILEGES ON `nova%`.* TO `nova`@`%`\n');
    expect(grantProblems(r, novaNeed)).toEqual([]);
    const all = parseGrantsReport('SKIP_NAME_RESOLVE 0\n## nova\t%\nGRANT ALL PRIVILEGES ON *.* TO `nova`@`%`\n');
    expect(grantProblems(all, novaNeed)).toEqual([]);
  });
});
