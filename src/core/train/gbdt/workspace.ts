// The boosting workspace: the GBDT's shared memory and the threads that work on it. It builds the
// histograms (the hot loop) and does the work around them, optionally on two threads: split search,
// partitions, gradients and score updates.
//
// A histogram holds, per bin of every column, (sum of gradients, sum of hessians, row count) in a
// 4-lane float32 entry (the fourth lane is padding), so that a row's update is one f32x4 add. The
// gradients themselves are float32 (as scikit-learn keeps them); each bin sums a few hundred of them,
// and the split search adds the bins up in float64. The work runs in a small WebAssembly kernel
// (kernels/hist.wat) on one shared WebAssembly memory holding the binned columns (and a row-major
// copy, which the histograms of sparse leaves gather their rows' bins from), the row indices,
// the scores, targets and gradients, and the histograms themselves (numbered slots: the kernel writes
// each in place, and the sibling subtraction runs in the kernel too).
//
// The parallel path gives a helper worker thread, running the same kernel and the same JavaScript
// functions (from their source text) on the same memory, half of each job: the upper half of the
// columns for a tree-growing step (histogram, sibling subtraction, best splits), the second half of a
// large leaf's rows for its partition, the upper half of the rows for the gradients, and the second
// half of the rows array for adding a tree's leaf values to the scores. A job is signalled through
// shared control words (kernels/helperThread.ts: no message per job); each thread writes only its own half, and the halves are combined in
// a fixed order, so the results are bit-identical to the single-threaded ones. Where WebAssembly is
// missing, everything runs in JavaScript on one thread (accumulateHistogram, partitionRows, addLeafValues, softmaxRangeGradients).

import { compileKernel } from '../kernels/compile';
import { HELPER_FIRST_WORD, HelperThread, helperSource } from '../kernels/helperThread';
import { HIST_WASM_BASE64 } from '../kernels/hist.wasm';
import { binaryLossSum, binaryRangeGradients, RANGE_GRADIENTS, softmaxLossOf, softmaxRangeGradients } from './losses';
import { addLeafValues, partitionRows } from './partition';
import { bestSplit, SPLIT_RESULT_SIZE } from './split';
import { TrainingError } from '../types';

/**
 * Float32 values per histogram entry (and per row in the gradient array): sum of gradients, sum of
 * hessians, row count, padding.
 */
export const ENTRY = 4;

/**
 * Zeroes and fills the histogram of columns [fStart, fEnd) over the rows rows[start + k], k < m,
 * with each row's (g, h, 1) in gh's entry at ENTRY * row. The JavaScript twin of hist.wat's `hist`
 * (the fallback, and the reference the kernel is tested against); same order of additions. gh holds
 * float32 values, and a float32 value added to another in float64 and stored to a Float32Array is
 * exactly the kernel's f32.add.
 */
export function accumulateHistogram(
  hist: Float32Array,
  bins: Uint8Array,
  n: number,
  featureOffset: Int32Array,
  fStart: number,
  fEnd: number,
  rows: Uint32Array,
  start: number,
  m: number,
  gh: Float32Array,
): void {
  hist.fill(0, featureOffset[fStart] * ENTRY, featureOffset[fEnd] * ENTRY);
  for (let f = fStart; f < fEnd; f++) {
    const base = f * n;
    const off = featureOffset[f] * ENTRY;
    for (let k = 0; k < m; k++) {
      const r = rows[start + k];
      const a = off + bins[base + r] * ENTRY;
      hist[a] += gh[ENTRY * r];
      hist[a + 1] += gh[ENTRY * r + 1];
      hist[a + 2] += 1;
    }
  }
}

type HistFn = (
  out: number,
  bins: number,
  n: number,
  offsets: number,
  fStart: number,
  fEnd: number,
  rows: number,
  m: number,
  gh: number,
  ordered: number,
  chunk: number,
  binsRows: number,
  d: number,
) => void;
type TransposeFn = (src: number, n: number, d: number, dst: number) => void;
type BinaryGradientsFn = (scores: number, y: number, gh: number, start: number, end: number, sums: number) => void;
type InterleaveFn = (g: number, h: number, gh: number, start: number, end: number, sums: number) => void;
type SoftmaxGradientsFn = (
  scores: number,
  y: number,
  g: number,
  h: number,
  k: number,
  n: number,
  start: number,
  end: number,
  x: number,
  sums: number,
) => void;

type SubFn = (dst: number, src: number, count: number) => void;
type AddLeafValuesFn = (
  scores: number,
  rows: number,
  ranges: number,
  count: number,
  stride: number,
  column: number,
  from: number,
  to: number,
) => void;
type PartitionFn = (
  rows: number,
  scratch: number,
  column: number,
  t: number,
  missingBin: number,
  missingLeft: number,
  start: number,
  end: number,
) => number;

/** The compiled histogram kernel, or null where this runtime lacks WebAssembly (threads, bulk memory). */
export function histKernelModule(): WebAssembly.Module | null {
  return compileKernel(HIST_WASM_BASE64);
}

// Control words shared with the helper thread: after the handshake's control words (kernels/helperThread.ts), the job's parameters:
const KIND = HELPER_FIRST_WORD; // KIND_STEP, KIND_GRADIENTS, KIND_PARTITION, KIND_SCORES or KIND_SOFTMAX
const ROWS = HELPER_FIRST_WORD + 1; // STEP: the kernel's rows argument (a byte offset, or -1 for the root)
const COUNT = HELPER_FIRST_WORD + 2; // STEP: rows in the histogram
const OUT = HELPER_FIRST_WORD + 3; // STEP: the histogram built (a byte offset)
const SUB_DST = HELPER_FIRST_WORD + 4; // STEP: the histogram to subtract it from (a byte offset), or -1
const LEAVES = HELPER_FIRST_WORD + 5; // STEP: how many leaves' best splits the job finds (their parameters in `io`)
const SUBTRACTED = HELPER_FIRST_WORD + 6; // STEP: set by the helper once its subtraction is done (a failed job is redone without it)
const LOSS = HELPER_FIRST_WORD + 7; // GRADIENTS: index in RANGE_GRADIENTS
const WITH_LOSS = HELPER_FIRST_WORD + 8; // GRADIENTS: 1 to sum the loss too
const LEAF_COUNT = HELPER_FIRST_WORD + 9; // SCORES: leaves in leafRanges
const COLUMN = HELPER_FIRST_WORD + 10; // SCORES: the score column; COLUMN: the one whose gradients go to gh
const BINS_ROWS = HELPER_FIRST_WORD + 11; // STEP: the row-major bins' byte offset when the leaf's bins are gathered, else -1
const F_START = HELPER_FIRST_WORD + 12; // STEP: the helper's first column (it takes [F_START, d))
const CONTROL_WORDS = HELPER_FIRST_WORD + 13;

