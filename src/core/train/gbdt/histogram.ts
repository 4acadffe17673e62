// Histogram building, the GBDT's hot loop, optionally split across two threads by feature.
//
// A histogram holds, per bin of every column, (sum of gradients, sum of hessians, row count)
// interleaved in a Float64Array. The work runs in a small WebAssembly kernel (kernels/hist.wat,
// measured 3-5× faster than the same loop in JavaScript) on one shared WebAssembly memory holding
// the binned columns, the row indices, the gradients and the histograms themselves (numbered slots:
// the kernel writes each in place, and the sibling subtraction runs in the kernel too). The parallel
// path gives a helper worker thread, running the same kernel on the same memory, the upper half of
// the columns: a job is signalled with Atomics (no message per job), and each thread writes only its
// own columns, so the result is bit-identical to the single-threaded one. Where WebAssembly is
// missing, accumulateHistogram does the same work in JavaScript on one thread.

import { Worker } from 'node:worker_threads';
import { HIST_WASM_BASE64 } from '../kernels/hist.wasm';

/**
 * Zeroes and fills the histogram of columns [fStart, fEnd) over the rows rows[start + k], k < m,
 * with g/h indexed by row. The JavaScript twin of hist.wat's `hist` (the fallback, and the
 * reference the kernel is tested against); same order of additions.
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
    for (let k = 0; k < m; k++) {
      const r = rows[start + k];
      const a = off + bins[base + r] * 3;
      hist[a] += g[r];
      hist[a + 1] += h[r];
      hist[a + 2] += 1;
    }
  }
}

type HistFn = (out: number, bins: number, n: number, offsets: number, fStart: number, fEnd: number, rows: number, m: number, gh: number, ordered: number) => void;

let histModule: WebAssembly.Module | null | undefined;

/** The compiled histogram kernel, or null where this runtime lacks WebAssembly (threads, bulk memory). */
export function histKernelModule(): WebAssembly.Module | null {
  if (histModule !== undefined) return histModule;
  try {
    histModule = new WebAssembly.Module(Uint8Array.from(atob(HIST_WASM_BASE64), (ch) => ch.charCodeAt(0)));
  } catch {
    histModule = null;
  }
  return histModule;
}

// Control words shared with the helper thread.
const JOB = 0; // incremented by the main thread per job
const DONE = 1; // set to the job number by the helper when finished
const STOP = 2;
const ROWS = 3; // the kernel's rows argument (a byte offset, or -1 for the root)
const COUNT = 4;
const READY = 5; // set by the helper once running
const FAILED = 6; // set by the helper when a job threw (it then exits)
const OUT = 7; // the job's histogram (a byte offset)

/** How long the constructor waits for the helper thread to start before building alone. */
const HELPER_START_TIMEOUT_MS = 10_000;

/** The most memory histogram slots made up front for a helper thread may take (else: one thread). */
const PARALLEL_SLOT_BYTES = 256 * 1024 * 1024;

/** Below this many (row, column) updates a job is not worth waking the helper thread. */
const PARALLEL_MIN_WORK = 100_000;

const PAGE = 65536;
/** The kernel memory's maximum (4 GiB, WebAssembly's limit): reserved address space, grown as needed. */
const MAX_PAGES = 65536;

/** Byte offsets of the kernel's arrays in its memory. */
interface Layout {
  bins: number;
  offsets: number;
  rows: number;
  /** (g, h) f64 pairs, one per row. */
  gh: number;
  /** Scratch for a leaf's (g, h) pairs in row order: the main thread's and the helper's. */
  ordered: number;
  orderedHelper: number;
  /** Where histogram slot 0 starts; slot i is at slots + i * 24 * entries. */
  slots: number;
  bytes: number;
}

function layout(n: number, d: number): Layout {
  let p = 0;
  // Each array 16-byte aligned (f64 and u32 views need 8 and 4).
  const take = (bytes: number) => {
    const at = p;
    p = (p + bytes + 15) & ~15;
    return at;
  };
  const bins = take(n * d);
  const offsets = take(4 * (d + 1));
  const rows = take(4 * n);
  const gh = take(16 * n);
  const ordered = take(16 * n);
  const orderedHelper = take(16 * n);
  const slots = take(0);
  return { bins, offsets, rows, gh, ordered, orderedHelper, slots, bytes: p };
}

