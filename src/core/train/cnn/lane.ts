// One lane's pass of the CNN over its rows of a batch: forward, and in training the softmax
// cross-entropy and the backward pass into the lane's gradient block. A batch is split into two
// lanes; the main thread runs lane 0 and the helper thread lane 1 (or the main thread runs both, one
// after the other: the same arithmetic, hence the same weights on one thread or two).
//
// This function must stay self-contained (no imports, no outer names, no nested functions): the
// helper thread runs it from its source text (engine.ts). It calls only the raw kernel exports, which
// take byte offsets.

import type { CnnLayout } from './layout';

/** The raw exports of gemm.wat (shared-memory build) and conv.wat that a lane calls. */
export interface LaneKernels {
  gemm(...args: number[]): void;
  colsum(m: number, n: number, src: number, ld: number, dst: number): void;
  softmax(
    rows: number,
    c: number,
    stride: number,
    z: number,
    dst: number,
    scale: number,
    max: number,
    sum: number,
  ): void;
  im2col(src: number, n: number, h: number, w: number, c: number, col: number): void;
  col2im(col: number, n: number, h: number, w: number, c: number, dst: number): void;
  maxpool(src: number, n: number, h: number, w: number, c: number, out: number): void;
  maxpoolBack(src: number, out: number, dout: number, n: number, h: number, w: number, c: number, dst: number): void;
}

/** Phases a lane's time is charged to when timed (benchmarks): index into CNN_PHASES. */
export const CNN_PHASES = [
  'conv forward',
  'pooling forward',
  'dense forward',
  'softmax loss',
  'dense backward',
  'pooling backward',
  'conv backward (weights)',
  'conv backward (inputs)',
  'gradient sum',
  'optimizer',
  'input images',
] as const;

/** Receives the end of each phase (benchmarks); absent in training. */
export interface LaneClock {
  lap(phase: number): void;
}

/**
 * Runs lane `lane` over `rows` images at its x (labels at its labels). `train`: 0 forward only (the
 * logits are then at the last dense layer's act), 1 forward with dropout masks when `useDropout` and
 * backward; returns the summed loss of the rows. `inv` is 1 / (rows of the whole batch): each lane's
 * gradient is its share of the batch mean.
 */
