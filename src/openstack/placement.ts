// Placement API: resource providers and their inventories (with the microversion header Placement wants).
import type { OpenStackClient } from './client.js';

const MV = { 'OpenStack-API-Version': 'placement 1.14' };

export interface ResourceProvider {
  uuid: string;
  name: string;
  generation: number;
}

export interface InventoryRecord {
  total: number;
  reserved: number;
  allocation_ratio: number;
  min_unit: number;
  max_unit: number;
  step_size: number;
}

export async function listResourceProviders(c: OpenStackClient): Promise<ResourceProvider[]> {
  return (await c.call<{ resource_providers: ResourceProvider[] }>('placement', 'GET', '/resource_providers', { headers: MV })).data.resource_providers;
}

export async function providerInventories(c: OpenStackClient, uuid: string): Promise<Record<string, InventoryRecord>> {
  return (await c.call<{ inventories: Record<string, InventoryRecord> }>('placement', 'GET', `/resource_providers/${uuid}/inventories`, { headers: MV })).data.inventories;
}
