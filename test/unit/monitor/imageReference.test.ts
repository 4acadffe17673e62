// An image run's monitoring reference, written when ML Loop evaluates the run's model.onnx: the
// training images' properties as feature references, a sample of the model's embeddings of them and a
// few training files to show beside production images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSplitDataset, resolveProject } from '../../../src/core/data/dataset';
import { evaluateScriptRun } from '../../../src/core/scripts/scriptData';
import { decodeEmbeddings, readReference } from '../../../src/core/train/reference';
import { modelEmbeddings } from '../../../src/core/onnx/embeddings';
import { imageReference, sampleRows } from '../../../src/core/train/imageReference';
import { OnnxGraphBuilder } from '../../../src/core/onnx/builder';
import { imageProject, imageSpec } from '../data/images/imageFixture';
import { embeddingImageModel } from './imageFixture';

const SHAPE = { height: 16, width: 16, channels: 1 as const };

test('sampleRows: k distinct sorted rows, seeded; all rows when k ≥ n', () => {
  const s = sampleRows(100, 10, 5);
  assert.equal(new Set(s).size, 10);
  assert.deepEqual(
    [...s],
    [...s].sort((a, b) => a - b),
  );
  assert.deepEqual(sampleRows(100, 10, 5), s);
  assert.notDeepEqual(sampleRows(100, 10, 6), s);
  assert.deepEqual([...sampleRows(3, 10)], [0, 1, 2]);
});

test('an image script run stores the properties and the embeddings of its training images in reference.json', async (t) => {
  const p = await imageProject(imageSpec({ imageSize: [16, 16], channels: 1 }), ['a', 'b'], 12);
  t.after(() => p.cleanup());
  const runDir = p.path('.mlloop/runs/r1');
  mkdirSync(runDir, { recursive: true });
  const modelPath = join(runDir, 'model.onnx');
  const model = embeddingImageModel(SHAPE, 2, 4);
  writeFileSync(modelPath, model);
  const dataset = await loadSplitDataset(p.dir);
  await evaluateScriptRun(await resolveProject(p.dir), runDir, modelPath, dataset.version.id);
  const ref = readReference(runDir)!;
  assert.ok(ref.image, 'reference.json has an image part');
  assert.deepEqual(ref.image.shape, SHAPE);
  const n = dataset.train.features.n;
  const brightness = ref.features.find((f) => f.name === 'brightness');
  assert.ok(brightness?.kind === 'numeric' && brightness.count === n);
  const width = ref.features.find((f) => f.name === 'width');
  assert.ok(width?.kind === 'numeric' && width.min === 16 && width.max === 16);
  const channels = ref.features.find((f) => f.name === 'channels');
  assert.ok(channels?.kind === 'categorical');
  assert.deepEqual(channels.counts, { '1': n });
  // The embeddings are the model's own, row for row.
  const stored = decodeEmbeddings(ref.image.embedding!);
  const direct = await modelEmbeddings(model, dataset.train.images!.pixels, n, SHAPE);
  assert.deepEqual(stored, direct!.data);
  assert.ok(ref.predictions && ref.devScore);
});

test('a model whose embedding output is not [N, D]: the reference keeps the properties and says why it has no embeddings', async (t) => {
  const p = await imageProject(imageSpec({ imageSize: [16, 16], channels: 1 }), ['a', 'b'], 6);
  t.after(() => p.cleanup());
  const g = new OnnxGraphBuilder('bad_embedding');
  g.addInput('image', 'float', ['N', 1, 16, 16]);
  g.addOutput('embedding', 'float', []);
  g.addNode('ReduceSum', ['image'], ['embedding'], { keepdims: 0 });
  const dataset = await loadSplitDataset(p.dir);
  const { features, image } = await imageReference(SHAPE, dataset.train, p.dir, g.build());
  assert.equal(image.embedding, undefined);
  assert.match(image.embeddingError!, /"embedding" output is not \[N, D\]/);
  assert.ok(features.some((f) => f.name === 'brightness'));
});
