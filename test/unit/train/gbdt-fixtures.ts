// Test data for the gbdt tests: hand-built rows, a tiny reader for the public CSVs in
// /work/shared/datasets (test-only; the product loads data through src/core/data), and seeded
// generated sets.

import { readFileSync } from 'node:fs';
import type { FeatureSchema, Rows } from '../../../src/core/data/types';
import { mulberry32 } from '../../../src/core/train/gbdt/random';

export function makeRows(numeric: ArrayLike<number>, y: ArrayLike<number>, categories: string[] = []): Rows {
  const n = y.length;
  return {
    features: { n, numeric: Float32Array.from(numeric), categories },
    y: Float64Array.from(y),
    ids: Array.from({ length: n }, (_, i) => String(i)),
    rowIndex: Uint32Array.from({ length: n }, (_, i) => i),
  };
}

export const emptyRows = (): Rows => makeRows([], []);

export interface CsvSet {
  schema: FeatureSchema;
  train: Rows;
  dev: Rows;
}

/** Reads a numeric CSV with a string target column and splits it: every `devEvery`-th row goes to dev (0: no dev rows). */
export function readClassificationCsv(path: string, target: string, devEvery = 5): CsvSet {
  const lines = readFileSync(path, 'utf8').trim().split(/\r?\n/);
  const header = lines[0].split(',');
  const t = header.indexOf(target);
  const numeric = header.filter((_, j) => j !== t);
  const cells = lines.slice(1).map((l) => l.split(','));
  const classes = [...new Set(cells.map((c) => c[t]))].sort();
  const parts = { train: { x: [] as number[], y: [] as number[] }, dev: { x: [] as number[], y: [] as number[] } };
  cells.forEach((c, i) => {
    const part = devEvery > 0 && i % devEvery === 0 ? parts.dev : parts.train;
    for (let j = 0; j < c.length; j++) if (j !== t) part.x.push(Number(c[j]));
    part.y.push(classes.indexOf(c[t]));
  });
  return {
    schema: { task: 'classification', target, numeric, categorical: [], classes },
    train: makeRows(parts.train.x, parts.train.y),
    dev: makeRows(parts.dev.x, parts.dev.y),
  };
}

/**
 * n rows × f features, uniform in [-2, 2]; binary class from a nonlinear rule of the first
 * features with label noise; `missingRate` of the values replaced by NaN.
 */
export function generatedClassification(n: number, f: number, seed: number, missingRate = 0): { X: Float32Array; y: Float64Array } {
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
