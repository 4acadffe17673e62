// The script protocol's image form: manifests (path + class), .npy images uint8 [N, C, H, W] and labels
// int64 [N] in the manifests' order, MLLOOP_FEATURES' image form; a model.onnx taking `image` float32
// [N, C, H, W] in [0, 1] validated and evaluated by ML Loop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Papa from 'papaparse';
import { loadSplitDataset, resolveProject } from '../../../src/core/data/dataset';
import { preprocessImage } from '../../../src/core/data/images/preprocess';
import { OnnxGraphBuilder, readMetadata } from '../../../src/core/onnx/builder';
import { readImageMetadata } from '../../../src/core/data/images/modelMetadata';
import { InferenceServer } from '../../../src/core/serve/server';
import { inputEnv } from '../../../src/core/scripts/inputs';
import { evaluateScriptRun, prepareScriptData } from '../../../src/core/scripts/scriptData';
import { evaluateScriptModel, ModelContractError, ScriptModel } from '../../../src/core/scripts/scriptModel';
import { imageProject, imageSpec } from '../data/images/imageFixture';

const PYTHON = process.env.MLLOOP_TEST_PYTHON ?? '/usr/bin/python3';
const hasNumpy = spawnSync(PYTHON, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

/** Reads a .npy file written by ML Loop: dtype, shape and the data bytes. */
function readNpy(file: string): { descr: string; shape: number[]; data: Buffer } {
  const buf = readFileSync(file);
  assert.equal(buf.toString('latin1', 0, 6), '\x93NUMPY');
  const len = buf.readUInt16LE(8);
  assert.equal((10 + len) % 64, 0, 'the header is padded to 64 bytes');
  const header = buf.toString('latin1', 10, 10 + len);
  const descr = /'descr': '([^']+)'/.exec(header)![1];
  const shape = /'shape': \(([^)]*)\)/
    .exec(header)![1]
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  return { descr, shape, data: buf.subarray(10 + len) };
}

test('a script run of an image project gets manifests, .npy images and labels in the manifests order, and the image form of MLLOOP_FEATURES', async () => {
  const p = await imageProject(imageSpec({ split: { dev: 0.25, test: 0.25, seed: 2 } }), ['cat', 'dog'], 8);
  const runDir = mkdtempSync(join(tmpdir(), 'mlloop-run-'));
  try {
    const ref = await resolveProject(p.dir);
    const prepared = await prepareScriptData(ref, runDir, {});
    const env = inputEnv(prepared.inputs, runDir);
    assert.deepEqual(JSON.parse(readFileSync(env.MLLOOP_FEATURES, 'utf8')), {
      image: { height: 16, width: 16, channels: 1 },
      target: 'label',
      task: 'classification',
    });
    assert.deepEqual(JSON.parse(readFileSync(env.MLLOOP_CLASSES, 'utf8')), ['cat', 'dog']);
    for (const split of ['TRAIN', 'DEV', 'TEST']) {
      const manifest = Papa.parse<Record<string, string>>(readFileSync(env[`MLLOOP_${split}`], 'utf8'), {
        header: true,
        skipEmptyLines: true,
      });
      assert.deepEqual(manifest.meta.fields, ['path', 'label']);
      const images = readNpy(env[`MLLOOP_${split}_IMAGES`]);
      const labels = readNpy(env[`MLLOOP_${split}_LABELS`]);
      const n = manifest.data.length;
      assert.equal(n, split === 'TRAIN' ? 8 : 4);
      assert.equal(images.descr, '|u1');
      assert.deepEqual(images.shape, [n, 1, 16, 16]);
      assert.equal(labels.descr, '<i8');
      assert.deepEqual(labels.shape, [n]);
      for (let i = 0; i < n; i++) {
        const row = manifest.data[i];
        assert.ok(row.path.startsWith(p.dir), row.path);
        assert.equal(labels.data.readBigInt64LE(i * 8), BigInt(['cat', 'dog'].indexOf(row.label)));
        const expected = await preprocessImage(readFileSync(row.path), { height: 16, width: 16, channels: 1 });
        assert.deepEqual([...images.data.subarray(i * 256, (i + 1) * 256)], [...expected.pixels], `${split} row ${i}`);
      }
    }
    if (hasNumpy) {
      const out = spawnSync(
        PYTHON,
        [
          '-c',
          'import os, numpy as np; x = np.load(os.environ["MLLOOP_DEV_IMAGES"]); y = np.load(os.environ["MLLOOP_DEV_LABELS"]); print(x.shape, x.dtype, y.shape, y.dtype)',
        ],
        { env: { ...process.env, ...env }, encoding: 'utf8' },
      );
      assert.equal(out.stdout.trim(), '(4, 1, 16, 16) uint8 (4,) int64', out.stderr);
    }
  } finally {
    p.cleanup();
  }
});

