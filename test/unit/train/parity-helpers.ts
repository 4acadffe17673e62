// Shared by the parity tests: ONNX-vs-predict() comparison and the onnx.checker call.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { BuiltinModel } from '../../../src/core/spec/types';
import type { SplitDataset } from '../../../src/core/data/types';
import type { TrainedModel } from '../../../src/core/train/types';

/** Small but complete parameters per model, so the parity suite stays fast. */
export const FAST_PARAMS: Record<BuiltinModel, Record<string, unknown>> = {
  linear: { l2: 1 },
  logistic: { l2: 1e-3, maxIter: 100, tol: 1e-4 },
  mlp: {
    hidden: [16],
    activation: 'relu',
    optimizer: 'adam',
    learningRate: 0.01,
    momentum: 0.9,
    batchSize: 32,
    epochs: 5,
    l2: 1e-4,
    dropout: 0,
    earlyStopping: false,
    seed: 0,
  },
  gbdt: {
    iterations: 15,
    learningRate: 0.1,
    maxDepth: 0,
    maxLeaves: 15,
    minSamplesLeaf: 5,
    l2: 0,
    maxBins: 255,
    earlyStopping: false,
  },
  cnn: {
    channels: [4, 8],
    batchNorm: false,
    dense: [16],
    dropout: 0,
    optimizer: 'adam',
    learningRate: 0.01,
    lrSchedule: 'constant',
    momentum: 0.9,
    batchSize: 16,
    epochs: 2,
    l2: 0,
    earlyStopping: false,
    augment: { flip: false, shift: 0 },
    seed: 0,
  },
};

/** Max |Δprobability| ≤ 1e-5 and identical labels; regression: max |Δ| ≤ 1e-5 × (1 + max |y|). */
export async function assertOnnxParity(
  session: ort.InferenceSession,
  model: TrainedModel,
  dataset: SplitDataset,
  split: 'train' | 'dev' | 'test',
): Promise<void> {
  const { schema } = dataset;
  const f = dataset[split].features;
  if (f.n === 0) return;
  const feeds: Record<string, ort.Tensor> = {
    features: new ort.Tensor('float32', f.numeric, [f.n, schema.numeric.length]),
  };
  if (schema.categorical.length > 0)
    feeds.categories = new ort.Tensor('string', f.categories, [f.n, schema.categorical.length]);
  const out = await session.run(feeds);
  const js = model.predict(f);
  const where = `${model.model} ${split}`;
  if (schema.task === 'classification') {
    const C = schema.classes!.length;
    assert.deepEqual(out.probabilities.dims, [f.n, C]);
    const probs = out.probabilities.data as Float32Array;
    let maxDiff = 0;
    for (let i = 0; i < probs.length; i++) maxDiff = Math.max(maxDiff, Math.abs(probs[i] - js.probabilities![i]));
    assert.ok(maxDiff <= 1e-5, `${where}: max |Δprob| ${maxDiff}`);
    const labels = out.label.data as string[];
    for (let i = 0; i < f.n; i++)
      assert.equal(labels[i], schema.classes![js.classIndex![i]], `${where}: label of row ${i}`);
  } else {
    assert.deepEqual(out.prediction.dims, [f.n]);
    const pred = out.prediction.data as Float32Array;
    let scale = 1;
    for (const y of dataset.train.y) scale = Math.max(scale, Math.abs(y));
    let maxDiff = 0;
    for (let i = 0; i < f.n; i++) maxDiff = Math.max(maxDiff, Math.abs(pred[i] - js.values![i]));
    assert.ok(maxDiff <= 1e-5 * scale, `${where}: max |Δ| ${maxDiff} (scale ${scale})`);
  }
}

/**
 * Runs onnx.checker.check_model(full_check=True) from Debian's /usr/bin/python3 on every model.
 * Returns 'no-onnx' when that python lacks the onnx module; asserts on any rejected model.
 */
export function checkOnnxValidity(models: { name: string; bytes: Uint8Array }[]): 'ok' | 'no-onnx' {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import onnx'], { encoding: 'utf8' });
  if (probe.status !== 0) return 'no-onnx';
  const dir = mkdtempSync(join(tmpdir(), 'mlloop-onnx-'));
  const paths = models.map((m) => {
    const p = join(dir, `${m.name}.onnx`);
    writeFileSync(p, m.bytes);
    return p;
  });
  const script = [
    'import sys, onnx',
    'bad = 0',
    'for p in sys.argv[1:]:',
    '    try:',
    '        onnx.checker.check_model(onnx.load(p), full_check=True)',
    '    except Exception as e:',
    '        bad += 1',
    "        print(p, type(e).__name__, str(e).splitlines()[0] if str(e) else '')",
    'sys.exit(1 if bad else 0)',
  ].join('\n');
  const r = spawnSync('/usr/bin/python3', ['-c', script, ...paths], { encoding: 'utf8' });
  assert.equal(r.status, 0, `onnx.checker rejected:\n${r.stdout}${r.stderr}`);
  return 'ok';
}
