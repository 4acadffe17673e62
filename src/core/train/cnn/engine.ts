// The CNN's numeric engine: one shared WebAssembly memory laid out by layout.ts, the kernels of
// gemm.wat (its shared-memory build) and conv.wat instantiated on it, and optionally a helper thread
// running lane 1 of every batch (lane.ts) while this thread runs lane 0, signalled through shared
// control words (kernels/helperThread.ts, as the GBDT's helper). Lane 1's gradients are added
// into lane 0's after both finish, on one thread or two alike, so the weights are bit-identical.

import { compileKernel } from '../kernels/compile';
import { CONV_WASM_BASE64 } from '../kernels/conv.wasm';
import { GEMM_SHARED_WASM_BASE64 } from '../kernels/gemmShared.wasm';
import { ADAM_BETA1, ADAM_BETA2, ADAM_EPSILON } from '../kernels/gemm';
import { HELPER_FIRST_WORD, HelperThread, helperSource } from '../kernels/helperThread';
import { TrainingError } from '../types';
import { CNN_PHASES, cnnLaneStep, type LaneClock, type LaneKernels } from './lane';
import { cnnLayout, type CnnArchitecture, type CnnLayout } from './layout';

const SUM_PHASE = CNN_PHASES.indexOf('gradient sum');
const OPTIMIZER_PHASE = CNN_PHASES.indexOf('optimizer');

type Raw = (...args: number[]) => number;

interface EngineKernels extends LaneKernels {
  adam: Raw;
  sgd: Raw;
  add: Raw;
}

// The helper's job parameters, after the handshake's control words (kernels/helperThread.ts).
const ROWS = HELPER_FIRST_WORD;
const TRAIN = HELPER_FIRST_WORD + 1;
const DROPOUT = HELPER_FIRST_WORD + 2;
const CONTROL_WORDS = HELPER_FIRST_WORD + 3;
/** control[TRAIN] of a job that is the helper's share of an optimizer step, not a lane. */
const OPTIMIZER_JOB = 2;
/** io (Float64Array): [0] the helper's loss, [1] inv (1 / batch rows), from [2] the optimizer's settings. */
const SETTINGS_AT = 2;
const IO_WORDS = SETTINGS_AT + 7;

const HELPER_START_TIMEOUT_MS = 10_000;
const PAGE = 65536;

const HELPER_SOURCE = helperSource(
  `
const { gemmModule, convModule, memory, io, L, units } = workerData;
const g = new WebAssembly.Instance(gemmModule, { env: { memory } }).exports;
const c = new WebAssembly.Instance(convModule, { env: { memory } }).exports;
const ex = { gemm: g.gemm, colsum: g.colsum, softmax: g.softmax, adam: g.adam, sgd: g.sgd, im2col: c.im2col, col2im: c.col2im, maxpool: c.maxpool, maxpoolBack: c.maxpoolBack };
const step = (${cnnLaneStep.toString()});
const optimize = (${applyOptimizer.toString()});
const transposeRows = (${transposeRows.toString()});
const h = new Float32Array(memory.buffer);`,
  `
    if (control[${TRAIN}] === ${OPTIMIZER_JOB}) optimize(ex, h, units, L, io.subarray(${SETTINGS_AT}), transposeRows);
    else io[0] = step(ex, memory.buffer, L, 1, control[${ROWS}], control[${TRAIN}], control[${DROPOUT}], io[1]);`,
);

/**
 * A share of an optimizer step: the `count` floats of a parameter block from byte offset `at`, and
 * for a weight block whose transposed copy the backward pass reads, the rows of it they cover
 * ([src, rows, cols, dst, firstRow, endRow] in floats, as transposeRows takes them).
 */
export interface OptimizerUnit {
  at: number;
  count: number;
  /** Weights take the L2 term; biases and batch-norm parameters do not. */
  decayed: boolean;
  transpose: [number, number, number, number, number, number] | null;
}

/**
 * The optimizer step's work in two shares of about equal size, this thread's and the helper's (the
 * dense weights, most of it, split by rows). Every update is element by element, so the weights are
 * the same whichever thread does which share, and the same on one thread.
 */