/** image float32 [N, 1, 16, 16] → Flatten → MatMul W [256, 2] → scores [N, 2]: score 0 = sum of the left half, score 1 = of the right half. */
function halvesModel(channels = 1): Uint8Array {
  const b = new OnnxGraphBuilder();
  const input = b.addInput('image', 'float', ['N', channels, 16, 16]);
  const w = b.addInitializer(
    'W',
    Float32Array.from({ length: 512 * channels }, (_, i) => (Math.floor(i / 2) % 16 < 8 === (i % 2 === 0) ? 1 : 0)),
    [256 * channels, 2],
  );
  const [flat] = b.addNode('Flatten', [input], 1, { axis: 1 });
  b.addNode('MatMul', [flat, w], ['scores']);
  b.addOutput('scores', 'float', ['N', 2]);
  return b.build();
}

test('a model.onnx taking `image` float32 [N, C, H, W] is evaluated on the pixels scaled to [0, 1]; a wrong image shape is refused, naming both', async () => {
  const p = await imageProject(imageSpec({ split: { dev: 0.25, seed: 0 } }), ['cat', 'dog'], 8);
  try {
    const dataset = await loadSplitDataset(p.dir);
    const file = join(p.dir, 'model.onnx');
    writeFileSync(file, halvesModel());
    let dev: { classIndex?: Int32Array; probabilities?: Float32Array } | undefined;
    const metrics = await evaluateScriptModel(file, dataset, (pred) => (dev = pred));
    assert.ok(metrics.dev);
    const px = dataset.dev.images!.pixels;
    for (let i = 0; i < dataset.dev.features.n; i++) {
      let left = 0;
      let right = 0;
      for (let k = 0; k < 256; k++) k % 16 < 8 ? (left += px[i * 256 + k] / 255) : (right += px[i * 256 + k] / 255);
      assert.equal(dev!.classIndex![i], right > left ? 1 : 0);
      const pLeft = 1 / (1 + Math.exp(right - left));
      assert.ok(Math.abs(dev!.probabilities![i * 2] - pLeft) < 1e-4);
    }
    writeFileSync(file, halvesModel(3));
    await assert.rejects(
      ScriptModel.load(file, dataset.schema),
      (e: Error) =>
        e instanceof ModelContractError &&
        /"image" is not \[N, 1, 16, 16\]\): expected image float32 \[N, 1, 16, 16\]; the model takes image float32 \[N, 3, 16, 16\]/.test(
          e.message,
        ),
    );
  } finally {
    p.cleanup();
  }
});