const KIND_STEP = 1;
const KIND_GRADIENTS = 2;
const KIND_PARTITION = 3;
const KIND_SCORES = 4;
const KIND_SOFTMAX = 5;
const KIND_COLUMN = 6;

/**
 * The loss whose gradients the kernel computes (binaryGradients in kernels/hist.wat, the twin of
 * binaryRangeGradients; the loss, when summed, by binaryLossSum): the log loss, whose exponential costs most.
 */
const KERNEL_GRADIENTS = RANGE_GRADIENTS.indexOf(binaryRangeGradients);

/** Leaves whose best splits one step finds at most (a split's two children). */
const MAX_LEAVES_PER_STEP = 2;
/** Per leaf in `io`: histogram byte offset, row count, gradient sum, hessian sum. */
const LEAF_PARAMS = 4;
// Layout of `io` (a shared Float64Array): the step's leaves, then the helper's results.
const IO_LEAVES = 0;
const IO_SPLITS = IO_LEAVES + LEAF_PARAMS * MAX_LEAVES_PER_STEP;
const IO_SUMS = IO_SPLITS + SPLIT_RESULT_SIZE * MAX_LEAVES_PER_STEP;
/** PARTITION: start, end, base, t, missingBin, missingLeft; then the helper's left count. */
const IO_PARTITION = IO_SUMS + 3;
/** STEP: the helper's time on its columns (ms), by which the columns are shared out (see balanceColumns). */
const IO_HELPER_MS = IO_PARTITION + 7;
const IO_SIZE = IO_PARTITION + 8;

/** How long the constructor waits for the helper thread to start before working alone. */
const HELPER_START_TIMEOUT_MS = 10_000;

/** The most memory histogram slots made up front for a helper thread may take (else: one thread). */
const PARALLEL_SLOT_BYTES = 256 * 1024 * 1024;

/**
 * A leaf's histogram reads its rows' bins from the row-major copy (gathered chunk by chunk) when it
 * holds fewer than 1 / SPARSE_LEAF of the rows: scattered rows then touch a cache line per row rather
 * than one per row and column. Denser leaves read the columns (most lines are shared by several rows).
 */
export const SPARSE_LEAF = 12;
/** Rows gathered per chunk of a leaf's histogram (entries and, for a sparse leaf, bins). */
export const HIST_CHUNK = 4096;

/** Below this many rows a partition is not worth waking the helper thread. */
const PARALLEL_MIN_PARTITION = 20_000;

/**
 * Score columns up to which the workspace keeps the row-major copy of the bins (see Layout.binsRows):
 * 3 classes (360,000 × 30, 100 iterations) measured 7 % less CPU with it than without, for n × d bytes more.
 */
const ROW_MAJOR_MAX_SCORE_COLUMNS = 3;

const PAGE = 65536;
/** The kernel memory's maximum (4 GiB, WebAssembly's limit): reserved address space, grown as needed. */
const MAX_PAGES = 65536;

/** Byte offsets of the kernel's arrays in its memory. */
interface Layout {
  bins: number;
  /**
   * The same bins row-major (row i's d bytes at binsRows + i * d), for sparse leaves' histograms; -1
   * with more than ROW_MAJOR_MAX_SCORE_COLUMNS score columns, whose per-class gradients take that
   * memory already (its peak stays within XGBoost's at 1,000,000 × 50 × 10 classes).
   */
  binsRows: number;
  offsets: number;
  rows: number;
  /** Where partitions put right-hand rows before they are copied back to rows. */
  scratch: number;
  /** n × scoreColumns f64 scores, and n f64 targets. */
  scores: number;
  y: number;
  /** One 4-lane f32 entry per row: (g, h, 1, 0). */
  gh: number;
  /** Scratch for a chunk of a leaf's entries and bins in row order: the main thread's and the helper's. */
  ordered: number;
  orderedHelper: number;
  /** Rows per chunk of a leaf's histogram (HIST_CHUNK, or n when smaller). */
  chunk: number;
  /** binaryGradients' two f64 sums: the main thread's, then the helper's. */
  gradientSums: number;
  /** (start, end, value) f64 triples of a grown tree's leaves, one per histogram slot at most. */
  leafRanges: number;
  /** With several score columns: every column's gradients and hessians, f32, column-major (n per column). */
  classG: number;
  classH: number;
  /** softmaxGradients' scratch (16 bytes per score column) and its three f64 sums: the main thread's, then the helper's. */
  softmaxScratch: number;
  softmaxSums: number;
  /** Where histogram slot 0 starts; slot i is at slots + i * 4 * size. */
  slots: number;
  bytes: number;
}

