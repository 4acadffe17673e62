// The dev curve of a GBDT fit: each iteration's trees are added to the dev rows' scores by the
// prediction kernel (gbdt/index.ts addToDevScores), the JavaScript walk where WebAssembly is missing.
// Both give the same reports, and the last one is the model's own accuracy on dev.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { trainGbdt } from '../../../src/core/train/gbdt/index';
import type { ProgressEvent } from '../../../src/core/train/types';
import type { FeatureSchema, Rows } from '../../../src/core/data/types';
import { generatedClassification, generatedMulticlass } from './gbdt-fixtures';

/** A fit's progress reports on generated data (`classes` 2 or 3, NaNs in the binary set); exported for the child below. */
export function devCurve(classes: 2 | 3): { events: ProgressEvent[]; devAccuracy: number } {
  const f = 6;
  const make = (n: number, seed: number): Rows => {
    const { X, y } = classes === 2 ? generatedClassification(n, f, seed, 0.05) : generatedMulticlass(n, f, 3, seed);
    return { features: { n, numeric: X, categories: [] }, y, ids: [], rowIndex: new Uint32Array(n) };
  };
  const schema: FeatureSchema = {
    task: 'classification',
    target: 'y',
    numeric: Array.from({ length: f }, (_, j) => `x${j}`),
    categorical: [],
    classes: classes === 2 ? ['0', '1'] : ['a', 'b', 'c'],
  };
  const dev = make(701, 8);
  const events: ProgressEvent[] = [];
  const model = trainGbdt({
    schema,
    train: make(1500, 7),
    dev,
    params: { iterations: 12, maxLeaves: 15, minSamplesLeaf: 5 },
    seed: 0,
    onProgress: (e) => events.push(e),
  });
  const predicted = model.predict(dev.features).classIndex!;
  let correct = 0;
  for (let i = 0; i < dev.features.n; i++) if (predicted[i] === dev.y[i]) correct++;
  return { events, devAccuracy: correct / dev.features.n };
}

// The child below imports this file for devCurve alone.
for (const classes of process.env.GBDT_DEV_CHILD ? [] : ([2, 3] as const)) {
  test(`${classes} classes: the dev loss and accuracy of every iteration are the same without WebAssembly (JavaScript walk), and the last is the model's`, () => {
    const { events, devAccuracy } = devCurve(classes);
    assert.equal(events.length, 12);
    assert.equal(events.at(-1)!.devMetric, devAccuracy);
    const script = `
      const m = await import(${JSON.stringify(__filename)});
      const { devCurve } = m.devCurve ? m : m.default;
      console.log(typeof WebAssembly, JSON.stringify(devCurve(${classes}).events));`;
    const r = spawnSync(process.execPath, ['--jitless', '--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, GBDT_DEV_CHILD: '1' },
    });
    assert.equal(r.status, 0, r.stderr);
    const [wasm, json] = r.stdout.trim().split(/ (.*)/s);
    assert.equal(wasm, 'undefined', 'the child runs without WebAssembly');
    const jsEvents = JSON.parse(json) as ProgressEvent[];
    assert.deepEqual(
      jsEvents.map((e) => [e.step, e.devLoss, e.devMetric]),
      events.map((e) => [e.step, e.devLoss, e.devMetric]),
    );
  });
}
