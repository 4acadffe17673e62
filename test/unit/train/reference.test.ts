// The monitoring reference's numeric summaries: a training column (float32) takes the radix-sort path,
// any other input the comparison sort; both must give the same reference, value for value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../../../src/core/data/prng';
import { numericReference, sortedPresentFloat32 } from '../../../src/core/train/reference';
import { SortKernel } from '../../../src/core/train/gbdt/binning';

function column(n: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  const special = [NaN, -0, 0, Infinity, -Infinity, 1e-45, -1e-45, 3.4e38, -3.4e38, 1, -1];
  return Float32Array.from({ length: n }, () => {
    const r = rand();
    if (r < 0.05) return special[Math.floor(rand() * special.length)];
    if (r < 0.5) return Math.round(rand() * 20 - 10); // repeated values
    return (rand() - 0.5) * 10 ** Math.floor(rand() * 12 - 6);
  });
}

test('sortedPresentFloat32 is the values without NaN in typed-array sort order (-0 before +0)', () => {
  for (const seed of [1, 2, 3]) {
    const x = column(20_000, seed);
    const expected = Float32Array.from(Array.from(x).filter((v) => !Number.isNaN(v))).sort();
    const got = sortedPresentFloat32(x);
    assert.equal(got.length, expected.length);
    assert.ok(
      got.every((v, i) => Object.is(v, expected[i])),
      'same values in the same order, signed zeros included',
    );
  }
  assert.deepEqual(Array.from(sortedPresentFloat32(new Float32Array([NaN, NaN]))), []);
  assert.deepEqual(Array.from(sortedPresentFloat32(Float32Array.of(2, -0, 0, -3))).map(String), ['-3', '0', '0', '2']);
  assert.ok(Object.is(sortedPresentFloat32(Float32Array.of(0, -0))[0], -0));
  // A kernel shared by a reference's columns; one too small for a column is not used for it.
  const x = column(20_000, 4);
  const expected = Float32Array.from(Array.from(x).filter((v) => !Number.isNaN(v))).sort();
  for (const sorter of [SortKernel.create(20_000), SortKernel.create(10)])
    assert.ok(sortedPresentFloat32(x, sorter).every((v, i) => Object.is(v, expected[i])));
  // A view into a larger buffer (a subarray) reads its own rows only.
  const big = Float32Array.of(9, 3, 1, 2, 9);
  assert.deepEqual(Array.from(sortedPresentFloat32(big.subarray(1, 4))), [1, 2, 3]);
});

test('numericReference of a float32 column equals the reference of the same values as numbers', () => {
  for (const [n, points] of [
    [5000, 2000],
    [300, 2000],
    [5000, 50],
  ]) {
    const x = column(n, n + points);
    assert.deepEqual(numericReference('x', x, points), numericReference('x', Array.from(x), points));
  }
});
