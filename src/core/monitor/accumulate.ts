// Streaming accumulators: one per feature, fed the window's values one at a time with memory that
// depends on the reference only (never on the window's size). A numeric feature's values are counted
// in the cells the reference's points define — "equal to point i" and "strictly between points i−1
// and i" — with the sum of the values in each cell. That is enough for an exact KS statistic against
// the stored reference (the ECDF difference is extreme at a cell's ends), an exact Wasserstein
// distance except where the two CDFs cross inside one cell (there the window's values are taken as
// evenly spread), PSI on the reference's deciles, the out-of-range share and histograms.

import { chiSquare, jensenShannon, ksPValue, normalizedWasserstein, psi } from './stats';
import type {
  CategoricalReference,
  DriftTest,
  DriftThresholds,
  FeatureDrift,
  FeatureHistogram,
  NumericReference,
} from './types';

/** Bins of the overlaid histograms of a numeric feature. */
export const HISTOGRAM_BINS = 20;

export class NumericAccumulator {
  /** 2k+1 cells: 2i = between points i−1 and i (0: below the first), 2i+1 = equal to point i, 2k = above the last. */
  readonly counts: Float64Array;
  readonly sums: Float64Array;
  missing = 0;
  private readonly points: Float64Array;
  /** A uniform grid over [first point, last point]: slot g → the first point ≥ its start (a lookup instead of a binary search). */
  private readonly grid: Int32Array;
  private readonly gridLo: number;
  private readonly gridScale: number;

  constructor(readonly ref: NumericReference) {
    const p = (this.points = Float64Array.from(ref.points));
    this.counts = new Float64Array(2 * p.length + 1);
    this.sums = new Float64Array(2 * p.length + 1);
    const slots = Math.max(1, Math.min(1 << 14, 4 * p.length));
    this.grid = new Int32Array(slots + 1);
    this.gridLo = p.length ? p[0] : 0;
    const span = p.length > 1 ? p[p.length - 1] - p[0] : 0;
    this.gridScale = span > 0 ? slots / span : 0;
    let i = 0;
    for (let g = 0; g <= slots; g++) {
      const start = this.gridLo + (span * g) / slots;
      while (i < p.length - 1 && p[i] < start) i++;
      this.grid[g] = Math.max(0, i - 1);
    }
    // Slots with no point in them or next to them (a margin for rounding) hold one cell: "between points i−1 and i".
    this.slotCell = new Int32Array(slots + 1).fill(-1);
    let q = 0;
    for (let g = 0; g < slots; g++) {
      const from = this.gridLo + (span * (g - 1)) / slots;
      const to = this.gridLo + (span * (g + 2)) / slots;
      while (q < p.length && p[q] < from) q++;
      if (q < p.length && p[q] > to && q > 0) this.slotCell[g] = 2 * q;
    }
  }

  private readonly slotCell: Int32Array;

  /** The cell of a (non-missing) value. */
  cellOf(v: number): number {
    const p = this.points;
    const k = p.length;
    if (k === 0) return 0;
    if (v <= p[0]) return v === p[0] ? 1 : 0;
    if (v >= p[k - 1]) return v === p[k - 1] ? 2 * k - 1 : 2 * k;
    let i = this.grid[Math.floor((v - this.gridLo) * this.gridScale)];
    while (i > 0 && p[i - 1] >= v) i--; // rounding at a slot's edge
    while (p[i] < v) i++;
    return p[i] === v ? 2 * i + 1 : 2 * i;
  }

  add(v: number): void {
    if (v !== v) {
      this.missing++;
      return;
    }
    const cell = this.cellOf(v);
    this.counts[cell]++;
    this.sums[cell] += v;
  }

  /** Adds x[start + i·stride] for i < n (the hot loop of monitoring: most values take one table lookup). */
  addStrided(x: Float32Array, start: number, stride: number, n: number): void {
    const counts = this.counts;
    const sums = this.sums;
    const p = this.points;
    const k = p.length;
    if (k === 0) {
      for (let i = 0, at = start; i < n; i++, at += stride) if (x[at] !== x[at]) this.missing++;
      return;
    }
    const lo = p[0];
    const hi = p[k - 1];
    const scale = this.gridScale;
    const slotCell = this.slotCell;
    let missing = 0;
    for (let i = 0, at = start; i < n; i++, at += stride) {
      const v = x[at];
      if (v !== v) {
        missing++;
        continue;
      }
      let cell: number;
      if (v > lo && v < hi) {
        cell = slotCell[((v - lo) * scale) | 0];
        if (cell < 0) cell = this.cellOf(v);
      } else cell = v === lo ? 1 : v < lo ? 0 : v === hi ? 2 * k - 1 : 2 * k;
      counts[cell]++;
      sums[cell] += v;
    }
    this.missing += missing;
  }

