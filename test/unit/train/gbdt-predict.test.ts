// The GBDT's prediction kernel (kernels/forest.wat through gbdt/forest.ts) against the JavaScript
// reference (GbdtCore.scoresReference): the same bits on one thread and two, on random ensembles
// with NaN, infinities and ties, for regression, binary and multi-class; and the JavaScript
// fallback where WebAssembly is missing. (Parity with ONNX Runtime: gbdt-onnx.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { HelperThread } from '../../../src/core/train/kernels/helperThread';
import { compileKernel } from '../../../src/core/train/kernels/compile';
import { FOREST_WASM_BASE64 } from '../../../src/core/train/kernels/forest.wasm';
import { randomForest } from './gbdt-fixtures';
import type { ForestMemory } from '../../../src/core/train/gbdt/forest';

/** Asserts two score arrays hold the same float32 values, bit for bit (NaN and -0 included). */
function assertSameBits(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++)
    if (a[i] !== e[i]) assert.fail(`${what}: value ${i} is ${actual[i]}, the reference's ${expected[i]}`);
}

test('the WebAssembly prediction kernel is available in this Node (the fast path is what these tests exercise)', () => {
  assert.ok(compileKernel(FOREST_WASM_BASE64));
});

for (const [task, k] of [
  ['regression', 1],
  ['binary classification', 2],
  ['10 classes', 10],
] as const) {
  test(`the prediction kernel gives the JavaScript reference's scores bit for bit (${task}), on one and two threads`, async () => {
    // 2,011 rows: not a multiple of the kernel's eight rows, of its 64-row blocks, nor of the chunks.
    const n = 2_011;
    const { core, X } = randomForest(k === 10 ? 60 : 30, 7, k, n, 17 + k);
    const reference = core.scoresReference(X, n);
    assert.ok(reference.some(Number.isFinite) && new Set(reference).size > n / 10, 'the scores vary');
    assertSameBits(core.scores(X, n, { threads: 1 }), reference, 'one thread, one chunk');
    assertSameBits(core.scores(X, n, { threads: 1, chunkRows: 97 }), reference, 'one thread, chunks of 97 rows');
    // Rows without NaN take the kernel's other walk: without any NaN, and with NaN in the last rows
    // only (chunks of either kind in one call).
    const noNaN = X.map((v) => (Number.isNaN(v) ? 0.5 : v));
    assertSameBits(core.scores(noNaN, n, { threads: 1 }), core.scoresReference(noNaN, n), 'no NaN');
    const lateNaN = X.map((v, j) => (j < (n >> 1) * 7 && Number.isNaN(v) ? -0.25 : v));
    const lateReference = core.scoresReference(lateNaN, n);
    assertSameBits(core.scores(lateNaN, n, { threads: 1, chunkRows: 97 }), lateReference, 'NaN in the last rows');
    const live = HelperThread.live;
    assertSameBits(core.scores(X, n, { threads: 2, chunkRows: 97 }), reference, 'two threads, chunks of 97 rows');
    assertSameBits(core.scores(X, n, { threads: 2, chunkRows: 1_000 }), reference, 'two threads, a short last chunk');
    assertSameBits(
      core.scores(lateNaN, n, { threads: 2, chunkRows: 97 }),
      lateReference,
      'two threads, NaN in the last rows',
    );
    // A thread's exit is counted from the event loop: the three helpers are still counted here.
    assert.equal(HelperThread.live, live + 3, 'each two-thread call started a helper');
    for (let i = 0; i < 250 && HelperThread.live > live; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(HelperThread.live, live, 'the helper threads have exited');
    // Fewer rows than a group of eight, and none.
    assertSameBits(core.scores(X, 5), core.scoresReference(X, 5), 'five rows');
    assert.equal(core.scores(X, 0).length, 0);
  });
}

test('predictDense on the kernel: softmax probabilities and first-maximum classes of the reference scores', () => {
  const n = 500;
  const { core, X } = randomForest(40, 5, 3, n, 3);
  const p = core.predictDense(X, n);
  const s = core.scoresReference(X, n);
  for (let i = 0; i < n; i++) {
    const row = Array.from(s.subarray(3 * i, 3 * i + 3));
    assert.equal(p.classIndex![i], row.indexOf(Math.max(...row)), `row ${i}`);
    const e = row.map((v) => Math.exp(v - Math.max(...row)));
    const sum = e.reduce((a, b) => a + b, 0);
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(p.probabilities![3 * i + c] - e[c] / sum) < 1e-6);
  }
});

test('without WebAssembly (node --jitless) scores come from the JavaScript fallback, the same bits', () => {
  const n = 301;
  const { core, X } = randomForest(25, 6, 2, n, 11);
  const fixtures = join(__dirname, 'gbdt-fixtures.ts');
  const script = `
    const fixtures = await import(${JSON.stringify(fixtures)});
    const { randomForest } = fixtures.randomForest ? fixtures : fixtures.default;
    const { core, X } = randomForest(25, 6, 2, ${n}, 11);
    const s = core.scores(X, ${n}, { threads: 2 });
    console.log(typeof WebAssembly, Buffer.from(s.buffer).toString('base64'));`;
  const r = spawnSync(process.execPath, ['--jitless', '--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const [wasm, b64] = r.stdout.trim().split(' ');
  assert.equal(wasm, 'undefined', 'the child runs without WebAssembly');
  const bytes = Buffer.from(b64, 'base64');
  const fallback = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  assertSameBits(fallback, core.scores(X, n), 'fallback vs kernel');
});

test('calls sharing a ForestMemory reuse its WebAssembly memory while it is large enough, and an output array, with the same scores', () => {
  const small = randomForest(20, 5, 3, 300, 5);
  const large = randomForest(20, 5, 3, 4_000, 6);
  const memory: ForestMemory = {};
  assertSameBits(
    small.core.scores(small.X, 300, { threads: 1, memory }),
    small.core.scoresReference(small.X, 300),
    'first',
  );
  const first = memory.memory;
  assert.ok(first, 'the memory is kept');
  assertSameBits(
    small.core.scores(small.X, 300, { threads: 1, memory }),
    small.core.scoresReference(small.X, 300),
    'again',
  );
  assert.equal(memory.memory, first, 'reused');
  // A larger call (more rows per chunk) needs more: a new memory, kept in turn; a smaller one after it reuses that.
  const opts = { threads: 1, memory, chunkRows: 4_000 };
  assertSameBits(large.core.scores(large.X, 4_000, opts), large.core.scoresReference(large.X, 4_000), 'larger');
  const second = memory.memory!;
  assert.ok(second !== first && second.buffer.byteLength > first.buffer.byteLength);
  assertSameBits(
    small.core.scores(small.X, 300, { threads: 1, memory }),
    small.core.scoresReference(small.X, 300),
    'smaller',
  );
  assert.equal(memory.memory, second);
  // The scores go to the array given for them when it has their size.
  const out = new Float32Array(300 * 3);
  const got = small.core.scores(small.X, 300, { threads: 1, memory, out });
  assert.equal(got, out);
  assertSameBits(out, small.core.scoresReference(small.X, 300), 'into the given array');
  assert.notEqual(small.core.scores(small.X, 299, { threads: 1, out }), out, 'not an array of another size');
});
