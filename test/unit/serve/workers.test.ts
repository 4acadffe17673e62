// The inference worker pool and request deadlines: a pool answers exactly what onnxruntime computes
// in-process; runs of concurrent requests overlap across its workers while the event loop keeps
// answering; `auto` gives a pool to a slow model only; a request whose timeout passes (queued, or
// still computing) gets a 503 with an OIP error body and the server keeps serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import * as ort from 'onnxruntime-node';
import { AUTO_POOL_MIN_RUN_MS, autoWorkers } from '../../../src/core/serve/engine';
import type { InferenceServer } from '../../../src/core/serve/server';
import {
  call,
  contractClassifier,
  inferBody,
  offsetModel,
  slowModel,
  startServer,
  tempDir,
  writeModel,
} from './helpers';

const dir = tempDir();
const slowPath = writeModel(dir, 'slow.onnx', slowModel());

async function versionStatus(server: InferenceServer, model: string): Promise<{ workers: number; running: number }> {
  const s = await call(server, 'GET', '/v2/mlloop/status');
  return s.body.models.find((m: { name: string }) => m.name === model).versions[0];
}

test('a worker pool answers exactly what in-process onnxruntime computes, for concurrent (batched) requests', async () => {
  const path = writeModel(dir, 'clf.onnx', contractClassifier());
  const server = await startServer({ workers: 2 });
  try {
    await server.registry.addVersion('clf', { path });
    assert.equal((await versionStatus(server, 'clf')).workers, 2);
    const rows = Array.from({ length: 40 }, (_, i) => [((i * 7) % 11) - 5.5, ((i * 3) % 13) - 6.25]);
    const rs = await Promise.all(
      rows.map((r) => call(server, 'POST', '/v2/models/clf/infer', inferBody('features', 'FP32', [1, 2], r))),
    );
    const session = await ort.InferenceSession.create(path);
    const expected = await session.run({
      features: new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, 2]),
    });
    const probs = expected.probabilities.data as Float32Array;
    const labels = expected.label.data as string[];
    for (const [i, r] of rs.entries()) {
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const out = Object.fromEntries(r.body.outputs.map((o: { name: string; data: unknown[] }) => [o.name, o.data]));
      assert.deepEqual(out.probabilities, [...probs.subarray(i * 3, i * 3 + 3)]);
      assert.deepEqual(out.label, [labels[i]]);
    }
    const stats = (await call(server, 'GET', '/v2/models/clf/stats')).body.model_stats[0];
    assert.equal(stats.inference_count, 40);
    await session.release();
  } finally {
    await server.close();
  }
});

test('runs of concurrent requests overlap across the workers, and the server answers meanwhile', async () => {
  const server = await startServer({ workers: 2 });
  try {
    await server.registry.addVersion('slow', { path: slowPath });
    let done = false;
    const pending = Promise.all(
      [3, 5].map((x) => call(server, 'POST', '/v2/models/slow/infer', inferBody('x', 'FP32', [1, 1], [x]))),
    ).finally(() => (done = true));
    let most = 0;
    while (!done) {
      // The status endpoint answers while both runs compute: the event loop is not blocked.
      most = Math.max(most, (await versionStatus(server, 'slow')).running);
      await sleep(5);
    }
    const rs = await pending;
    for (const [i, r] of rs.entries()) {
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.ok(Math.abs(r.body.outputs[0].data[0] - [3, 5][i]) < 1e-3, JSON.stringify(r.body));
    }
    assert.equal(most, 2);
  } finally {
    await server.close();
  }
});

test('auto: a pool for a model whose single-row run is slow, the server thread for a small one', async () => {
  assert.equal(autoWorkers(undefined, 8), 0);
  assert.equal(autoWorkers(AUTO_POOL_MIN_RUN_MS / 10, 8), 0);
  assert.equal(autoWorkers(AUTO_POOL_MIN_RUN_MS, 8), 4);
  assert.equal(autoWorkers(AUTO_POOL_MIN_RUN_MS, 4), 3);
  assert.equal(autoWorkers(AUTO_POOL_MIN_RUN_MS * 10, 2), 1);
  assert.equal(autoWorkers(AUTO_POOL_MIN_RUN_MS * 10, 1), 0);
  const server = await startServer();
  try {
    await server.registry.addVersion('slow', { path: slowPath });
    await server.registry.addVersion('small', { path: writeModel(dir, 'small.onnx', offsetModel(1)) });
    assert.equal((await versionStatus(server, 'slow')).workers, autoWorkers(Infinity, availableParallelism()));
    assert.equal((await versionStatus(server, 'small')).workers, 0);
  } finally {
    await server.close();
  }
});

test('a request whose timeout passes while queued gets 503 with the reason; the next one is answered', async () => {
  const server = await startServer({ workers: 0 });
  try {
    await server.registry.addVersion('m', { path: writeModel(dir, 'm.onnx', offsetModel(10)) });
    // 1 µs: over before the batch is formed at the end of the event-loop turn.
    const late = await call(
      server,
      'POST',
      '/v2/models/m/infer',
      inferBody('x', 'FP32', [1, 2], [1, 2], { parameters: { timeout: 1 } }),
    );
    assert.equal(late.status, 503);
    assert.match(late.body.error, /did not finish within the request's timeout of 0 ms .*still queued.*parameters/);
    const ok = await call(server, 'POST', '/v2/models/m/infer', inferBody('x', 'FP32', [1, 2], [1, 2]));
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body.outputs[0].data, [11, 12]);
    const fails = (await call(server, 'GET', '/v2/models/m/stats')).body.model_stats[0].inference_stats.fail.count;
    assert.equal(fails, 1);
  } finally {
    await server.close();
  }
});

for (const workers of [0, 1]) {
  test(`a request whose timeout passes during its run gets 503, not a late answer (${workers ? 'worker' : 'server thread'}); the server keeps serving`, async () => {
    const server = await startServer({ workers, inferTimeoutMs: 20 });
    try {
      await server.registry.addVersion('slow', { path: slowPath });
      const r = await call(server, 'POST', '/v2/models/slow/infer', inferBody('x', 'FP32', [1, 1], [3]));
      assert.equal(r.status, 503, JSON.stringify(r.body));
      assert.match(r.body.error, /timeout of 20 ms .*its run was still computing/);
      // A request with its own longer timeout is still bounded by the server's: the limit holds for every request.
      const again = await call(
        server,
        'POST',
        '/v2/models/slow/infer',
        inferBody('x', 'FP32', [1, 1], [3], { parameters: { timeout: 60e6 } }),
      );
      assert.equal(again.status, 503);
      assert.equal((await call(server, 'GET', '/v2/health/live')).status, 200);
    } finally {
      await server.close();
    }
  });
}