function layout(n: number, d: number, scoreColumns: number, maxLeaves: number): Layout {
  let p = 0;
  // Each array 16-byte aligned (v128, f64 and u32 accesses).
  const take = (bytes: number) => {
    const at = p;
    p = (p + bytes + 15) & ~15;
    return at;
  };
  const bins = take(n * d);
  // 16 bytes more: the gather reads whole v128 past a row's last column.
  const binsRows = scoreColumns <= ROW_MAJOR_MAX_SCORE_COLUMNS ? take(n * d + 16) : -1;
  const offsets = take(4 * (d + 1));
  const rows = take(4 * n);
  const scratch = take(4 * n);
  const scores = take(8 * n * scoreColumns);
  const y = take(8 * n);
  const gh = take(4 * ENTRY * n);
  const chunk = Math.min(n, HIST_CHUNK);
  const ordered = take(chunk * (4 * ENTRY + 16 * Math.ceil(d / 16)));
  const orderedHelper = take(chunk * (4 * ENTRY + 16 * Math.ceil(d / 16)));
  const gradientSums = take(32);
  const leafRanges = take(24 * maxLeaves);
  const columnGradients = scoreColumns > 1 ? 4 * n * scoreColumns : 0;
  const classG = take(columnGradients);
  const classH = take(columnGradients);
  const softmaxScratch = take(2 * 16 * scoreColumns);
  const softmaxSums = take(48);
  const slots = take(0);
  return {
    ...{
      bins,
      binsRows,
      offsets,
      rows,
      scratch,
      gradientSums,
      scores,
      y,
      gh,
      ordered,
      orderedHelper,
      leafRanges,
      classG,
      classH,
      softmaxScratch,
      softmaxSums,
    },
    ...{ chunk, slots, bytes: p },
  };
}

// The helper thread: the kernel (histograms, partitions, leaf-value adds, binary and softmax gradients),
// and the split search and the other range gradients from their source text.
const HELPER_SOURCE = helperSource(
  `
const { module, memory, io, at, n, scoreColumns, rowSplit, size, nBins, featureOffset, l2, minSamplesLeaf, minHessian } = workerData;
const fEnd = featureOffset.length - 1;
const { hist, sub, partition, binaryGradients, interleave, softmaxGradients, addLeafValues } = new WebAssembly.Instance(module, { env: { memory } }).exports;
const bestSplit = (${bestSplit.toString()});
// The kernel's twin (binary) runs as the kernel here: its JavaScript is not self-contained.
const rangeGradients = [${RANGE_GRADIENTS.map((f, i) => (i === KERNEL_GRADIENTS ? 'null' : `(${f.toString()})`)).join(', ')}];
const binaryLossSum = (${binaryLossSum.toString()});
const buffer = memory.buffer;
const gradientSums = new Float64Array(buffer, at.gradientSums + 16, 2);
const scores = new Float64Array(buffer, at.scores, n * scoreColumns);
const y = new Float64Array(buffer, at.y, n);
const gh = new Float32Array(buffer, at.gh, ${ENTRY} * n);
const softmaxSums = new Float64Array(buffer, at.softmaxSums + 24, 3);
const rows = new Uint32Array(buffer, at.rows, n);
const scratch = new Uint32Array(buffer, at.scratch, n);
const views = new Map();
const view = (offset) => {
  let v = views.get(offset);
  if (!v) views.set(offset, (v = new Float32Array(buffer, offset, size)));
  return v;
};`,
  `
    const kind = Atomics.load(control, ${KIND});
    if (kind === ${KIND_GRADIENTS}) {
      const loss = Atomics.load(control, ${LOSS});
      const withLoss = Atomics.load(control, ${WITH_LOSS});
      if (loss === ${KERNEL_GRADIENTS}) {
        binaryGradients(at.scores, at.y, at.gh, rowSplit, n, at.gradientSums + 16);
        io.set([withLoss === 1 ? binaryLossSum(scores, y, rowSplit, n) : 0, gradientSums[0], gradientSums[1]], ${IO_SUMS});
      } else rangeGradients[loss](scores, y, gh, rowSplit, n, withLoss, io, ${IO_SUMS});
    } else if (kind === ${KIND_COLUMN}) {
      const c = Atomics.load(control, ${COLUMN});
      interleave(at.classG + 4 * n * c, at.classH + 4 * n * c, at.gh, rowSplit, n, at.gradientSums + 16);
      io.set([0, gradientSums[0], gradientSums[1]], ${IO_SUMS});
    } else if (kind === ${KIND_SOFTMAX}) {
      softmaxGradients(at.scores, at.y, at.classG, at.classH, scoreColumns, n, rowSplit, n, at.softmaxScratch + 16 * scoreColumns, at.softmaxSums + 24);
      io.set(softmaxSums, ${IO_SUMS});
    } else if (kind === ${KIND_SCORES}) {
      addLeafValues(at.scores, at.rows, at.leafRanges, Atomics.load(control, ${LEAF_COUNT}), scoreColumns, Atomics.load(control, ${COLUMN}), rowSplit, n);
    } else if (kind === ${KIND_PARTITION}) {
      const p = ${IO_PARTITION};
      const half = io[p];
      const end = io[p + 1];
      const left = partition(at.rows, at.scratch, at.bins + io[p + 2], io[p + 3], io[p + 4], io[p + 5], half, end);
      // Its right rows end the range in the stable order: they go to their place here, in parallel.
      rows.set(scratch.subarray(half, end - left), half + left);
      io[p + 6] = left;
    } else {
      const started = performance.now();
      const fStart = Atomics.load(control, ${F_START});
      const first = featureOffset[fStart] * ${ENTRY};
      const count = (featureOffset[fEnd] - featureOffset[fStart]) * ${ENTRY};
      const out = Atomics.load(control, ${OUT});
      hist(out, at.bins, n, at.offsets, fStart, fEnd, Atomics.load(control, ${ROWS}), Atomics.load(control, ${COUNT}), at.gh, at.orderedHelper, at.chunk, Atomics.load(control, ${BINS_ROWS}), featureOffset.length - 1);
      const dst = Atomics.load(control, ${SUB_DST});
      if (dst >= 0) sub(dst + 4 * first, out + 4 * first, count);
      Atomics.store(control, ${SUBTRACTED}, 1);
      const leaves = Atomics.load(control, ${LEAVES});
      for (let i = 0; i < leaves; i++) {
        const p = ${IO_LEAVES} + ${LEAF_PARAMS} * i;
        bestSplit(view(io[p]), nBins, featureOffset, fStart, fEnd, io[p + 1], io[p + 2], io[p + 3], l2, minSamplesLeaf, minHessian, io, ${IO_SPLITS} + ${SPLIT_RESULT_SIZE} * i);
      }
      io[${IO_HELPER_MS}] = performance.now() - started;
    }`,
);

