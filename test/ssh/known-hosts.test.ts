// known_hosts parsing and matching, the way OpenSSH reads the file.
import { describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { entryMatches, fingerprint, hostPattern, keyTypeOf, knownHostsLine, parseKnownHosts, preferredHostKeyAlgorithms, verifyHostKey } from '../../src/ssh/known-hosts.js';

// A fake but well-formed ssh-ed25519 public key blob.
function blob(fill: number): Buffer {
  const type = Buffer.from('ssh-ed25519');
  const key = Buffer.alloc(32, fill);
  const b = Buffer.alloc(4 + type.length + 4 + key.length);
  b.writeUInt32BE(type.length, 0);
  type.copy(b, 4);
  b.writeUInt32BE(32, 4 + type.length);
  key.copy(b, 8 + type.length);
  return b;
}
const A = blob(1);
const B = blob(2);
const a64 = A.toString('base64');

describe('known_hosts', () => {
  it('names hosts as OpenSSH does: bare on port 22, [host]:port otherwise', () => {
    expect(hostPattern('10.0.0.5', 22)).toBe('10.0.0.5');
    expect(hostPattern('10.0.0.5', 2222)).toBe('[10.0.0.5]:2222');
  });

  it('reads the key type from the blob and prints SHA256 fingerprints without padding', () => {
    expect(keyTypeOf(A)).toBe('ssh-ed25519');
    expect(fingerprint(A)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(fingerprint(A)).toBe(fingerprint(a64));
  });

  it('matches plain, comma-listed, [host]:port, wildcard and negated patterns; skips comments and junk', () => {
    const entries = parseKnownHosts(
      ['# comment', '', 'garbage', `db,10.0.0.5 ssh-ed25519 ${a64}`, `[10.0.0.6]:2222 ssh-ed25519 ${a64}`, `*.lab,!bad.lab ssh-ed25519 ${a64}`].join('\n'),
    );
    expect(entries).toHaveLength(3);
    expect(entries[0]?.line).toBe(4);
    expect(verifyHostKey(entries, '10.0.0.5', 22, A).status).toBe('known');
    expect(verifyHostKey(entries, '10.0.0.5', 2222, A).status).toBe('unknown');
    expect(verifyHostKey(entries, '10.0.0.6', 2222, A).status).toBe('known');
    expect(verifyHostKey(entries, 'compute-1.lab', 22, A).status).toBe('known');
    expect(verifyHostKey(entries, 'bad.lab', 22, A).status).toBe('unknown');
  });

  it('matches hashed |1| entries (HMAC-SHA1 of the name with the salt)', () => {
    const salt = Buffer.alloc(20, 7);
    const hash = createHmac('sha1', salt).update('[10.0.0.7]:2200').digest('base64');
    const entries = parseKnownHosts(`|1|${salt.toString('base64')}|${hash} ssh-ed25519 ${a64}\n`);
    expect(entryMatches(entries[0]!, '[10.0.0.7]:2200')).toBe(true);
    expect(entryMatches(entries[0]!, '10.0.0.7')).toBe(false);
    expect(verifyHostKey(entries, '10.0.0.7', 2200, A).status).toBe('known');
    // Lines we write hashed are read back.
    const line = knownHostsLine('10.0.0.8', 22, B, true);
    expect(line).toMatch(/^\|1\|/);
    expect(verifyHostKey(parseKnownHosts(line), '10.0.0.8', 22, B).status).toBe('known');
  });

  it('a different key for a known host is a mismatch listing what was expected; @revoked keys are refused', () => {
    const entries = parseKnownHosts(`db ssh-ed25519 ${a64}\n@revoked * ssh-ed25519 ${B.toString('base64')}\n`);
    const v = verifyHostKey(entries, 'db', 22, blob(3));
    expect(v.status).toBe('mismatch');
    if (v.status === 'mismatch') expect(v.expected.map((e) => e.line)).toEqual([1]);
    expect(verifyHostKey(entries, 'other', 22, B).status).toBe('revoked');
  });

  it('offers the key types known for the host first', () => {
    const entries = parseKnownHosts(`db ssh-rsa AAAA\n`);
    expect(preferredHostKeyAlgorithms(entries, 'db', 22).slice(0, 3)).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(preferredHostKeyAlgorithms([], 'db', 22)[0]).toBe('ssh-ed25519');
  });
});