  get count(): number {
    let s = 0;
    for (const c of this.counts) s += c;
    return s;
  }

  /** KS statistic against the reference (exact for the stored points) and its p-value with n = the training rows. */
  ks(): { statistic: number; pValue: number } {
    const m = this.count;
    const w = this.ref.weights;
    const n = this.ref.count;
    if (!m || !n) return { statistic: NaN, pValue: NaN };
    let rc = 0;
    let cc = 0;
    let d = 0;
    for (let i = 0; i < w.length; i++) {
      cc += this.counts[2 * i];
      d = Math.max(d, Math.abs(rc / n - cc / m));
      cc += this.counts[2 * i + 1];
      rc += w[i];
      d = Math.max(d, Math.abs(rc / n - cc / m));
    }
    return { statistic: d, pValue: ksPValue(d, n, m) };
  }

  /** 1-Wasserstein distance ∫|F_ref − F_window| dx. */
  wasserstein(): number {
    const m = this.count;
    const p = this.points;
    const w = this.ref.weights;
    const n = this.ref.count;
    const k = p.length;
    if (!m || !n || !k) return NaN;
    // Below the first point F_ref = 0; above the last F_ref = 1: exact from the cells' sums.
    let total = (this.counts[0] * p[0] - this.sums[0]) / m + (this.sums[2 * k] - this.counts[2 * k] * p[k - 1]) / m;
    let rc = 0;
    let cc = this.counts[0];
    for (let i = 0; i < k - 1; i++) {
      cc += this.counts[2 * i + 1];
      rc += w[i];
      const r = rc / n;
      const c0 = cc / m;
      const cell = 2 * i + 2;
      const cnt = this.counts[cell];
      const len = p[i + 1] - p[i];
      const c1 = c0 + cnt / m;
      if ((c0 - r) * (c1 - r) >= 0) {
        // One side of F_ref over the whole interval: ∫(F_w − r) = (c0 − r)·len + Σ (p_{i+1} − x)/m.
        total += Math.abs((c0 - r) * len + (cnt * p[i + 1] - this.sums[cell]) / m);
      } else {
        // Crossing inside the interval: the window's values taken as evenly spread (F_w linear from c0 to c1).
        const t = (r - c0) / (c1 - c0);
        total += 0.5 * len * (t * Math.abs(r - c0) + (1 - t) * Math.abs(c1 - r));
      }
      cc += cnt;
    }
    return total;
  }

  /** PSI on the reference's deciles. */
  psi(): number {
    const edges = this.ref.psiEdges;
    const ref = new Float64Array(edges.length + 1);
    const cur = new Float64Array(edges.length + 1);
    let b = 0;
    for (let i = 0; i < this.points.length; i++) {
      while (b < edges.length && edges[b] < this.points[i]) b++;
      // Values between point i−1 and i, and equal to point i, fall in the bin of point i (edges are points).
      cur[b] += this.counts[2 * i] + this.counts[2 * i + 1];
      ref[b] += this.ref.weights[i];
    }
    cur[edges.length] += this.counts[2 * this.points.length];
    return psi(ref, cur);
  }

  outOfRange(): number {
    const m = this.count;
    if (!m) return 0;
    // The points always include the training minimum and maximum: the first and last cells are outside [min, max].
    return (this.counts[0] + this.counts[this.counts.length - 1]) / m;
  }

  histogram(bins = HISTOGRAM_BINS): FeatureHistogram {
    const lo = this.ref.min;
    const hi = this.ref.max > lo ? this.ref.max : lo + 1;
    const width = (hi - lo) / bins;
    const edges = Array.from({ length: bins + 1 }, (_, i) => lo + i * width);
    const ref = new Array<number>(bins).fill(0);
    const cur = new Array<number>(bins).fill(0);
    const bin = (v: number) => Math.min(bins - 1, Math.max(0, Math.floor((v - lo) / width)));
    this.ref.points.forEach((p, i) => (ref[bin(p)] += this.ref.weights[i]));
    for (let c = 0; c < this.counts.length; c++)
      if (this.counts[c]) cur[bin(this.sums[c] / this.counts[c])] += this.counts[c];
    return { edges, reference: shares(ref), current: shares(cur) };
  }
}

export class CategoricalAccumulator {
  readonly counts = new Map<string, number>();
  missing = 0;

  constructor(readonly ref: CategoricalReference) {}

  add(v: string | null | undefined): void {
    if (v === null || v === undefined || v === '') this.missing++;
    else this.counts.set(v, (this.counts.get(v) ?? 0) + 1);
  }

  get count(): number {
    let s = 0;
    for (const c of this.counts.values()) s += c;
    return s;
  }

