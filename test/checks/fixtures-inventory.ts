// A small in-memory inventory for unit tests of the check logic (no host is contacted).
import type { Inventory } from '../../src/inventory/types.js';

export function inventory(over: Partial<Inventory> = {}): Inventory {
  const host = (role: string, address: string): Inventory['hosts'][string] => ({ role, address, port: 22, user: 'root', hostname: role });
  return {
    file: 'inventory.yaml',
    name: 'unit',
    hosts: {
      'db-node': host('db-node', '10.0.0.11'),
      'auth-node': host('auth-node', '10.0.0.12'),
      'api-node': host('api-node', '10.0.0.14'),
      'compute-1': host('compute-1', '10.0.0.17'),
      'compute-2': host('compute-2', '10.0.0.18'),
    },
    vars: { DB_NODE_IP: '192.168.1.11', ADMIN_PASS: 'Adm1nSecret', NOVA_DBPASS: 'n0vaDbSecret', REGION: 'RegionOne' },
    secretNames: ['ADMIN_PASS'],
    knownHosts: '/dev/null',
    acceptNewHostKeys: false,
    connectTimeoutMs: 1000,
    ...over,
  };
}
