// The dev side of a GBDT fit: each iteration's trees are added to the dev rows' scores by the
// prediction kernel over rows kept in its memory, on one thread or two (gbdt/devEval.ts), the
// JavaScript walk where WebAssembly is missing. All give the reports of the plain per-iteration passes
// (loss.meanLoss, an argmax count) bit for bit, the last one is the model's own accuracy on dev, and
// the dev predictions the fit hands over (TrainedModel.fitted) are the model's predict() bit for bit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { trainGbdt } from '../../../src/core/train/gbdt/index';
import { DEV_BINARY, DEV_SOFTMAX, DEV_SQUARED, DevEvaluator } from '../../../src/core/train/gbdt/devEval';
import { binaryLogLoss, softmaxLoss, squaredError } from '../../../src/core/train/gbdt/losses';
import { leafOf, TreeBuilder, type Tree } from '../../../src/core/train/gbdt/tree';
import { HelperThread } from '../../../src/core/train/kernels/helperThread';
import { mulberry32 } from '../../../src/core/data/prng';
import { CancelledError } from '../../../src/core/runtime/cancel';
import type { ProgressEvent } from '../../../src/core/train/types';
import type { FeatureSchema, Prediction, Rows } from '../../../src/core/data/types';
import { generatedClassification, generatedMulticlass, randomForest } from './gbdt-fixtures';

type Kind = 'binary' | 'three classes' | 'regression';

/** A fit on generated data (NaNs in the binary and regression sets); exported for the child below. */
export function devFit(kind: Kind, params: Record<string, unknown> = {}, devRows = 701, isCancelled?: () => boolean) {
  const f = 6;
  const make = (n: number, seed: number): Rows => {
    const { X, y } =
      kind === 'three classes' ? generatedMulticlass(n, f, 3, seed) : generatedClassification(n, f, seed, 0.05);
    // Regression: a continuous target from the same features.
    if (kind === 'regression') for (let i = 0; i < n; i++) y[i] = 3 * y[i] + (Number.isNaN(X[i * f]) ? 1 : X[i * f]);
    return { features: { n, numeric: X, categories: [] }, y, ids: [], rowIndex: new Uint32Array(n) };
  };
  const schema: FeatureSchema = {
    task: kind === 'regression' ? 'regression' : 'classification',
    target: 'y',
    numeric: Array.from({ length: f }, (_, j) => `x${j}`),
    categorical: [],
    ...(kind === 'regression' ? {} : { classes: kind === 'binary' ? ['0', '1'] : ['a', 'b', 'c'] }),
  };
  const dev = make(devRows, 8);
  const events: ProgressEvent[] = [];
  const model = trainGbdt({
    schema,
    train: make(1500, 7),
    dev,
    params: { iterations: 12, maxLeaves: 15, minSamplesLeaf: 5, ...params },
    seed: 0,
    onProgress: (e) => events.push(e),
    isCancelled,
  });
  return { events, dev, model };
}

/** The float32 arrays of a prediction, as bytes (base64). */
function bits(p: Prediction): string {
  const a = p.probabilities ?? p.values!;
  return (
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64') +
    (p.classIndex ? `/${p.classIndex.join('')}` : '')
  );
}

/** What the child prints: its reports and the fit's dev predictions. */
export function devFitSummary(kind: Kind, devRows?: number): string {
  const { events, model } = devFit(kind, {}, devRows);
  return JSON.stringify({ events, fitted: bits(model.fitted!.dev!) });
}

/** The same fit in a child process without WebAssembly (the JavaScript walk, on one thread). */
function fitWithoutWebAssembly(kind: Kind, devRows?: number): { events: ProgressEvent[]; fitted: string } {
  const script = `
    const m = await import(${JSON.stringify(__filename)});
    const { devFitSummary } = m.devFitSummary ? m : m.default;
    console.log(typeof WebAssembly, devFitSummary(${JSON.stringify(kind)}, ${JSON.stringify(devRows)}));`;
  const r = spawnSync(process.execPath, ['--jitless', '--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, GBDT_DEV_CHILD: '1' },
  });
  assert.equal(r.status, 0, r.stderr);
  const [wasm, json] = r.stdout.trim().split(/ (.*)/s);
  assert.equal(wasm, 'undefined', 'the child runs without WebAssembly');
  return JSON.parse(json) as { events: ProgressEvent[]; fitted: string };
}

