// Every OIP datatype the server takes round-trips exactly through /infer, and matches in-process
// onnxruntime on the same inputs; FP16 conversions agree bit for bit with onnxruntime's Cast.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { OnnxGraphBuilder, type ElemType } from '../../../src/core/onnx/builder';
import {
  decodeElements,
  elementsToRaw,
  encodeElements,
  fromHalf,
  OIP_TO_ORT,
  rawToElements,
  toHalf,
  type OipDatatype,
} from '../../../src/core/serve/datatypes';
import type { InferenceServer } from '../../../src/core/serve/server';
import { call, identityModel, inferBody, startServer, tempDir, writeModel } from './helpers';

const CASES: Array<{ datatype: OipDatatype; elem: ElemType; values: unknown[] }> = [
  { datatype: 'BOOL', elem: 'bool', values: [true, false, true, true, false, false] },
  { datatype: 'UINT8', elem: 'uint8', values: [0, 255, 17, 1, 128, 254] },
  { datatype: 'UINT16', elem: 'uint16', values: [0, 65535, 300, 1, 32768, 7] },
  { datatype: 'UINT32', elem: 'uint32', values: [0, 4294967295, 70000, 1, 2147483648, 9] },
  { datatype: 'UINT64', elem: 'uint64', values: [0, Number.MAX_SAFE_INTEGER, 5, 1, 2 ** 40, 3] },
  { datatype: 'INT8', elem: 'int8', values: [-128, 127, 0, -1, 5, 99] },
  { datatype: 'INT16', elem: 'int16', values: [-32768, 32767, -5, 0, 1000, -1000] },
  { datatype: 'INT32', elem: 'int32', values: [-(2 ** 31), 2 ** 31 - 1, 7, 0, -7, 123456] },
  {
    datatype: 'INT64',
    elem: 'int64',
    values: [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, -3, 0, 2 ** 40, -(2 ** 33)],
  },
  // FP16: max, smallest normal, smallest subnormal, 1 + 2^-10, a negative, zero.
  { datatype: 'FP16', elem: 'float16', values: [65504, 6.103515625e-5, 5.960464477539063e-8, 1.0009765625, -2.5, 0] },
  // FP32 values that are exact in float32: max, smallest subnormal, a fraction.
  {
    datatype: 'FP32',
    elem: 'float',
    values: [3.4028234663852886e38, 1.401298464324817e-45, -1.5, 0.1000000014901161193847656, 0, 1e-3 * 0 + 0.25],
  },
  { datatype: 'FP64', elem: 'double', values: [Math.PI, -1e308, 5e-324, 0.1, Number.MAX_VALUE, -0.5] },
  { datatype: 'BYTES', elem: 'string', values: ['', 'héllo', '日本語', 'a"b\\c', ' ', 'x'.repeat(100)] },
];

let server: InferenceServer;
const dir = tempDir();

before(async () => {
  server = await startServer();
  for (const c of CASES)
    await server.registry.addVersion(c.datatype.toLowerCase(), {
      path: writeModel(dir, `${c.datatype}.onnx`, identityModel(c.elem)),
    });
});
after(() => server.close());

async function inProcess(c: (typeof CASES)[number]): Promise<unknown[]> {
  const session = await ort.InferenceSession.create(identityModel(c.elem));
  const data = encodeElements('x', c.datatype, c.values);
  const out = await session.run({
    x: new ort.Tensor(OIP_TO_ORT[c.datatype] as 'float32', data as Float32Array, [2, 3]),
  });
  await session.release();
  return decodeElements(out.y as ort.Tensor);
}

