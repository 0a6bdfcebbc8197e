import { describe, expect, test } from 'vitest';
import { catalogGaps, endpointUrl, findEndpoints, type CatalogService } from '../../src/openstack/keystone.js';

const catalog: CatalogService[] = [
  {
    id: 'k',
    type: 'identity',
    name: 'keystone',
    endpoints: (['public', 'internal', 'admin'] as const).map((i) => ({ id: i, interface: i, region: 'RegionOne', region_id: 'RegionOne', url: `http://auth-node:5000/v3` })),
  },
  {
    id: 'g',
    type: 'image',
    name: 'glance',
    endpoints: [
      { id: '1', interface: 'public', region: 'RegionOne', region_id: 'RegionOne', url: 'http://image-node:9292' },
      { id: '2', interface: 'internal', region: 'regionOne', region_id: 'regionOne', url: 'http://image-node:9292' },
    ],
  },
];

describe('catalog parsing', () => {
  test('endpoints by interface in a region', () => {
    expect(Object.keys(findEndpoints(catalog, 'identity', 'RegionOne')).sort()).toEqual(['admin', 'internal', 'public']);
    expect(endpointUrl(catalog, 'image', 'public', 'RegionOne')).toBe('http://image-node:9292');
    expect(endpointUrl(catalog, 'image', 'admin', 'RegionOne')).toBeUndefined();
  });

  test('gaps name the missing interfaces and the regions used instead (case matters)', () => {
    expect(catalogGaps(catalog, 'image', 'RegionOne')).toEqual({ missing: ['internal', 'admin'], otherRegions: ['regionOne'], present: true });
  });

  test('an empty catalog misses every service (never silently fine)', () => {
    expect(catalogGaps([], 'compute', 'RegionOne')).toEqual({ missing: ['public', 'internal', 'admin'], otherRegions: [], present: false });
  });
});
