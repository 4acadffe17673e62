// The MLP's numeric engine: forward pass, loss gradient, backward pass and optimizer steps on a
// fixed-size kernel heap (see gemm.ts). Every buffer is allocated once, when the network is built,
// so the per-batch loops allocate nothing. Products, bias, relu and its gradient, bias gradients,
// row gathering, softmax and the optimizer update run in the kernels (a handful of calls per
// batch); tanh, dropout and the per-row log-loss stay in plain loops.
//
// Heap layout (float offsets, each block 4-float aligned for SIMD loads):
//   params  W0 b0 W1 b1 …   W_l is widths[l] × widths[l+1] row-major (inputs × units), as in ONNX Gemm
//   grads, moment1, moment2 (Adam) / velocity (SGD): same layout as params
//   data    dataRows × sizes[0], and its row order (u32): the training rows, gathered per batch
//   x       maxRows × sizes[0]     the input rows of the current batch
//   per layer l: act (maxRows × widths[l+1]) and delta (same), and for hidden layers with dropout a
//   mask and the dropped copy; for l ≥ 1 a scratch for W_lᵀ.
// Layers are padded to a multiple of 4 units (`widths`) so the kernels never take their scalar
// column path: padded units have zero weights and biases, output 0, get zero gradients (their
// outgoing weights are zero and the loss ignores padded outputs) and so stay zero.

import { TrainingError } from '../types';
import {
  ADAM_BETA1,
  ADAM_BETA2,
  createKernels,
  INIT_BIAS,
  INIT_ZERO,
  POST_GATE,
  POST_NONE,
  POST_RELU,
  type KernelKind,
  type Kernels,
} from './gemm';

export type Activation = 'relu' | 'tanh';

export interface NetworkSpec {
  /** [inputs, hidden…, outputs] */
  sizes: number[];
  activation: Activation;
  /** Largest number of rows passed at once (the batch size, or the prediction chunk). */
  maxRows: number;
  /** Fraction of hidden units dropped in training passes (inverted dropout); 0 for none. */
  dropout: number;
  kernel: KernelKind;
  /** Training rows held in the heap for gatherBatch(); 0 when only predicting. */
  dataRows: number;
}

const align4 = (x: number) => (x + 3) & ~3;

export class MlpNetwork {
  readonly kern: Kernels;
  readonly heap: Float32Array;
  /** Units per layer as asked: [inputs, hidden…, outputs]. */
  readonly sizes: readonly number[];
  /** Units per layer as stored: sizes padded to a multiple of 4 (inputs unpadded). */
  readonly widths: readonly number[];
  readonly layers: number;
  readonly nParams: number;
  /** Offsets of each layer's weights and biases in the params block (which starts at 0). */
  readonly wOff: number[] = [];
  readonly bOff: number[] = [];
  readonly gradBase: number;
  /** Optimizer state: two blocks laid out like the params. */
  readonly moment1Base: number;
  readonly moment2Base: number;
  /** Training rows (dataRows × sizes[0]) and their order for the current epoch. */
  readonly dataOff: number;
  readonly order: Uint32Array;
  private readonly orderOff: number;
  /** Input rows of the current pass. */
  readonly xOff: number;
  private readonly actOff: number[] = [];
  private readonly deltaOff: number[] = [];
  private readonly maskOff: number[] = [];
  private readonly dropOff: number[] = [];
  private readonly wtOff: number[] = [];
  /** Per-row max and exp-sum of the softmax (maxRows each). */
  private readonly rowMaxOff: number;
  private readonly rowSumOff: number;

  constructor(readonly spec: NetworkSpec) {
    const { maxRows } = spec;
    this.sizes = spec.sizes.slice();
    const sizes = spec.sizes.map((u, l) => (l === 0 ? u : align4(u)));
    this.widths = sizes;
    this.layers = sizes.length - 1;
    let off = 0;
    for (let l = 0; l < this.layers; l++) {
      this.wOff.push(off);
      off = align4(off + sizes[l] * sizes[l + 1]);
      this.bOff.push(off);
      off = align4(off + sizes[l + 1]);
    }
    this.nParams = off;
    this.gradBase = off;
    off += this.nParams;
    this.moment1Base = off;
    off += this.nParams;
    this.moment2Base = off;
    off += this.nParams;
    this.dataOff = off;
    off = align4(off + spec.dataRows * sizes[0]);
    this.orderOff = off;
    off = align4(off + spec.dataRows);
    this.xOff = off;
    off = align4(off + maxRows * sizes[0]);
    this.rowMaxOff = off;
    off = align4(off + maxRows);
    this.rowSumOff = off;
    off = align4(off + maxRows);
    for (let l = 0; l < this.layers; l++) {
      const block = align4(maxRows * sizes[l + 1]);
      this.actOff.push(off);
      off += block;
      this.deltaOff.push(off);
      off += block;
      const hidden = l < this.layers - 1;
      if (hidden && spec.dropout > 0) {
        this.maskOff.push(off);
        off += block;
        this.dropOff.push(off);
        off += block;
      } else {
        this.maskOff.push(-1);
        this.dropOff.push(-1);
      }
      if (l > 0) {
        this.wtOff.push(off);
        off = align4(off + sizes[l] * sizes[l + 1]);
      } else this.wtOff.push(-1);
    }
    // A WebAssembly memory (32-bit) holds at most 4 GiB; say so rather than fail inside the engine.
    if (off * 4 > 2 ** 32 - 65536) {
      throw new TrainingError(
        `The MLP needs ${Math.ceil((off * 4) / 2 ** 20)} MiB of working memory (training rows included): more than the 4 GiB it can address`,
      );
    }
    this.kern = createKernels(spec.kernel, off);
    this.heap = this.kern.heap;
    this.order = new Uint32Array(this.heap.buffer, this.heap.byteOffset + this.orderOff * 4, spec.dataRows);
  }

