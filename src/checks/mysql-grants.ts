// MariaDB grants, read as MariaDB's root on the db host (SHOW GRANTS) and judged here: each service user must hold
// ALL on its schemas through the account MariaDB picks for a connection from each host that uses it (the most
// specific matching account, as the server sorts them: a literal address beats `10.0.0.%`, which beats `%`).
// Password hashes never leave the host (the script strips them) and are dropped again by the parser.

/** One `GRANT … ON … TO …` line. */
export interface Grant {
  /** Upper-case privileges, `ALL PRIVILEGES` kept as one entry. */
  privileges: string[];
  /** `*` for `*.*`, else the database name or pattern (backquotes removed, backslash escapes kept). */
  db: string;
  /** `*` for a whole database. */
  table: string;
}

/** A MariaDB account (`user`@`host`) and its grants. */
export interface Account {
  user: string;
  host: string;
  grants: Grant[];
}

/** What the db host reports: the accounts of the users asked about (and anonymous ones), and the name-resolve mode. */
export interface GrantsReport {
  accounts: Account[];
  skipNameResolve: boolean;
}

/** A connection the tutorial expects: `user` from the host at `address` (`names` it may be known by) using `schemas`. */
export interface GrantNeed {
  user: string;
  schemas: string[];
  client: { role: string; address: string; names: string[] };
}

/**
 * The script run on the db host: the accounts of the given users (and anonymous accounts, which can shadow
 * them), then each account's grants with any password hash removed. Output: `## user<TAB>host` headers,
 * grant lines under them, and `SKIP_NAME_RESOLVE <0|1>`.
 */
export function grantsScript(users: readonly string[]): string {
  const list = users.map((u) => `'${u.replace(/[^A-Za-z0-9_.-]/g, '')}'`).join(',');
  return [
    'set -o pipefail',
    `echo "SKIP_NAME_RESOLVE $(mysql -N -B -e 'SELECT @@skip_name_resolve')"`,
    // (a '|' separator: with a tab, read would drop the empty name of an anonymous account)
    `mysql -N -B -r -e "SELECT CONCAT(user, '|', host) FROM mysql.user WHERE user IN (${list}) OR user = '' ORDER BY user, host" | while IFS='|' read -r u h; do`,
    `  printf '## %s\\t%s\\n' "$u" "$h"`,
    `  q=$(printf "'%s'@'%s'" "$(printf %s "$u" | sed "s/'/''/g")" "$(printf %s "$h" | sed "s/'/''/g")")`,
    `  mysql -N -B -r -e "SHOW GRANTS FOR $q" 2>&1 | sed -E "s/ IDENTIFIED (BY PASSWORD|VIA|WITH) .*$//"`,
    'done',
  ].join('\n');
}

const GRANT_LINE = /^GRANT\s+(.+?)\s+ON\s+(\S+)\s+TO\s+/i;

// Split `a`.`b` / *.* / `a`.* into database and table (backquotes removed).
function target(t: string): { db: string; table: string } {
  const m = /^(`(?:[^`]|``)*`|\*|[^.`]+)\.(`(?:[^`]|``)*`|\*|[^.`]+)$/.exec(t);
  const unq = (s: string): string => (s.startsWith('`') ? s.slice(1, -1).replace(/``/g, '`') : s);
  return m ? { db: unq(m[1]!), table: unq(m[2]!) } : { db: t, table: '*' };
}

// Split a privilege list on commas outside column lists: `SELECT (a, b), INSERT`.
function privileges(list: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of list) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim().toUpperCase());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim().toUpperCase());
  return out.map((p) => (p === 'ALL' ? 'ALL PRIVILEGES' : p));
}

/** One grant line; role grants (`GRANT role TO …`) and PROXY grants give undefined. */
export function parseGrantLine(line: string): Grant | undefined {
  const m = GRANT_LINE.exec(line.trim());
  if (!m) return undefined;
  const privs = privileges(m[1]!);
  if (privs.some((p) => p.startsWith('PROXY'))) return undefined;
  return { privileges: privs, ...target(m[2]!) };
}

/** Parse the output of `grantsScript`. */
export function parseGrantsReport(out: string): GrantsReport {
  const accounts: Account[] = [];
  let skipNameResolve = false;
  let cur: Account | undefined;
  for (const raw of out.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const skip = /^SKIP_NAME_RESOLVE\s+(\d)/.exec(line);
    if (skip) {
      skipNameResolve = skip[1] === '1';
      continue;
    }
    if (line.startsWith('## ')) {
      const [user = '', host = ''] = line.slice(3).split('\t');
      cur = { user, host, grants: [] };
      accounts.push(cur);
      continue;
    }
    const g = cur ? parseGrantLine(line) : undefined;
    if (g && cur) cur.grants.push(g);
  }
  return { accounts, skipNameResolve };
}

