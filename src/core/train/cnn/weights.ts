// The CNN's parameters in the layout ONNX and PyTorch use (Conv weights [cout, cin, 3, 3], dense
// weights [in, out] over NCHW-flattened features, no padding), read from or written to the engine's
// padded NHWC layout (layout.ts). Export reads the weights; tests compare gradients blocks and load
// weights computed elsewhere.

import type { CnnLayout } from './layout';

export interface LayerTensors {
  kind: 'conv' | 'dense';
  /** conv: [cout, cin, 3, 3]; dense: [in, out]. */
  dims: number[];
  weight: Float32Array;
  bias: Float32Array;
}

/**
 * Float index in the engine's block at float offset `base` of every unpadded weight, in ONNX order,
 * per layer (and of its biases).
 */
function layerIndices(
  L: CnnLayout,
): { kind: 'conv' | 'dense'; dims: number[]; weight: Int32Array; bias: Int32Array }[] {
  const out: { kind: 'conv' | 'dense'; dims: number[]; weight: Int32Array; bias: Int32Array }[] = [];
  for (const c of L.convs) {
    const weight = new Int32Array(c.coutAsked * c.cinAsked * 9);
    for (let co = 0; co < c.coutAsked; co++)
      for (let ci = 0; ci < c.cinAsked; ci++)
        for (let tap = 0; tap < 9; tap++)
          weight[(co * c.cinAsked + ci) * 9 + tap] = (c.w0 >> 2) + (tap * c.cin + ci) * c.cout + co;
    const bias = Int32Array.from({ length: c.coutAsked }, (_, j) => (c.b0 >> 2) + j);
    out.push({ kind: 'conv', dims: [c.coutAsked, c.cinAsked, 3, 3], weight, bias });
  }
  const last = L.convs[L.convs.length - 1];
  const cells = last.ph * last.pw;
  L.denses.forEach((d, l) => {
    const nin = l === 0 ? cells * last.coutAsked : L.denses[l - 1].noutAsked;
    const weight = new Int32Array(nin * d.noutAsked);
    for (let i = 0; i < nin; i++) {
      // ONNX flattens NCHW (channel, y, x); the engine's rows are NHWC ((y, x), channel).
      const row = l === 0 ? (i % cells) * last.cout + Math.floor(i / cells) : i;
      for (let j = 0; j < d.noutAsked; j++) weight[i * d.noutAsked + j] = (d.w0 >> 2) + row * d.nout + j;
    }
    const bias = Int32Array.from({ length: d.noutAsked }, (_, j) => (d.b0 >> 2) + j);
    out.push({ kind: 'dense', dims: [nin, d.noutAsked], weight, bias });
  });
  return out;
}

/** The params-shaped block at byte offset `base` (the params themselves: 0) in ONNX layout. */
export function readLayerTensors(f32: Float32Array, L: CnnLayout, base = 0): LayerTensors[] {
  const at = base >> 2;
  return layerIndices(L).map(({ kind, dims, weight, bias }) => ({
    kind,
    dims,
    weight: Float32Array.from(weight, (i) => f32[at + i]),
    bias: Float32Array.from(bias, (i) => f32[at + i]),
  }));
}

/** Writes weights given in ONNX layout into the params (padding stays as it is: zero). */
export function writeLayerTensors(
  f32: Float32Array,
  L: CnnLayout,
  tensors: { weight: ArrayLike<number>; bias: ArrayLike<number> }[],
): void {
  layerIndices(L).forEach(({ weight, bias }, l) => {
    weight.forEach((i, k) => (f32[i] = tensors[l].weight[k]));
    bias.forEach((i, k) => (f32[i] = tensors[l].bias[k]));
  });
}
