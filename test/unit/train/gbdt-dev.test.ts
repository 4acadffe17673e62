// The dev side of a GBDT fit: each iteration's trees are added to the dev rows' scores by the
// prediction kernel (gbdt/index.ts addToDevScores), the JavaScript walk where WebAssembly is missing.
// Both give the same reports, the last one is the model's own accuracy on dev, and the dev
// predictions the fit hands over (TrainedModel.fitted) are the model's predict() bit for bit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { trainGbdt } from '../../../src/core/train/gbdt/index';
import type { ProgressEvent } from '../../../src/core/train/types';
import type { FeatureSchema, Prediction, Rows } from '../../../src/core/data/types';
import { generatedClassification, generatedMulticlass } from './gbdt-fixtures';

type Kind = 'binary' | 'three classes' | 'regression';

/** A fit on generated data (NaNs in the binary and regression sets); exported for the child below. */
export function devFit(kind: Kind, params: Record<string, unknown> = {}) {
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
  const dev = make(701, 8);
  const events: ProgressEvent[] = [];
  const model = trainGbdt({
    schema,
    train: make(1500, 7),
    dev,
    params: { iterations: 12, maxLeaves: 15, minSamplesLeaf: 5, ...params },
    seed: 0,
    onProgress: (e) => events.push(e),
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
export function devFitSummary(kind: Kind): string {
  const { events, model } = devFit(kind);
  return JSON.stringify({ events, fitted: bits(model.fitted!.dev!) });
}

// The child below imports this file for devFitSummary alone.
for (const kind of process.env.GBDT_DEV_CHILD ? [] : (['binary', 'three classes', 'regression'] as const)) {
  test(`${kind}: the dev curve and the fit's dev predictions are predict()'s, with WebAssembly and without (the JavaScript walk)`, () => {
    const { events, dev, model } = devFit(kind);
    assert.equal(events.length, 12);
    const predicted = model.predict(dev.features);
    assert.ok(model.fitted?.dev, 'the fit hands over its dev predictions');
    assert.equal(bits(model.fitted.dev), bits(predicted));
    if (kind !== 'regression') {
      let correct = 0;
      for (let i = 0; i < dev.features.n; i++) if (predicted.classIndex![i] === dev.y[i]) correct++;
      assert.equal(events.at(-1)!.devMetric, correct / dev.features.n, "the last report is the model's accuracy");
    }
    const script = `
      const m = await import(${JSON.stringify(__filename)});
      const { devFitSummary } = m.devFitSummary ? m : m.default;
      console.log(typeof WebAssembly, devFitSummary(${JSON.stringify(kind)}));`;
    const r = spawnSync(process.execPath, ['--jitless', '--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, GBDT_DEV_CHILD: '1' },
    });
    assert.equal(r.status, 0, r.stderr);
    const [wasm, json] = r.stdout.trim().split(/ (.*)/s);
    assert.equal(wasm, 'undefined', 'the child runs without WebAssembly');
    const child = JSON.parse(json) as { events: ProgressEvent[]; fitted: string };
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
