// Matrix-multiply kernels for MLP training, behind one interface so the trainer, the tests and the
// benchmark can swap them:
//   wasm-simd   WebAssembly SIMD (f32x4) blocked kernel, compiled from gemm.wat (the default)
//   js-blocked  4×4 register-blocked JavaScript (the fallback where WebAssembly SIMD is missing)
//   js-naive    the straightforward triple loop (the reference the others are measured against)
//
// Every operand lives in one Float32Array `heap` (for wasm-simd: a view of the module's memory, so
// nothing is copied per call) and is addressed by float offsets. The heap has a fixed size chosen up
// front: growing a WebAssembly memory would detach the views the caller holds.

import { compileKernel } from './compile';
import { GEMM_WASM_BASE64 } from './gemm.wasm';

export type KernelKind = 'wasm-simd' | 'js-blocked' | 'js-naive';
export const KERNEL_KINDS: readonly KernelKind[] = ['wasm-simd', 'js-blocked', 'js-naive'];

/** What C starts from in gemm. */
export const INIT_ZERO = 0;
export const INIT_ACCUMULATE = 1;
/** Every row of C starts as the row vector at `bias`. */
export const INIT_BIAS = 2;
/** What is applied to C after the product. */
export const POST_NONE = 0;
export const POST_RELU = 1;
/** C[i, j] is kept where G[i, j] > 0 and zeroed elsewhere (relu's gradient, G the relu output). */
export const POST_GATE = 2;

export const ADAM_BETA1 = 0.9;
export const ADAM_BETA2 = 0.999;
export const ADAM_EPSILON = 1e-8;

export interface Kernels {
  readonly kind: KernelKind;
  /** All operands, addressed by float offset. Never reallocated. */
  readonly heap: Float32Array;
  /**
   * C[i, j] = post(init + Σ_p A(i, p) · B[p, j]) for i < m, j < n, p < k, where
   * A(i, p) = heap[a + i·sam + p·sak] (so A or Aᵀ is read in place) and B, C, G are row-major with
   * row strides ldb, ldc, ldg. `bias` is used with INIT_BIAS, `g`/`ldg` with POST_GATE.
   * C must not overlap A, B or G.
   */
  gemm(
    m: number,
    n: number,
    k: number,
    a: number,
    sam: number,
    sak: number,
    b: number,
    ldb: number,
    c: number,
    ldc: number,
    init: number,
    bias: number,
    post: number,
    g: number,
    ldg: number,
  ): void;
  /** dst[j] = Σ_i src[i·ld + j] for i < m, j < n. */
  colsum(m: number, n: number, src: number, ld: number, dst: number): void;
  /** Row r of dst = row idx[r] of src (rows of `width` floats); `idx` is the float offset of `count` u32 values. */
  gather(idx: number, count: number, width: number, src: number, dst: number): void;
  /** Adam (β1 0.9, β2 0.999, ε 1e-8) on `count` (a multiple of 4) parameters with weight decay folded into the gradient. */
  adam(count: number, w: number, g: number, m: number, v: number, decay: number, step: number): void;
  /** SGD with momentum: vel = mu·vel − lr·(g + decay·w); w += vel. `count` a multiple of 4. */
  sgd(count: number, w: number, g: number, vel: number, decay: number, lr: number, mu: number): void;
  /**
   * Row-wise softmax of `rows` rows of c values at z (row stride `stride`), times `scale`, into dst
   * (same layout; may be z itself). rowMax[i] and rowSum[i] receive the row's max and Σ e^(z − max).
   */
  softmax(
    rows: number,
    c: number,
    stride: number,
    z: number,
    dst: number,
    scale: number,
    rowMax: number,
    rowSum: number,
  ): void;
}

/** The compiled kernel module, or null where this runtime lacks WebAssembly SIMD. */
function gemmModule(): WebAssembly.Module | null {
  return compileKernel(GEMM_WASM_BASE64);
}

export function wasmSimdAvailable(): boolean {
  return gemmModule() !== null;
}

/** The fastest kernel this runtime supports. */
export function defaultKernelKind(): KernelKind {
  return wasmSimdAvailable() ? 'wasm-simd' : 'js-blocked';
}

const PAGE_FLOATS = 65536 / 4;

export function createKernels(kind: KernelKind, floats: number): Kernels {
  if (kind === 'wasm-simd') return wasmKernels(floats);
  const heap = new Float32Array(floats);
  return jsKernels(kind, heap, kind === 'js-blocked' ? blockedProduct(heap) : naiveProduct(heap));
}

type Fn = (...args: number[]) => void;

