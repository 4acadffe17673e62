// The MLP's matrix-multiply kernels against a float64 reference, on sizes that hit every tail path
// (1×1, non-multiples of 4 and 8, fewer than 4 rows), with A read directly and transposed, from
// zero / C / a bias row, with the relu and relu-gradient epilogues; the column sums, row gather
// Adam/SGD updates and softmax against scalar formulas. Also: the committed wasm module is the compile of gemm.wat.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import {
  ADAM_BETA1,
  ADAM_BETA2,
  ADAM_EPSILON,
  createKernels,
  INIT_ACCUMULATE,
  INIT_BIAS,
  INIT_ZERO,
  KERNEL_KINDS,
  POST_GATE,
  POST_NONE,
  POST_RELU,
  wasmSimdAvailable,
  type KernelKind,
} from '../../../src/core/train/kernels/gemm';

const kernelsDir = join(__dirname, '..', '..', '..', 'src', 'core', 'train', 'kernels');

/** Deterministic values in [-1, 1). */
function fill(h: Float32Array, off: number, count: number, seed: number): void {
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    h[off + i] = s / 2 ** 31 - 1;
  }
}

interface Case {
  m: number;
  n: number;
  k: number;
  transA: boolean;
  init: number;
  post: number;
}

function check(kind: KernelKind, { m, n, k, transA, init, post }: Case): void {
  const pad = 3; // operands at unaligned offsets with padded row strides
  const lda = (transA ? m : k) + pad;
  const ldb = n + 1;
  const ldc = n + 2;
  const ldg = n + 3;
  const aOff = 5;
  const bOff = aOff + (transA ? k : m) * lda + 7;
  const biasOff = bOff + k * ldb + 2;
  const gOff = biasOff + n + 1;
  const cOff = gOff + m * ldg + 1;
  const total = cOff + m * ldc + 8;
  const kern = createKernels(kind, total);
  const h = kern.heap;
  fill(h, 0, total, m * 131 + n * 17 + k);
  const before = Float64Array.from(h);
  const sam = transA ? 1 : lda;
  const sak = transA ? lda : 1;
  kern.gemm(m, n, k, aOff, sam, sak, bOff, ldb, cOff, ldc, init, biasOff, post, gOff, ldg);
  const where = `${kind} ${JSON.stringify({ m, n, k, transA, init, post })}`;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = init === INIT_ACCUMULATE ? before[cOff + i * ldc + j] : init === INIT_BIAS ? before[biasOff + j] : 0;
      for (let p = 0; p < k; p++) s += before[aOff + i * sam + p * sak] * before[bOff + p * ldb + j];
      if (post === POST_RELU) s = Math.max(s, 0);
      if (post === POST_GATE && !(before[gOff + i * ldg + j] > 0)) s = 0;
      const got = h[cOff + i * ldc + j];
      assert.ok(Math.abs(got - s) <= 1e-5 * (1 + k), `${where} C[${i},${j}] = ${got}, expected ${s}`);
    }
  }
  // Nothing outside C was written: the padding between C's rows and everything around C is intact.
  for (let x = 0; x < total; x++) {
    const inC = x >= cOff && x < cOff + m * ldc && (x - cOff) % ldc < n;
    if (!inC) assert.equal(h[x], Math.fround(before[x]), `${where} wrote outside C at ${x}`);
  }
}

const sizes: Array<[number, number, number]> = [
  [1, 1, 1],
  [1, 1, 7],
  [3, 5, 2],
  [4, 4, 4],
  [4, 8, 8],
  [5, 9, 3],
  [7, 13, 11],
  [8, 16, 1],
  [17, 10, 64],
  [33, 3, 5],
  [2, 12, 0],
  [6, 64, 65],
];