// The child below imports this file for devFitSummary alone.
for (const kind of process.env.GBDT_DEV_CHILD ? [] : (['binary', 'three classes', 'regression'] as const)) {
  test(`${kind}: the dev curve and the fit's dev predictions are predict()'s, with WebAssembly and without (the JavaScript walk)`, () => {
    const { events, dev, model } = devFit(kind);
    assert.equal(events.length, 12);
    const child = fitWithoutWebAssembly(kind);
    const predicted = model.predict(dev.features);
    assert.ok(model.fitted?.dev, 'the fit hands over its dev predictions');
    assert.equal(bits(model.fitted.dev), bits(predicted));
    if (kind !== 'regression') {
      let correct = 0;
      for (let i = 0; i < dev.features.n; i++) if (predicted.classIndex![i] === dev.y[i]) correct++;
      assert.equal(events.at(-1)!.devMetric, correct / dev.features.n, "the last report is the model's accuracy");
    }
    assert.deepEqual(
      child.events.map((e) => [e.step, e.trainLoss, e.devLoss, e.devMetric]),
      events.map((e) => [e.step, e.trainLoss, e.devLoss, e.devMetric]),
    );
    assert.equal(child.fitted, bits(predicted));
  });
}

if (!process.env.GBDT_DEV_CHILD)
  test('early stopping that drops trees leaves no fitted dev predictions (the sums hold the dropped trees)', () => {
    const { events, model } = devFit('binary', { iterations: 200, earlyStopping: 3, learningRate: 0.9 });
    assert.ok(events.length < 200, 'stopped early');
    assert.equal(model.fitted, undefined);
  });

