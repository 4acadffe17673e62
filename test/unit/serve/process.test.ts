// The server as a process (dist/server.js, with the Node options the extension starts it with; `npm test` builds it first):
// token required off loopback, graceful SIGTERM drain, and what a crash loses from the request log.
// Also the CLI: promote, rollback, export triton/kserve.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { runCli } from '../../../src/cli/main';
import { logFiles } from '../../../src/core/requestLog/log';
import { SERVER_NODE_OPTIONS } from '../../../src/core/serve/nodeOptions';
import { call, contractClassifier, inferBody, offsetModel, startServer, tempDir, writeModel } from './helpers';

const SERVER = join(__dirname, '../../../dist/server.js');

function startProcess(
  args: string[],
  cwd: string,
): Promise<{ child: ChildProcess; url: string; stderr: () => string; exit: Promise<number | null> }> {
  const child = spawn(process.execPath, [...SERVER_NODE_OPTIONS, SERVER, '--port', '0', '--json', ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve({ child, url: JSON.parse(line).url, stderr: () => err, exit });
    });
    void exit.then((code) => reject(new Error(`server exited ${code}: ${err}`)));
  });
}

function io(cwd: string) {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t), cwd } };
}

test('binding a non-loopback address without a token is refused; with --token-file requests need the bearer token', async () => {
  const dir = tempDir();
  const model = writeModel(dir, 'm.onnx', offsetModel(1));
  const c = io(dir);
  assert.equal(await runCli(['serve', '--model', model, '--host', '0.0.0.0', '--port', '0'], c.io), 2);
  assert.match(c.err.join('\n'), /binding 0\.0\.0\.0 exposes the server beyond this machine: pass --token-file/);
  writeFileSync(join(dir, 'token'), 's3cret-token\n');
  const p = await startProcess(['--model', model, '--host', '0.0.0.0', '--token-file', 'token'], dir);
  const url = p.url.replace('0.0.0.0', '127.0.0.1');
  try {
    assert.equal((await call(url, 'GET', '/v2/health/live')).status, 401);
    assert.equal(
      (
        await call(url, 'POST', '/v2/models/m/infer', inferBody('x', 'FP32', [1, 2], [1, 2]), {
          Authorization: 'Bearer wrong',
        })
      ).status,
      401,
    );
    const ok = await call(url, 'POST', '/v2/models/m/infer', inferBody('x', 'FP32', [1, 2], [1, 2]), {
      Authorization: 'Bearer s3cret-token',
    });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body.outputs[0].data, [2, 3]);
  } finally {
    p.child.kill('SIGTERM');
    await p.exit;
  }
});

