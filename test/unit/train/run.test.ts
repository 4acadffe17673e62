import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { trainDatasetRun } from '../../../src/core/train/run';
import { createRun, newRunId, readRun } from '../../../src/core/train/runStore';
import { readMetadata } from '../../../src/core/onnx/builder';
import { mixedClassification, mixedRegression, noisyMulticlass, readClassificationCsv } from './fixtures';
import { IRIS_CSV } from '../../datasets';

const tmp = () => mkdtempSync(join(tmpdir(), 'mlloop-run-'));

test('run ids sort by creation time and differ by a random suffix', () => {
  const a = newRunId(new Date('2026-01-02T03:04:05.006Z'));
  const b = newRunId(new Date('2026-01-02T03:04:05.007Z'));
  assert.match(a, /^20260102-030405-006-[0-9a-f]{6}$/);
  assert.ok(a < b);
  assert.notEqual(newRunId(), newRunId());
});

test('a logistic run trains in a worker and writes run.json, metrics.jsonl, model.onnx and log.txt', async () => {
  const dir = tmp();
  const dataset = readClassificationCsv(IRIS_CSV);
  const progress: number[] = [];
  const out = await trainDatasetRun(
    dir,
    'lr',
    { dataset, model: 'logistic', params: { l2: 0.001, maxIter: 100, tol: 1e-4 }, seed: 0 },
    { onProgress: (e) => progress.push(e.step) },
  );
  assert.equal(out.status, 'completed', JSON.stringify(out.error));
  assert.ok(progress.length > 0);
  const rec = readRun(dir, out.runId);
  assert.equal(rec.status, 'completed');
  assert.equal(rec.experiment, 'lr');
  assert.deepEqual(rec.params, { l2: 0.001, maxIter: 100, tol: 1e-4 });
  assert.equal(rec.dataVersion?.id, dataset.version.id);
  assert.ok(rec.startedAt <= rec.endedAt!);
  const dev = rec.metrics!.dev as { accuracy: number; f1: number; logloss: number };
  assert.ok(dev.accuracy > 0.85 && dev.f1 > 0.85 && dev.logloss < 0.5, JSON.stringify(dev));
  assert.ok(rec.metrics!.train && rec.metrics!.test);
  const bytes = readFileSync(out.model!);
  assert.equal(rec.modelSize, bytes.byteLength);
  const meta = readMetadata(bytes);
  assert.equal(meta.run_id, out.runId);
  assert.equal(meta.data_version, dataset.version.id);
  assert.equal(meta.classes, JSON.stringify(dataset.schema.classes));
  const history = readFileSync(join(out.runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.ok(history.length >= 2 && history.at(-1).final === true && history[0].step >= 1);
  assert.match(readFileSync(join(out.runDir, 'log.txt'), 'utf8'), /completed/);
  // The model runs in onnxruntime on raw features.
  const session = await ort.InferenceSession.create(bytes);
  const res = await session.run({
    features: new ort.Tensor('float32', dataset.dev.features.numeric, [dataset.dev.features.n, 4]),
  });
  assert.equal((res.label.data as string[]).length, dataset.dev.features.n);
});

test('a regression run reports rmse, mae and r2 on each split', async () => {
  const dir = tmp();
  const out = await trainDatasetRun(dir, 'ridge', {
    dataset: mixedRegression(),
    model: 'linear',
    params: { l2: 0.1 },
    seed: 0,
  });
  assert.equal(out.status, 'completed', JSON.stringify(out.error));
  for (const split of ['train', 'dev', 'test'] as const) {
    const m = out.metrics[split] as { rmse: number; mae: number; r2: number };
    assert.ok(m.rmse < 0.35 && m.mae < m.rmse + 1e-9 && m.r2 > 0.97, `${split}: ${JSON.stringify(m)}`);
  }
});

test('bad parameters fail the run with the parameter named, without throwing', async () => {
  const dir = tmp();
  const out = await trainDatasetRun(dir, 'bad', {
    dataset: mixedRegression(),
    model: 'linear',
    params: { l2: -1 },
    seed: 0,
  });
  assert.equal(out.status, 'failed');
  assert.equal(out.error?.param, 'l2');
  const rec = readRun(dir, out.runId);
  assert.equal(rec.status, 'failed');
  assert.match(rec.error!.message, /l2/);
  assert.ok(!existsSync(join(out.runDir, 'model.onnx')));
  assert.match(readFileSync(join(out.runDir, 'log.txt'), 'utf8'), /failed: .*l2/);
});

test('a long run cancelled through its AbortSignal stops promptly and is marked cancelled', async () => {
  const dir = tmp();
  const ac = new AbortController();
  let cancelledAt = 0;
  const started = Date.now();
  const out = await trainDatasetRun(
    dir,
    'long',
    {
      dataset: noisyMulticlass(60000, 30, 10),
      model: 'logistic',
      params: { l2: 1e-6, maxIter: 100000, tol: 1e-12 },
      seed: 0,
    },
    {
      onProgress: (e) => {
        if (e.step >= 3 && !cancelledAt) {
          cancelledAt = Date.now();
          ac.abort();
        }
      },
      signal: ac.signal,
    },
  );
  const stoppedIn = Date.now() - cancelledAt;
  assert.ok(cancelledAt > 0, 'progress reached step 3');
  assert.equal(out.status, 'cancelled');
  assert.equal(readRun(dir, out.runId).status, 'cancelled');
  assert.ok(stoppedIn < 1000, `stopped ${stoppedIn} ms after the cancel (run lasted ${Date.now() - started} ms)`);
  assert.match(readFileSync(join(out.runDir, 'log.txt'), 'utf8'), /cancel requested/);
  console.log(`cancel: stopped ${stoppedIn} ms after the request`);
});

test('bad input fails the run with a clear error: one class, non-finite features, divergence', async () => {
  const dir = tmp();
  const iris = readClassificationCsv(IRIS_CSV);
  const oneClass = { ...iris, train: { ...iris.train, y: iris.train.y.map(() => 2) } };
  const a = await trainDatasetRun(dir, 'one-class', { dataset: oneClass, model: 'logistic', params: {}, seed: 0 });
  assert.equal(a.status, 'failed');
  assert.equal(a.error?.param, 'target');
  assert.match(a.error!.message, /single class/);

  const inf = {
    ...iris,
    train: {
      ...iris.train,
      features: {
        ...iris.train.features,
        numeric: iris.train.features.numeric.map((v, i) => (i === 5 ? Infinity : v)),
      },
    },
  };
  const b = await trainDatasetRun(dir, 'inf', {
    dataset: inf,
    model: 'mlp',
    params: { hidden: [8], epochs: 2 },
    seed: 0,
  });
  assert.equal(b.status, 'failed');
  assert.match(b.error!.message, /sepal_width/);

  const c = await trainDatasetRun(dir, 'diverge', {
    dataset: mixedRegression(),
    model: 'mlp',
    params: { hidden: [32], learningRate: 1e6, optimizer: 'sgd', epochs: 20 },
    seed: 0,
  });
  assert.equal(c.status, 'failed');
  assert.ok(typeof c.error!.step === 'number' && c.error!.step >= 1, JSON.stringify(c.error));
  assert.match(c.error!.message, new RegExp(`epoch ${c.error!.step}`));
  for (const o of [a, b, c]) assert.equal(readRun(dir, o.runId).status, 'failed');
});

test('two runs with the same data, params, seed and run id write byte-identical model.onnx files', async () => {
  const dataset = mixedClassification();
  const job = { dataset, model: 'mlp' as const, params: { hidden: [8], epochs: 5, dropout: 0.1 }, seed: 3 };
  const a = await trainDatasetRun(tmp(), 'mlp', job, { runId: 'fixed-run-id' });
  const b = await trainDatasetRun(tmp(), 'mlp', job, { runId: 'fixed-run-id' });
  assert.equal(a.status, 'completed', JSON.stringify(a.error));
  assert.ok(readFileSync(a.model!).equals(readFileSync(b.model!)));
  // The run id is the only run-specific value inside the model: another id changes only the metadata.
  const c = await trainDatasetRun(tmp(), 'mlp', job, { runId: 'other-run-id' });
  assert.equal(readMetadata(readFileSync(c.model!)).run_id, 'other-run-id');
});

test('a run id is never reused within a project', () => {
  const dir = tmp();
  createRun(dir, { runId: 'same', experiment: 'x', model: 'linear' });
  assert.throws(() => createRun(dir, { runId: 'same', experiment: 'x', model: 'linear' }), /EEXIST/);
});
