// Nova's cells against the inventory: cell0's database is nova_cell0 on the database host, cell1's database is nova
// there and its transport URL the RabbitMQ host. The mappings are read from nova_api.cell_mappings (as the nova
// database user) or, when they hold URL templates, from `nova-manage cell_v2 list_cells --verbose` on the api host.
// Either way the passwords in the URLs are replaced before anything else sees them: by the name of the inventory
// variable they equal (`__NOVA_DBPASS__`), or by `__OTHER__`; only those markers are compared and reported.
import type { RowDataPacket } from 'mysql2/promise';
import { describeMysqlError } from '../db/mysql.js';
import { shQuote } from '../ssh/exec.js';
import { CheckBroken } from './outcome.js';
import type { CheckSession } from './session.js';

/** One cell mapping, passwords replaced by markers. */
export interface Cell {
  name: string;
  uuid: string;
  transportUrl: string;
  databaseConnection: string;
  disabled: boolean;
}

/** The marker for a password equal to no variable offered. */
export const OTHER_PASSWORD = '__OTHER__';

/** The marker for a password equal to a variable. */
export function passwordMarker(varName: string): string {
  return `__${varName}__`;
}

/**
 * Replace the password of every URL in `text` (`scheme://user:password@host…`, several comma-separated hosts
 * allowed) by its marker. `secrets` maps variable names to values; a URL-encoded password is decoded first.
 */
export function maskUrlPasswords(text: string, secrets: Readonly<Record<string, string>>): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/|,)([^:/@\s,|]*):([^@\s|]*)@/gi, (_m, pre: string, user: string, pw: string) => {
    let plain = pw;
    try {
      plain = decodeURIComponent(pw);
    } catch {
      // not URL-encoded: compare as is
    }
    const name = Object.entries(secrets).find(([, v]) => v === plain || v === pw)?.[0];
    return `${pre}${user}:${name ? passwordMarker(name) : OTHER_PASSWORD}@`;
  });
}

/** Whether a stored URL is a template nova formats at load time (`{username}`, `{hostname}`…). */
export function isTemplate(url: string): boolean {
  return /\{[a-z_]+\}/.test(url);
}

/**
 * Parse `nova-manage cell_v2 list_cells [--verbose]` (a prettytable: Name | UUID | Transport URL | Database
 * Connection | Disabled). Rows whose columns do not fit are skipped.
 */
export function parseListCells(out: string): Cell[] {
  const rows = out
    .replace(/\r/g, '')
    .split('\n')
    .filter((l) => l.startsWith('|'))
    .map((l) =>
      l
        .slice(1, l.trimEnd().endsWith('|') ? l.trimEnd().length - 1 : undefined)
        .split('|')
        .map((c) => c.trim()),
    );
  const header = rows.findIndex((r) => r[0] === 'Name');
  if (header < 0) return [];
  const cols = rows[header]!;
  const at = (r: string[], name: string): string => r[cols.indexOf(name)] ?? '';
  return rows
    .slice(header + 1)
    .filter((r) => r.length === cols.length)
    .map((r) => ({
      name: at(r, 'Name'),
      uuid: at(r, 'UUID'),
      transportUrl: at(r, 'Transport URL'),
      databaseConnection: at(r, 'Database Connection'),
      disabled: /^true$/i.test(at(r, 'Disabled')),
    }));
}

/**
 * Run on the api host as root: `nova-manage cell_v2 list_cells --verbose` as the nova user, every URL password
 * replaced by its marker before printing. Stdin: `{"secrets": {VAR: value}}`.
 */
export const LIST_CELLS_SCRIPT = String.raw`
import json, re, subprocess, sys
from urllib.parse import unquote
secrets = json.loads(sys.stdin.read())["secrets"]
r = subprocess.run(["runuser", "-u", "nova", "--", "nova-manage", "cell_v2", "list_cells", "--verbose"], capture_output=True, text=True, timeout=150)
def mask(m):
    pw = m.group(3)
    for name, value in secrets.items():
        if value in (pw, unquote(pw)):
            return "%s%s:__%s__@" % (m.group(1), m.group(2), name)
    return "%s%s:__OTHER__@" % (m.group(1), m.group(2))
pat = re.compile(r"([a-z][a-z0-9+.-]*://|,)([^:/@\s,|]*):([^@\s|]*)@", re.I)
print("RC %d" % r.returncode)
print(pat.sub(mask, r.stdout))
print(pat.sub(mask, r.stderr)[-2000:], file=sys.stderr)
`;