export function cnnLaneStep(
  ex: LaneKernels,
  buffer: ArrayBufferLike,
  L: CnnLayout,
  lane: number,
  rows: number,
  train: number,
  useDropout: number,
  inv: number,
  clock?: LaneClock,
): number {
  const A = L.lanes[lane];
  const convs = L.convs;
  const denses = L.denses;
  const nc = convs.length;
  const nd = denses.length;
  const f32 = new Float32Array(buffer);
  // forward: blocks
  let input = A.x;
  for (let l = 0; l < nc; l++) {
    const c = convs[l];
    const pixels = rows * c.h * c.w;
    ex.im2col(input, rows, c.h, c.w, c.cin, A.col[l]);
    if (c.gamma < 0) {
      // out = relu(col · W + b)
      ex.gemm(pixels, c.cout, c.k, A.col[l], c.k, 1, c.w0, c.cout, A.out[l], c.cout, 2, c.b0, 1, 0, 0);
    } else {
      // z = col · W + b; out = relu(γ (z − mean) / √(var + ε) + β), with the lane's own mean and
      // variance per channel in training, the running ones otherwise
      const Z = A.z[l] >> 2;
      const S = A.stats[l] >> 2;
      const C = c.cout;
      ex.gemm(pixels, C, c.k, A.col[l], c.k, 1, c.w0, C, A.z[l], C, 2, c.b0, 0, 0, 0);
      if (train) {
        const sum = new Float64Array(C);
        for (let q = 0; q < pixels * C; q++) sum[q % C] += f32[Z + q];
        for (let ch = 0; ch < C; ch++) sum[ch] /= pixels;
        const sq = new Float64Array(C);
        for (let q = 0; q < pixels * C; q++) {
          const e = f32[Z + q] - sum[q % C];
          sq[q % C] += e * e;
        }
        for (let ch = 0; ch < C; ch++) {
          f32[S + ch] = sum[ch];
          f32[S + C + ch] = sq[ch] / pixels;
        }
      } else {
        for (let ch = 0; ch < C; ch++) {
          f32[S + ch] = f32[(c.runMean >> 2) + ch];
          f32[S + C + ch] = f32[(c.runVar >> 2) + ch];
        }
      }
      const out = A.out[l] >> 2;
      for (let q = 0; q < pixels * C; q++) {
        const ch = q % C;
        const y =
          (f32[(c.gamma >> 2) + ch] * (f32[Z + q] - f32[S + ch])) / Math.sqrt(f32[S + C + ch] + 1e-5) +
          f32[(c.beta >> 2) + ch];
        f32[out + q] = y > 0 ? y : 0;
      }
    }
    if (clock) clock.lap(0);
    ex.maxpool(A.out[l], rows, c.h, c.w, c.cout, A.pooled[l]);
    if (clock) clock.lap(1);
    input = A.pooled[l];
  }
  // forward: dense layers (relu on the hidden ones)
  for (let l = 0; l < nd; l++) {
    const d = denses[l];
    const hidden = l < nd - 1;
    ex.gemm(rows, d.nout, d.nin, input, d.nin, 1, d.w0, d.nout, A.act[l], d.nout, 2, d.b0, hidden ? 1 : 0, 0, 0);
    input = A.act[l];
    if (hidden && train && useDropout) {
      const act = A.act[l] >> 2;
      const mask = A.mask[l] >> 2;
      const dropped = A.dropped[l] >> 2;
      for (let t = 0, count = rows * d.nout; t < count; t++) f32[dropped + t] = f32[act + t] * f32[mask + t];
      input = A.dropped[l];
    }
  }
  if (clock) clock.lap(2);
  if (!train) return 0;

  // softmax cross-entropy: delta = (softmax - onehot) · inv
  const last = denses[nd - 1];
  const logits = A.act[nd - 1];
  const delta = A.delta[nd - 1];
  ex.softmax(rows, last.noutAsked, last.nout, logits, delta, inv, A.rowMax, A.rowSum);
  const labels = new Int32Array(buffer, A.labels, rows);
  let loss = 0;
  for (let i = 0; i < rows; i++) {
    const y = labels[i];
    loss += Math.log(f32[(A.rowSum >> 2) + i]) + f32[(A.rowMax >> 2) + i] - f32[(logits >> 2) + i * last.nout + y];
    f32[(delta >> 2) + i * last.nout + y] -= inv;
  }
  if (clock) clock.lap(3);

  // backward: dense layers
  const G = A.grads;
  const lastConv = convs[nc - 1];
  for (let l = nd - 1; l >= 0; l--) {
    const d = denses[l];
    const below = l > 0 ? (useDropout && A.dropped[l - 1] >= 0 ? A.dropped[l - 1] : A.act[l - 1]) : A.pooled[nc - 1];
    // dW = inputᵀ · delta, db = Σ delta
    ex.gemm(d.nin, d.nout, rows, below, 1, d.nin, A.delta[l], d.nout, G + d.w0, d.nout, 0, 0, 0, 0, 0);
    ex.colsum(rows, d.nout, A.delta[l], d.nout, G + d.b0);
    if (l > 0) {
      // delta below = delta · Wᵀ, gated by the relu below, then by its dropout mask
      ex.gemm(
        rows,
        d.nin,
        d.nout,
        A.delta[l],
        d.nout,
        1,
        d.wt,
        d.nin,
        A.delta[l - 1],
        d.nin,
        0,
        0,
        2,
        A.act[l - 1],
        d.nin,
      );
      if (useDropout && A.mask[l - 1] >= 0) {
        const dl = A.delta[l - 1] >> 2;
        const mask = A.mask[l - 1] >> 2;
        for (let t = 0, count = rows * d.nin; t < count; t++) f32[dl + t] *= f32[mask + t];
      }
    } else {
      // gradient of the last pooled output (the pooling's backward applies the relu below it)
      ex.gemm(
        rows,
        d.nin,
        d.nout,
        A.delta[0],
        d.nout,
        1,
        d.wt,
        d.nin,
        A.dPooled[nc - 1],
        lastConv.ph * lastConv.pw * lastConv.cout,
        0,
        0,
        0,
        0,
        0,
      );
    }
  }
  if (clock) clock.lap(4);
  // backward: blocks
  for (let l = nc - 1; l >= 0; l--) {
    const c = convs[l];
    const pixels = rows * c.h * c.w;
    ex.maxpoolBack(A.out[l], A.pooled[l], A.dPooled[l], rows, c.h, c.w, c.cout, A.dOut);
    if (clock) clock.lap(5);
    if (c.gamma >= 0) {
      // Through the batch normalisation: ∂γ = Σ dOut·x̂, ∂β = Σ dOut, and in place
      // dz = γ / σ · (dOut − ∂β / P − x̂ · ∂γ / P), x̂ = (z − mean) / σ
      const Z = A.z[l] >> 2;
      const S = A.stats[l] >> 2;
      const D = A.dOut >> 2;
      const C = c.cout;
      const dGamma = new Float64Array(C);
      const dBeta = new Float64Array(C);
      const invStd = new Float64Array(C);
      for (let ch = 0; ch < C; ch++) invStd[ch] = 1 / Math.sqrt(f32[S + C + ch] + 1e-5);
      for (let q = 0; q < pixels * C; q++) {
        const ch = q % C;
        dBeta[ch] += f32[D + q];
        dGamma[ch] += f32[D + q] * (f32[Z + q] - f32[S + ch]) * invStd[ch];
      }
      for (let q = 0; q < pixels * C; q++) {
        const ch = q % C;
        const xhat = (f32[Z + q] - f32[S + ch]) * invStd[ch];
        f32[D + q] =
          f32[(c.gamma >> 2) + ch] * invStd[ch] * (f32[D + q] - dBeta[ch] / pixels - (xhat * dGamma[ch]) / pixels);
      }
      for (let ch = 0; ch < C; ch++) {
        f32[((G + c.gamma) >> 2) + ch] = dGamma[ch];
        f32[((G + c.beta) >> 2) + ch] = dBeta[ch];
      }
    }
    // dW = colᵀ · dOut, summed over chunks of pixels whose rows stay in cache while every block of
    // dW passes over them (one pass over all pixels per block would stream them from memory each time).
    for (let p0 = 0; p0 < pixels; p0 += 192) {
      const chunk = pixels - p0 < 192 ? pixels - p0 : 192;
      ex.gemm(
        c.k,
        c.cout,
        chunk,
        A.col[l] + 4 * p0 * c.k,
        1,
        c.k,
        A.dOut + 4 * p0 * c.cout,
        c.cout,
        G + c.w0,
        c.cout,
        p0 === 0 ? 0 : 1,
        0,
        0,
        0,
        0,
      );
    }
    ex.colsum(pixels, c.cout, A.dOut, c.cout, G + c.b0);
    if (clock) clock.lap(6);
    if (l > 0) {
      ex.gemm(pixels, c.k, c.cout, A.dOut, c.cout, 1, c.wt, c.k, A.dCol, c.k, 0, 0, 0, 0, 0);
      ex.col2im(A.dCol, rows, c.h, c.w, c.cin, A.dPooled[l - 1]);
      if (clock) clock.lap(7);
    }
  }
  return loss;
}
