// Feature binning for histogram GBDT: per dense column, at most `maxBins` bins delimited by float32
// thresholds learned from the training split, plus one dedicated bin for missing values (NaN).
//
// A value x falls in bin b = the first b with x <= thresholds[b] (the last bin takes everything
// above). Splitting "bins 0..t go left" is therefore exactly the test `x <= thresholds[t]`, which
// is what ONNX's BRANCH_LEQ evaluates in float32: thresholds are float32 values, so the trainer,
// predictDense and onnxruntime agree on every row.

import { mulberry32 } from '../../data/prng';
import { BINNING_WASM_BASE64 } from '../kernels/binning.wasm';
import { availableParallelism } from 'node:os';
import { compileKernel } from '../kernels/compile';
import { HELPER_FIRST_WORD, HelperThread, helperSource, runChunkPairs } from '../kernels/helperThread';

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
    // Gather the sampled rows column by column in one row-major pass (strided reads per column
    // would miss the cache on every value).
    const columns = new Float32Array(m * d);
    for (let i = 0; i < m; i++) {
      const row = sampleRows[i] * d;
      for (let f = 0; f < d; f++) columns[f * m + i] = X[row + f];
    }
    const thresholds: Float32Array[] = [];
    const nBins = new Uint16Array(d);
    const scratch = new Float32Array(m);
    const sorter = SortKernel.create(m);
    for (let f = 0; f < d; f++) {
      const column = columns.subarray(f * m, (f + 1) * m);
      let k = 0;
      for (let i = 0; i < m; i++) {
        const v = column[i];
        if (v === v) column[k++] = v;
      }
      const values = column.subarray(0, k);
      const t = columnThresholds(sorter ? sorter.sort(values) : radixSortFloat32(values, scratch), maxBins);
      thresholds.push(t);
      nBins[f] = t.length + 1;
    }
    return new BinMapper(thresholds, nBins);
  }

  /**
   * Bin index of each value, column-major (`out[f * n + i]`), missing values in bin nBins[f]; into
   * `out` when given (n × d bytes: the trainer bins straight into the boosting workspace's memory).
   */
  transform(
    X: Float32Array,
    n: number,
    out: Uint8Array<ArrayBufferLike> = new Uint8Array(n * this.nFeatures),
  ): Uint8Array {
    const d = this.nFeatures;
    // Each column's thresholds padded with +Infinity to 256 entries: the search below then takes
    // exactly 8 halving steps with no bounds test, and each step adds a comparison's result as a
    // number rather than branching on it (a branch mispredicts half the time on data in random
    // order: this form measured 3× faster than the branching one).
    const padded = new Float32Array(256 * d).fill(Infinity);
    for (let f = 0; f < d; f++) padded.set(this.thresholds[f], 256 * f);
    const nBins = this.nBins;
    // The same search in the WebAssembly kernel, chunk by chunk, where it is available.
    if (BinKernel.transform(X, n, d, padded, nBins, out)) return out;
    return BinMapper.transformInJavaScript(X, n, d, padded, nBins, out);
  }

  /** transform's loop in JavaScript: the fallback, and the reference the kernel is tested against. */
  static transformInJavaScript(
    X: Float32Array,
    n: number,
    d: number,
    padded: Float32Array,
    nBins: Uint16Array,
    out: Uint8Array,
  ): Uint8Array {
    // Rows in blocks: each block's values are read row-major once, then binned column by column.
    const BLOCK = 256;
    for (let start = 0; start < n; start += BLOCK) {
      const end = Math.min(n, start + BLOCK);
      for (let f = 0; f < d; f++) {
        const t = 256 * f;
        const missingBin = nBins[f];
        const base = f * n;
        for (let i = start; i < end; i++) {
          const v = X[i * d + f];
          // The number of thresholds below v: the first b with v <= thresholds[b]. NaN compares
          // false everywhere (bin 0) and then gets the missing bin.
          let lo = t;
          lo += +(padded[lo + 127] < v) << 7;
          lo += +(padded[lo + 63] < v) << 6;
          lo += +(padded[lo + 31] < v) << 5;
          lo += +(padded[lo + 15] < v) << 4;
          lo += +(padded[lo + 7] < v) << 3;
          lo += +(padded[lo + 3] < v) << 2;
          lo += +(padded[lo + 1] < v) << 1;
          lo += +(padded[lo] < v);
          out[base + i] = v === v ? lo - t : missingBin;
        }
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
  let distinct = m > 0 ? 1 : 0;
  for (let i = 1; i < m; i++) if (sorted[i] !== sorted[i - 1]) distinct++;
  const out = new Float32Array(Math.max(0, Math.min(distinct, maxBins) - 1));
  let k = 0;
  // i is the last row of a run of equal values; the next run starts at i + 1.
  let nextBin = 1;
  for (let i = 0; i + 1 < m && k < out.length; i++) {
    if (sorted[i] === sorted[i + 1]) continue;
    // Few distinct values: a threshold after every run. Else: close a bin once the cumulative
    // count reaches the next equal-count quantile.
    const cumulative = i + 1;
    if (distinct <= maxBins || cumulative * maxBins >= nextBin * m) {
      out[k++] = midpoint(sorted[i], sorted[i + 1]);
      while (nextBin * m <= cumulative * maxBins) nextBin++;
    }
  }
  return out.subarray(0, k);
}

const PAGE = 65536;

/** The binning kernel on a new shared memory of at least `bytes`, or null without WebAssembly (threads, SIMD). */
function binningInstance(
  bytes: number,
): { ex: WebAssembly.Exports; memory: WebAssembly.Memory; module: WebAssembly.Module } | null {
  const module = compileKernel(BINNING_WASM_BASE64);
  if (!module) return null;
  const pages = Math.max(1, Math.ceil(bytes / PAGE));
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  } catch {
    return null;
  }
  return { ex: new WebAssembly.Instance(module, { env: { memory } }).exports, memory, module };
}

type BinFn = (x: number, rows: number, d: number, padded: number, missing: number, out: number) => void;

// The binning helper's job parameters (after the handshake's control words): the kernel's arguments.
const BIN_X = HELPER_FIRST_WORD;
const BIN_ROWS = HELPER_FIRST_WORD + 1;
const BIN_D = HELPER_FIRST_WORD + 2;
const BIN_PADDED = HELPER_FIRST_WORD + 3;
const BIN_MISSING = HELPER_FIRST_WORD + 4;
const BIN_OUT = HELPER_FIRST_WORD + 5;
const BIN_CONTROL_WORDS = HELPER_FIRST_WORD + 6;

const BIN_HELPER_SOURCE = helperSource(
  `
const { module, memory } = workerData;
const { bin } = new WebAssembly.Instance(module, { env: { memory } }).exports;
const arg = (w) => Atomics.load(control, w);`,
  `
    bin(arg(${BIN_X}), arg(${BIN_ROWS}), arg(${BIN_D}), arg(${BIN_PADDED}), arg(${BIN_MISSING}), arg(${BIN_OUT}));`,
);

/** From this many values (rows × columns) a helper thread bins every other chunk (starting it costs tens of ms). */
const PARALLEL_MIN_VALUES = 8_000_000;
const HELPER_START_TIMEOUT_MS = 10_000;

/** BinMapper.transform's search in the WebAssembly kernel (`bin` in kernels/binning.wat). */
export const BinKernel = {
  /** Rows binned per kernel call: their values stay in the L2 cache while each column is binned. */
  CHUNK_ROWS: 2048,

  /**
   * Fills `out` as BinMapper.transform does; false (nothing done) where WebAssembly is missing. Large
   * inputs on two threads by default (a helper thread bins every other chunk; each value's bin is
   * the same whichever thread finds it).
   */
  transform(
    X: Float32Array,
    n: number,
    d: number,
    padded: Float32Array,
    nBins: Uint16Array,
    out: Uint8Array,
    options: { threads?: number; chunkRows?: number } = {},
  ): boolean {
    if (d === 0) return false;
    const chunk = Math.max(1, Math.min(options.chunkRows ?? BinKernel.CHUNK_ROWS, n));
    const threads =
      options.threads ?? (n * d >= PARALLEL_MIN_VALUES && n > chunk && availableParallelism() > 1 ? 2 : 1);
    // Per thread a slot: a chunk of rows (f32), then its bins.
    const slotBytes = (4 * chunk * d + chunk * d + 15) & ~15;
    const at = { padded: 0, missing: 1024 * d, slots: (1024 * d + 4 * d + 15) & ~15 };
    const instance = binningInstance(at.slots + threads * slotBytes);
    if (!instance) return false;
    const { ex, memory, module } = instance;
    const bin = ex.bin as BinFn;
    const buffer = memory.buffer;
    new Float32Array(buffer, at.padded, 256 * d).set(padded);
    new Int32Array(buffer, at.missing, d).set(nBins);
    const xAt = (slot: number) => at.slots + slot * slotBytes;
    const outAt = (slot: number) => xAt(slot) + 4 * chunk * d;
    const copyIn = (slot: number, start: number, rows: number) =>
      new Float32Array(buffer, xAt(slot), rows * d).set(X.subarray(start * d, (start + rows) * d));
    const copyOut = (slot: number, start: number, rows: number) => {
      const bins = new Uint8Array(buffer, outAt(slot), rows * d);
      for (let f = 0; f < d; f++) out.set(bins.subarray(f * rows, (f + 1) * rows), f * n + start);
    };
    const run = (slot: number, rows: number) => bin(xAt(slot), rows, d, at.padded, at.missing, outAt(slot));

    const helper =
      threads > 1
        ? HelperThread.start(BIN_HELPER_SOURCE, { module, memory }, BIN_CONTROL_WORDS, HELPER_START_TIMEOUT_MS)
        : undefined;
    helper?.store([
      [BIN_X, xAt(1)],
      [BIN_D, d],
      [BIN_PADDED, at.padded],
      [BIN_MISSING, at.missing],
      [BIN_OUT, outAt(1)],
    ]);
    runChunkPairs(n, chunk, helper, BIN_ROWS, { copyIn, run, copyOut });
    return true;
  },
};

/** radixSortFloat32 in the WebAssembly kernel (kernels/binning.wat), for one fit's columns. */
export class SortKernel {
  private constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly run: (a: number, b: number, counts: number, m: number) => void,
    /** Values it sorts at most. */
    readonly capacity: number,
  ) {}

  /** A kernel for columns of up to m values, or null where this runtime lacks WebAssembly. */
  static create(m: number): SortKernel | null {
    // Values, scratch and the digit counts; past 2 GiB the JavaScript sort does it.
    const bytes = 8 * m + 4096;
    const instance = bytes > 2 ** 31 ? null : binningInstance(bytes);
    if (!instance) return null;
    return new SortKernel(
      instance.memory,
      instance.ex.sort as (a: number, b: number, counts: number, m: number) => void,
      m,
    );
  }

  /** Sorts NaN-free float32 values ascending in place (as radixSortFloat32); returns `values`. */
  sort(values: Float32Array): Float32Array {
    const m = values.length;
    if (m > this.capacity) throw new RangeError(`SortKernel holds at most ${this.capacity} values`);
    const a = new Float32Array(this.memory.buffer, 0, m);
    a.set(values);
    this.run(0, 4 * this.capacity, 8 * this.capacity, m);
    values.set(a);
    return values;
  }
}