const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, at, n, fStart, fEnd } = workerData;
const hist = new WebAssembly.Instance(module, { env: { memory } }).exports.hist;
let job = 0;
Atomics.store(control, ${READY}, 1);
Atomics.notify(control, ${READY});
for (;;) {
  Atomics.wait(control, ${JOB}, job);
  job = Atomics.load(control, ${JOB});
  if (Atomics.load(control, ${STOP}) === 1) break;
  try {
    hist(Atomics.load(control, ${OUT}), at.bins, n, at.offsets, fStart, fEnd, Atomics.load(control, ${ROWS}), Atomics.load(control, ${COUNT}), at.gh, at.orderedHelper);
  } catch (e) {
    Atomics.store(control, ${FAILED}, 1);
  }
  Atomics.store(control, ${DONE}, job);
  Atomics.notify(control, ${DONE});
  if (Atomics.load(control, ${FAILED}) === 1) break;
}
`;

export class HistogramBuilder {
  /** Row indices, partitioned per leaf by the grower (in the kernel's memory). */
  readonly rows: Uint32Array;
  /** Gradients/hessians of every training row (of the tree being grown): interleaved (g, h) pairs in the kernel's memory, separate arrays on the fallback. */
  private readonly gh: Float64Array | null = null;
  private readonly g: Float64Array | null = null;
  private readonly h: Float64Array | null = null;
  private readonly bins: Uint8Array;
  /** Float64 values in one histogram. */
  readonly size: number;
  /** Histogram slots handed out so far (views into the kernel's memory, or plain arrays). */
  private readonly slots: Float64Array[] = [];
  /** The kernel, its memory and layout; null on the JavaScript fallback. */
  private readonly kernel: { hist: HistFn; sub: (dst: number, src: number, count: number) => void; memory: WebAssembly.Memory; at: Layout } | null = null;
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
    /** Histograms the caller may hold at once; with a helper thread they are all allocated up front. */
    slotCapacity = 1,
  ) {
    const d = featureOffset.length - 1;
    this.size = featureOffset[d] * 3;
    // The helper thread never sees the memory grow (a grown shared memory reaches another thread's
    // WebAssembly instance asynchronously): its histograms are made before it starts, within a budget.
    const parallel = threads > 1 && d > 1 && slotCapacity * 8 * this.size <= PARALLEL_SLOT_BYTES;
    this.split = d;
    const module = histKernelModule();
    if (!module) {
      this.bins = bins;
      this.rows = new Uint32Array(n);
      this.g = new Float64Array(n);
      this.h = new Float64Array(n);
      return;
    }
    const at = layout(n, d);
    // Shared so that a helper thread can work on it; a shared memory needs a maximum, which is
    // address space reserved, not memory used: it grows a page range per new histogram slot.
    const initialBytes = at.bytes + (parallel ? slotCapacity * 8 * this.size : 0);
    const memory = new WebAssembly.Memory({ initial: Math.ceil(initialBytes / PAGE), maximum: MAX_PAGES, shared: true });
    const buffer = memory.buffer;
    const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
    this.kernel = { hist: ex.hist as HistFn, sub: ex.sub as (dst: number, src: number, count: number) => void, memory, at };
    this.bins = new Uint8Array(buffer, at.bins, n * d);
    this.bins.set(bins);
    new Int32Array(buffer, at.offsets, d + 1).set(featureOffset);
    this.rows = new Uint32Array(buffer, at.rows, n);
    this.gh = new Float64Array(buffer, at.gh, 2 * n);
    if (!parallel) return;
    this.histogram(slotCapacity - 1);
    this.split = Math.ceil(d / 2);
    this.control = new Int32Array(new SharedArrayBuffer(4 * 8));
    this.helper = new Worker(HELPER_SOURCE, { eval: true, workerData: { module, memory, control: this.control, at, n, fStart: this.split, fEnd: d } });
    HistogramBuilder.liveHelpers++;
    this.helper.once('exit', () => HistogramBuilder.liveHelpers--);
    this.helper.unref();
    // Blocking here is safe: the helper boots on its own thread. If it never starts (a runtime
    // without worker threads, a failed spawn), build alone rather than wait forever later.
    if (Atomics.wait(this.control, READY, 0, HELPER_START_TIMEOUT_MS) === 'timed-out' && Atomics.load(this.control, READY) === 0) this.stopHelper();
  }

  /** Helper threads started and not yet exited, in this thread (for tests: none may outlive a fit). */
  static liveHelpers = 0;

  /** Histogram slot i (0, 1, 2, ... in order of first use): `size` float64 values, reused across jobs. */
  histogram(slot: number): Float64Array {
    while (this.slots.length <= slot) {
      const k = this.kernel;
      if (!k) {
        this.slots.push(new Float64Array(this.size));
        continue;
      }
      const offset = k.at.slots + this.slots.length * 8 * this.size;
      const needed = Math.ceil((offset + 8 * this.size) / PAGE);
      const pages = k.memory.buffer.byteLength / PAGE;
      if (needed > pages) {
        // More histograms than the helper thread was started with: build alone from now on.
        this.stopHelper();
        // Growing a shared memory keeps earlier views valid (they simply stop short of the new pages).
        k.memory.grow(needed - pages);
      }
      this.slots.push(new Float64Array(k.memory.buffer, offset, this.size));
    }
    return this.slots[slot];
  }

  /** The gradients and hessians (one per training row) the next histograms sum. */
  setGradients(g: Float64Array, h: Float64Array): void {
    const gh = this.gh;
    if (gh) {
      for (let i = 0, n = this.n; i < n; i++) {
        gh[2 * i] = g[i];
        gh[2 * i + 1] = h[i];
      }
      return;
    }
    this.g!.set(g);
    this.h!.set(h);
  }

  /** Histogram of the root into `slot`: every row in order (whatever rows[] holds). */
  buildRoot(slot: number): void {
    this.run(slot, -1, this.n);
  }

  /** Histogram of the leaf holding rows[start..end) into `slot`. */
  buildLeaf(slot: number, start: number, end: number): void {
    this.run(slot, start, end - start);
  }

  /** Histogram `dst` minus histogram `src`, in place (a sibling from its parent and the other child). */
  subtract(dst: number, src: number): void {
    const a = this.histogram(dst);
    const b = this.histogram(src);
    if (this.kernel) {
      this.kernel.sub(a.byteOffset, b.byteOffset, this.size);
      return;
    }
    for (let i = 0; i < this.size; i++) a[i] -= b[i];
  }

  /** Stops the helper thread. */
  dispose(): void {
    this.stopHelper();
  }

  /** Whether a helper thread is (still) building half of the histograms. */
  get parallel(): boolean {
    return this.control !== null;
  }

  /** Whether the WebAssembly kernel (rather than the JavaScript fallback) builds the histograms. */
  get wasm(): boolean {
    return this.kernel !== null;
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

  /** Columns [fStart, fEnd) of the histogram of m rows: rows[start..start + m), or 0..m - 1 when start is -1. */
  private part(out: Float64Array, fStart: number, fEnd: number, start: number, m: number): void {
    const k = this.kernel;
    if (k) {
      k.hist(out.byteOffset, k.at.bins, this.n, k.at.offsets, fStart, fEnd, start < 0 ? -1 : k.at.rows + 4 * start, m, k.at.gh, k.at.ordered);
      return;
    }
    if (start >= 0) accumulateHistogram(out, this.bins, this.n, this.featureOffset, fStart, fEnd, this.rows, start, m, this.g!, this.h!);
    else accumulateHistogram(out, this.bins, this.n, this.featureOffset, fStart, fEnd, this.identity(), 0, m, this.g!, this.h!);
  }

  private identityRows: Uint32Array | null = null;

  /** 0, 1, ..., n - 1 (the fallback's root rows). */
  private identity(): Uint32Array {
    this.identityRows ??= Uint32Array.from({ length: this.n }, (_, i) => i);
    return this.identityRows;
  }

  private run(slot: number, start: number, m: number): void {
    const d = this.featureOffset.length - 1;
    const { control } = this;
    const out = this.histogram(slot);
    if (!control || m * d < PARALLEL_MIN_WORK) {
      this.part(out, 0, d, start, m);
      return;
    }
    control[ROWS] = start < 0 ? -1 : this.kernel!.at.rows + 4 * start;
    control[COUNT] = m;
    control[OUT] = out.byteOffset;
    const job = ++this.job;
    Atomics.store(control, JOB, job);
    Atomics.notify(control, JOB);
    const split = this.split;
    this.part(out, 0, split, start, m);
    // Wait on the value just checked: re-reading it for the wait could miss the helper's notify.
    for (let done = Atomics.load(control, DONE); done !== job; done = Atomics.load(control, DONE)) Atomics.wait(control, DONE, done);
    if (Atomics.load(control, FAILED) === 1) {
      // The helper's columns are incomplete: build them here, and alone from now on.
      this.stopHelper();
      this.part(out, split, d, start, m);
    }
  }
}
