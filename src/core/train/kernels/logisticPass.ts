// The products of logistic regression's data pass on WebAssembly SIMD (logistic.wat): the rows
// (float32) are copied once into the module's memory; each pass then goes chunk by chunk — widen
// the chunk to float64, logits Z = X·Wᵀ + b, residuals (the caller's, in JavaScript), gradient
// G += Rᵀ·X — so the chunk is still in cache for the second product. Everything is float64 except
// the stored rows, which are float32 in the trainer too. The module is compiled synchronously
// (a few kilobytes), so there is no asynchronous warm-up before the first pass.

import { compileKernel } from './compile';
import { LOGISTIC_WASM_BASE64 } from './logistic.wasm';

/** The compiled module, or null where this runtime lacks WebAssembly SIMD. */
function logisticModule(): WebAssembly.Module | null {
  return compileKernel(LOGISTIC_WASM_BASE64);
}

export function logisticWasmAvailable(): boolean {
  return logisticModule() !== null;
}

/**
 * Turns the logits of `rows` rows (K per row, at Z[zOff..], the first being data row `row0`) into
 * residuals ∂loss/∂logit in place, and returns their summed loss.
 */
export type ResidualsFn = (Z: Float64Array, zOff: number, row0: number, rows: number) => number;

type Fn = (...args: number[]) => void;

/** Bytes of float64 scratch per chunk of widened rows (fits in the L2 cache with room to spare). */
const CHUNK_BYTES = 128 * 1024;
/** Past this the rows stay in the JavaScript pass (a 32-bit WebAssembly memory holds at most 4 GiB). */
const MAX_BYTES = 2 ** 31;
const PAGE = 65536;

export class LogisticPassKernel {
  private readonly ld: number;
  private readonly chunk: number;
  private readonly mem: Float64Array;
  private readonly widen: Fn;
  private readonly logits: Fn;
  private readonly gradient: Fn;
  // Byte offsets in the module's memory.
  private readonly x: number;
  private readonly xs: number;
  private readonly w: number;
  private readonly b: number;
  private readonly z: number;
  private readonly g: number;

  /** Null where WebAssembly SIMD is missing or the rows do not fit in its memory: use the JavaScript pass then. */
  static create(X: Float32Array, n: number, D: number, K: number, chunkRows?: number): LogisticPassKernel | null {
    const mod = logisticModule();
    if (!mod || n === 0 || D === 0) return null;
    const ld = D + (D & 1);
    const chunk = chunkRows ?? Math.max(4, Math.floor(CHUNK_BYTES / (8 * ld)) & ~3);
    const align = (v: number) => Math.ceil(v / 16) * 16;
    const x = 0;
    const xs = align(x + 4 * n * D);
    const w = align(xs + 8 * chunk * ld);
    const b = align(w + 8 * K * ld);
    const z = align(b + 8 * K);
    const g = align(z + 8 * chunk * K);
    const end = g + 8 * K * ld;
    if (end > MAX_BYTES) return null;
    let memory: WebAssembly.Memory;
    try {
      const pages = Math.ceil(end / PAGE);
      memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    } catch {
      return null;
    }
    new Float32Array(memory.buffer, x, n * D).set(X.subarray(0, n * D));
    const ex = new WebAssembly.Instance(mod, { env: { memory } }).exports as Record<string, Fn>;
    return new LogisticPassKernel(n, D, K, ld, chunk, memory, ex, { x, xs, w, b, z, g });
  }

  private constructor(
    readonly n: number,
    readonly D: number,
    readonly K: number,
    ld: number,
    chunk: number,
    memory: WebAssembly.Memory,
    ex: Record<string, Fn>,
    at: { x: number; xs: number; w: number; b: number; z: number; g: number },
  ) {
    this.ld = ld;
    this.chunk = chunk;
    this.mem = new Float64Array(memory.buffer);
    this.widen = ex.widen;
    this.logits = ex.logits;
    this.gradient = ex.gradient;
    ({ x: this.x, xs: this.xs, w: this.w, b: this.b, z: this.z, g: this.g } = at);
  }

  /**
   * One pass over the rows with the parameters theta (K × D weights class-major, then K intercepts):
   * writes Σ_i r_i·x_iᵀ into grad's weight part (grad[c·D + j]), leaves its intercept part to
   * `residuals`, and returns the summed loss `residuals` reported.
   */
  pass(theta: Float64Array, grad: Float64Array, residuals: ResidualsFn): number {
    const { n, D, K, ld, chunk, mem } = this;
    const w = this.w >> 3;
    const g = this.g >> 3;
    // Padding columns of w stay 0 from the memory's creation.
    for (let c = 0; c < K; c++) mem.set(theta.subarray(c * D, (c + 1) * D), w + c * ld);
    mem.set(theta.subarray(K * D, K * D + K), this.b >> 3);
    mem.fill(0, g, g + K * ld);
    const pairs = ld >> 1;
    let loss = 0;
    for (let row0 = 0; row0 < n; row0 += chunk) {
      const rows = Math.min(chunk, n - row0);
      this.widen(rows, D, this.x + 4 * row0 * D, ld, this.xs);
      this.logits(rows, pairs, K, this.xs, this.w, this.b, this.z);
      loss += residuals(mem, this.z >> 3, row0, rows);
      this.gradient(rows, pairs, K, this.xs, this.z, this.g);
    }
    for (let c = 0; c < K; c++) grad.set(mem.subarray(g + c * ld, g + c * ld + D), c * D);
    return loss;
  }
}