/** The command line running LIST_CELLS_SCRIPT. */
export const LIST_CELLS_COMMAND = `python3 -c ${shQuote(LIST_CELLS_SCRIPT)}`;

/** What the cells must point at, per the inventory (host names: every name the role may appear under). */
export interface CellExpectation {
  db: { user: string; passwordVar: string; hosts: string[] };
  mq: { user: string; passwordVar: string; hosts: string[]; port: number; vhost: string };
}

interface UrlParts {
  scheme: string;
  user: string;
  password: string;
  host: string;
  port: number | undefined;
  path: string;
}

// Split a (masked) URL; several comma-separated hosts: the first.
function parts(url: string): UrlParts | undefined {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^:/,?]*)(?::(\d+))?[^/?]*(\/[^?]*)?/i.exec(url.trim());
  if (!m) return undefined;
  return { scheme: m[1]!.toLowerCase(), user: decodeURIComponent(m[2] ?? ''), password: m[3] ?? '', host: m[4] ?? '', port: m[5] ? Number(m[5]) : undefined, path: m[6] ?? '' };
}

// What is wrong with one URL of a cell against what it should be.
function urlProblems(where: string, url: string, want: { scheme: RegExp; schemeText: string; user: string; passwordVar: string; hosts: string[]; path?: string; port?: number }): string[] {
  const p = parts(url);
  if (!p) return [`${where} is not a URL (${url ? 'unreadable' : 'empty'})`];
  if (!want.scheme.test(p.scheme)) return [`${where} is a ${p.scheme}:// URL, not ${want.schemeText}`];
  const out: string[] = [];
  if (p.user !== want.user) out.push(`${where} uses user ${p.user || '(none)'}, not ${want.user}`);
  if (p.password !== passwordMarker(want.passwordVar)) out.push(`${where} has a password that differs from ${want.passwordVar}`);
  if (!want.hosts.includes(p.host)) out.push(`${where} points at host ${p.host || '(none)'}, not ${want.hosts[0] ?? '?'}`);
  if (want.port !== undefined && (p.port ?? 5672) !== want.port) out.push(`${where} uses port ${p.port ?? 5672}, not ${want.port}`);
  if (want.path !== undefined) {
    const db = p.path.replace(/^\//, '');
    if (db !== want.path) out.push(`${where} names database ${db || '(none)'}, not ${want.path}`);
  }
  return out;
}

/** Every way the cells differ from the tutorial's layout (empty when they conform). */
export function cellProblems(cells: readonly Cell[], e: CellExpectation): string[] {
  const problems: string[] = [];
  const mysql = { scheme: /^mysql(\+\w+)?$/, schemeText: 'mysql+pymysql://', user: e.db.user, passwordVar: e.db.passwordVar, hosts: e.db.hosts };
  for (const [name, schema] of [
    ['cell0', 'nova_cell0'],
    ['cell1', 'nova'],
  ] as const) {
    const found = cells.filter((c) => c.name === name);
    if (found.length === 0) {
      problems.push(`${name} is not mapped`);
      continue;
    }
    if (found.length > 1) problems.push(`${found.length} cells are named ${name} (${found.map((c) => c.uuid).join(', ')}): delete the extra one`);
    const c = found[0]!;
    if (c.disabled) problems.push(`${name} is disabled (nova-manage cell_v2 update_cell --cell_uuid ${c.uuid} --enable)`);
    problems.push(...urlProblems(`${name} database_connection`, c.databaseConnection, { ...mysql, path: schema }));
    if (name === 'cell1') {
      const vhostPath = e.mq.vhost === '/' ? '' : e.mq.vhost;
      const mq = urlProblems(`${name} transport_url`, c.transportUrl, { scheme: /^rabbit$/, schemeText: 'rabbit://', user: e.mq.user, passwordVar: e.mq.passwordVar, hosts: e.mq.hosts, port: e.mq.port });
      const p = parts(c.transportUrl);
      if (mq.length === 0 && p && p.path.replace(/^\//, '') !== vhostPath) mq.push(`${name} transport_url uses vhost ${p.path.replace(/^\//, '') || '/'}, not ${e.mq.vhost}`);
      problems.push(...mq);
    }
  }
  return problems;
}

/** One check of `nova-status upgrade check`: its name, result (Success, Warning, Failure) and details. */
export interface StatusCheck {
  check: string;
  result: string;
  details: string;
}

/** Parse `nova-status upgrade check` (a table of `| Check: X |`, `| Result: Y |`, `| Details: Z |` blocks). */
export function parseUpgradeCheck(out: string): StatusCheck[] {
  const checks: StatusCheck[] = [];
  let cur: StatusCheck | undefined;
  let inDetails = false;
  for (const raw of out.replace(/\r/g, '').split('\n')) {
    const line = /^\|\s?(.*?)\s*\|$/.exec(raw.trimEnd())?.[1];
    if (line === undefined) {
      inDetails = false;
      continue;
    }
    const m = /^(Check|Result|Details):\s*(.*)$/.exec(line);
    if (m?.[1] === 'Check') {
      cur = { check: m[2]!, result: '', details: '' };
      checks.push(cur);
      inDetails = false;
    } else if (m?.[1] === 'Result' && cur) {
      cur.result = m[2]!;
      inDetails = false;
    } else if (m?.[1] === 'Details' && cur) {
      cur.details = m[2] === 'None' ? '' : m[2]!;
      inDetails = true;
    } else if (inDetails && cur && line.trim()) {
      cur.details = `${cur.details} ${line.trim()}`.trim();
    }
  }
  return checks;
}

/** The cell mappings in nova_api, read as the nova database user; passwords replaced by markers at once. */
export async function readCellMappings(
  s: CheckSession,
  db: { user: string; passwordVar: string },
  secretVars: readonly string[],
): Promise<{ cells: Cell[]; templated: boolean }> {
  const target = s.mysqlTarget(db.user, db.passwordVar);
  let rows: RowDataPacket[];
  try {
    rows = await s.mysql.query<RowDataPacket>(target, 'SELECT name, uuid, transport_url, database_connection, disabled FROM nova_api.cell_mappings ORDER BY id');
  } catch (err) {
    throw new CheckBroken(`cannot read nova_api.cell_mappings as ${db.user} (${describeMysqlError(err).text}; see mysql.nova-schema)`);
  }
  const secrets = secretMap(s, secretVars);
  let templated = false;
  const cells = rows.map((r) => {
    const t = String(r.transport_url ?? '');
    const d = String(r.database_connection ?? '');
    if (isTemplate(t) || isTemplate(d)) templated = true;
    return { name: String(r.name ?? ''), uuid: String(r.uuid ?? ''), transportUrl: maskUrlPasswords(t, secrets), databaseConnection: maskUrlPasswords(d, secrets), disabled: Boolean(Number(r.disabled ?? 0)) };
  });
  return { cells, templated };
}

/** The variables offered to the maskers (those the inventory sets). */
export function secretMap(s: CheckSession, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.map((n) => [n, s.inventory.vars[n]]).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''));
}

/**
 * A cell for evidence: URLs without their password field (`scheme://user@host/…`) and which variable the password
 * equals, so the report says it without any `user:password@` form a redactor would blank out.
 */
export function cellForEvidence(c: Cell): Record<string, string | boolean> {
  const show = (url: string): string => {
    let said = '';
    const bare = url.replace(/(:\/\/|,)([^:/@\s,|]*):(__[A-Z0-9_]+__)@/g, (_m, pre: string, user: string, marker: string) => {
      said ||= marker === OTHER_PASSWORD ? ' (password equals none of the inventory\'s)' : ` (password equals ${marker.slice(2, -2)})`;
      return `${pre}${user}@`;
    });
    return `${bare}${said}`;
  };
  return { name: c.name, uuid: c.uuid, transport_url: show(c.transportUrl), database_connection: show(c.databaseConnection), disabled: c.disabled };
}
