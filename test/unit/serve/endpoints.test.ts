// Every endpoint of the server against an ML Loop-contract classifier (two versions) and a plain model.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { InferenceServer } from '../../../src/core/serve/server';
import { call, contractClassifier, inferBody, offsetModel, startServer, tempDir, writeModel } from './helpers';

let server: InferenceServer;
const dir = tempDir();

before(async () => {
  server = await startServer({ name: 'endpoints' });
  await server.registry.addVersion('clf', { path: writeModel(dir, 'clf1.onnx', contractClassifier('run-1')) });
  await server.registry.addVersion(
    'clf',
    { path: writeModel(dir, 'clf2.onnx', contractClassifier('run-2')) },
    { alias: 'candidate' },
  );
  await server.registry.addVersion('offset', { path: writeModel(dir, 'off.onnx', offsetModel(10)) });
});
after(() => server.close());

test('health and server metadata', async () => {
  assert.deepEqual((await call(server, 'GET', '/v2/health/live')).body, { live: true });
  const ready = await call(server, 'GET', '/v2/health/ready');
  assert.equal(ready.status, 200);
  assert.deepEqual(ready.body, { ready: true });
  const meta = await call(server, 'GET', '/v2');
  assert.equal(meta.body.name, 'endpoints');
  assert.ok(meta.body.extensions.includes('model_repository'));
});

test('model metadata, unversioned (production) and versioned, with ML Loop parameters', async () => {
  const m = await call(server, 'GET', '/v2/models/clf');
  assert.equal(m.status, 200);
  assert.deepEqual(m.body.versions, ['1', '2']);
  assert.deepEqual(m.body.inputs, [{ name: 'features', datatype: 'FP32', shape: [-1, 2] }]);
  assert.deepEqual(
    m.body.outputs.map((o: { name: string; datatype: string }) => `${o.name}:${o.datatype}`),
    ['probabilities:FP32', 'label:BYTES'],
  );
  assert.equal(m.body.parameters.version, '1');
  assert.equal(m.body.parameters.run_id, 'run-1');
  assert.deepEqual(m.body.parameters.features, ['f0', 'f1']);
  const v2 = await call(server, 'GET', '/v2/models/clf/versions/2');
  assert.equal(v2.body.parameters.run_id, 'run-2');
  assert.deepEqual((await call(server, 'GET', '/v2/models/clf/versions/2/ready')).body, {
    name: 'clf',
    version: '2',
    ready: true,
  });
  assert.equal((await call(server, 'GET', '/v2/models/clf/ready')).body.version, '1');
});

test('infer on production, a version and an alias', async () => {
  const body = inferBody('features', 'FP32', [2, 2], [3, 1, 0, 2], { id: 'x1' });
  const r = await call(server, 'POST', '/v2/models/clf/infer', body);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.model_version, '1');
  assert.equal(r.body.id, 'x1');
  const label = r.body.outputs.find((o: { name: string }) => o.name === 'label');
  // logits = x · W: row 0 [3, 1, -4] → a; row 1 [0, 2, -2] → b
  assert.deepEqual(label.data, ['a', 'b']);
  assert.equal((await call(server, 'POST', '/v2/models/clf/versions/2/infer', body)).body.model_version, '2');
  assert.equal((await call(server, 'POST', '/v2/models/clf/versions/candidate/infer', body)).body.model_version, '2');
  const off = await call(server, 'POST', '/v2/models/offset/infer', inferBody('x', 'FP32', [1, 2], [1, 2]));
  assert.deepEqual(off.body.outputs[0].data, [11, 12]);
});

