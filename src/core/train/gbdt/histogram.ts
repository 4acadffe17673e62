// Histogram building, the GBDT's hot loop, optionally split across two threads by feature.
//
// A histogram holds, per bin of every column, (sum of gradients, sum of hessians, row count)
// interleaved in a Float64Array. The parallel path gives a helper worker thread the upper half of
// the columns: inputs (bins, row indices, gradients) and the output live in SharedArrayBuffers, a
// job is signalled with Atomics (no message per job), and each thread writes only its own columns,
// so the result is bit-identical to the single-threaded one.

import { Worker } from 'node:worker_threads';

/**
 * Zeroes and fills the histogram of columns [fStart, fEnd) over rows[start + k], k < m, with g/h
 * indexed by k (gathered in row order beforehand). Self-contained (no outer references): its
 * source also runs in the helper thread.
 */
export function accumulateHistogram(
  hist: Float64Array,
  bins: Uint8Array,
  n: number,
  featureOffset: Int32Array,
  fStart: number,
  fEnd: number,
  rows: Uint32Array,
  start: number,
  m: number,
  g: Float64Array,
  h: Float64Array,
): void {
  hist.fill(0, featureOffset[fStart] * 3, featureOffset[fEnd] * 3);
  for (let f = fStart; f < fEnd; f++) {
    const base = f * n;
    const off = featureOffset[f] * 3;
    let k = 0;
    // Unrolled by 4: independent updates per step let the CPU overlap them (measured 1.5× faster).
    for (; k + 4 <= m; k += 4) {
      const a = off + bins[base + rows[start + k]] * 3;
      const b = off + bins[base + rows[start + k + 1]] * 3;
      const c = off + bins[base + rows[start + k + 2]] * 3;
      const e = off + bins[base + rows[start + k + 3]] * 3;
      hist[a] += g[k];
      hist[a + 1] += h[k];
      hist[a + 2] += 1;
      hist[b] += g[k + 1];
      hist[b + 1] += h[k + 1];
      hist[b + 2] += 1;
      hist[c] += g[k + 2];
      hist[c + 1] += h[k + 2];
      hist[c + 2] += 1;
      hist[e] += g[k + 3];
      hist[e + 1] += h[k + 3];
      hist[e + 2] += 1;
    }
    for (; k < m; k++) {
      const a = off + bins[base + rows[start + k]] * 3;
      hist[a] += g[k];
      hist[a + 1] += h[k];
      hist[a + 2] += 1;
    }
  }
}

// Control words shared with the helper thread.
const JOB = 0; // incremented by the main thread per job
const DONE = 1; // set to the job number by the helper when finished
const STOP = 2;
const START = 3;
const COUNT = 4;
const READY = 5; // set by the helper once running
const FAILED = 6; // set by the helper when a job threw (it then exits)

/** How long the constructor waits for the helper thread to start before building alone. */
const HELPER_START_TIMEOUT_MS = 10_000;

/** Below this many (row, column) updates a job is not worth waking the helper thread. */
const PARALLEL_MIN_WORK = 100_000;