test('SIGTERM drains: a request in flight completes, new connections are refused, the process exits 0', async () => {
  const dir = tempDir();
  const p = await startProcess(['--model', writeModel(dir, 'm.onnx', offsetModel(1)), '--name', 'm'], dir);
  const u = new URL(p.url);
  const body = JSON.stringify(inferBody('x', 'FP32', [1, 2], [5, 6]));
  // Headers and half the body now, SIGTERM, then the rest: the request was in flight when the signal came.
  const sock = connect(Number(u.port), u.hostname);
  let reply = '';
  sock.on('data', (d) => (reply += d));
  const closed = new Promise((r) => sock.on('close', r));
  sock.write(
    `POST /v2/models/m/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
  );
  await new Promise((r) => setTimeout(r, 150));
  p.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  const refused = await call(p.url, 'GET', '/v2/health/live').catch((e: Error) => e);
  assert.ok(refused instanceof Error, 'a new connection after SIGTERM is refused');
  sock.write(body.slice(10));
  await closed;
  assert.match(reply, /^HTTP\/1.1 200/);
  assert.match(reply, /"data":\[6,7\]/);
  assert.equal(await p.exit, 0);
  assert.match(p.stderr(), /draining/);
});

test("loading a classifier prints no warning: protobufjs's `new Buffer(0)` for an empty bytes field once printed Node's DEP0005", async () => {
  const dir = tempDir();
  const p = await startProcess(['--model', writeModel(dir, 'c.onnx', contractClassifier())], dir);
  // The model is read before the server listens: its stderr up to then has what loading printed.
  p.child.kill('SIGTERM');
  await p.exit;
  assert.doesNotMatch(p.stderr(), /Warning/);
});

test('a crash (SIGKILL) under load loses at most the request records of the last second', async () => {
  const dir = tempDir();
  const p = await startProcess(
    ['--model', writeModel(dir, 'm.onnx', offsetModel(1)), '--name', 'm', '--log-requests'],
    dir,
  );
  const answered: Array<{ id: string; at: number }> = [];
  let stop = false;
  const client = async (k: number) => {
    for (let i = 0; !stop; i++) {
      const id = `c${k}-${i}`;
      const r = await call(p.url, 'POST', '/v2/models/m/infer', inferBody('x', 'FP32', [1, 2], [i, k], { id })).catch(
        () => undefined,
      );
      if (r?.status === 200) answered.push({ id, at: Date.now() });
    }
  };
  const clients = [0, 1, 2, 3].map(client);
  // At least 2 s of traffic and 40 answers (the shared machine can be slow), so records older than 1 s exist.
  const t0 = Date.now();
  while (Date.now() - t0 < 2000 || answered.length < 40) await new Promise((r) => setTimeout(r, 50));
  const killedAt = Date.now();
  p.child.kill('SIGKILL');
  stop = true;
  await Promise.all(clients);
  await p.exit;
  const logged = new Set(
    logFiles(join(dir, '.mlloop', 'deployments', 'm')).flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l).id as string),
    ),
  );
  const lost = answered.filter((a) => !logged.has(a.id));
  const oldestLostAgeMs = lost.length ? killedAt - Math.min(...lost.map((a) => a.at)) : 0;
  // Figure for the report: answered vs logged, and how old the oldest lost record was at the crash.
  console.log(
    `crash: ${answered.length} answered, ${logged.size} logged, ${lost.length} lost, oldest lost ${oldestLostAgeMs} ms before the kill`,
  );
  assert.ok(
    answered.some((a) => killedAt - a.at > 1000),
    'some answers are older than 1 s at the crash',
  );
  assert.ok(oldestLostAgeMs <= 1000, `a record answered ${oldestLostAgeMs} ms before the crash was lost`);
});

test('ml-loop promote and rollback switch the production alias of a running server', async () => {
  const dir = tempDir();
  const server = await startServer();
  await server.registry.addVersion('m', { path: writeModel(dir, '1.onnx', offsetModel(100)) });
  await server.registry.addVersion('m', { path: writeModel(dir, '2.onnx', offsetModel(200)) }, { alias: 'candidate' });
  try {
    const a = io(dir);
    assert.equal(
      await runCli(['promote', '--server', server.url, '--model', 'm', '--version', '2', '--json'], a.io),
      0,
    );
    assert.deepEqual(JSON.parse(a.out[0]), { name: 'm', production: '2', candidate: null, previous_production: '1' });
    assert.equal(
      (await call(server, 'POST', '/v2/models/m/infer', inferBody('x', 'FP32', [1, 2], [0, 0]))).body.outputs[0]
        .data[0],
      200,
    );
    const b = io(dir);
    assert.equal(await runCli(['rollback', '--server', server.url, '--model', 'm'], b.io), 0);
    assert.equal(b.out[0], 'm: production 1, candidate 2');
    const c = io(dir);
    assert.equal(await runCli(['promote', '--server', server.url, '--model', 'm', '--version', '7'], c.io), 1);
    assert.match(c.err[0], /404 model "m" has no version 7/);
    assert.equal(await runCli(['rollback', '--server', server.url], io(dir).io), 2);
  } finally {
    await server.close();
  }
});

test('ml-loop export triton writes config.pbtxt and <name>/<version>/model.onnx; export kserve adds an InferenceService', async () => {
  const dir = tempDir();
  const model = writeModel(dir, 'clf.onnx', contractClassifier());
  const a = io(dir);
  assert.equal(await runCli(['export', 'triton', '--run', model, '--out', 'repo', '--version', '3'], a.io), 0);
  const config = readFileSync(join(dir, 'repo', 'clf', 'config.pbtxt'), 'utf8');
  assert.ok(existsSync(join(dir, 'repo', 'clf', '3', 'model.onnx')));
  assert.match(config, /name: "clf"\nbackend: "onnxruntime"\nmax_batch_size: 64/);
  assert.match(config, /name: "features"\n {4}data_type: TYPE_FP32\n {4}dims: \[ 2 \]/);
  assert.match(config, /name: "label"\n {4}data_type: TYPE_STRING\n {4}dims: \[ 1 \]\n {4}reshape: \{ shape: \[ \] \}/);
  assert.match(config, /name: "probabilities"\n {4}data_type: TYPE_FP32\n {4}dims: \[ 3 \]/);
  assert.match(config, /dynamic_batching \{\n {2}max_queue_delay_microseconds: 100\n\}/);
  // The exported repository is a valid repository for our own server too (Triton layout).
  const b = io(dir);
  assert.equal(
    await runCli(['export', 'kserve', '--run', model, '--out', 'k', '--storage-uri', 's3://bucket/models'], b.io),
    0,
  );
  const manifest = yaml.load(readFileSync(join(dir, 'k', 'clf.inferenceservice.yaml'), 'utf8')) as any;
  assert.equal(manifest.kind, 'InferenceService');
  assert.equal(manifest.apiVersion, 'serving.kserve.io/v1beta1');
  assert.deepEqual(manifest.spec.predictor.model.modelFormat, { name: 'onnx' });
  assert.equal(manifest.spec.predictor.model.protocolVersion, 'v2');
  assert.equal(manifest.spec.predictor.model.storageUri, 's3://bucket/models');
  assert.ok(existsSync(join(dir, 'k', 'clf', 'config.pbtxt')));
  assert.equal(await runCli(['export', 'onnx', '--run', model, '--out', 'x'], io(dir).io), 2);
});