// A MariaDB LIKE-style pattern (`%`, `_`, `\` escapes) as a regular expression.
function likeToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\' && i + 1 < pattern.length) {
      re += pattern[++i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    } else if (ch === '%') re += '.*';
    else if (ch === '_') re += '.';
    else re += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'i');
}

function ipv4(a: string): number | undefined {
  const p = a.split('.');
  if (p.length !== 4 || p.some((x) => !/^\d{1,3}$/.test(x) || Number(x) > 255)) return undefined;
  return p.reduce((n, x) => n * 256 + Number(x), 0);
}

/** Whether an account's host part admits a client (its address, and its names unless the server skips name resolution). */
export function hostMatches(accountHost: string, client: { address: string; names: readonly string[] }, skipNameResolve: boolean): boolean {
  const mask = /^([\d.]+)\/([\d.]+)$/.exec(accountHost);
  if (mask) {
    const [net, m, ip] = [ipv4(mask[1]!), ipv4(mask[2]!), ipv4(client.address)];
    // (>>> 0: bitwise results are signed 32-bit)
    return net !== undefined && m !== undefined && ip !== undefined && ((ip & m) >>> 0) === ((net & m) >>> 0);
  }
  if (accountHost === '') return true;
  const re = likeToRegExp(accountHost);
  if (re.test(client.address)) return true;
  return !skipNameResolve && client.names.some((n) => re.test(n));
}

// How specific an account's host is (higher first), as the server sorts accounts: literal hosts (with or without a
// netmask), then patterns by the length before their first wildcard, then `%`, then the empty host.
function hostRank(host: string): [number, number] {
  if (host === '') return [0, 0];
  const wild = host.search(/(?<!\\)[%_]/);
  if (wild < 0) return [2, host.length];
  return [1, wild];
}

/** The account MariaDB uses for `user` connecting from `client` (anonymous accounts included), or undefined. */
export function accountFor(report: GrantsReport, user: string, client: { address: string; names: readonly string[] }): Account | undefined {
  const candidates = report.accounts.filter((a) => (a.user === user || a.user === '') && hostMatches(a.host, client, report.skipNameResolve));
  candidates.sort((a, b) => {
    const [ra, rb] = [hostRank(a.host), hostRank(b.host)];
    if (ra[0] !== rb[0]) return rb[0] - ra[0];
    if (ra[1] !== rb[1]) return rb[1] - ra[1];
    return (b.user === '' ? 0 : 1) - (a.user === '' ? 0 : 1);
  });
  return candidates[0];
}

/** Whether a grant's database part covers a schema (`*`, the name, or a pattern matching it). */
export function grantCoversSchema(g: Grant, schema: string): boolean {
  if (g.db === '*') return true;
  return likeToRegExp(g.db).test(schema);
}

/** `'user'@'host'` as MariaDB writes it. */
export function accountName(a: { user: string; host: string }): string {
  return `'${a.user}'@'${a.host}'`;
}

/**
 * The problems with one need: no account admits the client, the account picked is another user's (anonymous), or it
 * lacks ALL on a schema (whole-database grants; table-level ones do not count).
 */
export function grantProblems(report: GrantsReport, need: GrantNeed): string[] {
  const from = `${need.user} from ${need.client.role} (${need.client.address})`;
  const account = accountFor(report, need.user, need.client);
  if (!account) {
    const mine = report.accounts.filter((a) => a.user === need.user);
    return [`${from}: no account admits this host (${mine.length ? `accounts: ${mine.map(accountName).join(', ')}` : `no account named ${need.user}`})`];
  }
  if (account.user !== need.user) {
    return [`${from}: MariaDB picks the anonymous account ${accountName(account)}, which is more specific than ${need.user}'s (drop it: DROP USER ${accountName(account)})`];
  }
  const problems: string[] = [];
  for (const schema of need.schemas) {
    const covering = account.grants.filter((g) => g.table === '*' && grantCoversSchema(g, schema));
    if (covering.some((g) => g.privileges.includes('ALL PRIVILEGES'))) continue;
    const has = [...new Set(covering.flatMap((g) => g.privileges))].filter((p) => p !== 'USAGE');
    problems.push(`${from}: ${accountName(account)} lacks ALL PRIVILEGES on ${schema}.* (${has.length ? `has ${has.join(', ')}` : 'no privilege on it'})`);
  }
  return problems;
}
