// RabbitMQ permissions of the tutorial's user, read with rabbitmqctl on the broker's host (the tutorial installs no
// management plugin) and judged here: configure, write and read must each admit every resource name the services use.
import { shQuote } from '../ssh/exec.js';

/** One vhost's permissions of a user, as `list_user_permissions` reports them. */
export interface VhostPermissions {
  vhost: string;
  configure: string;
  write: string;
  read: string;
}

/** What the broker said: the user's permissions, or that it has no such user (with the users it has), or an error. */
export type PermissionsReport =
  | { kind: 'permissions'; permissions: VhostPermissions[] }
  | { kind: 'no-user'; users: string[] }
  | { kind: 'error'; text: string };

/** The script run on the broker's host: exit status, the permissions as JSON, and the users when that failed. */
export function permissionsScript(user: string): string {
  return [
    `p=$(rabbitmqctl -q --formatter json list_user_permissions -- ${shQuote(user)} 2>&1); rc=$?`,
    'printf "RC %s\\n%s\\n" "$rc" "$p"',
    'if [ "$rc" -ne 0 ]; then echo "--- users"; rabbitmqctl -q --formatter json list_users 2>&1; fi',
  ].join('\n');
}

// The JSON array in a piece of output (rabbitmqctl may print it over several lines).
function jsonArray(text: string): unknown[] | undefined {
  const start = text.indexOf('[');
  const end = text.lastIndexOf(']');
  if (start < 0 || end < start) return undefined;
  try {
    const v: unknown = JSON.parse(text.slice(start, end + 1));
    return Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Parse the output of `permissionsScript`. */
export function parsePermissions(out: string): PermissionsReport {
  const m = /^RC (\d+)\n([\s\S]*?)(?:\n--- users\n([\s\S]*))?$/.exec(out.replace(/\r/g, '').trimEnd());
  if (!m) return { kind: 'error', text: out.trim().split('\n')[0] ?? 'no output' };
  const [rc, body = '', users] = [Number(m[1]), m[2]!, m[3]];
  if (rc === 0) {
    const list = jsonArray(body) ?? [];
    const permissions = list
      .filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null)
      .map((x) => ({ vhost: String(x.vhost ?? ''), configure: String(x.configure ?? ''), write: String(x.write ?? ''), read: String(x.read ?? '') }));
    return { kind: 'permissions', permissions };
  }
  if (/no_such_user/.test(body)) {
    const list = jsonArray(users ?? '') ?? [];
    const names = list.map((x) => (typeof x === 'object' && x !== null && 'user' in x ? String((x as { user: unknown }).user) : '')).filter(Boolean);
    return { kind: 'no-user', users: names };
  }
  const text = body.split('\n').map((l) => l.trim()).filter(Boolean).join(' ');
  return { kind: 'error', text: text || `rabbitmqctl exited with status ${rc}` };
}

/**
 * Names of queues and exchanges the tutorial's services declare, publish to or read from (oslo.messaging: the
 * control exchanges, RPC topics, per-host topics, fanout and reply queues; the default exchange).
 */
export const RESOURCE_SAMPLES = [
  'openstack',
  'nova',
  'neutron',
  'cinder',
  'conductor',
  'scheduler',
  'compute.compute-1',
  'q-plugin',
  'q-agent-notifier-port-update_fanout_0123456789abcdef0123456789abcdef',
  'cinder-volume.volume-node@ceph',
  'reply_0123456789abcdef0123456789abcdef',
  'amq.default',
];

// Whether a RabbitMQ permission regex admits a name (unanchored, like Erlang's re:run; '' admits nothing).
function admits(pattern: string, name: string): boolean | undefined {
  if (pattern === '') return false;
  try {
    return new RegExp(pattern).test(name);
  } catch {
    return undefined;
  }
}

/** What is wrong with a user's permissions on a vhost (empty: configure, write and read each admit every name). */
export function permissionProblems(perms: readonly VhostPermissions[], vhost: string): string[] {
  const p = perms.find((x) => x.vhost === vhost);
  if (!p) return [`no permissions on vhost ${vhost}${perms.length ? ` (only on ${perms.map((x) => x.vhost).join(', ')})` : ''}`];
  const problems: string[] = [];
  for (const kind of ['configure', 'write', 'read'] as const) {
    const pattern = p[kind];
    const verdicts = RESOURCE_SAMPLES.map((n) => [n, admits(pattern, n)] as const);
    if (verdicts.some(([, v]) => v === undefined)) {
      problems.push(`${kind} "${pattern}" is not a valid regular expression`);
      continue;
    }
    const refused = verdicts.filter(([, v]) => !v).map(([n]) => n);
    if (refused.length > 0) problems.push(`${kind} "${pattern}" refuses ${refused.slice(0, 3).join(', ')}${refused.length > 3 ? ` and ${refused.length - 3} more` : ''}`);
  }
  return problems;
}
