import { describe, expect, test } from 'vitest';
import { computeRoles, expectedFor, roleAddress, sameHost, stageInstalling } from '../../src/checks/expect.js';
import { inventory } from './fixtures-inventory.js';

describe('expectations come from the inventory', () => {
  test('compute hosts are the compute-N roles, not the api node', () => {
    expect(computeRoles(inventory())).toEqual(['compute-1', 'compute-2']);
  });

  test('COMPUTE_ROLES overrides the naming convention', () => {
    expect(computeRoles(inventory({ vars: { COMPUTE_ROLES: 'api-node, compute-2' } }))).toEqual(['api-node', 'compute-2']);
  });

  test('a role listens on its <ROLE>_IP variable, else its SSH address', () => {
    const inv = inventory();
    expect(roleAddress(inv, 'db-node')).toBe('192.168.1.11');
    expect(roleAddress(inv, 'auth-node')).toBe('10.0.0.12');
    expect(roleAddress(inv, 'nowhere')).toBeUndefined();
  });

  test('a reported FQDN, short name or address designates the role', () => {
    const inv = inventory();
    expect(sameHost(inv, 'compute-1', 'compute-1.example.org')).toBe(true);
    expect(sameHost(inv, 'compute-1', '10.0.0.17')).toBe(true);
    expect(sameHost(inv, 'compute-1', 'compute-2')).toBe(false);
  });

  test('the full service list is expected for a complete deployment; what the stages installed limits it', () => {
    const all = expectedFor(inventory()).services.map((s) => s.name);
    expect(all).toEqual(['keystone', 'glance', 'placement', 'nova', 'neutron', 'cinder', 'horizon']);
    expect(expectedFor(inventory(), ['hosts', 'mysql', 'rabbitmq', 'keystone', 'glance']).services.map((s) => s.name)).toEqual(['keystone', 'glance']);
    // Glance alone, as a stage that runs beside Nova sees it
    expect(expectedFor(inventory(), ['glance']).services.map((s) => s.name)).toEqual(['glance']);
    expect(expectedFor(inventory(), ['mysql']).services).toEqual([]);
    expect(expectedFor(inventory(), ['mysql']).allServices).toHaveLength(7);
    expect(expectedFor(inventory(), ['neutron', 'nova-controller']).computeInstalled).toBe(false);
    expect(expectedFor(inventory(), ['nova-compute']).computeInstalled).toBe(true);
    // an unknown word installs nothing (the parser rejects it before a run)
    expect(expectedFor(inventory(), ['keystone-on-auth-node']).services).toEqual([]);
  });

  test('defaults follow the tutorial: RegionOne, service project, openstack on /', () => {
    const e = expectedFor(inventory({ vars: {} }));
    expect(e.region).toBe('RegionOne');
    expect(e.serviceProject).toBe('service');
    expect(e.rabbit).toEqual({ user: 'openstack', passwordVar: 'RABBIT_PASS', vhost: '/' });
    expect(e.horizonUrl).toBe('http://10.0.0.14/horizon/');
    expect(e.floatingRange).toEqual({ start: '203.0.113.101', end: '203.0.113.200' });
    expect([e.image, e.network, e.externalNetwork, e.router]).toEqual(['tiny', 'selfservice', 'provider', 'router']);
  });
});

test('a remedy points at the tutorial stage that declares the install, whatever its heading says', () => {
  const stages = [
    { id: 'the-database', installs: ['mysql', 'rabbitmq'] },
    { id: 'identity', installs: ['keystone'] },
    { id: 'controller', installs: ['placement', 'nova-controller'] },
    { id: 'a-note-about-keystone' },
  ];
  expect(stageInstalling('rabbitmq', stages)).toBe('the-database');
  expect(stageInstalling('keystone', stages)).toBe('identity');
  expect(stageInstalling('nova-controller', stages)).toBe('controller');
  expect(stageInstalling('horizon', stages)).toBeUndefined();
});
