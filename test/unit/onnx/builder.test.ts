import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { OnnxGraphBuilder, readMetadata } from '../../../src/core/onnx/builder';

test('a built graph runs in onnxruntime-node and carries its metadata', async () => {
  const b = new OnnxGraphBuilder();
  b.addInput('features', 'float', ['N', 2]);
  const w = b.addInitializer('w', new Float32Array([1, 2, 3, 4]), [2, 2]);
  const bias = b.addInitializer('b', new Float32Array([0.5, -0.5]), [2]);
  const [mm] = b.addNode('MatMul', ['features', w]);
  b.addNode('Add', [mm, bias], ['out']);
  b.addOutput('out', 'float', ['N', 2]);
  const bytes = b.build({ task: 'regression', mlloop_version: '0.1.0' });
  assert.deepEqual(readMetadata(bytes), { task: 'regression', mlloop_version: '0.1.0' });
  const session = await ort.InferenceSession.create(bytes);
  const res = await session.run({ features: new ort.Tensor('float32', new Float32Array([1, 1, 2, 0]), [2, 2]) });
  assert.deepEqual(Array.from(res.out.data as Float32Array), [4.5, 5.5, 2.5, 3.5]);
});
