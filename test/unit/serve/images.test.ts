// Pictures in: an image model served with the preprocessing its metadata carries. Every input form
// (raw body, base64 JSON, FP32 tensor, BYTES tensor, binary data extension) gives the prediction
// in-process ONNX Runtime gives on the same preprocessed tensor; limits and errors are 4xx; logged
// image requests keep their images beside the log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { preprocessImage } from '../../../src/core/data/images/preprocess';
import { scaleToUnit } from '../../../src/core/data/images/pixels';
import { logFiles } from '../../../src/core/requestLog/log';
import { loggedImagesOf, readLoggedImage } from '../../../src/core/requestLog/images';
import { toProbabilities } from '../../../src/core/scripts/scriptModel';
import { call, IMAGE_CLASSES, imageModel, startServer, tempDir, writeModel } from './helpers';

const SETTINGS = { height: 8, width: 8, channels: 1 } as const;

/** A w×h image: RGB gradient, brighter with `level` (0-255), as PNG, JPEG or WebP. */
async function picture(level: number, w = 20, h = 12, format: 'png' | 'jpeg' | 'webp' = 'png'): Promise<Buffer> {
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) raw[(y * w + x) * 3 + c] = Math.min(255, level + ((x * 7 + y * 3 + c * 11) % 40));
  return sharp(raw, { raw: { width: w, height: h, channels: 3 } })
    .toFormat(format)
    .toBuffer();
}

/** A small PNG whose IHDR claims width × height (the CRC fixed, so decoders believe it). */
async function bombPng(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await picture(0, 4, 4));
  // Signature (8), then the IHDR chunk: length (4), "IHDR" (4), width, height, …, CRC over type + data.
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

/** What in-process ONNX Runtime predicts on the server's preprocessing of these files. */
async function reference(modelPath: string, files: Buffer[]): Promise<{ labels: string[]; probabilities: number[][] }> {
  const session = await ort.InferenceSession.create(modelPath);
  const size = 64;
  const pixels = new Uint8Array(files.length * size);
  for (const [k, f] of files.entries()) pixels.set((await preprocessImage(f, SETTINGS)).pixels, k * size);
  const out = await session.run({ image: new ort.Tensor('float32', scaleToUnit(pixels), [files.length, 1, 8, 8]) });
  await session.release();
  const p = toProbabilities(out.scores.data as Float32Array, files.length, 3);
  const probabilities = files.map((_, i) => Array.from(p.subarray(i * 3, i * 3 + 3)));
  return {
    labels: probabilities.map((r) => IMAGE_CLASSES[r.indexOf(Math.max(...r))]),
    probabilities,
  };
}

async function preprocessed(files: Buffer[]): Promise<number[]> {
  const out: number[] = [];
  for (const f of files) out.push(...scaleToUnit((await preprocessImage(f, SETTINGS)).pixels));
  return out;
}

function probs(p: Record<string, number>): number[] {
  return IMAGE_CLASSES.map((c) => p[c]);
}

function close(actual: number[], expected: number[]): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++)
    assert.ok(Math.abs(actual[i] - expected[i]) < 1e-5, `${actual} vs ${expected}`);
}

