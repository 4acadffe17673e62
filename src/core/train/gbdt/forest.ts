// The GBDT's prediction in the WebAssembly kernel (kernels/forest.wat): the trees packed as 16-byte
// nodes (siblings side by side) in a shared WebAssembly memory, the rows copied in by chunks that
// stay in the cache, and for large inputs a helper thread (kernels/helperThread.ts) taking every
// other chunk. Each row is computed whole by one thread, in the kernel's fixed order, so the scores
// are the same on one thread or two, and bit-identical to the JavaScript reference
// (GbdtCore.scoresReference).

import { availableParallelism } from 'node:os';
import { compileKernel } from '../kernels/compile';
import { FOREST_WASM_BASE64 } from '../kernels/forest.wasm';
import { HELPER_FIRST_WORD, HelperThread, helperSource, runChunkPairs } from '../kernels/helperThread';
import { treeDepth, type Tree } from './tree';

/** Bytes of row values copied in per chunk (rows of one chunk are scored by one call of the kernel). */
const CHUNK_BYTES = 1 << 20;
/** From this many row × tree walks a helper thread takes half of the chunks (starting it costs tens of ms). */
const PARALLEL_MIN_WALKS = 20_000_000;
const HELPER_START_TIMEOUT_MS = 10_000;
const PAGE = 65536;

// The helper's job parameters (after the handshake's control words): the kernel's arguments.
const TABLE = HELPER_FIRST_WORD;
const N_TREES = HELPER_FIRST_WORD + 1;
const X_AT = HELPER_FIRST_WORD + 2;
const ROWS = HELPER_FIRST_WORD + 3;
const ROW_BYTES = HELPER_FIRST_WORD + 4;
const OUT_AT = HELPER_FIRST_WORD + 5;
const K = HELPER_FIRST_WORD + 6;
const BASE_AT = HELPER_FIRST_WORD + 7;
const VALUE_BIAS = HELPER_FIRST_WORD + 8;
const CONTROL_WORDS = HELPER_FIRST_WORD + 9;

const HELPER_SOURCE = helperSource(
  `
const { module, memory } = workerData;
const { scores } = new WebAssembly.Instance(module, { env: { memory } }).exports;
const arg = (w) => Atomics.load(control, w);`,
  `
    scores(arg(${TABLE}), arg(${N_TREES}), arg(${X_AT}), arg(${ROWS}), arg(${ROW_BYTES}), arg(${OUT_AT}), arg(${K}), arg(${BASE_AT}), arg(${VALUE_BIAS}));`,
);

/** forest.wat's `scores`. */
export type ScoresFn = (
  table: number,
  nTrees: number,
  x: number,
  n: number,
  rowBytes: number,
  out: number,
  k: number,
  base: number,
  valueBias: number,
) => void;

export interface ForestOptions {
  /** 1 or 2; by default 2 for large inputs on a machine with two cores or more. */
  threads?: number;
  /** Rows per chunk (tests: several chunks on few rows). */
  chunkRows?: number;
  /**
   * Where calls that follow each other (a fit scoring its dev rows every iteration) keep one
   * WebAssembly memory, reused while it is large enough: a new shared memory per call is freed only
   * when the garbage collector gets to it (a hundred calls on 120,000 dev rows held 100 MB more).
   */
  memory?: ForestMemory;
  /** The n × k array the scores go to (calls that follow each other reuse one); a new one by default. */
  out?: Float32Array;
}

/** A WebAssembly memory kept between forestScores calls (ForestOptions.memory). */
export interface ForestMemory {
  memory?: WebAssembly.Memory;
}

/** The packed trees (kernels/forest.wat): the tree table, the nodes, their leaf values, then the base values. */
export interface PackedForest {
  bytes: ArrayBuffer;
  nTrees: number;
  baseAt: number;
  /** A node at address a has its leaf value at valueBias + a / 4. */
  valueBias: number;
  /** Score columns. */
  k: number;
}

/**
 * The trees packed for the kernel; its addresses (tree table, nodes, baseAt, valueBias) assume the
 * bytes are copied to `origin` (a multiple of 16) in the kernel's memory.
 */
