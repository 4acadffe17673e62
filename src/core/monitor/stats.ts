// The drift statistics, on samples and on the binned form monitoring streams into (./accumulate.ts).
// Definitions follow SciPy (ks_2samp, wasserstein_distance, chisquare, spatial.distance.jensenshannon)
// and Evidently (normalized Wasserstein, PSI); the unit tests compare with SciPy where it is installed.

/** Kolmogorov's limiting distribution: P(K > x) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²x²}. */
export function kolmogorovSf(x: number): number {
  if (x <= 0) return 1;
  if (x < 0.2) return 1;
  let s = 0;
  for (let k = 1; k <= 100; k++) {
    const term = Math.exp(-2 * k * k * x * x);
    s += k % 2 ? term : -term;
    if (term < 1e-16) break;
  }
  return Math.min(1, Math.max(0, 2 * s));
}

/**
 * Two-sided p-value of a two-sample KS statistic D for sample sizes n and m: Kolmogorov's limit with
 * Stephens' small-sample correction, P(K > (√ne + 0.12 + 0.11/√ne)·D), ne = nm/(n+m).
 */
export function ksPValue(d: number, n: number, m: number): number {
  if (n <= 0 || m <= 0) return NaN;
  const ne = (n * m) / (n + m);
  const s = Math.sqrt(ne);
  return kolmogorovSf((s + 0.12 + 0.11 / s) * d);
}

function sortedCopy(a: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(a as ArrayLike<number>).filter((v) => !Number.isNaN(v));
  return out.sort();
}

/** Two-sample Kolmogorov–Smirnov test (D = sup |F_a − F_b|), NaNs ignored. */
export function ks2samp(a: ArrayLike<number>, b: ArrayLike<number>): { statistic: number; pValue: number } {
  const x = sortedCopy(a);
  const y = sortedCopy(b);
  const n = x.length;
  const m = y.length;
  if (!n || !m) return { statistic: NaN, pValue: NaN };
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n && j < m) {
    const v = Math.min(x[i], y[j]);
    while (i < n && x[i] === v) i++;
    while (j < m && y[j] === v) j++;
    d = Math.max(d, Math.abs(i / n - j / m));
  }
  return { statistic: d, pValue: ksPValue(d, n, m) };
}

/** 1-Wasserstein distance between two samples (∫|F_a − F_b| dx), NaNs ignored, as scipy.stats.wasserstein_distance. */
export function wasserstein(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const x = sortedCopy(a);
  const y = sortedCopy(b);
  const n = x.length;
  const m = y.length;
  if (!n || !m) return NaN;
  let i = 0;
  let j = 0;
  let prev = Math.min(x[0], y[0]);
  let w = 0;
  while (i < n || j < m) {
    const v = j >= m || (i < n && x[i] <= y[j]) ? x[i] : y[j];
    w += Math.abs(i / n - j / m) * (v - prev);
    prev = v;
    while (i < n && x[i] === v) i++;
    while (j < m && y[j] === v) j++;
  }
  return w;
}

/** Population standard deviation (numpy's std, ddof 0), NaNs ignored. */
export function std(a: ArrayLike<number>): number {
  let n = 0;
  let mean = 0;
  let m2 = 0;
  for (let k = 0; k < a.length; k++) {
    const v = a[k];
    if (Number.isNaN(v)) continue;
    n++;
    const d = v - mean;
    mean += d / n;
    m2 += d * (v - mean);
  }
  return n ? Math.sqrt(m2 / n) : NaN;
}

/** Evidently's normalized Wasserstein: W1 ÷ the reference's standard deviation (at least 0.001). */
export function normalizedWasserstein(w: number, referenceStd: number): number {
  return w / Math.max(referenceStd, 0.001);
}

/** Share used in place of an empty bin by PSI (Evidently's 0.0001), so the log stays finite. */
export const PSI_EMPTY_SHARE = 1e-4;

/** Population stability index Σ (c − r)·ln(c/r) over bins, from counts per bin (empty bins get PSI_EMPTY_SHARE). */
export function psi(referenceCounts: ArrayLike<number>, currentCounts: ArrayLike<number>): number {
  const rt = sum(referenceCounts);
  const ct = sum(currentCounts);
  if (!rt || !ct) return NaN;
  let s = 0;
  for (let k = 0; k < referenceCounts.length; k++) {
    const r = referenceCounts[k] / rt || PSI_EMPTY_SHARE;
    const c = currentCounts[k] / ct || PSI_EMPTY_SHARE;
    s += (c - r) * Math.log(c / r);
  }
  return s;
}

function sum(a: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k];
  return s;
}

/** ln Γ(x), Lanczos (g = 7, n = 9). */
export function lnGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Regularized upper incomplete gamma Q(a, x) (series below a+1, continued fraction above). */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  if (!Number.isFinite(x)) return 0;
  const gln = lnGamma(a);
  if (x < a + 1) {
    let ap = a;
    let del = 1 / a;
    let s = del;
    for (let k = 0; k < 10000; k++) {
      ap++;
      del *= x / ap;
      s += del;
      if (Math.abs(del) < Math.abs(s) * 1e-15) break;
    }
    return Math.max(0, 1 - s * Math.exp(-x + a * Math.log(x) - gln));
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return Math.exp(-x + a * Math.log(x) - gln) * h;
}

/** Survival function of the chi-squared distribution with `df` degrees of freedom. */
export function chi2Sf(x: number, df: number): number {
  if (df <= 0) return NaN;
  return gammaQ(df / 2, x / 2);
}

/** Chi-squared goodness of fit (scipy.stats.chisquare): Σ (o − e)²/e, p from k − 1 degrees of freedom. */
export function chiSquare(
  observed: ArrayLike<number>,
  expected: ArrayLike<number>,
): { statistic: number; pValue: number } {
  let x = 0;
  for (let k = 0; k < observed.length; k++) {
    const d = observed[k] - expected[k];
    x += expected[k] > 0 ? (d * d) / expected[k] : d === 0 ? 0 : Infinity;
  }
  return { statistic: x, pValue: observed.length > 1 ? chi2Sf(x, observed.length - 1) : 1 };
}

/**
 * Jensen–Shannon distance (scipy.spatial.distance.jensenshannon, natural log as Evidently uses it):
 * √(½ KL(p‖m) + ½ KL(q‖m)), m = (p+q)/2, p and q normalized first. In [0, √ln 2].
 */
export function jensenShannon(p: ArrayLike<number>, q: ArrayLike<number>): number {
  const ps = sum(p);
  const qs = sum(q);
  if (!ps || !qs) return NaN;
  let js = 0;
  for (let k = 0; k < p.length; k++) {
    const a = p[k] / ps;
    const b = q[k] / qs;
    const m = (a + b) / 2;
    if (a > 0) js += 0.5 * a * Math.log(a / m);
    if (b > 0) js += 0.5 * b * Math.log(b / m);
  }
  return Math.sqrt(Math.max(0, js));
}