function wasmKernels(floats: number): Kernels {
  const mod = gemmModule();
  if (!mod) throw new Error('WebAssembly SIMD is not available in this runtime');
  const pages = Math.max(1, Math.ceil(floats / PAGE_FLOATS));
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  const ex = new WebAssembly.Instance(mod, { env: { memory } }).exports as Record<string, Fn>;
  const heap = new Float32Array(memory.buffer, 0, floats);
  const { gemm, colsum, gather, adam, sgd, softmax } = ex;
  return {
    kind: 'wasm-simd',
    heap,
    gemm(m, n, k, a, sam, sak, b, ldb, c, ldc, init, bias, post, g, ldg) {
      if (m > 0 && n > 0) gemm(m, n, k, a * 4, sam, sak, b * 4, ldb, c * 4, ldc, init, bias * 4, post, g * 4, ldg);
    },
    colsum: (m, n, src, ld, dst) => colsum(m, n, src * 4, ld, dst * 4),
    gather: (idx, count, width, src, dst) => gather(idx * 4, count, width, src * 4, dst * 4),
    adam: (count, w, g, m, v, decay, step) =>
      adam(count, w * 4, g * 4, m * 4, v * 4, decay, step, ADAM_BETA1, ADAM_BETA2, ADAM_EPSILON),
    sgd: (count, w, g, vel, decay, lr, mu) => sgd(count, w * 4, g * 4, vel * 4, decay, lr, mu),
    softmax: (rows, c, stride, z, dst, scale, rowMax, rowSum) =>
      softmax(rows, c, stride, z * 4, dst * 4, scale, rowMax * 4, rowSum * 4),
  };
}

/** C += A·B (no init, no post): the part the JS variants do differently. */
type Product = (
  m: number,
  n: number,
  k: number,
  a: number,
  sam: number,
  sak: number,
  b: number,
  ldb: number,
  c: number,
  ldc: number,
) => void;

function jsKernels(kind: KernelKind, h: Float32Array, product: Product): Kernels {
  const idxView = new Uint32Array(h.buffer, h.byteOffset, h.length);
  return {
    kind,
    heap: h,
    gemm(m, n, k, a, sam, sak, b, ldb, c, ldc, init, bias, post, g, ldg) {
      if (init !== INIT_ACCUMULATE) {
        for (let i = 0; i < m; i++) {
          const ci = c + i * ldc;
          if (init === INIT_BIAS) h.copyWithin(ci, bias, bias + n);
          else h.fill(0, ci, ci + n);
        }
      }
      product(m, n, k, a, sam, sak, b, ldb, c, ldc);
      if (post === POST_NONE) return;
      for (let i = 0; i < m; i++) {
        const ci = c + i * ldc;
        const gi = g + i * ldg;
        for (let j = 0; j < n; j++) {
          const x = h[ci + j];
          if (post === POST_RELU) h[ci + j] = x > 0 ? x : Number.isNaN(x) ? x : 0;
          else if (!(h[gi + j] > 0)) h[ci + j] = 0;
        }
      }
    },
    colsum(m, n, src, ld, dst) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let i = 0, p = src + j; i < m; i++, p += ld) s += h[p];
        h[dst + j] = s;
      }
    },
    gather(idx, count, width, src, dst) {
      for (let r = 0; r < count; r++) {
        const from = src + idxView[idx + r] * width;
        h.copyWithin(dst + r * width, from, from + width);
      }
    },
    adam(count, w, g, m, v, decay, step) {
      for (let q = 0; q < count; q++) {
        const gq = h[g + q] + decay * h[w + q];
        const mq = (h[m + q] = ADAM_BETA1 * h[m + q] + (1 - ADAM_BETA1) * gq);
        const vq = (h[v + q] = ADAM_BETA2 * h[v + q] + (1 - ADAM_BETA2) * gq * gq);
        h[w + q] -= (step * mq) / (Math.sqrt(vq) + ADAM_EPSILON);
      }
    },
    sgd(count, w, g, vel, decay, lr, mu) {
      for (let q = 0; q < count; q++) {
        const vq = (h[vel + q] = mu * h[vel + q] - lr * (h[g + q] + decay * h[w + q]));
        h[w + q] += vq;
      }
    },
    softmax(rows, c, stride, z, dst, scale, rowMax, rowSum) {
      for (let i = 0; i < rows; i++) {
        const zi = z + i * stride;
        const di = dst + i * stride;
        let max = -Infinity;
        for (let j = 0; j < c; j++) if (h[zi + j] > max) max = h[zi + j];
        let sum = 0;
        for (let j = 0; j < c; j++) sum += h[di + j] = Math.exp(h[zi + j] - max);
        const f = scale / sum;
        for (let j = 0; j < c; j++) h[di + j] *= f;
        h[rowMax + i] = max;
        h[rowSum + i] = sum;
      }
    },
  };
}