async function post(url: string, path: string, body: Buffer | string, headers: Record<string, string>) {
  const res = await fetch(url + path, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

async function setup(requestLog?: {
  dir: string;
  maxImageBytes?: number;
  maxTotalBytes?: number;
  maxFileBytes?: number;
}) {
  const dir = tempDir();
  const modelPath = writeModel(dir, 'image.onnx', imageModel());
  const server = await startServer({ requestLog });
  await server.registry.addVersion('img', { path: modelPath });
  const files = [await picture(10), await picture(120, 9, 30, 'jpeg'), await picture(230, 16, 16, 'webp')];
  return { dir, modelPath, server, files, ref: await reference(modelPath, files) };
}

test('a raw image body (png, jpeg, webp) → {label, probabilities} as in-process ORT on the same preprocessing', async () => {
  const { server, files, ref } = await setup();
  const types = ['image/png', 'image/jpeg', 'image/webp'];
  for (const [k, f] of files.entries()) {
    const r = await post(server.url, '/v2/models/img/predict', f, { 'Content-Type': types[k] });
    assert.equal(r.status, 200, r.bytes.toString());
    const body = JSON.parse(r.bytes.toString());
    assert.equal(body.label, ref.labels[k]);
    close(probs(body.probabilities), ref.probabilities[k]);
  }
  // The three pictures get three different classes: the check above compares real predictions.
  assert.deepEqual(ref.labels, ['dark', 'mid', 'light']);
  await server.close();
});

test('JSON instances with base64 images → one prediction per instance', async () => {
  const { server, files, ref } = await setup();
  const instances = [{ image: { b64: files[0].toString('base64') } }, { b64: files[1].toString('base64') }];
  instances.push({ image: { b64: files[2].toString('base64') } });
  const r = await call(server, 'POST', '/v2/models/img/predict', { instances });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(
    r.body.predictions.map((p: { label: string }) => p.label),
    ref.labels,
  );
  r.body.predictions.forEach((p: { probabilities: Record<string, number> }, k: number) =>
    close(probs(p.probabilities), ref.probabilities[k]),
  );
  await server.close();
});

test('/infer takes the FP32 image tensor, or a BYTES tensor of encoded files decoded by the server', async () => {
  const { server, files, ref, modelPath } = await setup();
  const session = await ort.InferenceSession.create(modelPath);
  const pixels = await preprocessed(files);
  const direct = await session.run({ image: new ort.Tensor('float32', Float32Array.from(pixels), [3, 1, 8, 8]) });
  await session.release();
  const fp32 = await call(server, 'POST', '/v2/models/img/infer', {
    inputs: [{ name: 'image', datatype: 'FP32', shape: [3, 1, 8, 8], data: pixels }],
  });
  assert.equal(fp32.status, 200, JSON.stringify(fp32.body));
  close(fp32.body.outputs[0].data, Array.from(direct.scores.data as Float32Array));
  const bytes = await call(server, 'POST', '/v2/models/img/infer', {
    inputs: [{ name: 'image', datatype: 'BYTES', shape: [3], data: files.map((f) => f.toString('base64')) }],
  });
  assert.equal(bytes.status, 200, JSON.stringify(bytes.body));
  close(bytes.body.outputs[0].data, Array.from(direct.scores.data as Float32Array));
  const p = toProbabilities(Float32Array.from(bytes.body.outputs[0].data), 3, 3);
  close(Array.from(p), ref.probabilities.flat());
  await server.close();
});

test('the binary data extension: raw FP32 and BYTES inputs in, a binary output back', async () => {
  const { server, files, modelPath } = await setup();
  const session = await ort.InferenceSession.create(modelPath);
  const pixels = Float32Array.from(await preprocessed(files));
  const expected = Array.from(
    (await session.run({ image: new ort.Tensor('float32', pixels, [3, 1, 8, 8]) })).scores.data as Float32Array,
  );
  await session.release();
  const send = async (input: Record<string, unknown>, raw: Buffer) => {
    const header = Buffer.from(
      JSON.stringify({ inputs: [input], outputs: [{ name: 'scores', parameters: { binary_data: true } }] }),
    );
    const r = await post(server.url, '/v2/models/img/infer', Buffer.concat([header, raw]), {
      'Content-Type': 'application/octet-stream',
      'Inference-Header-Content-Length': String(header.length),
    });
    assert.equal(r.status, 200, r.bytes.toString());
    const n = Number(r.headers.get('inference-header-content-length'));
    const json = JSON.parse(r.bytes.subarray(0, n).toString());
    assert.equal(json.outputs[0].parameters.binary_data_size, 36);
    assert.equal(json.outputs[0].data, undefined);
    const out = r.bytes.subarray(n);
    return Array.from(new Float32Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.length)));
  };
  const fp32 = Buffer.from(pixels.buffer);
  close(
    await send(
      { name: 'image', datatype: 'FP32', shape: [3, 1, 8, 8], parameters: { binary_data_size: fp32.length } },
      fp32,
    ),
    expected,
  );
  const framed = Buffer.concat(
    files.flatMap((f) => {
      const len = Buffer.alloc(4);
      len.writeUInt32LE(f.length);
      return [len, f];
    }),
  );
  close(
    await send(
      { name: 'image', datatype: 'BYTES', shape: [3], parameters: { binary_data_size: framed.length } },
      framed,
    ),
    expected,
  );
  await server.close();
});

test('not an image → 400 naming the problem; a decompression bomb is refused before decoding; a large body → 413', async () => {
  const { server } = await setup();
  const notImage = await post(server.url, '/v2/models/img/predict', Buffer.from('hello, not a picture'), {
    'Content-Type': 'image/png',
  });
  assert.equal(notImage.status, 400);
  assert.match(JSON.parse(notImage.bytes.toString()).error, /the body is not an image the server can read/);
  const truncated = (await picture(100, 64, 64)).subarray(0, 200);
  const cut = await post(server.url, '/v2/models/img/predict', truncated, { 'Content-Type': 'image/png' });
  assert.equal(cut.status, 400);
  // A PNG whose header says 60000 × 60000 (3.6 G pixels): refused from its header, never decoded.
  const r = await post(server.url, '/v2/models/img/predict', await bombPng(60000, 60000), {
    'Content-Type': 'image/png',
  });
  assert.equal(r.status, 400);
  assert.match(
    JSON.parse(r.bytes.toString()).error,
    /the body is not an image .*: 60000×60000 = 3600000000 pixels, more than the limit of 50000000 \(not decoded\)/,
  );
  const b64 = await call(server, 'POST', '/v2/models/img/predict', { instances: [{ image: { b64: 'not base64!' } }] });
  assert.equal(b64.status, 400);
  assert.match(b64.body.error, /instances\[0\]\.image must be a base64 string/);
  const big = await post(server.url, '/v2/models/img/predict', Buffer.alloc(9 * 1024 * 1024), {
    'Content-Type': 'image/png',
  });
  assert.equal(big.status, 413);
  await server.close();
});