/**
 * The binned columns (column-major, n × d bytes), or a function writing them into the array it is
 * given (the workspace's own memory: no second copy of the largest array of a fit).
 */
export type BinsSource = Uint8Array | ((into: Uint8Array) => void);

/** What split finding needs besides a histogram (see split.ts). */
export interface SplitSettings {
  /** Non-missing bins per column. */
  nBins: Uint16Array;
  l2: number;
  minSamplesLeaf: number;
  minHessian: number;
}

/** A leaf whose best split a step finds: its histogram slot, row count and gradient/hessian sums. */
export interface SplitLeaf {
  hist: number;
  count: number;
  g: number;
  h: number;
}

/** Sums over every row after a gradient pass. */
export interface GradientSums {
  loss: number;
  g: number;
  h: number;
}

export interface BoostingWorkspaceOptions {
  /** 1 or 2. */
  threads?: number;
  /** Histograms the caller may hold at once; with a helper thread they are all allocated up front. */
  slotCapacity?: number;
  /** Scores per row (the `scores` array's width). */
  scoreColumns?: number;
  /** Needed by step() to find splits. */
  split?: SplitSettings;
  /** The helper's first column at the start (by default half of them), which balanceColumns then moves: for tests. */
  helperColumnsFrom?: number;
}

/** The shared memory and the threads of tree growth: histograms, split search, partitions, gradients and score updates. */
export class BoostingWorkspace {
  /** Row indices, each leaf owning a range, partitioned on each split (in the kernel's memory). */
  readonly rows: Uint32Array;
  private readonly scratch: Uint32Array;
  /** Scores, row-major n × scoreColumns, and targets: what gradients() reads (shared with the helper). */
  readonly scores: Float64Array;
  /** A grown tree's leaves for addLeafValues: (start, end, value) per leaf. */
  readonly leafRanges: Float64Array;
  private readonly scoreColumns: number;
  readonly y: Float64Array;
  /** Each row's (g, h, 1, 0) in float32, what the histograms sum. */
  private readonly gh: Float32Array;
  /** Several score columns: each column's gradients and hessians (softmaxGradients), n per column. */
  private readonly classG: Float32Array;
  private readonly classH: Float32Array;
  private readonly bins: Uint8Array;
  /** Float32 values in one histogram. */
  readonly size: number;
  /** Histogram slots handed out so far (views into the kernel's memory, or plain arrays). */
  private readonly slots: Float32Array[] = [];
  /** The kernel, its memory and layout; null on the JavaScript fallback. */
  private readonly kernel: {
    hist: HistFn;
    sub: SubFn;
    partition: PartitionFn;
    transpose: TransposeFn;
    binaryGradients: BinaryGradientsFn;
    interleave: InterleaveFn;
    softmaxGradients: SoftmaxGradientsFn;
    addLeafValues: AddLeafValuesFn;
    memory: WebAssembly.Memory;
    at: Layout;
  } | null = null;
  /** The helper's control words (its job's parameters), while it runs. */
  private control: Int32Array | null = null;
  /** Job parameters and the helper's results (see IO_*). */
  private io: Float64Array | null = null;
  private helper: HelperThread | undefined;
  /** The main thread's columns are [0, split); the helper's [split, d). Moved by balanceColumns. */
  private split: number;
  /** balanceColumns's running estimate of the helper's time per column over this thread's (sums weighted by step time). */
  private rateRatioSum = 0;
  private rateRatioWeight = 0;
  /** The main thread's gradient rows are [0, rowSplit); the helper's [rowSplit, n), on one thread too. */
  private readonly rowSplit: number;
  private readonly splitSettings: SplitSettings | null;
  /** The main thread's best splits of a step's leaves (then the combined ones, which step returns). */
  private readonly results = new Float64Array(MAX_LEAVES_PER_STEP * SPLIT_RESULT_SIZE);
  /** Partial gradient sums of the two row halves. */
  private readonly sums = new Float64Array(6);

