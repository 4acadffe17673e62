// The monitoring reference of a run: per-feature statistics and bins of the training split, and the
// model's predictions and score on dev. Computed where the data and the model are already in memory
// (the training worker; a script run's evaluation) and written beside run.json as reference.json.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FeatureSchema, Rows } from '../data/types';
import type { SplitMetrics } from './metrics';
import type { Prediction } from './types';
import { writeFileAtomic } from './runStore';
import { radixSortFloat32, SortKernel } from './gbdt/binning';

export interface NumericReference {
  kind: 'numeric';
  name: string;
  /** Training rows with a value (not missing). */
  count: number;
  missing: number;
  min: number;
  max: number;
  mean: number;
  std: number;
  /**
   * The training values' distribution as sorted distinct points with their counts (all distinct
   * values when there are at most REFERENCE_POINTS of them, else REFERENCE_POINTS quantiles, each
   * weighted by the rows it stands for). The KS and Wasserstein statistics are computed against it.
   */
  points: number[];
  weights: number[];
  /** Interior PSI bin edges (deciles of the training values); a value v falls in the first bin whose edge is ≥ v. */
  psiEdges: number[];
}

export interface CategoricalReference {
  kind: 'categorical';
  name: string;
  count: number;
  missing: number;
  /** Category → training rows with it. */
  counts: Record<string, number>;
}

export type FeatureReference = NumericReference | CategoricalReference;

export interface PredictionReference {
  /** Classification: predicted class → dev rows; regression: the predicted values' distribution. */
  kind: 'classes' | 'values';
  classes?: Record<string, number>;
  values?: NumericReference;
  /** Classification: mean of the top class probability on dev (for CBPE calibration checks). */
  meanConfidence?: number;
}

/** A seeded sample of the training set's embeddings (the model's `embedding` output), for the domain classifier. */
export interface EmbeddingReference {
  dim: number;
  rows: number;
  /** rows × dim float32, little-endian, base64. */
  data: string;
}

/** Image runs: what the training images were, beside their property distributions in `features`. */
export interface ImageReference {
  /** The model's input (preprocessed images). */
  shape: { height: number; width: number; channels: 1 | 3 };
  /** A few training images (relative to the project folder) shown beside production ones. */
  samples: string[];
  /** Absent when the model has no `embedding` output. */
  embedding?: EmbeddingReference;
  /** Why the embeddings could not be read (the run still completes; monitoring says so). */
  embeddingError?: string;
}

export interface MonitoringReference {
  format: 'mlloop-reference/1';
  task: 'classification' | 'regression';
  target: string;
  /** Class names in the model's order (classification). */
  classes?: string[];
  /**
   * Features in the model's input order: numeric first, then categorical (as the ONNX contract).
   * Image runs: the training images' properties (MONITORED_PROPERTIES, then the stored channels).
   */
  features: FeatureReference[];
  /** Image runs only. */
  image?: ImageReference;
  /** Training rows summarized. */
  rows: number;
  /** The model's predictions on dev (absent when the run had no dev rows). */
  predictions?: PredictionReference;
  /** The dev score live accuracy is compared to: accuracy (classification) or rmse (regression). */
  devScore?: { metric: 'accuracy' | 'rmse'; value: number };
  dataVersion?: string;
  /** 'training': written when the run finished; 'recomputed': computed later from the project's data (older runs). */
  source: 'training' | 'recomputed';
  createdAt: string;
}

/** At most this many points describe a numeric feature (all distinct values when there are fewer). */
export const REFERENCE_POINTS = 2000;
/** PSI bins: deciles of the reference. */
export const PSI_BINS = 10;
export const REFERENCE_FILE = 'reference.json';

