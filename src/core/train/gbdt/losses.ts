// The losses boosted by the GBDT: their starting scores, per-row gradients/hessians with respect to
// the raw scores, and the mean loss (reported, and watched by early stopping).
//
// Scores are row-major n × k (k = 1 for regression and binary, the number of classes otherwise).

interface LossBase {
  /** Scores per row (trees per iteration). */
  readonly k: number;
  /** Starting score of each column (the constant model). */
  initialScores(y: Float64Array): Float64Array;
  /**
   * The mean loss of the scores: the fit's dev loss, which gbdt/devEval.ts computes row by row in the
   * same operations (its tests pin the two bit for bit).
   */
  meanLoss(scores: Float64Array, y: Float64Array): number;
}

/** A loss with one score per row: the grower computes its gradients, on both threads. */
export interface SingleScoreLoss extends LossBase {
  /** Its index in RANGE_GRADIENTS. */
  readonly rangeGradients: number;
}

/**
 * A loss with several scores per row (softmax): the workspace computes every column's gradients at
 * once (the kernel's softmaxGradients, or its twin softmaxRangeGradients; on both threads), and each
 * column's tree then takes its own.
 */
export interface MultiScoreLoss extends LossBase {
  readonly softmax: true;
}

/**
 * Softmax cross-entropy gradients over rows [start, end) of n, the JavaScript twin of the kernel's
 * softmaxGradients (kernels/hist.wat), which the workspace runs instead: the same bits. With m the
 * row's largest score, e_c = kernelExp(s_c - m), S their sum and p_c = e_c / S, for each score column c
 * g[c * n + i] = p_c - [y_i = c] and h[c * n + i] = p_c (1 - p_c), stored as float32 (the precision
 * the histograms take them in). The loss of those rows, the sum of -log p_{y_i} = log S - (s_y - m),
 * is left as three numbers (no logarithm per row): out[at] the product of the rows' S, scaled by
 * 2^-512 each time it reaches 2^512, out[at + 1] the number of those scalings, out[at + 2] the sum of
 * s_y - m (softmaxLossOf makes the loss of them). The boosting loop reports each iteration's train
 * loss from the next iteration's gradients.
 */
export function softmaxRangeGradients(
  scores: Float64Array,
  y: Float64Array,
  g: Float32Array,
  h: Float32Array,
  k: number,
  n: number,
  start: number,
  end: number,
  out: Float64Array,
  at: number,
): void {
  const e = new Float64Array(k);
  let product = 1;
  let scalings = 0;
  let t = 0;
  for (let i = start; i < end; i++) {
    const row = i * k;
    let m = -Infinity;
    for (let c = 0; c < k; c++) m = Math.max(m, scores[row + c]);
    let sum = 0;
    for (let c = 0; c < k; c++) {
      e[c] = kernelExp(scores[row + c] - m);
      sum += e[c];
    }
    const label = y[i];
    for (let c = 0; c < k; c++) {
      const p = e[c] / sum;
      g[c * n + i] = p - (label === c ? 1 : 0);
      h[c * n + i] = p * (1 - p);
    }
    product *= sum;
    if (product >= 2 ** 512) {
      product *= 2 ** -512;
      scalings++;
    }
    t += scores[row + label] - m;
  }
  out[at] = product;
  out[at + 1] = scalings;
  out[at + 2] = t;
}

/** The summed loss from softmaxRangeGradients's three numbers (product, scalings, sum of s_y - m) at sums[at]. */
export function softmaxLossOf(sums: Float64Array, at: number): number {
  return Math.log(sums[at]) + sums[at + 1] * 512 * Math.LN2 - sums[at + 2];
}

/**
 * e^x as the kernels' $exp (kernels/hist.wat) computes it, operation for operation (so the kernel's
 * gradients and the JavaScript fallback's are the same bits): clamped to [-708, 709], x = k ln 2 + r
 * with k rounded half to even (f64.nearest), e^r by its Taylor series to degree 12, times 2^k.
 */
export function kernelExp(v: number): number {
  const x = Math.min(Math.max(v, -708), 709);
  const t = x * 1.4426950408889634;
  let k = Math.round(t);
  if (k - t === 0.5 && k % 2 !== 0) k -= 1;
  const r = x - k * 0.6931471803691238 - k * 1.9082149292705877e-10;
  let e = 2.08767569878681e-9;
  e = e * r + 2.505210838544172e-8;
  e = e * r + 2.755731922398589e-7;
  e = e * r + 2.7557319223985893e-6;
  e = e * r + 2.48015873015873e-5;
  e = e * r + 1.984126984126984e-4;
  e = e * r + 1.3888888888888889e-3;
  e = e * r + 8.333333333333333e-3;
  e = e * r + 4.1666666666666664e-2;
  e = e * r + 0.16666666666666666;
  e = e * r + 0.5;
  e = e * r + 1;
  e = e * r + 1;
  return e * 2 ** k;
}

export type BoostingLoss = SingleScoreLoss | MultiScoreLoss;

/**
 * Gradients of a single-score loss over rows [start, end): g and h, rounded to float32, go to lanes 0
 * and 1 of each row's 4-lane entry in gh (at 4 * row); out[at], out[at + 1], out[at + 2] are set to
 * the sums over those rows of the loss (a loss costing a logarithm per row may skip it, giving 0,
 * unless withLoss is 1), of g and of h (the rounded values). Self-contained (no outer names, no
 * nested functions) unless the kernel has a twin of it: the histogram helper thread runs the others
 * from their source text, over the other half of the rows.
 */
