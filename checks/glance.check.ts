// Glance: every endpoint answers; the tutorial's image is registered and active; an uploaded image becomes
// active and downloads back with the same checksum (functional; the image is deleted even on failure).
import { createHash, randomBytes } from 'node:crypto';
import { checkSuite } from '../src/checks/define.js';
import { checkConfig, serviceConfig } from '../src/checks/config.js';
import { CheckFailure, evidence } from '../src/checks/outcome.js';
import { adminClient, apiEvidence, describeApiError, endpointsAnswer, need, poll, scratchName } from '../src/checks/api.js';
import { createImage, deleteImage, downloadImage, getImage, listImages, uploadImage } from '../src/openstack/glance.js';

const { check, expected } = checkSuite();
const image = expected.services.find((s) => s.name === 'glance')?.role ?? 'image-node';

check('glance.api', image, async (s, t) => {
  t.logOnFailure(image, 'glance-api');
  await endpointsAnswer(s, 'image', '/v2/images?limit=1', 'Glance');
});

check('glance.images', 'deployment', async (s, t) => {
  t.logOnFailure(image, 'glance-api');
  const { client } = await adminClient(s);
  const found = await need('listing images', listImages(client, expected.image));
  t.attach(evidence.json(`images named ${expected.image}`, found));
  if (found.length === 0) {
    const all = await listImages(client).catch(() => []);
    throw new CheckFailure(`image ${expected.image} registered in Glance`, all.length ? `no such image (images: ${all.map((i) => i.name).join(', ')})` : 'no images at all');
  }
  if (!found.some((i) => i.status === 'active')) {
    throw new CheckFailure(`image ${expected.image} active`, `status ${found.map((i) => i.status).join(', ')}`);
  }
});

check('glance.upload', image, async (s, t) => {
  t.logOnFailure(image, 'glance-api');
  const { client } = await adminClient(s);
  const data = randomBytes(1024 * 1024);
  const md5 = createHash('md5').update(data).digest('hex');
  const created = await need('creating an image record', createImage(client, scratchName('image')));
  try {
    try {
      await uploadImage(client, created.id, data);
    } catch (err) {
      throw new CheckFailure('a 1 MiB image upload accepted (HTTP 204)', describeApiError(err), apiEvidence(err));
    }
    const st = await poll(() => getImage(client, created.id), (i) => i.status === 'active' || i.status === 'killed', 60_000, 1000);
    if (!st.finished || st.value.status !== 'active') {
      throw new CheckFailure('the uploaded image active within 60 s', `status ${st.value.status} (check the store directory and its owner glance)`);
    }
    if (st.value.checksum && st.value.checksum !== md5) throw new CheckFailure(`Glance checksum ${md5}`, String(st.value.checksum));
    const back = await downloadImage(client, created.id);
    const md5Back = createHash('md5').update(back).digest('hex');
    if (md5Back !== md5) throw new CheckFailure(`the download identical to the upload (md5 ${md5}, ${data.length} bytes)`, `md5 ${md5Back}, ${back.length} bytes`);
  } finally {
    await deleteImage(client, created.id).catch(() => undefined);
  }
});

check('glance.config', image, async (s, t) => {
  await checkConfig(s, image, serviceConfig(expected, 'glance'), t);
});
