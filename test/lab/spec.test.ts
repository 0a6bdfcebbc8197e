// The lab spec: defaults, and every bad input named by file and field (exit code 2).
import { tempDir } from '../helpers/tmp.js';
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StackcheckError } from '../../src/error.js';
import { addressVar, defaultSpec, loadSpec, selectHosts, specFromData } from '../../src/lab/spec.js';

// Run fn and return the StackcheckError it throws (fails the test when it does not throw one).
function errorOf(fn: () => unknown): StackcheckError {
  try {
    fn();
  } catch (err) {
    if (err instanceof StackcheckError) return err;
    throw err;
  }
  throw new Error('expected a StackcheckError');
}

describe('lab spec', () => {
  it('defaults to the seven tutorial hosts on labbr0, 10.99.0.11…17', () => {
    const s = defaultSpec();
    expect(s.bridge).toBe('labbr0');
    expect(s.bridgeAddress).toBe('10.99.0.1');
    expect(s.hosts.map((h) => `${h.role}=${h.address}`)).toEqual([
      'db-node=10.99.0.11',
      'auth-node=10.99.0.12',
      'image-node=10.99.0.13',
      'api-node=10.99.0.14',
      'network-node=10.99.0.15',
      'volume-node=10.99.0.16',
      'compute-1=10.99.0.17',
    ]);
    expect(s.hosts.filter((h) => h.compute).map((h) => h.role)).toEqual(['compute-1']);
  });

  it('reads a YAML spec with its own bridge and subnet', () => {
    const dir = tempDir('labspec-');
    const f = join(dir, 'lab.yaml');
    writeFileSync(f, 'name: t1\nbridge: tbr0\nsubnet: 10.77.0.0/24\nhosts:\n  db-node: { address: 10.77.0.5 }\n  hv-2: { address: 10.77.0.6, compute: true }\n');
    const s = loadSpec(f);
    expect(s).toMatchObject({ name: 't1', bridge: 'tbr0', network: '10.77.0.0', prefix: 24, bridgeAddress: '10.77.0.1' });
    expect(s.hosts).toEqual([
      { role: 'db-node', address: '10.77.0.5', hostname: 'db-node', compute: false },
      { role: 'hv-2', address: '10.77.0.6', hostname: 'hv-2', compute: true },
    ]);
  });

  it('names the file and field of an address outside the subnet', () => {
    const e = errorOf(() => specFromData({ subnet: '10.99.0.0/24', hosts: { 'db-node': { address: '10.98.0.11' } } }, 'lab.yaml'));
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe('lab.yaml: hosts.db-node.address: 10.98.0.11 is not a host address of 10.99.0.0/24');
  });

  it('refuses two hosts on one address, and a host on the bridge address', () => {
    const clash = errorOf(() =>
      specFromData({ hosts: { a1: { address: '10.99.0.11' }, b1: { address: '10.99.0.11' } } }, 's.yaml'),
    );
    expect(clash.message).toBe('s.yaml: hosts.b1.address: 10.99.0.11 is already used by a1');
    const br = errorOf(() => specFromData({ hosts: { a1: { address: '10.99.0.1' } } }, 's.yaml'));
    expect(br.message).toBe('s.yaml: hosts.a1.address: 10.99.0.1 is already used by the bridge (host side)');
  });

  it('names unknown fields, bad addresses, bad subnets and bad bridge names', () => {
    expect(errorOf(() => specFromData({ hosts: { a1: { address: '10.99.0.2', ram: 4 } } }, 'f.yaml')).message).toMatch(
      /^f\.yaml: hosts\.a1: .*ram/,
    );
    expect(errorOf(() => specFromData({ hosts: { a1: { address: '10.99.0.256' } } }, 'f.yaml')).message).toBe(
      'f.yaml: hosts.a1.address: must be an IPv4 address such as 10.99.0.11',
    );
    expect(errorOf(() => specFromData({ subnet: '10.99.0.5/24', hosts: { a1: { address: '10.99.0.2' } } }, 'f.yaml')).message).toBe(
      'f.yaml: subnet: "10.99.0.5/24" has host bits set; did you mean 10.99.0.0/24?',
    );
    expect(errorOf(() => specFromData({ bridge: 'a-bridge-name-too-long', hosts: { a1: { address: '10.99.0.2' } } }, 'f.yaml')).message).toBe(
      'f.yaml: bridge: must be a network interface name of at most 15 characters',
    );
    expect(errorOf(() => specFromData({ hosts: { DB: { address: '10.99.0.2' } } }, 'f.yaml')).message).toMatch(/^f\.yaml: hosts\.DB: role names/);
    expect(errorOf(() => specFromData({ hosts: {} }, 'f.yaml')).message).toBe('f.yaml: hosts: the lab needs at least one host');
  });

  it('points at the line of a YAML syntax error', () => {
    const dir = tempDir('labspec-');
    const f = join(dir, 'broken.yaml');
    writeFileSync(f, 'name: x\nhosts:\n  db-node: { address: 10.99.0.11\n');
    const e = errorOf(() => loadSpec(f));
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(new RegExp(`^${f}:\\d+: not valid YAML`));
  });

  it('names a missing spec file', () => {
    const e = errorOf(() => loadSpec('/nonexistent/lab.yaml'));
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/^\/nonexistent\/lab\.yaml: cannot read the lab spec/);
  });

  it('selects hosts with --hosts and refuses unknown roles before anything runs', () => {
    const s = defaultSpec();
    expect(selectHosts(s, 'compute-1,db-node').map((h) => h.role)).toEqual(['db-node', 'compute-1']);
    const e = errorOf(() => selectHosts(s, 'db-node,compute-9'));
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe('--hosts: unknown role compute-9');
    expect(e.hint).toContain('db-node, auth-node');
  });

  it('turns roles into address variables', () => {
    expect(addressVar('db-node')).toBe('DB_NODE_IP');
    expect(addressVar('compute-1')).toBe('COMPUTE_1_IP');
  });
});
