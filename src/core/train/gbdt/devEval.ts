// The fit's per-iteration dev evaluation: each iteration's trees added to the dev rows' scores, then
// the dev loss and metric that the fit reports and early stopping watches. The dev rows are copied
// once into a WebAssembly memory where they stay for the whole fit (the per-iteration forest is a
// few small trees), the prediction kernel (kernels/forest.wat) scores them chunk by chunk, and each
// chunk's scores, row losses and correct predictions are done in the same pass while it is in the
// cache. For large dev sets a helper thread, started once per fit, takes chunks too: the training
// thread would otherwise wait for this alone while the histogram helper idles.
//
// The values are those of loss.meanLoss and the old per-iteration passes, bit for bit: each row's
// loss is computed whole by one thread with the same operations (Math.exp, Math.log: the same
// functions on every thread), and the training thread sums the row losses in row order.

import { availableParallelism } from 'node:os';
import { compileKernel } from '../kernels/compile';
import { FOREST_WASM_BASE64 } from '../kernels/forest.wasm';
import { HELPER_FIRST_WORD, HelperThread, helperSource } from '../kernels/helperThread';
import { packForest, type ScoresFn } from './forest';
import { leafOf, type Tree } from './tree';

/** What the dev rows are scored by: squared error (regression), binary log loss, softmax (k classes). */
export const DEV_SQUARED = 0;
export const DEV_BINARY = 1;
export const DEV_SOFTMAX = 2;

/** Rows per chunk: a chunk's rows, scores and row losses stay in the cache between the kernel and the row pass. */
const CHUNK_ROWS = 2048;
/** From this many dev scores (rows × score columns) a helper thread takes chunks too (starting it costs tens of ms). */
const PARALLEL_MIN_SCORES = 100_000;
const PAGE = 65536;
/** Room first made for one iteration's packed trees (grown when a forest needs more). */
const FOREST_ROOM = PAGE;

// The helper's job parameters (after the handshake's control words).
const TABLE = HELPER_FIRST_WORD;
const N_TREES = HELPER_FIRST_WORD + 1;
const VALUE_BIAS = HELPER_FIRST_WORD + 2;
const BASE_AT = HELPER_FIRST_WORD + 3;
/** The next chunk to take: each thread takes chunks with Atomics.add until none is left. */
const NEXT_CHUNK = HELPER_FIRST_WORD + 4;
/** The helper's count of correct predictions in its chunks. */
const CORRECT = HELPER_FIRST_WORD + 5;
const CONTROL_WORDS = HELPER_FIRST_WORD + 6;

/**
 * Adds the leaf values of rows [start, end) (leaf, n × k as scores) to their scores (float64) and
 * float32 sums; sets rowLoss[i] to row i's loss, as loss.meanLoss sums it (squared error: the squared
 * residual, halved with the mean), and returns how many of the rows a classifier predicts right.
 * Self-contained (no outer names): the helper thread runs it from its source text.
 */
export function devRows(
  kind: number,
  k: number,
  leaf: Float32Array,
  scores: Float64Array,
  sums: Float32Array,
  y: Float64Array,
  rowLoss: Float64Array,
  start: number,
  end: number,
): number {
  let correct = 0;
  if (kind === 0) {
    for (let i = start; i < end; i++) {
      scores[i] += leaf[i];
      sums[i] += leaf[i];
      const r = scores[i] - y[i];
      rowLoss[i] = r * r;
    }
  } else if (kind === 1) {
    for (let i = start; i < end; i++) {
      scores[i] += leaf[i];
      sums[i] += leaf[i];
      const z = scores[i];
      // log(1 + e^z) - y z without overflow (binaryLossSum's terms).
      rowLoss[i] = Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))) - y[i] * z;
      if ((z > 0 ? 1 : 0) === y[i]) correct++;
    }
  } else {
    // -log p_y = log Σ exp(s_c - m) - (s_y - m), at most -log 1e-300 (softmaxLoss's rowLoss).
    const most = -Math.log(1e-300);
    for (let i = start; i < end; i++) {
      const row = i * k;
      let m = -Infinity;
      let predicted = 0;
      for (let c = 0; c < k; c++) {
        scores[row + c] += leaf[row + c];
        sums[row + c] += leaf[row + c];
        m = Math.max(m, scores[row + c]);
        if (scores[row + c] > scores[row + predicted]) predicted = c;
      }
      let s = 0;
      for (let c = 0; c < k; c++) {
        // The largest score's term is e^0 = 1, exactly what Math.exp gives: one call fewer per row.
        const x = scores[row + c] - m;
        s += x === 0 ? 1 : Math.exp(x);
      }
      const label = y[i];
      rowLoss[i] = Math.min(Math.log(s) - (scores[row + label] - m), most);
      if (predicted === label) correct++;
    }
  }
  return correct;
}

