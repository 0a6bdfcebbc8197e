import { describe, expect, test } from 'vitest';
import { computeRoles, expectedFor, roleAddress, sameHost, stageReached, tutorialStageFor } from '../../src/checks/expect.js';
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

  test('the full service list is expected without a stage; a stage limits it', () => {
    const all = expectedFor(inventory()).services.map((s) => s.name);
    expect(all).toEqual(['keystone', 'glance', 'placement', 'nova', 'neutron', 'cinder', 'horizon']);
    expect(expectedFor(inventory(), 'glance').services.map((s) => s.name)).toEqual(['keystone', 'glance']);
    expect(stageReached('cinder', 'keystone')).toBe(false);
    expect(stageReached('keystone', 'cinder')).toBe(true);
    // the tutorial's stage ids are slugs of its headings
    expect(stageReached('glance', 'keystone-on-auth-node')).toBe(false);
    expect(stageReached('keystone', 'keystone-on-auth-node')).toBe(true);
    // cinder-volume's host is configured by its own stage, after the API and scheduler
    expect(stageReached('cinder-volume', 'cinder-api-and-scheduler-on-api-node')).toBe(false);
    expect(stageReached('cinder-volume', 'lab-variant-cinder-volume-with-ceph-rbd')).toBe(true);
    expect(stageReached('cinder-volume', 'cinder-volume-on-volume-node-lvm-and-iscsi')).toBe(true);
    expect(expectedFor(inventory(), 'mysql-mariadb-on-db-node').services.map((s) => s.name)).toEqual([]);
    expect(expectedFor(inventory(), 'mysql-mariadb-on-db-node').allServices).toHaveLength(7);
    // the tutorial installs Neutron before nova-compute
    expect(expectedFor(inventory(), 'neutron-on-network-node-and-compute-1').computeInstalled).toBe(false);
    expect(expectedFor(inventory(), 'nova-compute-on-compute-1').computeInstalled).toBe(true);
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

test('remedy stage keys resolve to the tutorial\'s stage ids', () => {
  const ids = ['overview-and-hosts', 'mysql-mariadb-on-db-node', 'rabbitmq-on-db-node', 'keystone-on-auth-node', 'glance-on-image-node', 'placement-and-the-nova-controller-on-api-node', 'neutron-on-network-node-and-compute-1', 'nova-compute-on-compute-1'];
  expect(tutorialStageFor('overview', ids)).toBe('overview-and-hosts');
  expect(tutorialStageFor('mysql', ids)).toBe('mysql-mariadb-on-db-node');
  expect(tutorialStageFor('placement', ids)).toBe('placement-and-the-nova-controller-on-api-node');
  expect(tutorialStageFor('keystone', ids)).toBe('keystone-on-auth-node');
  expect(tutorialStageFor('nova-compute', ids)).toBe('nova-compute-on-compute-1');
  expect(tutorialStageFor('neutron', ids)).toBe('neutron-on-network-node-and-compute-1');
  expect(tutorialStageFor('horizon', ids)).toBeUndefined();
});