/**
 * Sorts NaN-free float32 values ascending in place (LSD radix sort on order-preserving integer
 * keys, 4 passes of 8 bits, the four digit counts taken in one pass): about 8× faster than
 * TypedArray.prototype.sort on 100,000 values. -0 sorts before +0, which compare equal and so make
 * one run. Returns `values`. SortKernel runs the same sort in WebAssembly, 3× faster; this is its
 * fallback and the reference it is tested against.
 */
export function radixSortFloat32(values: Float32Array, scratch: Float32Array): Float32Array {
  const m = values.length;
  // Int32 views keep every operation in V8's small-integer fast path (uint32 above 2^31 would not).
  const a = new Int32Array(values.buffer, values.byteOffset, m);
  const b = new Int32Array(scratch.buffer, scratch.byteOffset, m);
  // Key: flip all bits of negatives, only the sign bit of positives; undone after the last pass.
  const counts = new Int32Array(4 * 256);
  for (let i = 0; i < m; i++) {
    const x = a[i];
    const k = x < 0 ? ~x : x | 0x80000000;
    a[i] = k;
    counts[k & 255]++;
    counts[256 + ((k >>> 8) & 255)]++;
    counts[512 + ((k >>> 16) & 255)]++;
    counts[768 + (k >>> 24)]++;
  }
  for (let digit = 0; digit < 4; digit++) {
    let sum = 0;
    for (let q = digit * 256; q < digit * 256 + 256; q++) {
      const c = counts[q];
      counts[q] = sum;
      sum += c;
    }
  }
  radixPass(a, b, counts, 0, m);
  radixPass(b, a, counts, 8, m);
  radixPass(a, b, counts, 16, m);
  radixPass(b, a, counts, 24, m);
  // After an even number of passes the sorted keys are back in `values`.
  for (let i = 0; i < m; i++) {
    const k = a[i];
    a[i] = k < 0 ? k & 0x7fffffff : ~k;
  }
  return values;
}

/** One stable scatter of radixSortFloat32 by the key's 8 bits at `shift` (its counts at 32 * shift). */
function radixPass(src: Int32Array, dst: Int32Array, counts: Int32Array, shift: number, m: number): void {
  const off = 32 * shift;
  for (let i = 0; i < m; i++) {
    const k = src[i];
    dst[counts[off + ((k >>> shift) & 255)]++] = k;
  }
}

/** A float32 t with a <= t < b, for float32 a < b. */
function midpoint(a: number, b: number): number {
  const t = Math.fround(a + (b - a) / 2);
  return t >= a && t < b ? t : a;
}