const HELPER_SOURCE = helperSource(
  `
const { module, memory, kind, k, n, rowBytes, xAt, outAt, chunkRows } = workerData;
const { scores: walk } = new WebAssembly.Instance(module, { env: { memory } }).exports;
const leaf = new Float32Array(memory.buffer, outAt, n * k);
const scores = new Float64Array(workerData.scores);
const sums = new Float32Array(workerData.sums);
const y = new Float64Array(workerData.y);
const rowLoss = new Float64Array(workerData.rowLoss);
const chunks = Math.ceil(n / chunkRows);
const devRows = (${devRows.toString()});
const arg = (w) => Atomics.load(control, w);`,
  `
    let correct = 0;
    for (let chunk; (chunk = Atomics.add(control, ${NEXT_CHUNK}, 1)) < chunks;) {
      const start = chunk * chunkRows;
      const end = Math.min(n, start + chunkRows);
      walk(arg(${TABLE}), arg(${N_TREES}), xAt + start * rowBytes, end - start, rowBytes, outAt + 4 * k * start, k, arg(${BASE_AT}), arg(${VALUE_BIAS}));
      correct += devRows(kind, k, leaf, scores, sums, y, rowLoss, start, end);
    }
    Atomics.store(control, ${CORRECT}, correct);`,
);

export interface DevEvaluatorOptions {
  /** 1 or 2; by default 2 for large dev sets on a machine with two cores or more. */
  threads?: number;
  /** Rows per chunk (tests: several chunks on few rows). */
  chunkRows?: number;
}

/** The kernel's side: the memory holding the dev rows, their leaf values and the iteration's trees. */
interface Resident {
  memory: WebAssembly.Memory;
  walk: ScoresFn;
  leaf: Float32Array;
  forestAt: number;
}

export class DevEvaluator {
  /** Iterations whose chunks a helper thread shared, in this thread (tests: the helper works, bundled too). */
  static helperJobs = 0;

  /** The dev rows' raw scores (n × k), from the initial scores on. */
  readonly scores: Float64Array;
  /**
   * The sums of the trees' leaf values per score column in float32, in tree order: the model's own
   * arithmetic (GbdtCore.scores), so the fit's dev predictions come out of it (TrainedModel.fitted).
   */
  readonly sums: Float32Array;
  private readonly y: Float64Array;
  private readonly rowLoss: Float64Array;
  private readonly chunkRows: number;
  private readonly resident: Resident | null;
  private helper: HelperThread | undefined;

