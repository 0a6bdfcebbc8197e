// OpenStack API credentials as OpenStack users keep them: a cloud of a clouds.yaml (`--os-cloud NAME`, or
// $OS_CLOUD), an admin-openrc-style file of `export OS_…=…` lines (read, never executed), or the OS_* variables of
// the environment. Validated: a missing field is named with the file and cloud it was looked for in (exit 2).
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { StackcheckError } from '../error.js';

export interface ApiCredentials {
  authUrl: string;
  username: string;
  password: string;
  projectName: string;
  userDomainName: string;
  projectDomainName: string;
  regionName?: string;
  /** Where they came from, for messages (`clouds.yaml cloud "lab"`, `admin-openrc`, `the OS_* environment`). */
  source: string;
}

/** Where clouds.yaml is looked for, in openstacksdk's order. */
export function cloudsYamlPaths(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string[] {
  if (env.OS_CLIENT_CONFIG_FILE) return [resolve(env.OS_CLIENT_CONFIG_FILE)];
  return [join(cwd, 'clouds.yaml'), join(homedir(), '.config', 'openstack', 'clouds.yaml'), '/etc/openstack/clouds.yaml'];
}

type Fields = Partial<Record<keyof Omit<ApiCredentials, 'source'>, string>>;

function complete(f: Fields, source: string, hint: string): ApiCredentials {
  const required = ['authUrl', 'username', 'password', 'projectName'] as const;
  const missing = required.filter((k) => !f[k]);
  if (missing.length > 0) {
    const names: Record<(typeof required)[number], string> = { authUrl: 'auth_url (OS_AUTH_URL)', username: 'username (OS_USERNAME)', password: 'password (OS_PASSWORD)', projectName: 'project_name (OS_PROJECT_NAME)' };
    throw new StackcheckError('E_ARGS', `${source}: missing ${missing.map((k) => names[k]).join(', ')}`, { hint });
  }
  try {
    new URL(f.authUrl as string);
  } catch {
    throw new StackcheckError('E_ARGS', `${source}: auth_url ${JSON.stringify(f.authUrl)} is not a URL`, { hint });
  }
  return {
    authUrl: f.authUrl as string,
    username: f.username as string,
    password: f.password as string,
    projectName: f.projectName as string,
    userDomainName: f.userDomainName ?? 'Default',
    projectDomainName: f.projectDomainName ?? f.userDomainName ?? 'Default',
    ...(f.regionName ? { regionName: f.regionName } : {}),
    source,
  };
}

/** A cloud of a clouds.yaml (the first file found of `paths`). */
export function fromCloudsYaml(cloud: string, paths: string[] = cloudsYamlPaths()): ApiCredentials {
  const file = paths.find((p) => existsSync(p));
  if (!file) throw new StackcheckError('E_ARGS', `--os-cloud ${cloud}: no clouds.yaml (looked in ${paths.join(', ')})`, { hint: 'write one as openstack client users do, or give --openrc FILE' });
  const doc = parseDocument(readFileSync(file, 'utf8'));
  if (doc.errors.length > 0) throw new StackcheckError('E_ARGS', `${file}: not valid YAML (${doc.errors[0]?.message.split('\n')[0] ?? ''})`);
  const clouds = (doc.toJS() as { clouds?: Record<string, { auth?: Record<string, unknown>; region_name?: unknown }> } | null)?.clouds ?? {};
  const c = clouds[cloud];
  if (!c) throw new StackcheckError('E_ARGS', `${file}: no cloud "${cloud}" under clouds:`, { hint: `clouds there: ${Object.keys(clouds).join(', ') || '(none)'}` });
  const a = c.auth ?? {};
  const str = (v: unknown): string | undefined => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);
  return complete(
    {
      authUrl: str(a.auth_url),
      username: str(a.username),
      password: str(a.password),
      projectName: str(a.project_name),
      userDomainName: str(a.user_domain_name),
      projectDomainName: str(a.project_domain_name),
      regionName: str(c.region_name),
    },
    `${file}: cloud "${cloud}"`,
    'a cloud needs auth: { auth_url, username, password, project_name } (and user_domain_name, project_domain_name)',
  );
}

/** OS_* variables as credentials. */
export function fromEnvironment(env: Record<string, string | undefined>, source = 'the OS_* environment'): ApiCredentials {
  return complete(
    {
      authUrl: env.OS_AUTH_URL,
      username: env.OS_USERNAME,
      password: env.OS_PASSWORD,
      projectName: env.OS_PROJECT_NAME ?? env.OS_TENANT_NAME,
      userDomainName: env.OS_USER_DOMAIN_NAME,
      projectDomainName: env.OS_PROJECT_DOMAIN_NAME,
      regionName: env.OS_REGION_NAME,
    },
    source,
    'set OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME (and OS_USER_DOMAIN_NAME, OS_PROJECT_DOMAIN_NAME)',
  );
}

/** An admin-openrc-style file: `export OS_NAME=value` lines (quotes removed); nothing in it is executed. */
export function fromOpenrc(file: string): ApiCredentials {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new StackcheckError('E_ARGS', `--openrc ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*(?:export\s+)?(OS_[A-Z_]+)=(.*)$/.exec(line);
    if (!m) continue;
    let v = (m[2] ?? '').trim();
    if ((v.startsWith("'") && v.endsWith("'")) || (v.startsWith('"') && v.endsWith('"'))) v = v.slice(1, -1);
    env[m[1] as string] = v;
  }
  return fromEnvironment(env, `--openrc ${file}`);
}

/** The credentials the options name: --os-cloud (or $OS_CLOUD), --openrc, else OS_* variables; undefined if none. */
export function apiCredentials(opts: { osCloud?: string; openrc?: string }, env: NodeJS.ProcessEnv = process.env): ApiCredentials | undefined {
  if (opts.osCloud && opts.openrc) throw new StackcheckError('E_ARGS', 'use either --os-cloud or --openrc, not both');
  if (opts.osCloud) return fromCloudsYaml(opts.osCloud, cloudsYamlPaths(env));
  if (opts.openrc) return fromOpenrc(opts.openrc);
  if (env.OS_CLOUD) return fromCloudsYaml(env.OS_CLOUD, cloudsYamlPaths(env));
  if (env.OS_AUTH_URL) return fromEnvironment(env);
  return undefined;
}