test('/predict takes records by feature name and returns labels and probabilities by class', async () => {
  const r = await call(server, 'POST', '/v2/models/clf/predict', {
    instances: [
      { f0: 3, f1: 1 },
      { f0: 0, f1: 2 },
    ],
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(
    r.body.predictions.map((p: { label: string }) => p.label),
    ['a', 'b'],
  );
  const p = r.body.predictions[0].probabilities;
  assert.deepEqual(Object.keys(p), ['a', 'b', 'c']);
  const e = [Math.exp(3), Math.exp(1), Math.exp(-4)]; // logits of (3, 1): x · W
  const s = e[0] + e[1] + e[2];
  assert.ok(Math.abs(p.a - e[0] / s) < 1e-6);
  const missing = await call(server, 'POST', '/v2/models/clf/predict', { instances: [{ f0: 3 }] });
  assert.equal(missing.status, 400);
  assert.match(missing.body.error, /feature "f1" is missing/);
  const plain = await call(server, 'POST', '/v2/models/offset/predict', { instances: [{ a: 1 }] });
  assert.equal(plain.status, 400);
  assert.match(plain.body.error, /no ML Loop feature metadata.*x \(FP32 \[-1, 2\]\)/);
});

test('aliases, promote (hot swap) and rollback endpoints', async () => {
  assert.deepEqual((await call(server, 'GET', '/v2/models/clf/aliases')).body, {
    name: 'clf',
    production: '1',
    candidate: '2',
    previous_production: null,
  });
  const p = await call(server, 'POST', '/v2/models/clf/aliases/production', { version: '2' });
  assert.equal(p.status, 200);
  assert.deepEqual(p.body, { name: 'clf', production: '2', candidate: null, previous_production: '1' });
  assert.equal(
    (await call(server, 'POST', '/v2/models/clf/infer', inferBody('features', 'FP32', [1, 2], [1, 1]))).body
      .model_version,
    '2',
  );
  const rb = await call(server, 'POST', '/v2/models/clf/rollback');
  assert.deepEqual(rb.body, { name: 'clf', production: '1', candidate: '2', previous_production: null });
  assert.equal((await call(server, 'POST', '/v2/models/clf/rollback')).status, 409);
  assert.equal((await call(server, 'POST', '/v2/models/clf/aliases/production', { version: '9' })).status, 404);
  assert.equal((await call(server, 'POST', '/v2/models/clf/aliases/staging', { version: '1' })).status, 404);
  assert.equal((await call(server, 'POST', '/v2/models/clf/aliases/production', { nope: 1 })).status, 400);
});

test('repository extension: index, unload, load, and adding a version from a file', async () => {
  const index = await call(server, 'POST', '/v2/repository/index');
  assert.deepEqual(
    index.body.map((m: { name: string; version: string; state: string }) => `${m.name}/${m.version}:${m.state}`),
    ['clf/1:READY', 'clf/2:READY', 'offset/1:READY'],
  );
  assert.equal((await call(server, 'POST', '/v2/repository/models/offset/unload')).status, 200);
  assert.equal(
    (await call(server, 'POST', '/v2/repository/index')).body.find((m: { name: string }) => m.name === 'offset').state,
    'UNAVAILABLE',
  );
  const down = await call(server, 'POST', '/v2/models/offset/infer', inferBody('x', 'FP32', [1, 2], [1, 2]));
  assert.equal(down.status, 503);
  assert.match(down.body.error, /not loaded/);
  assert.equal((await call(server, 'GET', '/v2/health/ready')).status, 503);
  assert.equal((await call(server, 'POST', '/v2/repository/models/offset/load')).status, 200);
  assert.equal(
    (await call(server, 'POST', '/v2/models/offset/infer', inferBody('x', 'FP32', [1, 2], [1, 2]))).status,
    200,
  );
  const added = await call(server, 'POST', '/v2/repository/models/offset/load', {
    parameters: { path: writeModel(dir, 'off2.onnx', offsetModel(20)), run_id: 'r-20' },
  });
  assert.equal(added.status, 200, JSON.stringify(added.body));
  assert.equal(added.body.version, '2');
  assert.equal(added.body.aliases.candidate, '2');
  const v2 = await call(server, 'POST', '/v2/models/offset/versions/2/infer', inferBody('x', 'FP32', [1, 2], [1, 2]));
  assert.deepEqual(v2.body.outputs[0].data, [21, 22]);
  const bad = await call(server, 'POST', '/v2/repository/models/offset/load', {
    parameters: { path: '/nonexistent.onnx' },
  });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /could not load/);
});

test('statistics (Triton shape) and Prometheus metrics', async () => {
  await call(server, 'POST', '/v2/models/offset/infer', inferBody('x', 'FP32', [1, 2], [1, 2]));
  await call(server, 'POST', '/v2/models/offset/infer', inferBody('x', 'FP32', [1, 3], [1, 2, 3]));
  const stats = await call(server, 'GET', '/v2/models/offset/stats');
  assert.equal(stats.status, 200);
  const s = stats.body.model_stats.find((m: { version: string }) => m.version === '1');
  assert.ok(s.inference_stats.success.count >= 2);
  assert.ok(s.inference_stats.fail.count >= 1);
  assert.ok(s.execution_count >= 2);
  assert.ok(s.batch_stats.length >= 1 && s.batch_stats[0].batch_size >= 1);
  assert.equal((await call(server, 'GET', '/v2/models/stats')).body.model_stats.length >= 4, true);
  assert.equal((await call(server, 'GET', '/v2/models/offset/versions/7/stats')).status, 404);
  const m = await call(server, 'GET', '/metrics');
  assert.equal(m.status, 200);
  assert.match(m.headers.get('content-type') ?? '', /text\/plain/);
  assert.match(m.body, /mlloop_inference_requests_total\{model="offset",version="1",status="200"\} \d+/);
  assert.match(m.body, /mlloop_inference_requests_total\{model="offset",version="1",status="400"\} \d+/);
  assert.match(m.body, /mlloop_inference_queue_seconds_bucket\{le="0.001",model="offset",version="1"\}/);
  assert.match(m.body, /mlloop_inference_compute_seconds_count\{model="offset",version="1"\}/);
  assert.match(m.body, /mlloop_inference_request_seconds_sum\{model="offset",version="1"\}/);
  assert.match(m.body, /mlloop_inference_batch_rows_bucket/);
  assert.match(m.body, /mlloop_loaded_model_versions\{model="clf"\} 2/);
});

test('status for the Deployments view: versions with run and request counts', async () => {
  const s = await call(server, 'GET', '/v2/mlloop/status');
  const clf = s.body.models.find((m: { name: string }) => m.name === 'clf');
  assert.deepEqual(
    clf.versions.map((v: { version: string; runId: string }) => `${v.version}:${v.runId}`),
    ['1:run-1', '2:run-2'],
  );
  assert.ok(clf.versions[0].requests >= 2);
});

test('unknown models, versions and endpoints are 404 with an OIP error body', async () => {
  for (const [method, path] of [
    ['GET', '/v2/models/nope'],
    ['POST', '/v2/models/nope/infer'],
    ['GET', '/v2/models/clf/versions/9'],
    ['POST', '/v2/models/clf/versions/9/infer'],
    ['GET', '/v3'],
    ['GET', '/v2/nothing'],
    ['DELETE', '/v2/models/clf'],
  ]) {
    const r = await call(server, method, path, method === 'POST' ? inferBody('x', 'FP32', [1, 2], [1, 2]) : undefined);
    assert.equal(r.status, 404, `${method} ${path}`);
    assert.equal(typeof r.body.error, 'string');
  }
});
