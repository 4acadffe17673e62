// Drift of an image deployment: the training reference holds the images' properties and the model's
// embeddings; a window of logged images like the training ones does not drift, a window of darkened
// copies drifts on brightness and on the embedding (domain classifier), with the alerts that follow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadSplitDataset } from '../../../src/core/data/dataset';
import { monitorDeployment } from '../../../src/core/monitor';
import { alertsOf } from '../../../src/core/monitor/alerts';
import { imageReference } from '../../../src/core/train/imageReference';
import { buildReference, decodeEmbeddings, writeReference } from '../../../src/core/train/reference';
import { deploymentDir, runDir } from '../../../src/core/spec/layout';
import { imageProject, imageSpec } from '../data/images/imageFixture';
import { preprocessImage } from '../../../src/core/data/images/preprocess';
import { productionQueueOf, selectForReview } from '../../../src/core/update/reviewQueue';
import { schemaOfReference } from '../../../src/cli/commands/review';
import { embeddingImageModel, writeImageLog } from './imageFixture';

const SHAPE = { height: 16, width: 16, channels: 1 as const };
const CLASSES = ['a', 'b', 'c'];

test('an image deployment: properties and embeddings of logged images against the training reference', async (t) => {
  const p = await imageProject(
    imageSpec({ imageSize: [16, 16], channels: 1, split: { dev: 0.3, test: 0.3, seed: 0 } }),
    CLASSES,
    40,
  );
  t.after(() => p.cleanup());
  const dataset = await loadSplitDataset(p.dir);
  const model = embeddingImageModel(SHAPE, 3);
  const reference = buildReference(dataset.schema, dataset.train, undefined, { dataVersion: dataset.version.id });
  Object.assign(reference, await imageReference(dataset.schema.image!, dataset.train, p.dir, model));

  // The reference: one distribution per property (colourfulness left out for a grey model), the stored channels, embeddings.
  assert.deepEqual(
    reference.features.map((f) => f.name),
    ['brightness', 'contrast', 'sharpness', 'entropy', 'width', 'height', 'aspect', 'channels'],
  );
  const brightness = reference.features[0];
  assert.ok(brightness.kind === 'numeric' && brightness.count === dataset.train.features.n);
  assert.equal(reference.image!.embedding!.dim, 8);
  assert.equal(reference.image!.embedding!.rows, dataset.train.features.n);
  assert.equal(decodeEmbeddings(reference.image!.embedding!).length, 8 * dataset.train.features.n);
  assert.equal(reference.image!.samples.length, 12);
  assert.ok(reference.image!.samples.every((f) => dataset.train.images!.files.includes(f)));

  const runId = 'run-images';
  mkdirSync(runDir(p.dir, runId), { recursive: true });
  writeFileSync(join(runDir(p.dir, runId), 'model.onnx'), model);
  writeReference(runDir(p.dir, runId), reference);

  // Production images like the training ones (the dev and test files, as sent): no drift.
  const sent = [...dataset.dev.images!.files, ...dataset.test.images!.files].map((f) => readFileSync(p.path(f)));
  const logDir = deploymentDir(p.dir, 'shop');
  writeImageLog(logDir, runId, sent, Date.parse('2026-12-01T10:00:00Z'));
  const calm = await monitorDeployment({ logDir, projectDir: p.dir });
  assert.equal(calm.window.rows, sent.length);
  assert.equal(calm.features.find((f) => f.name === 'brightness')!.drifted, false);
  assert.ok(calm.embedding, JSON.stringify(calm.issues));
  assert.equal(calm.embedding.drifted, false, `AUC ${calm.embedding.rocAuc}`);
  assert.equal(calm.drift, false);
  assert.equal(calm.images!.images, sent.length);
  assert.equal(calm.images!.missing, 0);
  assert.equal(calm.images!.samples.length, 12);
  assert.deepEqual(calm.images!.reference, reference.image!.samples);
  assert.deepEqual(alertsOf('shop', calm), []);

  // Then darkened copies (a darker room): brightness and the embedding drift; the alerts say so.
  const dark = await Promise.all(sent.map((png) => sharp(png).linear(0.35, 0).png().toBuffer()));
  writeImageLog(logDir, runId, dark, Date.parse('2026-12-01T11:00:00Z'));
  const drifted = await monitorDeployment({ logDir, projectDir: p.dir, window: dark.length });
  const b = drifted.features.find((f) => f.name === 'brightness')!;
  assert.equal(b.drifted, true);
  assert.equal(drifted.features.find((f) => f.name === 'width')!.drifted, false);
  assert.equal(drifted.embedding!.drifted, true, `AUC ${drifted.embedding!.rocAuc}`);
  assert.equal(drifted.drift, true);
  assert.ok(
    drifted.images!.samples.every((s) =>
      dark.some((d) => s.file.includes(createHash('sha256').update(d).digest('hex'))),
    ),
  );
  const kinds = alertsOf('shop', drifted).map((a) => a.kind);
  assert.ok(kinds.includes('embedding-drift'), kinds.join());

  // Send to Error Analysis: the darkened pictures are queued for review (drifted brightness), with the
  // pixels the model saw; the Production source lists them as image rows.
  const items = await selectForReview({
    logDir,
    deployment: 'shop',
    schema: schemaOfReference(reference),
    features: drifted.features,
    window: dark.length,
    lowConfidence: 0,
  });
  assert.equal(items.length, dark.length);
  assert.ok(items.every((i) => i.reasons.includes('drift') && i.drift!.some((d) => d.startsWith('brightness'))));
  const darkShas = dark.map((d) => createHash('sha256').update(d).digest('hex'));
  assert.ok(items.every((i) => darkShas.includes(i.image!.sha256)));
  const queue = productionQueueOf(items, dataset.schema);
  assert.equal(queue.rows.features.n, dark.length);
  const k = darkShas.indexOf(queue.items[0].image!.sha256);
  const expected = (await preprocessImage(dark[k], SHAPE)).pixels;
  assert.deepEqual(queue.rows.images!.pixels.subarray(0, expected.length), expected);
  assert.equal(queue.rows.images!.files[0], join('.mlloop', 'deployments', 'shop', queue.items[0].image!.file));
});
