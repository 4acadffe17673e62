// The feedback endpoint and the columnar log from the server side: 409 without request logging,
// X-Request-Id on logged responses, label checks, and redacted features blanked in the .cols file too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { call, contractClassifier, startServer, tempDir, writeModel } from '../serve/helpers';
import { decodeRequest, emptyView, scanColumnar, sharedViews } from '../../../src/core/requestLog/columnar';
import { readFeedback } from '../../../src/core/monitor';

test('feedback needs request logging: 409 with the reason; unknown model 404', async () => {
  const dir = tempDir();
  const server = await startServer();
  await server.registry.addVersion('clf', { path: writeModel(dir, 'c.onnx', contractClassifier()) });
  const r = await call(server, 'POST', '/v2/models/clf/feedback', { id: 'x', label: 'a' });
  assert.equal(r.status, 409);
  assert.match(r.body.error, /--log-requests/);
  assert.equal((await call(server, 'POST', '/v2/models/nope/feedback', { id: 'x', label: 'a' })).status, 404);
  await server.close();
  // A server the editor started names the editor's way to turn logging on, not a CLI flag.
  const fromEditor = await startServer({ startedBy: 'editor' });
  await fromEditor.registry.addVersion('clf', { path: writeModel(dir, 'c2.onnx', contractClassifier()) });
  const e = await call(fromEditor, 'POST', '/v2/models/clf/feedback', { id: 'x', label: 'a' });
  assert.equal(e.status, 409);
  assert.doesNotMatch(e.body.error, /--log-requests/);
  assert.match(e.body.error, /Restart with Request Logging.*mlLoop\.deploy\.logRequests/);
  await fromEditor.close();
});

test('logged responses carry X-Request-Id (the body id, the client header, or a new one); feedback is stored as {time, id, label}', async () => {
  const dir = tempDir();
  const logDir = join(dir, 'log');
  const server = await startServer({ requestLog: { dir: logDir } });
  await server.registry.addVersion('clf', { path: writeModel(dir, 'c.onnx', contractClassifier()) });
  const own = await call(server, 'POST', '/v2/models/clf/predict', { instances: [{ f0: 3, f1: 1 }] }, { 'x-request-id': 'mine-1' });
  assert.equal(own.headers.get('x-request-id'), 'mine-1');
  const fresh = await call(server, 'POST', '/v2/models/clf/predict', { instances: [{ f0: 3, f1: 1 }, { f0: 0, f1: 2 }] });
  const id = fresh.headers.get('x-request-id');
  assert.ok(id && id !== 'mine-1');
  assert.equal((await call(server, 'POST', '/v2/models/clf/feedback', { id, label: ['a', 'b'] })).status, 200);
  assert.equal((await call(server, 'POST', '/v2/models/clf/feedback', { feedback: [{ id: 'mine-1', label: 'c' }] })).body.accepted, 1);
  for (const bad of [{ id, label: 'z' }, { id, label: ['a', 'q'] }, { id: '', label: 'a' }, { id, label: { a: 1 } }, { feedback: [] }, 'text']) {
    const r = await call(server, 'POST', '/v2/models/clf/feedback', bad);
    assert.equal(r.status, 400, JSON.stringify(bad));
    assert.ok(typeof r.body.error === 'string' && r.body.error.length > 10);
  }
  await server.close();
  const fb = readFeedback(logDir);
  assert.deepEqual(fb.records.map((r) => [r.id, r.label]), [[id, ['a', 'b']], ['mine-1', 'c']]);
  assert.ok(fb.records.every((r) => Number.isFinite(Date.parse(r.time))));
});

test('redacted features are logged as missing in the columnar file, as "[redacted]" in the JSON Lines', async () => {
  const dir = tempDir();
  const logDir = join(dir, 'log');
  const server = await startServer({ requestLog: { dir: logDir, redact: ['f1'] } });
  await server.registry.addVersion('clf', { path: writeModel(dir, 'c.onnx', contractClassifier()) });
  await call(server, 'POST', '/v2/models/clf/predict', { instances: [{ f0: 3, f1: 1 }] });
  await server.close();
  const cols = readdirSync(logDir).find((f) => f.endsWith('.cols'))!;
  const buf = readFileSync(join(logDir, cols));
  const scan = scanColumnar(buf);
  assert.equal(scan.requests.length, 1);
  const view = emptyView();
  assert.ok(decodeRequest(buf, scan.requests[0], (i) => scan.schemas.get(i), view, sharedViews(buf)));
  assert.deepEqual(view.schema?.features, ['f0', 'f1']);
  assert.equal(view.numeric![view.numericAt], 3);
  assert.ok(Number.isNaN(view.numeric![view.numericAt + 1]));
  assert.equal(view.schema!.classes[view.classIndex![view.classIndexAt]], 'a');
  const line = JSON.parse(readFileSync(join(logDir, cols.replace('.cols', '.jsonl')), 'utf8'));
  assert.equal(line.inputs[0].f1, '[redacted]');
});
