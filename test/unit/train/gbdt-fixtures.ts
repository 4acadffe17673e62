// A seeded generated classification set for the gbdt tests and the training benchmarks (hand-built
// rows and the shared CSV reader are in fixtures.ts), and random ensembles for the prediction tests.

import { mulberry32 } from '../../../src/core/data/prng';
import { GbdtCore } from '../../../src/core/train/gbdt/model';
import { TreeBuilder, type Tree } from '../../../src/core/train/gbdt/tree';

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

/**
 * A random ensemble of `nTrees` trees over d columns adding to k score columns in turn (k = 1:
 * regression), with rows to score: unbalanced trees of 1 to 40 leaves (single leaves included),
 * NaN going either way, and row values drawn from the thresholds themselves (ties with x <= t),
 * NaN, ±Infinity and -0.
 */
export function randomForest(
  nTrees: number,
  d: number,
  k: number,
  n: number,
  seed: number,
): { core: GbdtCore; X: Float32Array } {
  const rand = mulberry32(seed);
  const values = Float32Array.from({ length: 64 }, () => (rand() - 0.5) * 8);
  const trees: Tree[] = [];
  for (let t = 0; t < nTrees; t++) {
    const b = new TreeBuilder();
    const leaves = [b.addLeaf((rand() - 0.5) * 0.2)];
    const splits = Math.floor(rand() * 40);
    for (let s = 0; s < splits; s++) {
      // Mostly the newest leaves: deep, unbalanced trees, as leaf-wise growth makes them.
      const at = rand() < 0.7 ? leaves.length - 1 - Math.floor(rand() * 2) : Math.floor(rand() * leaves.length);
      const [node] = leaves.splice(Math.max(0, at), 1);
      const children = b.split(node, Math.floor(rand() * d), values[Math.floor(rand() * values.length)], rand() < 0.5);
      for (const c of children) b.setValue(c, (rand() - 0.5) * 0.2);
      leaves.push(...children);
    }
    trees.push(b.freeze());
  }
  const special = [NaN, Infinity, -Infinity, -0, 0];
  const X = Float32Array.from({ length: n * d }, () =>
    rand() < 0.1 ? special[Math.floor(rand() * special.length)] : values[Math.floor(rand() * values.length)],
  );
  const base = Float32Array.from({ length: k }, () => rand() - 0.5);
  const target = Int32Array.from(trees, (_, t) => t % k);
  return { core: new GbdtCore(k === 1 ? 'regression' : 'classification', d, trees, target, base), X };
}
