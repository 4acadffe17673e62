// A seeded generated classification set for the gbdt tests and the training benchmarks (hand-built
// rows and the shared CSV reader are in fixtures.ts).

import { mulberry32 } from '../../../src/core/data/prng';

/**
 * n rows × f features, uniform in [-2, 2]; binary class from a nonlinear rule of the first
 * features with label noise; `missingRate` of the values replaced by NaN.
 */
export function generatedClassification(
  n: number,
  f: number,
  seed: number,
  missingRate = 0,
): { X: Float32Array; y: Float64Array } {
  const rand = mulberry32(seed);
  const X = new Float32Array(n * f);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < f; j++) X[i * f + j] = rand() * 4 - 2;
    const r = i * f;
    const z = X[r] * X[r + 1] + Math.sin(2 * X[r + 2]) + 0.5 * X[r + 3] - (f > 4 ? 0.3 * X[r + 4] ** 2 : 0);
    y[i] = z + 0.3 * (rand() - 0.5) > 0 ? 1 : 0;
    for (let j = 0; j < f; j++) if (rand() < missingRate) X[r + j] = NaN;
  }
  return { X, y };
}

/**
 * n rows × f features (f >= 3), uniform in [-2, 2]; k classes (k <= f): the class c whose score
 * X[c] + 0.5 · X[c + 1] · X[c + 2] (indices mod f) plus noise is the largest.
 */
export function generatedMulticlass(
  n: number,
  f: number,
  k: number,
  seed: number,
): { X: Float32Array; y: Float64Array } {
  const rand = mulberry32(seed);
  const X = new Float32Array(n * f);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = i * f;
    for (let j = 0; j < f; j++) X[r + j] = rand() * 4 - 2;
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < k; c++) {
      const s = X[r + c] + 0.5 * X[r + ((c + 1) % f)] * X[r + ((c + 2) % f)] + 0.4 * (rand() - 0.5);
      if (s > bestScore) {
        bestScore = s;
        best = c;
      }
    }
    y[i] = best;
  }
  return { X, y };
}