  constructor(
    bins: BinsSource,
    private readonly n: number,
    private readonly featureOffset: Int32Array,
    options: BoostingWorkspaceOptions = {},
  ) {
    const d = featureOffset.length - 1;
    const threads = options.threads ?? 1;
    const slotCapacity = options.slotCapacity ?? 1;
    const scoreColumns = options.scoreColumns ?? 1;
    this.scoreColumns = scoreColumns;
    this.splitSettings = options.split ?? null;
    this.size = featureOffset[d] * ENTRY;
    this.rowSplit = n >>> 1;
    // The helper thread never sees the memory grow (a grown shared memory reaches another thread's
    // WebAssembly instance asynchronously): its histograms are made before it starts, within a budget.
    const parallel = threads > 1 && d > 1 && slotCapacity * 4 * this.size <= PARALLEL_SLOT_BYTES;
    this.split = d;
    const module = histKernelModule();
    if (!module) {
      this.bins = typeof bins === 'function' ? new Uint8Array(n * d) : bins;
      if (typeof bins === 'function') bins(this.bins);
      this.rows = new Uint32Array(n);
      this.scratch = new Uint32Array(n);
      this.scores = new Float64Array(n * scoreColumns);
      this.leafRanges = new Float64Array(3 * slotCapacity);
      this.y = new Float64Array(n);
      this.gh = BoostingWorkspace.entries(new Float32Array(ENTRY * n));
      this.classG = new Float32Array(scoreColumns > 1 ? n * scoreColumns : 0);
      this.classH = new Float32Array(scoreColumns > 1 ? n * scoreColumns : 0);
      return;
    }
    const at = layout(n, d, scoreColumns, slotCapacity);
    // Shared so that a helper thread can work on it; a shared memory needs a maximum, which is
    // address space reserved, not memory used: it grows a page range per new histogram slot.
    const initialBytes = at.bytes + (parallel ? slotCapacity * 4 * this.size : 0);
    const memory = new WebAssembly.Memory({
      initial: Math.ceil(initialBytes / PAGE),
      maximum: MAX_PAGES,
      shared: true,
    });
    const buffer = memory.buffer;
    const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
    const transpose = ex.transpose as TransposeFn;
    this.kernel = {
      hist: ex.hist as HistFn,
      sub: ex.sub as SubFn,
      partition: ex.partition as PartitionFn,
      transpose,
      binaryGradients: ex.binaryGradients as BinaryGradientsFn,
      interleave: ex.interleave as InterleaveFn,
      softmaxGradients: ex.softmaxGradients as SoftmaxGradientsFn,
      addLeafValues: ex.addLeafValues as AddLeafValuesFn,
      memory,
      at,
    };
    this.bins = new Uint8Array(buffer, at.bins, n * d);
    if (typeof bins === 'function') bins(this.bins);
    else this.bins.set(bins);
    if (at.binsRows >= 0) transpose(at.bins, n, d, at.binsRows);
    new Int32Array(buffer, at.offsets, d + 1).set(featureOffset);
    this.rows = new Uint32Array(buffer, at.rows, n);
    this.scratch = new Uint32Array(buffer, at.scratch, n);
    this.scores = new Float64Array(buffer, at.scores, n * scoreColumns);
    this.leafRanges = new Float64Array(buffer, at.leafRanges, 3 * slotCapacity);
    this.y = new Float64Array(buffer, at.y, n);
    this.gh = BoostingWorkspace.entries(new Float32Array(buffer, at.gh, ENTRY * n));
    this.classG = new Float32Array(buffer, at.classG, scoreColumns > 1 ? n * scoreColumns : 0);
    this.classH = new Float32Array(buffer, at.classH, scoreColumns > 1 ? n * scoreColumns : 0);
    if (!parallel) return;
    this.histogram(slotCapacity - 1);
    this.split = Math.min(d - 1, Math.max(1, options.helperColumnsFrom ?? Math.ceil(d / 2)));
    this.io = new Float64Array(new SharedArrayBuffer(8 * IO_SIZE));
    const s = this.splitSettings ?? { nBins: new Uint16Array(d), l2: 0, minSamplesLeaf: 1, minHessian: 0 };
    const workerData = {
      ...{
        module,
        memory,
        io: this.io,
        at,
        n,
        scoreColumns,
        rowSplit: this.rowSplit,
        size: this.size,
      },
      ...{ nBins: s.nBins, featureOffset, l2: s.l2, minSamplesLeaf: s.minSamplesLeaf, minHessian: s.minHessian },
    };
    this.helper = HelperThread.start(HELPER_SOURCE, workerData, CONTROL_WORDS, HELPER_START_TIMEOUT_MS);
    // A helper that never started: work alone.
    if (this.helper) this.control = this.helper.control;
    else this.stopHelper();
  }

  /** Helper threads started and not yet exited, in this thread, the CNN's included (for tests: none may outlive a fit). */
  static get liveHelpers(): number {
    return HelperThread.live;
  }

  /** Jobs a helper thread failed (its half then redone on this thread, or the fit ended), in this thread: for tests. */
  static helperFailures = 0;

  /** The constant lanes of the gradient entries: a count of 1, and padding. */
  private static entries(gh: Float32Array): Float32Array {
    for (let i = 2; i < gh.length; i += ENTRY) gh[i] = 1;
    return gh;
  }

  /** Histogram slot i (0, 1, 2, ... in order of first use): `size` float32 values, reused across jobs. */
  histogram(slot: number): Float32Array {
    while (this.slots.length <= slot) {
      const k = this.kernel;
      if (!k) {
        this.slots.push(new Float32Array(this.size));
        continue;
      }
      const offset = k.at.slots + this.slots.length * 4 * this.size;
      const needed = Math.ceil((offset + 4 * this.size) / PAGE);
      const pages = k.memory.buffer.byteLength / PAGE;
      if (needed > pages) {
        // More histograms than the helper thread was started with: work alone from now on.
        this.stopHelper();
        // Growing a shared memory keeps earlier views valid (they simply stop short of the new pages).
        k.memory.grow(needed - pages);
      }
      this.slots.push(new Float32Array(k.memory.buffer, offset, this.size));
    }
    return this.slots[slot];
  }

  /**
   * Gradients of every row from `scores` and `y` by RANGE_GRADIENTS[loss] (a single-score loss),
   * the upper half of the rows on the helper thread. Returns the loss (0 unless withLoss), gradient
   * and hessian sums.
   */
  gradients(loss: number, withLoss = true): GradientSums {
    const { control, sums, n } = this;
    const w = withLoss ? 1 : 0;
    if (!control) {
      this.rangeGradients(loss, w, 0, this.rowSplit, 0);
      this.rangeGradients(loss, w, this.rowSplit, n, 3);
    } else {
      control[KIND] = KIND_GRADIENTS;
      control[LOSS] = loss;
      control[WITH_LOSS] = w;
      const job = this.post();
      this.rangeGradients(loss, w, 0, this.rowSplit, 0);
      if (this.await(job)) this.rangeGradients(loss, w, this.rowSplit, n, 3);
      else sums.set(this.io!.subarray(IO_SUMS, IO_SUMS + 3), 3);
    }
    return { loss: sums[0] + sums[3], g: sums[1] + sums[4], h: sums[2] + sums[5] };
  }