export function optimizerPlan(L: CnnLayout): [OptimizerUnit[], OptimizerUnit[]] {
  const whole: OptimizerUnit[] = [];
  const weights = (at: number, rows: number, cols: number, wt: number) =>
    whole.push({
      at,
      count: rows * cols,
      decayed: true,
      transpose: wt >= 0 ? [at >> 2, rows, cols, wt >> 2, 0, rows] : null,
    });
  const other = (at: number, count: number) => whole.push({ at, count, decayed: false, transpose: null });
  for (const c of L.convs) {
    weights(c.w0, c.k, c.cout, c.wt);
    other(c.b0, c.cout);
    if (c.gamma >= 0) {
      other(c.gamma, c.cout);
      other(c.beta, c.cout);
    }
  }
  for (const d of L.denses) {
    weights(d.w0, d.nin, d.nout, d.wt);
    other(d.b0, d.nout);
  }
  const half = whole.reduce((sum, u) => sum + u.count, 0) / 2;
  const mine: OptimizerUnit[] = [];
  const helpers: OptimizerUnit[] = [];
  let done = 0;
  for (const u of whole) {
    const room = half - done;
    done += u.count;
    if (room <= 0) helpers.push(u);
    else if (u.count <= room || !u.transpose) mine.push(u);
    else {
      // Rows [0, r) here, [r, rows) on the helper: columns are a multiple of 4 (layout.ts), so both
      // parts keep the kernels' 4-float steps.
      const [src, rows, cols, dst] = u.transpose;
      const r = Math.round(room / cols);
      if (r > 0) mine.push({ ...u, count: r * cols, transpose: [src, rows, cols, dst, 0, r] });
      if (r < rows)
        helpers.push({
          ...u,
          at: u.at + r * cols * 4,
          count: (rows - r) * cols,
          transpose: [src, rows, cols, dst, r, rows],
        });
    }
  }
  return [mine, helpers];
}

/**
 * Applies Adam or SGD to `units`, then refreshes their rows of the transposed weights. Self-contained
 * (the helper thread runs its source): settings = [adam 1 / sgd 0, step size or learning rate, l2,
 * momentum, beta1, beta2, epsilon].
 */
function applyOptimizer(
  ex: { adam: Raw; sgd: Raw },
  h: Float32Array,
  units: OptimizerUnit[],
  L: CnnLayout,
  settings: ArrayLike<number>,
  transpose: typeof transposeRows,
): void {
  const G = L.lanes[0].grads;
  for (const u of units) {
    const n4 = (u.count + 3) & ~3;
    const decay = u.decayed ? settings[2] : 0;
    if (settings[0] === 1)
      ex.adam(
        n4,
        u.at,
        G + u.at,
        L.moment1 + u.at,
        L.moment2 + u.at,
        decay,
        settings[1],
        settings[4],
        settings[5],
        settings[6],
      );
    else ex.sgd(n4, u.at, G + u.at, L.moment1 + u.at, decay, settings[1], settings[3]);
    if (u.transpose) transpose(h, ...u.transpose);
  }
}

export interface OptimizerSettings {
  kind: 'adam' | 'sgd';
  learningRate: number;
  momentum: number;
  /** Added to each weight's gradient times the weight (PyTorch's weight_decay); biases are not decayed. */
  l2: number;
}

export class CnnEngine {
  readonly layout: CnnLayout;
  readonly memory: WebAssembly.Memory;
  /** The whole memory as floats (offsets in layout.ts are bytes: divide by 4). */
  readonly f32: Float32Array;
  private readonly ex: EngineKernels;
  /** Runs lane 1 of each batch and half of each optimizer step, when there are two threads. */
  private helper: HelperThread | undefined;
  private io: Float64Array | null = null;
  private t = 0;
  /** This thread's and the helper's shares of an optimizer step. */
  private readonly plan: [OptimizerUnit[], OptimizerUnit[]];
  /** When set (benchmarks), lanes run on this thread and charge their time to phases. */
  clock: LaneClock | undefined;

  /** Helper threads started and not yet exited, the GBDT's included (tests check none outlives training). */
  static get liveHelpers(): number {
    return HelperThread.live;
  }

