// ModelInfer's hand-written codec (src/core/serve/grpcCodec.ts) against @grpc/proto-loader on KServe's
// grpc_predict_v2.proto: the decoder gives exactly the object proto-loader gives, for every field of
// ModelInferRequest (packed and unpacked repeated scalars, maps, oneofs, unknown fields), and the encoder
// writes exactly proto-loader's bytes for ModelInferResponse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as protoLoader from '@grpc/proto-loader';
import { Writer } from 'protobufjs';
import { protoPath, PROTO_LOADER_OPTIONS, receiveModelInferRequest } from '../../../src/core/serve/grpc';
import { RAW_ALIGNMENT, rawToElements } from '../../../src/core/serve/datatypes';
import {
  alignRawContents,
  decodeModelInferRequest,
  encodeModelInferResponse,
  type InferResponseMessage,
} from '../../../src/core/serve/grpcCodec';

const definition = protoLoader.loadSync(protoPath(), PROTO_LOADER_OPTIONS);
const modelInfer = (definition['inference.GRPCInferenceService'] as protoLoader.ServiceDefinition).ModelInfer;

/** Every field of the request, with each parameter kind and each contents type. */
const FULL_REQUEST = {
  model_name: 'digits',
  model_version: '3',
  id: 'req-7',
  parameters: {
    timeout: { int64_param: 250000 },
    binary_data_output: { bool_param: true },
    note: { string_param: 'héllo' },
    big: { int64_param: -9007199254740991 },
    empty: {},
  },
  inputs: [
    {
      name: 'features',
      datatype: 'FP32',
      shape: [2, 3],
      parameters: { binary_data_size: { int64_param: 24 } },
      contents: { fp32_contents: [1.5, -2.25, 0, 3.4028234663852886e38, 1e-7, 7] },
    },
    { name: 'flags', datatype: 'BOOL', shape: [3], contents: { bool_contents: [true, false, true] } },
    { name: 'ints', datatype: 'INT32', shape: [3], contents: { int_contents: [-1, 0, 2147483647] } },
    { name: 'longs', datatype: 'INT64', shape: [2], contents: { int64_contents: [-5, 9007199254740991] } },
    { name: 'uints', datatype: 'UINT32', shape: [2], contents: { uint_contents: [0, 4294967295] } },
    { name: 'ulongs', datatype: 'UINT64', shape: [2], contents: { uint64_contents: [1, 9007199254740991] } },
    { name: 'doubles', datatype: 'FP64', shape: [2], contents: { fp64_contents: [Math.PI, -1e300] } },
    {
      name: 'files',
      datatype: 'BYTES',
      shape: [2],
      contents: { bytes_contents: [Buffer.from('abc'), Buffer.from([0, 255, 7])] },
    },
    { name: 'nothing', datatype: 'FP16', shape: [] },
  ],
  outputs: [{ name: 'label', parameters: { binary_data: { bool_param: true } } }, { name: 'probabilities' }],
  raw_input_contents: [Buffer.from([1, 2, 3, 4]), Buffer.alloc(0), Buffer.from(new Float32Array([0.5, 1]).buffer)],
};

test('the decoder gives what proto-loader gives, for every field of ModelInferRequest', () => {
  for (const message of [
    FULL_REQUEST,
    {},
    { model_name: 'm' },
    { inputs: [{}] },
    { raw_input_contents: [Buffer.alloc(1 << 17, 3)] },
  ]) {
    const bytes = modelInfer.requestSerialize(message);
    assert.deepStrictEqual(decodeModelInferRequest(bytes), modelInfer.requestDeserialize(bytes));
  }
});

test('raw_input_contents and bytes_contents are views of the received message, not copies', () => {
  const bytes = modelInfer.requestSerialize(FULL_REQUEST);
  const m = decodeModelInferRequest(bytes);
  assert.equal(m.raw_input_contents[0].buffer, bytes.buffer);
  assert.equal(m.inputs[7].contents!.bytes_contents[0].buffer, bytes.buffer);
  assert.deepStrictEqual([...m.raw_input_contents[0]], [1, 2, 3, 4]);
});

/** `bytes` at `offset` of an ArrayBuffer of their own (as grpc-js hands a message, but at a chosen offset). */
function placed(bytes: Uint8Array, offset: number): Buffer {
  const out = Buffer.from(new ArrayBuffer(offset + bytes.length), offset, bytes.length);
  out.set(bytes);
  return out;
}

test('raw tensors are moved to aligned offsets of the message where the bytes before them are free, every view keeping its bytes', () => {
  const x = new Float32Array(512 * 64).map((_, i) => i / 7);
  const request = {
    ...FULL_REQUEST,
    raw_input_contents: [Buffer.from(x.buffer), Buffer.from([1, 2, 3]), Buffer.alloc(0), Buffer.from([4, 5, 6, 7, 8])],
  };
  const encoded = modelInfer.requestSerialize(request);
  for (let offset = 0; offset < RAW_ALIGNMENT; offset++) {
    const message = placed(encoded, offset);
    const expected = modelInfer.requestDeserialize(Buffer.from(encoded));
    const m = receiveModelInferRequest(message);
    // Every field as decoded before the move: the moves overwrote no view.
    assert.deepStrictEqual(m, expected);
    // The large tensor comes after the header fields, which leave room: aligned, a view of the message.
    const features = m.raw_input_contents[0];
    assert.equal(features.buffer, message.buffer);
    assert.equal(features.byteOffset % RAW_ALIGNMENT, 0);
    const elements = rawToElements('features', 'FP32', [512, 64], features) as Float32Array;
    assert.equal(elements.buffer, message.buffer, 'a view, not a copy');
    assert.deepStrictEqual(elements, x);
  }
});

