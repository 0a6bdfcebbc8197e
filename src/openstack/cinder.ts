// Cinder v3 API: services and volumes (the endpoint URL already holds the project id).
import type { OpenStackClient, OsService } from './client.js';

export type CinderService = OsService;

export interface Volume {
  id: string;
  name: string | null;
  status: string;
  attachments: { server_id: string; attachment_id?: string; device?: string }[];
}

export async function listCinderServices(c: OpenStackClient): Promise<CinderService[]> {
  return (await c.call<{ services: CinderService[] }>('volumev3', 'GET', '/os-services')).data.services;
}

export async function createVolume(c: OpenStackClient, name: string, sizeGb = 1): Promise<Volume> {
  return (await c.call<{ volume: Volume }>('volumev3', 'POST', '/volumes', { body: { volume: { name, size: sizeGb } }, expect: [202] })).data.volume;
}

export async function getVolume(c: OpenStackClient, id: string): Promise<Volume> {
  return (await c.call<{ volume: Volume }>('volumev3', 'GET', `/volumes/${id}`)).data.volume;
}

export async function deleteVolume(c: OpenStackClient, id: string): Promise<void> {
  await c.call('volumev3', 'DELETE', `/volumes/${id}`, { expect: [202, 404] });
}
