// The OIP gRPC service (inference.GRPCInferenceService of KServe's grpc_predict_v2.proto), tested with a
// client built by @grpc/grpc-js + @grpc/proto-loader from the same .proto: health, metadata, ModelInfer
// with raw and typed contents giving what REST and in-process ONNX Runtime give, images as BYTES, the
// token rule, versions, and the statistics and request log shared with REST.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:http2';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { preprocessImage } from '../../../src/core/data/images/preprocess';
import { scaleToUnit } from '../../../src/core/data/images/pixels';
import { logFiles } from '../../../src/core/requestLog/log';
import { FLOW_CONTROL_WINDOW, protoPath, PROTO_LOADER_OPTIONS } from '../../../src/core/serve/grpc';
import type { InferenceServer } from '../../../src/core/serve/server';
import { call, contractClassifier, imageModel, offsetModel, startServer, tempDir, writeModel } from './helpers';

type Client = grpc.Client &
  Record<string, (req: unknown, md: grpc.Metadata, cb: (e: grpc.ServiceError | null, r: any) => void) => void>; // eslint-disable-line @typescript-eslint/no-explicit-any

function client(server: InferenceServer): Client {
  const def = protoLoader.loadSync(protoPath(), PROTO_LOADER_OPTIONS);
  const pkg = grpc.loadPackageDefinition(def) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
  return new pkg.inference.GRPCInferenceService(server.grpc!.url, grpc.credentials.createInsecure()) as Client;
}

function rpc(c: Client, method: string, req: unknown, metadata: Record<string, string> = {}): Promise<any> {
  // eslint-disable-line @typescript-eslint/no-explicit-any
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  return new Promise((resolve, reject) => c[method](req, md, (e, r) => (e ? reject(e) : resolve(r))));
}

function f32(b: Buffer): number[] {
  return Array.from(new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)));
}

/** BYTES elements as raw contents: a 4-byte little-endian length, then the bytes. */
function framedStrings(b: Buffer): string[] {
  const out: string[] = [];
  for (let at = 0; at < b.length;) {
    const n = b.readUInt32LE(at);
    out.push(b.subarray(at + 4, at + 4 + n).toString());
    at += 4 + n;
  }
  return out;
}

test('health, server and model metadata', async () => {
  const dir = tempDir();
  const server = await startServer({ grpcPort: 0 });
  await server.registry.addVersion('clf', { path: writeModel(dir, 'c.onnx', contractClassifier()) });
  const c = client(server);
  assert.deepEqual(await rpc(c, 'ServerLive', {}), { live: true });
  assert.deepEqual(await rpc(c, 'ServerReady', {}), { ready: true });
  assert.deepEqual(await rpc(c, 'ModelReady', { name: 'clf' }), { ready: true });
  assert.deepEqual(await rpc(c, 'ModelReady', { name: 'nope' }), { ready: false });
  const meta = await rpc(c, 'ServerMetadata', {});
  assert.ok(meta.extensions.includes('binary_tensor_data'));
  const m = await rpc(c, 'ModelMetadata', { name: 'clf' });
  assert.equal(m.platform, 'onnxruntime_onnx');
  assert.deepEqual(m.versions, ['1']);
  assert.deepEqual(m.inputs, [{ name: 'features', datatype: 'FP32', shape: [-1, 2] }]);
  assert.deepEqual(m.outputs.map((o: { name: string }) => o.name).sort(), ['label', 'probabilities']);
  await assert.rejects(rpc(c, 'ModelMetadata', { name: 'nope' }), (e: grpc.ServiceError) => {
    assert.equal(e.code, grpc.status.NOT_FOUND);
    assert.match(e.details, /nope/);
    return true;
  });
  c.close();
  await server.close();
});