/** C += A·B, the plain triple loop. */
function naiveProduct(h: Float32Array): Product {
  return (m, n, k, a, sam, sak, b, ldb, c, ldc) => {
    for (let i = 0; i < m; i++) {
      const ci = c + i * ldc;
      for (let p = 0; p < k; p++) {
        const av = h[a + i * sam + p * sak];
        const bp = b + p * ldb;
        for (let j = 0; j < n; j++) h[ci + j] += av * h[bp + j];
      }
    }
  };
}

/** C += A·B with 4 rows × 4 columns of C held in locals over the k loop; tails fall back to 1 row or 1 column. */
function blockedProduct(h: Float32Array): Product {
  return (m, n, k, a, sam, sak, b, ldb, c, ldc) => {
    let i = 0;
    for (; i + 4 <= m; i += 4) {
      const a0 = a + i * sam,
        a1 = a0 + sam,
        a2 = a1 + sam,
        a3 = a2 + sam;
      const c0 = c + i * ldc,
        c1 = c0 + ldc,
        c2 = c1 + ldc,
        c3 = c2 + ldc;
      let j = 0;
      for (; j + 4 <= n; j += 4) {
        let s00 = h[c0 + j],
          s01 = h[c0 + j + 1],
          s02 = h[c0 + j + 2],
          s03 = h[c0 + j + 3];
        let s10 = h[c1 + j],
          s11 = h[c1 + j + 1],
          s12 = h[c1 + j + 2],
          s13 = h[c1 + j + 3];
        let s20 = h[c2 + j],
          s21 = h[c2 + j + 1],
          s22 = h[c2 + j + 2],
          s23 = h[c2 + j + 3];
        let s30 = h[c3 + j],
          s31 = h[c3 + j + 1],
          s32 = h[c3 + j + 2],
          s33 = h[c3 + j + 3];
        for (let p = 0, pa = 0, pb = b + j; p < k; p++, pa += sak, pb += ldb) {
          const b0 = h[pb],
            b1 = h[pb + 1],
            b2 = h[pb + 2],
            b3 = h[pb + 3];
          const x0 = h[a0 + pa],
            x1 = h[a1 + pa],
            x2 = h[a2 + pa],
            x3 = h[a3 + pa];
          s00 += x0 * b0;
          s01 += x0 * b1;
          s02 += x0 * b2;
          s03 += x0 * b3;
          s10 += x1 * b0;
          s11 += x1 * b1;
          s12 += x1 * b2;
          s13 += x1 * b3;
          s20 += x2 * b0;
          s21 += x2 * b1;
          s22 += x2 * b2;
          s23 += x2 * b3;
          s30 += x3 * b0;
          s31 += x3 * b1;
          s32 += x3 * b2;
          s33 += x3 * b3;
        }
        h[c0 + j] = s00;
        h[c0 + j + 1] = s01;
        h[c0 + j + 2] = s02;
        h[c0 + j + 3] = s03;
        h[c1 + j] = s10;
        h[c1 + j + 1] = s11;
        h[c1 + j + 2] = s12;
        h[c1 + j + 3] = s13;
        h[c2 + j] = s20;
        h[c2 + j + 1] = s21;
        h[c2 + j + 2] = s22;
        h[c2 + j + 3] = s23;
        h[c3 + j] = s30;
        h[c3 + j + 1] = s31;
        h[c3 + j + 2] = s32;
        h[c3 + j + 3] = s33;
      }
      for (; j < n; j++) {
        let s0 = h[c0 + j],
          s1 = h[c1 + j],
          s2 = h[c2 + j],
          s3 = h[c3 + j];
        for (let p = 0, pa = 0, pb = b + j; p < k; p++, pa += sak, pb += ldb) {
          const bv = h[pb];
          s0 += h[a0 + pa] * bv;
          s1 += h[a1 + pa] * bv;
          s2 += h[a2 + pa] * bv;
          s3 += h[a3 + pa] * bv;
        }
        h[c0 + j] = s0;
        h[c1 + j] = s1;
        h[c2 + j] = s2;
        h[c3 + j] = s3;
      }
    }
    for (; i < m; i++) {
      const ai = a + i * sam;
      const ci = c + i * ldc;
      for (let j = 0; j < n; j++) {
        let s = h[ci + j];
        for (let p = 0, pa = ai, pb = b + j; p < k; p++, pa += sak, pb += ldb) s += h[pa] * h[pb];
        h[ci + j] = s;
      }
    }
  };
}
