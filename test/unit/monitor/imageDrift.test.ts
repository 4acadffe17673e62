// The domain classifier behind embedding drift: ROC AUC of a logistic regression telling the training
// embeddings from the window's, on held-out rows, against Evidently's threshold (raised on small windows).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { embeddingDrift, rocAuc } from '../../../src/core/monitor/embeddingDrift';
import { mulberry32 } from '../../../src/core/data/prng';

test('rocAuc: the Mann–Whitney statistic, ties counted half', () => {
  assert.equal(rocAuc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]), 1);
  assert.equal(rocAuc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]), 0);
  assert.equal(rocAuc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1]), 0.5);
  assert.equal(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75);
});

function gaussian(n: number, dim: number, shift: number, seed: number): Float32Array {
  const random = mulberry32(seed);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < out.length; i++) {
    const u = Math.max(random(), 1e-12);
    out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random()) + (i % dim === 0 ? shift : 0);
  }
  return out;
}

test('embeddingDrift: same distribution → AUC near 0.5, no drift; one shifted dimension → drift; seeded', () => {
  const ref = gaussian(1200, 16, 0, 1);
  const same = embeddingDrift(ref, gaussian(1000, 16, 0, 2), 16)!;
  assert.ok(Math.abs(same.rocAuc - 0.5) < 0.05, `AUC ${same.rocAuc}`);
  assert.equal(same.drifted, false);
  // Large windows: Evidently's threshold.
  assert.equal(same.threshold, 0.55);
  assert.equal(same.currentRows, 1000);
  const shifted = embeddingDrift(ref, gaussian(400, 16, 1.5, 3), 16)!;
  assert.ok(shifted.rocAuc > 0.8, `AUC ${shifted.rocAuc}`);
  assert.equal(shifted.drifted, true);
  assert.ok(shifted.threshold > 0.55 && shifted.threshold < 0.6);
  assert.deepEqual(embeddingDrift(ref, gaussian(400, 16, 1.5, 3), 16), shifted);
  // A small window raises the threshold to what chance reaches (no verdict below 10 rows).
  assert.ok(embeddingDrift(ref, gaussian(20, 16, 0, 4), 16)!.threshold > 0.7);
  assert.equal(embeddingDrift(ref, gaussian(9, 16, 0, 4), 16), undefined);
});
