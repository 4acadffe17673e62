// Slice discovery finds a planted slice: generated data whose labels are flipped where x2 is in its
// top quarter; a real logistic model (which cannot learn the flip) errs there, and the top slice
// found is that range of x2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../../../src/core/data/prng';
import type { FeatureSchema, Rows } from '../../../src/core/data/types';
import { buildErrorTable } from '../../../src/core/analysis/errorTable';
import { findSlices, inSlice, parseSliceKey, pixelFeaturesOf, sliceKey } from '../../../src/core/analysis/slices';
import { getTrainer } from '../../../src/core/train/registry';

const schema: FeatureSchema = { task: 'classification', target: 'y', numeric: ['x0', 'x1', 'x2', 'x3'], categorical: ['color'], classes: ['a', 'b'] };

function generate(n: number, seed: number): Rows {
  const rand = mulberry32(seed);
  const numeric = new Float32Array(n * 4);
  const categories: string[] = [];
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < 4; f++) numeric[i * 4 + f] = rand();
    categories.push(['red', 'green', 'blue'][Math.floor(rand() * 3)]);
    const clean = numeric[i * 4] + numeric[i * 4 + 1] > 1 ? 1 : 0;
    y[i] = numeric[i * 4 + 2] > 0.75 ? 1 - clean : clean; // the planted slice
  }
  return { features: { n, numeric, categories }, y, ids: Array.from({ length: n }, (_, i) => `r${seed}-${i}`), rowIndex: Uint32Array.from({ length: n }, (_, i) => i) };
}

test('the planted slice (x2 in its top quarter, labels flipped) ranks first', async () => {
  const train = generate(3000, 1);
  const dev = generate(2000, 2);
  const model = await getTrainer('logistic')({ schema, train, dev, params: { l2: 1e-4, maxIter: 200, tol: 1e-6 }, seed: 0 });
  const table = buildErrorTable(schema, dev, model.predict(dev.features));
  const slices = findSlices(schema, dev, table);
  const top = slices[0];
  assert.equal(top.conditions.length, 1, top.label);
  const c = top.conditions[0];
  assert.ok(c.feature === 'x2' && c.kind === 'range' && c.gt !== undefined && Math.abs(c.gt - 0.75) < 0.03 && c.le === undefined, top.label);
  assert.ok(top.lift > 2.5, `lift ${top.lift}`);
  assert.ok(top.shareOfErrors > 0.7, `share ${top.shareOfErrors}`);
  assert.ok(Math.abs(top.support - 500) < 60, `support ${top.support}`);
  // The counts are those of the rows the slice's conditions select.
  let support = 0;
  let errors = 0;
  for (let i = 0; i < dev.features.n; i++) if (inSlice(schema, dev, i, top.conditions)) (support++, (errors += table.wrong[i]));
  assert.deepEqual([support, errors], [top.support, top.errors]);
  // Uninformative features hold no slice above noise near the top.
  assert.ok(!slices.slice(0, 3).some((s) => s.conditions.every((k) => k.feature === 'x3' || k.feature === 'color')));
  // Ranked by excess errors.
  for (let i = 1; i < slices.length; i++) assert.ok(slices[i - 1].excessErrors >= slices[i].excessErrors);
});

test('slice keys round-trip (ranges, open ends, categories, missing)', () => {
  const conditions = [
    { feature: 'x', kind: 'range', gt: 0.5, le: 2 },
    { feature: 'y', kind: 'range', le: -1.5e-3 },
    { feature: 'c', kind: 'value', value: 'a&b' },
    { feature: 'z', kind: 'missing' },
  ] as const;
  assert.deepEqual(parseSliceKey(sliceKey([...conditions])), conditions);
  assert.deepEqual(parseSliceKey('color="red"'), [{ feature: 'color', kind: 'value', value: 'red' }]);
  assert.throws(() => parseSliceKey('nonsense'), /Not a slice/);
});

test('an image project gets no pixel-threshold slices: only its other columns are sliced', async () => {
  const train = generate(1500, 3);
  const dev = generate(1000, 4);
  const model = await getTrainer('logistic')({ schema, train, dev, params: { l2: 1e-4, maxIter: 100, tol: 1e-6 }, seed: 0 });
  const table = buildErrorTable(schema, dev, model.predict(dev.features));
  assert.ok(findSlices(schema, dev, table).some((s) => s.conditions.some((c) => c.kind === 'range')), 'tabular data is sliced on its numbers');
  const pixels = pixelFeaturesOf(schema, { width: 2, height: 2 });
  assert.deepEqual(pixels, ['x0', 'x1', 'x2', 'x3']);
  assert.deepEqual(pixelFeaturesOf(schema, undefined), []);
  const slices = findSlices(schema, dev, table, { pixelFeatures: pixels, minSupport: 5 });
  assert.ok(slices.every((s) => s.conditions.every((c) => c.feature === 'color')), slices.map((s) => s.label).join('; '));
});