for (const c of CASES) {
  test(`${c.datatype}: flat and nested data round-trip exactly and match in-process onnxruntime`, async () => {
    const expected = await inProcess(c);
    assert.deepEqual(expected, c.values, 'in-process onnxruntime returns the inputs of an Identity');
    const flat = await call(
      server,
      'POST',
      `/v2/models/${c.datatype.toLowerCase()}/infer`,
      inferBody('x', c.datatype, [2, 3], c.values),
    );
    assert.equal(flat.status, 200, JSON.stringify(flat.body));
    const y = flat.body.outputs.find((o: { name: string }) => o.name === 'y');
    assert.deepEqual(y, { name: 'y', datatype: c.datatype, shape: [2, 3], data: expected });
    const nested = await call(
      server,
      'POST',
      `/v2/models/${c.datatype.toLowerCase()}/infer`,
      inferBody('x', c.datatype, [2, 3], [c.values.slice(0, 3), c.values.slice(3)]),
    );
    assert.equal(nested.status, 200, JSON.stringify(nested.body));
    assert.deepEqual(nested.body.outputs[0].data, expected);
  });
}

test('raw bytes → elements: a view of the request when aligned, a copy when not, the same values either way', () => {
  for (const c of CASES.filter((c) => c.datatype !== 'BYTES')) {
    const raw = elementsToRaw({
      type: OIP_TO_ORT[c.datatype],
      data: encodeElements('x', c.datatype, c.values),
      dims: [6],
    });
    for (const offset of [0, 1, 3, 8]) {
      const body = Buffer.alloc(offset + raw.length + 5);
      raw.copy(body, offset);
      const bytes = body.subarray(offset, offset + raw.length);
      const data = rawToElements('x', c.datatype, [2, 3], bytes) as Uint8Array;
      assert.deepEqual(decodeElements({ type: OIP_TO_ORT[c.datatype], data, dims: [2, 3] }), c.values, c.datatype);
      const aligned = bytes.byteOffset % (raw.length / 6) === 0;
      assert.equal(data.buffer === body.buffer, aligned, `${c.datatype} at offset ${offset}: a view only when aligned`);
    }
  }
});

test('the binary data extension round-trips every datatype exactly in bodies of many chunks, whatever the header length', async () => {
  for (const c of CASES) {
    const data = encodeElements('x', c.datatype, c.values);
    const row = elementsToRaw({ type: OIP_TO_ORT[c.datatype], data, dims: [2, 3] });
    // Over 128 KiB: the body arrives in several chunks, which the server lays out aligned.
    const pairs = Math.ceil(140_000 / row.length);
    const raw = Buffer.concat(Array.from({ length: pairs }, () => row));
    for (let pad = 0; pad < 8; pad++) {
      const header = Buffer.from(
        JSON.stringify({
          inputs: [
            { name: 'x', datatype: c.datatype, shape: [pairs * 2, 3], parameters: { binary_data_size: raw.length } },
          ],
          outputs: [{ name: 'y', parameters: { binary_data: true } }],
        }) + ' '.repeat(pad),
      );
      const res = await fetch(`${server.url}/v2/models/${c.datatype.toLowerCase()}/infer`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/octet-stream',
          'Inference-Header-Content-Length': String(header.length),
        },
        body: Buffer.concat([header, raw]),
      });
      const bytes = Buffer.from(await res.arrayBuffer());
      assert.equal(res.status, 200, bytes.toString().slice(0, 300));
      const n = Number(res.headers.get('inference-header-content-length'));
      const json = JSON.parse(bytes.subarray(0, n).toString());
      assert.deepEqual(json.outputs[0].parameters, { binary_data_size: raw.length });
      assert.ok(
        bytes.subarray(n).equals(raw),
        `${c.datatype}, header of ${header.length} bytes: the output is the input`,
      );
    }
  }
});

test('through an inference worker, the datatypes with their own array types round-trip exactly too, batched', async () => {
  const pooled = await startServer({ workers: 1 });
  try {
    for (const c of CASES.filter((k) => ['BOOL', 'INT64', 'FP16', 'FP32', 'BYTES'].includes(k.datatype))) {
      await pooled.registry.addVersion(c.datatype, {
        path: writeModel(dir, `${c.datatype}-pool.onnx`, identityModel(c.elem)),
      });
      const expected = await inProcess(c);
      // Two concurrent requests: one batch in the worker, split back per request.
      const [a, b] = await Promise.all(
        [c.values.slice(0, 3), c.values.slice(3)].map((row) =>
          call(pooled, 'POST', `/v2/models/${c.datatype}/infer`, inferBody('x', c.datatype, [1, 3], row)),
        ),
      );
      assert.equal(a.status, 200, JSON.stringify(a.body));
      assert.deepEqual([...a.body.outputs[0].data, ...b.body.outputs[0].data], expected, c.datatype);
    }
  } finally {
    await pooled.close();
  }
});