test('with logging, an image request keeps its images beside the log and the record names them', async () => {
  const logDir = join(tempDir(), 'log');
  const { server, files } = await setup({ dir: logDir });
  await post(server.url, '/v2/models/img/predict', files[0], { 'Content-Type': 'image/png' });
  await call(server, 'POST', '/v2/models/img/predict', {
    instances: files.map((f) => ({ image: { b64: f.toString('base64') } })),
  });
  const pixels = await preprocessed([files[2]]);
  await call(server, 'POST', '/v2/models/img/infer', {
    inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 1, 8, 8], data: pixels }],
  });
  await server.close();
  const records = logFiles(logDir).flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l)),
  );
  assert.equal(records.length, 3);
  const [one, three, tensor] = records.map((r) => loggedImagesOf(r));
  assert.equal(one.length, 1);
  assert.equal(three.length, 3);
  assert.deepEqual(
    { format: one[0]!.format, width: one[0]!.width, height: one[0]!.height, channels: one[0]!.channels },
    { format: 'png', width: 20, height: 12, channels: 3 },
  );
  // The stored file is the sent file; the same picture sent twice is stored once.
  assert.deepEqual(readLoggedImage(logDir, one[0]!), files[0]);
  assert.equal(three[0]!.file, one[0]!.file);
  assert.equal(three[1]!.format, 'jpeg');
  assert.deepEqual(readLoggedImage(logDir, three[2]!), files[2]);
  assert.equal(readdirSync(join(logDir, 'images')).length, 4);
  // A tensor request keeps the PNG of what the model saw.
  assert.equal(tensor[0]!.tensor, true);
  assert.deepEqual(
    Array.from(scaleToUnit((await preprocessImage(readLoggedImage(logDir, tensor[0]!)!, SETTINGS)).pixels)),
    pixels.map((v) => Math.fround(v)),
  );
  // No pixels or base64 in the JSON record, the prediction is there.
  assert.equal(records[1].inputs, undefined);
  assert.deepEqual(
    records[1].outputs.map((p: { label: string }) => p.label),
    ['dark', 'mid', 'light'],
  );
  assert.equal(records[2].inputs.image, undefined);
});

test('logged images past the size limit are thumbnails; the images count toward the cap', async () => {
  const logDir = join(tempDir(), 'log');
  const { server } = await setup({ dir: logDir, maxImageBytes: 1000, maxFileBytes: 2000, maxTotalBytes: 8000 });
  const big = await picture(50, 600, 400);
  assert.ok(big.length > 1000);
  const r = await post(server.url, '/v2/models/img/predict', big, { 'Content-Type': 'image/png' });
  assert.equal(r.status, 200);
  // Many distinct small pictures: images and logs together stay under the cap.
  for (let i = 0; i < 40; i++)
    await post(server.url, '/v2/models/img/predict', await picture(i * 5, 20 + i, 12), { 'Content-Type': 'image/png' });
  await server.close();
  const total = [...logFiles(logDir), ...readdirSync(join(logDir, 'images')).map((f) => join(logDir, 'images', f))]
    .map((f) => readFileSync(f).length)
    .reduce((a, b) => a + b, 0);
  assert.ok(total <= 8000, `${total} bytes kept`);
  const records = logFiles(logDir).flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l)),
  );
  // The oldest records and their images went; the newest record's image is kept.
  assert.ok(records.length < 41);
  const last = loggedImagesOf(records[records.length - 1])[0]!;
  assert.ok(existsSync(join(logDir, last.file)));
  assert.ok(readdirSync(join(logDir, 'images')).length < 41);
  // Alone in its log, the big picture is kept as a thumbnail, its record keeps the size it was sent at.
  const dir2 = join(tempDir(), 'log2');
  const s2 = await startServer({ requestLog: { dir: dir2, maxImageBytes: 1000 } });
  await s2.registry.addVersion('img', { path: writeModel(tempDir(), 'image.onnx', imageModel()) });
  await post(s2.url, '/v2/models/img/predict', big, { 'Content-Type': 'image/png' });
  await s2.close();
  const rec = JSON.parse(readFileSync(logFiles(dir2)[0], 'utf8').split('\n')[0]);
  const img = loggedImagesOf(rec)[0]!;
  assert.equal(img.thumbnail, true);
  assert.deepEqual([img.width, img.height, img.bytes], [600, 400, big.length]);
  const meta = await sharp(readLoggedImage(dir2, img)!).metadata();
  assert.deepEqual([meta.width, meta.height], [256, 171]);
});
