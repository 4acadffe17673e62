// The nearest-neighbour search of Error Analysis' detail view (and "find more like these"): exact
// against a plain reference (sort every row by its distance), per class, with planted neighbours;
// pixel rows pooled to fit a budget; an image model's `embedding` output read in batches and chosen
// over the pixels when model.onnx has one; a table of pixel columns searched by its own rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { mulberry32 } from '../../../src/core/data/prng';
import {
  embeddingRows,
  featureNeighbourIndex,
  nearestNeighbours,
  nearestOfEachClass,
  neighbourIndex,
  normaliseRows,
  pixelRows,
  type FeatureRows,
  type NeighbourMetric,
} from '../../../src/core/analysis/imageNeighbours';
import { OnnxGraphBuilder } from '../../../src/core/onnx/builder';

function randomRows(n: number, dim: number, seed: number): FeatureRows {
  const rand = mulberry32(seed);
  return { rows: Float32Array.from({ length: n * dim }, () => rand() * 2 - 1), n, dim };
}

/** Every row's distance computed in float64, sorted (ties by row): the answer the search must give. */
function reference(m: FeatureRows, q: Float32Array, metric: NeighbourMetric, k: number, groups?: number[], g = 0) {
  const all: { row: number; distance: number }[] = [];
  for (let i = 0; i < m.n; i++) {
    if (groups && groups[i] !== g) continue;
    const r = m.rows.subarray(i * m.dim, (i + 1) * m.dim);
    let d: number;
    if (metric === 'l2') d = Math.sqrt(r.reduce((s, v, j) => s + (v - q[j]) ** 2, 0));
    else {
      const dot = r.reduce((s, v, j) => s + v * q[j], 0);
      const nr = Math.sqrt(r.reduce((s, v) => s + v * v, 0));
      const nq = Math.sqrt(q.reduce((s, v) => s + v * v, 0));
      d = 1 - dot / (nr * nq);
    }
    all.push({ row: i, distance: d });
  }
  return all.sort((a, b) => a.distance - b.distance || a.row - b.row).slice(0, k);
}

test('brute force matches the reference for both metrics, per class, with planted neighbours found first', () => {
  const n = 3000;
  const dim = 48;
  const m = randomRows(n, dim, 7);
  const groups = Array.from({ length: n }, (_, i) => i % 5);
  const rand = mulberry32(3);
  for (const metric of ['l2', 'cosine'] as const) {
    for (let t = 0; t < 5; t++) {
      const q = Float32Array.from({ length: dim }, () => rand() * 2 - 1);
      // Planted: three rows of class 2 are the query plus a little noise (cosine: scaled, same direction).
      const planted = [102, 1507, 2812];
      planted.forEach((row, j) =>
        m.rows.set(
          q.map((v) => (metric === 'cosine' ? v * (1 + j) : v) + (j + 1) * 1e-3),
          row * dim,
        ),
      );
      const got = nearestNeighbours(m, q, { k: 4, metric, groups, groupCount: 5 });
      assert.equal(got.length, 5);
      assert.deepEqual(
        got[2].slice(0, 3).map((x) => x.row),
        planted,
        `${metric}: the planted rows, nearest first`,
      );
      for (let g = 0; g < 5; g++) {
        const want = reference(m, q, metric, 4, groups, g);
        assert.deepEqual(
          got[g].map((x) => x.row),
          want.map((x) => x.row),
          `${metric} class ${g}`,
        );
        got[g].forEach((x, j) => assert.ok(Math.abs(x.distance - want[j].distance) < 1e-4));
      }
      // Without groups: one list, the overall nearest.
      const flat = nearestNeighbours(m, q, { k: 6, metric });
      assert.deepEqual(
        flat[0].map((x) => x.row),
        reference(m, q, metric, 6).map((x) => x.row),
      );
    }
  }
});

test('cosine on normalised rows equals cosine on raw rows; excluded rows and group −1 are skipped', () => {
  const m = randomRows(500, 16, 11);
  const q = Array.from(m.rows.subarray(0, 16));
  const raw = nearestNeighbours(m, q, { k: 5, metric: 'cosine', exclude: new Set([0]) });
  const unit = normaliseRows({ ...m, rows: Float32Array.from(m.rows) });
  const fast = nearestNeighbours(unit, q, { k: 5, metric: 'cosine', normalised: true, exclude: new Set([0]) });
  assert.deepEqual(
    fast[0].map((x) => x.row),
    raw[0].map((x) => x.row),
  );
  assert.ok(!raw[0].some((x) => x.row === 0));
  const groups = Array.from({ length: 500 }, (_, i) => (i < 250 ? -1 : 0));
  assert.ok(nearestNeighbours(m, q, { k: 5, metric: 'l2', groups })[0].every((x) => x.row >= 250));
});

