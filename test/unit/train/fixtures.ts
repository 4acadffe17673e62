// Small datasets built by hand for the training tests (src/core/data owns real loading).
import { readFileSync } from 'node:fs';
import type { FeatureSchema, Rows, SplitDataset } from '../../../src/core/data/types';
import { mulberry32 } from '../../../src/core/data/prng';

export function rows(numeric: ArrayLike<number>, y: ArrayLike<number>, categories: string[] = []): Rows {
  const n = y.length;
  return {
    features: { n, numeric: Float32Array.from(numeric), categories },
    y: Float64Array.from(y),
    ids: Array.from({ length: n }, (_, i) => `r${i}`),
    rowIndex: Uint32Array.from({ length: n }, (_, i) => i),
  };
}

/** Takes every row whose index i satisfies pick(i). */
function subset(all: Rows, F: number, K: number, pick: (i: number) => boolean): Rows {
  const idx = [...Array(all.y.length).keys()].filter(pick);
  const numeric = idx.flatMap((i) => Array.from(all.features.numeric.subarray(i * F, (i + 1) * F)));
  const cats = idx.flatMap((i) => all.features.categories.slice(i * K, (i + 1) * K));
  return rows(
    numeric,
    idx.map((i) => all.y[i]),
    cats,
  );
}

/** Deterministic split by row index: i % 5 == 3 → dev, i % 5 == 4 → test, else train. */
export function splitByIndex(schema: FeatureSchema, all: Rows, id = 'fixture'): SplitDataset {
  const F = schema.numeric.length;
  const K = schema.categorical.length;
  return {
    schema,
    train: subset(all, F, K, (i) => i % 5 < 3),
    dev: subset(all, F, K, (i) => i % 5 === 3),
    test: subset(all, F, K, (i) => i % 5 === 4),
    version: { fileHash: id, splitHash: 'by-index', id },
  };
}

/** A CSV of the shared datasets, numeric features + a string class column last. */
export function readClassificationCsv(path: string): SplitDataset {
  const lines = readFileSync(path, 'utf8').trim().split(/\r?\n/);
  const header = lines[0].split(',');
  const F = header.length - 1;
  const labels = lines.slice(1).map((l) => l.slice(l.lastIndexOf(',') + 1));
  const classes = [...new Set(labels)].sort();
  const numeric: number[] = [];
  for (const l of lines.slice(1)) numeric.push(...l.split(',').slice(0, F).map(Number));
  const schema: FeatureSchema = {
    task: 'classification',
    target: header[F],
    numeric: header.slice(0, F),
    categorical: [],
    classes,
  };
  return splitByIndex(
    schema,
    rows(
      numeric,
      labels.map((c) => classes.indexOf(c)),
    ),
    path,
  );
}

/** Deterministic pseudo-random numbers in [0, 1). */
export const prng = mulberry32;

/** Regression with a categorical column and missing values: y = 2a − b + (color effect) + noise. */
export function mixedRegression(n = 300, seed = 1): SplitDataset {
  const r = prng(seed);
  const colors = ['red', 'green', 'blue'];
  const effect: Record<string, number> = { red: 1, green: -1, blue: 0, '': 0.5 };
  const numeric: number[] = [];
  const cats: string[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = r() * 4;
    const b = r() * 2 - 1;
    const c = r() < 0.1 ? '' : colors[Math.floor(r() * 3)];
    numeric.push(a, r() < 0.1 ? NaN : b);
    cats.push(c);
    y.push(2 * a - b + effect[c] + (r() - 0.5) * 0.2);
  }
  const schema: FeatureSchema = { task: 'regression', target: 'y', numeric: ['a', 'b'], categorical: ['color'] };
  return splitByIndex(schema, rows(numeric, y, cats), `mixed-${seed}`);
}

/** Linearly separable binary classification (n × F): logistic with l2 = 0 keeps improving for a long time. */
export function separable(n: number, F: number, seed = 3): SplitDataset {
  const r = prng(seed);
  const numeric: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < F; j++) {
      const v = r() * 2 - 1;
      numeric.push(v);
      s += (j % 2 ? 1 : -1) * v;
    }
    y.push(s > 0 ? 1 : 0);
  }
  const schema: FeatureSchema = {
    task: 'classification',
    target: 'y',
    numeric: Array.from({ length: F }, (_, j) => `x${j}`),
    categorical: [],
    classes: ['neg', 'pos'],
  };
  return splitByIndex(schema, rows(numeric, y), `sep-${n}-${F}-${seed}`);
}

/** Noisy multi-class problem large enough that logistic regression takes many seconds to converge. */
export function noisyMulticlass(n: number, F: number, classes: number, seed = 5): SplitDataset {
  const r = prng(seed);
  const numeric = new Float32Array(n * F);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestV = -Infinity;
    for (let j = 0; j < F; j++) numeric[i * F + j] = r() * 2 - 1;
    for (let c = 0; c < classes; c++) {
      const v = numeric[i * F + (c % F)] + numeric[i * F + ((c * 7 + 3) % F)] + r();
      if (v > bestV) {
        bestV = v;
        best = c;
      }
    }
    y[i] = best;
  }
  const schema: FeatureSchema = {
    task: 'classification',
    target: 'y',
    numeric: Array.from({ length: F }, (_, j) => `x${j}`),
    categorical: [],
    classes: Array.from({ length: classes }, (_, c) => `c${c}`),
  };
  const all: Rows = { features: { n, numeric, categories: [] }, y, ids: [], rowIndex: new Uint32Array(0) };
  // Train on everything (the point is the duration), evaluate on a small slice.
  return {
    schema,
    train: all,
    dev: rows(numeric.subarray(0, 10 * F), y.subarray(0, 10)),
    test: rows([], []),
    version: { fileHash: 'noisy', splitHash: 'all', id: 'noisy' },
  };
}

/** mixedRegression's rows with the target cut into three classes (categorical + missing values, classification). */
export function mixedClassification(n = 300, seed = 2): SplitDataset {
  const d = mixedRegression(n, seed);
  const classes = ['high', 'low', 'mid'];
  const cut = (v: number) => (v < 2 ? 1 : v < 5 ? 2 : 0);
  const relabel = (r: Rows): Rows => ({ ...r, y: r.y.map(cut) });
  return {
    schema: { ...d.schema, task: 'classification', classes },
    train: relabel(d.train),
    dev: relabel(d.dev),
    test: relabel(d.test),
    version: { ...d.version, id: `mixedc-${seed}` },
  };
}
