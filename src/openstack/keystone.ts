// Keystone v3: password authentication with token reuse, and the service catalog it returns.
import { createHash } from 'node:crypto';
import { Http, joinUrl, OpenStackHttpError } from './http.js';

export type Interface = 'public' | 'internal' | 'admin';
export const INTERFACES: readonly Interface[] = ['public', 'internal', 'admin'];

export interface CatalogEndpoint {
  id: string;
  interface: Interface;
  region: string | null;
  region_id: string | null;
  url: string;
}

export interface CatalogService {
  id: string;
  type: string;
  name: string;
  endpoints: CatalogEndpoint[];
}

export interface TokenBody {
  token: {
    expires_at: string;
    user: { id: string; name: string };
    project?: { id: string; name: string };
    roles?: { id: string; name: string }[];
    catalog?: CatalogService[];
  };
}

/** A scoped token and what came with it. */
export interface Token {
  value: string;
  expiresAt: number;
  userId: string;
  projectId: string | undefined;
  roles: string[];
  catalog: CatalogService[];
}

export interface Credentials {
  user: string;
  password: string;
  /** Project to scope to; absent → unscoped token. */
  project?: string;
  domain: string;
}

// The Keystone request body for v3 password auth (the password never leaves this object).
function authBody(c: Credentials): unknown {
  return {
    auth: {
      identity: { methods: ['password'], password: { user: { name: c.user, domain: { name: c.domain }, password: c.password } } },
      ...(c.project ? { scope: { project: { name: c.project, domain: { name: c.domain } } } } : {}),
    },
  };
}

// Tokens are cached per user, project and password (hashed: a changed password means a new token).
function cacheKey(c: Credentials): string {
  return `${c.domain}/${c.user}/${c.project ?? ''}/${createHash('sha256').update(c.password).digest('hex').slice(0, 16)}`;
}

/** One Keystone session for a run: tokens are fetched once per (user, project) and reused until near expiry. */
export class KeystoneSession {
  readonly authUrl: string;
  readonly http: Http;
  private readonly tokens = new Map<string, Promise<Token>>();

  constructor(authUrl: string, http: Http = new Http()) {
    this.authUrl = authUrl.replace(/\/+$/, '').replace(/\/v3$/, '');
    this.http = http;
  }

  // POST /v3/auth/tokens; throws OpenStackHttpError (401 wrong password or no role on the project).
  async authenticate(c: Credentials): Promise<Token> {
    const res = await this.http.request<TokenBody>('POST', joinUrl(this.authUrl, '/v3/auth/tokens'), { body: authBody(c), expect: [201] });
    const value = res.headers['x-subject-token'];
    if (typeof value !== 'string' || !value) {
      throw new OpenStackHttpError('status', 'POST', joinUrl(this.authUrl, '/v3/auth/tokens'), res.status, '', 'no X-Subject-Token header in the answer');
    }
    const t = res.data.token;
    return {
      value,
      expiresAt: Date.parse(t.expires_at),
      userId: t.user.id,
      projectId: t.project?.id,
      roles: (t.roles ?? []).map((r) => r.name),
      catalog: t.catalog ?? [],
    };
  }

  /** A token for these credentials, reused while it has more than a minute left. */
  async token(c: Credentials): Promise<Token> {
    const key = cacheKey(c);
    const cached = this.tokens.get(key);
    if (cached) {
      try {
        const t = await cached;
        if (t.expiresAt - Date.now() > 60_000) return t;
      } catch {
        // a failed attempt is retried below
      }
    }
    const fresh = this.authenticate(c);
    this.tokens.set(key, fresh);
    return fresh;
  }

  /** Forget a token (after a 401 on a reused one). */
  forget(c: Credentials): void {
    this.tokens.delete(cacheKey(c));
  }

  /** GET /v3: the version document (no auth). */
  async version(): Promise<{ id: string; status: string }> {
    const res = await this.http.request<{ version: { id: string; status: string } }>('GET', joinUrl(this.authUrl, '/v3'));
    return res.data.version;
  }
}

/** Endpoints of a service type in a region, by interface (region matched on `region_id` or `region`). */
export function findEndpoints(catalog: CatalogService[], type: string, region: string): Partial<Record<Interface, CatalogEndpoint>> {
  const out: Partial<Record<Interface, CatalogEndpoint>> = {};
  for (const svc of catalog.filter((s) => s.type === type)) {
    for (const ep of svc.endpoints) {
      if ((ep.region_id ?? ep.region) !== region) continue;
      out[ep.interface] ??= ep;
    }
  }
  return out;
}

/** The URL of one endpoint, or undefined. */
export function endpointUrl(catalog: CatalogService[], type: string, iface: Interface, region: string): string | undefined {
  return findEndpoints(catalog, type, region)[iface]?.url;
}

/** What the catalog lacks for a service type: missing interfaces, and regions it has instead. */
export function catalogGaps(catalog: CatalogService[], type: string, region: string): { missing: Interface[]; otherRegions: string[]; present: boolean } {
  const found = findEndpoints(catalog, type, region);
  const present = catalog.some((s) => s.type === type);
  const otherRegions = [
    ...new Set(
      catalog
        .filter((s) => s.type === type)
        .flatMap((s) => s.endpoints.map((e) => e.region_id ?? e.region ?? ''))
        .filter((r) => r !== region),
    ),
  ];
  return { missing: INTERFACES.filter((i) => !found[i]), otherRegions, present };
}
