// An authenticated OpenStack client: a token from the shared Keystone session, endpoints from its catalog.
import type { AxiosResponse } from 'axios';
import { joinUrl, OpenStackHttpError, type RequestOptions } from './http.js';
import { endpointUrl, type Credentials, type Interface, type KeystoneSession, type Token } from './keystone.js';

/** Raised when the catalog has no endpoint for a service a call needs. */
export class NoEndpointError extends Error {
  readonly type: string;
  constructor(type: string, iface: Interface, region: string) {
    super(`the catalog has no ${iface} ${type} endpoint in region ${region}`);
    this.name = 'NoEndpointError';
    this.type = type;
  }
}

export class OpenStackClient {
  readonly session: KeystoneSession;
  readonly credentials: Credentials;
  readonly region: string;
  readonly iface: Interface;
  /** Maps a catalog URL to one this machine can reach (catalog host names may only resolve on the cloud's hosts). */
  private readonly rewrite: (url: string) => string;

  constructor(session: KeystoneSession, credentials: Credentials, region: string, iface: Interface = 'public', rewrite: (url: string) => string = (u) => u) {
    this.session = session;
    this.credentials = credentials;
    this.region = region;
    this.iface = iface;
    this.rewrite = rewrite;
  }

  /** The (reused) token. */
  token(): Promise<Token> {
    return this.session.token(this.credentials);
  }

  /** Endpoint URL of a service type, with `%(project_id)s`/`$(project_id)s` filled in. */
  async endpoint(type: string): Promise<string> {
    const t = await this.token();
    const url = endpointUrl(t.catalog, type, this.iface, this.region);
    if (!url) throw new NoEndpointError(type, this.iface, this.region);
    return this.rewrite(url.replace(/[%$]\((?:project_id|tenant_id)\)s/g, t.projectId ?? ''));
  }

  // One authenticated call to a service; a rejected reused token is refreshed once.
  async call<T>(type: string, method: string, path: string, opts: RequestOptions = {}): Promise<AxiosResponse<T>> {
    const base = await this.endpoint(type);
    const url = /^https?:/.test(path) ? path : joinUrl(base, path);
    const attempt = async (): Promise<AxiosResponse<T>> => {
      const t = await this.token();
      return this.session.http.request<T>(method, url, { ...opts, headers: { ...opts.headers, 'X-Auth-Token': t.value } });
    };
    try {
      return await attempt();
    } catch (err) {
      if (err instanceof OpenStackHttpError && err.status === 401) {
        this.session.forget(this.credentials);
        return attempt();
      }
      throw err;
    }
  }
}

/** One record of an `os-services` listing, as Nova and Cinder both return it. */
export interface OsService {
  binary: string;
  host: string;
  zone: string;
  status: 'enabled' | 'disabled';
  state: 'up' | 'down';
  updated_at: string | null;
}
