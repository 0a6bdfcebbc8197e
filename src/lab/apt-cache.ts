// The host's package cache (apt-cacher-ng): containers fetch packages through it, so they need no
// route to the outside, and a package fetched once is reused by every container and every run.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { StackcheckError } from '../error.js';
import { execTry, sleep, type Progress } from './exec.js';
import { bridgeAddresses } from './bridge.js';

export const ACNG_PORT = 3142;
const ACNG_DIR = '/etc/apt-cacher-ng';
/** Our drop-in; apt-cacher-ng reads every *.conf in its folder, in name order. */
export const ACNG_DROPIN = `${ACNG_DIR}/zz_stackcheck.conf`;

/** The Debian mirrors the host's own apt sources use. */
export interface HostMirror {
  /** Main archive, e.g. http://deb.debian.org/debian */
  mirror: string;
  /** Security archive, if the host uses one. */
  security: string | undefined;
  suites: string[];
  securitySuites: string[];
}

interface SourceEntry {
  uri: string;
  suites: string[];
}

// Parse deb822 (*.sources) and one-line (sources.list) apt sources into uri + suites (deb only).
export function parseSources(text: string, deb822: boolean): SourceEntry[] {
  const out: SourceEntry[] = [];
  if (deb822) {
    for (const para of text.split(/\n\s*\n/)) {
      const fields = new Map<string, string>();
      for (const line of para.split('\n')) {
        const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
        if (m && !line.startsWith('#')) fields.set(m[1]!.toLowerCase(), m[2]!.trim());
      }
      if (!(fields.get('types') ?? '').split(/\s+/).includes('deb')) continue;
      if ((fields.get('enabled') ?? 'yes') === 'no') continue;
      for (const uri of (fields.get('uris') ?? '').split(/\s+/).filter(Boolean)) {
        out.push({ uri: uri.replace(/\/+$/, ''), suites: (fields.get('suites') ?? '').split(/\s+/).filter(Boolean) });
      }
    }
  } else {
    for (const line of text.split('\n')) {
      const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
      if (m) out.push({ uri: m[1]!.replace(/\/+$/, ''), suites: [m[2]!] });
    }
  }
  return out;
}

// Find the Debian mirror the host's apt uses (deb822 first, then sources.list).
export function hostMirror(): HostMirror {
  const entries: SourceEntry[] = [];
  const dir = '/etc/apt/sources.list.d';
  if (existsSync(dir)) {
    for (const f of readdirSync(dir).sort()) {
      if (f.endsWith('.sources')) entries.push(...parseSources(readFileSync(`${dir}/${f}`, 'utf8'), true));
      else if (f.endsWith('.list')) entries.push(...parseSources(readFileSync(`${dir}/${f}`, 'utf8'), false));
    }
  }
  if (existsSync('/etc/apt/sources.list')) entries.push(...parseSources(readFileSync('/etc/apt/sources.list', 'utf8'), false));
  const main = entries.find((e) => e.suites.includes('bookworm') && !e.uri.endsWith('-security'));
  if (!main) {
    throw new StackcheckError('E_LAB', 'cannot find the Debian bookworm mirror in the host apt sources (/etc/apt/sources.list.d/*.sources)', {
      hint: 'the lab caches packages from the same mirror the host uses; add a bookworm source to the host',
    });
  }
  if (!main.uri.startsWith('http://')) {
    throw new StackcheckError('E_LAB', `the host's Debian mirror ${main.uri} is not plain http: apt-cacher-ng cannot cache it`, {
      hint: 'use an http:// mirror (apt verifies packages with signatures, not TLS)',
    });
  }
  const sec = entries.find((e) => e.uri.endsWith('-security'));
  return {
    mirror: main.uri,
    security: sec?.uri,
    suites: entries.filter((e) => e.uri === main.uri).flatMap((e) => e.suites),
    securitySuites: sec?.suites ?? [],
  };
}

// GET a URL with a short timeout; resolves to the status code or undefined when nothing answers.
function httpStatus(url: string, timeoutMs = 3000): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = get(url, { timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

// Whether apt-cacher-ng answers on address:3142.
export async function cacheAnswers(address: string): Promise<boolean> {
  return (await httpStatus(`http://${address}:${ACNG_PORT}/acng-report.html`)) !== undefined;
}

// The non-comment lines of a config file, trimmed.
function configLines(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

// Start or restart the apt-cacher-ng service (systemd or SysV init, whichever the host runs).
async function serviceAction(action: 'start' | 'restart'): Promise<void> {
  const r = await execTry('service', ['apt-cacher-ng', action], { timeoutMs: 60_000 });
  if (r.code !== 0) {
    const r2 = await execTry('/etc/init.d/apt-cacher-ng', [action], { timeoutMs: 60_000 });
    if (r2.code !== 0) throw new StackcheckError('E_LAB', `cannot ${action} apt-cacher-ng: ${r.stderr.trim() || r2.stderr.trim()}`);
  }
}

// Make apt-cacher-ng serve the lab bridge with the host's mirror as its Debian backend.
// A running cache that already serves the bridge with the right backend is left alone (another
// lab or tool may be downloading through it); otherwise it is (re)started bound to loopback plus
// every bridge address on the host.
export async function ensureAptCache(bridgeAddress: string, progress: Progress): Promise<HostMirror> {
  const m = hostMirror();
  const backendsFile = `${ACNG_DIR}/backends_debian`;
  const wanted = `${m.mirror}/`;
  let changed = false;
  if (configLines(backendsFile).join('\n') !== wanted) {
    writeFileSync(
      backendsFile,
      `# Written by stackcheck lab: the Debian mirror of the host's own apt sources.\n${wanted}\n`,
    );
    progress(`package cache: backends_debian set to ${wanted} (the host's mirror)`);
    changed = true;
  }
  const running = await cacheAnswers('127.0.0.1');
  if (running && !changed && (await cacheAnswers(bridgeAddress))) {
    progress(`package cache: apt-cacher-ng already serves ${bridgeAddress}:${ACNG_PORT}`);
    return m;
  }
  const binds = ['127.0.0.1', '::1', ...new Set([bridgeAddress, ...(await bridgeAddresses())])];
  writeFileSync(
    ACNG_DROPIN,
    [
      '# Written by stackcheck lab (docs/lab.md): serve loopback and the hosts bridges only,',
      '# never the outside interfaces. Rewritten with every bridge present when `stackcheck lab up`',
      '# has to (re)start the cache.',
      `BindAddress: ${binds.join(' ')}`,
      '',
    ].join('\n'),
  );
  progress(`package cache: ${running ? 'restarting' : 'starting'} apt-cacher-ng on ${binds.join(' ')}`);
  await serviceAction(running ? 'restart' : 'start');
  for (let i = 0; i < 40; i++) {
    if (await cacheAnswers(bridgeAddress)) return m;
    await sleep(250);
  }
  throw new StackcheckError('E_LAB', `apt-cacher-ng does not answer on ${bridgeAddress}:${ACNG_PORT}`, {
    hint: 'see /var/log/apt-cacher-ng/apt-cacher.err',
  });
}