  /** Categories in reference order, then the unseen ones, with the counts of both sides. */
  table(): { categories: string[]; reference: number[]; current: number[]; unseen: Record<string, number> } {
    const categories = Object.keys(this.ref.counts);
    const unseen: Record<string, number> = {};
    for (const [c, n] of this.counts) if (!(c in this.ref.counts)) unseen[c] = n;
    const all = [...categories, ...Object.keys(unseen)];
    return {
      categories: all,
      reference: all.map((c) => this.ref.counts[c] ?? 0),
      current: all.map((c) => this.counts.get(c) ?? 0),
      unseen,
    };
  }
}

function shares(a: number[]): number[] {
  const s = a.reduce((x, y) => x + y, 0);
  return s ? a.map((v) => v / s) : a;
}

/**
 * Chi-squared of the window's category counts against the reference's shares. A category never seen in
 * training would expect 0 rows (an infinite statistic): it is given half a training row (add-half smoothing).
 */
export function categoricalChiSquare(reference: number[], current: number[]): { statistic: number; pValue: number } {
  const smoothed = reference.map((r) => (r > 0 ? r : 0.5));
  const rt = smoothed.reduce((a, b) => a + b, 0);
  const ct = current.reduce((a, b) => a + b, 0);
  return chiSquare(
    current,
    smoothed.map((r) => (r / rt) * ct),
  );
}

/** Maps a statistic to a 0–1 badness for sorting: 0.5 at the threshold. */
function score(test: DriftTest, value: number, threshold: number): number {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 0 : 1;
  if (test === 'ks' || test === 'chisquare') {
    // p-values: 1 → 0, threshold → 0.5, 0 → 1 (log scale).
    const lp = -Math.log10(Math.max(value, 1e-300));
    const lt = -Math.log10(threshold);
    return lp <= lt ? (0.5 * lp) / lt : 1 - 0.5 / (1 + (lp - lt) / lt);
  }
  const r = value / threshold;
  return r <= 1 ? 0.5 * r : 1 - 0.5 / r;
}

/** The deciding test's verdict and the fields every feature has. */
function decide(
  acc: { ref: { name: string; count: number; missing: number }; missing: number },
  kind: FeatureDrift['kind'],
  count: number,
  test: DriftTest,
  statistic: number,
  pValue: number | undefined,
  threshold: number,
): Pick<
  FeatureDrift,
  | 'name'
  | 'kind'
  | 'test'
  | 'statistic'
  | 'pValue'
  | 'threshold'
  | 'drifted'
  | 'score'
  | 'count'
  | 'missingRate'
  | 'referenceMissingRate'
> {
  const decisive = pValue ?? statistic;
  const drifted = count > 0 && (pValue !== undefined ? pValue < threshold : statistic > threshold);
  const total = count + acc.missing;
  const refTotal = acc.ref.count + acc.ref.missing;
  return {
    name: acc.ref.name,
    kind,
    test,
    statistic,
    ...(pValue !== undefined ? { pValue } : {}),
    threshold,
    drifted,
    score: count ? score(test, decisive, threshold) : 0,
    count,
    missingRate: total ? acc.missing / total : 0,
    referenceMissingRate: refTotal ? acc.ref.missing / refTotal : 0,
  };
}

export function numericDrift(acc: NumericAccumulator, t: DriftThresholds): FeatureDrift {
  const count = acc.count;
  const ks = acc.ks();
  const wn = normalizedWasserstein(acc.wasserstein(), acc.ref.std);
  const p = acc.psi();
  const useKs = count <= t.largeWindow;
  return {
    ...decide(
      acc,
      'numeric',
      count,
      useKs ? 'ks' : 'wasserstein',
      useKs ? ks.statistic : wn,
      useKs ? ks.pValue : undefined,
      useKs ? t.ksPValue : t.wasserstein,
    ),
    stats: { ks: ks.statistic, ksPValue: ks.pValue, wasserstein: wn, psi: p },
    psiDrifted: p > t.psi,
    outOfRangeRate: acc.outOfRange(),
    histogram: acc.histogram(),
  };
}

export function categoricalDrift(acc: CategoricalAccumulator, t: DriftThresholds): FeatureDrift {
  const tab = acc.table();
  const count = acc.count;
  const chi = count ? categoricalChiSquare(tab.reference, tab.current) : { statistic: NaN, pValue: NaN };
  const js = jensenShannon(tab.reference, tab.current);
  const useChi = count <= t.largeWindow;
  return {
    ...decide(
      acc,
      'categorical',
      count,
      useChi ? 'chisquare' : 'jensenshannon',
      useChi ? chi.statistic : js,
      useChi ? chi.pValue : undefined,
      useChi ? t.chiSquarePValue : t.jensenShannon,
    ),
    stats: { chisquare: chi.statistic, chiSquarePValue: chi.pValue, jensenshannon: js },
    unseenCategories: tab.unseen,
    histogram: { categories: tab.categories, reference: shares(tab.reference), current: shares(tab.current) },
  };
}