/** A numeric feature's reference from its values (NaN = missing). */
export function numericReference(
  name: string,
  values: ArrayLike<number>,
  maxPoints = REFERENCE_POINTS,
  /** Sorts float32 values (sortedPresentFloat32): one kernel for the columns of a reference. */
  sorter?: SortKernel | null,
): NumericReference {
  // Straight into a typed array: a JS array of the present values took seconds on 600,000 rows.
  let sorted: Float64Array | Float32Array;
  if (values instanceof Float32Array) sorted = sortedPresentFloat32(values, sorter);
  else {
    const all = new Float64Array(values.length);
    let k = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (!Number.isNaN(v)) all[k++] = v;
    }
    sorted = all.subarray(0, k).sort();
  }
  const n = sorted.length;
  const missing = values.length - n;
  let mean = 0;
  let distinct = 0;
  for (let i = 0; i < n; i++) {
    mean += sorted[i];
    if (i === 0 || sorted[i] !== sorted[i - 1]) distinct++;
  }
  mean = n ? mean / n : NaN;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (sorted[i] - mean) * (sorted[i] - mean);
  let points: number[] = [];
  let weights: number[] = [];
  if (distinct <= maxPoints) {
    // Distinct values with counts (counted first: a column of distinct values would make an array of all of them).
    for (let i = 0; i < n; i++) {
      if (i > 0 && sorted[i] === sorted[i - 1]) weights[weights.length - 1]++;
      else {
        points.push(sorted[i]);
        weights.push(1);
      }
    }
  } else {
    // Quantiles (the minimum and the maximum included), each weighted by the rows since the previous one.
    const qp: number[] = [];
    const qw: number[] = [];
    let prevIdx = -1;
    for (let j = 0; j < maxPoints; j++) {
      const idx = Math.round((j * (n - 1)) / (maxPoints - 1));
      if (idx <= prevIdx) continue;
      const v = sorted[idx];
      if (qp.length && qp[qp.length - 1] === v) qw[qw.length - 1] += idx - prevIdx;
      else {
        qp.push(v);
        qw.push(idx - prevIdx);
      }
      prevIdx = idx;
    }
    points = qp;
    weights = qw;
  }
  return {
    kind: 'numeric',
    name,
    count: n,
    missing,
    min: n ? sorted[0] : NaN,
    max: n ? sorted[n - 1] : NaN,
    mean,
    std: n ? Math.sqrt(ss / n) : NaN,
    points,
    weights,
    psiEdges: decileEdges(points, weights, n),
  };
}

/**
 * The values that are not NaN, in ascending order (-0 before +0, as a typed array's sort), by the
 * GBDT binning's radix sort over the float32 bits (in WebAssembly where it runs: `sorter`, one for
 * every column of a reference, or a new one): several times faster than sorting a training column
 * of hundreds of thousands of rows by comparisons.
 */
export function sortedPresentFloat32(values: Float32Array, sorter?: SortKernel | null): Float32Array {
  const all = new Float32Array(values.length);
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === v) all[n++] = v;
  }
  const present = all.subarray(0, n);
  const kernel = sorter && sorter.capacity >= n ? sorter : SortKernel.create(n);
  return kernel ? kernel.sort(present) : radixSortFloat32(present, new Float32Array(n));
}

/** Interior edges at the reference's deciles (points, so every value between two points falls in one bin). */
function decileEdges(points: number[], weights: number[], n: number): number[] {
  const edges: number[] = [];
  let cum = 0;
  let q = 1;
  for (let i = 0; i < points.length - 1 && q < PSI_BINS; i++) {
    cum += weights[i];
    if (cum >= (q * n) / PSI_BINS) {
      edges.push(points[i]);
      while (q < PSI_BINS && cum >= (q * n) / PSI_BINS) q++;
    }
  }
  return edges;
}

export function categoricalReference(name: string, values: ArrayLike<string>): CategoricalReference {
  const counts: Record<string, number> = {};
  let missing = 0;
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === '' || v === null || v === undefined) missing++;
    else {
      counts[v] = (counts[v] ?? 0) + 1;
      count++;
    }
  }
  return { kind: 'categorical', name, count, missing, counts };
}