test('pixel rows: scaled to [0, 1], pooled by the smallest factor that fits', () => {
  const shape = { height: 4, width: 4, channels: 1 as const };
  const px = Uint8Array.from({ length: 32 }, (_, i) => (i < 16 ? i * 17 : 255 - i));
  const whole = pixelRows(px, 2, shape);
  assert.equal(whole.dim, 16);
  assert.ok(Math.abs(whole.rows[5] - (5 * 17) / 255) < 1e-6);
  const pooled = pixelRows(px, 2, shape, 4);
  assert.equal(pooled.dim, 4);
  // The top-left 2×2 block of image 0: pixels 0, 1, 4, 5.
  assert.ok(Math.abs(pooled.rows[0] - ((0 + 1 + 4 + 5) * 17) / 4 / 255) < 1e-6);
  assert.ok(pooled.rows.buffer instanceof SharedArrayBuffer);
  // 28×28×3 to at most 300 values: factor 2 gives 3×14×14 = 588, factor 3 gives 3×10×10 = 300.
  assert.equal(pixelRows(new Uint8Array(28 * 28 * 3), 1, { height: 28, width: 28, channels: 3 }, 300).dim, 300);
});

test("an image model's `embedding` output is read in batches; a model without one gives undefined", async () => {
  const b = new OnnxGraphBuilder();
  const input = b.addInput('image', 'float', ['N', 1, 4, 4]);
  const [flat] = b.addNode('Flatten', [input], 1, { axis: 1 });
  const w = b.addInitializer(
    'W',
    Float32Array.from({ length: 16 * 3 }, (_, i) => (i % 3 === 0 ? 1 : i % 3 === 1 ? -1 : 0.5)),
    [16, 3],
  );
  b.addNode('MatMul', [flat, w], ['embedding']);
  b.addOutput('embedding', 'float', ['N', 3]);
  const session = await ort.InferenceSession.create(b.build());
  try {
    const n = 5;
    const pixels = Uint8Array.from({ length: n * 16 }, (_, i) => (i * 7) % 256);
    const rows = {
      features: { n, numeric: new Float32Array(0), categories: [] },
      y: new Float64Array(n),
      ids: [],
      rowIndex: new Uint32Array(n),
      images: { pixels, files: [] },
    };
    const e = (await embeddingRows(session, rows, { height: 4, width: 4, channels: 1 }, 2))!;
    assert.equal(e.n, 5);
    assert.equal(e.dim, 3);
    for (let i = 0; i < n; i++) {
      const sum = pixels.subarray(i * 16, (i + 1) * 16).reduce((s, v) => s + v / 255, 0);
      assert.ok(Math.abs(e.rows[i * 3] - sum) < 1e-4);
      assert.ok(Math.abs(e.rows[i * 3 + 1] + sum) < 1e-4);
    }
  } finally {
    await session.release();
  }
  const plain = new OnnxGraphBuilder();
  const x = plain.addInput('image', 'float', ['N', 1, 4, 4]);
  plain.addNode('Flatten', [x], ['scores'], { axis: 1 });
  plain.addOutput('scores', 'float', ['N', 16]);
  const s2 = await ort.InferenceSession.create(plain.build());
  try {
    const rows = {
      features: { n: 1, numeric: new Float32Array(0), categories: [] },
      y: new Float64Array(1),
      ids: [],
      rowIndex: new Uint32Array(1),
      images: { pixels: new Uint8Array(16), files: [] },
    };
    assert.equal(await embeddingRows(s2, rows, { height: 4, width: 4, channels: 1 }), undefined);
  } finally {
    await s2.release();
  }
});