for (const kind of KERNEL_KINDS) {
  test(
    `${kind} gemm matches the float64 reference on odd sizes`,
    { skip: kind === 'wasm-simd' && !wasmSimdAvailable() },
    () => {
      for (const [m, n, k] of sizes) {
        for (const transA of [false, true])
          for (const init of [INIT_ZERO, INIT_ACCUMULATE, INIT_BIAS])
            check(kind, { m, n, k, transA, init, post: POST_NONE });
      }
    },
  );

  test(
    `${kind} gemm's relu and relu-gradient epilogues match the reference`,
    { skip: kind === 'wasm-simd' && !wasmSimdAvailable() },
    () => {
      for (const [m, n, k] of sizes)
        for (const post of [POST_RELU, POST_GATE]) check(kind, { m, n, k, transA: false, init: INIT_BIAS, post });
    },
  );

  test(
    `${kind} softmax matches the float64 reference (wide logit ranges, padded rows, in place)`,
    { skip: kind === 'wasm-simd' && !wasmSimdAvailable() },
    () => {
      for (const [rows, c, stride, spread] of [
        [1, 1, 1, 1],
        [3, 10, 12, 5],
        [7, 2, 4, 40],
        [5, 13, 13, 150],
        [200, 10, 12, 3],
      ]) {
        const z = 3;
        const dst = z + rows * stride + 1;
        const rowMax = dst + rows * stride + 2;
        const rowSum = rowMax + rows + 1;
        const kern = createKernels(kind, rowSum + rows + 4);
        fill(kern.heap, 0, kern.heap.length, rows * c);
        for (let x = z; x < z + rows * stride; x++) kern.heap[x] *= spread;
        const before = Float64Array.from(kern.heap);
        const scale = 0.25;
        for (const inPlace of [false, true]) {
          kern.heap.set(before.subarray(z, z + rows * stride), z);
          const out = inPlace ? z : dst;
          kern.softmax(rows, c, stride, z, out, scale, rowMax, rowSum);
          for (let i = 0; i < rows; i++) {
            const zi = before.subarray(z + i * stride, z + i * stride + c);
            const max = Math.max(...zi);
            const sum = zi.reduce((s, v) => s + Math.exp(v - max), 0);
            assert.equal(kern.heap[rowMax + i], Math.fround(max), `${kind} row max`);
            assert.ok(
              Math.abs(kern.heap[rowSum + i] - sum) <= 1e-6 * sum,
              `${kind} row sum ${kern.heap[rowSum + i]} vs ${sum}`,
            );
            for (let j = 0; j < c; j++) {
              const p = (Math.exp(zi[j] - max) / sum) * scale;
              // z − max rounded to float32 costs a relative error of about |z − max|·2⁻²⁴ in e^(z − max)
              assert.ok(
                Math.abs(kern.heap[out + i * stride + j] - p) <= 1e-6 * p * (1 + max - zi[j]) + 1e-30,
                `${kind} ${rows}×${c} p[${i},${j}] = ${kern.heap[out + i * stride + j]}, expected ${p}`,
              );
            }
            for (let j = c; j < stride && !inPlace; j++)
              assert.equal(
                kern.heap[out + i * stride + j],
                Math.fround(before[out + i * stride + j]),
                'padding untouched',
              );
          }
        }
      }
    },
  );

  test(
    `${kind} softmax of non-finite logits gives NaN (the divergence check sees it) and never throws`,
    { skip: kind === 'wasm-simd' && !wasmSimdAvailable() },
    () => {
      const kern = createKernels(kind, 32);
      kern.heap.set([NaN, 1, 2, Infinity, 0, 1, -Infinity, 0, 0], 0);
      kern.softmax(3, 3, 3, 0, 12, 1, 24, 28);
      assert.ok(Number.isNaN(kern.heap[12]) && Number.isNaN(kern.heap[15]), 'NaN and +Infinity rows');
      assert.deepEqual(Array.from(kern.heap.subarray(18, 21)), [0, 0.5, 0.5], 'a -Infinity logit is probability 0');
    },
  );

  test(
    `${kind} colsum, gather, adam and sgd match the reference`,
    { skip: kind === 'wasm-simd' && !wasmSimdAvailable() },
    () => {
      for (const [m, n] of [
        [1, 1],
        [3, 5],
        [200, 10],
        [7, 64],
        [5, 3],
      ]) {
        const kern = createKernels(kind, 2 * m * n + 64);
        fill(kern.heap, 0, kern.heap.length, m + n);
        const before = Float64Array.from(kern.heap);
        kern.colsum(m, n, 1, n, 1 + m * n);
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let i = 0; i < m; i++) s += before[1 + i * n + j];
          assert.ok(Math.abs(kern.heap[1 + m * n + j] - s) <= 1e-5 * m, `${kind} colsum ${m}×${n} column ${j}`);
        }
      }
      {
        const width = 7;
        const kern = createKernels(kind, 200);
        fill(kern.heap, 0, 200, 3);
        const src = 4;
        const idx = 100;
        const order = [4, 0, 2, 2];
        new Uint32Array(kern.heap.buffer, kern.heap.byteOffset, kern.heap.length).set(order, idx);
        const srcRows = Float32Array.from(kern.heap.subarray(src, src + 5 * width));
        kern.gather(idx, order.length, width, src, 50);
        order.forEach((r, i) =>
          assert.deepEqual(
            Array.from(kern.heap.subarray(50 + i * width, 50 + (i + 1) * width)),
            Array.from(srcRows.subarray(r * width, (r + 1) * width)),
          ),
        );
      }
      const count = 12;
      const w = 0,
        g = 12,
        m1 = 24,
        m2 = 36;
      const kern = createKernels(kind, 48);
      fill(kern.heap, 0, 48, 9);
      for (let q = 0; q < count; q++) kern.heap[m2 + q] = Math.abs(kern.heap[m2 + q]); // second moments are ≥ 0
      const ref = Float64Array.from(kern.heap);
      const decay = 0.01,
        step = 0.05;
      kern.adam(count, w, g, m1, m2, decay, step);
      for (let q = 0; q < count; q++) {
        const gq = ref[g + q] + decay * ref[w + q];
        const mq = ADAM_BETA1 * ref[m1 + q] + (1 - ADAM_BETA1) * gq;
        const vq = ADAM_BETA2 * ref[m2 + q] + (1 - ADAM_BETA2) * gq * gq;
        assert.ok(
          Math.abs(kern.heap[m1 + q] - mq) < 1e-6 && Math.abs(kern.heap[m2 + q] - vq) < 1e-6,
          `${kind} adam moments ${q}`,
        );
        assert.ok(
          Math.abs(kern.heap[w + q] - (ref[w + q] - (step * mq) / (Math.sqrt(vq) + ADAM_EPSILON))) < 1e-5,
          `${kind} adam weight ${q}`,
        );
      }
      const after = Float64Array.from(kern.heap);
      kern.sgd(count, w, g, m1, decay, step, 0.9);
      for (let q = 0; q < count; q++) {
        const vel = 0.9 * after[m1 + q] - step * (after[g + q] + decay * after[w + q]);
        assert.ok(
          Math.abs(kern.heap[m1 + q] - vel) < 1e-6 && Math.abs(kern.heap[w + q] - (after[w + q] + vel)) < 1e-6,
          `${kind} sgd ${q}`,
        );
      }
    },
  );
}

test('WebAssembly SIMD is available in this Node (the fast path is what the tests exercise)', () => {
  assert.equal(wasmSimdAvailable(), true);
});

test('each committed wasm module is the compile of its WAT (binning, conv, forest, gemm and its shared-memory twin, hist, logistic)', async () => {
  const { generateModule, KERNEL_SOURCES } = await import(join(kernelsDir, 'build-wasm.mjs'));
  const sources = KERNEL_SOURCES as { wat: string; out: string; constName: string; sharedMemory?: boolean }[];
  assert.deepEqual(sources.map((k) => k.out).sort(), [
    'binning.wasm.ts',
    'conv.wasm.ts',
    'forest.wasm.ts',
    'gemm.wasm.ts',
    'gemmShared.wasm.ts',
    'hist.wasm.ts',
    'logistic.wasm.ts',
  ]);
  for (const k of sources) {
    const fresh: string = await generateModule(join(kernelsDir, k.wat), k.constName, k.sharedMemory);
    assert.equal(readFileSync(join(kernelsDir, k.out), 'utf8'), fresh, k.out);
  }
});