test('ModelInfer with raw_input_contents and with typed contents answers as REST does; errors are gRPC statuses', async () => {
  const dir = tempDir();
  const server = await startServer({ grpcPort: 0 });
  await server.registry.addVersion('clf', { path: writeModel(dir, 'c.onnx', contractClassifier()) });
  const c = client(server);
  const x = [3, 1, -2, 5, 0.5, 0.25];
  const rest = await call(server, 'POST', '/v2/models/clf/infer', {
    inputs: [{ name: 'features', datatype: 'FP32', shape: [3, 2], data: x }],
  });
  const raw = await rpc(c, 'ModelInfer', {
    model_name: 'clf',
    id: 'r-1',
    inputs: [{ name: 'features', datatype: 'FP32', shape: [3, 2] }],
    raw_input_contents: [Buffer.from(new Float32Array(x).buffer)],
  });
  assert.equal(raw.id, 'r-1');
  assert.equal(raw.model_version, '1');
  // Outputs in the model's order, each with its raw bytes at the same index.
  const byName = (res: any, name: string) =>
    res.raw_output_contents[res.outputs.findIndex((o: { name: string }) => o.name === name)]; // eslint-disable-line @typescript-eslint/no-explicit-any
  const restOut = (name: string) => rest.body.outputs.find((o: { name: string }) => o.name === name);
  for (const o of raw.outputs) assert.deepEqual(o.shape, restOut(o.name).shape);
  assert.deepEqual(framedStrings(byName(raw, 'label')), restOut('label').data);
  assert.deepEqual(f32(byName(raw, 'probabilities')), restOut('probabilities').data);
  const typed = await rpc(c, 'ModelInfer', {
    model_name: 'clf',
    inputs: [{ name: 'features', datatype: 'FP32', shape: [3, 2], contents: { fp32_contents: x } }],
    outputs: [{ name: 'probabilities' }],
  });
  assert.equal(typed.outputs.length, 1);
  assert.deepEqual(f32(typed.raw_output_contents[0]), restOut('probabilities').data);
  await assert.rejects(
    rpc(c, 'ModelInfer', {
      model_name: 'clf',
      inputs: [{ name: 'features', datatype: 'FP32', shape: [3, 2] }],
      raw_input_contents: [Buffer.alloc(5)],
    }),
    (e: grpc.ServiceError) =>
      e.code === grpc.status.INVALID_ARGUMENT && /needs 24 bytes, the raw data has 5/.test(e.details),
  );
  await assert.rejects(
    rpc(c, 'ModelInfer', { model_name: 'ghost', inputs: [] }),
    (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND,
  );
  c.close();
  await server.close();
  // A message over the body limit is refused by the transport.
  const small = await startServer({ grpcPort: 0, maxBodyBytes: 1000 });
  await small.registry.addVersion('clf', { path: writeModel(dir, 'c.onnx', contractClassifier()) });
  const c2 = client(small);
  await assert.rejects(
    rpc(c2, 'ModelInfer', {
      model_name: 'clf',
      inputs: [{ name: 'features', datatype: 'FP32', shape: [500, 2] }],
      raw_input_contents: [Buffer.alloc(4000)],
    }),
    (e: grpc.ServiceError) => e.code === grpc.status.RESOURCE_EXHAUSTED,
  );
  c2.close();
  await small.close();
});

test('an image model over gRPC: FP32 raw tensor and BYTES files give in-process ORT’s scores', async () => {
  const dir = tempDir();
  const modelPath = writeModel(dir, 'image.onnx', imageModel());
  const server = await startServer({ grpcPort: 0 });
  await server.registry.addVersion('img', { path: modelPath });
  const c = client(server);
  const files = await Promise.all(
    [20, 128, 240].map((level) =>
      sharp({ create: { width: 11, height: 7, channels: 3, background: { r: level, g: level, b: level / 2 } } })
        .png()
        .toBuffer(),
    ),
  );
  const pixels = new Uint8Array(3 * 64);
  for (const [k, f] of files.entries())
    pixels.set((await preprocessImage(f, { height: 8, width: 8, channels: 1 })).pixels, k * 64);
  const tensor = scaleToUnit(pixels);
  const session = await ort.InferenceSession.create(modelPath);
  const expected = Array.from(
    (await session.run({ image: new ort.Tensor('float32', tensor, [3, 1, 8, 8]) })).scores.data as Float32Array,
  );
  await session.release();
  const fromFiles = await rpc(c, 'ModelInfer', {
    model_name: 'img',
    inputs: [{ name: 'image', datatype: 'BYTES', shape: [3], contents: { bytes_contents: files } }],
  });
  assert.deepEqual(f32(fromFiles.raw_output_contents[0]), expected);
  const fromTensor = await rpc(c, 'ModelInfer', {
    model_name: 'img',
    inputs: [{ name: 'image', datatype: 'FP32', shape: [3, 1, 8, 8] }],
    raw_input_contents: [Buffer.from(tensor.buffer)],
  });
  assert.deepEqual(f32(fromTensor.raw_output_contents[0]), expected);
  await assert.rejects(
    rpc(c, 'ModelInfer', {
      model_name: 'img',
      inputs: [
        { name: 'image', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [Buffer.from('no image')] } },
      ],
    }),
    (e: grpc.ServiceError) =>
      e.code === grpc.status.INVALID_ARGUMENT && /input "image" element 0 is not an image/.test(e.details),
  );
  c.close();
  await server.close();
});