const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const accumulate = ${accumulateHistogram.toString()};
const { control, hist, bins, n, featureOffset, fStart, fEnd, rows, g, h } = workerData;
let job = 0;
Atomics.store(control, ${READY}, 1);
Atomics.notify(control, ${READY});
for (;;) {
  Atomics.wait(control, ${JOB}, job);
  job = Atomics.load(control, ${JOB});
  if (Atomics.load(control, ${STOP}) === 1) break;
  try {
    accumulate(hist, bins, n, featureOffset, fStart, fEnd, rows, Atomics.load(control, ${START}), Atomics.load(control, ${COUNT}), g, h);
  } catch (e) {
    Atomics.store(control, ${FAILED}, 1);
  }
  Atomics.store(control, ${DONE}, job);
  Atomics.notify(control, ${DONE});
  if (Atomics.load(control, ${FAILED}) === 1) break;
}
`;

export class HistogramBuilder {
  /** Row indices, partitioned per leaf by the grower (shared with the helper). */
  readonly rows: Uint32Array;
  /** Gradients/hessians of the job's rows, in row order. */
  private readonly g: Float64Array;
  private readonly h: Float64Array;
  private readonly bins: Uint8Array;
  private readonly output: Float64Array;
  private control: Int32Array | null = null;
  private helper: Worker | null = null;
  /** The main thread's columns are [0, split); the helper's [split, d). */
  private split: number;
  private job = 0;

  constructor(
    bins: Uint8Array,
    private readonly n: number,
    private readonly featureOffset: Int32Array,
    threads: number,
  ) {
    const d = featureOffset.length - 1;
    const parallel = threads > 1 && d > 1;
    const alloc = (bytes: number) => (parallel ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
    this.rows = new Uint32Array(alloc(4 * n));
    this.g = new Float64Array(alloc(8 * n));
    this.h = new Float64Array(alloc(8 * n));
    this.output = new Float64Array(alloc(8 * 3 * featureOffset[d]));
    this.bins = parallel ? new Uint8Array(alloc(bins.length)) : bins;
    this.split = d;
    if (!parallel) return;
    this.bins.set(bins);
    this.split = Math.ceil(d / 2);
    this.control = new Int32Array(new SharedArrayBuffer(4 * 8));
    this.helper = new Worker(HELPER_SOURCE, {
      eval: true,
      workerData: { control: this.control, hist: this.output, bins: this.bins, n, featureOffset, fStart: this.split, fEnd: d, rows: this.rows, g: this.g, h: this.h },
    });
    this.helper.unref();
    // Blocking here is safe: the helper boots on its own thread. If it never starts (a runtime
    // without worker threads, a failed spawn), build alone rather than wait forever later.
    if (Atomics.wait(this.control, READY, 0, HELPER_START_TIMEOUT_MS) === 'timed-out' && Atomics.load(this.control, READY) === 0) this.stopHelper();
  }

  /** Histogram of the root: every row, rows[] being the identity. */
  buildRoot(hist: Float64Array, g: Float64Array, h: Float64Array): void {
    this.g.set(g);
    this.h.set(h);
    this.run(hist, 0, this.n);
  }

  /** Histogram of the leaf holding rows[start..end). */
  buildLeaf(hist: Float64Array, start: number, end: number, g: Float64Array, h: Float64Array): void {
    const { rows } = this;
    const m = end - start;
    for (let k = 0; k < m; k++) {
      const r = rows[start + k];
      this.g[k] = g[r];
      this.h[k] = h[r];
    }
    this.run(hist, start, m);
  }

  /** Stops the helper thread. */
  dispose(): void {
    this.stopHelper();
  }

  /** Whether a helper thread is (still) building half of the histograms. */
  get parallel(): boolean {
    return this.control !== null;
  }

  private stopHelper(): void {
    if (this.control) {
      Atomics.store(this.control, STOP, 1);
      Atomics.add(this.control, JOB, 1);
      Atomics.notify(this.control, JOB);
    }
    void this.helper?.terminate();
    this.control = null;
    this.helper = null;
    this.split = this.featureOffset.length - 1;
  }

  private run(hist: Float64Array, start: number, m: number): void {
    const d = this.featureOffset.length - 1;
    const { control, rows } = this;
    if (!control || m * d < PARALLEL_MIN_WORK) {
      accumulateHistogram(hist, this.bins, this.n, this.featureOffset, 0, d, rows, start, m, this.g, this.h);
      return;
    }
    control[START] = start;
    control[COUNT] = m;
    const job = ++this.job;
    Atomics.store(control, JOB, job);
    Atomics.notify(control, JOB);
    const split = this.split;
    accumulateHistogram(this.output, this.bins, this.n, this.featureOffset, 0, split, rows, start, m, this.g, this.h);
    // Wait on the value just checked: re-reading it for the wait could miss the helper's notify.
    for (let done = Atomics.load(control, DONE); done !== job; done = Atomics.load(control, DONE)) Atomics.wait(control, DONE, done);
    if (Atomics.load(control, FAILED) === 1) {
      // The helper's columns are incomplete: build them here, and alone from now on.
      this.stopHelper();
      accumulateHistogram(this.output, this.bins, this.n, this.featureOffset, split, d, rows, start, m, this.g, this.h);
    }
    hist.set(this.output.subarray(0, this.featureOffset[d] * 3));
  }
}