  /**
   * Softmax gradients of every score column from `scores` and `y` (the kernel's softmaxGradients, or
   * its twin softmaxRangeGradients), the upper half of the rows on the helper thread;
   * columnGradients(c) then hands column c's to the histograms. Returns the summed loss -log p_y of
   * the scores.
   */
  softmaxGradients(): number {
    const { control, sums, n } = this;
    if (!control) {
      this.softmaxRange(0, this.rowSplit, 0);
      this.softmaxRange(this.rowSplit, n, 3);
    } else {
      control[KIND] = KIND_SOFTMAX;
      const job = this.post();
      this.softmaxRange(0, this.rowSplit, 0);
      if (this.await(job)) this.softmaxRange(this.rowSplit, n, 3);
      else sums.set(this.io!.subarray(IO_SUMS, IO_SUMS + 3), 3);
    }
    // Each half's loss apart, then added (the same on one thread as on two).
    return softmaxLossOf(sums, 0) + softmaxLossOf(sums, 3);
  }

  /** The softmax gradients of rows [start, end) on this thread, their three loss sums to this.sums[at..]. */
  private softmaxRange(start: number, end: number, at: number): void {
    const { n, scoreColumns: c } = this;
    const k = this.kernel;
    if (!k) {
      softmaxRangeGradients(this.scores, this.y, this.classG, this.classH, c, n, start, end, this.sums, at);
      return;
    }
    k.softmaxGradients(
      k.at.scores,
      k.at.y,
      k.at.classG,
      k.at.classH,
      c,
      n,
      start,
      end,
      k.at.softmaxScratch,
      k.at.softmaxSums,
    );
    this.sums.set(new Float64Array(k.memory.buffer, k.at.softmaxSums, 3), at);
  }

  /** Score column c's gradients from the last softmaxGradients(), for the next histograms. Returns their sums; loss 0. */
  columnGradients(c: number): GradientSums {
    const { n, kernel: k, control, sums } = this;
    if (!k)
      return this.setGradients(this.classG.subarray(c * n, (c + 1) * n), this.classH.subarray(c * n, (c + 1) * n));
    // In the kernel (interleave, the twin of setGradients's loop), the upper half of the rows on the helper thread.
    const g = k.at.classG + 4 * n * c;
    const h = k.at.classH + 4 * n * c;
    const kernelSums = new Float64Array(k.memory.buffer, k.at.gradientSums, 2);
    const upper = () => {
      k.interleave(g, h, k.at.gh, this.rowSplit, n, k.at.gradientSums);
      sums.set(kernelSums, 4);
    };
    let job = 0;
    if (control) {
      control[KIND] = KIND_COLUMN;
      control[COLUMN] = c;
      job = this.post();
    } else upper();
    k.interleave(g, h, k.at.gh, 0, this.rowSplit, k.at.gradientSums);
    sums.set(kernelSums, 1);
    if (control) {
      if (this.await(job)) upper();
      else sums.set(this.io!.subarray(IO_SUMS + 1, IO_SUMS + 3), 4);
    }
    return { loss: 0, g: sums[1] + sums[4], h: sums[2] + sums[5] };
  }

  /**
   * Gradients and hessians given per row, rounded to float32 for the next histograms. Returns their
   * sums (of the rounded values); loss 0.
   */
  setGradients(g: Float64Array | Float32Array, h: Float64Array | Float32Array): GradientSums {
    const gh = this.gh;
    // Each half of the rows summed apart, then added (as columnGradients's two threads do).
    const half = (start: number, end: number, at: number) => {
      let sumG = 0;
      let sumH = 0;
      for (let i = start; i < end; i++) {
        gh[ENTRY * i] = g[i];
        gh[ENTRY * i + 1] = h[i];
        sumG += gh[ENTRY * i];
        sumH += gh[ENTRY * i + 1];
      }
      this.sums[at] = sumG;
      this.sums[at + 1] = sumH;
    };
    half(0, this.rowSplit, 1);
    half(this.rowSplit, this.n, 4);
    return { loss: 0, g: this.sums[1] + this.sums[4], h: this.sums[2] + this.sums[5] };
  }

  /**
   * One step of tree growth, each thread over its own columns: the histogram of rows[start..start + m)
   * (every row when start is -1, the root) into `slot`; then, when subtractFrom >= 0, histogram
   * `subtractFrom` minus it in place (the sibling's); then the best split of each of `leaves` (their
   * histograms complete by then). Returns the splits, SPLIT_RESULT_SIZE values per leaf (see
   * split.ts), the same as one pass over every column finds. The array is reused by the next step.
   */
  step(slot: number, start: number, m: number, subtractFrom: number, leaves: readonly SplitLeaf[]): Float64Array {
    if (leaves.length > MAX_LEAVES_PER_STEP) throw new Error(`at most ${MAX_LEAVES_PER_STEP} leaves per step`);
    if (leaves.length > 0 && !this.splitSettings)
      throw new Error('BoostingWorkspace: split settings are needed to find splits');
    const d = this.featureOffset.length - 1;
    // Every slot the step touches exists before the helper reads it (making one may stop the helper).
    const out = this.histogram(slot);
    if (subtractFrom >= 0) this.histogram(subtractFrom);
    for (const leaf of leaves) this.histogram(leaf.hist);
    const { control, io, results } = this;
    if (!control || !io) {
      this.columns(out, 0, d, start, m, subtractFrom, leaves, results, 0);
      return results;
    }
    control[KIND] = KIND_STEP;
    control[ROWS] = start < 0 ? -1 : this.kernel!.at.rows + 4 * start;
    control[COUNT] = m;
    control[OUT] = out.byteOffset;
    control[SUB_DST] = subtractFrom >= 0 ? this.histogram(subtractFrom).byteOffset : -1;
    control[BINS_ROWS] = this.gatheredBins(start, m);
    control[LEAVES] = leaves.length;
    control[SUBTRACTED] = 0;
    const split = this.split;
    control[F_START] = split;
    for (let i = 0; i < leaves.length; i++) {
      const p = IO_LEAVES + LEAF_PARAMS * i;
      io[p] = this.histogram(leaves[i].hist).byteOffset;
      io[p + 1] = leaves[i].count;
      io[p + 2] = leaves[i].g;
      io[p + 3] = leaves[i].h;
    }
    const job = this.post();
    const started = performance.now();
    this.columns(out, 0, split, start, m, subtractFrom, leaves, results, 0);
    const mine = performance.now() - started;
    if (this.await(job)) {
      // The helper's columns are incomplete: do them here (not subtracting twice), alone from now on.
      const subtracted = control[SUBTRACTED] === 1;
      this.columns(out, split, d, start, m, subtracted ? -1 : subtractFrom, leaves, io, IO_SPLITS);
    } else this.balanceColumns(split, mine, performance.now() - started - mine, io[IO_HELPER_MS]);
    // A later column's split replaces an earlier one's only with a strictly larger gain.
    for (let i = 0; i < leaves.length; i++) {
      const mine = SPLIT_RESULT_SIZE * i;
      const theirs = IO_SPLITS + SPLIT_RESULT_SIZE * i;
      if (io[theirs] > results[mine]) results.set(io.subarray(theirs, theirs + SPLIT_RESULT_SIZE), mine);
    }
    return results;
  }