  constructor(
    private readonly kind: number,
    private readonly X: Float32Array,
    private readonly n: number,
    private readonly d: number,
    y: Float64Array,
    init: Float64Array,
    private readonly k: number,
    options: DevEvaluatorOptions = {},
  ) {
    // Shared, for the helper thread.
    const shared = (bytes: number) => new SharedArrayBuffer(Math.max(bytes, 8));
    this.scores = new Float64Array(shared(8 * n * k));
    for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) this.scores[i * k + c] = init[c];
    this.sums = new Float32Array(shared(4 * n * k));
    this.y = new Float64Array(shared(8 * n));
    this.y.set(y.subarray(0, n));
    this.rowLoss = new Float64Array(shared(8 * n));
    this.chunkRows = Math.max(1, options.chunkRows ?? CHUNK_ROWS);
    this.resident = this.makeResident();
    const threads =
      options.threads ?? (n * k >= PARALLEL_MIN_SCORES && n > this.chunkRows && availableParallelism() > 1 ? 2 : 1);
    if (this.resident && threads > 1) {
      const { memory, leaf } = this.resident;
      // Not waited for: the fit goes on meanwhile, and its first iterations may score alone.
      this.helper = HelperThread.spawn(
        HELPER_SOURCE,
        {
          module: compileKernel(FOREST_WASM_BASE64),
          memory,
          kind,
          k,
          n,
          rowBytes: 4 * d,
          xAt: 0,
          outAt: leaf.byteOffset,
          chunkRows: this.chunkRows,
          scores: this.scores.buffer,
          sums: this.sums.buffer,
          y: this.y.buffer,
          rowLoss: this.rowLoss.buffer,
        },
        CONTROL_WORDS,
      );
    }
  }

  /** 2 when a helper thread takes chunks (it runs), else 1. */
  get threads(): number {
    return this.helper?.ready ? 2 : 1;
  }

  /**
   * The rows copied in once at 0, their leaf values (n × k float32) after them, then room for an
   * iteration's trees; null where this runtime lacks the kernel (the JavaScript walk then).
   */
  private makeResident(): Resident | null {
    const module = compileKernel(FOREST_WASM_BASE64);
    if (!module) return null;
    const { n, d, k } = this;
    const outAt = (4 * n * d + 15) & ~15;
    const forestAt = (outAt + 4 * n * k + 15) & ~15;
    const pages = Math.ceil((forestAt + FOREST_ROOM) / PAGE);
    if (pages > 65536) return null;
    let memory: WebAssembly.Memory;
    try {
      memory = new WebAssembly.Memory({ initial: pages, maximum: 65536, shared: true });
    } catch {
      return null;
    }
    new Float32Array(memory.buffer, 0, n * d).set(this.X.subarray(0, n * d));
    const walk = new WebAssembly.Instance(module, { env: { memory } }).exports.scores as ScoresFn;
    return { memory, walk, leaf: new Float32Array(memory.buffer, outAt, n * k), forestAt };
  }

  /**
   * Adds one iteration's trees (tree c adds to score column c) to the dev rows' scores; returns the
   * dev loss (loss.meanLoss of the scores) and the number of rows a classifier predicts right.
   */
  add(trees: Tree[]): { loss: number; correct: number } {
    const { kind, k, n, d, resident } = this;
    let correct = 0;
    const forest = resident && this.packInto(resident, trees);
    if (resident && forest) {
      const { walk, leaf } = resident;
      const chunks = Math.ceil(n / this.chunkRows);
      // A helper still booting is left out of this iteration.
      const control = this.helper?.ready ? this.helper.control : undefined;
      let job = 0;
      if (control) {
        Atomics.store(control, TABLE, forest.table);
        Atomics.store(control, N_TREES, forest.nTrees);
        Atomics.store(control, VALUE_BIAS, forest.valueBias);
        Atomics.store(control, BASE_AT, forest.baseAt);
        Atomics.store(control, NEXT_CHUNK, 0);
        job = this.helper!.post();
        DevEvaluator.helperJobs++;
      }
      const rowBytes = 4 * d;
      // With a helper both threads take chunks from the shared counter; alone, in order.
      let next = 0;
      for (let chunk; (chunk = control ? Atomics.add(control, NEXT_CHUNK, 1) : next++) < chunks;) {
        const start = chunk * this.chunkRows;
        const end = Math.min(n, start + this.chunkRows);
        const outAt = leaf.byteOffset + 4 * k * start;
        walk(
          forest.table,
          forest.nTrees,
          start * rowBytes,
          end - start,
          rowBytes,
          outAt,
          k,
          forest.baseAt,
          forest.valueBias,
        );
        correct += devRows(kind, k, leaf, this.scores, this.sums, this.y, this.rowLoss, start, end);
      }
      if (job) {
        if (this.helper!.await(job)) {
          const failure = this.helper!.failure();
          this.stop();
          throw new Error(`The dev evaluation's helper thread failed: ${failure}`);
        }
        correct += Atomics.load(control!, CORRECT);
      }
    } else {
      // The JavaScript walk, then the same row pass.
      const leaf = new Float32Array(n * k);
      for (let c = 0; c < k; c++) {
        const tree = trees[c];
        for (let i = 0; i < n; i++) leaf[i * k + c] = tree.value[leafOf(tree, this.X, i * d)];
      }
      correct = devRows(kind, k, leaf, this.scores, this.sums, this.y, this.rowLoss, 0, n);
    }
    let s = 0;
    for (let i = 0; i < n; i++) s += this.rowLoss[i];
    return { loss: n === 0 ? 0 : kind === DEV_SQUARED ? s / (2 * n) : s / n, correct };
  }

  /**
   * Copies the iteration's trees (with zero base values: a row's float32 score in a column is then its
   * one leaf value, exactly) after the leaf values, growing the memory when they need more room (and
   * stopping the helper thread then); null when it cannot grow (the JavaScript walk then).
   */
  private packInto(
    resident: Resident,
    trees: Tree[],
  ): { table: number; nTrees: number; baseAt: number; valueBias: number } | null {
    const { memory, forestAt } = resident;
    const packed = packForest(
      trees,
      Int32Array.from(trees, (_, c) => c),
      new Float32Array(this.k),
      forestAt,
    );
    const end = forestAt + packed.bytes.byteLength;
    if (end > memory.buffer.byteLength) {
      // A grown shared memory reaches another thread's WebAssembly instance asynchronously: the
      // helper could walk trees past the end it knows. It leaves; this thread works alone from now on.
      this.stop();
      try {
        memory.grow(Math.ceil((end - memory.buffer.byteLength) / PAGE));
      } catch {
        return null;
      }
    }
    new Uint8Array(memory.buffer, forestAt, packed.bytes.byteLength).set(new Uint8Array(packed.bytes));
    return { table: forestAt, nTrees: packed.nTrees, baseAt: packed.baseAt, valueBias: packed.valueBias };
  }

  /** Ends the helper thread (idempotent); every fit calls it, whatever way it ends. */
  stop(): void {
    this.helper?.stop();
    this.helper = undefined;
  }
}
