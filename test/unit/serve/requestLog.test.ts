// Request logging: off by default; when on, one JSON Lines record per request (time, id, model,
// version, inputs, outputs, latency); rotation by size, a total cap, sampling and redaction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { logFiles, RequestLog, REDACTED } from '../../../src/core/requestLog/log';
import { call, contractClassifier, inferBody, offsetModel, startServer, tempDir, writeModel } from './helpers';

function records(dir: string): Array<Record<string, any>> {
  return logFiles(dir).flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l)),
  );
}

test('logging is off unless asked for: no folder, no file', async () => {
  const dir = tempDir();
  const server = await startServer();
  await server.registry.addVersion('m', { path: writeModel(dir, 'm.onnx', offsetModel(1)) });
  await call(server, 'POST', '/v2/models/m/infer', inferBody('x', 'FP32', [1, 2], [1, 2]));
  assert.equal(server.log, undefined);
  await server.close();
  assert.equal(existsSync(join(dir, '.mlloop')), false);
});

test('each request is one record with time, id, model, version, inputs, outputs and latency', async () => {
  const dir = tempDir();
  const logDir = join(dir, '.mlloop', 'deployments', 'm');
  const server = await startServer({ requestLog: { dir: logDir } });
  await server.registry.addVersion('m', { path: writeModel(dir, 'm.onnx', offsetModel(1)) });
  await server.registry.addVersion('clf', { path: writeModel(dir, 'c.onnx', contractClassifier()) });
  await call(server, 'POST', '/v2/models/m/infer', inferBody('x', 'FP32', [1, 2], [1, 2], { id: 'abc' }));
  await call(server, 'POST', '/v2/models/m/infer', inferBody('x', 'FP32', [1, 2], [1, 'no']), {
    'x-request-id': 'h-1',
  });
  await call(server, 'POST', '/v2/models/clf/predict', { instances: [{ f0: 3, f1: 1 }] });
  await server.close();
  const rs = records(logDir);
  assert.equal(rs.length, 3);
  assert.equal(rs[0].id, 'abc');
  assert.equal(rs[0].model, 'm');
  assert.equal(rs[0].version, '1');
  assert.equal(rs[0].status, 200);
  assert.deepEqual(rs[0].inputs, { x: [1, 2] });
  assert.deepEqual(rs[0].outputs, { y: [2, 3] });
  assert.ok(rs[0].latency_ms > 0 && !Number.isNaN(Date.parse(rs[0].time)));
  assert.equal(rs[1].id, 'h-1');
  assert.equal(rs[1].status, 400);
  assert.equal(rs[2].outputs[0].label, 'a');
  assert.deepEqual(rs[2].inputs, [{ f0: 3, f1: 1 }]);
});

test('redaction replaces the named features, inputs or outputs at any depth', async () => {
  const dir = tempDir();
  const server = await startServer({ requestLog: { dir, redact: ['f1', 'probabilities'] } });
  await server.registry.addVersion('clf', { path: writeModel(dir, 'c.onnx', contractClassifier()) });
  await call(server, 'POST', '/v2/models/clf/predict', { instances: [{ f0: 3, f1: 1 }] });
  await call(server, 'POST', '/v2/models/clf/infer', inferBody('features', 'FP32', [1, 2], [3, 1]));
  await server.close();
  const [p, i] = records(dir);
  assert.deepEqual(p.inputs, [{ f0: 3, f1: REDACTED }]);
  assert.equal(p.outputs[0].probabilities, REDACTED);
  assert.equal(p.outputs[0].label, 'a');
  assert.equal(i.outputs.probabilities, REDACTED);
  assert.deepEqual(i.outputs.label, ['a']);
  assert.ok(!readFileSync(logFiles(dir)[0], 'utf8').includes('"f1":1'));
});

test('sampling logs about the given fraction', async () => {
  const dir = tempDir();
  let seed = 1;
  const server = await startServer({
    requestLog: { dir, sampleRate: 0.25, random: () => (seed = (seed * 16807) % 2147483647) / 2147483647 },
  });
  await server.registry.addVersion('m', { path: writeModel(dir, 'm.onnx', offsetModel(1)) });
  for (let i = 0; i < 400; i++)
    await call(server, 'POST', '/v2/models/m/infer', inferBody('x', 'FP32', [1, 2], [i, 0]));
  await server.close();
  const n = records(dir).length;
  assert.ok(n > 60 && n < 140, `${n} of 400 logged at 0.25`);
});

test('files rotate by size and the oldest are deleted past the total cap', () => {
  const dir = tempDir();
  const log = new RequestLog({ dir, maxFileBytes: 2000, maxTotalBytes: 7000, flushIntervalMs: 10_000 });
  for (let i = 0; i < 300; i++) {
    log.append({
      time: new Date().toISOString(),
      id: `r${i}`,
      model: 'm',
      version: '1',
      status: 200,
      inputs: { x: [i] },
      outputs: { y: [i] },
      latency_ms: 1,
    });
    if (i % 10 === 9) log.flush();
  }
  log.close();
  const files = logFiles(dir);
  const sizes = files.map((f) => statSync(f).size);
  assert.ok(files.length >= 2, `${files.length} files`);
  for (const s of sizes) assert.ok(s <= 2000, `file of ${s} bytes`);
  assert.ok(sizes.reduce((a, b) => a + b, 0) <= 7000);
  const ids = records(dir).map((r) => Number(r.id.slice(1)));
  // What is kept is the newest records, in order, ending with the last one.
  assert.equal(ids[ids.length - 1], 299);
  for (let k = 1; k < ids.length; k++) assert.equal(ids[k], ids[k - 1] + 1);
  assert.ok(ids[0] > 0, 'the oldest records were dropped');
});

test('two logs started on one folder in the same millisecond write files of their own', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: Date.UTC(2026, 0, 1) });
  const dir = tempDir();
  const a = new RequestLog({ dir, flushIntervalMs: 1e6 });
  const b = new RequestLog({ dir, flushIntervalMs: 1e6 });
  const record = (id: string) => ({
    time: new Date().toISOString(),
    id,
    model: 'm',
    version: '1',
    status: 200,
    inputs: { x: 1 },
    outputs: { y: 2 },
    latency_ms: 1,
  });
  a.append(record('from-a'));
  b.append(record('from-b'));
  a.close();
  b.close();
  const files = logFiles(dir);
  assert.equal(files.length, 2, files.join(', '));
  assert.deepEqual(
    files
      .map((f) =>
        readFileSync(f, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l).id),
      )
      .sort(),
    [['from-a'], ['from-b']],
  );
});