  /**
   * Moves the column split towards equal times on both threads, a column per step at most: the
   * helper, woken for each job, can take longer per column than this thread (1.7 s of 13 s of steps
   * waited for it at 1,000,000 × 50). The results do not depend on the split (see step).
   * `waited`: how long this thread waited for the helper after its own columns (`mine`, ms);
   * `helperMs`: the helper's own time, which tells how much sooner it finished when nothing was waited.
   */
  private balanceColumns(split: number, mine: number, waited: number, helperMs: number): void {
    const d = this.featureOffset.length - 1;
    if (!(mine > 0) || split <= 0 || split >= d) return;
    // The helper's time since the job was posted: this thread's and the wait, when there was one.
    const theirs = waited > 0.005 ? mine + waited : helperMs;
    const ratio = theirs / (d - split) / (mine / split);
    if (!Number.isFinite(ratio)) return;
    // Recent steps count most; large steps (the root, dense leaves) more than small ones.
    this.rateRatioSum = 0.95 * this.rateRatioSum + mine * ratio;
    this.rateRatioWeight = 0.95 * this.rateRatioWeight + mine;
    const r = this.rateRatioSum / this.rateRatioWeight;
    // Equal times: split * (time per column here) = (d - split) * (the helper's).
    const target = (d * r) / (1 + r);
    if (target > split + 0.5 && split < d - 1) this.split = split + 1;
    else if (target < split - 0.5 && split > 1) this.split = split - 1;
  }

  /**
   * Stable in-place partition of rows[start..end) by a split of `feature` ("bins 0..bin go left",
   * the missing bin left when missingLeft); a large range's second half on the helper thread.
   * Returns the index of the first right row.
   */
  partition(
    start: number,
    end: number,
    feature: number,
    bin: number,
    missingBin: number,
    missingLeft: boolean,
  ): number {
    const { rows, scratch, control, io } = this;
    const base = feature * this.n;
    const left = missingLeft ? 1 : 0;
    if (!control || !io || end - start < PARALLEL_MIN_PARTITION) {
      const l = this.partitionRange(base, bin, missingBin, left, start, end);
      rows.set(scratch.subarray(start, end - l), start + l);
      return start + l;
    }
    const half = start + ((end - start) >>> 1);
    control[KIND] = KIND_PARTITION;
    io.set([half, end, base, bin, missingBin, left], IO_PARTITION);
    const job = this.post();
    const leftA = this.partitionRange(base, bin, missingBin, left, start, half);
    this.awaitInPlace(job, `partitioning rows ${half}..${end} of a leaf`);
    const leftB = io[IO_PARTITION + 6];
    // The stable order is left of the first half, left of the second, right of the first, right of
    // the second. Each half holds its left rows in place and its right rows in scratch; the helper
    // has put the second half's right rows at the end already (their place depends on its count only).
    const rightA = half - start - leftA;
    rows.copyWithin(start + leftA, half, half + leftB);
    rows.set(scratch.subarray(start, start + rightA), start + leftA + leftB);
    return start + leftA + leftB;
  }

  /**
   * Adds the values of the first `count` leaves in leafRanges (at most slotCapacity) to their rows'
   * scores in `column`; the second half of the rows array on the helper thread.
   */
  addLeafValues(count: number, column: number): void {
    const { control, n } = this;
    const half = this.rowSplit;
    if (!control || n < PARALLEL_MIN_PARTITION) {
      this.addLeafValuesRange(count, column, 0, n);
      return;
    }
    control[KIND] = KIND_SCORES;
    control[LEAF_COUNT] = count;
    control[COLUMN] = column;
    const job = this.post();
    this.addLeafValuesRange(count, column, 0, half);
    this.awaitInPlace(job, "adding a tree's leaf values to the scores");
  }

  /** addLeafValues over positions [from, to) of the rows array on this thread: the kernel's, or the JavaScript fallback. */
  private addLeafValuesRange(count: number, column: number, from: number, to: number): void {
    const k = this.kernel;
    if (k) k.addLeafValues(k.at.scores, k.at.rows, k.at.leafRanges, count, this.scoreColumns, column, from, to);
    else addLeafValues(this.scores, this.rows, this.leafRanges, count, this.scoreColumns, column, from, to);
  }

  /** RANGE_GRADIENTS[loss] over rows [start, end) on this thread (the kernel's twin where it has one), sums to this.sums[at..]. */
  private rangeGradients(loss: number, withLoss: number, start: number, end: number, at: number): void {
    const k = this.kernel;
    if (k && loss === KERNEL_GRADIENTS) {
      k.binaryGradients(k.at.scores, k.at.y, k.at.gh, start, end, k.at.gradientSums);
      const kernelSums = new Float64Array(k.memory.buffer, k.at.gradientSums, 2);
      const lossSum = withLoss === 1 ? binaryLossSum(this.scores, this.y, start, end) : 0;
      this.sums.set([lossSum, kernelSums[0], kernelSums[1]], at);
      return;
    }
    RANGE_GRADIENTS[loss](this.scores, this.y, this.gh, start, end, withLoss, this.sums, at);
  }

