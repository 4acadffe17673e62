// The nearest-neighbour search of Error Analysis' detail view (and "find more like these"): exact
// against a plain reference (sort every row by its distance), per class, with planted neighbours;
// pixel rows pooled to fit a budget; an image model's `embedding` output read in batches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { mulberry32 } from '../../../src/core/data/prng';
import {
  embeddingRows,
  nearestNeighbours,
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
