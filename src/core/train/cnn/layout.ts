// Where everything of a CNN lives in its one (shared) WebAssembly memory: a plain object of byte
// offsets, so that the helper thread gets it as it is (workerData) and the lane step (lane.ts) reads
// it without any class or import.
//
//   params   per conv layer W (9·cin × cout, rows in (ky, kx, cin) order) and b (with batch
//            normalisation: γ, β, running mean and variance); per dense layer W (nin × nout) and b;
//            every block 4-float aligned
//   grads    one params-shaped block per lane (lane 1's is added into lane 0's in a fixed order)
//   moment1, moment2 (Adam) / velocity (SGD): params-shaped
//   wt       the transposed weights backward passes read (conv layers ≥ 1, every dense layer)
//   per lane the input images (NHWC), labels, dropout masks and every activation and gradient of a
//            pass over at most laneRows images
// Channel counts of conv outputs and dense widths are padded to a multiple of 4 (the kernels' SIMD
// width): padded units have zero weights and biases, output 0 and receive zero gradients, so they
// stay 0 and are dropped at export.

export interface CnnArchitecture {
  height: number;
  width: number;
  /** Channels of the input images (1 or 3). */
  inChannels: number;
  /** Output channels of each block, as asked. */
  channels: number[];
  /** Units of each dense hidden layer, as asked. */
  dense: number[];
  classes: number;
  /** Batch normalisation after each convolution (before its ReLU). */
  batchNorm: boolean;
}

export interface ConvLayout {
  /** Input height and width (the output before pooling has the same). */
  h: number;
  w: number;
  /** Input channels as stored (padded, except the image's own). */
  cin: number;
  cinAsked: number;
  cout: number;
  coutAsked: number;
  /** 9 · cin: the im2col row length. */
  k: number;
  /** Pooled output size. */
  ph: number;
  pw: number;
  w0: number;
  b0: number;
  /** W transposed (cout × k), for the input gradient; -1 for the first layer (which needs none). */
  wt: number;
  /**
   * Batch normalisation (-1 without): scale and shift (trained), running mean and variance (in the
   * params block so that snapshots keep them, but never stepped by the optimizer).
   */
  gamma: number;
  beta: number;
  runMean: number;
  runVar: number;
}

export interface DenseLayout {
  nin: number;
  nout: number;
  noutAsked: number;
  w0: number;
  b0: number;
  wt: number;
}

export interface LaneLayout {
  x: number;
  /** Int32 class index per row. */
  labels: number;
  rowMax: number;
  rowSum: number;
  grads: number;
  /** Per conv layer: im2col rows, output (relu'd, before pooling), pooled output, gradient of the pooled output. */
  col: number[];
  /** Per conv layer with batch normalisation: the convolution's output before it, and the batch's mean and variance per channel. */
  z: number[];
  stats: number[];
  out: number[];
  pooled: number[];
  dPooled: number[];
  /** Per dense layer: output, its gradient, and for hidden layers with dropout the mask and the dropped copy (-1 without). */
  act: number[];
  delta: number[];
  mask: number[];
  dropped: number[];
  /** Scratch shared by the conv layers of a backward pass: gradient of the pre-pool output, and of the im2col rows. */
  dOut: number;
  dCol: number;
}

export interface CnnLayout {
  arch: CnnArchitecture;
  laneRows: number;
  convs: ConvLayout[];
  denses: DenseLayout[];
  /** Floats in the params block (which starts at byte 0). */
  nParams: number;
  moment1: number;
  moment2: number;
  lanes: LaneLayout[];
  /** Features after the last block (padded channels): the first dense layer's input. */
  flat: number;
  bytes: number;
}

export const LANES = 2;

const align4 = (x: number) => (x + 3) & ~3;

export function cnnLayout(arch: CnnArchitecture, laneRows: number): CnnLayout {
  let floats = 0;
  const take = (count: number) => {
    const at = floats * 4;
    floats = align4(floats + count);
    return at;
  };
  const convs: ConvLayout[] = [];
  let h = arch.height;
  let w = arch.width;
  let cin = arch.inChannels;
  let cinAsked = arch.inChannels;
  for (const asked of arch.channels) {
    const cout = align4(asked);
    const k = 9 * cin;
    const w0 = take(k * cout);
    const b0 = take(cout);
    const bn = arch.batchNorm;
    const [gamma, beta, runMean, runVar] = [0, 1, 2, 3].map(() => (bn ? take(cout) : -1));
    convs.push({
      h,
      w,
      cin,
      cinAsked,
      cout,
      coutAsked: asked,
      k,
      ph: h >> 1,
      pw: w >> 1,
      w0,
      b0,
      wt: -1,
      gamma,
      beta,
      runMean,
      runVar,
    });
    h >>= 1;
    w >>= 1;
    cin = cout;
    cinAsked = asked;
  }
  const flat = h * w * cin;
  const denses: DenseLayout[] = [];
  let nin = flat;
  for (const asked of [...arch.dense, arch.classes]) {
    const nout = align4(asked);
    const w0 = take(nin * nout);
    const b0 = take(nout);
    denses.push({ nin, nout, noutAsked: asked, w0, b0, wt: -1 });
    nin = nout;
  }
  const nParams = floats;
  const gradBlocks = [take(nParams), take(nParams)];
  const moment1 = take(nParams);
  const moment2 = take(nParams);
  convs.forEach((c, l) => (c.wt = l > 0 ? take(c.k * c.cout) : -1));
  denses.forEach((d) => (d.wt = take(d.nin * d.nout)));
  const R = laneRows;
  const lanes: LaneLayout[] = gradBlocks.map((grads) => {
    const lane: LaneLayout = {
      x: take(R * arch.height * arch.width * arch.inChannels),
      labels: take(R),
      rowMax: take(R),
      rowSum: take(R),
      grads,
      col: [],
      z: [],
      stats: [],
      out: [],
      pooled: [],
      dPooled: [],
      act: [],
      delta: [],
      mask: [],
      dropped: [],
      dOut: 0,
      dCol: 0,
    };
    let maxOut = 0;
    let maxCol = 0;
    for (const c of convs) {
      const pixels = R * c.h * c.w;
      lane.col.push(take(pixels * c.k));
      lane.z.push(arch.batchNorm ? take(pixels * c.cout) : -1);
      lane.stats.push(arch.batchNorm ? take(2 * c.cout) : -1);
      lane.out.push(take(pixels * c.cout));
      lane.pooled.push(take(R * c.ph * c.pw * c.cout));
      lane.dPooled.push(take(R * c.ph * c.pw * c.cout));
      maxOut = Math.max(maxOut, pixels * c.cout);
      maxCol = Math.max(maxCol, pixels * c.k);
    }
    lane.dOut = take(maxOut);
    lane.dCol = take(maxCol);
    denses.forEach((d, l) => {
      lane.act.push(take(R * d.nout));
      lane.delta.push(take(R * d.nout));
      const hidden = l < denses.length - 1;
      lane.mask.push(hidden ? take(R * d.nout) : -1);
      lane.dropped.push(hidden ? take(R * d.nout) : -1);
    });
    return lane;
  });
  return { arch, laneRows, convs, denses, nParams, moment1, moment2, lanes, flat, bytes: floats * 4 };
}