  constructor(arch: CnnArchitecture, laneRows: number, threads: number) {
    const gemmModule = compileKernel(GEMM_SHARED_WASM_BASE64);
    const convModule = compileKernel(CONV_WASM_BASE64);
    if (!gemmModule || !convModule)
      throw new TrainingError('The cnn model needs WebAssembly SIMD and shared memory, which this runtime lacks');
    this.layout = cnnLayout(arch, laneRows);
    const pages = Math.ceil(this.layout.bytes / PAGE);
    // A WebAssembly memory (32-bit) holds at most 4 GiB; say so rather than fail inside the engine.
    if (pages > 65536 - 1)
      throw new TrainingError(
        `The CNN needs ${Math.ceil(this.layout.bytes / 2 ** 20)} MiB of working memory: more than the 4 GiB it can address; use a smaller batchSize, fewer channels or smaller images`,
        'batchSize',
      );
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    const g = new WebAssembly.Instance(gemmModule, { env: { memory: this.memory } }).exports as Record<string, Raw>;
    const c = new WebAssembly.Instance(convModule, { env: { memory: this.memory } }).exports as Record<string, Raw>;
    this.ex = {
      gemm: g.gemm,
      colsum: g.colsum,
      softmax: g.softmax,
      adam: g.adam,
      sgd: g.sgd,
      im2col: c.im2col,
      col2im: c.col2im,
      maxpool: c.maxpool,
      maxpoolBack: c.maxpoolBack,
      add: c.add,
    };
    this.f32 = new Float32Array(this.memory.buffer);
    this.plan = optimizerPlan(this.layout);
    if (threads > 1) this.startHelper(gemmModule, convModule);
  }

  /** Whether a helper thread runs lane 1. */
  get parallel(): boolean {
    return this.helper !== undefined;
  }

  /** The parameters (a view into the memory: copy it to keep a snapshot). */
  params(): Float32Array {
    return this.f32.subarray(0, this.layout.nParams);
  }

  /** Lane `lane`'s input images, NHWC floats (laneRows of them). */
  laneInput(lane: number): Float32Array {
    const L = this.layout;
    const a = L.arch;
    return this.f32.subarray(
      L.lanes[lane].x >> 2,
      (L.lanes[lane].x >> 2) + L.laneRows * a.height * a.width * a.inChannels,
    );
  }

  laneLabels(lane: number): Int32Array {
    return new Int32Array(this.memory.buffer, this.layout.lanes[lane].labels, this.layout.laneRows);
  }

  /** Dense hidden layer l's dropout mask of lane `lane` (0 or 1/(1-p) per unit). */
  laneMask(lane: number, l: number): Float32Array {
    const at = this.layout.lanes[lane].mask[l] >> 2;
    return this.f32.subarray(at, at + this.layout.laneRows * this.layout.denses[l].nout);
  }

  /** Float offset of lane 0's logits after forward() (row stride: the last layer's nout). */
  get logitsAt(): number {
    const L = this.layout;
    return L.lanes[0].act[L.denses.length - 1] >> 2;
  }

  /** Writes the transposed weights the backward pass reads; call after the weights change. */
  transposeWeights(): void {
    const h = this.f32;
    for (const c of this.layout.convs) if (c.wt >= 0) transposeRows(h, c.w0 >> 2, c.k, c.cout, c.wt >> 2, 0, c.k);
    for (const d of this.layout.denses) transposeRows(h, d.w0 >> 2, d.nin, d.nout, d.wt >> 2, 0, d.nin);
  }

  /** Forward pass of lane 0 over `rows` images at its input (prediction; no dropout). */
  forward(rows: number): void {
    cnnLaneStep(this.ex, this.memory.buffer, this.layout, 0, rows, 0, 0, 0);
  }

  /**
   * Gradients of the mean loss over a batch whose first rows0 rows are at lane 0 and the next rows1
   * at lane 1, into lane 0's gradient block. `prepareLane0` (if given) fills lane 0's input once
   * lane 1 has started. Returns the summed loss.
   */
  gradients(rows0: number, rows1: number, useDropout: boolean, prepareLane0?: () => void): number {
    const inv = 1 / (rows0 + rows1);
    const drop = useDropout ? 1 : 0;
    const { helper, io, clock } = this;
    const run = (lane: number, rows: number) =>
      cnnLaneStep(this.ex, this.memory.buffer, this.layout, lane, rows, 1, drop, inv, clock);
    let loss: number;
    if (rows1 === 0) {
      prepareLane0?.();
      const alone = run(0, rows0);
      this.updateRunningStats(rows0, 0);
      return alone;
    }
    if (helper && io && !clock) {
      helper.control[ROWS] = rows1;
      helper.control[TRAIN] = 1;
      helper.control[DROPOUT] = drop;
      io[1] = inv;
      const job = helper.post();
      prepareLane0?.();
      loss = run(0, rows0);
      loss += this.await(job) ? run(1, rows1) : io[0];
    } else {
      // One thread (or timed: each phase charged on this thread): lane 1, then lane 0, as two threads start them.
      const lane1 = run(1, rows1);
      prepareLane0?.();
      loss = run(0, rows0) + lane1;
    }
    const L = this.layout;
    this.ex.add(L.lanes[0].grads, L.lanes[1].grads, L.nParams);
    this.updateRunningStats(rows0, rows1);
    clock?.lap(SUM_PHASE);
    return loss;
  }