test('the same token rule, versions, statistics and request log as REST', async () => {
  const dir = tempDir();
  const logDir = join(dir, 'log');
  const server = await startServer({ grpcPort: 0, token: 's3cret', requestLog: { dir: logDir } });
  await server.registry.addVersion('m', { path: writeModel(dir, 'a.onnx', offsetModel(1)) });
  await server.registry.addVersion('m', { path: writeModel(dir, 'b.onnx', offsetModel(10)) }, { alias: 'candidate' });
  const c = client(server);
  const req = (version?: string) => ({
    model_name: 'm',
    model_version: version ?? '',
    inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2] }],
    raw_input_contents: [Buffer.from(new Float32Array([1, 2]).buffer)],
  });
  await assert.rejects(rpc(c, 'ModelInfer', req()), (e: grpc.ServiceError) => e.code === grpc.status.UNAUTHENTICATED);
  await assert.rejects(
    rpc(c, 'ServerLive', {}, { authorization: 'Bearer wrong' }),
    (e: grpc.ServiceError) => e.code === grpc.status.UNAUTHENTICATED,
  );
  const auth = { authorization: 'Bearer s3cret', 'x-request-id': 'g-1' };
  const production = await rpc(c, 'ModelInfer', req(), auth);
  assert.deepEqual(f32(production.raw_output_contents[0]), [2, 3]);
  const candidate = await rpc(c, 'ModelInfer', req('2'), auth);
  assert.deepEqual(f32(candidate.raw_output_contents[0]), [11, 12]);
  const stats = await call(server, 'GET', '/v2/models/m/versions/1/stats', undefined, {
    Authorization: 'Bearer s3cret',
  });
  assert.equal(stats.body.model_stats[0].inference_stats.success.count, 1);
  c.close();
  await server.close();
  const records = readFileSync(logFiles(logDir)[0], 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  assert.equal(records.length, 2);
  assert.equal(records[0].id, 'g-1');
  assert.deepEqual(records[0].inputs, { x: [1, 2] });
  assert.deepEqual(records[0].outputs, { y: [2, 3] });
  assert.equal(records[1].version, '2');
});

test('the server grants clients a wide HTTP/2 window, so a large request does not wait for WINDOW_UPDATEs', async () => {
  const server = await startServer({ grpcPort: 0 });
  const session = connect(`http://${server.grpc!.url}`);
  try {
    // The stream window comes in the server's SETTINGS, the connection window in a WINDOW_UPDATE after them.
    const settled = () =>
      session.remoteSettings.initialWindowSize === FLOW_CONTROL_WINDOW &&
      session.state.remoteWindowSize! >= FLOW_CONTROL_WINDOW - 65_535;
    for (let i = 0; i < 100 && !settled(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(session.remoteSettings.initialWindowSize, FLOW_CONTROL_WINDOW);
    assert.ok(session.state.remoteWindowSize! >= FLOW_CONTROL_WINDOW - 65_535, `${session.state.remoteWindowSize}`);
  } finally {
    session.destroy();
    await server.close();
  }
});
