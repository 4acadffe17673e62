// Drift of an image model's embeddings, judged by a domain classifier (as Evidently does for
// embeddings): a logistic regression learns to tell the training set's embeddings (reference) from
// the window's (current) on one half of each, and its ROC AUC on the other half measures how
// separable they are. 0.5: indistinguishable; above the threshold: the production images look
// different to the model. Balanced, seeded samples, so the same inputs give the same verdict.
import { mulberry32, randomIndices } from '../data/prng';
import { fitLogistic } from '../train/logistic';

export interface EmbeddingDrift {
  method: 'domain-classifier';
  /** ROC AUC of the classifier on the held-out rows. */
  rocAuc: number;
  /**
   * Drift when rocAuc is above this: Evidently's 0.55, raised on small windows to the AUC a classifier
   * that learned nothing exceeds with 1 % probability (the Mann–Whitney null), so noise does not alarm.
   */
  threshold: number;
  drifted: boolean;
  /** Embeddings compared (each side balanced to the smaller one). */
  referenceRows: number;
  currentRows: number;
  /** Rows per side the classifier was scored on. */
  heldOut: number;
  dim: number;
}

/** Evidently's threshold for the domain classifier's ROC AUC. */
export const EMBEDDING_AUC_THRESHOLD = 0.55;
/** Fewer current embeddings than this: no verdict. */
export const MIN_EMBEDDING_ROWS = 10;
/** Rows per side at most (a seeded sample past that). */
const MAX_ROWS = 1000;
/** One-sided 99 % quantile of the standard normal. */
const Z99 = 2.3263;

/** Mann–Whitney ROC AUC of scores (positives = label 1), ties counted half. */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++)
      if (labels[order[k]] === 1) {
        rankSum += rank;
        pos++;
      }
    i = j + 1;
  }
  const neg = n - pos;
  if (!pos || !neg) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** The domain classifier's verdict on reference vs current embeddings (row-major [rows, dim]). */
export function embeddingDrift(
  reference: Float32Array,
  current: Float32Array,
  dim: number,
  opts: { threshold?: number; seed?: number } = {},
): EmbeddingDrift | undefined {
  const nr = reference.length / dim;
  const nc = current.length / dim;
  const m = Math.min(nr, nc, MAX_ROWS);
  if (m < MIN_EMBEDDING_ROWS) return undefined;
  const random = mulberry32(opts.seed ?? 0);
  const refRows = randomIndices(nr, nr, random).subarray(0, m);
  const curRows = randomIndices(nc, nc, random).subarray(0, m);
  const half = Math.floor(m / 2);
  const test = m - half;
  // Train: the first half of each side; test: the rest. Standardized with the training half's moments.
  const rowOf = (k: number, side: 0 | 1) =>
    (side ? current : reference).subarray(
      (side ? curRows : refRows)[k] * dim,
      ((side ? curRows : refRows)[k] + 1) * dim,
    );
  const mean = new Float64Array(dim);
  const sq = new Float64Array(dim);
  for (const side of [0, 1] as const)
    for (let k = 0; k < half; k++) {
      const r = rowOf(k, side);
      for (let d = 0; d < dim; d++) {
        mean[d] += r[d];
        sq[d] += r[d] * r[d];
      }
    }
  const std = new Float64Array(dim);
  for (let d = 0; d < dim; d++) {
    mean[d] /= 2 * half;
    std[d] = Math.sqrt(Math.max(sq[d] / (2 * half) - mean[d] * mean[d], 0)) || 1;
  }
  const fill = (from: number, count: number) => {
    const X = new Float32Array(2 * count * dim);
    const y = new Float64Array(2 * count);
    for (const side of [0, 1] as const)
      for (let k = 0; k < count; k++) {
        const r = rowOf(from + k, side);
        const o = (side * count + k) * dim;
        for (let d = 0; d < dim; d++) X[o + d] = (r[d] - mean[d]) / std[d];
        y[side * count + k] = side;
      }
    return { X, y };
  };
  const tr = fill(0, half);
  const fit = fitLogistic(tr.X, 2 * half, dim, tr.y, 2, { l2: 1e-2, maxIter: 200, tol: 1e-6, pass: 'js' });
  const te = fill(half, test);
  const scores = new Float64Array(2 * test);
  for (let i = 0; i < 2 * test; i++) {
    let z = fit.bias[0];
    for (let d = 0; d < dim; d++) z += fit.weights[d] * te.X[i * dim + d];
    scores[i] = z;
  }
  const auc = rocAuc(scores, te.y);
  const threshold = Math.max(
    opts.threshold ?? EMBEDDING_AUC_THRESHOLD,
    0.5 + Z99 * Math.sqrt((2 * test + 1) / (12 * test * test)),
  );
  return {
    method: 'domain-classifier',
    rocAuc: auc,
    threshold,
    drifted: auc > threshold,
    referenceRows: m,
    currentRows: m,
    heldOut: test,
    dim,
  };
}
