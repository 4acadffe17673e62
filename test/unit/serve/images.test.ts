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
import { exportTriton } from '../../../src/core/serve/export';
import { readMetadata } from '../../../src/core/onnx/builder';
import { readImageMetadata } from '../../../src/core/data/images/modelMetadata';
import { call, contractClassifier, IMAGE_CLASSES, imageModel, startServer, tempDir, writeModel } from './helpers';

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

/** Deterministic mutations of valid PNG and JPEG files: flipped bytes, cuts, spliced chunks, lying headers. */
function* mutatedImages(seeds: Buffer[], n: number): Generator<Buffer> {
  let seed = 11;
  const rnd = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const int = (k: number) => Math.floor(rnd() * k);
  for (let i = 0; i < n; i++) {
    const src = seeds[i % seeds.length];
    const b = Buffer.from(src);
    switch (i % 6) {
      case 0: // a few random bytes anywhere
        for (let k = 0; k < 1 + int(8); k++) b[int(b.length)] = int(256);
        yield b;
        break;
      case 1: // cut short
        yield b.subarray(0, int(b.length));
        break;
      case 2: // a lying size in the PNG header (CRC fixed half the time) or in the JPEG's first bytes
        if (src[0] === 0x89) {
          const sizes = [0, 1, 65535, 100000, 0x7fffffff, int(3000)];
          b.writeUInt32BE(sizes[int(sizes.length)], 16);
          b.writeUInt32BE(sizes[int(sizes.length)], 20);
          if (rnd() < 0.5) b.writeUInt32BE(crc32(b.subarray(12, 29)), 29);
        } else for (let k = 0; k < 4; k++) b[2 + int(Math.min(200, b.length - 2))] = int(256);
        yield b;
        break;
      case 3: {
        // a slice of the file repeated in the middle
        const at = int(b.length);
        yield Buffer.concat([b.subarray(0, at), b.subarray(int(at + 1), at + 1 + int(200)), b.subarray(at)]);
        break;
      }
      case 4: // the signature, then noise
        yield Buffer.concat([src.subarray(0, 8), Buffer.from(Array.from({ length: int(400) }, () => int(256)))]);
        break;
      default:
        {
          // bytes zeroed over a run
          const at = int(b.length);
          b.fill(0, at, Math.min(b.length, at + int(64)));
        }
        yield b;
    }
  }
}

test('fuzz: 1200 mutated PNG and JPEG files get 200 or 400 (never 5xx, never a crash), raw and in JSON; then a valid image is still right', async () => {
  const { server, files, ref } = await setup();
  const seeds = [await picture(60), await picture(200, 40, 30, 'jpeg'), await picture(90, 8, 8)];
  const bodies = [...mutatedImages(seeds, 1200)];
  const statuses = new Map<number, number>();
  for (let i = 0; i < bodies.length; i += 20) {
    const batch = bodies.slice(i, i + 20);
    const rs = await Promise.all(
      batch.map((b, k) =>
        (i + k) % 3 === 2
          ? call(server, 'POST', '/v2/models/img/predict', { instances: [{ image: { b64: b.toString('base64') } }] })
          : post(server.url, '/v2/models/img/predict', b, {
              'Content-Type': b[0] === 0x89 ? 'image/png' : 'image/jpeg',
            }).then((r) => ({ status: r.status, body: JSON.parse(r.bytes.toString()) })),
      ),
    );
    for (const [k, r] of rs.entries()) {
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      assert.ok(r.status === 200 || r.status === 400, `${r.status} for mutation ${i + k}: ${JSON.stringify(r.body)}`);
      if (r.status === 400) assert.match(r.body.error, /not an image the server can read|is empty/);
    }
  }
  // Most mutations break the file; some (a flipped pixel byte in a JPEG) still decode.
  assert.ok((statuses.get(400) ?? 0) > 600, JSON.stringify([...statuses]));
  const ok = await post(server.url, '/v2/models/img/predict', files[0], { 'Content-Type': 'image/png' });
  assert.equal(JSON.parse(ok.bytes.toString()).label, ref.labels[0]);
  await server.close();
});

test('export triton of an image model: the model keeps its preprocessing metadata, a README says how Triton is fed', async () => {
  const dir = tempDir();
  const modelPath = writeModel(dir, 'image.onnx', imageModel());
  const files = await exportTriton({ modelPath, outDir: join(dir, 'repo'), name: 'img' });
  assert.deepEqual(
    files.map((f) => f.slice(join(dir, 'repo').length + 1)),
    ['img/config.pbtxt', 'img/1/model.onnx', 'img/README.md'],
  );
  const exported = readMetadata(readFileSync(files[1]));
  assert.deepEqual(readImageMetadata(exported), readImageMetadata(readMetadata(imageModel())));
  assert.equal(exported.classes, JSON.stringify(IMAGE_CLASSES));
  const readme = readFileSync(files[2], 'utf8');
  assert.match(readme, /takes `image`: FP32 \[N, 1, 8, 8\]/);
  assert.match(readme, /resize to 8×8 \(width × height\), stretched/);
  assert.match(readme, /`dark`, `mid`, `light`/);
  assert.match(readme, /convert\("L"\)/);
  assert.match(readFileSync(files[0], 'utf8'), /dims: \[ 1, 8, 8 \]/);
  // A model without image metadata gets no README.
  const plain = await exportTriton({
    modelPath: writeModel(dir, 'c.onnx', contractClassifier()),
    outDir: join(dir, 'r2'),
    name: 'c',
  });
  assert.equal(plain.length, 2);
});
