// Glance v2 API: find images, create/upload/download/delete one (for the functional check).
import type { OpenStackClient } from './client.js';

export interface Image {
  id: string;
  name: string;
  status: string;
  checksum?: string | null;
  os_hash_algo?: string | null;
  os_hash_value?: string | null;
  size?: number | null;
  disk_format?: string;
  visibility?: string;
}

export async function listImages(c: OpenStackClient, name?: string): Promise<Image[]> {
  const q = `/v2/images${name ? `?name=${encodeURIComponent(name)}` : ''}`;
  return (await c.call<{ images: Image[] }>('image', 'GET', q)).data.images;
}

export async function getImage(c: OpenStackClient, id: string): Promise<Image> {
  return (await c.call<Image>('image', 'GET', `/v2/images/${id}`)).data;
}

export async function createImage(c: OpenStackClient, name: string): Promise<Image> {
  const body = { name, disk_format: 'raw', container_format: 'bare', visibility: 'private' };
  return (await c.call<Image>('image', 'POST', '/v2/images', { body, expect: [201] })).data;
}

export async function uploadImage(c: OpenStackClient, id: string, data: Buffer): Promise<void> {
  await c.call('image', 'PUT', `/v2/images/${id}/file`, { body: data, headers: { 'Content-Type': 'application/octet-stream' }, expect: [204] });
}

export async function downloadImage(c: OpenStackClient, id: string): Promise<Buffer> {
  const res = await c.call<ArrayBuffer>('image', 'GET', `/v2/images/${id}/file`, { responseType: 'arraybuffer', headers: { Accept: 'application/octet-stream' } });
  return Buffer.from(res.data);
}

export async function deleteImage(c: OpenStackClient, id: string): Promise<void> {
  await c.call('image', 'DELETE', `/v2/images/${id}`, { expect: [204, 404] });
}