test('a script run on a derived image version gets its added images (files under .mlloop/data) in the training inputs', async () => {
  const p = await imageProject(imageSpec({ split: { dev: 0.25, test: 0.25, seed: 2 } }), ['cat', 'dog'], 8);
  const runDir = mkdtempSync(join(tmpdir(), 'mlloop-run-'));
  try {
    const ref = await resolveProject(p.dir);
    const base = await loadSplitDataset(ref);
    const { augmentToVersion } = await import('../../../src/core/analysis/analysis');
    const { writeTags } = await import('../../../src/core/analysis/tags');
    await writeTags(p.dir, { [base.dev.ids[0]]: ['odd'] });
    const v = await augmentToVersion({ projectDir: p.dir, recipe: { source: { tag: 'odd' }, count: 5, seed: 0 } });
    const prepared = await prepareScriptData(ref, runDir, {}, v.id);
    assert.equal(prepared.version.id, v.id);
    assert.equal(prepared.rows.train, base.train.features.n + 5);
    assert.equal(prepared.rows.dev, base.dev.features.n);
    const env = inputEnv(prepared.inputs, runDir);
    const manifest = Papa.parse<Record<string, string>>(readFileSync(env.MLLOOP_TRAIN, 'utf8'), {
      header: true,
      skipEmptyLines: true,
    }).data;
    const added = manifest.filter((r) => r.path.includes(join('.mlloop', 'data', v.id, 'images')));
    assert.equal(added.length, 5);
    assert.ok(added.every((r) => r.label === base.schema.classes![base.dev.y[0]]));
    assert.deepEqual(readNpy(env.MLLOOP_TRAIN_IMAGES).shape, [base.train.features.n + 5, 1, 16, 16]);
  } finally {
    p.cleanup();
  }
});

test('after evaluating a script’s image model ML Loop stamps it with its preprocessing and classes: served, it reads pictures as ML Loop evaluated them', async () => {
  const p = await imageProject(imageSpec({ split: { dev: 0.25, seed: 0 } }), ['cat', 'dog'], 8);
  try {
    const ref = await resolveProject(p.dir);
    const dataset = await loadSplitDataset(ref);
    const runDir = join(p.dir, '.mlloop', 'runs', 'cnn-a1b2c3');
    mkdirSync(runDir, { recursive: true });
    const file = join(runDir, 'model.onnx');
    // A field this ONNX schema does not know (number 99, a varint) survives the stamping byte for byte.
    const unknownField = Buffer.from([0x98, 0x06, 0x2a]);
    writeFileSync(file, Buffer.concat([halvesModel(), unknownField]));
    const metrics = await evaluateScriptRun(ref, runDir, file, dataset.version.id);
    const bytes = readFileSync(file);
    assert.ok(bytes.includes(unknownField));
    const meta = readMetadata(bytes);
    assert.deepEqual(readImageMetadata(meta), {
      input: 'image',
      layout: 'NCHW',
      dtype: 'float32',
      height: 16,
      width: 16,
      channels: 1,
      colour: 'grey',
      resize: 'stretch-bilinear',
      scale: 'unit',
      exif: true,
    });
    assert.equal(meta.classes, JSON.stringify(['cat', 'dog']));
    assert.equal(meta.task, 'classification');
    assert.equal(meta.run_id, 'cnn-a1b2c3');
    assert.equal(meta.data_version, dataset.version.id);
    // Evaluated again, the stamped model gives the same metrics (the stamp changes nothing else).
    assert.deepEqual(await evaluateScriptModel(file, dataset), metrics);
    // Served: a dev picture sent as a PNG body gets the class ML Loop's evaluation predicted for it.
    const server = new InferenceServer({ port: 0, processMetrics: false });
    await server.listen();
    try {
      await server.registry.addVersion('pets', { path: file });
      let dev: { classIndex?: Int32Array } | undefined;
      await evaluateScriptModel(file, dataset, (pred) => (dev = pred));
      for (let i = 0; i < dataset.dev.features.n; i++) {
        const png = readFileSync(join(p.dir, dataset.dev.images!.files[i]));
        const res = await fetch(`${server.url}/v2/models/pets/predict`, {
          method: 'POST',
          headers: { 'Content-Type': 'image/png' },
          body: new Uint8Array(png),
        });
        const body = (await res.json()) as { label: string; probabilities: Record<string, number> };
        assert.equal(body.label, ['cat', 'dog'][dev!.classIndex![i]]);
      }
    } finally {
      await server.close();
    }
  } finally {
    p.cleanup();
  }
});
