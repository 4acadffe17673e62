// Feature binning for histogram GBDT: per dense column, at most `maxBins` bins delimited by float32
// thresholds learned from the training split, plus one dedicated bin for missing values (NaN).
//
// A value x falls in bin b = the first b with x <= thresholds[b] (the last bin takes everything
// above). Splitting "bins 0..t go left" is therefore exactly the test `x <= thresholds[t]`, which
// is what ONNX's BRANCH_LEQ evaluates in float32: thresholds are float32 values, so the trainer,
// predictDense and onnxruntime agree on every row.

import { mulberry32 } from './random';

/** Rows used to find bin edges; above this a seeded subsample is taken (as scikit-learn does). */
const EDGE_SAMPLE = 200_000;

export class BinMapper {
  private constructor(
    /** Per column: ascending float32 thresholds, nBins[f] - 1 of them. */
    readonly thresholds: Float32Array[],
    /** Per column: the number of non-missing bins (>= 1). The missing bin's index is nBins[f]. */
    readonly nBins: Uint16Array,
  ) {}

  get nFeatures(): number {
    return this.nBins.length;
  }

  /** Learns the bin thresholds of each column of X (n rows × d columns, row-major). */
  static fit(X: Float32Array, n: number, d: number, maxBins: number, seed: number): BinMapper {
    const sampleRows = sampleRowIndices(n, seed);
    const m = sampleRows.length;
    const column = new Float32Array(m);
    const thresholds: Float32Array[] = [];
    const nBins = new Uint16Array(d);
    for (let f = 0; f < d; f++) {
      let k = 0;
      for (let i = 0; i < m; i++) {
        const v = X[sampleRows[i] * d + f];
        if (v === v) column[k++] = v;
      }
      const t = columnThresholds(column.subarray(0, k).sort(), maxBins);
      thresholds.push(t);
      nBins[f] = t.length + 1;
    }
    return new BinMapper(thresholds, nBins);
  }

  /** Bin index of each value, column-major (`out[f * n + i]`), missing values in bin nBins[f]. */
  transform(X: Float32Array, n: number): Uint8Array {
    const d = this.nFeatures;
    const out = new Uint8Array(n * d);
    for (let f = 0; f < d; f++) {
      const t = this.thresholds[f];
      const missingBin = this.nBins[f];
      const base = f * n;
      for (let i = 0; i < n; i++) {
        const v = X[i * d + f];
        if (v !== v) {
          out[base + i] = missingBin;
          continue;
        }
        // First threshold >= v (binary search).
        let lo = 0;
        let hi = t.length;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (v <= t[mid]) hi = mid;
          else lo = mid + 1;
        }
        out[base + i] = lo;
      }
    }
    return out;
  }

  /** The float32 threshold for "bins 0..bin go left"; +Infinity when every non-missing bin goes left. */
  threshold(feature: number, bin: number): number {
    const t = this.thresholds[feature];
    return bin < t.length ? t[bin] : Infinity;
  }
}

function sampleRowIndices(n: number, seed: number): Uint32Array {
  const all = new Uint32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  if (n <= EDGE_SAMPLE) return all;
  // Partial Fisher-Yates with a seeded generator, then sorted for cache-friendly reads.
  const rand = mulberry32(seed ^ 0x5bd1e995);
  for (let i = 0; i < EDGE_SAMPLE; i++) {
    const j = i + Math.floor(rand() * (n - i));
    const tmp = all[i];
    all[i] = all[j];
    all[j] = tmp;
  }
  return all.subarray(0, EDGE_SAMPLE).sort();
}

/**
 * Thresholds for one sorted column without NaN: between every pair of distinct values when there
 * are at most maxBins of them, else at (approximately) equal-count quantiles. Each threshold is a
 * float32 midpoint strictly separating the values on either side.
 */
function columnThresholds(sorted: Float32Array, maxBins: number): Float32Array {
  const m = sorted.length;
  if (m === 0) return new Float32Array(0);
  // Distinct values and their counts.
  const distinct: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < m; i++) {
    const v = sorted[i];
    if (distinct.length > 0 && distinct[distinct.length - 1] === v) counts[counts.length - 1]++;
    else {
      distinct.push(v);
      counts.push(1);
    }
  }
  const out: number[] = [];
  if (distinct.length <= maxBins) {
    for (let j = 0; j + 1 < distinct.length; j++) out.push(midpoint(distinct[j], distinct[j + 1]));
  } else {
    // Close a bin after value j once the cumulative count reaches the next quantile target.
    let cumulative = 0;
    let nextBin = 1;
    for (let j = 0; j + 1 < distinct.length && out.length < maxBins - 1; j++) {
      cumulative += counts[j];
      if (cumulative >= (nextBin * m) / maxBins) {
        out.push(midpoint(distinct[j], distinct[j + 1]));
        while (nextBin * m <= cumulative * maxBins) nextBin++;
      }
    }
  }
  return Float32Array.from(out);
}

/** A float32 t with a <= t < b, for float32 a < b. */
function midpoint(a: number, b: number): number {
  const t = Math.fround(a + (b - a) / 2);
  return t >= a && t < b ? t : a;
}