export type RangeGradients = (
  scores: Float64Array,
  y: Float64Array,
  gh: Float32Array,
  start: number,
  end: number,
  withLoss: number,
  out: Float64Array,
  at: number,
) => void;

/** Squared error: g = score - y, h = 1; the loss is half the squared residual. */
export function squaredRangeGradients(
  scores: Float64Array,
  y: Float64Array,
  gh: Float32Array,
  start: number,
  end: number,
  withLoss: number,
  out: Float64Array,
  at: number,
): void {
  let loss = 0;
  let sumG = 0;
  let sumH = 0;
  for (let i = start; i < end; i++) {
    const r = scores[i] - y[i];
    gh[4 * i] = r;
    gh[4 * i + 1] = 1;
    sumG += gh[4 * i];
    sumH += 1;
    // Always summed (withLoss aside): it is cheap, and it is what reveals a divergence.
    loss += 0.5 * r * r;
  }
  out[at] = loss;
  out[at + 1] = sumG;
  out[at + 2] = sumH;
}

/**
 * Binary log loss on the logit z of class 1 (y is 0 or 1): g = σ(z) - y, h = σ(z)(1 - σ(z)). The
 * JavaScript twin of the kernel's binaryGradients (kernels/hist.wat), which the workspace runs
 * instead (the loss, when summed, by binaryLossSum): the same gradients bit for bit.
 */
export function binaryRangeGradients(
  scores: Float64Array,
  y: Float64Array,
  gh: Float32Array,
  start: number,
  end: number,
  withLoss: number,
  out: Float64Array,
  at: number,
): void {
  let loss = 0;
  let sumG = 0;
  let sumH = 0;
  for (let i = start; i < end; i++) {
    const z = scores[i];
    const e = kernelExp(-z);
    const p = 1 / (1 + e);
    gh[4 * i] = p - y[i];
    gh[4 * i + 1] = p * (1 - p);
    sumG += gh[4 * i];
    sumH += gh[4 * i + 1];
    // log(1 + e^z) - y z without overflow: e^-z is e, e^z is 1 / e (0 when e overflowed).
    if (withLoss === 1) loss += (z >= 0 ? Math.log1p(e) + z : Math.log1p(1 / e)) - y[i] * z;
  }
  out[at] = loss;
  out[at + 1] = sumG;
  out[at + 2] = sumH;
}

/**
 * The binary log loss summed over rows [start, end) of scores (what binaryRangeGradients sums with
 * withLoss 1), for the kernel's gradients, which leave it out. Self-contained (the helper thread runs
 * it from its source text).
 */
export function binaryLossSum(scores: Float64Array, y: Float64Array, start: number, end: number): number {
  let loss = 0;
  for (let i = start; i < end; i++) {
    const z = scores[i];
    // log(1 + e^z) - y z without overflow.
    loss += Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))) - y[i] * z;
  }
  return loss;
}

/** The range gradient functions, by BoostingLoss.rangeGradients. */
export const RANGE_GRADIENTS: readonly RangeGradients[] = [squaredRangeGradients, binaryRangeGradients];

export const squaredError: SingleScoreLoss = {
  k: 1,
  rangeGradients: 0,
  initialScores(y) {
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i];
    return Float64Array.of(y.length > 0 ? s / y.length : 0);
  },
  // Half the mean squared error: the objective whose gradient is (score - y).
  meanLoss(scores, y) {
    let s = 0;
    for (let i = 0; i < y.length; i++) {
      const r = scores[i] - y[i];
      s += r * r;
    }
    return y.length > 0 ? s / (2 * y.length) : 0;
  },
};

/** Binary log loss on the logit of class 1; y is 0 or 1. */
export const binaryLogLoss: SingleScoreLoss = {
  k: 1,
  rangeGradients: 1,
  initialScores(y) {
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i];
    const p = clampProbability(y.length > 0 ? s / y.length : 0.5);
    return Float64Array.of(Math.log(p / (1 - p)));
  },
  meanLoss(scores, y) {
    return y.length > 0 ? binaryLossSum(scores, y, 0, y.length) / y.length : 0;
  },
};

/** Multi-class cross-entropy on softmax of k scores; y is the class index. */
export function softmaxLoss(k: number): MultiScoreLoss {
  /** -log p_y = log Σ exp(s_c - m) - (s_y - m), at most -log 1e-300 (as softmaxRangeGradients's clamp). */
  const rowLoss = (scores: Float64Array, row: number, label: number): number => {
    let m = -Infinity;
    for (let c = 0; c < k; c++) m = Math.max(m, scores[row + c]);
    let s = 0;
    for (let c = 0; c < k; c++) s += Math.exp(scores[row + c] - m);
    return Math.min(Math.log(s) - (scores[row + label] - m), -Math.log(1e-300));
  };
  return {
    k,
    initialScores(y) {
      const counts = new Float64Array(k);
      for (let i = 0; i < y.length; i++) counts[y[i]]++;
      return counts.map((c) => Math.log(clampProbability(y.length > 0 ? c / y.length : 1 / k)));
    },
    softmax: true,
    meanLoss(scores, y) {
      let s = 0;
      for (let i = 0; i < y.length; i++) s += rowLoss(scores, i * k, y[i]);
      return y.length > 0 ? s / y.length : 0;
    },
  };
}

function clampProbability(p: number): number {
  return Math.min(Math.max(p, 1e-12), 1 - 1e-12);
}