/** Column j of a row-major matrix with `width` columns. */
export function column<T>(data: ArrayLike<T>, n: number, width: number, j: number): T[] {
  const out = new Array<T>(n);
  for (let i = 0; i < n; i++) out[i] = data[i * width + j];
  return out;
}

/** Numeric column j of a row-major matrix with `width` columns. */
function numericColumn(data: Float32Array, n: number, width: number, j: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = data[i * width + j];
  return out;
}

export function predictionReference(schema: FeatureSchema, pred: Prediction, n: number): PredictionReference {
  if (schema.task === 'classification' && pred.classIndex) {
    const classes = schema.classes ?? [];
    const counts: Record<string, number> = Object.fromEntries(classes.map((c) => [c, 0]));
    let conf = 0;
    const C = classes.length;
    for (let i = 0; i < n; i++) {
      const c = classes[pred.classIndex[i]];
      if (c !== undefined) counts[c]++;
      if (pred.probabilities && C) {
        let m = 0;
        for (let k = 0; k < C; k++) m = Math.max(m, pred.probabilities[i * C + k]);
        conf += m;
      }
    }
    return { kind: 'classes', classes: counts, ...(pred.probabilities && n ? { meanConfidence: conf / n } : {}) };
  }
  return { kind: 'values', values: numericReference('prediction', pred.values ?? []) };
}

/** The reference of a model trained on `train`, with its predictions and metrics on dev when there is a dev split. */
export function buildReference(
  schema: FeatureSchema,
  train: Rows,
  dev?: { prediction: Prediction; rows: number; metrics?: SplitMetrics },
  meta: { dataVersion?: string; source?: MonitoringReference['source'] } = {},
): MonitoringReference {
  const n = train.features.n;
  const F = schema.numeric.length;
  const K = schema.categorical.length;
  const sorter = F > 0 ? SortKernel.create(n) : null;
  const features: FeatureReference[] = [
    ...schema.numeric.map((name, j) =>
      numericReference(name, numericColumn(train.features.numeric, n, F, j), REFERENCE_POINTS, sorter),
    ),
    ...schema.categorical.map((name, j) => categoricalReference(name, column(train.features.categories, n, K, j))),
  ];
  const m = dev?.metrics as Record<string, number> | undefined;
  const metric = schema.task === 'classification' ? 'accuracy' : 'rmse';
  return {
    format: 'mlloop-reference/1',
    task: schema.task,
    target: schema.target,
    ...(schema.classes ? { classes: schema.classes } : {}),
    features,
    rows: n,
    ...(dev && dev.rows > 0 ? { predictions: predictionReference(schema, dev.prediction, dev.rows) } : {}),
    ...(m && Number.isFinite(m[metric]) ? { devScore: { metric, value: m[metric] } } : {}),
    ...(meta.dataVersion ? { dataVersion: meta.dataVersion } : {}),
    source: meta.source ?? 'training',
    createdAt: new Date().toISOString(),
  };
}

/** Float32 rows as stored in an EmbeddingReference, and back. */
export function encodeEmbeddings(data: Float32Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
}
export function decodeEmbeddings(e: EmbeddingReference): Float32Array {
  const b = Buffer.from(e.data, 'base64');
  const out = new Float32Array(b.length / 4);
  new Uint8Array(out.buffer).set(b);
  if (out.length !== e.rows * e.dim)
    throw new Error(`reference.json: image.embedding holds ${out.length} values, not rows × dim = ${e.rows * e.dim}`);
  return out;
}

export function writeReference(runDir: string, reference: MonitoringReference): void {
  writeFileAtomic(join(runDir, REFERENCE_FILE), JSON.stringify(reference) + '\n');
}

export function readReference(runDir: string): MonitoringReference | undefined {
  try {
    const r = JSON.parse(readFileSync(join(runDir, REFERENCE_FILE), 'utf8')) as MonitoringReference;
    return r && r.format === 'mlloop-reference/1' && Array.isArray(r.features) ? r : undefined;
  } catch {
    return undefined;
  }
}