  /** Copies the input rows order[start .. start+rows) of the data block to x. */
  gatherBatch(start: number, rows: number): void {
    this.kern.gather(this.orderOff + start, rows, this.sizes[0], this.dataOff, this.xOff);
  }

  /** Heap offset of weight (input i → unit j) of layer l. */
  weightAt(l: number, i: number, j: number): number {
    return this.wOff[l] + i * this.widths[l + 1] + j;
  }

  /** Layer l's weights without padding: sizes[l] × sizes[l+1], row-major. */
  layerWeights(l: number): Float32Array {
    const nin = this.sizes[l];
    const nout = this.sizes[l + 1];
    const w = new Float32Array(nin * nout);
    for (let i = 0; i < nin; i++) for (let j = 0; j < nout; j++) w[i * nout + j] = this.heap[this.weightAt(l, i, j)];
    return w;
  }

  layerBias(l: number): Float32Array {
    return this.heap.slice(this.bOff[l], this.bOff[l] + this.sizes[l + 1]);
  }

  /** The parameters (a view into the heap: copy it to keep a snapshot). */
  params(): Float32Array {
    return this.heap.subarray(0, this.nParams);
  }

  /** Offset of the network's output rows (logits / regression values) after forward(). */
  get outOff(): number {
    return this.actOff[this.layers - 1];
  }

  /** Offset where the loss writes ∂loss/∂output for backward(). */
  get outDeltaOff(): number {
    return this.deltaOff[this.layers - 1];
  }

  private inputOff(l: number): number {
    if (l === 0) return this.xOff;
    return this.dropOff[l - 1] >= 0 ? this.dropOff[l - 1] : this.actOff[l - 1];
  }

  /**
   * Forward pass over `rows` input rows at xOff. With `dropoutRandom` (training), hidden units are
   * dropped with probability spec.dropout and the kept ones scaled by 1/(1-p).
   */
  forward(rows: number, dropoutRandom?: () => number): void {
    const h = this.heap;
    const relu = this.spec.activation === 'relu';
    for (let l = 0; l < this.layers; l++) {
      const nin = this.widths[l];
      const nout = this.widths[l + 1];
      const out = this.actOff[l];
      const hidden = l < this.layers - 1;
      const post = hidden && relu ? POST_RELU : POST_NONE;
      this.kern.gemm(
        rows,
        nout,
        nin,
        this.inputOff(l),
        nin,
        1,
        this.wOff[l],
        nout,
        out,
        nout,
        INIT_BIAS,
        this.bOff[l],
        post,
        0,
        0,
      );
      if (!hidden) break;
      const end = out + rows * nout;
      if (!relu) for (let t = out; t < end; t++) h[t] = Math.tanh(h[t]);
      if (dropoutRandom && this.dropOff[l] >= 0) {
        const p = this.spec.dropout;
        const keep = 1 / (1 - p);
        const mask = this.maskOff[l];
        const dropped = this.dropOff[l];
        for (let t = 0, count = rows * nout; t < count; t++) {
          const m = dropoutRandom() < p ? 0 : keep;
          h[mask + t] = m;
          h[dropped + t] = h[out + t] * m;
        }
      } else if (this.dropOff[l] >= 0) {
        // Inference with a dropout-trained network: units are used as they are (inverted dropout).
        h.copyWithin(this.dropOff[l], out, end);
      }
    }
  }

  /**
   * Softmax cross-entropy of the output rows against class indices `y[0..rows)`: writes
   * ∂(mean loss)/∂logits to outDeltaOff and returns the summed loss over the rows.
   */
  softmaxCrossEntropy(rows: number, y: Int32Array): number {
    const h = this.heap;
    const stride = this.widths[this.layers];
    const out = this.outOff;
    const delta = this.outDeltaOff;
    const inv = 1 / rows;
    this.kern.softmax(rows, this.sizes[this.layers], stride, out, delta, inv, this.rowMaxOff, this.rowSumOff);
    let total = 0;
    for (let i = 0; i < rows; i++) {
      const target = y[i];
      // loss = logsumexp(z) - z_target, finite for any finite logits
      total += Math.log(h[this.rowSumOff + i]) + h[this.rowMaxOff + i] - h[out + i * stride + target];
      h[delta + i * stride + target] -= inv;
    }
    return total;
  }

