// The MLP's matrix-multiply kernels against a float64 reference, on sizes that hit every tail path
// (1×1, non-multiples of 4 and 8, fewer than 4 rows), with A read directly and transposed, and in
// overwrite and accumulate modes. Also: the committed wasm module is the compile of gemm.wat.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { createKernels, INIT_ACCUMULATE, INIT_ZERO, KERNEL_KINDS, POST_NONE, wasmSimdAvailable, type KernelKind } from '../../../src/core/train/kernels/gemm';

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
  accumulate: boolean;
}

function check(kind: KernelKind, { m, n, k, transA, accumulate }: Case): void {
  const pad = 3; // operands at unaligned offsets with padded row strides
  const lda = (transA ? m : k) + pad;
  const ldb = n + 1;
  const ldc = n + 2;
  const aOff = 5;
  const bOff = aOff + (transA ? k : m) * lda + 7;
  const cOff = bOff + k * ldb + 1;
  const total = cOff + m * ldc + 8;
  const kern = createKernels(kind, total);
  const h = kern.heap;
  fill(h, 0, total, m * 131 + n * 17 + k);
  const before = Float64Array.from(h);
  const sam = transA ? 1 : lda;
  const sak = transA ? lda : 1;
  kern.gemm(m, n, k, aOff, sam, sak, bOff, ldb, cOff, ldc, accumulate ? INIT_ACCUMULATE : INIT_ZERO, 0, POST_NONE, 0, 0);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = accumulate ? before[cOff + i * ldc + j] : 0;
      for (let p = 0; p < k; p++) s += before[aOff + i * sam + p * sak] * before[bOff + p * ldb + j];
      const got = h[cOff + i * ldc + j];
      assert.ok(Math.abs(got - s) <= 1e-5 * (1 + k), `${kind} ${JSON.stringify({ m, n, k, transA, accumulate })} C[${i},${j}] = ${got}, expected ${s}`);
    }
  }
  // Nothing outside C was written: the padding between C's rows and everything around C is intact.
  for (let x = 0; x < total; x++) {
    const inC = x >= cOff && x < cOff + m * ldc && (x - cOff) % ldc < n;
    if (!inC) assert.equal(h[x], Math.fround(before[x]), `${kind} wrote outside C at ${x}`);
  }
}

const sizes: Array<[number, number, number]> = [
  [1, 1, 1], [1, 1, 7], [3, 5, 2], [4, 4, 4], [4, 8, 8], [5, 9, 3], [7, 13, 11], [8, 16, 1], [17, 10, 64], [33, 3, 5], [2, 12, 0], [6, 64, 65],
];

for (const kind of KERNEL_KINDS) {
  test(`${kind} gemm matches the float64 reference on odd sizes`, { skip: kind === 'wasm-simd' && !wasmSimdAvailable() }, () => {
    for (const [m, n, k] of sizes) {
      for (const transA of [false, true]) for (const accumulate of [false, true]) check(kind, { m, n, k, transA, accumulate });
    }
  });
}

test('WebAssembly SIMD is available in this Node (the fast path is what the tests exercise)', () => {
  assert.equal(wasmSimdAvailable(), true);
});

test('the committed wasm module is the compile of gemm.wat', async () => {
  const { generateModule } = await import(join(kernelsDir, 'build-wasm.mjs'));
  const fresh: string = await generateModule(join(kernelsDir, 'gemm.wat'), 'GEMM_WASM_BASE64');
  assert.equal(readFileSync(join(kernelsDir, 'gemm.wasm.ts'), 'utf8'), fresh);
});
