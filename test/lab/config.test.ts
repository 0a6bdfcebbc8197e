// What the lab writes for LXC, apt and /etc/hosts, checked as text (no containers needed).
import { tempDir } from '../helpers/tmp.js';
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSources } from '../../src/lab/apt-cache.js';
import { readVarsFile } from '../../src/lab/inventory.js';
import { containerSources } from '../../src/lab/base.js';
import { etcHosts, hostConfig, macFor, upperDir } from '../../src/lab/hosts.js';
import { defaultSpec } from '../../src/lab/spec.js';
import type { HostFeatures } from '../../src/lab/host-deps.js';

const features = (kvm: boolean): HostFeatures => ({ kvm, tun: true, deviceMapper: false, iscsi: false, openvswitch: false, nfs: false });

describe('apt sources', () => {
  it('reads deb822 sources as the host has them, skipping deb-src and disabled entries', () => {
    const text = [
      'Types: deb',
      '# http://snapshot.debian.org/archive/debian/20250520T000000Z',
      'URIs: http://deb.debian.org/debian',
      'Suites: bookworm bookworm-updates',
      'Components: main',
      '',
      'Types: deb',
      'URIs: http://deb.debian.org/debian-security/',
      'Suites: bookworm-security',
      '',
      'Types: deb-src',
      'URIs: http://src.example/debian',
      'Suites: bookworm',
      '',
      'Types: deb',
      'Enabled: no',
      'URIs: http://off.example/debian',
      'Suites: bookworm',
    ].join('\n');
    expect(parseSources(text, true)).toEqual([
      { uri: 'http://deb.debian.org/debian', suites: ['bookworm', 'bookworm-updates'] },
      { uri: 'http://deb.debian.org/debian-security', suites: ['bookworm-security'] },
    ]);
  });

  it('reads one-line sources.list entries with options', () => {
    expect(parseSources('# c\ndeb [arch=amd64] http://ftp.de.debian.org/debian/ bookworm main\ndeb-src http://x bookworm main\n', false)).toEqual([
      { uri: 'http://ftp.de.debian.org/debian', suites: ['bookworm'] },
    ]);
  });

  it('gives containers the host mirror and security archive', () => {
    const s = containerSources({
      mirror: 'http://deb.debian.org/debian',
      security: 'http://deb.debian.org/debian-security',
      suites: ['bookworm', 'bookworm-updates'],
      securitySuites: ['bookworm-security'],
    });
    expect(s).toContain('URIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\n');
    expect(s).toContain('URIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\n');
  });
});

describe('host config', () => {
  const spec = defaultSpec();
  const compute = spec.hosts.find((h) => h.role === 'compute-1')!;
  const db = spec.hosts.find((h) => h.role === 'db-node')!;
  const rootfs = 'lxc.rootfs.path = overlay:/var/lib/lxc/sc-lab-base/rootfs:/var/lib/lxc/sc-lab-compute-1/overlay/delta';

  it('is privileged, unconfined, on the bridge with a static address and no gateway', () => {
    const c = hostConfig(spec, db, rootfs, features(true));
    expect(c).toContain('lxc.apparmor.profile = unconfined\n');
    expect(c).toContain('lxc.net.0.link = labbr0\n');
    expect(c).toContain('lxc.net.0.ipv4.address = 10.99.0.11/24\n');
    expect(c).not.toMatch(/gateway/);
    expect(c).toContain('lxc.uts.name = db-node\n');
    expect(c).not.toContain('/dev/kvm');
  });

  it('gives compute hosts /dev/kvm only when the machine has a working one', () => {
    expect(hostConfig(spec, compute, rootfs, features(true))).toContain('lxc.mount.entry = /dev/kvm dev/kvm none bind,create=file,optional 0 0');
    expect(hostConfig(spec, compute, rootfs, features(false))).not.toContain('/dev/kvm');
    expect(hostConfig(spec, compute, rootfs, features(false))).toContain('dev/net/tun');
  });

  it('finds the overlay upper folder, and refuses a container that is not an overlay clone', () => {
    expect(upperDir(rootfs, 'x')).toBe('/var/lib/lxc/sc-lab-compute-1/overlay/delta');
    expect(() => upperDir('lxc.rootfs.path = dir:/var/lib/lxc/x/rootfs', 'x')).toThrow(/x is not an overlay clone/);
  });

  it('derives distinct locally administered MACs from addresses', () => {
    expect(macFor('10.99.0.11')).toBe('02:5c:0a:63:00:0b');
    expect(macFor('10.99.99.11')).not.toBe(macFor('10.99.0.11'));
  });

  it('lists every lab host and the package cache host in /etc/hosts', () => {
    const h = etcHosts(spec);
    expect(h).toMatch(/^10\.99\.0\.1\tlabhost$/m);
    for (const host of spec.hosts) expect(h).toMatch(new RegExp(`^${host.address.replace(/\./g, '\\.')}\\t${host.role}$`, 'm'));
    expect(h).toMatch(/^127\.0\.0\.1\tlocalhost$/m);
  });
});

describe('lab inventory --vars', () => {
  const dir = tempDir('labvars-');

  it('reads a flat mapping or one under vars:', () => {
    writeFileSync(join(dir, 'a.yaml'), 'ADMIN_PASS: s3cret\nPORT: 3306\n');
    writeFileSync(join(dir, 'b.yaml'), 'vars:\n  REGION: RegionOne\n');
    expect(readVarsFile(join(dir, 'a.yaml'))).toEqual({ ADMIN_PASS: 's3cret', PORT: '3306' });
    expect(readVarsFile(join(dir, 'b.yaml'))).toEqual({ REGION: 'RegionOne' });
  });

  it('names the file and the bad entry', () => {
    writeFileSync(join(dir, 'c.yaml'), 'bad-name: 1\n');
    writeFileSync(join(dir, 'd.yaml'), 'X: [1, 2]\n');
    writeFileSync(join(dir, 'e.yaml'), '- a\n- b\n');
    expect(() => readVarsFile(join(dir, 'c.yaml'))).toThrow(`--vars ${join(dir, 'c.yaml')}: bad-name: not a variable name`);
    expect(() => readVarsFile(join(dir, 'd.yaml'))).toThrow(`--vars ${join(dir, 'd.yaml')}: X: expected a string or number`);
    expect(() => readVarsFile(join(dir, 'e.yaml'))).toThrow(/expected a mapping of NAME: value/);
  });
});
