// Shared by the serve tests: small ONNX models built with OnnxGraphBuilder, a server on a free port,
// and JSON over HTTP.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OnnxGraphBuilder, type ElemType } from '../../../src/core/onnx/builder';
import { appendClassifierOutputsFromLogits } from '../../../src/core/train/outputs';
import { InferenceServer, type ServerOptions } from '../../../src/core/serve/server';
import { imageMetadata } from '../../../src/core/data/images/modelMetadata';

export function tempDir(prefix = 'mlloop-serve-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeModel(dir: string, file: string, bytes: Uint8Array): string {
  mkdirSync(dir, { recursive: true });
  const p = join(dir, file);
  writeFileSync(p, bytes);
  return p;
}

/** x [N, width] of `type` → y = Identity(x), and z = x as well (a second output for `outputs` selection). */
export function identityModel(type: ElemType, width = 3): Uint8Array {
  const b = new OnnxGraphBuilder('identity');
  b.addInput('x', type, ['N', width]);
  b.addNode('Identity', ['x'], ['y']);
  b.addNode('Identity', ['x'], ['z']);
  b.addOutput('y', type, ['N', width]);
  b.addOutput('z', type, ['N', width]);
  return b.build();
}

/** y = x + offset (float [N, 2]): which version computed a response is visible in its numbers. */
export function offsetModel(offset: number): Uint8Array {
  const b = new OnnxGraphBuilder('offset');
  b.addInput('x', 'float', ['N', 2]);
  const c = b.addInitializer('c', new Float32Array([offset, offset]), [2]);
  b.addNode('Add', ['x', c], ['y']);
  b.addOutput('y', 'float', ['N', 2]);
  return b.build();
}

/**
 * A classifier with ML Loop's contract (features float [N, 2] → label, probabilities) and metadata:
 * logits = x · W, classes "a", "b", "c".
 */
export function contractClassifier(runId = 'run-1'): Uint8Array {
  const b = new OnnxGraphBuilder('mlloop_test');
  b.addInput('features', 'float', ['N', 2]);
  const w = b.addInitializer('w', new Float32Array([1, 0, -1, 0, 1, -1]), [2, 3]);
  const [logits] = b.addNode('MatMul', ['features', w]);
  appendClassifierOutputsFromLogits(b, logits, ['a', 'b', 'c']);
  return b.build(
    {
      task: 'classification',
      model: 'logistic',
      target: 'y',
      features: JSON.stringify(['f0', 'f1']),
      categories: '[]',
      classes: JSON.stringify(['a', 'b', 'c']),
      run_id: runId,
      data_version: 'x',
      mlloop_version: '0.1.0',
    },
    { '': 15, 'ai.onnx.ml': 3 },
  );
}

export async function startServer(options: ServerOptions = {}): Promise<InferenceServer> {
  const s = new InferenceServer({ port: 0, processMetrics: false, ...options });
  await s.listen();
  return s;
}

export interface JsonResponse {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  headers: Headers;
}

export async function call(
  server: InferenceServer | string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse> {
  const base = typeof server === 'string' ? server : server.url;
  const res = await fetch(base + path, {
    method,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // /metrics is text
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

export function inferBody(
  name: string,
  datatype: string,
  shape: number[],
  data: unknown[],
  extra: Record<string, unknown> = {},
): unknown {
  return { inputs: [{ name, datatype, shape, data }], ...extra };
}

/**
 * A model whose run is slow whatever the machine (four 1024 × 1024 matrix products, 4.3 G multiply-adds):
 * x float [1, 1] → y float [1, 1] ≈ x. Requests to it stay in their run long enough to be watched.
 */
export function slowModel(): Uint8Array {
  const n = 1024;
  const b = new OnnxGraphBuilder('slow');
  b.addInput('x', 'float', [1, 1]);
  const shape = b.addInitializer('shape', new BigInt64Array([BigInt(n), BigInt(n)]), [2], 'int64');
  const w = b.addInitializer('w', new Float32Array(n * n).fill(1 / n), [n, n]);
  let [m] = b.addNode('Expand', ['x', shape]);
  for (let i = 0; i < 4; i++) [m] = b.addNode('MatMul', [m, w]);
  b.addNode('ReduceMean', [m], ['y'], { axes: [0, 1], keepdims: 1 });
  b.addOutput('y', 'float', [1, 1]);
  return b.build();
}

/** The classes of imageModel(). */
export const IMAGE_CLASSES = ['dark', 'mid', 'light'];

/**
 * An image classifier as a script exports one (the fashion sample's shape): image float [N, 1, 8, 8]
 * in [0, 1] → scores [N, 3] = flatten(image) · W + b (no label output), with ML Loop's image
 * metadata (8×8 grey) and classes.
 */
export function imageModel(): Uint8Array {
  const b = new OnnxGraphBuilder('image_test');
  b.addInput('image', 'float', ['N', 1, 8, 8]);
  const W = new Float32Array(64 * 3);
  // By mean brightness m: dark scores 6.4 - 12.8 m, light 12.8 m - 6.4, mid 3 (it wins for m in 0.27-0.73).
  for (let p = 0; p < 64; p++) {
    W[p * 3] = -0.2;
    W[p * 3 + 2] = 0.2;
  }
  const w = b.addInitializer('w', W, [64, 3]);
  const bias = b.addInitializer('bias', new Float32Array([6.4, 3, -6.4]), [3]);
  const [flat] = b.addNode('Flatten', ['image'], undefined, { axis: 1 });
  const [mm] = b.addNode('MatMul', [flat, w]);
  b.addNode('Add', [mm, bias], ['scores']);
  b.addOutput('scores', 'float', ['N', 3]);
  return b.build({
    task: 'classification',
    classes: JSON.stringify(IMAGE_CLASSES),
    ...imageMetadata({ height: 8, width: 8, channels: 1 }),
  });
}