test('model metadata lists OIP datatypes and -1 for dynamic dimensions', async () => {
  const r = await call(server, 'GET', '/v2/models/fp16');
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.inputs, [{ name: 'x', datatype: 'FP16', shape: [-1, 3] }]);
  assert.deepEqual(r.body.outputs, [
    { name: 'y', datatype: 'FP16', shape: [-1, 3] },
    { name: 'z', datatype: 'FP16', shape: [-1, 3] },
  ]);
  assert.equal(r.body.platform, 'onnxruntime_onnx');
});

test('`outputs` selects outputs and `id` is echoed', async () => {
  const r = await call(
    server,
    'POST',
    '/v2/models/int32/infer',
    inferBody('x', 'INT32', [1, 3], [1, 2, 3], { id: 'req-42', outputs: [{ name: 'z' }] }),
  );
  assert.equal(r.status, 200);
  assert.equal(r.body.id, 'req-42');
  assert.deepEqual(
    r.body.outputs.map((o: { name: string }) => o.name),
    ['z'],
  );
  assert.deepEqual(r.body.outputs[0].data, [1, 2, 3]);
});

function castModel(from: ElemType, to: ElemType, toCode: number): Uint8Array {
  const b = new OnnxGraphBuilder('cast');
  b.addInput('x', from, ['N']);
  b.addNode('Cast', ['x'], ['y'], { to: toCode });
  b.addOutput('y', to, ['N']);
  return b.build();
}

test('toHalf rounds like onnxruntime Cast(float→float16), bit for bit', async () => {
  const n = 20000;
  const x = new Float32Array(n);
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < n; i++) {
    const scale = 2 ** Math.floor(rnd() * 44 - 28); // subnormals, normals and overflow
    x[i] = (rnd() - 0.5) * 2 * scale;
  }
  // Exact ties between two halves: must round to even.
  for (let i = 0; i < 200; i++) x[i] = fromHalf(i * 2 + 0x3c00) + 2 ** -11;
  const session = await ort.InferenceSession.create(castModel('float', 'float16', 10));
  const out = await session.run({ x: new ort.Tensor('float32', x, [n]) });
  const bits = out.y.data as Uint16Array;
  for (let i = 0; i < n; i++) assert.equal(toHalf(x[i]), bits[i], `x=${x[i]}`);
  await session.release();
});

test('fromHalf decodes all 65536 float16 bit patterns like onnxruntime Cast(float16→float)', async () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const session = await ort.InferenceSession.create(castModel('float16', 'float', 1));
  const out = await session.run({ x: new ort.Tensor('float16', all, [65536]) });
  const f = out.y.data as Float32Array;
  for (let i = 0; i < 65536; i++) {
    if (Number.isNaN(f[i])) assert.ok(Number.isNaN(fromHalf(i)), `bits ${i}`);
    else assert.equal(fromHalf(i), f[i], `bits ${i}`);
  }
  await session.release();
});

test('every float datatype refuses NaN and ±Infinity, and takes its largest finite value', () => {
  for (const [datatype, max] of [
    ['FP16', 65504],
    ['FP32', 3.4028234663852886e38],
    ['FP64', Number.MAX_VALUE],
  ] as const) {
    for (const bad of [NaN, Infinity, -Infinity])
      assert.throws(
        () => encodeElements('x', datatype, [0, bad]),
        /element 1 is .*expected a finite number within/,
        `${datatype} ${bad}`,
      );
    assert.equal(encodeElements('x', datatype, [max, -max]).length, 2);
  }
});