test('a table of pixel columns (data.image over CSV, as digits): its numeric rows are the index, searched by L2', () => {
  const rows = (values: number[][]) => ({
    features: { n: values.length, numeric: Float32Array.from(values.flat()), categories: [] },
    y: Float64Array.from(values.map((_, i) => i % 2)),
    ids: values.map((_, i) => `r${i}`),
    rowIndex: Uint32Array.from(values.map((_, i) => i)),
  });
  const train = rows([
    [0, 0, 16],
    [16, 16, 0],
    [1, 0, 15],
    [15, 16, 1],
  ]);
  const dev = rows([[0, 1, 16]]);
  const index = featureNeighbourIndex({ train, dev, schema: { numeric: ['px0', 'px1', 'px2'] } });
  assert.equal(index.metric, 'l2');
  assert.ok(index.train.rows.buffer instanceof SharedArrayBuffer);
  const byClass = nearestOfEachClass(index, 0, Int32Array.from(train.y), 2, 2);
  assert.deepEqual(
    byClass.map((list) => list.map((x) => x.row)),
    [
      [0, 2],
      [3, 1],
    ],
  );
  assert.ok(Math.abs(byClass[0][0].distance - 1) < 1e-6);
});

test("the index of a run: the model's embedding (cosine, unit rows) when model.onnx has one, else the pixels (L2)", async () => {
  // image [N, 1, 4, 4] → embedding [N, 2] = (sum of the top half, sum of the bottom half), and scores.
  const b = new OnnxGraphBuilder();
  const input = b.addInput('image', 'float', ['N', 1, 4, 4]);
  const [flat] = b.addNode('Flatten', [input], 1, { axis: 1 });
  const w = b.addInitializer(
    'W',
    Float32Array.from({ length: 32 }, (_, i) => (i >> 1 < 8 === (i % 2 === 0) ? 1 : 0)),
    [16, 2],
  );
  b.addNode('MatMul', [flat, w], ['embedding']);
  b.addNode('Identity', ['embedding'], ['scores']);
  b.addOutput('embedding', 'float', ['N', 2]);
  b.addOutput('scores', 'float', ['N', 2]);
  const dir = mkdtempSync(join(tmpdir(), 'mlloop-neighbours-'));
  try {
    const file = join(dir, 'model.onnx');
    writeFileSync(file, b.build());
    const image = (top: number, bottom: number) => Array.from({ length: 16 }, (_, i) => (i < 8 ? top : bottom));
    const rows = (images: number[][]) => ({
      features: { n: images.length, numeric: new Float32Array(0), categories: [] },
      y: new Float64Array(images.length),
      ids: images.map((_, i) => `i${i}`),
      rowIndex: new Uint32Array(images.length),
      images: { pixels: Uint8Array.from(images.flat()), files: [] },
    });
    const shape = { height: 4, width: 4, channels: 1 as const };
    // Train: bright on top (dim and strong), bright below; dev: bright on top, at another brightness.
    const dataset = {
      train: rows([image(40, 0), image(0, 200), image(250, 10)]),
      dev: rows([image(120, 0)]),
      schema: { image: shape },
    };
    const index = (await neighbourIndex(file, dataset))!;
    assert.equal(index.kind, 'embedding');
    assert.equal(index.metric, 'cosine');
    assert.equal(index.train.dim, 2);
    for (let i = 0; i < 3; i++)
      assert.ok(Math.abs(Math.hypot(index.train.rows[i * 2], index.train.rows[i * 2 + 1]) - 1) < 1e-5);
    // By direction: the dim top-bright image has the dev image's direction exactly; the bottom-bright one is farthest.
    const near = nearestNeighbours(index.train, index.dev.rows.subarray(0, 2), {
      k: 3,
      metric: 'cosine',
      normalised: true,
    })[0];
    assert.deepEqual(near.map((x) => x.row).slice(0, 1), [0]);
    assert.ok(near[0].distance < 1e-6 && near[2].row === 1);
    // The same data under a model without an embedding: pixels, L2.
    const plain = new OnnxGraphBuilder();
    const x = plain.addInput('image', 'float', ['N', 1, 4, 4]);
    plain.addNode('Flatten', [x], ['scores'], { axis: 1 });
    plain.addOutput('scores', 'float', ['N', 16]);
    writeFileSync(file, plain.build());
    const pixels = (await neighbourIndex(file, dataset))!;
    assert.equal(pixels.kind, 'pixels');
    assert.equal(pixels.metric, 'l2');
    assert.equal(pixels.train.dim, 16);
    assert.ok(Math.abs(pixels.dev.rows[0] - 120 / 255) < 1e-6);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
