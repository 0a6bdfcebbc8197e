// Horizon: the dashboard's login page answers, and the admin logs in (a session cookie and a redirect away
// from the login form).
import axios from 'axios';
import { checkSuite } from '../src/checks/define.js';
import { CheckFailure, evidence } from '../src/checks/outcome.js';
import { describeNetworkError } from '../src/openstack/http.js';
import type { CheckSession } from '../src/checks/session.js';

const { check, expected } = checkSuite();
const role = expected.services.find((s) => s.name === 'horizon')?.role ?? 'api-node';

interface Page {
  status: number;
  body: string;
  cookies: string[];
  location: string | undefined;
}

// One GET/POST without following redirects; network errors become a failure naming the URL.
async function fetchPage(s: CheckSession, method: 'GET' | 'POST', url: string, opts: { cookies?: string[]; form?: Record<string, string>; referer?: string } = {}): Promise<Page> {
  try {
    const res = await axios.request<string>({
      method,
      url: s.reachable(url),
      maxRedirects: 0,
      validateStatus: () => true,
      timeout: 30_000,
      responseType: 'text',
      proxy: false,
      headers: {
        ...(opts.cookies?.length ? { Cookie: opts.cookies.join('; ') } : {}),
        ...(opts.form ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}),
        ...(opts.referer ? { Referer: opts.referer } : {}),
      },
      data: opts.form ? new URLSearchParams(opts.form).toString() : undefined,
    });
    const set = res.headers['set-cookie'] ?? [];
    return { status: res.status, body: String(res.data), cookies: set.map((c) => c.split(';')[0] ?? ''), location: typeof res.headers.location === 'string' ? res.headers.location : undefined };
  } catch (err) {
    const e = err as { code?: string; message?: string };
    throw new CheckFailure(`the dashboard answering at ${url}`, describeNetworkError(e.code, e.message ?? String(err)).text);
  }
}

const loginUrl = new URL('auth/login/', expected.horizonUrl.endsWith('/') ? expected.horizonUrl : `${expected.horizonUrl}/`).toString();

check('horizon.page', role, async (s, t) => {
  t.logOnFailure(role, 'apache2', '/var/log/apache2/error.log');
  const p = await fetchPage(s, 'GET', loginUrl);
  if (p.status !== 200 || !/csrfmiddlewaretoken/.test(p.body)) {
    // Say what the page was instead of the form: an error status, a redirect, or a page of HTTP 200 without the form.
    const title = /<title>([^<]*)<\/title>/i.exec(p.body)?.[1]?.trim();
    const found =
      p.status !== 200
        ? `HTTP ${p.status}${p.location ? ` → ${p.location}` : ''}`
        : `HTTP 200 with a page that has no login form${title ? ` ("${title.slice(0, 80)}")` : ''} (another site, the Apache default page, or Horizon's error page)`;
    throw new CheckFailure(`the dashboard's login form at ${loginUrl}`, found, [evidence.http('GET', loginUrl, p.status, p.body.slice(0, 2000))]);
  }
});

check('horizon.login', role, async (s, t) => {
  t.logOnFailure(role, 'apache2', '/var/log/apache2/error.log');
  const page = await fetchPage(s, 'GET', loginUrl);
  const csrf = /name=["']csrfmiddlewaretoken["']\s+value=["']([^"']+)/.exec(page.body)?.[1];
  if (!csrf) throw new CheckFailure(`the login form at ${loginUrl}`, `HTTP ${page.status} without a login form (see horizon.page)`);
  // The region is a drop-down with several regions, a hidden input with one (Horizon renders either).
  const region =
    /<select[^>]*name=["']region["'][\s\S]*?<option[^>]*value=["']([^"']+)/.exec(page.body)?.[1] ??
    /<input[^>]*type=["']hidden["'][^>]*name=["']region["'][^>]*value=["']([^"']*)/.exec(page.body)?.[1];
  const domain = /name=["']domain["']/.test(page.body);
  const a = s.adminCredentials();
  const form: Record<string, string> = { csrfmiddlewaretoken: csrf, username: a.user, password: a.password, ...(region ? { region } : {}), ...(domain ? { domain: a.domain } : {}) };
  const res = await fetchPage(s, 'POST', loginUrl, { cookies: page.cookies, form, referer: loginUrl });
  const loggedIn = res.status === 302 && !!res.location && !/auth\/login/.test(res.location) && res.cookies.some((c) => c.startsWith('sessionid='));
  if (!loggedIn) {
    const said = /(Invalid credentials|Unable to (?:establish|retrieve)[^<.]*|An error occurred[^<.]*)/i.exec(res.body)?.[1];
    throw new CheckFailure(`admin logged in to the dashboard (302 to the dashboard with a session)`, `HTTP ${res.status}${said ? `: "${said}"` : ''}${res.location ? ` → ${res.location}` : ''} (check OPENSTACK_KEYSTONE_URL in local_settings.py)`);
  }
});