export function packForest(trees: Tree[], treeTarget: Int32Array, base: Float32Array, origin = 0): PackedForest {
  const nodes = trees.reduce((s, t) => s + t.feature.length, 0);
  const nodesAt = 16 * trees.length;
  const valuesAt = nodesAt + 16 * nodes;
  const baseAt = valuesAt + 4 * nodes;
  const bytes = new ArrayBuffer(baseAt + 4 * base.length);
  const i32 = new Int32Array(bytes);
  const f32 = new Float32Array(bytes);
  let at = nodesAt;
  trees.forEach((tree, t) => {
    i32.set([origin + at, treeDepth(tree), 4 * treeTarget[t], 0], 4 * t);
    // The kernel's order: the root first, then each split's children side by side (breadth first).
    const order = [0];
    const slot = new Int32Array(tree.feature.length);
    for (let q = 0; q < order.length; q++) {
      const node = order[q];
      if (tree.feature[node] < 0) continue;
      slot[tree.left[node]] = order.length;
      order.push(tree.left[node]);
      slot[tree.right[node]] = order.length;
      order.push(tree.right[node]);
    }
    order.forEach((node, k) => {
      const w = (at >> 2) + 4 * k;
      const leaf = tree.feature[node] < 0;
      f32[w] = leaf ? NaN : tree.threshold[node];
      i32[w + 1] = leaf ? 0 : 4 * tree.feature[node];
      i32[w + 2] = origin + at + 16 * (leaf ? k : slot[tree.right[node]]);
      i32[w + 3] = leaf ? 0 : tree.missingLeft[node];
      f32[(valuesAt + (16 * k + at - nodesAt) / 4) >> 2] = leaf ? tree.value[node] : 0;
    });
    at += 16 * tree.feature.length;
  });
  f32.set(base, baseAt >> 2);
  // A node at absolute address origin + a has its value at origin + valuesAt + (a - nodesAt) / 4.
  return {
    bytes,
    nTrees: trees.length,
    baseAt: origin + baseAt,
    valueBias: origin + valuesAt - (origin + nodesAt) / 4,
    k: base.length,
  };
}

/**
 * Raw scores (n × base.length, float32) of rows X (n × d) by the kernel, or null where this runtime
 * lacks it (no WebAssembly, no shared memory): the caller then runs the JavaScript reference.
 */
export function forestScores(
  forest: PackedForest,
  d: number,
  X: Float32Array,
  n: number,
  options: ForestOptions = {},
): Float32Array | null {
  const module = compileKernel(FOREST_WASM_BASE64);
  if (!module) return null;
  const k = forest.k;
  const rowBytes = 4 * d;
  const chunkRows = Math.max(1, Math.min(n, options.chunkRows ?? Math.max(64, Math.floor(CHUNK_BYTES / rowBytes))));
  const threads =
    options.threads ?? (n * forest.nTrees >= PARALLEL_MIN_WALKS && n > chunkRows && availableParallelism() > 1 ? 2 : 1);
  // Per thread: a chunk of rows, then its scores.
  const slotBytes = (chunkRows * (rowBytes + 4 * k) + 15) & ~15;
  const slotsAt = (forest.bytes.byteLength + 15) & ~15;
  const pages = Math.ceil((slotsAt + threads * slotBytes) / PAGE);
  let memory = options.memory?.memory;
  if (!memory || memory.buffer.byteLength < pages * PAGE) {
    try {
      memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    } catch {
      return null;
    }
    if (options.memory) options.memory.memory = memory;
  }
  const buffer = memory.buffer;
  new Uint8Array(buffer).set(new Uint8Array(forest.bytes));
  const scores = new WebAssembly.Instance(module, { env: { memory } }).exports.scores as ScoresFn;
  const xAt = (slot: number) => slotsAt + slot * slotBytes;
  const outAt = (slot: number) => xAt(slot) + chunkRows * rowBytes;
  const out = options.out?.length === n * k ? options.out : new Float32Array(n * k);
  const copyIn = (slot: number, start: number, rows: number) =>
    new Float32Array(buffer, xAt(slot), rows * d).set(X.subarray(start * d, (start + rows) * d));
  const copyOut = (slot: number, start: number, rows: number) =>
    out.set(new Float32Array(buffer, outAt(slot), rows * k), start * k);
  const run = (slot: number, rows: number) =>
    scores(0, forest.nTrees, xAt(slot), rows, rowBytes, outAt(slot), k, forest.baseAt, forest.valueBias);

  const helper =
    threads > 1
      ? HelperThread.start(HELPER_SOURCE, { module, memory }, CONTROL_WORDS, HELPER_START_TIMEOUT_MS)
      : undefined;
  helper?.store([
    [TABLE, 0],
    [N_TREES, forest.nTrees],
    [X_AT, xAt(1)],
    [ROW_BYTES, rowBytes],
    [OUT_AT, outAt(1)],
    [K, k],
    [BASE_AT, forest.baseAt],
    [VALUE_BIAS, forest.valueBias],
  ]);
  runChunkPairs(n, chunkRows, helper, ROWS, { copyIn, run, copyOut });
  return out;
}
