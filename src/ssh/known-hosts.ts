// Host key verification against an OpenSSH known_hosts file: plain, `[host]:port` and hashed `|1|` entries.
// Unknown keys are refused unless the caller opted in to accept-on-first-use (then appended and logged);
// a changed key is always refused with both fingerprints.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StackcheckError } from '../error.js';

export interface KnownHostEntry {
  marker?: '@revoked' | '@cert-authority';
  /** Host patterns (comma-separated in the file), or one hashed pattern. */
  patterns: string[];
  hashed?: { salt: Buffer; hash: Buffer };
  keyType: string;
  /** Base64 key blob as written in the file. */
  key: string;
  line: number;
}

export type HostKeyVerdict =
  | { status: 'known'; entry: KnownHostEntry }
  | { status: 'unknown' }
  | { status: 'mismatch'; expected: KnownHostEntry[] }
  | { status: 'revoked'; entry: KnownHostEntry };

// The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise.
export function hostPattern(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

// SHA256 fingerprint in OpenSSH's notation (`SHA256:base64-without-padding`).
export function fingerprint(keyBlob: Buffer | string): string {
  const blob = typeof keyBlob === 'string' ? Buffer.from(keyBlob, 'base64') : keyBlob;
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

// The key type is the first length-prefixed string inside an SSH public key blob.
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('ascii');
}

// Parse the known_hosts text; malformed lines are skipped, as OpenSSH does.
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') marker = fields.shift() as KnownHostEntry['marker'];
    const [hosts, keyType, key] = fields;
    if (!hosts || !keyType || !key) return;
    const entry: KnownHostEntry = { patterns: [], keyType, key, line: i + 1 };
    if (marker) entry.marker = marker;
    if (hosts.startsWith('|1|')) {
      const [, , salt, hash] = hosts.split('|');
      if (!salt || !hash) return;
      entry.hashed = { salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
    } else {
      entry.patterns = hosts.split(',');
    }
    out.push(entry);
  });
  return out;
}

// OpenSSH wildcard matching: `*` and `?`, case-insensitive.
function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(
    `^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`,
    'i',
  );
  return re.test(name);
}

// Does this entry name the host? Negated patterns (`!pat`) win over positive ones.
export function entryMatches(entry: KnownHostEntry, name: string): boolean {
  if (entry.hashed) {
    const h = createHmac('sha1', entry.hashed.salt).update(name).digest();
    return h.equals(entry.hashed.hash);
  }
  let matched = false;
  for (const p of entry.patterns) {
    if (p.startsWith('!')) {
      if (globMatch(p.slice(1), name)) return false;
    } else if (globMatch(p, name)) matched = true;
  }
  return matched;
}

// Compare a presented key with what the file says about this host.
export function verifyHostKey(entries: KnownHostEntry[], host: string, port: number, keyBlob: Buffer): HostKeyVerdict {
  const name = hostPattern(host, port);
  const presented = keyBlob.toString('base64');
  const matching = entries.filter((e) => e.marker !== '@cert-authority' && entryMatches(e, name));
  const revoked = entries.find((e) => e.marker === '@revoked' && e.key === presented);
  if (revoked) return { status: 'revoked', entry: revoked };
  const plain = matching.filter((e) => !e.marker);
  const known = plain.find((e) => e.key === presented);
  if (known) return { status: 'known', entry: known };
  if (plain.length > 0) return { status: 'mismatch', expected: plain };
  return { status: 'unknown' };
}

// Host key algorithms to offer, known types first, so the server presents a key we can check (as OpenSSH does).
export function preferredHostKeyAlgorithms(entries: KnownHostEntry[], host: string, port: number): string[] {
  const all = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  const name = hostPattern(host, port);
  const types = new Set(entries.filter((e) => !e.marker && entryMatches(e, name)).map((e) => e.keyType));
  const known = all.filter((a) => types.has(a) || (a.startsWith('rsa-sha2-') && types.has('ssh-rsa')));
  return [...known, ...all.filter((a) => !known.includes(a))];
}

// A known_hosts line for a new key; hashed like OpenSSH's HashKnownHosts when asked.
export function knownHostsLine(host: string, port: number, keyBlob: Buffer, hashed = false): string {
  const name = hostPattern(host, port);
  let field = name;
  if (hashed) {
    const salt = randomBytes(20);
    field = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
  }
  return `${field} ${keyTypeOf(keyBlob)} ${keyBlob.toString('base64')}`;
}

export interface HostKeyCheckOptions {
  knownHostsFile: string;
  acceptNew: boolean;
  /** Told when a new key is recorded (never silent). */
  log: (message: string) => void;
  /** Role, for messages. */
  role: string;
}

// Read the file (absent = empty) so every connection sees keys recorded by earlier ones.
export async function readKnownHosts(file: string): Promise<KnownHostEntry[]> {
  try {
    return parseKnownHosts(await readFile(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new StackcheckError('E_SSH_HOSTKEY', `cannot read known_hosts file ${file}: ${(err as Error).message}`, { cause: err });
  }
}

// Decide about a presented host key: resolves when accepted, throws E_SSH_HOSTKEY otherwise.
export async function checkHostKey(host: string, port: number, keyBlob: Buffer, opts: HostKeyCheckOptions): Promise<void> {
  const entries = await readKnownHosts(opts.knownHostsFile);
  const verdict = verifyHostKey(entries, host, port, keyBlob);
  const fp = fingerprint(keyBlob);
  const where = `${opts.role} (${hostPattern(host, port)})`;
  switch (verdict.status) {
    case 'known':
      return;
    case 'revoked':
      throw new StackcheckError('E_SSH_HOSTKEY', `host key of ${where} is marked @revoked in ${opts.knownHostsFile}:${verdict.entry.line} (${fp})`);
    case 'mismatch': {
      const expected = verdict.expected.map((e) => `${e.keyType} ${fingerprint(e.key)} (${opts.knownHostsFile}:${e.line})`).join(', ');
      throw new StackcheckError(
        'E_SSH_HOSTKEY',
        `HOST KEY MISMATCH for ${where}: the server presented ${keyTypeOf(keyBlob)} ${fp}, but known_hosts expects ${expected}. ` +
          `Someone may be intercepting the connection, or the host was reinstalled.`,
        { hint: `if the host was really reinstalled, remove the old entry: ssh-keygen -R '${hostPattern(host, port)}' -f ${opts.knownHostsFile}` },
      );
    }
    case 'unknown':
      if (!opts.acceptNew) {
        throw new StackcheckError(
          'E_SSH_HOSTKEY',
          `host key of ${where} is not in ${opts.knownHostsFile} (server presented ${keyTypeOf(keyBlob)} ${fp})`,
          {
            hint: `verify the fingerprint, then accept it once with --accept-new-host-keys (or accept_new_host_keys: true in the inventory), or add it with ssh-keyscan -p ${port} ${host} >> ${opts.knownHostsFile}`,
          },
        );
      }
      await mkdir(dirname(opts.knownHostsFile), { recursive: true, mode: 0o700 });
      await appendFile(opts.knownHostsFile, `${knownHostsLine(host, port, keyBlob)}\n`, { mode: 0o600 });
      opts.log(`accepted new host key for ${where}: ${keyTypeOf(keyBlob)} ${fp}, recorded in ${opts.knownHostsFile}`);
      return;
  }
}
