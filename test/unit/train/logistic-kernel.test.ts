// Logistic regression's WebAssembly SIMD data pass (src/core/train/kernels/logisticPass.ts) against a
// plain float64 loop on random data: row counts that are not multiples of the 4-row block nor of the
// chunk, odd feature counts (the padded column), binary (K = 1) and multinomial; and fitLogistic on
// the kernel against fitLogistic on the JavaScript pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogisticPassKernel, logisticWasmAvailable } from '../../../src/core/train/kernels/logisticPass';
import { fitLogistic } from '../../../src/core/train/logistic';

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

/** A stand-in for the trainer's residuals, nonlinear in z: tanh(z) − target (y, or onehot(y) when K > 1); the "loss" is Σ residual². */
function residualsOf(
  Z: Float64Array,
  zOff: number,
  rows: number,
  K: number,
  labels: Float64Array,
  row0: number,
): number {
  let loss = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < K; c++) {
      const o = zOff + r * K + c;
      const target = K === 1 ? labels[row0 + r] : c === labels[row0 + r] ? 1 : 0;
      const res = Math.tanh(Z[o]) - target;
      loss += res * res;
      Z[o] = res;
    }
  }
  return loss;
}

/** The same pass as a straightforward float64 loop. */
function reference(
  X: Float32Array,
  n: number,
  D: number,
  K: number,
  labels: Float64Array,
  theta: Float64Array,
): { loss: number; grad: Float64Array } {
  const grad = new Float64Array(K * D);
  const z = new Float64Array(K);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < K; c++) {
      let s = theta[K * D + c];
      for (let j = 0; j < D; j++) s += X[i * D + j] * theta[c * D + j];
      z[c] = s;
    }
    loss += residualsOf(z, 0, 1, K, labels, i);
    for (let c = 0; c < K; c++) for (let j = 0; j < D; j++) grad[c * D + j] += z[c] * X[i * D + j];
  }
  return { loss, grad };
}

const wasm = { skip: !logisticWasmAvailable() && 'WebAssembly SIMD is not available' };

test('WebAssembly SIMD is available for the logistic pass in this Node', () => {
  assert.equal(logisticWasmAvailable(), true);
});

test(
  'the wasm logistic pass equals a float64 loop (rows not multiples of 4 or of the chunk, odd D, K = 1 and K > 1)',
  wasm,
  () => {
    let cases = 0;
    for (const n of [1, 2, 3, 4, 5, 7, 13, 101])
      for (const D of [1, 2, 3, 5, 8, 64])
        for (const K of [1, 3, 10])
          for (const chunkRows of [undefined, 4, 8, 12]) {
            const rnd = random(n * 1000 + D * 10 + K);
            const X = Float32Array.from({ length: n * D }, () => 3 * rnd());
            const labels = Float64Array.from({ length: n }, () => Math.floor(((rnd() + 1) / 2) * (K === 1 ? 2 : K)));
            const theta = Float64Array.from({ length: K * D + K }, () => rnd());
            const kernel = LogisticPassKernel.create(X, n, D, K, chunkRows)!;
            // Garbage in grad's weight part must be overwritten; its intercept part is left alone.
            const grad = new Float64Array(K * D + K).fill(7);
            const loss = kernel.pass(theta, grad, (Z, zOff, row0, rows) => residualsOf(Z, zOff, rows, K, labels, row0));
            const want = reference(X, n, D, K, labels, theta);
            const where = `n ${n}, D ${D}, K ${K}, chunk ${chunkRows}`;
            assert.ok(
              Math.abs(loss - want.loss) <= 1e-12 * Math.max(1, want.loss),
              `loss ${loss} vs ${want.loss} (${where})`,
            );
            for (let p = 0; p < K * D; p++)
              assert.ok(
                Math.abs(grad[p] - want.grad[p]) <= 1e-12 * Math.max(1, Math.abs(want.grad[p])),
                `grad[${p}] ${grad[p]} vs ${want.grad[p]} (${where})`,
              );
            for (let p = K * D; p < K * D + K; p++) assert.equal(grad[p], 7);
            // A second pass with other parameters starts from a clean gradient.
            theta.reverse();
            const loss2 = kernel.pass(theta, grad, (Z, zOff, row0, rows) =>
              residualsOf(Z, zOff, rows, K, labels, row0),
            );
            const want2 = reference(X, n, D, K, labels, theta);
            assert.ok(Math.abs(loss2 - want2.loss) <= 1e-12 * Math.max(1, want2.loss), `second pass (${where})`);
            for (let p = 0; p < K * D; p++)
              assert.ok(
                Math.abs(grad[p] - want2.grad[p]) <= 1e-12 * Math.max(1, Math.abs(want2.grad[p])),
                `second pass grad[${p}] (${where})`,
              );
            cases++;
          }
    assert.equal(cases, 8 * 6 * 3 * 4);
  },
);

test(
  'fitLogistic on the wasm pass reaches the same model as on the JavaScript pass (binary and multinomial, n = 1,003)',
  wasm,
  () => {
    for (const C of [2, 5]) {
      const n = 1003;
      const D = 7;
      const rnd = random(C);
      const X = Float32Array.from({ length: n * D }, () => rnd());
      // A noisy linear rule, so the optimum is finite and the classes overlap.
      const y = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const s = X[i * D] + 0.5 * X[i * D + 1] - X[i * D + 2] + 0.7 * rnd();
        y[i] = Math.min(C - 1, Math.max(0, Math.floor(((s + 2.2) / 4.4) * C)));
      }
      const opts = { l2: 1e-3, maxIter: 200, tol: 1e-7 };
      const w = fitLogistic(X, n, D, y, C, { ...opts, pass: 'wasm' });
      const j = fitLogistic(X, n, D, y, C, { ...opts, pass: 'js' });
      assert.ok(w.converged && j.converged);
      assert.ok(Math.abs(w.loss - j.loss) < 1e-12, `loss ${w.loss} vs ${j.loss}`);
      for (let p = 0; p < w.weights.length; p++)
        assert.ok(
          Math.abs(w.weights[p] - j.weights[p]) < 1e-5,
          `C ${C} weight ${p}: ${w.weights[p]} vs ${j.weights[p]}`,
        );
      for (let p = 0; p < w.bias.length; p++) assert.ok(Math.abs(w.bias[p] - j.bias[p]) < 1e-5, `C ${C} bias ${p}`);
    }
  },
);
