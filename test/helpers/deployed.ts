// The deployment the tutorial tier tests run against: $STACKCHECK_TEST_INVENTORY, else the lab's inventory (after
// `stackcheck run tutorial`), with one SSH pool for the file's tests.
import { loadInventory } from '../../src/inventory/load.js';
import type { Inventory } from '../../src/inventory/types.js';
import { inventoryPath } from '../../src/lab/inventory.js';
import { SshPool } from '../../src/ssh/pool.js';

export async function openDeployedTarget(): Promise<{ inventory: Inventory; pool: SshPool }> {
  const file = process.env.STACKCHECK_TEST_INVENTORY ?? inventoryPath(process.env.STACKCHECK_LAB ?? 'lab');
  if (!file) throw new Error('no deployed target: set STACKCHECK_TEST_INVENTORY to an inventory, or build the lab with `stackcheck run tutorial` first');
  const inventory = await loadInventory(file);
  return { inventory, pool: new SshPool(inventory) };
}
