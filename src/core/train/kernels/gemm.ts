// Matrix-multiply kernels for MLP training, behind one interface so the trainer, the tests and the
// benchmark can swap them:
//   wasm-simd   WebAssembly SIMD (f32x4) blocked kernel, compiled from gemm.wat (the default)
//   js-blocked  4×4 register-blocked JavaScript (the fallback where WebAssembly SIMD is missing)
//   js-naive    the straightforward triple loop (the reference the others are measured against)
//
// Every operand lives in one Float32Array `heap` (for wasm-simd: a view of the module's memory, so
// nothing is copied per call) and is addressed by float offsets. The heap has a fixed size chosen up
// front: growing a WebAssembly memory would detach the views the caller holds.

import { GEMM_WASM_BASE64 } from './gemm.wasm';

export type KernelKind = 'wasm-simd' | 'js-blocked' | 'js-naive';
export const KERNEL_KINDS: readonly KernelKind[] = ['wasm-simd', 'js-blocked', 'js-naive'];

export interface Kernels {
  readonly kind: KernelKind;
  /** All operands, addressed by float offset. Never reallocated. */
  readonly heap: Float32Array;
  /**
   * C[i, j] (+)= Σ_p A(i, p) · B[p, j] for i < m, j < n, p < k, where A(i, p) = heap[a + i·sam + p·sak]
   * (so A or Aᵀ is read in place), B and C are row-major with row strides ldb, ldc.
   * accumulate=false overwrites C. C must not overlap A or B.
   */
  gemm(m: number, n: number, k: number, a: number, sam: number, sak: number, b: number, ldb: number, c: number, ldc: number, accumulate: boolean): void;
}

let wasmModule: WebAssembly.Module | null | undefined;

/** The compiled kernel module, or null where this runtime lacks WebAssembly SIMD. */
function gemmModule(): WebAssembly.Module | null {
  if (wasmModule !== undefined) return wasmModule;
  try {
    const bytes = Uint8Array.from(atob(GEMM_WASM_BASE64), (ch) => ch.charCodeAt(0));
    wasmModule = new WebAssembly.Module(bytes);
  } catch {
    wasmModule = null;
  }
  return wasmModule;
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
  return { kind, heap, gemm: kind === 'js-blocked' ? blockedGemm(heap) : naiveGemm(heap) };
}

function wasmKernels(floats: number): Kernels {
  const mod = gemmModule();
  if (!mod) throw new Error('WebAssembly SIMD is not available in this runtime');
  const pages = Math.max(1, Math.ceil(floats / PAGE_FLOATS));
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  const instance = new WebAssembly.Instance(mod, { env: { memory } });
  const gemm = instance.exports.gemm as (...args: number[]) => void;
  const heap = new Float32Array(memory.buffer, 0, floats);
  return {
    kind: 'wasm-simd',
    heap,
    gemm(m, n, k, a, sam, sak, b, ldb, c, ldc, accumulate) {
      if (m <= 0 || n <= 0) return;
      gemm(m, n, k, a * 4, sam, sak, b * 4, ldb, c * 4, ldc, accumulate ? 1 : 0);
    },
  };
}

function naiveGemm(h: Float32Array): Kernels['gemm'] {
  return (m, n, k, a, sam, sak, b, ldb, c, ldc, accumulate) => {
    for (let i = 0; i < m; i++) {
      const ci = c + i * ldc;
      if (!accumulate) h.fill(0, ci, ci + n);
      for (let p = 0; p < k; p++) {
        const av = h[a + i * sam + p * sak];
        const bp = b + p * ldb;
        for (let j = 0; j < n; j++) h[ci + j] += av * h[bp + j];
      }
    }
  };
}

/** 4 rows × 4 columns of C held in locals over the k loop; tails fall back to 1 row or 1 column. */
function blockedGemm(h: Float32Array): Kernels['gemm'] {
  return (m, n, k, a, sam, sak, b, ldb, c, ldc, accumulate) => {
    let i = 0;
    for (; i + 4 <= m; i += 4) {
      const a0 = a + i * sam, a1 = a0 + sam, a2 = a1 + sam, a3 = a2 + sam;
      const c0 = c + i * ldc, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
      let j = 0;
      for (; j + 4 <= n; j += 4) {
        let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
        let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
        if (accumulate) {
          s00 = h[c0 + j]; s01 = h[c0 + j + 1]; s02 = h[c0 + j + 2]; s03 = h[c0 + j + 3];
          s10 = h[c1 + j]; s11 = h[c1 + j + 1]; s12 = h[c1 + j + 2]; s13 = h[c1 + j + 3];
          s20 = h[c2 + j]; s21 = h[c2 + j + 1]; s22 = h[c2 + j + 2]; s23 = h[c2 + j + 3];
          s30 = h[c3 + j]; s31 = h[c3 + j + 1]; s32 = h[c3 + j + 2]; s33 = h[c3 + j + 3];
        }
        for (let p = 0, pa = 0, pb = b + j; p < k; p++, pa += sak, pb += ldb) {
          const b0 = h[pb], b1 = h[pb + 1], b2 = h[pb + 2], b3 = h[pb + 3];
          const x0 = h[a0 + pa], x1 = h[a1 + pa], x2 = h[a2 + pa], x3 = h[a3 + pa];
          s00 += x0 * b0; s01 += x0 * b1; s02 += x0 * b2; s03 += x0 * b3;
          s10 += x1 * b0; s11 += x1 * b1; s12 += x1 * b2; s13 += x1 * b3;
          s20 += x2 * b0; s21 += x2 * b1; s22 += x2 * b2; s23 += x2 * b3;
          s30 += x3 * b0; s31 += x3 * b1; s32 += x3 * b2; s33 += x3 * b3;
        }
        h[c0 + j] = s00; h[c0 + j + 1] = s01; h[c0 + j + 2] = s02; h[c0 + j + 3] = s03;
        h[c1 + j] = s10; h[c1 + j + 1] = s11; h[c1 + j + 2] = s12; h[c1 + j + 3] = s13;
        h[c2 + j] = s20; h[c2 + j + 1] = s21; h[c2 + j + 2] = s22; h[c2 + j + 3] = s23;
        h[c3 + j] = s30; h[c3 + j + 1] = s31; h[c3 + j + 2] = s32; h[c3 + j + 3] = s33;
      }
      for (; j < n; j++) {
        let s0 = accumulate ? h[c0 + j] : 0, s1 = accumulate ? h[c1 + j] : 0;
        let s2 = accumulate ? h[c2 + j] : 0, s3 = accumulate ? h[c3 + j] : 0;
        for (let p = 0, pa = 0, pb = b + j; p < k; p++, pa += sak, pb += ldb) {
          const bv = h[pb];
          s0 += h[a0 + pa] * bv; s1 += h[a1 + pa] * bv; s2 += h[a2 + pa] * bv; s3 += h[a3 + pa] * bv;
        }
        h[c0 + j] = s0; h[c1 + j] = s1; h[c2 + j] = s2; h[c3 + j] = s3;
      }
    }
    for (; i < m; i++) {
      const ai = a + i * sam;
      const ci = c + i * ldc;
      for (let j = 0; j < n; j++) {
        let s = accumulate ? h[ci + j] : 0;
        for (let p = 0, pa = ai, pb = b + j; p < k; p++, pa += sak, pb += ldb) s += h[pa] * h[pb];
        h[ci + j] = s;
      }
    }
  };
}