  /** Half squared error of the single output against `y[0..rows)`; returns the summed loss. */
  squaredError(rows: number, y: Float64Array): number {
    const h = this.heap;
    const out = this.outOff;
    const delta = this.outDeltaOff;
    const inv = 1 / rows;
    const stride = this.widths[this.layers];
    let total = 0;
    for (let i = 0; i < rows; i++) {
      const e = h[out + i * stride] - y[i];
      total += 0.5 * e * e;
      h[delta + i * stride] = e * inv;
    }
    return total;
  }

  /** Gradients of the loss (whose output gradient is at outDeltaOff) into the grads block. */
  backward(rows: number): void {
    const h = this.heap;
    const relu = this.spec.activation === 'relu';
    for (let l = this.layers - 1; l >= 0; l--) {
      const nin = this.widths[l];
      const nout = this.widths[l + 1];
      const delta = this.deltaOff[l];
      // ∂W = inputᵀ · delta, reading the input transposed in place; ∂b = column sums of delta
      this.kern.gemm(
        nin,
        nout,
        rows,
        this.inputOff(l),
        1,
        nin,
        delta,
        nout,
        this.gradBase + this.wOff[l],
        nout,
        INIT_ZERO,
        0,
        POST_NONE,
        0,
        0,
      );
      this.kern.colsum(rows, nout, delta, nout, this.gradBase + this.bOff[l]);
      if (l === 0) break;
      // ∂input = delta · Wᵀ, with Wᵀ materialised so the kernel reads contiguous rows
      const w = this.wOff[l];
      const wt = this.wtOff[l];
      for (let i = 0; i < nin; i++) for (let j = 0; j < nout; j++) h[wt + j * nin + i] = h[w + i * nout + j];
      const below = this.deltaOff[l - 1];
      const act = this.actOff[l - 1];
      // relu's gradient gates on the unit's output; tanh's multiplies by 1 - a²
      this.kern.gemm(
        rows,
        nin,
        nout,
        delta,
        nout,
        1,
        wt,
        nin,
        below,
        nin,
        INIT_ZERO,
        0,
        relu ? POST_GATE : POST_NONE,
        act,
        nin,
      );
      const count = rows * nin;
      if (!relu) {
        for (let t = 0; t < count; t++) {
          const a = h[act + t];
          h[below + t] *= 1 - a * a;
        }
      }
      const mask = this.maskOff[l - 1];
      if (mask >= 0) for (let t = 0; t < count; t++) h[below + t] *= h[mask + t];
    }
  }
}

export type OptimizerKind = 'adam' | 'sgd';

export interface OptimizerSpec {
  kind: OptimizerKind;
  learningRate: number;
  /** sgd only. */
  momentum: number;
  /**
   * L2 penalty as scikit-learn's `alpha`: each batch's mean loss gets (l2 / 2 / rows)·‖W‖² (weights,
   * not biases), i.e. the gradient gains (l2 / rows)·W.
   */
  l2: number;
}

/** Adam (the defaults of Kingma & Ba, as scikit-learn) or SGD with (heavy-ball) momentum. */
export class Optimizer {
  private t = 0;

  constructor(
    private readonly net: MlpNetwork,
    private readonly spec: OptimizerSpec,
  ) {}

  /** One update from the gradients of a batch of `rows` rows. */
  step(rows: number): void {
    const net = this.net;
    const { kern, gradBase, moment1Base, moment2Base } = net;
    const decay = this.spec.l2 / rows;
    const lr = this.spec.learningRate;
    this.t++;
    const adam = this.spec.kind === 'adam';
    // Adam's bias corrections folded into the step size, as scikit-learn does.
    const stepSize = adam ? (lr * Math.sqrt(1 - ADAM_BETA2 ** this.t)) / (1 - ADAM_BETA1 ** this.t) : lr;
    for (let l = 0; l < net.layers; l++) {
      // Blocks are 4-aligned and their padding stays zero, so whole quads can be updated.
      const wCount = align4(net.widths[l] * net.widths[l + 1]);
      const bCount = net.widths[l + 1];
      const w = net.wOff[l];
      const b = net.bOff[l];
      if (adam) {
        kern.adam(wCount, w, gradBase + w, moment1Base + w, moment2Base + w, decay, stepSize);
        kern.adam(bCount, b, gradBase + b, moment1Base + b, moment2Base + b, 0, stepSize);
      } else {
        kern.sgd(wCount, w, gradBase + w, moment1Base + w, decay, lr, this.spec.momentum);
        kern.sgd(bCount, b, gradBase + b, moment1Base + b, 0, lr, this.spec.momentum);
      }
    }
  }
}