test('a raw tensor without free bytes before it stays where it is', () => {
  // Two one-byte entries: the first moves to the message's start (over its own tag and length); the
  // second's free bytes (its tag and length) do not reach back to an aligned offset.
  const message = placed(modelInfer.requestSerialize({ raw_input_contents: [Buffer.from([7]), Buffer.from([9])] }), 0);
  const m = decodeModelInferRequest(message);
  assert.deepStrictEqual(
    m.raw_input_contents.map((b) => b.byteOffset),
    [2, 5],
  );
  alignRawContents(m, message);
  assert.deepStrictEqual(
    m.raw_input_contents.map((b) => [b.byteOffset, ...b]),
    [
      [0, 7],
      [5, 9],
    ],
  );
});

test('unpacked repeated scalars (as older encoders send them) and unknown fields of every wire type', () => {
  const w = Writer.create();
  w.uint32((1 << 3) | 2).string('m');
  // unknown top-level fields: varint, fixed64, length-delimited, fixed32
  w.uint32((20 << 3) | 0).uint64(123456789);
  w.uint32((21 << 3) | 1).double(1.5);
  w.uint32((22 << 3) | 2).string('ignored');
  w.uint32((23 << 3) | 5).float(2.5);
  w.uint32((5 << 3) | 2).fork();
  w.uint32((1 << 3) | 2).string('x');
  w.uint32((3 << 3) | 0).int64(4); // shape, unpacked
  w.uint32((3 << 3) | 0).int64(8);
  w.uint32((9 << 3) | 0).uint32(77); // unknown in InferInputTensor
  w.uint32((5 << 3) | 2).fork();
  w.uint32((6 << 3) | 5).float(0.25); // fp32_contents, unpacked
  w.uint32((6 << 3) | 5).float(-4);
  w.uint32((3 << 3) | 0).int64(-3); // int64_contents, unpacked
  w.uint32((1 << 3) | 0).bool(true); // bool_contents, unpacked
  w.uint32((7 << 3) | 1).double(0.1); // fp64_contents, unpacked
  w.uint32((30 << 3) | 2).bytes(Buffer.from([9, 9])); // unknown in contents
  w.ldelim();
  w.ldelim();
  w.uint32((6 << 3) | 2).fork();
  w.uint32((1 << 3) | 2).string('label');
  w.uint32((2 << 3) | 2).fork();
  w.uint32((1 << 3) | 2).string('binary_data');
  w.uint32((2 << 3) | 2).fork();
  w.uint32((1 << 3) | 0).bool(true);
  w.uint32((4 << 3) | 0).uint32(1); // unknown in InferParameter
  w.ldelim();
  w.ldelim();
  w.ldelim();
  const bytes = Buffer.from(w.finish());
  const decoded = decodeModelInferRequest(bytes);
  assert.deepStrictEqual(decoded, modelInfer.requestDeserialize(bytes));
  assert.deepStrictEqual(decoded.inputs[0].shape, [4, 8]);
  assert.deepStrictEqual(decoded.inputs[0].contents!.fp32_contents, [0.25, -4]);
});

test('the encoder writes proto-loader’s bytes for ModelInferResponse', () => {
  const label = Buffer.from([1, 0, 0, 0, 0x33, 1, 0, 0, 0, 0x37]);
  const probabilities = new Uint8Array(new Float32Array([0.25, 0.75, 0.5, 0.5]).buffer);
  const messages: InferResponseMessage[] = [
    // What the server sends for ModelInfer.
    {
      model_name: 'digits',
      model_version: '1',
      id: '',
      outputs: [
        { name: 'label', datatype: 'BYTES', shape: [2] },
        { name: 'probabilities', datatype: 'FP32', shape: [2, 2] },
      ],
      raw_output_contents: [label, probabilities],
    },
    // Every other field of the message.
    {
      model_name: 'm',
      id: 'x',
      parameters: { a: { bool_param: false }, b: { int64_param: -7 }, c: { string_param: 'ü' }, d: {} },
      outputs: [
        {
          name: 'o',
          datatype: 'INT64',
          shape: [0],
          parameters: { k: { int64_param: 9007199254740991 } },
          contents: {
            bool_contents: [true],
            int_contents: [-2],
            int64_contents: [-9007199254740991],
            uint_contents: [4294967295],
            uint64_contents: [9007199254740991],
            fp32_contents: [1.25],
            fp64_contents: [Math.E],
            bytes_contents: [Buffer.from('z')],
          },
        },
        { name: 'empty', contents: {} },
        {},
      ],
      raw_output_contents: [new Uint8Array(0)],
    },
    {},
  ];
  for (const m of messages)
    assert.deepStrictEqual(
      encodeModelInferResponse(m),
      Buffer.from(modelInfer.responseSerialize(m)),
      JSON.stringify(m).slice(0, 80),
    );
});