/** Resolves once no helper thread is alive (a terminated worker exits asynchronously); fails after 5 s. */
async function helpersGone(): Promise<void> {
  const deadline = Date.now() + 5000;
  while (HelperThread.live > 0) {
    assert.ok(Date.now() < deadline, `${HelperThread.live} helper thread(s) still alive 5 s after the fit`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * The plain per-iteration passes the evaluator replaces: each tree's leaf values walked in JavaScript
 * and added to float64 scores and float32 sums, then loss.meanLoss and an argmax count.
 */
function referenceEvaluation(
  kind: number,
  X: Float32Array,
  n: number,
  d: number,
  y: Float64Array,
  init: Float64Array,
  k: number,
) {
  const loss = kind === DEV_SQUARED ? squaredError : kind === DEV_BINARY ? binaryLogLoss : softmaxLoss(k);
  const scores = new Float64Array(n * k);
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) scores[i * k + c] = init[c];
  const sums = new Float32Array(n * k);
  return {
    scores,
    sums,
    add(trees: Tree[]) {
      trees.forEach((tree, c) => {
        for (let i = 0; i < n; i++) {
          const v = tree.value[leafOf(tree, X, i * d)];
          scores[i * k + c] += v;
          sums[i * k + c] += v;
        }
      });
      let correct = 0;
      for (let i = 0; i < n; i++) {
        let predicted = 0;
        if (k === 1) predicted = scores[i] > 0 ? 1 : 0;
        else for (let c = 1; c < k; c++) if (scores[i * k + c] > scores[i * k + predicted]) predicted = c;
        if (predicted === y[i]) correct++;
      }
      return { loss: loss.meanLoss(scores, y), correct };
    },
  };
}

if (!process.env.GBDT_DEV_CHILD)
  test("the dev evaluator gives the plain passes' losses, counts, scores and sums bit for bit: each loss, one thread or two, one chunk or many, NaN rows", async () => {
    const n = 601;
    const d = 5;
    for (const [kind, k] of [
      [DEV_SQUARED, 1],
      [DEV_BINARY, 1],
      [DEV_SOFTMAX, 3],
      [DEV_SOFTMAX, 4],
    ]) {
      // 8 iterations of k trees each (leaf values up to ±0.1, NaN and ±Infinity in the rows); larger
      // steps too, so that softmax rows reach the loss clamp and binary rows saturate.
      const { core, X } = randomForest(8 * k, d, k, n, 11 + kind + k);
      const rand = mulberry32(kind + 7 * k);
      const y = Float64Array.from({ length: n }, () =>
        kind === DEV_SQUARED ? rand() * 4 - 2 : Math.floor(rand() * Math.max(k, 2)),
      );
      const init = Float64Array.from({ length: k }, () => rand() - 0.5);
      for (const options of [
        { threads: 1 },
        { threads: 1, chunkRows: 37 },
        { threads: 2, chunkRows: 37 },
        { threads: 2, chunkRows: 1 },
      ]) {
        const label = `kind ${kind}, k ${k}, ${JSON.stringify(options)}`;
        const evaluator = new DevEvaluator(kind, X, n, d, y, init, k, options);
        const reference = referenceEvaluation(kind, X, n, d, y, init, k);
        try {
          // The helper boots meanwhile: wait for it, so that it takes chunks from the first iteration.
          for (const deadline = Date.now() + 5000; evaluator.threads < options.threads;) {
            assert.ok(Date.now() < deadline, `${label}: the helper thread did not start`);
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
          for (let it = 0; it < 8; it++) {
            const trees = core.trees.slice(it * k, (it + 1) * k);
            const scale = it === 5 ? 20_000 : 1;
            const scaled = scale === 1 ? trees : trees.map((t) => ({ ...t, value: t.value.map((v) => v * scale) }));
            assert.deepEqual(evaluator.add(scaled), reference.add(scaled), `${label}, iteration ${it}`);
          }
          assert.deepEqual(evaluator.scores, reference.scores, label);
          assert.deepEqual(evaluator.sums, reference.sums, label);
        } finally {
          evaluator.stop();
        }
      }
    }
    await helpersGone();
  });

if (!process.env.GBDT_DEV_CHILD)
  test('trees larger than the room made for them: the memory grows, the helper thread leaves, the values stay those of the reference', async (t) => {
    if (availableParallelism() < 2) return t.skip('one core: the dev rows are scored on one thread');
    const n = 3_000;
    const d = 3;
    const k = 1;
    const { core, X } = randomForest(4, d, k, n, 5);
    // A chain of 5,000 splits: 10,001 nodes, 200 kB packed, past the 64 kB first made for a forest.
    const b = new TreeBuilder();
    let node = b.addLeaf(0.01);
    for (let s = 0; s < 5_000; s++) {
      const [left, right] = b.split(node, s % d, ((s % 97) - 48) / 12, s % 2 === 0);
      b.setValue(left, ((s % 13) - 6) / 100);
      node = right;
    }
    b.setValue(node, 0.05);
    const big = b.freeze();
    const rand = mulberry32(3);
    const y = Float64Array.from({ length: n }, () => rand() * 4 - 2);
    const init = Float64Array.of(0.25);
    const evaluator = new DevEvaluator(DEV_SQUARED, X, n, d, y, init, k, { threads: 2, chunkRows: 100 });
    const reference = referenceEvaluation(DEV_SQUARED, X, n, d, y, init, k);
    try {
      for (const deadline = Date.now() + 5000; evaluator.threads < 2;) {
        assert.ok(Date.now() < deadline, 'the helper thread did not start');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      for (const trees of [[core.trees[0]], [big], [core.trees[1]]])
        assert.deepEqual(evaluator.add(trees), reference.add(trees));
      assert.equal(evaluator.threads, 1, 'the helper left when the memory grew');
      assert.deepEqual(evaluator.scores, reference.scores);
      assert.deepEqual(evaluator.sums, reference.sums);
    } finally {
      evaluator.stop();
    }
    await helpersGone();
  });

if (!process.env.GBDT_DEV_CHILD)
  test('a dev set large enough for the dev helper thread: the reports of the fit without WebAssembly, and no thread alive after the fit or a cancel', async (t) => {
    if (availableParallelism() < 2) return t.skip('one core: the dev rows are scored on one thread');
    // 34,000 rows × 3 classes: past the 100,000 scores from which a helper takes chunks.
    let helpers = 0;
    const { events, model } = devFit('three classes', {}, 34_000);
    const child = fitWithoutWebAssembly('three classes', 34_000);
    assert.deepEqual(
      child.events.map((e) => [e.step, e.trainLoss, e.devLoss, e.devMetric]),
      events.map((e) => [e.step, e.trainLoss, e.devLoss, e.devMetric]),
    );
    assert.equal(child.fitted, bits(model.fitted!.dev!));
    await helpersGone();
    let calls = 0;
    assert.throws(
      () =>
        devFit('three classes', { iterations: 100 }, 34_000, () => {
          helpers = Math.max(helpers, HelperThread.live);
          return ++calls > 8;
        }),
      CancelledError,
    );
    assert.equal(helpers, 1, 'the dev helper thread ran');
    await helpersGone();
  });