  /** partitionRows on this thread: the kernel's, or the JavaScript fallback. */
  private partitionRange(
    base: number,
    t: number,
    missingBin: number,
    missingLeft: number,
    start: number,
    end: number,
  ): number {
    const k = this.kernel;
    if (k) return k.partition(k.at.rows, k.at.scratch, k.at.bins + base, t, missingBin, missingLeft, start, end);
    return partitionRows(this.rows, this.scratch, this.bins, base, t, missingBin, missingLeft, start, end);
  }

  /** Histogram of the root (every row in order) into `slot`, without split search. */
  buildRoot(slot: number): void {
    this.step(slot, -1, this.n, -1, []);
  }

  /** Histogram of the leaf holding rows[start..end) into `slot`, without split search. */
  buildLeaf(slot: number, start: number, end: number): void {
    this.step(slot, start, end - start, -1, []);
  }

  /** Histogram `dst` minus histogram `src`, in place (a sibling from its parent and the other child). */
  subtract(dst: number, src: number): void {
    this.subtractColumns(this.histogram(dst), this.histogram(src), 0, this.featureOffset.length - 1);
  }

  /** Stops the helper thread. */
  dispose(): void {
    this.stopHelper();
  }

  /** Whether a helper thread is (still) doing half of the work. */
  get parallel(): boolean {
    return this.control !== null;
  }

  /** Whether the WebAssembly kernel (rather than the JavaScript fallback) builds the histograms. */
  get wasm(): boolean {
    return this.kernel !== null;
  }

  /** Hands the job described in the control words to the helper; returns its number. */
  private post(): number {
    return this.helper!.post();
  }

  /** Waits for the helper to finish `job`. Returns true when it failed (its half is to be redone here). */
  private await(job: number): boolean {
    if (!this.helper!.await(job)) return false;
    BoostingWorkspace.helperFailures++;
    this.stopHelper();
    return true;
  }

  /**
   * Waits for a job that rewrites its half in place (a partition's rows, the scores): a half the
   * helper left partway is not its input any more, so redoing it here would lose or repeat rows.
   * Its failure ends the fit.
   */
  private awaitInPlace(job: number, what: string): void {
    const helper = this.helper!;
    if (!helper.await(job)) return;
    const cause = helper.failure();
    BoostingWorkspace.helperFailures++;
    this.stopHelper();
    throw new TrainingError(`The GBDT helper thread failed while ${what}, which cannot be redone: ${cause}`);
  }

  private stopHelper(): void {
    this.helper?.stop();
    this.helper = undefined;
    this.control = null;
    this.split = this.featureOffset.length - 1;
  }

  /** step's work for columns [fStart, fEnd) on this thread, the splits to `results` from `at`. */
  private columns(
    out: Float32Array,
    fStart: number,
    fEnd: number,
    start: number,
    m: number,
    subtractFrom: number,
    leaves: readonly SplitLeaf[],
    results: Float64Array,
    at: number,
  ): void {
    this.part(out, fStart, fEnd, start, m);
    if (subtractFrom >= 0) this.subtractColumns(this.histogram(subtractFrom), out, fStart, fEnd);
    const s = this.splitSettings;
    for (let i = 0; i < leaves.length; i++) {
      const leaf = leaves[i];
      bestSplit(
        this.histogram(leaf.hist),
        s!.nBins,
        this.featureOffset,
        fStart,
        fEnd,
        leaf.count,
        leaf.g,
        leaf.h,
        s!.l2,
        s!.minSamplesLeaf,
        s!.minHessian,
        results,
        at + SPLIT_RESULT_SIZE * i,
      );
    }
  }

  /** dst -= src over the entries of columns [fStart, fEnd). */
  private subtractColumns(dst: Float32Array, src: Float32Array, fStart: number, fEnd: number): void {
    const first = this.featureOffset[fStart] * ENTRY;
    const count = (this.featureOffset[fEnd] - this.featureOffset[fStart]) * ENTRY;
    if (this.kernel) {
      this.kernel.sub(dst.byteOffset + 4 * first, src.byteOffset + 4 * first, count);
      return;
    }
    for (let i = first; i < first + count; i++) dst[i] -= src[i];
  }

  /** Columns [fStart, fEnd) of the histogram of m rows: rows[start..start + m), or 0..m - 1 when start is -1. */
  private part(out: Float32Array, fStart: number, fEnd: number, start: number, m: number): void {
    const k = this.kernel;
    if (k) {
      k.hist(
        out.byteOffset,
        k.at.bins,
        this.n,
        k.at.offsets,
        fStart,
        fEnd,
        start < 0 ? -1 : k.at.rows + 4 * start,
        m,
        k.at.gh,
        k.at.ordered,
        k.at.chunk,
        this.gatheredBins(start, m),
        this.featureOffset.length - 1,
      );
      return;
    }
    if (start >= 0)
      accumulateHistogram(out, this.bins, this.n, this.featureOffset, fStart, fEnd, this.rows, start, m, this.gh);
    else accumulateHistogram(out, this.bins, this.n, this.featureOffset, fStart, fEnd, this.identity(), 0, m, this.gh);
  }

  /** The kernel's binsRows argument for a histogram of m rows from `start` (-1 for the root): see SPARSE_LEAF. */
  private gatheredBins(start: number, m: number): number {
    return start >= 0 && m * SPARSE_LEAF < this.n ? this.kernel!.at.binsRows : -1;
  }

  private identityRows: Uint32Array | null = null;

  /** 0, 1, ..., n - 1 (the fallback's root rows). */
  private identity(): Uint32Array {
    this.identityRows ??= Uint32Array.from({ length: this.n }, (_, i) => i);
    return this.identityRows;
  }
}