  /**
   * Batch normalisation's running mean and variance (momentum 0.1, the variance unbiased, as PyTorch
   * keeps them) from the lanes' statistics: their means weighted by rows, their variances likewise.
   */
  private updateRunningStats(rows0: number, rows1: number): void {
    const h = this.f32;
    const L = this.layout;
    const total = rows0 + rows1;
    L.convs.forEach((c, l) => {
      if (c.gamma < 0) return;
      const pixels = total * c.h * c.w;
      for (let ch = 0; ch < c.cout; ch++) {
        let mean = 0;
        let variance = 0;
        [rows0, rows1].forEach((rows, lane) => {
          if (rows === 0) return;
          const S = L.lanes[lane].stats[l] >> 2;
          mean += (rows / total) * h[S + ch];
          variance += (rows / total) * h[S + c.cout + ch];
        });
        const unbiased = pixels > 1 ? (variance * pixels) / (pixels - 1) : variance;
        h[(c.runMean >> 2) + ch] = 0.9 * h[(c.runMean >> 2) + ch] + 0.1 * mean;
        h[(c.runVar >> 2) + ch] = 0.9 * h[(c.runVar >> 2) + ch] + 0.1 * unbiased;
      }
    });
  }

  /**
   * One optimizer update from lane 0's gradient block, and the transposed weights refreshed: half the
   * parameters on the helper thread while this thread does the other half.
   */
  step(o: OptimizerSettings): void {
    this.t++;
    const adam = o.kind === 'adam';
    // Adam's bias corrections folded into the step size (as the MLP's optimizer).
    const stepSize = adam ? (o.learningRate * Math.sqrt(1 - ADAM_BETA2 ** this.t)) / (1 - ADAM_BETA1 ** this.t) : 0;
    const settings = [
      adam ? 1 : 0,
      adam ? stepSize : o.learningRate,
      o.l2,
      o.momentum,
      ADAM_BETA1,
      ADAM_BETA2,
      ADAM_EPSILON,
    ];
    const [mine, helpers] = this.plan;
    const { helper, io } = this;
    if (helper && io && !this.clock) {
      io.set(settings, SETTINGS_AT);
      helper.control[TRAIN] = OPTIMIZER_JOB;
      const job = helper.post();
      applyOptimizer(this.ex, this.f32, mine, this.layout, settings, transposeRows);
      // A share half applied cannot be redone (the moments moved): stop rather than train on.
      if (this.await(job)) throw new TrainingError('The CNN helper thread failed during an optimizer step');
    } else {
      applyOptimizer(this.ex, this.f32, mine, this.layout, settings, transposeRows);
      applyOptimizer(this.ex, this.f32, helpers, this.layout, settings, transposeRows);
    }
    this.clock?.lap(OPTIMIZER_PHASE);
  }

  /** Stops the helper thread. */
  dispose(): void {
    this.helper?.stop();
    this.helper = undefined;
    this.io = null;
  }

  private startHelper(gemmModule: WebAssembly.Module, convModule: WebAssembly.Module): void {
    this.io = new Float64Array(new SharedArrayBuffer(8 * IO_WORDS));
    const workerData = {
      gemmModule,
      convModule,
      memory: this.memory,
      io: this.io,
      L: this.layout,
      units: this.plan[1],
    };
    this.helper = HelperThread.start(HELPER_SOURCE, workerData, CONTROL_WORDS, HELPER_START_TIMEOUT_MS);
    if (!this.helper) this.io = null;
  }

  /** Waits for the helper's job; true when it failed (its lane is then redone here, alone from now on). */
  private await(job: number): boolean {
    if (!this.helper!.await(job)) return false;
    this.dispose();
    return true;
  }
}

/** Rows [firstRow, endRow) of dst (cols × rows) = srcᵀ, src rows × cols row-major; float offsets. */
function transposeRows(
  h: Float32Array,
  src: number,
  rows: number,
  cols: number,
  dst: number,
  firstRow: number,
  endRow: number,
): void {
  for (let i = firstRow; i < endRow; i++) {
    const s = src + i * cols;
    for (let j = 0; j < cols; j++) h[dst + j * rows + i] = h[s + j];
  }
}
