// The HTTP layer of the OpenStack client: axios with timeouts, and errors that carry what a person needs
// to see (method, URL, status, an excerpt of the body) but never the request body or token.
import axios, { type AxiosInstance, type AxiosResponse, type RawAxiosRequestHeaders, type ResponseType } from 'axios';

export type HttpFailureKind = 'unreachable' | 'timeout' | 'status';

/** An API call that did not give the expected answer. */
export class OpenStackHttpError extends Error {
  readonly kind: HttpFailureKind;
  readonly method: string;
  readonly url: string;
  readonly status: number | undefined;
  readonly body: string;

  constructor(kind: HttpFailureKind, method: string, url: string, status: number | undefined, body: string, detail: string, cause?: unknown) {
    super(`${method} ${url}: ${detail}`, { cause });
    this.name = 'OpenStackHttpError';
    this.kind = kind;
    this.method = method;
    this.url = url;
    this.status = status;
    this.body = body;
  }

  /** A short "what happened" for a one-line message: `HTTP 401 (The request you have made requires authentication.)`. */
  get short(): string {
    if (this.kind !== 'status') return this.message.slice(this.method.length + this.url.length + 3);
    const reason = apiErrorMessage(this.body);
    return `HTTP ${this.status}${reason ? ` (${reason})` : ''}`;
  }
}

const BODY_EXCERPT = 1500;

// OpenStack services put their error text in different shapes; pull out the human sentence.
export function apiErrorMessage(body: string): string {
  try {
    const j: unknown = JSON.parse(body);
    const walk = (v: unknown, depth: number): string | undefined => {
      if (depth > 3 || v === null || typeof v !== 'object') return undefined;
      const o = v as Record<string, unknown>;
      for (const k of ['message', 'detail', 'title', 'explanation', 'NeutronError']) {
        const x = o[k];
        if (typeof x === 'string' && x.trim()) return x.trim();
      }
      for (const x of Object.values(o)) {
        const found = Array.isArray(x) ? walk(x[0], depth + 1) : walk(x, depth + 1);
        if (found) return found;
      }
      return undefined;
    };
    return (walk(j, 0) ?? '').split('\n')[0]!.slice(0, 200);
  } catch {
    const text = body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
    return text.slice(0, 200);
  }
}

// Describe a network-level failure in words (ECONNREFUSED → "connection refused").
export function describeNetworkError(code: string | undefined, message: string): { kind: HttpFailureKind; text: string } {
  switch (code) {
    case 'ECONNREFUSED':
      return { kind: 'unreachable', text: 'connection refused (nothing listens on that port)' };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return { kind: 'unreachable', text: 'host unreachable' };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { kind: 'unreachable', text: 'host name does not resolve' };
    case 'ECONNRESET':
      return { kind: 'unreachable', text: 'connection reset' };
    case 'ECONNABORTED':
    case 'ETIMEDOUT':
    case 'ERR_CANCELED':
      return { kind: 'timeout', text: 'timed out' };
    default:
      if (/maxContentLength|maxBodyLength/.test(message)) return { kind: 'unreachable', text: `the answer was larger than ${MAX_BODY / 1024 / 1024} MiB (no OpenStack API answers that much)` };
      return { kind: 'unreachable', text: message };
  }
}

export interface RequestOptions {
  headers?: RawAxiosRequestHeaders;
  body?: unknown;
  /** Statuses accepted as success (default 2xx). */
  expect?: number[];
  timeoutMs?: number;
  responseType?: ResponseType;
}

/** The largest answer read (an image upload aside): a hostile or broken server must not fill our memory. */
export const MAX_BODY = 32 * 1024 * 1024;

/** A thin HTTP client: JSON in/out, one error type, timeouts. */
export class Http {
  private readonly ax: AxiosInstance;

  constructor(private readonly timeoutMs = 20_000) {
    this.ax = axios.create({ timeout: timeoutMs, validateStatus: () => true, maxRedirects: 0, proxy: false, maxContentLength: MAX_BODY });
  }

  // One request; returns the response when its status is accepted, else throws OpenStackHttpError.
  async request<T>(method: string, url: string, opts: RequestOptions = {}): Promise<AxiosResponse<T>> {
    let res: AxiosResponse<T>;
    try {
      res = await this.ax.request<T>({
        method,
        url,
        headers: { Accept: 'application/json', ...(opts.body !== undefined && !(opts.body instanceof Buffer) ? { 'Content-Type': 'application/json' } : {}), ...opts.headers },
        data: opts.body,
        ...(opts.timeoutMs ? { timeout: opts.timeoutMs } : {}),
        // axios's timeout restarts with every byte (a server that trickles its answer keeps it alive): a deadline for the whole request too.
        signal: AbortSignal.timeout(opts.timeoutMs ?? this.timeoutMs),
        ...(opts.responseType ? { responseType: opts.responseType } : {}),
      });
    } catch (err) {
      const e = err as { code?: string; message?: string };
      const d = describeNetworkError(e.code, e.message ?? String(err));
      throw new OpenStackHttpError(d.kind, method, url, undefined, '', d.text, err);
    }
    const ok = opts.expect ? opts.expect.includes(res.status) : res.status >= 200 && res.status < 300;
    if (!ok) {
      const body = bodyText(res.data).slice(0, BODY_EXCERPT);
      const reason = apiErrorMessage(body);
      throw new OpenStackHttpError('status', method, url, res.status, body, `HTTP ${res.status}${reason ? ` ${reason}` : ''}`);
    }
    return res;
  }
}

// A response body as text, whatever axios parsed it into.
export function bodyText(data: unknown): string {
  if (typeof data === 'string') return data;
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  try {
    return JSON.stringify(data);
  } catch {
    return String(data);
  }
}

/** Join a base URL and a path without doubling or losing slashes. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}
