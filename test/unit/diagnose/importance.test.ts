// Permutation importance: the feature the target depends on matters, a noise feature does not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { permutationImportance } from '../../../src/core/diagnose/importance';
import type { RawFeatures } from '../../../src/core/data/types';
import { prng, rows } from '../train/fixtures';

test('shuffling the informative feature raises the error; shuffling noise does not', async () => {
  const rand = prng(1);
  const n = 400;
  const numeric: number[] = [];
  const y: number[] = [];
  const cats: string[] = [];
  for (let i = 0; i < n; i++) {
    const signal = rand();
    numeric.push(signal, rand());
    cats.push(rand() < 0.5 ? 'a' : 'b');
    y.push(signal > 0.5 ? 1 : 0);
  }
  // A "model" that thresholds feature 0: perfect on this data.
  const predict = async (x: RawFeatures) => {
    const classIndex = new Int32Array(x.n);
    const probabilities = new Float32Array(x.n * 2);
    for (let i = 0; i < x.n; i++) {
      const c = x.numeric[i * 2] > 0.5 ? 1 : 0;
      classIndex[i] = c;
      probabilities[i * 2 + c] = 0.9;
      probabilities[i * 2 + 1 - c] = 0.1;
    }
    return { classIndex, probabilities };
  };
  const r = await permutationImportance({
    rows: rows(numeric, y, cats),
    numeric: ['signal', 'noise'],
    categorical: ['colour'],
    task: 'classification',
    classes: 2,
    metric: 'accuracy',
    predict,
    repeats: 3,
  });
  assert.equal(r.baseError, 0);
  assert.equal(r.features[0].feature, 'signal');
  // Shuffling a perfect predictor's only input gives about 50 % error.
  assert.ok(r.features[0].importance > 0.4 && r.features[0].importance < 0.6, String(r.features[0].importance));
  for (const f of r.features.slice(1)) assert.equal(f.importance, 0, f.feature);
  const capped = await permutationImportance({
    rows: rows(numeric, y, cats),
    numeric: ['signal', 'noise'],
    categorical: ['colour'],
    task: 'classification',
    classes: 2,
    metric: 'accuracy',
    predict,
    repeats: 1,
    maxRows: 100,
  });
  assert.equal(capped.rows, 100);
  assert.equal(capped.features[0].feature, 'signal');
});
